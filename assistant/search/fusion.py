"""Fusing BM25 and dense scores.

Two methods, both reported on the dev split (README):

* ``rrf`` — reciprocal rank fusion, ``Σ w_s / (k + rank_s)``.
* ``zscore`` — each signal standardised over the candidate pool, then a weighted sum whose BM25 weight shrinks for
  long queries (letters): BM25 on a 500-character letter matches many incidental words, while the dense encoder
  still sees the topic. ``w_bm25(q) = w0 · min(1, (L0 / len(q))^α)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..options import Option


class FusionMode(Option):
    ZSCORE = "zscore"
    RRF = "rrf"
    BM25 = "bm25"
    DENSE = "dense"

    @classmethod
    def label(cls) -> str:
        return "fusion"


@dataclass(frozen=True)
class FusionParams:
    """Fusion settings; validated eagerly."""

    mode: FusionMode = FusionMode.ZSCORE
    bm25_weight: float = 0.4
    long_query_chars: int = 60
    length_alpha: float = 0.5
    rrf_k: int = 60
    pool: int = 200
    #: boost (in standard deviations of the fused pool) for articles the question names explicitly
    reference_weight: float = 0.0
    #: share of that boost given to the other articles of a named document
    doc_prior: float = 0.0

    def __post_init__(self) -> None:
        if not 0 <= self.bm25_weight <= 1:
            raise ValueError(f"bm25_weight must be in [0, 1], got {self.bm25_weight}")
        if self.rrf_k <= 0:
            raise ValueError(f"rrf_k must be > 0, got {self.rrf_k}")
        if self.pool <= 0:
            raise ValueError(f"pool must be > 0, got {self.pool}")
        if self.length_alpha < 0:
            raise ValueError(f"length_alpha must be >= 0, got {self.length_alpha}")
        if self.long_query_chars <= 0:
            raise ValueError(f"long_query_chars must be > 0, got {self.long_query_chars}")
        if self.reference_weight < 0 or not 0 <= self.doc_prior <= 1:
            raise ValueError(f"reference_weight must be >= 0 and doc_prior in [0, 1], got "
                             f"{self.reference_weight}, {self.doc_prior}")

    def weight_for(self, query_chars: int) -> float:
        """BM25 weight for a query of ``query_chars`` characters."""
        if query_chars <= self.long_query_chars or self.length_alpha == 0:
            return self.bm25_weight
        return self.bm25_weight * (self.long_query_chars / query_chars) ** self.length_alpha


def apply_references(fused: np.ndarray, refs: np.ndarray | None, params: FusionParams) -> np.ndarray:
    """Add the explicit-reference boost, scaled to the spread of the fused scores."""
    if refs is None or params.reference_weight == 0:
        return fused
    finite = fused[np.isfinite(fused)]
    top = np.sort(finite)[-min(len(finite), params.pool):] if len(finite) else finite
    scale = float(top.std()) if len(top) > 1 else 1.0
    return (fused + params.reference_weight * max(scale, 1e-6) * refs).astype(np.float32)


def _competition_rank(x: np.ndarray) -> np.ndarray:
    """1 + the number of strictly better scores: tied documents share a rank (no bonus for index position)."""
    order = np.sort(x)[::-1]
    return (np.searchsorted(-order, -x, side="left") + 1).astype(np.float64)


def _zscore(x: np.ndarray, pool: np.ndarray) -> np.ndarray:
    sub = x[pool]
    sd = float(sub.std())
    if sd < 1e-9:
        return np.zeros_like(x)
    return (x - float(sub.mean())) / sd


def _top(x: np.ndarray, k: int) -> np.ndarray:
    return np.argpartition(-x, k - 1)[:k] if k < x.shape[0] else np.arange(x.shape[0])


def fuse(bm25: np.ndarray | None, dense: np.ndarray | None, params: FusionParams, query_chars: int,
         mask: np.ndarray | None = None) -> np.ndarray:
    """Fused score for every document (higher is better); ``-inf`` where ``mask`` is False.

    Either signal may be missing. Normalisation statistics come from the allowed documents only.
    """
    out = _fuse(bm25, dense, params, query_chars, mask)
    return out if mask is None else np.where(mask, out, -np.inf).astype(np.float32)


def _fuse(bm25: np.ndarray | None, dense: np.ndarray | None, params: FusionParams, query_chars: int,
          mask: np.ndarray | None) -> np.ndarray:
    if dense is None or params.mode is FusionMode.BM25:
        if bm25 is None:
            raise ValueError("no signal to fuse")
        return bm25.astype(np.float32)
    if bm25 is None or params.mode is FusionMode.DENSE:
        return dense.astype(np.float32)
    n = bm25.shape[0]
    if mask is not None:
        bm25 = np.where(mask, bm25, -1e9)
        dense = np.where(mask, dense, -1e9)
        n_ok = int(mask.sum())
    else:
        n_ok = n
    pool_n = max(1, min(params.pool, n_ok))
    pool = np.union1d(_top(bm25, pool_n), _top(dense, pool_n))
    w = params.weight_for(query_chars)
    if params.mode is FusionMode.RRF:
        rb, rd = _competition_rank(bm25), _competition_rank(dense)
        return (w / (params.rrf_k + rb) + (1 - w) / (params.rrf_k + rd)).astype(np.float32)
    out = w * _zscore(bm25.astype(np.float64), pool) + (1 - w) * _zscore(dense.astype(np.float64), pool)
    return out.astype(np.float32)
