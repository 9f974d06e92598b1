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

import unicodedata
from collections import OrderedDict
from collections.abc import Iterable, Sequence

import numpy as np
from scipy import sparse

from ..search.encoders import EmbeddingCache, Encoder
from ..text.normalize import normalize
from .cluster_settings import (
    DEFAULT_E5_FLOOR,
    DEFAULT_NGRAM_WEIGHT,
    Aggregate,
    Combine,
    Linkage,
    build_settings,
    strip_placeholders,
)
from .grouping import AGGREGATES, agglomerate
from .ngrams import NgramSpace, first_row_cosines, ngram_text
from .query_embeddings import QueryEmbedder, rescale


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
        """Validate the settings (eagerly: a bad value raises :class:`ValueError` here, not at first use; the defaults
        and the checks are in :mod:`assistant.queue.cluster_settings`).

        :param encoder: e5-style encoder (``encode_queries`` → L2-normalised rows); ``None`` = n-grams only.
        :param threshold: similarity in (0, 1) needed to be in one cluster / to join an item (default depends on
            whether an encoder is given: ``DEFAULT_THRESHOLD`` / ``DEFAULT_THRESHOLD_WITH_ENCODER``).
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
        :param strip_places: remove anonymisation placeholders (``cluster_settings.PLACEHOLDER``) before comparing (off: measured
            worse on petition titles — district codes like ``A3区`` do tell districts apart).
        :param ngram_weight: weight in [0, 1] of the n-gram cosine in the ``mean`` combination with e5.
        :param combine: ``mean`` (weighted) or ``max`` of the n-gram cosine and the rescaled e5 cosine.
        :param e5_floor: e5 cosine mapped to 0 (in [0, 1)).
        :param max_chars: texts are cut to this many characters (after normalisation) before comparing; >= 1.
        :param cache: optional on-disk embedding cache (keyed by encoder id + ``:query`` and text).
        :param memo_size: in-memory embedding memo entries (LRU), >= 0.
        """
        self.settings = build_settings(
            encoder, threshold=threshold, linkage=linkage, aggregate=aggregate, assign_threshold=assign_threshold,
            ngram_range=ngram_range, use_idf=use_idf, strip_places=strip_places, ngram_weight=ngram_weight,
            combine=combine, e5_floor=e5_floor, max_chars=max_chars, memo_size=memo_size)
        self.encoder = encoder
        self.cache = cache
        self._embedder = QueryEmbedder(encoder, cache, memo_size) if encoder is not None else None
        self._memo_size = memo_size
        self.ngrams = NgramSpace(ngram_range, use_idf)
        self._prep_memo: OrderedDict[str, tuple[str, sparse.csr_matrix, bool]] = OrderedDict()
        if idf_corpus is not None:
            self.fit(idf_corpus)

    # ------------------------------------------------------------------ text preparation

    def prepare(self, text: str) -> str:
        """The text as compared: normalised, placeholders removed (if set), cut to ``max_chars``."""
        return self._prepared(text)[0]

    def _prepared(self, text: str) -> tuple[str, sparse.csr_matrix, bool]:
        """(prepared text, its n-gram row over the growing n-gram vocabulary (:meth:`NgramSpace.row`), whether any
        word character is left), memoised (LRU)."""
        hit = self._prep_memo.get(text)
        if hit is not None:
            self._prep_memo.move_to_end(text)
            return hit
        prepared = self._prepare(text)
        doc = ngram_text(prepared)
        out = (prepared, self.ngrams.row(doc), bool(doc))
        if self._memo_size:
            self._prep_memo[text] = out
            while len(self._prep_memo) > self._memo_size:
                self._prep_memo.popitem(last=False)
        return out

    def _prepare(self, text: str) -> str:
        t = unicodedata.normalize("NFKC", text)  # full-width Ａ市 → A市 before the (upper-case) placeholders go
        if self.settings.strip_places:
            t = strip_placeholders(t)
        return normalize(t)[: self.settings.max_chars]

    def fit(self, corpus: Iterable[str]) -> QuestionClusterer:
        """Fit the n-gram IDF on background texts (past questions); makes :meth:`assign` independent of the batch."""
        self.ngrams.fit([ngram_text(self.prepare(t)) for t in corpus])
        return self

    @property
    def fitted(self) -> bool:
        """Whether the n-gram weights come from :meth:`fit` / ``idf_corpus`` (else from each batch)."""
        return self.ngrams.fitted

    # ------------------------------------------------------------------ similarities

    def _ngram_matrix(self, prepared: list[str]) -> np.ndarray:
        return self.ngrams.batch_cosines([ngram_text(p) for p in prepared])

    def remember_vector(self, text: str, vector: np.ndarray) -> None:
        """A vector the answer path already computed with the same encoder for ``text`` (the question, normalised):
        when the clusterer compares that very text it takes this one instead of encoding it again."""
        if self._embedder is not None:
            self._embedder.remember(text, np.asarray(vector, dtype=np.float32))

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """e5 vectors of already prepared texts (memo, then disk cache, then the encoder)."""
        if self._embedder is None:
            raise ValueError("no encoder configured")
        return self._embedder.embed(texts)

    def component_matrices(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray | None]:
        """(n-gram cosine, rescaled e5 cosine or ``None`` without encoder) of ``texts``, each (n, n)."""
        prepared = [self.prepare(t) for t in texts]
        if self.ngrams.online:
            ng = self.ngrams.cosines(self.ngrams.stack([self._prepared(t)[1] for t in texts]))
        else:
            ng = self._ngram_matrix(prepared)
        e5 = None
        if self.encoder is not None:
            v = self.embed(prepared)
            e5 = rescale(v @ v.T, self.settings.e5_floor)
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

    def similarities_to(self, text: str, others: Sequence[str]) -> np.ndarray:
        """Similarity of ``text`` to each of ``others`` (one row of :meth:`similarity_matrix`, computed alone).

        Online (plain TF, nothing fitted), the n-gram rows come from the memo (the same numbers as a vocabulary
        fitted on the batch); otherwise from the fitted vectorizer or one fitted on ``[text, *others]``.
        """
        if not others:
            return np.zeros(0, dtype=np.float32)
        m: sparse.csr_matrix | None = None
        if self.ngrams.online:
            entries = [self._prepared(t) for t in [text, *others]]
            prepared, nonempty = [e[0] for e in entries], [e[2] for e in entries]
            if nonempty[0]:
                m = self.ngrams.stack([e[1] for e in entries])
                if m.nnz == 0:  # every text shorter than the smallest n-gram (the batch fit refuses such a batch)
                    m = None
        else:
            prepared = [self.prepare(t) for t in [text, *others]]
            docs = [ngram_text(p) for p in prepared]
            nonempty = [bool(d) for d in docs]
            if nonempty[0]:
                m = self.ngrams.weighted(docs)
        if m is None:
            return np.zeros(len(others), dtype=np.float32)
        ng = first_row_cosines(m)
        e5 = None
        if self.encoder is not None:
            v = self.embed(prepared)
            e5 = rescale(v[1:] @ v[0], self.settings.e5_floor)
        sim = self.combine_matrices(ng, e5)
        sim[np.array([not ne for ne in nonempty[1:]], dtype=bool)] = 0.0
        return sim

    # ------------------------------------------------------------------ clustering

    def cluster_matrix(self, sim: np.ndarray) -> list[int]:
        """Cluster labels from a precomputed similarity matrix (labels numbered by first occurrence)."""
        return agglomerate(sim, self.settings.linkage, self.settings.threshold)

    def cluster(self, texts: Sequence[str]) -> list[int]:
        """Batch clustering: one label per text; equal labels = same question. Labels are 0.. by first occurrence."""
        return self.cluster_matrix(self.similarity_matrix(texts))

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
