"""Answer / answer with caution / do not answer, from the calibrated confidence."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Decision(StrEnum):
    ANSWER = "answer"
    CAUTION = "caution"
    ABSTAIN = "abstain"


@dataclass(frozen=True)
class Thresholds:
    """Chosen on the dev split from the precision–coverage curve (README)."""

    answer: float = 0.6
    caution: float = 0.45
    curated: float = 0.6

    def __post_init__(self) -> None:
        for name in ("answer", "caution", "curated"):
            v = getattr(self, name)
            if not 0 <= v <= 1:
                raise ValueError(f"threshold {name} must be in [0, 1], got {v}")
        if self.caution > self.answer:
            raise ValueError(f"caution threshold ({self.caution}) must not exceed answer threshold ({self.answer})")

    def decide(self, confidence: float) -> Decision:
        if confidence >= self.answer:
            return Decision.ANSWER
        if confidence >= self.caution:
            return Decision.CAUTION
        return Decision.ABSTAIN
