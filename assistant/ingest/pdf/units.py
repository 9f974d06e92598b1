"""Passage units: the pieces a document is split into (a clause, an article, a table, a catalogue row), their unique
keys, and the last step that merges tiny units, splits huge ones and turns them into passages."""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.ingest.base import ParsedPassage

#: Passage size bounds (characters).
MIN_PASSAGE = 30
#: a hazardous-waste row's key (``row-900-041-49``): its own entry of the catalogue, never merged into the row before it
_WASTE_ROW_KEY = re.compile(r"row-\d{3}-\d{3}-\d{2}$")
MAX_PASSAGE = 1200


@dataclass
class Unit:
    key: str
    lines: list[str]
    line: int  # 1-based line number of the first line
    heading: str = ""
    article: int | None = None
    context: str = ""  # prefix for table rows (section / column header)

    @property
    def body(self) -> str:
        return "\n".join(self.lines).strip()


class Keys:
    """Hands out unique passage keys."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def __call__(self, key: str) -> str:
        cand, n = key, 2
        while cand in self.used:
            cand = f"{key}~{n}"
            n += 1
        self.used.add(cand)
        return cand


def _split_long(unit: Unit) -> list[Unit]:
    """Split a unit longer than MAX_PASSAGE at sentence/line boundaries (keys ``k``, ``k-2`` …)."""
    text_len = len(unit.context) + len(unit.body)
    if text_len <= MAX_PASSAGE:
        return [unit]
    pieces: list[tuple[int, str]] = []  # (line offset, sentence)
    for offset, line in enumerate(unit.lines):
        for sentence in re.findall(r"[^。；;！？!?]+[。；;！？!?]?", line) or [line]:
            pieces.append((offset, sentence))
    budget = MAX_PASSAGE - len(unit.context)
    parts: list[Unit] = []
    cur: list[str] = []
    cur_len, cur_off, last_off = 0, 0, 0
    for offset, sentence in pieces:
        if cur and cur_len + len(sentence) > budget:
            parts.append(Unit("", ["".join(cur)], unit.line + cur_off, unit.heading, unit.article, unit.context))
            cur, cur_len, cur_off = [], 0, offset
        if cur and offset != last_off:
            cur.append("\n")
        cur.append(sentence)
        cur_len += len(sentence)
        last_off = offset
    if cur:
        parts.append(Unit("", ["".join(cur)], unit.line + cur_off, unit.heading, unit.article, unit.context))
    for i, part in enumerate(parts):
        part.key = unit.key if i == 0 else f"{unit.key}-{i + 1}"
    return parts


def finish(units: list[Unit], merge_small: bool = True) -> list[ParsedPassage]:
    """Merge tiny units, split huge ones and build passages."""
    merged: list[Unit] = []
    pending: Unit | None = None  # a heading-only unit waiting to prefix its first child
    for unit in units:
        if not unit.body:
            continue
        if pending is not None:
            unit.lines = pending.lines + unit.lines
            unit.line = pending.line
            pending = None
        if merge_small and len(unit.body) < MIN_PASSAGE and not _WASTE_ROW_KEY.match(unit.key):
            nxt = units[units.index(unit) + 1] if units.index(unit) + 1 < len(units) else None
            if nxt is not None and nxt.key.startswith(unit.key + ".") and unit.article is None:
                pending = unit  # "5 测量方法" heading: prefix it to 5.1
                continue
            prev = merged[-1] if merged else None
            if (
                prev is not None
                and prev.article is None
                and unit.article is None
                and prev.context == unit.context  # table rows only group within one section
                and len(prev.body) + len(unit.body) <= MAX_PASSAGE // 3
            ):
                prev.lines.extend(unit.lines)
                continue
        merged.append(unit)
    if pending is not None:
        merged.append(pending)
    passages: list[ParsedPassage] = []
    for unit in merged:
        for part in _split_long(unit):
            text = (part.context + "\n" + part.body).strip() if part.context else part.body
            passages.append(
                ParsedPassage(key=part.key, text=text, article=part.article, heading=part.heading, line=part.line)
            )
    return passages



def chunk_units(lines: list[str], offset: int, keys: Keys, heading: str = "") -> list[Unit]:
    """Fallback: paragraphs grouped up to MAX_PASSAGE characters."""
    units: list[Unit] = []
    cur: Unit | None = None
    for i, line in enumerate(lines):
        if cur is None or len(cur.body) + len(line) > MAX_PASSAGE * 0.8:
            cur = Unit(keys(f"p{offset + i + 1}"), [], offset + i + 1, heading)
            units.append(cur)
        cur.lines.append(line)
    return units
