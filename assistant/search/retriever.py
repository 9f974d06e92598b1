"""Hybrid retrieval over the passage index and the curated index, with confidence features.

The retriever never imports Flask; it is used by the CLI, the web channel, jobs and tests alike.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..text.normalize import normalize
from ..text.synonyms import default_synonyms
from ..text.tokenize import TokenField
from . import scopes
from .corpus import HOME_REGIONS, OTHER_CITIES
from .encoders import Encoder
from .entries import EntryScorer, PassageView, curated_scores, entry_features, entry_table, passage_view, wording_mask
from .fusion import FusionMode, FusionParams, apply_references, fuse
from .index import Item, SearchIndex
from .limits import LIMIT_ROW_PRIOR, asks_for_limit, rows_before_their_table, tables_for_the_source
from .lookup import named_first, named_lookup, numbered_in
from .memory import AnswerMemory
from .query import PreparedQuery, prepare
from .ranker import Ranking, ranked_positions
from .references import MentionResolver, ReferenceMatcher, reference_vector

CALIBRATION_FILE = Path(__file__).resolve().parents[1] / "answer" / "calibration.json"
REPEAL_WORDS = ("已废止", "废止", "旧法", "原法", "失效")


@dataclass
class Hit:
    """One ranked result with its signals."""

    item: Item
    fused: float
    bm25: float
    dense: float | None
    rank: int


@dataclass
class RankedList:
    """Hits of one index for one query, plus the features the decision uses."""

    hits: list[Hit]
    features: dict[str, float]
    confidence: float
    mode: str  # "hybrid" | "bm25"


@dataclass
class SearchResult:
    query: PreparedQuery
    passages: RankedList
    curated: RankedList | None
    include_repealed: bool = False
    notes: list[str] = field(default_factory=list)
    #: what ordered the passages: "learned" (the ranking model) or "fusion"
    ranking: str = "fusion"
    #: the question asks for a limit value and the index has limit-table rows (ranked by fusion, rows first)
    limit: bool = False
    #: passages a short question named and asked the text of, shown first (search/lookup.py); 0: not a lookup
    lookup: int = 0
    #: a follow-up's own words searched inside its conversation's documents: the first article they found (not a
    #: mailbox reply; "": not a follow-up) — what is asked now, next to what the conversation is about
    asked_top: str = ""

    def shows(self, hit: Hit) -> bool:
        """A passage the answer may show: a repealed text only when the question asks for repealed law."""
        return hit.item.status != "已废止" or self.include_repealed


def load_calibration(path: Path = CALIBRATION_FILE) -> dict[str, Any]:
    """Logistic-regression coefficients per (index, mode), fitted on dev data by ``scripts/calibrate.py``,
    with the id of the encoder they were fitted for."""
    if path.exists():
        data: dict[str, Any] = json.loads(path.read_text("utf-8"))
        return data
    return {}


_DEFAULT_COEF = {
    "hybrid": {"bias": -12.0, "dense1": 12.0, "coverage": 3.0, "zgap": 0.5},
    "bm25": {"bias": -3.0, "coverage": 4.0, "zgap": 0.8},
    "ranker": {"bias": -12.0, "dense1": 12.0, "coverage": 3.0},
}


def confidence_from(features: dict[str, float], coef: dict[str, float]) -> float:
    z = coef.get("bias", 0.0) + sum(coef.get(k, 0.0) * v for k, v in features.items())
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


def coverage(index: SearchIndex, pq: PreparedQuery, item: Item) -> float:
    """idf-weighted share of the query's word tokens found in the item's text (0–1)."""
    toks = [t for t in dict.fromkeys(pq.tokens) if not t.startswith("§")]
    if not toks:
        toks = list(dict.fromkeys(pq.tokens))
    hay = default_synonyms().expand(normalize(f"{item.title} {item.heading} {item.text}"))
    idf = index.bm25.idf
    default = index.bm25.max_idf
    total = sum(idf.get(t, default) for t in toks)
    if total <= 0:
        return 0.0
    got = sum(idf.get(t, default) for t in toks if t.lstrip("§") in hay)
    return got / total


def default_mask(index: SearchIndex, normalized_query: str, include_repealed: bool,
                 kinds: list[str] | None = None, all_regions: bool = False) -> np.ndarray | None:
    """Which items may be shown: in force (unless repealed texts are asked for), of the wanted kinds, and binding
    in Zhoushan (national, 浙江省, 舟山市 — or another city the question names). None when everything may."""
    regions = None if all_regions else \
        frozenset(HOME_REGIONS) | {c for c in OTHER_CITIES if c[:-1] in normalized_query}
    key = (include_repealed, tuple(sorted(kinds)) if kinds else (), regions)
    masks = index.masks
    if key in masks:  # np.isin over object columns costs ~7 ms per query at 100k items: once per index and key
        return masks[key]
    cols = index.columns()
    mask = np.ones(len(index.items), dtype=bool)
    if not include_repealed:
        mask &= ~cols["repealed"]
    if kinds:
        mask &= np.isin(cols["kind"], list(kinds))
    if regions is not None:
        mask &= np.isin(cols["region"], list(regions))
    out = None if mask.all() else mask
    if out is not None:
        out.setflags(write=False)  # shared by every query on this index
    if len(masks) < 64:
        masks[key] = out
    return out


def within_documents(index: SearchIndex, mask: np.ndarray | None, documents: frozenset[str] | set[str],
                     penalties: bool = False) -> np.ndarray:
    """``mask`` (None: every item) narrowed to the passages of ``documents`` (titles, as :func:`document_of`) —
    with ``penalties``, to their articles that set a penalty (:func:`~assistant.search.index.is_penalty`)."""
    names, codes = index.document_codes()
    wanted = np.flatnonzero(np.isin(names, list(documents)))
    out = np.isin(codes, wanted) & (index.columns()["penalty"] if penalties else True)
    return out if mask is None else out & mask


class Retriever:
    """Searches passages and curated answers; swaps indexes atomically when a new build is ready."""

    def __init__(self, passages: SearchIndex, curated: SearchIndex | None, encoder: Encoder | None,
                 token_field: str = "both", fusion: FusionParams | None = None,
                 calibration: dict[str, Any] | None = None, ranking: Ranking | None = None) -> None:
        self._passages = passages
        self._curated = curated
        self.encoder = encoder
        self.token_field = TokenField.parse(token_field)
        self.fusion = fusion or FusionParams()
        self.calibration = calibration if calibration is not None else load_calibration()
        self._lock = threading.Lock()
        self._matchers: dict[int, ReferenceMatcher] = {}
        #: the learned ranking stage (None: rank by score fusion); used in hybrid mode only
        self.ranking = ranking
        self._resolver_cache: MentionResolver | None = None

    # -- index management --------------------------------------------------------------------------------------
    @property
    def passages(self) -> SearchIndex:
        return self._passages

    @property
    def curated(self) -> SearchIndex | None:
        return self._curated

    def swap(self, passages: SearchIndex | None = None, curated: SearchIndex | None = None) -> None:
        with self._lock:
            if passages is not None:
                self._passages = passages
            if curated is not None:
                self._curated = curated

    @property
    def mode(self) -> str:
        return "hybrid" if (self.encoder is not None and self._passages.has_vectors) else "bm25"

    @property
    def modes(self) -> dict[str, str]:
        """Per index: ``hybrid`` once it has vectors (and there is an encoder), else ``bm25``."""
        cur = self._curated
        return {"passages": self.mode,
                "curated": "hybrid" if (self.encoder is not None and cur is not None and cur.has_vectors) else "bm25"}

    @property
    def ranker_active(self) -> bool:
        """Whether answers are ranked by the learned stage now (hybrid mode, models loaded, memory built)."""
        rk = self.ranking
        return rk is not None and self.mode == "hybrid" and rk.memory is not None and \
            rk.memory.index is self._passages and \
            (rk.passages.encoder2 is None or self._passages.has_vectors2(rk.passages.encoder2))

    def set_memory(self, memory: AnswerMemory | None) -> None:
        """Install the memory of answered questions built for the current passage index."""
        if self.ranking is not None:
            self.ranking.memory = memory

    def _coef(self, name: str, mode: str) -> dict[str, float]:
        """Calibrated coefficients; hybrid ones only apply to the encoder they were fitted with."""
        cal = self.calibration
        if mode == "ranker":  # fitted with the ranking model, stored in its file
            c = self.ranking.calibration.get(f"{name}:ranker") if self.ranking is not None else None
            return c if c else _DEFAULT_COEF[mode]
        if mode == "hybrid" and (self.encoder is None or cal.get("encoder") != self.encoder.id):
            return _DEFAULT_COEF[mode]
        c = cal.get(f"{name}:{mode}")
        return c if isinstance(c, dict) else _DEFAULT_COEF.get(mode, _DEFAULT_COEF["hybrid"])

    def _matcher(self, index: SearchIndex) -> ReferenceMatcher:
        m = self._matchers.get(id(index))
        if m is None or m.index is not index:
            m = ReferenceMatcher(index)
            self._matchers = {id(index): m, **{k: v for k, v in list(self._matchers.items())[:3]}}
        return m

    # -- search ------------------------------------------------------------------------------------------------
    def _rank(self, index: SearchIndex, pq: PreparedQuery, k: int, name: str,
              allow: np.ndarray | None = None, boost: np.ndarray | None = None) -> RankedList:
        n = len(index.items)
        if n == 0:
            return RankedList([], {}, 0.0, "bm25")
        bm = index.bm25.scores(pq.tokens)
        dense = None
        if pq.vector is not None and index.has_vectors:
            assert index.vectors is not None
            dense = index.vectors.scores(pq.vector)
        mode = "hybrid" if dense is not None else "bm25"
        params = self.fusion if dense is not None else FusionParams(mode=FusionMode.BM25)
        fused = fuse(bm, dense, params, pq.chars, allow)
        if self.fusion.reference_weight:
            refs = reference_vector(self._matcher(index), pq.normalized, self.fusion.doc_prior)
            fused = apply_references(fused, refs, FusionParams(reference_weight=self.fusion.reference_weight,
                                                               pool=self.fusion.pool))
        if boost is not None:
            fused = fused + boost
        kk = min(k, n)
        top = np.argpartition(-fused, kk - 1)[:kk]
        top = top[np.argsort(-fused[top], kind="stable")]
        hits = [Hit(index.items[int(i)], float(fused[i]), float(bm[i]),
                    float(dense[i]) if dense is not None else None, r + 1)
                for r, i in enumerate(top) if np.isfinite(fused[i])]
        feats: dict[str, float] = {}
        if hits:
            f = fused[np.isfinite(fused)]
            sd = float(f.std()) or 1.0
            feats["zgap"] = (hits[0].fused - float(np.partition(f, -min(10, len(f)))[-min(10, len(f))])) / sd \
                if mode == "bm25" else hits[0].fused - (hits[min(9, len(hits) - 1)].fused)
            feats["coverage"] = coverage(index, pq, hits[0].item)
            if dense is not None:
                feats["dense1"] = float(hits[0].dense or 0.0)
        coef = self._coef(name, mode)
        conf = confidence_from(feats, coef) if hits else 0.0
        return RankedList(hits, feats, conf, mode)

    def search(self, query: str, k: int = 10, kinds: list[str] | None = None,
               include_repealed: bool | None = None, all_regions: bool = False,
               exclude_group: str | None = None, within: frozenset[str] | None = None,
               penalties: bool = False) -> SearchResult:
        """Rank passages (and curated answers) for ``query``.

        ``within``: only passages of these documents (titles): a follow-up's own words ranked inside the
        documents its conversation is about (:func:`~assistant.answer.context.follow_up_result`); curated entries
        are not searched then (``curated`` is None). ``penalties``: inside those, only articles that set a penalty.

        Repealed texts are excluded unless ``include_repealed`` (or the query itself asks about repealed law);
        when shown they are flagged by their status. Local regulations of other Zhejiang cities do not bind
        enterprises in Zhoushan: they are excluded unless the query names that city or ``all_regions``.
        """
        passages, curated = self._passages, self._curated
        # the curated index (small: vectors first after a cold start) is hybrid once it has them; passages maybe BM25
        enc = self.encoder if (passages.has_vectors or (curated is not None and curated.has_vectors)) else None
        pq = prepare(query, self.token_field, enc)
        if include_repealed is None:
            include_repealed = any(w in pq.normalized for w in REPEAL_WORDS)
        allow = default_mask(passages, pq.normalized, include_repealed, kinds, all_regions)
        allow = allow if within is None else within_documents(passages, allow, within, penalties)
        rk = self.ranking if self.ranker_active else None
        view: PassageView | None = None
        # a question for a limit value is ranked by fusion: the ranking model never saw limit-table rows and puts
        # articles about discharge in general above the row (chosen on the dev half of corpus/limits/questions.jsonl)
        limit_question = passages.has_table_rows and asks_for_limit(pq.normalized)
        by_fusion = rk is None or limit_question
        if rk is not None:  # its view of the passages also feeds the curated entries' ranking
            ranked, view = self._rank_learned(rk, passages, pq, k, allow, exclude_group)
        if by_fusion:
            if limit_question:  # a sector's or topic's limits only when the question names it (search/scopes.py)
                allow = scopes.restrict(allow, len(passages.items), passages.scope_positions(), scopes.load_scopes(),
                                        pq.expanded)
            ranked = self._rank(passages, pq, k, "passages", allow,
                                passages.row_prior(LIMIT_ROW_PRIOR) if limit_question else None)
            if limit_question:
                ranked.hits = rows_before_their_table(tables_for_the_source(ranked.hits, pq.normalized))
        # "大气污染防治法第四十六条是什么意思": the article named first (search/lookup.py)
        lookup = self._named_first(rk, passages, pq, ranked, allow) if within is None else 0
        cur = None
        if curated is not None and curated.items and within is None:
            cpq = pq if (pq.vector is None or curated.has_vectors) else prepare(query, self.token_field, None)
            if rk is not None and rk.entries is not None and curated.has_vectors:
                cur = self._rank_entries(rk.entries, curated, cpq, k, view)
            else:
                cur = self._rank(curated, cpq, k * 3, "curated", wording_mask(curated))
                seen: set[str] = set()
                uniq = []
                for h in cur.hits:  # collapse paraphrase rows onto their entry
                    if h.item.target not in seen:
                        seen.add(h.item.target)
                        uniq.append(h)
                cur.hits = uniq[:k]
        return SearchResult(pq, ranked, cur, include_repealed, ranking="fusion" if by_fusion else "learned",
                            limit=limit_question, lookup=lookup)

    def _named_first(self, rk: Ranking | None, index: SearchIndex, pq: PreparedQuery, ranked: RankedList,
                     allow: np.ndarray | None) -> int:
        if named := named_lookup(index, self._mentions(rk, index), pq.normalized, allow):
            ranked.hits, ranked.confidence = named_first(ranked.hits, ranked.confidence, named, index, Hit)
        return len(named)

    def numbered_first(self, result: SearchResult, question: str, titles: Sequence[str]) -> SearchResult:
        """A follow-up's ``result`` with the articles it names by number in ``titles`` first (:func:`.numbered_in`)."""
        index, rk = self._passages, self.ranking if self.ranker_active else None
        if not (named := numbered_in(self._mentions(rk, index), normalize(question), titles)):
            return result
        hits, conf = named_first(list(result.passages.hits), result.passages.confidence, named, index, Hit)
        return replace(result, passages=replace(result.passages, hits=hits, confidence=conf), lookup=len(named))

    def _mentions(self, rk: Ranking | None, index: SearchIndex) -> MentionResolver:
        if rk is not None:
            return rk.stage.resolver(index)
        if self._resolver_cache is None or self._resolver_cache.index is not index:  # what questions name, no stage
            self._resolver_cache = MentionResolver(index)
        return self._resolver_cache

    # -- the learned stage -------------------------------------------------------------------------------------
    def _rank_learned(self, rk: Ranking, index: SearchIndex, pq: PreparedQuery, k: int,
                      allow: np.ndarray | None, exclude_group: str | None = None) -> tuple[RankedList, PassageView]:
        """Passages reordered by the ranker; ``Hit.fused`` carries the ranker's score."""
        d2 = index.vectors2.matrix if (rk.passages.encoder2 and index.vectors2 is not None) else None
        sig, cands, scores = rk.stage.run(index, pq, self.encoder, allow, rk.memory, exclude_group, d2)
        top = ranked_positions(cands, scores, k)
        bm = sig.bm25_words + sig.bm25_bigrams
        hits = [Hit(index.items[p], sc, float(bm[p]), float(sig.dense[p]) if sig.dense is not None else None, r + 1)
                for r, (p, sc) in enumerate(top)]
        feats: dict[str, float] = {}
        if hits:
            p0 = top[0][0]
            s_sorted = np.sort(scores)[::-1]
            feats["score1"] = float(s_sorted[0])
            feats["margin"] = float(s_sorted[0] - s_sorted[min(1, len(s_sorted) - 1)])
            feats["gap10"] = float(s_sorted[0] - s_sorted[min(9, len(s_sorted) - 1)])
            feats["dense1"] = float(sig.dense[p0]) if sig.dense is not None else 0.0
            feats["coverage"] = float(sig.cov_words[p0])
            feats["long"] = 1.0 if sig.is_long else 0.0
        conf = confidence_from(feats, self._coef("passages", "ranker")) if hits else 0.0
        return RankedList(hits, feats, conf, "hybrid"), passage_view(index, sig.fused_ref, sig.dense, bm)

    def _rank_entries(self, scorer: EntryScorer, curated: SearchIndex, pq: PreparedQuery, k: int,
                      view: PassageView | None, exclude_row: int | None = None) -> RankedList:
        """Curated entries ranked by the entry model; each hit is the entry's best-matching wording
        (``exclude_row``: leave one wording out, for the leave-one-out calibration)."""
        bm, dense = curated_scores(curated, pq)
        entries, X, _fmax = entry_features(curated, pq, self.fusion, view, exclude_row, raw=(bm, dense))
        sc = scorer.score(X)
        order = np.argsort(-sc, kind="stable")[:k]
        tab = entry_table(curated)
        best_row: dict[int, int] = {}
        key = dense if dense is not None else bm
        for j in np.flatnonzero(tab.wording).tolist():
            if j == exclude_row:
                continue
            e = int(tab.row_entry[j])
            if e not in best_row or key[j] > key[best_row[e]]:
                best_row[e] = j
        hits = []
        for r, e in enumerate(order.tolist()):
            row = best_row.get(e)
            if row is None:
                continue
            hits.append(Hit(curated.items[row], float(sc[e]), float(bm[row]),
                            float(dense[row]) if dense is not None else None, r + 1))
        feats: dict[str, float] = {}
        if len(sc):
            s_sorted = np.sort(sc)[::-1]
            feats["score1"] = float(s_sorted[0])
            feats["margin"] = float(s_sorted[0] - s_sorted[min(1, len(s_sorted) - 1)])
            feats["dense1"] = float(hits[0].dense or 0.0) if hits else 0.0
        conf = confidence_from(feats, self._coef("curated", "ranker")) if hits else 0.0
        return RankedList(hits, feats, conf, "hybrid")
