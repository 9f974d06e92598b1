"""Question clustering for the staff queue: many askers of one question become one item with a count.

Two signals, both cosine similarities in [0, 1]:

* **character n-grams** (sublinear TF over 2–3-grams of the normalised text; IDF weighting is available but measured
  worse; removing anonymisation placeholders such as ``A市``/``A3区`` is available but measured worse on titles):
  catches rewordings that share the place and problem words (``丽发新城附近建搅拌站`` / ``丽发新城小区旁的搅拌站``);
* **e5 embeddings** (optional, any :class:`~assistant.search.encoders.Encoder`): catches paraphrases without shared
  characters. Raw e5 cosines of Chinese texts are all high (≈0.75–1.0), so they are rescaled with ``e5_floor``
  (``(cos - floor) / (1 - floor)``, clipped to [0, 1]) before they are combined with the n-gram cosine.

Batch :meth:`QuestionClusterer.cluster` is agglomerative clustering with average linkage (single linkage chains
complaints together through shared place/problem words — a 150–180-text cluster on petition titles; complete linkage
splits big rewordings apart). The online :meth:`QuestionClusterer.assign` joins an arriving text to the item whose
aggregated member similarity passes ``assign_threshold`` (a bit stricter than the batch threshold: greedy joining cannot
undo a merge); on the petitions, one-by-one assignment in time order reaches nearly the batch F1 (0.86–0.87 vs
0.875–0.88).

The settings shipped as defaults were chosen on 542 real petitions with hand-labelled pairs
(``scripts/cluster_petitions.py``, ``tests/data/petition_pairs.jsonl``).
"""

from __future__ import annotations

import logging
import re
import sqlite3
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from ..search.encoders import EmbeddingCache, Encoder
from ..text.normalize import normalize

log = logging.getLogger(__name__)

Linkage = Literal["average", "complete", "single"]
Combine = Literal["mean", "max"]
Aggregate = Literal["average", "max", "min", "top3"]

#: Anonymisation placeholders of the petition data (``A市``, ``A3区``, ``A8县市``, ``K4县``, ``西地省``). Removing them
#: (``strip_places=True``) stops unrelated short texts from sharing n-grams, but the district codes do tell districts
#: apart: measured, removal lowers F1 on petition titles (0.889 → 0.855 n-grams, 0.883 → 0.864 combined), so it is off.
PLACEHOLDER = re.compile(r"西地省|[A-Z]\d{0,2}(?:县市|市|区|县|省)")
_NON_WORD = re.compile(r"[\W_]+")

#: Default weight of the n-gram cosine when an encoder is used (``mean`` combination); measured.
DEFAULT_NGRAM_WEIGHT = 0.5
#: Rescaling floor of e5 cosines; measured on the petitions (unrelated texts sit at ≈0.78–0.85).
DEFAULT_E5_FLOOR = 0.8
#: Batch thresholds, online (assign) thresholds and aggregators per configuration (n-gram only / with an encoder),
#: chosen by ``scripts/cluster_petitions.py`` (best mean pairwise F1 over titles and titles + 60 body characters).
DEFAULT_THRESHOLD = 0.175
DEFAULT_THRESHOLD_WITH_ENCODER = 0.4
DEFAULT_ASSIGN_THRESHOLD = 0.2
DEFAULT_ASSIGN_THRESHOLD_WITH_ENCODER = 0.475
DEFAULT_AGGREGATE: Aggregate = "top3"
DEFAULT_AGGREGATE_WITH_ENCODER: Aggregate = "max"


def _top3(v: np.ndarray) -> float:
    return float(np.mean(np.sort(v)[-3:]))


#: Item-similarity aggregators of :meth:`QuestionClusterer.assign` (over the member similarities of one item).
AGGREGATES: dict[str, Callable[[np.ndarray], float]] = {
    "average": lambda v: float(np.mean(v)), "max": lambda v: float(np.max(v)), "min": lambda v: float(np.min(v)),
    "top3": _top3,
}


def strip_placeholders(text: str) -> str:
    """Remove anonymisation place placeholders (``A市A3区中海国际`` → ``中海国际``)."""
    return PLACEHOLDER.sub("", text)


@dataclass(frozen=True)
class ClusterSettings:
    """Validated settings of a :class:`QuestionClusterer` (see its constructor for the meaning of each field)."""

    threshold: float
    linkage: Linkage
    aggregate: Aggregate
    assign_threshold: float
    ngram_range: tuple[int, int]
    use_idf: bool
    strip_places: bool
    ngram_weight: float
    combine: Combine
    e5_floor: float
    max_chars: int


class QuestionClusterer:
    """Groups question texts that ask the same thing; batch (:meth:`cluster`) and online (:meth:`assign`).

    Build it once and reuse it: the n-gram IDF weights (if fitted) and the embedding memo live on the instance.
    Thread-safety: the methods only read the settings, but the embedding memo (an LRU ``OrderedDict``) is updated on
    every call with an encoder — serialise calls (the intake already runs inside a DB transaction) or use one
    instance per thread.
    """

    def __init__(
        self,
        encoder: Encoder | None = None,
        *,
        threshold: float | None = None,
        linkage: Linkage = "average",
        aggregate: Aggregate | None = None,
        assign_threshold: float | None = None,
        ngram_range: tuple[int, int] = (2, 3),
        use_idf: bool = False,
        idf_corpus: Iterable[str] | None = None,
        strip_places: bool = False,
        ngram_weight: float = DEFAULT_NGRAM_WEIGHT,
        combine: Combine = "mean",
        e5_floor: float = DEFAULT_E5_FLOOR,
        max_chars: int = 200,
        cache: EmbeddingCache | None = None,
        memo_size: int = 20000,
    ) -> None:
        """Validate the settings (eagerly: a bad value raises :class:`ValueError` here, not at first use).

        :param encoder: e5-style encoder (``encode_queries`` → L2-normalised rows); ``None`` = n-grams only.
        :param threshold: similarity in (0, 1) needed to be in one cluster / to join an item (default depends on
            whether an encoder is given: :data:`DEFAULT_THRESHOLD` / :data:`DEFAULT_THRESHOLD_WITH_ENCODER`).
        :param linkage: agglomerative linkage of :meth:`cluster`: ``average`` (default), ``complete`` or ``single``.
        :param aggregate: how :meth:`assign` turns member similarities into an item similarity: ``top3`` (mean of
            the 3 most similar members; = ``average`` for items of up to 3 members), ``average``, ``max`` or ``min``
            (default: measured — ``top3`` for n-grams only, ``max`` with an encoder).
        :param assign_threshold: join threshold of :meth:`assign` in (0, 1) (default: measured, a little above
            ``threshold``: greedy one-by-one joining must be stricter than batch merging to end up as close).
        :param ngram_range: character n-gram sizes, ``1 <= lo <= hi <= 6``.
        :param use_idf: weight n-grams by IDF. The IDF is fitted on ``idf_corpus`` (or later with :meth:`fit`); if
            never fitted, each call fits it on the texts it is given (batch) — fit it for stable online behaviour.
        :param idf_corpus: background texts to fit the IDF on (e.g. past queue questions).
        :param strip_places: remove anonymisation placeholders (:data:`PLACEHOLDER`) before comparing (off: measured
            worse on petition titles — district codes like ``A3区`` do tell districts apart).
        :param ngram_weight: weight in [0, 1] of the n-gram cosine in the ``mean`` combination with e5.
        :param combine: ``mean`` (weighted) or ``max`` of the n-gram cosine and the rescaled e5 cosine.
        :param e5_floor: e5 cosine mapped to 0 (in [0, 1)).
        :param max_chars: texts are cut to this many characters (after normalisation) before comparing; >= 1.
        :param cache: optional on-disk embedding cache (keyed by encoder id + ``:query`` and text).
        :param memo_size: in-memory embedding memo entries (LRU), >= 0.
        """
        if threshold is None:
            threshold = DEFAULT_THRESHOLD if encoder is None else DEFAULT_THRESHOLD_WITH_ENCODER
        if assign_threshold is None:
            assign_threshold = DEFAULT_ASSIGN_THRESHOLD if encoder is None else DEFAULT_ASSIGN_THRESHOLD_WITH_ENCODER
        for name, value in (("threshold", threshold), ("assign_threshold", assign_threshold)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 < value < 1.0:
                raise ValueError(f"{name} must be a number in (0, 1), got {value!r}")
        if linkage not in ("average", "complete", "single"):
            raise ValueError(f"linkage must be 'average', 'complete' or 'single', got {linkage!r}")
        if aggregate is None:
            aggregate = DEFAULT_AGGREGATE if encoder is None else DEFAULT_AGGREGATE_WITH_ENCODER
        if aggregate not in ("average", "max", "min", "top3"):
            raise ValueError(f"aggregate must be 'average', 'max', 'min' or 'top3', got {aggregate!r}")
        if (not isinstance(ngram_range, tuple) or len(ngram_range) != 2
                or not all(isinstance(n, int) and not isinstance(n, bool) for n in ngram_range)
                or not 1 <= ngram_range[0] <= ngram_range[1] <= 6):
            raise ValueError(f"ngram_range must be a tuple (lo, hi) with 1 <= lo <= hi <= 6, got {ngram_range!r}")
        if not isinstance(ngram_weight, (int, float)) or isinstance(ngram_weight, bool) or not 0 <= ngram_weight <= 1:
            raise ValueError(f"ngram_weight must be in [0, 1], got {ngram_weight!r}")
        if combine not in ("mean", "max"):
            raise ValueError(f"combine must be 'mean' or 'max', got {combine!r}")
        if not isinstance(e5_floor, (int, float)) or isinstance(e5_floor, bool) or not 0 <= e5_floor < 1:
            raise ValueError(f"e5_floor must be in [0, 1), got {e5_floor!r}")
        if not isinstance(max_chars, int) or isinstance(max_chars, bool) or max_chars < 1:
            raise ValueError(f"max_chars must be an int >= 1, got {max_chars!r}")
        if not isinstance(memo_size, int) or isinstance(memo_size, bool) or memo_size < 0:
            raise ValueError(f"memo_size must be an int >= 0, got {memo_size!r}")
        if encoder is not None and not callable(getattr(encoder, "encode_queries", None)):
            raise ValueError("encoder must provide encode_queries(texts) -> np.ndarray")
        if encoder is None and ngram_weight == 0 and combine == "mean":
            raise ValueError("ngram_weight=0 needs an encoder (nothing would be compared)")
        self.settings = ClusterSettings(float(threshold), linkage, aggregate, float(assign_threshold), ngram_range,
                                        bool(use_idf), bool(strip_places), float(ngram_weight), combine,
                                        float(e5_floor), max_chars)
        self.encoder = encoder
        self.cache = cache
        self._memo: OrderedDict[str, np.ndarray] = OrderedDict()
        self._memo_size = memo_size
        self._vectorizer: TfidfVectorizer | None = None
        # online path (plain sublinear TF, no fitted vocabulary): each text's n-gram row is independent of the batch,
        # so rows are computed once and memoised with the prepared text — the queue's open items are compared with
        # every arriving question, and re-fitting a vocabulary over all of them per question grew with the queue
        self._analyze = self._new_vectorizer().build_analyzer()  # the same n-grams as the batch fit
        self._vocab: dict[str, int] = {}  # grows with the n-grams seen (exact: no hashing collisions)
        self._prep_memo: OrderedDict[str, tuple[str, sparse.csr_matrix, bool]] = OrderedDict()
        if idf_corpus is not None:
            self.fit(idf_corpus)

    # ------------------------------------------------------------------ text preparation

    def prepare(self, text: str) -> str:
        """The text as compared: normalised, placeholders removed (if set), cut to ``max_chars``."""
        return self._prepared(text)[0]

    def _prepared(self, text: str) -> tuple[str, sparse.csr_matrix, bool]:
        """(prepared text, its L2-normalised sublinear-TF n-gram row over the growing n-gram vocabulary, whether any
        word character is left), memoised (LRU)."""
        hit = self._prep_memo.get(text)
        if hit is not None:
            self._prep_memo.move_to_end(text)
            return hit
        prepared = self._prepare(text)
        doc = self._ngram_text(prepared)
        counts: dict[int, int] = {}
        for g in self._analyze(doc):
            j = self._vocab.setdefault(g, len(self._vocab))
            counts[j] = counts.get(j, 0) + 1
        idx = np.fromiter(sorted(counts), dtype=np.int32, count=len(counts))
        data = 1.0 + np.log(np.array([counts[j] for j in idx.tolist()], dtype=np.float64))
        if data.size:
            data /= np.sqrt(float(np.dot(data, data)))
        row = sparse.csr_matrix((data, idx, np.array([0, idx.size])), shape=(1, max(1, len(self._vocab))))
        out = (prepared, row, bool(doc))
        if self._memo_size:
            self._prep_memo[text] = out
            while len(self._prep_memo) > self._memo_size:
                self._prep_memo.popitem(last=False)
        return out

    def _stack(self, rows: Sequence[sparse.csr_matrix]) -> sparse.csr_matrix:
        """One CSR matrix of the memoised single-row n-gram vectors (see :meth:`_prepared`)."""
        lengths = np.fromiter((r.nnz for r in rows), dtype=np.int64, count=len(rows))
        indptr = np.concatenate([[0], np.cumsum(lengths)])
        data = np.concatenate([r.data for r in rows]) if rows else np.zeros(0)
        indices = np.concatenate([r.indices for r in rows]) if rows else np.zeros(0, dtype=np.int32)
        return sparse.csr_matrix((data, indices, indptr), shape=(len(rows), max(1, len(self._vocab))))

    @property
    def _online(self) -> bool:
        """Plain TF without a fitted vocabulary: memoised n-gram rows give the same cosines as a batch fit."""
        return self._vectorizer is None and not self.settings.use_idf

    def _prepare(self, text: str) -> str:
        t = unicodedata.normalize("NFKC", text)  # full-width Ａ市 → A市 before the (upper-case) placeholders go
        if self.settings.strip_places:
            t = strip_placeholders(t)
        return normalize(t)[: self.settings.max_chars]

    def _ngram_text(self, prepared: str) -> str:
        return _NON_WORD.sub("", prepared)

    def _new_vectorizer(self) -> TfidfVectorizer:
        return TfidfVectorizer(analyzer="char", ngram_range=self.settings.ngram_range, lowercase=False,
                               use_idf=self.settings.use_idf, sublinear_tf=True, norm="l2", dtype=np.float32)

    def fit(self, corpus: Iterable[str]) -> QuestionClusterer:
        """Fit the n-gram IDF on background texts (past questions); makes :meth:`assign` independent of the batch."""
        docs = [self._ngram_text(self.prepare(t)) for t in corpus]
        docs = [d for d in docs if d]
        if not docs:
            raise ValueError("fit needs at least one non-empty text")
        vec = self._new_vectorizer()
        vec.fit(docs)
        self._vectorizer = vec
        return self

    @property
    def fitted(self) -> bool:
        """Whether the n-gram weights come from :meth:`fit` / ``idf_corpus`` (else from each batch)."""
        return self._vectorizer is not None

    # ------------------------------------------------------------------ similarities

    def _ngram_matrix(self, prepared: list[str]) -> np.ndarray:
        docs = [self._ngram_text(p) for p in prepared]
        n = len(docs)
        if not any(docs):
            return np.zeros((n, n), dtype=np.float32)
        if self._vectorizer is not None:
            m = self._vectorizer.transform(docs)
        else:
            vec = self._new_vectorizer()
            try:
                m = vec.fit_transform(docs)
            except ValueError:  # every text shorter than the smallest n-gram
                return np.zeros((n, n), dtype=np.float32)
        sim = (m @ m.T).toarray().astype(np.float32)
        return np.clip(sim, 0.0, 1.0)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """e5 vectors of already prepared texts (memo, then disk cache, then the encoder)."""
        if self.encoder is None:
            raise ValueError("no encoder configured")
        enc_id = f"{self.encoder.id}:query"
        out: list[np.ndarray | None] = [self._memo.get(t) for t in texts]
        todo = sorted({t for t, v in zip(texts, out, strict=True) if v is None})
        found: dict[str, np.ndarray] = {}
        if todo and self.cache is not None:
            try:
                cached = self.cache.get_many(enc_id, todo)
            except sqlite3.Error as exc:  # the on-disk cache is an optimisation: never fail the queue on it
                log.warning("embedding cache not readable: %s", exc)
                cached = {}
            for t in todo:
                v = cached.get(EmbeddingCache.key(t))
                if v is not None and v.shape[0] == self.encoder.dim:
                    found[t] = v
        missing = [t for t in todo if t not in found]
        if missing:
            vecs = np.asarray(self.encoder.encode_queries(missing), dtype=np.float32)
            found.update(zip(missing, vecs, strict=True))
            if self.cache is not None:
                try:
                    self.cache.put_many(enc_id, missing, vecs)
                except sqlite3.Error as exc:
                    log.warning("embedding cache not writable: %s", exc)
        for t, v in found.items():
            self._remember(t, v)
        rows = [v if v is not None else found[t] for t, v in zip(texts, out, strict=True)]
        return np.stack(rows).astype(np.float32) if rows else np.zeros((0, self.encoder.dim), np.float32)

    def _remember(self, text: str, vec: np.ndarray) -> None:
        if self._memo_size == 0:
            return
        self._memo[text] = vec
        self._memo.move_to_end(text)
        while len(self._memo) > self._memo_size:
            self._memo.popitem(last=False)

    def _e5_matrix(self, prepared: list[str]) -> np.ndarray:
        v = self.embed(prepared)
        cos = v @ v.T
        floor = self.settings.e5_floor
        return np.clip((cos - floor) / (1.0 - floor), 0.0, 1.0).astype(np.float32)

    def component_matrices(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray | None]:
        """(n-gram cosine, rescaled e5 cosine or ``None`` without encoder) of ``texts``, each (n, n)."""
        prepared = [self.prepare(t) for t in texts]
        if self._online:
            m = self._stack([self._prepared(t)[1] for t in texts])
            ng = np.clip((m @ m.T).toarray(), 0.0, 1.0).astype(np.float32)
        else:
            ng = self._ngram_matrix(prepared)
        e5 = self._e5_matrix(prepared) if self.encoder is not None else None
        return ng, e5

    def combine_matrices(self, ngram: np.ndarray, e5: np.ndarray | None) -> np.ndarray:
        """Combine the two signals as configured (``e5 is None`` → the n-gram cosine alone)."""
        if e5 is None:
            sim = ngram
        elif self.settings.combine == "max":
            sim = np.maximum(ngram, e5)
        else:
            w = self.settings.ngram_weight
            sim = w * ngram + (1.0 - w) * e5
        return np.asarray(np.clip(sim, 0.0, 1.0), dtype=np.float32)

    def similarity_matrix(self, texts: Sequence[str]) -> np.ndarray:
        """Symmetric (n, n) float32 similarities in [0, 1]; the diagonal is 1 for non-empty texts."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        sim = self.combine_matrices(*self.component_matrices(texts))
        sim = (sim + sim.T) / 2
        for i, t in enumerate(texts):
            sim[i, i] = 1.0 if self._prepared(t)[2] else 0.0
        return sim

    # ------------------------------------------------------------------ clustering

    def cluster_matrix(self, sim: np.ndarray) -> list[int]:
        """Cluster labels from a precomputed similarity matrix (labels numbered by first occurrence)."""
        n = sim.shape[0]
        if n == 0:
            return []
        if n == 1:
            return [0]
        from scipy.cluster.hierarchy import fcluster, linkage
        from scipy.spatial.distance import squareform

        dist = 1.0 - np.asarray(sim, dtype=np.float64)
        dist = (dist + dist.T) / 2
        np.fill_diagonal(dist, 0.0)
        dist = np.clip(dist, 0.0, 1.0)
        z = linkage(squareform(dist, checks=False), method=self.settings.linkage)
        # merge while the linkage distance is <= 1 - threshold, i.e. similarity >= threshold
        raw = fcluster(z, t=1.0 - self.settings.threshold + 1e-9, criterion="distance")
        first: dict[int, int] = {}
        return [first.setdefault(int(c), len(first)) for c in raw]

    def cluster(self, texts: Sequence[str]) -> list[int]:
        """Batch clustering: one label per text; equal labels = same question. Labels are 0.. by first occurrence."""
        return self.cluster_matrix(self.similarity_matrix(texts))

    def similarities_to(self, text: str, others: Sequence[str]) -> np.ndarray:
        """Similarity of ``text`` to each of ``others`` (one row of :meth:`similarity_matrix`, computed alone)."""
        if not others:
            return np.zeros(0, dtype=np.float32)
        if self._online:
            return self._similarities_online(text, others)
        prepared = [self.prepare(t) for t in [text, *others]]
        docs = [self._ngram_text(p) for p in prepared]
        if not docs[0]:
            return np.zeros(len(others), dtype=np.float32)
        if self._vectorizer is not None:
            m = self._vectorizer.transform(docs)
        else:
            try:
                m = self._new_vectorizer().fit_transform(docs)
            except ValueError:
                return np.zeros(len(others), dtype=np.float32)
        ng = np.clip((m[1:] @ m[0].T).toarray().ravel(), 0.0, 1.0).astype(np.float32)
        e5 = None
        if self.encoder is not None:
            v = self.embed(prepared)
            floor = self.settings.e5_floor
            e5 = np.clip((v[1:] @ v[0] - floor) / (1.0 - floor), 0.0, 1.0).astype(np.float32)
        sim = self.combine_matrices(ng, e5)
        empty = np.array([not d for d in docs[1:]])
        sim[empty] = 0.0
        return sim

    def _similarities_online(self, text: str, others: Sequence[str]) -> np.ndarray:
        """:meth:`similarities_to` from the memoised rows (the same numbers as a vocabulary fitted on the batch)."""
        entries = [self._prepared(t) for t in [text, *others]]
        if not entries[0][2]:
            return np.zeros(len(others), dtype=np.float32)
        m = self._stack([e[1] for e in entries])
        if m.nnz == 0:  # every text shorter than the smallest n-gram (the batch fit refuses such a batch)
            return np.zeros(len(others), dtype=np.float32)
        ng = np.clip((m[1:] @ m[0].T).toarray().ravel(), 0.0, 1.0).astype(np.float32)
        e5 = None
        if self.encoder is not None:
            v = self.embed([e[0] for e in entries])
            floor = self.settings.e5_floor
            e5 = np.clip((v[1:] @ v[0] - floor) / (1.0 - floor), 0.0, 1.0).astype(np.float32)
        sim = self.combine_matrices(ng, e5)
        sim[np.array([not e[2] for e in entries[1:]], dtype=bool)] = 0.0
        return sim

    def item_similarities(self, text: str, item_texts: Sequence[Sequence[str]]) -> list[float]:
        """Similarity of ``text`` to each item (members aggregated as configured); 0 for an empty item."""
        flat = [m for members in item_texts for m in members]
        if not flat:
            return [0.0 for _ in item_texts]
        sim = self.similarities_to(text, flat)
        agg = AGGREGATES[self.settings.aggregate]
        out, pos = [], 0
        for members in item_texts:
            k = len(members)
            out.append(float(agg(sim[pos : pos + k])) if k else 0.0)
            pos += k
        return out

    def assign(self, text: str, item_texts: Sequence[Sequence[str]]) -> int | None:
        """Online step: index of the existing item ``text`` joins, or ``None`` (start a new item).

        ``item_texts[i]`` are the member texts of item ``i`` (pass a bounded sample for very large items, e.g. the
        first and the most recent 20). The best item whose aggregated similarity is >= ``assign_threshold`` wins.
        """
        if not self._prepared(text)[2] or not item_texts:
            return None
        sims = self.item_similarities(text, item_texts)
        best = int(np.argmax(sims))
        return best if sims[best] >= self.settings.assign_threshold else None

    def assign_all(self, texts: Sequence[str]) -> list[int]:
        """Feed ``texts`` one by one through :meth:`assign` (as the queue would); labels like :meth:`cluster`."""
        items: list[list[str]] = []
        labels: list[int] = []
        for t in texts:
            j = self.assign(t, items)
            if j is None:
                items.append([t])
                labels.append(len(items) - 1)
            else:
                items[j].append(t)
                labels.append(j)
        return labels
