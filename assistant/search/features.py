"""Features of (question, candidate passage) pairs for the learned ranking stage.

The candidate pool is the union of the top ``pool`` passages by BM25 and by the encoder (after the product's
filters), plus the articles a question names explicitly and the best articles of the documents it names. For
each candidate, :func:`extract` computes one row of :data:`FEATURES`, grouped so that the ablation in the README
can drop a whole group at a time (:data:`GROUPS`):

* ``lexical`` — BM25 on jieba words and on character bigrams (z-scored over the pool, and the rank), and BM25 of
  the question sentences of a long letter (:mod:`.letter`).
* ``dense`` — e5 cosine (raw, z-scored, rank), e5 cosine of the question sentences, and the fused score the
  pre-ranker pipeline shipped (z-score fusion).
* ``dense2`` — the second encoder's cosine, when one is configured (see README: measured, not shipped by default).
* ``document`` — how the candidate's document does as a whole: its best e5/BM25/fused scores, its rank among
  documents, the candidate's rank inside it and its gap to the document's best article; the title's overlap with
  the question.
* ``named`` — the question names the candidate's document (《…》, abbreviation, standard code), names it inside a
  question sentence, names this very article (第N条) or its neighbour.
* ``structure`` — document kind and region, status, article length, position in the document, 总则/法律责任/附则
  chapters, and the question's own shape (long letter; asks about penalties) with the interactions a linear model
  needs.

Everything is numpy over arrays the retriever already has: ~1 ms for a pool of 300 at the full corpus.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from .index import SearchIndex

KINDS = ("法律", "行政法规", "部门规章", "地方性法规", "规范性文件", "司法解释", "标准", "名录", "官方答复")
PENALTY_WORDS = ("罚", "处罚", "罚款", "法律责任", "责令", "拘留", "追究", "违法")

GROUPS: dict[str, tuple[str, ...]] = {
    "lexical": ("bm25_words_z", "bm25_bigrams_z", "bm25_z", "bm25_rank", "bm25_focus_z", "cov_words", "cov_bigrams",
                "cov_focus"),
    "dense": ("dense", "dense_z", "dense_rank", "dense_focus_z", "dense_qmax_z", "fused_z", "fused_ref_z"),
    "dense2": ("dense2_z", "dense2_rank"),
    "document": ("doc_dense_max_z", "doc_bm25_max_z", "doc_fused_max_z", "doc_rank", "rank_in_doc",
                 "gap_to_doc_best", "title_overlap", "doc_pool_share"),
    "bridge": ("bridge_max", "bridge_sum", "bridge_rank", "bridge_doc"),
    "named": ("doc_named", "doc_named_in_question", "art_named", "art_named_near", "any_named"),
    "structure": (*(f"kind_{k}" for k in KINDS), "local", "is_article", "log_len", "rel_pos", "chapter_general",
                  "chapter_penalty", "chapter_annex", "q_long", "q_penalty", "penalty_match", "bm25_z_long",
                  "dense_z_long"),
}
FEATURES: tuple[str, ...] = tuple(f for g in GROUPS.values() for f in g)
_COL = {f: i for i, f in enumerate(FEATURES)}
_TITLE_NOISE = re.compile(r"^中华人民共和国|[（(][^）)]*[）)]|实施细则$|暂行|试行")


@dataclass
class ItemTable:
    """Per-index static arrays (computed once per index, cached on it)."""

    doc: np.ndarray          # document number of each item
    starts: np.ndarray       # first item of each document (items of a document are contiguous)
    rel_pos: np.ndarray
    static: np.ndarray       # (n_items, len(FEATURES)) with the per-item structure features filled in
    title_grams: list[frozenset[str]]
    titles: list[str]


def _grams(text: str) -> frozenset[str]:
    return frozenset(text[i : i + 2] for i in range(len(text) - 1))


def item_table(index: SearchIndex) -> ItemTable:
    """The per-item arrays of ``index`` (cached on the index object)."""
    tab = getattr(index, "_item_table", None)
    if tab is not None:
        return tab  # type: ignore[no-any-return]
    items = index.items
    n = len(items)
    doc = np.zeros(n, dtype=np.int32)
    starts: list[int] = []
    titles: list[str] = []
    prev = None
    for i, it in enumerate(items):
        key = it.title if it.article is not None or (it.title and it.id.startswith(it.title + "#")) else it.id
        if key != prev:
            starts.append(i)
            titles.append(it.title)
            prev = key
        doc[i] = len(starts) - 1
    art = np.array([float(it.article) if it.article is not None else 0.0 for it in items], dtype=np.float64)
    starts_a = np.asarray(starts, dtype=np.int64)
    doc_max_art = np.maximum.reduceat(art, starts_a) if n else np.zeros(0)
    rel_pos = np.where(art > 0, art / np.maximum(1.0, doc_max_art[doc] if n else 1.0), 0.5)
    static = np.zeros((n, len(FEATURES)), dtype=np.float32)
    for i, it in enumerate(items):
        row = static[i]
        if it.kind in KINDS:
            row[_COL[f"kind_{it.kind}"]] = 1.0
        row[_COL["local"]] = 1.0 if it.region else 0.0
        row[_COL["is_article"]] = 1.0 if it.article is not None else 0.0
        row[_COL["log_len"]] = math.log1p(len(it.text))
        row[_COL["rel_pos"]] = rel_pos[i]
        h = it.heading or ""
        row[_COL["chapter_general"]] = 1.0 if ("总则" in h or (it.article is not None and it.article <= 2)) else 0.0
        row[_COL["chapter_penalty"]] = 1.0 if ("法律责任" in h or "罚则" in h) else 0.0
        row[_COL["chapter_annex"]] = 1.0 if "附则" in h else 0.0
    grams = [_grams(_TITLE_NOISE.sub("", t)) for t in titles]
    tab = ItemTable(doc, starts_a, rel_pos, static, grams, titles)
    index._item_table = tab  # type: ignore[attr-defined]
    return tab


@dataclass
class QuerySignals:
    """Full score vectors of one question over one index (the retriever computes them anyway)."""

    bm25_words: np.ndarray
    bm25_bigrams: np.ndarray
    dense: np.ndarray | None
    fused: np.ndarray               # the pre-ranker fused score (with the product's filters: -inf = not allowed)
    fused_ref: np.ndarray           # … with the explicit-reference boost: exactly what the fusion pipeline ranks by
    bm25_focus: np.ndarray | None   # question sentences of a long letter
    cov_words: np.ndarray           # idf-weighted share of the question's words / bigrams in each item
    cov_bigrams: np.ndarray
    cov_focus: np.ndarray | None    # … of the question sentences' words
    dense_focus: np.ndarray | None
    dense2: np.ndarray | None       # the second encoder, if any
    dense_qmax: np.ndarray | None   # best e5 cosine over the question sentences of a long letter, one by one
    named_articles: set[int]
    named_docs: set[str]
    named_docs_in_question: set[str]
    normalized: str
    is_long: bool
    #: answered questions that resemble this one (curated entries, past replies, labelled letters): for each
    #: item they cite, the best and the summed similarity of those questions; and the same per document
    bridge_max: dict[int, float] | None = None
    bridge_sum: dict[int, float] | None = None


@dataclass
class Candidates:
    positions: np.ndarray  # item positions in the index
    X: np.ndarray          # (len(positions), len(FEATURES)) float32


def _z(x: np.ndarray, pool: np.ndarray) -> np.ndarray:
    sub = x[pool]
    sd = float(sub.std())
    return (x[pool] - float(sub.mean())) / sd if sd > 1e-9 else np.zeros(len(pool))


def _rank_feature(x: np.ndarray, pool: np.ndarray) -> np.ndarray:
    """-log(1 + rank) of each pool member by ``x`` among the pool (0 for the best)."""
    order = np.argsort(-x[pool], kind="stable")
    r = np.empty(len(pool))
    r[order] = np.arange(len(pool))
    return -np.log1p(r)


def _top(x: np.ndarray, k: int) -> np.ndarray:
    k = min(k, x.shape[0])
    return np.argpartition(-x, k - 1)[:k] if k < x.shape[0] else np.arange(x.shape[0])


def candidate_pool(index: SearchIndex, sig: QuerySignals, pool: int = 100, per_named_doc: int = 20) -> np.ndarray:
    """Positions of the candidates: top ``pool`` by BM25 and by the encoder, the named articles, and the best
    ``per_named_doc`` articles (by fused score) of each named document — allowed items only."""
    allowed = np.isfinite(sig.fused)
    bm = np.where(allowed, sig.bm25_words + sig.bm25_bigrams, -np.inf)
    parts = [_top(bm, pool)]
    if sig.dense is not None:
        parts.append(_top(np.where(allowed, sig.dense, -np.inf), pool))
    if sig.bm25_focus is not None:
        parts.append(_top(np.where(allowed, sig.bm25_focus, -np.inf), pool // 2))
    if sig.dense_focus is not None:
        parts.append(_top(np.where(allowed, sig.dense_focus, -np.inf), pool // 2))
    if sig.named_articles:
        parts.append(np.fromiter(sig.named_articles, dtype=np.int64))
    if sig.named_docs:
        tab = item_table(index)
        for d, t in enumerate(tab.titles):
            if t in sig.named_docs:
                s, e = int(tab.starts[d]), int(tab.starts[d + 1]) if d + 1 < len(tab.starts) else len(index.items)
                seg = sig.fused[s:e]
                parts.append(s + _top(seg, per_named_doc))
    if sig.bridge_sum:
        best = sorted(sig.bridge_sum, key=lambda p: -sig.bridge_sum[p])[:30]  # type: ignore[index]
        parts.append(np.asarray(best, dtype=np.int64))
    cand = np.unique(np.concatenate(parts))
    return cand[allowed[cand]]


def extract(index: SearchIndex, sig: QuerySignals, pool: int = 100) -> Candidates:
    """The candidate pool of one question and its feature matrix."""
    tab = item_table(index)
    cand = candidate_pool(index, sig, pool)
    if len(cand) == 0:
        return Candidates(cand, np.zeros((0, len(FEATURES)), dtype=np.float32))
    X = tab.static[cand].astype(np.float64)
    allowed = np.isfinite(sig.fused)
    bm_all = sig.bm25_words + sig.bm25_bigrams

    def put(name: str, values: np.ndarray | float) -> None:
        X[:, _COL[name]] = values

    put("bm25_words_z", _z(sig.bm25_words, cand))
    put("bm25_bigrams_z", _z(sig.bm25_bigrams, cand))
    put("bm25_z", _z(bm_all, cand))
    put("bm25_rank", _rank_feature(bm_all, cand))
    put("bm25_focus_z", _z(sig.bm25_focus, cand) if sig.bm25_focus is not None else X[:, _COL["bm25_z"]])
    put("cov_words", sig.cov_words[cand])
    put("cov_bigrams", sig.cov_bigrams[cand])
    put("cov_focus", sig.cov_focus[cand] if sig.cov_focus is not None else sig.cov_words[cand])
    put("fused_z", _z(sig.fused, cand))
    put("fused_ref_z", _z(sig.fused_ref, cand))
    if sig.dense is not None:
        put("dense", sig.dense[cand])
        put("dense_z", _z(sig.dense, cand))
        put("dense_rank", _rank_feature(sig.dense, cand))
        put("dense_focus_z", _z(sig.dense_focus, cand) if sig.dense_focus is not None else X[:, _COL["dense_z"]])
        put("dense_qmax_z", _z(sig.dense_qmax, cand) if sig.dense_qmax is not None else X[:, _COL["dense_focus_z"]])
    if sig.dense2 is not None:
        put("dense2_z", _z(sig.dense2, cand))
        put("dense2_rank", _rank_feature(sig.dense2, cand))
    # -- the document as a whole ------------------------------------------------------------------------------
    docs = tab.doc[cand]

    def doc_max(x: np.ndarray) -> np.ndarray:
        xm = np.where(allowed, x, -np.inf)
        return np.maximum.reduceat(xm, tab.starts)

    fused_doc = doc_max(sig.fused)
    pool_docs = np.unique(docs)
    for name, x in (("doc_fused_max_z", sig.fused), ("doc_bm25_max_z", bm_all), ("doc_dense_max_z", sig.dense)):
        if x is None:
            continue
        dm = doc_max(x)
        vals = dm[pool_docs]
        vals = vals[np.isfinite(vals)]
        mu, sd = (float(vals.mean()), float(vals.std())) if len(vals) else (0.0, 1.0)
        put(name, (dm[docs] - mu) / (sd if sd > 1e-9 else 1.0))
    # rank of the candidate's document among the pool's documents (by their best fused score)
    order = np.argsort(-fused_doc[pool_docs], kind="stable")
    drank = np.empty(len(pool_docs))
    drank[order] = np.arange(len(pool_docs))
    drank_of = dict(zip(pool_docs.tolist(), drank.tolist()))
    put("doc_rank", -np.log1p(np.array([drank_of[d] for d in docs.tolist()])))
    # rank inside the document among the pool's members of that document, and the gap to its best
    f = sig.fused[cand]
    key = np.lexsort((-f, docs))
    rid = np.empty(len(cand))
    prev, r = -1, 0
    for j in key:
        d = docs[j]
        r = 0 if d != prev else r + 1
        rid[j] = r
        prev = d
    put("rank_in_doc", -np.log1p(rid))
    fsd = float(f.std()) or 1.0
    put("gap_to_doc_best", (f - fused_doc[docs]) / fsd)
    counts = np.bincount(np.searchsorted(pool_docs, docs), minlength=len(pool_docs))
    put("doc_pool_share", counts[np.searchsorted(pool_docs, docs)] / len(cand))
    qgrams = _grams(sig.normalized)
    tov = {}
    for d in pool_docs.tolist():
        g = tab.title_grams[d]
        tov[d] = len(g & qgrams) / len(g) if g else 0.0
    put("title_overlap", np.array([tov[d] for d in docs.tolist()]))
    # -- what the question names ------------------------------------------------------------------------------
    if sig.named_docs or sig.named_articles:
        titles = [tab.titles[d] for d in docs.tolist()]
        named = np.array([t in sig.named_docs for t in titles], dtype=np.float64)
        put("doc_named", named)
        put("doc_named_in_question", np.array([t in sig.named_docs_in_question for t in titles], dtype=np.float64))
        put("art_named", np.array([p in sig.named_articles for p in cand.tolist()], dtype=np.float64))
        near = {q for p in sig.named_articles for q in (p - 1, p + 1)
                if 0 <= q < len(tab.doc) and tab.doc[q] == tab.doc[p]}
        put("art_named_near", np.array([p in near for p in cand.tolist()], dtype=np.float64))
        put("any_named", 1.0)
    # -- what similar answered questions cited --------------------------------------------------------------
    if sig.bridge_max:
        bm_ = np.array([sig.bridge_max.get(p, 0.0) for p in cand.tolist()])
        bs_ = np.array([(sig.bridge_sum or {}).get(p, 0.0) for p in cand.tolist()])
        put("bridge_max", bm_)
        put("bridge_sum", bs_)
        put("bridge_rank", np.where(bs_ > 0, _rank_feature(bs_, np.arange(len(cand))), -math.log1p(len(cand))))
        dsum: dict[int, float] = {}
        for p, v in (sig.bridge_sum or {}).items():
            d = int(tab.doc[p])
            dsum[d] = dsum.get(d, 0.0) + v
        put("bridge_doc", np.array([dsum.get(int(d), 0.0) for d in docs.tolist()]))
    # -- the question's shape and interactions -----------------------------------------------------------------
    q_long = 1.0 if sig.is_long else 0.0
    q_pen = 1.0 if any(w in sig.normalized for w in PENALTY_WORDS) else 0.0
    put("q_long", q_long)
    put("q_penalty", q_pen)
    put("penalty_match", X[:, _COL["chapter_penalty"]] * q_pen)
    put("bm25_z_long", X[:, _COL["bm25_z"]] * q_long)
    put("dense_z_long", X[:, _COL["dense_z"]] * q_long)
    return Candidates(cand, X.astype(np.float32))


def feature_mask(drop_groups: tuple[str, ...] = ()) -> np.ndarray:
    """Boolean mask over :data:`FEATURES` without the given groups (for the ablation)."""
    drop = {f for g in drop_groups for f in GROUPS[g]}
    return np.array([f not in drop for f in FEATURES], dtype=bool)


def describe() -> dict[str, Any]:
    return {"features": list(FEATURES), "groups": {k: list(v) for k, v in GROUPS.items()}}
