"""Where a cited passage sits in its document, said the way people cite it, and how a ministry reply is named.

A passage id is ``<document title>#<key>`` (:meth:`assistant.ingest.base.ParsedDocument.passage_id`). The key says
where the passage is: the article number of a regulation (``#14``, with ``article`` set), a standard's clause
(``#5.2.1``), table (``#表1``), appendix (``#附录A``) or 前言, a catalogue row (``#row-900-041-49`` by its waste code,
``#row-12`` by its 序号), a split piece of one of those (``#5.2.1-2``, ``#表1~2``), or only a running number
(``#p12``) where the source had no numbering the ingester could read (the Markdown standards): then the passage's
own first line, or the last numbered line before it in the document, tells the clause or table.

Ministry mailbox letters (kind 官方答复) are documents titled ``部长信箱·<topic>（<record id>）``: shown as
``部长信箱答复：<topic>``, without the record id.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from ..ingest.limits import ROW_SEP
from ..ingest.replies import MAILBOX_PREFIX, split_record
from ..text.numerals import int_to_cn
from ..text.tokenize import Tokenizer

#: the document kind of the ministry mailbox replies
REPLY_KIND = "官方答复"
#: the sections a citation belongs to (API field ``section``): regulation texts, or ministry replies
REGULATION, REPLY = "regulation", "reply"
#: kinds whose passages are located by clause / table / row
_NUMBERED_KINDS = ("标准", "名录")

_SUFFIX = r"(?:~\d+)?(?:-\d+)?"  # a duplicate key (~2) and a piece of a split passage (-2)
_WASTE_ROW = re.compile(r"^row-(\d{3}-\d{3}-\d{2})" + _SUFFIX + "$")
_NUMBER_ROW = re.compile(r"^row-(\d{1,4})" + _SUFFIX + "$")
_CLAUSE = re.compile(r"^((?:\d+|[A-Z])(?:\.\d+)+)" + _SUFFIX + "$")
_CHAPTER = re.compile(r"^(\d{1,2})" + _SUFFIX + "$")
_TABLE = re.compile(r"^(续?表)\s*([A-Z]?\d+(?:\.\d+)*)?" + _SUFFIX + "$")
_TABLE_ROW = re.compile(rf"^(续?表)\s*([A-Z]?\d+(?:\.\d+)*){re.escape(ROW_SEP)}(\d+)" + _SUFFIX + "$")  # ingest/limits.py
_APPENDIX = re.compile(r"^附录\s*([A-Z])" + _SUFFIX + "$")
_FRONT = re.compile(r"^(前言|公告)" + _SUFFIX + "$")

# numbered lines inside a passage's text (the Markdown standards, whose keys are running numbers)
_LINE_CLAUSE = re.compile(r"^((?:\d+|[A-Z])(?:\.\d+)+)(?=\s|[\u4e00-\u9fff])")
_LINE_CHAPTER = re.compile(r"^(\d{1,2})\s+[\u4e00-\u9fff]")
_LINE_TABLE = re.compile(r"^(续?表)\s*([A-Z]?\d+(?:\.\d+)*)(?=\s|[\u4e00-\u9fff]|$)")
_LINE_APPENDIX = re.compile(r"^附录\s*([A-Z])(?=\s|[\u4e00-\u9fff（(]|$)")

_RECORD_ID = re.compile(r"\s*[（(][A-Za-z][A-Za-z0-9_]*-\d+[）)]\s*$")
_MAILBOX = re.compile(rf"^{MAILBOX_PREFIX}\s*[·・:：]\s*")


def passage_key(pid: str) -> str:
    """The key part of a passage id (``""`` when the id has none)."""
    return pid.rpartition("#")[2] if "#" in pid else ""


def is_reply(kind: str) -> bool:
    return kind == REPLY_KIND


#: a line break inside a run of Chinese text: where the catalogue's PDF wrapped a line ("通\n用工序", "养\n殖小区")
_WRAP = re.compile(r"(?<=[\u4e00-\u9fff，、（）])\n(?=[\u4e00-\u9fff，、（）])")
_TABLE_HEAD = re.compile(r"^［表头：[^\n]*］$")
_ARTICLE_HEAD = re.compile(r"^第[一二三四五六七八九十百零〇]+条[\s　]*")
#: a hazardous-waste row's description: from its code to the first Latin letter (its hazard column, T/C/I/R/In) —
#: one cell, so a space between two Chinese characters in it is the PDF's line wrap ("产生的 废水处理污泥")
_WASTE_DESC = re.compile(r"(?<=\d{3}-\d{3}-\d{2})[^A-Za-z]+")
_CJK_SPACE = re.compile(r"(?<=[^\x00-\x7f])[ \t]+(?=[^\x00-\x7f])")
#: the next category's cell read into a hazardous-waste row's passage: its code on a line of its own and the lines
#: after it ("…的重馏分 T / HW11 / 精（蒸） / 馏残渣 / 基础化学原料 / 制造"), or its code after the row's hazard column
#: ("…粉尘 T HW27含锑废物基础化学原料")
_NEXT_CATEGORY = re.compile(r"(?:\nHW\d{2}[ \t]*(?:\n[\s\S]*)?|(?<=[TCIR])[ \t]+HW\d{2}[^\n]*)$")
#: the hazard column at the end of a hazardous-waste row, run into the description ("…过滤吸附介质等T/C/I/R"); the
#: catalogue separates several hazards with "/" or with a comma ("…混合/调和溶剂T，I，R", "废变压器油 T，I")
#: What follows it on the row's last line is the next row's 行业来源 cell ("…废吸附剂 T化学药品原料药制造", "…T 木材加工") or
#: the page number: not this row's, dropped.
_HAZARD = re.compile(r"(?<=[\u4e00-\u9fff）])[ \t]*((?:In|T|C|I|R)(?:[ \t]*[/，,、][ \t]*(?:In|T|C|I|R))*)"
                     r"(?:[ \t]*[\u4e00-\u9fff][\u4e00-\u9fff（）、 \t]*)?(?:\n\d{1,3})?$")


def shown_text(kind: str, text: str) -> str:
    """The part of a passage a citation quotes: a mailbox record's reply (答复：…), never the letter it answers —
    the asker's words shown under 部长信箱答复 would read as the ministry's. A catalogue's passage (read from its PDF)
    without the lines kept for the search — the table's header, the document's title again in the path (the card
    names both) — and with the PDF's wrapped lines and wrapped words joined. Any other passage whole."""
    record = split_record(text) if is_reply(kind) else None
    if record is not None:
        return record[1].strip()
    if kind != "名录":
        return text
    lines = [ln for ln in text.split("\n") if not _TABLE_HEAD.match(ln.strip())]
    head: list[str] = []
    if lines and " › " in lines[0]:  # "<title> › HW49 其他废物 › <title, short>": only what the title does not say
        parts = [p.strip() for p in lines[0].split(" › ")]
        kept = [p for p in parts[1:] if p and not parts[0].startswith(p)]
        head, lines = ([" › ".join(kept)] if kept else []), lines[1:]  # a line of its own, never joined as a wrap
    text = _NEXT_CATEGORY.sub("", "\n".join(lines))
    text = _WASTE_DESC.sub(lambda m: _CJK_SPACE.sub("", m.group(0)), _WRAP.sub("", text))
    text = Tokenizer.default().join_wrapped(text)
    text = _HAZARD.sub(r"（危险特性：\1）", text)
    return "\n".join([*head, _ARTICLE_HEAD.sub("", text)])  # "第二条 国家根据…": the card already says 第二条


def section_of(kind: str) -> str:
    return REPLY if is_reply(kind) else REGULATION


def reply_topic(title: str) -> str:
    """``部长信箱·关于…的回复（mee-141）`` → ``关于…的回复`` (idempotent)."""
    return _RECORD_ID.sub("", _MAILBOX.sub("", title.strip())).strip() or title.strip()


def article_label(article: int | None) -> str:
    return f"第{int_to_cn(article)}条" if article else ""


def key_label(key: str) -> str:
    """The place a passage key names (``""`` for a running number, which names none)."""
    key = key.strip()
    if m := _WASTE_ROW.match(key):
        return f"废物代码{m.group(1)}"
    if m := _NUMBER_ROW.match(key):
        return f"第{int(m.group(1))}项"
    if m := _CLAUSE.match(key):
        return m.group(1)
    if m := _CHAPTER.match(key):
        return f"第{int(m.group(1))}章"
    if m := _TABLE_ROW.match(key):
        return f"{m.group(1)}{m.group(2)} 第{int(m.group(3))}行"
    if m := _TABLE.match(key):
        return m.group(1) + (m.group(2) or "")
    if m := _APPENDIX.match(key):
        return f"附录{m.group(1)}"
    if m := _FRONT.match(key):
        return m.group(1)
    return ""


def _line_label(line: str) -> str:
    line = line.strip().lstrip("#").strip()
    if m := _LINE_TABLE.match(line):
        return m.group(1) + m.group(2)
    if m := _LINE_APPENDIX.match(line):
        return f"附录{m.group(1)}"
    if m := _LINE_CLAUSE.match(line):
        return m.group(1)
    if m := _LINE_CHAPTER.match(line):
        return f"第{int(m.group(1))}章"
    return ""


def text_label(text: str, before: Iterable[str] = ()) -> str:
    """The clause or table a passage without a numbered key belongs to: its first line when that is numbered, else
    the last numbered line of the text before it (``before``: the preceding passages of the same document, nearest
    first) — a table's last caption for a passage of table rows, the last clause for a clause's continuation."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if lines and (own := _line_label(lines[0])):
        return own
    table_rows = bool(lines) and lines[0].lstrip().startswith("|")
    for prev in before:
        for line in reversed(prev.splitlines()):
            if found := _line_label(line):
                # rows under a clause heading, not under a table caption: a table without a number
                return "" if table_rows and not found.startswith(("表", "续表")) else found
    return ""


def part_label(kind: str, pid: str, article: int | None, text: str = "", before: Iterable[str] = ()) -> str:
    """Where the passage ``pid`` sits in its document: 第十四条, 5.2.1, 表1, 废物代码900-041-49, 第12项 … or ``""``."""
    if article:
        return article_label(article)
    if is_reply(kind):
        return ""
    found = key_label(passage_key(pid))
    if not found and kind in _NUMBERED_KINDS and text:
        found = text_label(text, before)
    return found


#: more waste rows of one category than an answer cites otherwise (five passages): a category's card
MANY_ROWS = 5
#: a waste row's place on a card ("废物代码900-041-49"), its category's number last
_WASTE_PLACE = re.compile(r"^废物代码[0-9]{3}-[0-9]{3}-([0-9]{2})$")


def places_label(places: list[str]) -> str:
    """A card's places, joined ("第十四条、第十五条"); the rows of one hazardous-waste category listed together (a
    category asked for, "HW08包括哪些废物") as that category: "HW08类32个废物代码", not 32 codes in a title. (An answer
    cites at most five passages otherwise: more than :data:`MANY_ROWS` rows of one category is a category's card.)"""
    places = list(dict.fromkeys(p for p in places if p))
    cats = {m.group(1) if (m := _WASTE_PLACE.match(p)) else "" for p in places}
    if len(places) > MANY_ROWS and len(cats) == 1 and "" not in cats:
        return f"HW{cats.pop()}类{len(places)}个废物代码"
    return "、".join(places)


def limit_row(pid: str, text: str) -> dict[str, Any] | None:
    """A limit-table row passage (``…#表4·14``, ingest/limits.py) as a small table for the card: the caption, the unit
    and the (column, value) cells; None for any other passage."""
    m = _TABLE_ROW.match(passage_key(pid))
    if m is None:
        return None
    head, *rest = text.split("｜")
    unit = ""
    cells: list[list[str]] = []
    for part in rest:
        name, sep, value = part.partition("：")
        if sep and name == "单位":
            unit = value
        elif sep:
            cells.append([name, value])
        else:
            cells.append(["", part])
    return {"table": f"{m.group(1)}{m.group(2)}", "caption": head, "unit": unit, "cells": cells}
