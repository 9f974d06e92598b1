"""``assistant corpus check``: every curated entry is complete, cites real articles in force, and is not a duplicate.

Errors (exit 1): unreadable entries, missing fields, dangling citations, citations of repealed texts, malformed
citation ids, the same question in two entries (after normalisation), answers outside the length bounds.
Warnings: near-duplicate wordings across entries, paraphrase counts outside 3–12, citations of amended texts, the
same article cited twice in one entry, entries whose cited document changed after the entry was last reviewed
(listed under ``review``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db.models import Document, Passage
from ..ingest.base import IngestError
from ..ingest.curated import CuratedEntry, parse_curated
from ..text.normalize import normalize

CITATION_RE = re.compile(r"^.+#[0-9A-Za-z.\-~]+$")
ANSWER_MIN, ANSWER_MAX = 40, 1200
#: wordings per entry: fewer match too little; many more usually means two questions share one entry
PARAPHRASES_MIN, PARAPHRASES_MAX = 3, 16
NEAR_DUP = 0.8


@dataclass
class Problem:
    code: str
    message: str
    entry: str = ""
    file: str = ""
    line: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "entry": self.entry, "file": self.file, "line": self.line, "message": self.message}


@dataclass
class CheckReport:
    entries: int = 0
    citations: int = 0
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    review: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        return {"entries": self.entries, "citations": self.citations, "ok": self.ok,
                "errors": [p.as_dict() for p in self.errors], "warnings": [p.as_dict() for p in self.warnings],
                "review": self.review}


def _bigrams(text: str) -> set[str]:
    t = re.sub(r"[^\w]", "", normalize(text))
    return {t[i : i + 2] for i in range(len(t) - 1)} or {t}


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def load_entries(folder: Path) -> tuple[list[CuratedEntry], list[IngestError]]:
    entries: list[CuratedEntry] = []
    errors: list[IngestError] = []
    for f in sorted(folder.glob("*.y*ml")):
        for item in parse_curated(f):
            if isinstance(item, IngestError):
                errors.append(item)
            else:
                item.origin = str(f)
                entries.append(item)
    return entries, errors


def check_corpus(session: Session, folder: Path) -> CheckReport:
    """Check the curated YAML files in ``folder`` against the ingested documents."""
    rep = CheckReport()
    entries, parse_errors = load_entries(folder)
    for err in parse_errors:
        rep.errors.append(Problem(err.code, err.message, file=err.path, line=err.line))
    live = [e for e in entries if e.status != "retired"]
    rep.entries = len(live)
    seen_ids: dict[str, CuratedEntry] = {}
    for e in entries:
        if e.id in seen_ids:
            rep.errors.append(Problem("duplicate_id", f"条目 id {e.id} 重复（另见 {seen_ids[e.id].origin}）", e.id,
                                      e.origin, e.line))
        seen_ids.setdefault(e.id, e)
    # citations ---------------------------------------------------------------------------------------------------
    wanted = {c for e in live for c in e.citations}
    found: dict[str, tuple[str, str, datetime | None]] = {}
    if wanted:
        rows = session.execute(select(Passage.id, Document.title, Document.status, Document.updated_at,
                                      Document.ingested_at)
                               .join(Document, Passage.document_id == Document.id)
                               .where(Passage.id.in_(list(wanted))))
        for pid, title, status, upd, first in rows:
            # only a document re-ingested with changes (updated after its first ingest) calls for re-review
            changed = upd is not None and first is not None and (upd - first).total_seconds() > 1
            found[pid] = (title, status, upd if changed else None)
    for e in live:
        where = {"entry": e.id, "file": e.origin, "line": e.line}
        if not (ANSWER_MIN <= len(e.answer) <= ANSWER_MAX):
            rep.errors.append(Problem("answer_length", f"答案长度 {len(e.answer)} 字，应在 {ANSWER_MIN}–{ANSWER_MAX} 字之间",
                                      **where))  # type: ignore[arg-type]
        if not PARAPHRASES_MIN <= len(e.paraphrases) <= PARAPHRASES_MAX:
            rep.warnings.append(Problem("paraphrase_count", f"同义问法 {len(e.paraphrases)} 条，建议 {PARAPHRASES_MIN}–{PARAPHRASES_MAX} 条",
                                        **where))  # type: ignore[arg-type]
        for c in sorted({c for c in e.citations if e.citations.count(c) > 1}):  # shown twice under 依据
            rep.warnings.append(Problem("duplicate_citation", f"同一条文引用了多次：{c}", **where))  # type: ignore[arg-type]
        for c in e.citations:
            rep.citations += 1
            if not CITATION_RE.match(c):
                rep.errors.append(Problem("bad_citation", f"引用格式应为“标题#条号”：{c}", **where))  # type: ignore[arg-type]
                continue
            hit = found.get(c)
            if hit is None:
                rep.errors.append(Problem("dangling_citation", f"引用的条文不存在于已导入的文件中：{c}",
                                          **where))  # type: ignore[arg-type]
                continue
            _title, status, updated = hit
            if status == "已废止":
                rep.errors.append(Problem("repealed_citation", f"引用了已废止的文件：{c}", **where))  # type: ignore[arg-type]
            elif status != "现行有效":
                rep.warnings.append(Problem("amended_citation", f"引用的文件状态为{status}，请核实：{c}",
                                            **where))  # type: ignore[arg-type]
            reviewed = e.reviewed
            if reviewed is not None and updated is not None and isinstance(reviewed, date) and \
                    updated.date() > reviewed:
                rep.review.append({"entry": e.id, "citation": c, "document_updated": updated.date().isoformat(),
                                   "reviewed": reviewed.isoformat()})
    # duplicates --------------------------------------------------------------------------------------------------
    wordings: list[tuple[str, str, set[str], str]] = []  # (entry, normalised, bigrams, raw)
    for e in live:
        for w in [e.question, *e.paraphrases]:
            n = re.sub(r"[^\w]", "", normalize(w))
            wordings.append((e.id, n, _bigrams(w), w))
    by_norm: dict[str, str] = {}
    for eid, n, _, raw in wordings:
        other = by_norm.get(n)
        if other is not None and other != eid:
            e = seen_ids[eid]
            rep.errors.append(Problem("duplicate_question", f"问法“{raw}”同时出现在 {other} 和 {eid}", eid, e.origin,
                                      e.line))
        by_norm.setdefault(n, eid)
    for i in range(len(wordings)):
        for j in range(i + 1, len(wordings)):
            a, b = wordings[i], wordings[j]
            if a[0] != b[0] and a[1] != b[1] and _jaccard(a[2], b[2]) >= NEAR_DUP:
                rep.warnings.append(Problem("near_duplicate", f"问法相近：{a[0]}“{a[3]}” ~ {b[0]}“{b[3]}”", a[0]))
    return rep
