"""Ranking curated entries (not their rows): which entry answers the question?

The curated index holds, per entry, its wordings (question + paraphrases) and its answer (whole and by sentence;
:func:`~.corpus.curated_rows`). For each entry, :func:`entry_features` describes how the question relates to it:
the best/mean e5 cosine and BM25 over its wordings, the fused score the pre-ranker pipeline used, how well the
question matches the answer's text (cosine to the whole answer and to its best sentence, BM25), the share of the
question's words found in the entry (wordings + answer) and in its answer alone, and how the entry's cited
articles do in the passage ranking of the same question. :class:`EntryScorer` turns them into one score with a
linear model trained by ``scripts/train_ranker.py`` (chosen on dev over LightGBM: same Recall@1, and its output is
a log-odds that the calibration can read).

``exclude_row`` leaves one wording out (leave-one-out evaluation of an entry's own paraphrases).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .fusion import FusionParams, fuse
from .index import SearchIndex
from .query import PreparedQuery

ENTRY_FEATURES: tuple[str, ...] = (
    "dmax", "dmax_z", "dmax_rank", "dmean", "bmax_z", "bmax_rank", "fmax_z", "fmax_rank",
    "ans_d", "ans_d_z", "ans_bm25_z", "ans_smax", "ans_smax_z",
    "cite_best", "cite_top10", "cite_dmax", "cite_dmax_z", "cite_dmean", "cite_bm25_z",
    "dmax_margin", "qchars", "cov_entry", "cov_answer",
)
ENTRY_GROUPS: dict[str, tuple[str, ...]] = {
    "wordings": ("dmax", "dmax_z", "dmax_rank", "dmean", "bmax_z", "bmax_rank", "fmax_z", "fmax_rank", "dmax_margin"),
    "answer": ("ans_d", "ans_d_z", "ans_bm25_z", "ans_smax", "ans_smax_z"),
    "citations": ("cite_best", "cite_top10", "cite_dmax", "cite_dmax_z", "cite_dmean", "cite_bm25_z"),
    "coverage": ("cov_entry", "cov_answer"),
    "shape": ("qchars",),
}
_CITE_DEPTH = 200


@dataclass
class EntryTable:
    """Per curated index: entries, the entry of each row, row roles (cached on the index)."""

    entries: list[str]
    row_entry: np.ndarray
    wording: np.ndarray          # bool per row
    answer: np.ndarray           # bool: the whole answer
    answer_sentence: np.ndarray  # bool
    citations: list[list[str]]   # per entry


def entry_table(index: SearchIndex) -> EntryTable:
    tab = getattr(index, "_entry_table", None)
    if tab is not None:
        return tab  # type: ignore[no-any-return]
    entries = list(dict.fromkeys(it.target for it in index.items))
    eidx = {e: i for i, e in enumerate(entries)}
    roles = [it.meta.get("role", "wording") for it in index.items]
    cites: list[list[str]] = [[] for _ in entries]
    for it, role in zip(index.items, roles):
        if role == "wording" and not cites[eidx[it.target]]:
            cites[eidx[it.target]] = list(it.meta.get("citations") or [])
    tab = EntryTable(entries, np.array([eidx[it.target] for it in index.items], dtype=np.int64),
                     np.array([r == "wording" for r in roles]), np.array([r == "answer" for r in roles]),
                     np.array([r == "answer_sentence" for r in roles]), cites)
    index._entry_table = tab  # type: ignore[attr-defined]
    return tab


def wording_mask(index: SearchIndex) -> np.ndarray | None:
    """Rows that are question wordings (None when every row is one: an index without answer rows)."""
    tab = entry_table(index)
    return None if tab.wording.all() else tab.wording


def _group_max(x: np.ndarray, groups: np.ndarray, n: int, rows: np.ndarray) -> np.ndarray:
    out = np.full(n, -np.inf)
    np.maximum.at(out, groups[rows], x[rows])
    return out


def _z(x: np.ndarray) -> np.ndarray:
    ok = np.isfinite(x)
    if not ok.any():
        return np.zeros_like(x)
    f = x[ok]
    sd = float(f.std()) or 1.0
    return np.where(ok, (x - float(f.mean())) / sd, -5.0)


def _rank(x: np.ndarray) -> np.ndarray:
    order = np.argsort(-x, kind="stable")
    r = np.empty(len(x))
    r[order] = np.arange(len(x))
    return -np.log1p(r)


def cited_positions(curated: SearchIndex, passages: SearchIndex) -> list[np.ndarray]:
    """Positions in ``passages`` of each entry's citations (cached per pair of indexes)."""
    cache = getattr(curated, "_cited_positions", None)
    if cache is not None and cache[0] is passages:
        return cache[1]  # type: ignore[no-any-return]
    tab = entry_table(curated)
    out = [np.array([passages.pos[c] for c in cs if c in passages.pos], dtype=np.int64) for cs in tab.citations]
    curated._cited_positions = (passages, out)  # type: ignore[attr-defined]
    return out


@dataclass(frozen=True)
class CitedSegments:
    """The entries' cited positions laid end to end (entries with citations only), for reductions in one call."""

    entries: np.ndarray  # entry of each segment
    flat: np.ndarray  # the positions, segment after segment
    starts: np.ndarray  # where each segment starts in ``flat``
    lengths: np.ndarray
    long: np.ndarray  # segments of 8 or more positions (their mean is taken as numpy's mean takes it)


def cited_segments(curated: SearchIndex, passages: SearchIndex) -> CitedSegments:
    """:func:`cited_positions` as segments (cached per pair of indexes)."""
    cache = getattr(curated, "_cited_segments", None)
    if cache is not None and cache[0] is passages:
        return cache[1]  # type: ignore[no-any-return]
    cps = cited_positions(curated, passages)
    entries = np.array([e for e, cp in enumerate(cps) if len(cp)], dtype=np.int64)
    lengths = np.array([len(cps[e]) for e in entries], dtype=np.int64)
    flat = np.concatenate([cps[e] for e in entries]) if len(entries) else np.zeros(0, dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64) if len(entries) else lengths
    seg = CitedSegments(entries, flat, starts, lengths, np.flatnonzero(lengths >= 8))
    curated._cited_segments = (passages, seg)  # type: ignore[attr-defined]
    return seg


def _cite_features(X: np.ndarray, col: dict[str, int], bm_cite: np.ndarray, seg: CitedSegments,
                   view: PassageView) -> None:
    """How each entry's articles do in the passage ranking of the question: best rank, share in the top 10, best and
    mean cosine, best BM25 — one reduction per feature over all entries (the same values, to the bit, as taking
    them entry by entry: min/max exact, counts exact, a mean of up to 7 values summed in order in the values' own
    precision as numpy's mean sums them, longer ones by numpy's own mean; checked on 431 questions' features)."""
    if not len(seg.entries):
        return
    e = seg.entries
    ranks = view.rank[seg.flat]
    X[e, col["cite_best"]] = [-math.log1p(float(r)) for r in np.minimum.reduceat(ranks, seg.starts)]
    X[e, col["cite_top10"]] = np.add.reduceat((ranks < 10).astype(np.int64), seg.starts) / seg.lengths
    if view.dense is not None:
        ds = view.dense[seg.flat]
        X[e, col["cite_dmax"]] = np.maximum.reduceat(ds, seg.starts)
        # numpy's mean of a short array adds its values one after another in their own precision, then divides
        acc = np.zeros(len(e), dtype=ds.dtype)
        for k in range(7):
            on = seg.lengths > k
            acc[on] += ds[seg.starts[on] + k]
        means = acc / seg.lengths.astype(ds.dtype)
        for i in seg.long:
            means[i] = ds[seg.starts[i]:seg.starts[i] + seg.lengths[i]].mean()
        X[e, col["cite_dmean"]] = means
    bm_cite[e] = np.maximum.reduceat(view.bm25[seg.flat], seg.starts)


@dataclass
class PassageView:
    """What the passage ranking of the same question says about each passage: its 0-based rank in the fused
    ranking (``depth`` when not in the top ``depth``), e5 cosine and BM25."""

    index: SearchIndex
    rank: np.ndarray
    dense: np.ndarray | None
    bm25: np.ndarray


def passage_view(index: SearchIndex, fused_ref: np.ndarray, dense: np.ndarray | None, bm25: np.ndarray,
                 depth: int = _CITE_DEPTH) -> PassageView:
    """The view of a passage ranking the entry features read (rank by the pre-ranker fused score)."""
    order = np.argsort(-fused_ref, kind="stable")[:depth]
    rank = np.full(len(index.items), depth, dtype=np.int64)
    rank[order] = np.arange(len(order))
    return PassageView(index, rank, dense, bm25)


def curated_scores(curated: SearchIndex, pq: PreparedQuery) -> tuple[np.ndarray, np.ndarray | None]:
    """BM25 and cosine of the query with every curated row (None: no query vector or no vectors)."""
    dense = curated.vectors.scores(pq.vector) if (pq.vector is not None and curated.vectors is not None) else None
    return curated.bm25.scores(pq.tokens), dense


def entry_features(curated: SearchIndex, pq: PreparedQuery, fusion: FusionParams, view: PassageView | None,
                   exclude_row: int | None = None, raw: tuple[np.ndarray, np.ndarray | None] | None = None
                   ) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(entry ids, feature matrix (entries × :data:`ENTRY_FEATURES`), pre-ranker fused score per entry).
    ``raw``: :func:`curated_scores` of this query when the caller has them (a curated scan less per question)."""
    tab = entry_table(curated)
    n = len(tab.entries)
    words = [t for t in pq.tokens if not t.startswith("§")]
    bm_raw, dense_raw = raw if raw is not None else curated_scores(curated, pq)
    bm = bm_raw.astype(np.float64)
    dense = dense_raw.astype(np.float64) if dense_raw is not None and curated.has_vectors else None
    wmask = tab.wording.copy()
    if exclude_row is not None:
        wmask[exclude_row] = False
    rows = np.flatnonzero(wmask)
    fused = fuse(bm, dense, fusion, pq.chars, wmask).astype(np.float64)
    fmax = _group_max(fused, tab.row_entry, n, rows)
    bmax = _group_max(bm, tab.row_entry, n, rows)
    X = np.zeros((n, len(ENTRY_FEATURES)))
    col = {f: i for i, f in enumerate(ENTRY_FEATURES)}
    if dense is not None:
        dmax = _group_max(dense, tab.row_entry, n, rows)
        dsum = np.bincount(tab.row_entry[rows], weights=dense[rows], minlength=n)
        cnt = np.bincount(tab.row_entry[rows], minlength=n)
        dfin = np.where(np.isfinite(dmax), dmax, -1.0)
        X[:, col["dmax"]] = dfin
        X[:, col["dmax_z"]] = _z(dmax)
        X[:, col["dmax_rank"]] = _rank(dfin)
        X[:, col["dmean"]] = dsum / np.maximum(cnt, 1)
        second = np.sort(dfin)[-2] if n > 1 else dfin.max()
        X[:, col["dmax_margin"]] = dfin - second
        arows = np.flatnonzero(tab.answer)
        srows = np.flatnonzero(tab.answer_sentence)
        ans = _group_max(dense, tab.row_entry, n, arows) if len(arows) else np.full(n, -np.inf)
        sm = _group_max(dense, tab.row_entry, n, srows) if len(srows) else np.full(n, -np.inf)
        X[:, col["ans_d"]] = np.where(np.isfinite(ans), ans, 0.0)
        X[:, col["ans_d_z"]] = _z(ans)
        X[:, col["ans_smax"]] = np.where(np.isfinite(sm), sm, -1.0)
        X[:, col["ans_smax_z"]] = _z(sm)
    X[:, col["bmax_z"]] = _z(bmax)
    X[:, col["bmax_rank"]] = _rank(np.where(np.isfinite(bmax), bmax, -1e9))
    X[:, col["fmax_z"]] = _z(fmax)
    X[:, col["fmax_rank"]] = _rank(np.where(np.isfinite(fmax), fmax, -1e9))
    arows = np.flatnonzero(tab.answer)
    if len(arows):
        X[:, col["ans_bm25_z"]] = _z(_group_max(bm, tab.row_entry, n, arows))
    # citations: how the entry's articles do for this question in the passage index
    X[:, col["cite_best"]] = -math.log1p(_CITE_DEPTH)
    bm_cite = np.zeros(n)
    if view is not None:
        _cite_features(X, col, bm_cite, cited_segments(curated, view.index), view)
    X[:, col["cite_dmax_z"]] = _z(X[:, col["cite_dmax"]])
    X[:, col["cite_bm25_z"]] = _z(bm_cite)
    X[:, col["qchars"]] = pq.chars
    # coverage: idf-weighted share of the question's words found in the entry's wordings + answer, and in the answer
    toks = list(dict.fromkeys(words))
    idf = curated.bm25.idf
    total = sum(idf.get(t, curated.bm25.max_idf) for t in toks)
    if total > 0:
        keep = wmask | tab.answer | tab.answer_sentence
        ent = np.zeros(n)
        ansc = np.zeros(n)
        is_ans = tab.answer | tab.answer_sentence
        for t in toks:
            if t not in idf:
                continue
            docs = curated.bm25.docs_with(t)
            e_all = np.zeros(n, dtype=bool)
            e_all[tab.row_entry[docs[keep[docs]]]] = True
            e_ans = np.zeros(n, dtype=bool)
            e_ans[tab.row_entry[docs[is_ans[docs]]]] = True
            ent += idf[t] * e_all
            ansc += idf[t] * e_ans
        X[:, col["cov_entry"]] = ent / total
        X[:, col["cov_answer"]] = ansc / total
    return tab.entries, X, fmax


@dataclass
class EntryScorer:
    """Scores entries from :data:`ENTRY_FEATURES`: a linear model over standardised features (``w``, ``b``, ``mu``,
    ``sd``: a log-odds that the entry answers the question) or a LightGBM lambdarank booster (``model``)."""

    features: list[str]
    w: list[float] = field(default_factory=list)
    b: float = 0.0
    mu: list[float] = field(default_factory=list)
    sd: list[float] = field(default_factory=list)
    kind: str = "linear"
    model: str = ""
    #: kind "ensemble": the members, each divided by the spread of its scores over the training candidates (fixed,
    #: so the sum keeps how good the best entry is in absolute terms — the decision reads it) and summed
    members: list[EntryScorer] = field(default_factory=list)
    scales: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        unknown = [f for f in self.features if f not in ENTRY_FEATURES]
        if unknown or self.kind not in ("linear", "lgbm", "ensemble"):
            raise ValueError(f"entry model: unknown features {unknown} or kind {self.kind!r}")
        self._cols = np.array([ENTRY_FEATURES.index(f) for f in self.features], dtype=np.int64)
        self._booster: Any = None

    def score(self, X: np.ndarray) -> np.ndarray:
        if self.kind == "ensemble":
            return np.sum([m.score(X) / sc for m, sc in zip(self.members, self.scales)], axis=0)
        x = np.asarray(X, dtype=np.float64)[:, self._cols]
        if self.kind == "lgbm":
            if self._booster is None:
                import lightgbm as lgb

                self._booster = lgb.Booster(model_str=self.model)
            return np.asarray(self._booster.predict(x, num_threads=1), dtype=np.float64)
        return ((x - np.asarray(self.mu)) / np.asarray(self.sd)) @ np.asarray(self.w) + self.b

    def to_dict(self) -> dict[str, Any]:
        if self.kind == "ensemble":
            return {"kind": "ensemble", "features": self.features, "members": [m.to_dict() for m in self.members],
                    "scales": self.scales}
        if self.kind == "lgbm":
            return {"kind": "lgbm", "features": self.features, "model": self.model}
        return {"kind": "linear", "features": self.features, "w": self.w, "b": self.b, "mu": self.mu, "sd": self.sd}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> EntryScorer:
        if d.get("kind") == "ensemble":
            return cls(list(d["features"]), kind="ensemble", members=[cls.from_dict(m) for m in d["members"]],
                       scales=[float(x) for x in d["scales"]])
        if d.get("kind", "linear") == "lgbm":
            return cls(list(d["features"]), kind="lgbm", model=str(d["model"]))
        return cls(list(d["features"]), [float(x) for x in d["w"]], float(d["b"]),
                   [float(x) for x in d["mu"]], [float(x) for x in d["sd"]])
