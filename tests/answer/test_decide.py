"""Answer / caution / abstain thresholds."""

from __future__ import annotations

import pytest

from assistant.answer.decide import Decision, Thresholds


@pytest.mark.parametrize(
    ("confidence", "decision"),
    [(0.0, Decision.ABSTAIN), (0.29, Decision.ABSTAIN), (0.3, Decision.CAUTION), (0.69, Decision.CAUTION),
     (0.7, Decision.ANSWER), (1.0, Decision.ANSWER)],
)
def test_confidence_maps_to_decision(confidence: float, decision: Decision) -> None:
    assert Thresholds(answer=0.7, caution=0.3).decide(confidence) is decision


def test_equal_thresholds_have_no_caution_band() -> None:
    t = Thresholds(answer=0.5, caution=0.5)
    assert t.decide(0.49) is Decision.ABSTAIN and t.decide(0.5) is Decision.ANSWER


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [({"answer": 1.2}, "1.2"), ({"caution": -0.1}, "-0.1"), ({"curated": 2.0}, "curated"),
     ({"answer": 0.4, "caution": 0.6}, "0.6")],
)
def test_invalid_thresholds(kwargs: dict, needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        Thresholds(**kwargs)


def test_long_letters_use_their_own_thresholds_when_set() -> None:
    t = Thresholds(answer=0.4, caution=0.3, answer_long=0.8, caution_long=0.7)
    assert t.decide(0.5) is Decision.ANSWER
    assert t.decide(0.5, long=True) is Decision.ABSTAIN
    assert t.decide(0.75, long=True) is Decision.CAUTION
    assert t.decide(0.8, long=True) is Decision.ANSWER
    # without long-letter thresholds a letter is held to the short ones
    assert Thresholds(answer=0.4, caution=0.3).decide(0.5, long=True) is Decision.ANSWER


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [({"answer_long": 0.8}, "together"), ({"answer_long": 0.5, "caution_long": 0.6}, "caution_long"),
     ({"answer_long": 1.5, "caution_long": 0.6}, "answer_long")],
)
def test_invalid_long_thresholds(kwargs: dict, needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        Thresholds(**kwargs)


def test_long_letters_can_be_held_to_references() -> None:
    t = Thresholds(answer=0.4, caution=0.3, answer_long=0.8, caution_long=0.7, long_answers=False)
    assert t.decide(0.99, long=True) is Decision.CAUTION  # never answered outright
    assert t.decide(0.75, long=True) is Decision.CAUTION and t.decide(0.5, long=True) is Decision.ABSTAIN
    assert t.decide(0.99) is Decision.ANSWER  # short questions as before
    assert Thresholds(answer=0.4, caution=0.3).decide(0.9, long=True) is Decision.ANSWER  # the default allows it
