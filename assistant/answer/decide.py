"""Answer / answer with caution / do not answer, from the calibrated confidence (and how the notices that say so
read together)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from ..search.letter import is_long
from ..text.normalize import normalize
from ..text.tokenize import Tokenizer

CAUTION_TEXT = "以下内容与您的问题相关度一般，请结合原文核实，或联系工作人员确认。"
#: a letter is shown for reference whatever its confidence (ASSISTANT_LONG_LETTER_ANSWERS): no claim about relevance
LETTER_CAUTION_TEXT = "您的来信涉及具体情况，以下内容为按来信检索到的相关规定，仅供参考，请结合原文核实，或联系工作人员确认。"


@lru_cache(maxsize=8192)
def _words(text: str) -> frozenset[str]:
    """``text``'s words of two or more characters (a curated entry's wordings are tokenised once per process)."""
    return frozenset(w for w in Tokenizer.default().words(text) if len(w) >= 2)


def shares_a_word(expanded: str, wordings: Iterable[str]) -> bool:
    """A curated entry may be offered as 您是不是想问 only when the question (``expanded``: normalised, with the
    dictionary's canonical terms) shares a word (two characters or more, stopwords aside) with one of its wordings.
    Without it the suggestion was noise on out-of-scope petitions ("咨询A市买房资格有关问题" → "企业环保咨询日怎么参加"):
    measured on dev (``scripts/suggest_band.py``), it keeps every right suggestion of the held-out paraphrases and
    offers a third as many to out-of-scope questions."""
    asked = _words(expanded)
    return any(asked & _words(w) for w in wordings)


def own_letter(normalized: str, asked: str = "") -> bool:
    """The asker's own message is a long letter (``asked``: a follow-up's own words, when it was read with the
    conversation; else the question itself, ``normalized``)."""
    return is_long(normalize(asked) if asked else normalized)


#: a short follow-up read with a letter or a case told at length is decided as a letter (for reference, whatever its
#: confidence): it says what it was searched with, not that it is barely relevant
CONTEXT_CAUTION_TEXT = "以下内容为结合您前面的消息检索到的相关规定，仅供参考，请结合原文核实，或联系工作人员确认。"


def caution_kind(normalized: str, asked: str = "") -> str:
    """Which notice an answer shown with caution carries (every channel words it its own way): ``letter`` — the
    asker's own message is a letter; ``context`` — a short follow-up read with a letter or a case told at length;
    ``plain`` — a middling confidence. ``normalized`` is the text searched, ``asked`` a follow-up's own words when it
    was read with the conversation."""
    if own_letter(normalized, asked):
        return "letter"
    return "context" if asked and is_long(normalized) else "plain"


CAUTION_TEXTS = {"letter": LETTER_CAUTION_TEXT, "context": CONTEXT_CAUTION_TEXT, "plain": CAUTION_TEXT}


def caution_text(normalized: str, asked: str = "") -> str:
    """The notice of an answer shown with caution (:func:`caution_kind`)."""
    return CAUTION_TEXTS[caution_kind(normalized, asked)]


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
    #: for long letters (more than 80 characters), when chosen apart: a letter's answer shows three articles and
    #: is right less often at the same confidence than a short question's first article
    answer_long: float | None = None
    caution_long: float | None = None
    #: False: a long letter is never answered outright — at most "answer with caution" (shown as references and
    #: passed to staff): on the real dev letters no confidence level reached the precision the stage is held to
    long_answers: bool = True

    def __post_init__(self) -> None:
        for name in ("answer", "caution", "curated", "answer_long", "caution_long"):  # not long_answers (a flag)
            v = getattr(self, name)
            if v is not None and not 0 <= v <= 1:
                raise ValueError(f"threshold {name} must be in [0, 1], got {v}")
        if self.caution > self.answer:
            raise ValueError(f"caution threshold ({self.caution}) must not exceed answer threshold ({self.answer})")
        if (self.answer_long is None) != (self.caution_long is None):
            raise ValueError("answer_long and caution_long go together")
        if self.answer_long is not None and self.caution_long is not None and self.caution_long > self.answer_long:
            raise ValueError(f"caution_long ({self.caution_long}) must not exceed answer_long ({self.answer_long})")

    def letter_caution(self, confidence: float) -> bool:
        """``confidence`` reaches the threshold at which a long letter is shown for reference (参考（请核实）, passed
        to staff) — used for a follow-up read with its conversation, which is a letter told in several messages; False
        when no letter threshold was chosen apart."""
        return self.caution_long is not None and confidence >= self.caution_long

    def decide(self, confidence: float, long: bool = False) -> Decision:
        answer, caution = self.answer, self.caution
        if long and self.answer_long is not None and self.caution_long is not None:
            answer, caution = self.answer_long, self.caution_long
        if confidence >= answer:
            return Decision.ANSWER if self.long_answers or not long else Decision.CAUTION
        if confidence >= caution:
            return Decision.CAUTION
        return Decision.ABSTAIN

    def articles_lead(self, confidence: float, normalized: str, asked: str = "") -> bool:
        """The asker's own message is a long letter (:func:`own_letter`) and the articles found for it
        (``confidence``) are shown: they lead the answer, and its best curated entry is only offered ("您是不是想问",
        related questions). A curated entry's confidence is fitted on short wordings; on the real dev letters 5 of the
        12 curated answers shown cited none of the articles the ministry cited, while the articles found held one for
        4 of those 5 and for all 7 others (``scripts/user_view.py``). When the articles would not be shown, the
        curated answer is (for reference)."""
        return own_letter(normalized, asked) and self.decide(confidence, long=True) is not Decision.ABSTAIN


def letter_for_staff(decision: Decision, normalized: str) -> bool:
    """A long letter answered only for reference (参考（请核实）) is passed to staff as well (``ask``; measured in
    ``scripts/user_view.py``)."""
    return decision is Decision.CAUTION and is_long(normalized)


def join_notices(first: str, then: str) -> str:
    """Two notices as one text: after a sentence that ends in Chinese punctuation no space ("…确认。您的追问…")."""
    if not first or not then:
        return first or then
    return first + ("" if first[-1] in "。！？；）" else " ") + then
