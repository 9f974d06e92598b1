"""BM25 over pre-tokenised Chinese text, behind one interface with two engines.

* ``rank_bm25`` — ``rank_bm25.BM25Okapi`` (the design card's library); scoring loops in Python over documents.
* ``bm25s`` — sparse precomputed score matrix; same Okapi/Robertson formula family, much faster at 100k passages.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np

from ..options import Option


class BM25Engine(Option):
    RANK_BM25 = "rank_bm25"
    BM25S = "bm25s"

    @classmethod
    def label(cls) -> str:
        return "BM25 engine"


class BM25Index:
    """Scores every document for a tokenised query. Build once, save/load with pickle."""

    def __init__(self, engine: str | BM25Engine = BM25Engine.RANK_BM25, k1: float = 1.2, b: float = 0.75) -> None:
        if k1 <= 0:
            raise ValueError(f"k1 must be > 0, got {k1}")
        if not 0 <= b <= 1:
            raise ValueError(f"b must be in [0, 1], got {b}")
        self.engine = BM25Engine.parse(engine)
        self.k1, self.b = k1, b
        self.n_docs = 0
        self._model: object = None
        self._vocab: set[str] = set()
        #: Lucene-style idf per token (used for query-coverage features, not for ranking)
        self.idf: dict[str, float] = {}

    def build(self, corpus_tokens: list[list[str]]) -> BM25Index:
        self.n_docs = len(corpus_tokens)
        # an empty document would break both engines' length normalisation: give it a placeholder token
        safe = [toks if toks else ["\x00empty"] for toks in corpus_tokens]
        df: dict[str, int] = {}
        for toks in safe:
            for t in set(toks):
                df[t] = df.get(t, 0) + 1
        self._vocab = set(df)
        n = max(1, self.n_docs)
        self.idf = {t: float(np.log(1 + (n - c + 0.5) / (c + 0.5))) for t, c in df.items()}
        if self.n_docs == 0:
            self._model = None
        elif self.engine is BM25Engine.RANK_BM25:
            from rank_bm25 import BM25Okapi

            self._model = BM25Okapi(safe, k1=self.k1, b=self.b)
        else:
            import bm25s

            model = bm25s.BM25(k1=self.k1, b=self.b, method="lucene")
            model.index(safe, show_progress=False)
            self._model = model
        return self

    @property
    def max_idf(self) -> float:
        """idf of a token no document contains (used for unknown query tokens)."""
        v = getattr(self, "_max_idf", None)
        if v is None:
            v = max(self.idf.values()) if self.idf else 1.0
            self._max_idf = v
        return float(v)

    def scores(self, query_tokens: list[str]) -> np.ndarray:
        """BM25 score of every document (0 where nothing matches); unknown tokens are ignored."""
        if self._model is None:
            return np.zeros(self.n_docs, dtype=np.float32)
        q = [t for t in query_tokens if t in self._vocab]
        if not q:
            return np.zeros(self.n_docs, dtype=np.float32)
        if self.engine is BM25Engine.RANK_BM25:
            return np.asarray(self._model.get_scores(q), dtype=np.float32)  # type: ignore[attr-defined]
        return _bm25s_scores(self._model, q)

    def docs_with(self, token: str) -> np.ndarray:
        """Positions of the documents that contain ``token``."""
        if self._model is None or token not in self._vocab:
            return np.zeros(0, dtype=np.int64)
        if self.engine is BM25Engine.RANK_BM25:
            freqs = self._model.doc_freqs  # type: ignore[attr-defined]
            return np.array([i for i, f in enumerate(freqs) if token in f], dtype=np.int64)
        model = self._model
        tid = model.get_tokens_ids([token])[0]  # type: ignore[attr-defined]
        sc = model.scores  # type: ignore[attr-defined]
        return np.asarray(sc["indices"][sc["indptr"][tid] : sc["indptr"][tid + 1]], dtype=np.int64)

    def coverage(self, query_tokens: list[str]) -> np.ndarray:
        """idf-weighted share of the query's distinct tokens that occur in each document (0–1); tokens no document
        contains count in the denominator with the largest idf."""
        toks = list(dict.fromkeys(query_tokens))
        out = np.zeros(self.n_docs, dtype=np.float32)
        total = sum(self.idf.get(t, self.max_idf) for t in toks)
        if self._model is None or total <= 0:
            return out
        known = [t for t in toks if t in self._vocab]
        if self.engine is BM25Engine.RANK_BM25:
            freqs = self._model.doc_freqs  # type: ignore[attr-defined]
            for i, f in enumerate(freqs):
                out[i] = sum(self.idf[t] for t in known if t in f)
        else:
            model = self._model
            ids = model.get_tokens_ids(known)  # type: ignore[attr-defined]
            sc = model.scores  # type: ignore[attr-defined]
            indices, indptr = sc["indices"], sc["indptr"]
            for t, tid in zip(known, ids):
                out[indices[indptr[tid] : indptr[tid + 1]]] += self.idf[t]
        return out / np.float32(total)

    def save(self, path: Path) -> None:
        with path.open("wb") as fh:
            pickle.dump({"engine": self.engine.value, "k1": self.k1, "b": self.b, "n": self.n_docs,
                         "model": self._model, "vocab": self._vocab, "idf": self.idf}, fh, protocol=pickle.HIGHEST_PROTOCOL)

    @classmethod
    def load(cls, path: Path) -> BM25Index:
        with path.open("rb") as fh:
            d = pickle.load(fh)
        obj = cls(d["engine"], d["k1"], d["b"])
        obj.n_docs, obj._model, obj._vocab, obj.idf = d["n"], d["model"], d["vocab"], d.get("idf", {})
        return obj


def _bm25s_scores(model: Any, tokens: list[str]) -> np.ndarray:
    """bm25s' ``get_scores`` without ``np.add.at``: a token's postings hold each document once, so a fancy-index
    add per token gives the same sums in the same order (bit-identical), about 10x faster at 100 000 passages."""
    ids = model.get_tokens_ids(tokens)
    sc = model.scores
    data, indices, indptr = sc["data"], sc["indices"], sc["indptr"]
    scores = np.zeros(int(sc["num_docs"]), dtype=np.dtype(model.dtype))
    for t in ids:
        start, end = indptr[t], indptr[t + 1]
        scores[indices[start:end]] += data[start:end]
    if model.nonoccurrence_array is not None:
        scores += model.nonoccurrence_array[np.asarray(ids, dtype=np.int64)].sum()
    return np.asarray(scores, dtype=np.float32)
