"""Splitting a national standard (GB …, HJ …) into 公告 / 前言 / numbered clauses (``4.1.2``) / tables (``表1``) /
附录, each clause with the titles of its parent clauses as heading."""

from __future__ import annotations

import re

from .patterns import APPENDIX, CJK, CLAUSE, TABLE, looks_tabular
from .units import Keys, Unit


def _clause_tuple(num: str) -> tuple[int, ...] | None:
    if not num[0].isdigit():
        return None
    return tuple(int(p) for p in num.split("."))


def _plausible_next(prev: tuple[int, ...], cand: tuple[int, ...]) -> bool:
    """Is ``cand`` a plausible clause number after ``prev`` (allowing a lost page or two)?"""
    if not prev:
        return cand[0] <= 2 and all(c <= 2 for c in cand[1:])
    if cand <= prev:
        return False
    for level, value in enumerate(cand):
        before = prev[level] if level < len(prev) else 0
        if value != before:
            return value - before <= 3 and all(v <= 3 for v in cand[level + 1:])
    return False


def standard_units(lines: list[str]) -> list[Unit]:
    """Split a standard's body into 公告/前言/clauses/tables/附录."""
    keys = Keys()
    units: list[Unit] = []
    titles: dict[tuple[int, ...], str] = {}
    prev: tuple[int, ...] = ()
    body_started = False
    in_appendix = False
    cur: Unit | None = None

    def heading_for(num: tuple[int, ...]) -> str:
        if len(num) == 1:
            return titles.get(num, "")
        return " / ".join(titles[num[:k]] for k in range(1, len(num)) if num[:k] in titles)

    def section_path(num: tuple[int, ...]) -> str:
        """Titles of ``num`` and its ancestors: the heading of a table inside clause ``num``."""
        return " / ".join(titles[num[:k]] for k in range(1, len(num) + 1) if num[:k] in titles)

    for i, line in enumerate(lines):
        lineno = i + 1
        compact = line.replace(" ", "")
        new: Unit | None = None
        if not body_started:
            if re.match(r"^1\s*\.?\s*(主题内容与)?(适用)?范围", line):
                body_started = True
                if cur is not None and cur.lines and re.fullmatch(rf"[{CJK} ]{{4,60}}", cur.lines[-1]):
                    cur.lines.pop()  # the standard's name printed above clause 1
            elif compact.endswith("公告") and len(compact) <= 30:
                new = Unit(keys("公告"), [line], lineno, "公告")
            elif compact in ("前言", "目次"):
                new = Unit(keys(compact), [line], lineno, compact) if compact == "前言" else None
                if compact == "目次":
                    cur = None
                    continue
            elif cur is None:
                continue  # cover lines: metadata only
        if body_started:
            m_app = APPENDIX.match(line)
            m_tab = TABLE.match(line)
            m_cl = CLAUSE.match(line)
            if m_app:
                in_appendix = True
                key = f"附录{m_app.group(1)}"
                titles_text = line
                new = Unit(keys(key), [line], lineno, titles_text)
            elif m_tab and not re.match(r"^(规定|中|的|所|要求|执行|和|或)", m_tab.group(3) or ""):
                if m_tab.group(1) and cur is not None and cur.key.startswith("表"):
                    cur.lines.append(line)  # 续表N continues the open table
                    continue
                new = Unit(keys(f"表{m_tab.group(2)}"), [line], lineno, section_path(prev))
            elif line.replace(" ", "") == "续表" and cur is not None and not cur.key.startswith("表"):
                # continuation of a table whose first part was not extracted (e.g. an image page)
                new = Unit(keys("续表"), [line], lineno, section_path(prev))
            elif m_cl:
                num, rest = m_cl.group(1), m_cl.group(2)
                tup = _clause_tuple(num)
                ok = False
                if tup is None:
                    ok = in_appendix
                elif len(tup) == 1:  # a numbered table row ("11 镉及其化合物 1.0 40 …") is not clause 11
                    ok = bool(re.match(rf"^[{CJK}]", rest)) and _plausible_next(prev, tup) and not looks_tabular(line)
                    if ok and cur is not None and cur.key.startswith(("表", "续表")):
                        # inside a table only the next heading ends it: the very next number, and short or
                        # followed by its first sub-clause
                        ok = bool(prev) and tup[0] == prev[0] + 1 and (
                            len(rest) <= 15 or bool(re.search(rf"(^|\s){num}\.1", rest)))
                else:
                    ok = _plausible_next(prev, tup) and not looks_tabular(line)
                if ok:
                    if tup is not None:
                        prev = tup
                        title = re.split(r"[。；，：]", rest, maxsplit=1)[0] if rest else ""
                        if title and len(title) <= 30:
                            titles[tup] = f"{num} {title}"
                        new = Unit(keys(num), [line], lineno, heading_for(tup))
                    else:
                        new = Unit(keys(num), [line], lineno, cur.heading if cur else "")
        if new is not None:
            cur = new
            units.append(new)
        elif cur is not None:
            cur.lines.append(line)
    return units
