"""Article-level diff of two versions of a document, and the character-level diff of one article.

Articles are matched by content, not by number, so that a renumbered article is recognised:

1. identical texts (whitespace and punctuation aside) pair first;
2. the remaining articles pair greedily by similarity — the Dice coefficient of their character bigram sets — best
   pair first, as long as it reaches :data:`MIN_SIMILARITY`; a pair that keeps the articles' relative position
   in the document wins a tie.

Each old article is then ``unchanged``, ``changed`` or ``removed``, each new article without a partner ``added``; a
matched pair whose numbers differ is also ``renumbered``. Measured on real revision pairs with hand-checked lists
(``scripts/eval_diff.py``).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

#: two articles are the same provision when their bigram sets overlap at least this much (Dice)
MIN_SIMILARITY = 0.3
#: ties within this similarity are broken by position (the revision keeps most of the order)
_POSITION_WEIGHT = 0.05

_NOISE = re.compile(r"[\s，。；：、“”‘’（）()《》〈〉！？!?,.;:\"'—\-]+")


@dataclass(frozen=True)
class Article:
    """One article (or clause) of one version: its key (``"12"``, ``"4.2.1"``) and text."""

    key: str
    text: str


@dataclass(frozen=True)
class ArticleChange:
    """How one article fared: ``op`` is unchanged | changed | added | removed; ``renumbered`` when its number moved."""

    op: str
    old: str | None
    new: str | None
    old_text: str = ""
    new_text: str = ""
    similarity: float = 0.0

    @property
    def renumbered(self) -> bool:
        return self.old is not None and self.new is not None and self.old != self.new

    def as_dict(self) -> dict[str, object]:
        return {"op": self.op, "old": self.old, "new": self.new, "renumbered": self.renumbered,
                "old_text": self.old_text, "new_text": self.new_text, "similarity": round(self.similarity, 3)}


def _norm(text: str) -> str:
    return _NOISE.sub("", text)


def _bigrams(text: str) -> frozenset[str]:
    t = _norm(text)
    return frozenset(t[i:i + 2] for i in range(len(t) - 1)) if len(t) > 1 else frozenset([t])


def similarity(a: str, b: str) -> float:
    """Dice coefficient of the two texts' character bigram sets (punctuation and whitespace ignored)."""
    x, y = _bigrams(a), _bigrams(b)
    if not x or not y:
        return 0.0
    return 2 * len(x & y) / (len(x) + len(y))


def match_articles(old: list[Article], new: list[Article], min_similarity: float = MIN_SIMILARITY
                   ) -> list[ArticleChange]:
    """The article diff of ``old`` → ``new``: one row per old article (in old order, removed ones in place), then
    the added articles (in new order)."""
    pair: dict[int, int] = {}
    sims: dict[int, float] = {}
    by_text: dict[str, list[int]] = {}
    for j, a in enumerate(new):
        by_text.setdefault(_norm(a.text), []).append(j)
    used: set[int] = set()
    for i, a in enumerate(old):
        for j in by_text.get(_norm(a.text), []):
            if j not in used:
                pair[i], sims[i] = j, 1.0
                used.add(j)
                break
    rest_old = [i for i in range(len(old)) if i not in pair]
    rest_new = [j for j in range(len(new)) if j not in used]
    grams_new = {j: _bigrams(new[j].text) for j in rest_new}
    cand: list[tuple[float, float, int, int]] = []
    n_old, n_new = max(1, len(old)), max(1, len(new))
    for i in rest_old:
        g = _bigrams(old[i].text)
        for j in rest_new:
            h = grams_new[j]
            if not g or not h:
                continue
            s = 2 * len(g & h) / (len(g) + len(h))
            if s >= min_similarity:
                drift = abs(i / n_old - j / n_new)
                cand.append((s - _POSITION_WEIGHT * drift, s, i, j))
    cand.sort(key=lambda c: (-c[0], c[2], c[3]))
    for _, s, i, j in cand:
        if i in pair or j in used:
            continue
        pair[i], sims[i] = j, s
        used.add(j)
    out: list[ArticleChange] = []
    for i, a in enumerate(old):
        if i in pair:
            b = new[pair[i]]
            same = _norm(a.text) == _norm(b.text)
            out.append(ArticleChange("unchanged" if same else "changed", a.key, b.key, a.text, b.text, sims[i]))
        else:
            out.append(ArticleChange("removed", a.key, None, a.text, ""))
    for j, b in enumerate(new):
        if j not in used:
            out.append(ArticleChange("added", None, b.key, "", b.text))
    return out


def summarize(changes: list[ArticleChange]) -> dict[str, int]:
    """Counts per op, and how many matched articles were renumbered."""
    counts = {k: 0 for k in ("added", "removed", "changed", "unchanged")}
    for c in changes:
        counts[c.op] += 1
    counts["renumbered"] = sum(c.renumbered for c in changes)
    return counts


def char_diff(old: str, new: str) -> list[tuple[str, str]]:
    """The character-level diff of one article: ``("=", text)``, ``("-", deleted)``, ``("+", inserted)`` runs in
    reading order (a replacement is its deletion, then its insertion)."""
    sm = difflib.SequenceMatcher(None, old, new, autojunk=False)
    out: list[tuple[str, str]] = []
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "equal":
            out.append(("=", old[i1:i2]))
            continue
        if tag in ("delete", "replace"):
            out.append(("-", old[i1:i2]))
        if tag in ("insert", "replace"):
            out.append(("+", new[j1:j2]))
    return out
