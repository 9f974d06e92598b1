"""Character n-gram vectors of prepared question texts (sublinear TF over the configured n-gram sizes, optional IDF,
L2-normalised) and their cosines.

Two ways to the same plain-TF cosines: a :class:`~sklearn.feature_extraction.text.TfidfVectorizer` fitted on each batch
(or once on background texts, :meth:`NgramSpace.fit`), or one row per text over a vocabulary that grows with the
n-grams seen (:meth:`NgramSpace.row`; independent of the batch, so rows can be memoised — the online path).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

_NON_WORD = re.compile(r"[\W_]+")


def ngram_text(prepared: str) -> str:
    """The characters n-grams are taken from: a prepared text without punctuation and spaces."""
    return _NON_WORD.sub("", prepared)


def first_row_cosines(m: sparse.csr_matrix) -> np.ndarray:
    """Cosines of rows ``1..`` of ``m`` with row 0, clipped to [0, 1]."""
    return np.clip((m[1:] @ m[0].T).toarray().ravel(), 0.0, 1.0).astype(np.float32)


class NgramSpace:
    """The n-gram vectors of one clusterer: a fitted or per-batch vectorizer, and the growing online vocabulary."""

    def __init__(self, ngram_range: tuple[int, int], use_idf: bool) -> None:
        self.ngram_range = ngram_range
        self.use_idf = use_idf
        self._vectorizer: TfidfVectorizer | None = None
        # online path (plain sublinear TF, no fitted vocabulary): each text's n-gram row is independent of the batch,
        # so rows are computed once and memoised with the prepared text — the queue's open items are compared with
        # every arriving question, and re-fitting a vocabulary over all of them per question grew with the queue
        self._analyze = self._new_vectorizer().build_analyzer()  # the same n-grams as the batch fit
        self._vocab: dict[str, int] = {}  # grows with the n-grams seen (exact: no hashing collisions)

    def _new_vectorizer(self) -> TfidfVectorizer:
        return TfidfVectorizer(analyzer="char", ngram_range=self.ngram_range, lowercase=False,
                               use_idf=self.use_idf, sublinear_tf=True, norm="l2", dtype=np.float32)

    def fit(self, docs: Sequence[str]) -> None:
        """Fit the IDF (and vocabulary) on background n-gram texts; empty ones are ignored."""
        docs = [d for d in docs if d]
        if not docs:
            raise ValueError("fit needs at least one non-empty text")
        vec = self._new_vectorizer()
        vec.fit(docs)
        self._vectorizer = vec

    @property
    def fitted(self) -> bool:
        return self._vectorizer is not None

    @property
    def online(self) -> bool:
        """Plain TF without a fitted vocabulary: memoised n-gram rows give the same cosines as a batch fit."""
        return self._vectorizer is None and not self.use_idf

    # ------------------------------------------------------------------ online rows
    def row(self, doc: str) -> sparse.csr_matrix:
        """The L2-normalised sublinear-TF n-gram row of ``doc`` over the growing vocabulary."""
        counts: dict[int, int] = {}
        for g in self._analyze(doc):
            j = self._vocab.setdefault(g, len(self._vocab))
            counts[j] = counts.get(j, 0) + 1
        idx = np.fromiter(sorted(counts), dtype=np.int32, count=len(counts))
        data = 1.0 + np.log(np.array([counts[j] for j in idx.tolist()], dtype=np.float64))
        if data.size:
            data /= np.sqrt(float(np.dot(data, data)))
        return sparse.csr_matrix((data, idx, np.array([0, idx.size])), shape=(1, max(1, len(self._vocab))))

    def stack(self, rows: Sequence[sparse.csr_matrix]) -> sparse.csr_matrix:
        """One CSR matrix of single-row n-gram vectors (see :meth:`row`)."""
        lengths = np.fromiter((r.nnz for r in rows), dtype=np.int64, count=len(rows))
        indptr = np.concatenate([[0], np.cumsum(lengths)])
        data = np.concatenate([r.data for r in rows]) if rows else np.zeros(0)
        indices = np.concatenate([r.indices for r in rows]) if rows else np.zeros(0, dtype=np.int32)
        return sparse.csr_matrix((data, indices, indptr), shape=(len(rows), max(1, len(self._vocab))))

    @staticmethod
    def cosines(m: sparse.csr_matrix) -> np.ndarray:
        """(n, n) cosines of the rows of ``m``, clipped to [0, 1]."""
        return np.clip((m @ m.T).toarray(), 0.0, 1.0).astype(np.float32)

    # ------------------------------------------------------------------ batch (fitted or fitted per batch)
    def weighted(self, docs: list[str]) -> sparse.csr_matrix | None:
        """The n-gram vectors of ``docs`` from the fitted vectorizer, else one fitted on ``docs``; ``None`` when every
        text is shorter than the smallest n-gram (nothing to fit)."""
        if self._vectorizer is not None:
            return self._vectorizer.transform(docs)
        try:
            return self._new_vectorizer().fit_transform(docs)
        except ValueError:
            return None

    def batch_cosines(self, docs: list[str]) -> np.ndarray:
        """(n, n) cosines of ``docs`` through :meth:`weighted` (zeros when there is nothing to compare)."""
        n = len(docs)
        if not any(docs):
            return np.zeros((n, n), dtype=np.float32)
        m = self.weighted(docs)
        if m is None:
            return np.zeros((n, n), dtype=np.float32)
        sim = (m @ m.T).toarray().astype(np.float32)
        return np.clip(sim, 0.0, 1.0)
