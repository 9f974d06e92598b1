"""Turning stored documents and curated answers into searchable :class:`Item` rows."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ..db.models import CuratedAnswer, Document
from ..ingest.base import ParsedDocument
from .index import Item

#: cities of Zhejiang whose own regulations do not bind enterprises in Zhoushan
OTHER_CITIES = ("杭州市", "宁波市", "温州市", "嘉兴市", "湖州市", "绍兴市", "金华市", "衢州市", "台州市", "丽水市")
HOME_REGIONS = ("", "浙江省", "舟山市")


def region_of(title: str) -> str:
    """The region a document binds: "" for national texts, else the province or city named by its title."""
    for r in ("浙江省", "舟山市", *OTHER_CITIES):
        if title.startswith(r):
            return r
    return ""


REGULATION_KINDS = ("法律", "行政法规", "部门规章", "地方性法规", "司法解释", "规范性文件", "标准", "名录")


def passage_item(title: str, kind: str, status: str, pid: str, text: str, article: int | None,
                 heading: str) -> Item:
    return Item(id=pid, title=title, text=text, kind=kind, status=status, article=article, heading=heading,
                target=pid, region=region_of(title))


def items_from_parsed(docs: Iterable[ParsedDocument]) -> list[Item]:
    """Items straight from parsed files (same rows the database yields)."""
    out = []
    for d in docs:
        for p in d.passages:
            out.append(passage_item(d.title, d.kind, d.status, d.passage_id(p), p.text, p.article, p.heading))
    return out


def passage_items(session: Session, kinds: Iterable[str] | None = None) -> list[Item]:
    """Every stored passage (optionally of some document kinds), in a stable order."""
    q = select(Document).options(selectinload(Document.passages)).order_by(Document.id)
    if kinds is not None:
        q = q.where(Document.kind.in_(list(kinds)))
    out = []
    for d in session.scalars(q):
        for p in d.passages:
            out.append(passage_item(d.title, d.kind, d.status, p.id, p.text, p.article, p.heading))
    return out


def regulation_items(session: Session) -> list[Item]:
    """The regulation corpus of the evaluation protocol: ingested laws, 条例, 规章, local rules and interpretations
    (``data/laws`` + ``data/zhejiang``), without standards, catalogues or replies."""
    return passage_items(session, [k for k in REGULATION_KINDS if k not in ("标准", "名录")])


_TAG = re.compile(r"<[^>]+>")
_BLOCK_END = re.compile(r"</(p|li)>|<br\s*/?>", re.I)
_SENTENCE_END = re.compile(r"(?<=[。；;！？!?\n])")
#: answer sentences shorter than this say too little to match on
MIN_SENTENCE_CHARS = 6


def answer_plain(stored: str) -> str:
    """A curated answer's stored markup as plain text (block ends become line breaks)."""
    return html.unescape(_TAG.sub("", _BLOCK_END.sub("\n", stored))).strip()


def curated_rows(entry: CuratedAnswer) -> list[Item]:
    """The rows of one curated entry, all targeting the entry:

    * one per wording (the question and each paraphrase): ``meta.role = "wording"``, with the entry's citations;
    * the answer as a whole (``"answer"``) and each of its sentences (``"answer_sentence"``): the entry ranker
      reads them (does the question match what the answer says?); they are never shown as matched questions.
    """
    wordings = [entry.question, *[p for p in (entry.paraphrases or []) if p]]
    cites = list(entry.citations or [])
    kind = entry.kind or "curated"
    rows = []
    for i, w in enumerate(wordings):
        rows.append(Item(id=f"{entry.id}~{i}", title="", text=w, kind=kind, status=entry.status,
                         heading=entry.category, target=entry.id, meta={"role": "wording", "citations": cites}))
    answer = answer_plain(entry.answer or "")
    if answer:
        rows.append(Item(id=f"{entry.id}~a", title="", text=answer, kind=kind, status=entry.status,
                         heading=entry.category, target=entry.id, meta={"role": "answer"}))
        sents = [s.strip() for s in _SENTENCE_END.split(answer)]
        for k, sent in enumerate(s for s in sents if len(s) >= MIN_SENTENCE_CHARS):
            rows.append(Item(id=f"{entry.id}~a{k}", title="", text=sent, kind=kind, status=entry.status,
                             heading=entry.category, target=entry.id, meta={"role": "answer_sentence"}))
    return rows


def is_wording(item: Item) -> bool:
    """A curated row that is a question wording (not part of the answer)."""
    return item.meta.get("role", "wording") == "wording"


def wording_rows(items: Iterable[Item]) -> list[Item]:
    """The question wordings among curated rows."""
    return [it for it in items if is_wording(it)]


def curated_items(session: Session) -> list[Item]:
    """Rows for every published curated answer."""
    q = select(CuratedAnswer).where(CuratedAnswer.status == "published").order_by(CuratedAnswer.id)
    out: list[Item] = []
    for e in session.scalars(q):
        out.extend(curated_rows(e))
    return out


def regulation_files(shared_data: Path) -> list[Path]:
    return [shared_data / "laws", shared_data / "zhejiang"]
