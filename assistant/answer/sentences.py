"""The sentence of a cited article that answers the question (shown first, in bold, before the whole article).

The rule, measured in ``scripts/key_sentence.py`` on the curated entries (the key sentence of a cited article is
the one the entry's staff-written answer restates): the sentence holding the most query terms, longer terms weighing
more; ties go to the earlier sentence. The answer path ships this rule. The sentence closest to the question in e5
space (``query_vector`` + ``embed``) picks the key sentence more often, but encoding the sentences of every newly
cited article took the service from 49.9 to 25.6 new questions/s on a fresh clone (``scripts/bench_api.py``): it
needs the sentence vectors built ahead, in the background vector build, before it can be shipped. Asking-type cues
(a penalty for "罚多少", a time limit for "多久") were measured and did not help.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

from ..text.normalize import normalize

#: sentence ends in statute text: 。；！？ and line breaks (enumerated items （一）… end with ；)
_SPLIT = re.compile(r"(?<=[。；;！？!?])|\n+")

#: texts → L2-normalised passage vectors (the service: its encoder through the embedding cache)
Embed = Callable[[list[str]], np.ndarray]


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in _SPLIT.split(text) if s and s.strip()]


def term_score(sentence: str, terms: list[str]) -> float:
    low = normalize(sentence)
    return float(sum(min(len(t), 4) for t in set(terms) if len(t) >= 2 and t in low))


def answering_sentence(text: str, terms: list[str], query_vector: np.ndarray | None = None,
                       embed: Embed | None = None) -> str:
    """The sentence of ``text`` that best answers the question (``terms``: its search terms; ``query_vector`` and
    ``embed``: its e5 vector and the sentence encoder); "" when the text is one sentence (the whole article is the
    answer) or nothing in it matches."""
    sents = split_sentences(text)
    if len(sents) < 2:
        return ""
    if query_vector is not None and embed is not None:
        scores = [float(v) for v in embed(sents) @ np.asarray(query_vector, dtype=np.float32)]
    else:
        scores = [term_score(s, terms) for s in sents]
        if max(scores) <= 0:
            return ""
    best = max(range(len(sents)), key=lambda i: (scores[i], -i))
    return sents[best]
