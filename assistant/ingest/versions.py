"""Versions, not replacement: before a changed document's passages are replaced, its current text is kept as a
:class:`DocumentVersion` and the change is recorded as a :class:`PolicyChange` with its article diff (政策速递).

A version is addressed by its date label (``<title>@<label>#<n>``): the last revision date the text names, else the
effective or promulgation date, else the day it was ingested. Kinds of change: 修订 (a new text with a new date),
文本更正 (the same dated text corrected), 废止 (status now 已废止, text unchanged), 替代 (a new document replaces an
older one, e.g. 噪声污染防治法 → 环境噪声污染防治法; recorded by :func:`record_replacement`).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db.models import CuratedAnswer, Document, DocumentVersion, PolicyChange
from ..text.diff import Article, ArticleChange, match_articles, summarize
from .pdf.tables import ROW_SEP

#: the separator of a version label in a passage address: ``<title>@<label>#<n>``
VERSION_SEP = "@"


def version_label(last_revised: object, effective: date | None, promulgated: date | None,
                  fallback: date | None = None) -> str:
    for d in (last_revised, effective, promulgated, fallback):
        if d:
            return d.isoformat() if isinstance(d, date) else str(d)[:10]
    return ""


def document_label(doc: Document) -> str:
    extra = doc.extra or {}
    return version_label(extra.get("last_revised"), doc.effective, doc.promulgated,
                         doc.ingested_at.date() if doc.ingested_at else None)


def passages_of(doc: Document) -> list[dict[str, Any]]:
    return [{"key": p.key, "article": p.article, "heading": p.heading, "text": p.text} for p in doc.passages]


def diff_rows(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[ArticleChange]:
    """Article diff of two passage lists (regulation articles only when both have them, else every passage but a
    limit table's row passages, which repeat their table: reading rows from a table is not a change of the text)."""
    def arts(rows: list[dict[str, Any]]) -> list[Article]:
        numbered = [r for r in rows if r.get("article") is not None]
        use = numbered if numbered else [r for r in rows if ROW_SEP not in str(r["key"])]
        return [Article(str(r["key"]), str(r["text"])) for r in use]

    return match_articles(arts(old), arts(new))


def _unique_label(session: Session, doc_id: int, label: str) -> str:
    taken = set(session.scalars(select(DocumentVersion.label).where(DocumentVersion.document_id == doc_id)))
    if label not in taken:
        return label
    n = 2
    while f"{label}.{n}" in taken:
        n += 1
    return f"{label}.{n}"


def snapshot(session: Session, doc: Document, title: str | None = None) -> DocumentVersion:
    """Keep ``doc``'s current text as a version (before it is replaced)."""
    v = DocumentVersion(document_id=doc.id, title=title or doc.title,
                        label=_unique_label(session, doc.id, document_label(doc) or "旧版"),
                        status=doc.status, kind=doc.kind, effective=doc.effective, promulgated=doc.promulgated,
                        revision_note=doc.revision_note, fingerprint=doc.fingerprint, passages=passages_of(doc))
    session.add(v)
    session.flush()
    return v


def topics_of(session: Session, passage_ids: set[str], titles: set[str] | None = None) -> list[str]:
    """A change's topics (for subscribers): the curated categories whose entries cite any of ``passage_ids``; when
    none does, the categories of the entries citing any article of the documents ``titles``."""
    rows = [(cat, set(cites or [])) for cat, cites in session.execute(select(CuratedAnswer.category,
                                                                             CuratedAnswer.citations)) if cat]
    cats = {cat for cat, cites in rows if cites & passage_ids}
    if not cats and titles:
        cats = {cat for cat, cites in rows if any(c.split("#", 1)[0] in titles for c in cites)}
    return sorted(cats)


def record_change(session: Session, doc: Document, version: DocumentVersion, new_passages: list[dict[str, Any]],
                  new_label: str, kind: str | None = None) -> PolicyChange | None:
    """The change from ``version`` to the document's new text (``new_passages``) under ``doc.title``; None (and the
    version dropped) when no article text, number or status changed — a re-parse that only moved headings or
    metadata is not news for 政策速递."""
    changes = diff_rows(version.passages, new_passages)
    counts = summarize(changes)
    if kind is None and version.status == doc.status and not any(counts[k] for k in ("added", "removed", "changed",
                                                                                    "renumbered")):
        session.delete(version)
        session.flush()
        return None
    if kind is None:
        if doc.status == "已废止" and version.status != "已废止":
            kind = "废止"
        elif new_label and new_label != version.label.split(".")[0]:
            kind = "修订"
        else:
            kind = "文本更正"
    touched_new = {f"{doc.title}#{c.new}" for c in changes if c.new is not None and (c.op != "unchanged"
                                                                                     or c.renumbered)}
    removed_old = {f"{version.title}#{c.old}" for c in changes if c.op == "removed" or c.renumbered
                   or c.op == "changed"}
    if kind == "废止":
        touched_new |= {f"{doc.title}#{p['key']}" for p in new_passages}
    pc = PolicyChange(document_id=doc.id, version_id=version.id, kind=kind, title=doc.title,
                      old_title=version.title, old_label=version.label, new_label=new_label,
                      counts=counts, diff=[c.as_dict() for c in changes],
                      touched=sorted(touched_new | removed_old), topics=topics_of(session, touched_new | removed_old, {doc.title, version.title}))
    session.add(pc)
    session.flush()
    return pc


def record_replacement(session: Session, old: Document, new: Document) -> PolicyChange:
    """``new`` replaces ``old`` (a new law under a new title): the old text becomes a version of the new document
    and the change is recorded as 替代 (the old document stays readable as it is, marked 已废止 by its source)."""
    existing = session.scalar(select(PolicyChange).where(PolicyChange.document_id == new.id,
                                                         PolicyChange.old_title == old.title,
                                                         PolicyChange.kind == "替代"))
    if existing is not None:
        return existing
    v = snapshot(session, old)
    v.document_id = new.id
    session.flush()
    change = record_change(session, new, v, passages_of(new), document_label(new), kind="替代")
    assert change is not None  # a given kind is always recorded
    return change


#: "《浙江省水资源管理条例》同时废止" in a new regulation's last article: the regulation it replaces
_REPEALS = re.compile(r"《([^《》]{2,80})》同时废止")


def _find_document(session: Session, name: str) -> Document | None:
    for title in dict.fromkeys((name, "中华人民共和国" + name, name.removeprefix("中华人民共和国"))):
        doc = session.scalar(select(Document).where(Document.title == title))
        if doc is not None:
            return doc
    return None


def link_replacements(session: Session, doc_ids: list[int]) -> list[PolicyChange]:
    """A stored regulation that says another one "同时废止" replaces it: the older text becomes a version of the new
    document (替代, with the article diff) and is marked 已废止 (when the new one is in force). Idempotent."""
    out = []
    for did in doc_ids:
        new = session.get(Document, did)
        if new is None:
            continue
        for p in new.passages:
            for name in _REPEALS.findall(p.text):
                old = _find_document(session, name)
                if old is None or old.id == new.id:
                    continue
                if document_label(old) and document_label(new) and document_label(old) >= document_label(new):
                    continue  # only an older text is replaced
                done = session.scalar(select(PolicyChange.id).where(PolicyChange.document_id == new.id,
                                                                    PolicyChange.old_title == old.title,
                                                                    PolicyChange.kind == "替代"))
                if done is not None:
                    continue
                change = record_replacement(session, old, new)
                if new.status == "现行有效" and old.status != "已废止":
                    old.status = "已废止"
                out.append(change)
    session.flush()
    return out
