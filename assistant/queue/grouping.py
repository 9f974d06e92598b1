"""Turning similarities into groups: agglomerative clustering of a similarity matrix (batch) and the aggregators that
make one item similarity out of the similarities to an item's members (online assignment)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .cluster_settings import Linkage


def _top3(v: np.ndarray) -> float:
    return float(np.mean(np.sort(v)[-3:]))


#: Item-similarity aggregators of :meth:`QuestionClusterer.assign` (over the member similarities of one item).
AGGREGATES: dict[str, Callable[[np.ndarray], float]] = {
    "average": lambda v: float(np.mean(v)), "max": lambda v: float(np.max(v)), "min": lambda v: float(np.min(v)),
    "top3": _top3,
}


def agglomerate(sim: np.ndarray, method: Linkage, threshold: float) -> list[int]:
    """Cluster labels from a similarity matrix: agglomerative clustering with ``method`` linkage, merging while the
    similarity is >= ``threshold`` (labels numbered by first occurrence)."""
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
    z = linkage(squareform(dist, checks=False), method=method)
    # merge while the linkage distance is <= 1 - threshold, i.e. similarity >= threshold
    raw = fcluster(z, t=1.0 - threshold + 1e-9, criterion="distance")
    first: dict[int, int] = {}
    return [first.setdefault(int(c), len(first)) for c in raw]
