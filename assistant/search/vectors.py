"""Dense vectors: a float32 matrix scored by one mat-vec (exact cosine on normalised vectors), saved as a faiss
``IndexIDMap2(IndexFlatIP)`` file. The faiss index is only materialised to save or for :meth:`VectorIndex.search`:
holding it beside the matrix would keep every vector twice in each worker (≈150 MiB more per worker at 100 000
passages)."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np


class VectorIndex:
    """Row ``i`` of the corpus has faiss id ``i``; :meth:`scores` returns cosine similarity for every row."""

    def __init__(self, dim: int) -> None:
        if dim <= 0:
            raise ValueError(f"dim must be > 0, got {dim}")
        self.dim = dim
        self._index: faiss.Index | None = None
        self._matrix = np.zeros((0, dim), dtype=np.float32)

    @property
    def size(self) -> int:
        return int(self._matrix.shape[0])

    def add(self, vectors: np.ndarray) -> None:
        """Append rows (ids continue from the current size)."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.dim:
            raise ValueError(f"expected vectors of shape (n, {self.dim}), got {vectors.shape}")
        self._matrix = np.vstack([self._matrix, vectors])
        self._index = None

    def _faiss(self) -> faiss.Index:
        if self._index is None:
            index = faiss.IndexIDMap2(faiss.IndexFlatIP(self.dim))
            if self.size:
                index.add_with_ids(self._matrix, np.arange(self.size, dtype=np.int64))
            self._index = index
        return self._index

    @property
    def matrix(self) -> np.ndarray:
        """The vectors, one row per item (read-only use)."""
        return self._matrix

    def scores(self, query: np.ndarray) -> np.ndarray:
        """Cosine similarity of ``query`` (normalised, shape (dim,)) with every row."""
        return self._matrix @ np.asarray(query, dtype=np.float32).reshape(-1)

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` (scores, ids) through faiss."""
        d, i = self._faiss().search(np.asarray(query, dtype=np.float32).reshape(1, -1), k)
        return d[0], i[0]

    def save(self, path: Path) -> None:
        faiss.write_index(self._faiss(), str(path))
        self._index = None  # written: not kept beside the matrix

    @classmethod
    def load(cls, path: Path, dim: int) -> VectorIndex:
        obj = cls(dim)
        index = faiss.read_index(str(path))
        n = index.ntotal
        if n:
            obj._matrix = np.vstack([index.reconstruct(i) for i in range(n)]).astype(np.float32) \
                if n < 1000 else _reconstruct_all(index, n, dim)
        del index  # the matrix is all a query needs
        return obj


def _reconstruct_all(index: faiss.Index, n: int, dim: int) -> np.ndarray:
    inner = faiss.downcast_index(index.index)  # type: ignore[attr-defined]
    return faiss.rev_swig_ptr(inner.get_xb(), n * dim).reshape(n, dim).copy()  # type: ignore[attr-defined, no-any-return]
