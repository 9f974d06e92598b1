"""Settings of the question clusterer (:class:`~assistant.queue.cluster.QuestionClusterer`): the measured defaults,
the anonymisation placeholders of the petition data, and the eager validation of every setting."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from ..search.encoders import Encoder

Linkage = Literal["average", "complete", "single"]
Combine = Literal["mean", "max"]
Aggregate = Literal["average", "max", "min", "top3"]

#: Anonymisation placeholders of the petition data (``A市``, ``A3区``, ``A8县市``, ``K4县``, ``西地省``). Removing them
#: (``strip_places=True``) stops unrelated short texts from sharing n-grams, but the district codes do tell districts
#: apart: measured, removal lowers F1 on petition titles (0.889 → 0.855 n-grams, 0.883 → 0.864 combined), so it is off.
PLACEHOLDER = re.compile(r"西地省|[A-Z]\d{0,2}(?:县市|市|区|县|省)")

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


def strip_placeholders(text: str) -> str:
    """Remove anonymisation place placeholders (``A市A3区中海国际`` → ``中海国际``)."""
    return PLACEHOLDER.sub("", text)


@dataclass(frozen=True)
class ClusterSettings:
    """Validated settings of a :class:`~assistant.queue.cluster.QuestionClusterer` (built by :func:`build_settings`;
    see the clusterer's constructor for the meaning of each field)."""

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


def build_settings(
    encoder: Encoder | None,
    *,
    threshold: float | None,
    linkage: Linkage,
    aggregate: Aggregate | None,
    assign_threshold: float | None,
    ngram_range: tuple[int, int],
    use_idf: bool,
    strip_places: bool,
    ngram_weight: float,
    combine: Combine,
    e5_floor: float,
    max_chars: int,
    memo_size: int,
) -> ClusterSettings:
    """The settings with their defaults filled in (they depend on whether there is an encoder), validated eagerly: a
    bad value (or a bad ``encoder`` / ``memo_size``) raises :class:`ValueError` here, not at first use."""
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
    return ClusterSettings(float(threshold), linkage, aggregate, float(assign_threshold), ngram_range,
                           bool(use_idf), bool(strip_places), float(ngram_weight), combine, float(e5_floor), max_chars)
