"""``assistant ingest PATH…``: parse every supported file under the paths and store it, idempotently.

Unchanged documents (same fingerprint) are skipped; changed ones keep their previous text as a version and have
their passages replaced, the article diff recorded for 政策速递 (:mod:`.versions`); a bad file is reported (file and
line) and the rest goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db.models import CuratedAnswer, Document, Passage
from ..text.markup import sanitize
from . import versions
from .base import IngestError, NoTextLayer, ParsedDocument
from .curated import CuratedEntry, parse_curated
from .markdown import parse_markdown
from .pdf.ocr import OcrReader
from .replies import parse_mailbox

log = logging.getLogger(__name__)
SKIP_NAMES = {"README.md", "SOURCES.tsv", "INDEX.tsv", "GB_index.md", "HJ_index.md"}


@dataclass
class IngestReport:
    """What an ingest run did."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    passages: int = 0
    curated_added: int = 0
    curated_updated: int = 0
    curated_unchanged: int = 0
    errors: list[IngestError] = field(default_factory=list)
    #: documents whose status changed (e.g. now 已废止): curated entries citing them need re-review
    status_changed: list[str] = field(default_factory=list)
    #: one document from two files of the same standard: which file was used and why
    choices: list[dict[str, str]] = field(default_factory=list)
    #: scans read by OCR: {"engine", "documents", "pages_read" (by the engine), "pages_cached"}
    ocr: dict[str, object] = field(default_factory=dict)
    ocr_documents: list[str] = field(default_factory=list)
    #: 政策速递: one row per changed document (kind, from/to version, article counts)
    changes: list[dict[str, object]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.curated_added or self.curated_updated)

    def as_dict(self) -> dict[str, object]:
        return {
            "documents": {"added": self.added, "updated": self.updated, "unchanged": self.unchanged},
            "passages_written": self.passages,
            "curated": {"added": self.curated_added, "updated": self.curated_updated,
                        "unchanged": self.curated_unchanged},
            "status_changed": self.status_changed,
            "choices": self.choices,
            "changes": self.changes,
            "ocr": {**self.ocr, "documents": self.ocr_documents} if self.ocr else {},
            "errors": [{"code": e.code, "file": e.path, "line": e.line, "message": e.message} for e in self.errors],
        }


def iter_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Supported files under ``paths`` (directories walked in sorted order)."""
    for p in paths:
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if f.is_file() and f.name not in SKIP_NAMES and f.suffix.lower() in (".md", ".pdf", ".jsonl",
                                                                                       ".yaml", ".yml"):
                    yield f
        else:
            yield p


def parse_file(path: Path, ocr: OcrReader | None = None) -> Iterator[ParsedDocument | CuratedEntry | IngestError]:
    """Dispatch on the file type; errors are yielded, never raised. ``ocr`` reads PDF pages without text."""
    suffix = path.suffix.lower()
    try:
        if not path.exists():
            yield IngestError(str(path), "文件不存在")
        elif suffix == ".md":
            yield parse_markdown(path)
        elif suffix == ".pdf":
            from .pdf import parse_pdf

            yield parse_pdf(path, ocr)
        elif suffix == ".jsonl":
            yield from parse_mailbox(path)
        elif suffix in (".yaml", ".yml"):
            yield from parse_curated(path)
        else:
            yield IngestError(str(path), f"不支持的文件类型：{suffix or '(无扩展名)'}")
    except IngestError as exc:
        yield exc
    except Exception as exc:  # a parser bug must not stop the other files
        log.exception("ingest failed for %s", path)
        yield IngestError(str(path), f"解析失败：{type(exc).__name__}: {exc}")


def store_document(session: Session, parsed: ParsedDocument, report: IngestReport) -> Document:
    """Insert or update one document and its passages (no-op when the fingerprint is unchanged)."""
    fp = parsed.fingerprint()
    doc = session.scalar(select(Document).where(Document.title == parsed.title))
    previous = None
    if doc is not None and doc.fingerprint == fp:
        report.unchanged += 1
        return doc
    if doc is None:
        doc = Document(title=parsed.title)
        session.add(doc)
        report.added += 1
    else:
        if doc.status != parsed.status:
            report.status_changed.append(parsed.title)
        report.updated += 1
        previous = versions.snapshot(session, doc)  # versions, not replacement: the old text stays readable
        doc.passages.clear()
        session.flush()
    for name in ("kind", "issuer", "doc_number", "promulgated", "effective", "status", "revision_note",
                 "source_path"):
        setattr(doc, name, getattr(parsed, name))
    doc.fingerprint = fp
    doc.extra = {k: v for k, v in parsed.extra.items()}
    for i, p in enumerate(parsed.passages):
        doc.passages.append(Passage(id=parsed.passage_id(p), key=p.key, ordinal=i, article=p.article,
                                    heading=p.heading, text=p.text, line=p.line))
    report.passages += len(parsed.passages)
    session.flush()
    if previous is not None:
        change = versions.record_change(session, doc, previous, versions.passages_of(doc), versions.version_label(
            parsed.extra.get("last_revised"), parsed.effective, parsed.promulgated))
        if change is not None:
            report.changes.append({"document": doc.title, "kind": change.kind, "from": change.old_label,
                                   "to": change.new_label, **change.counts})
    return doc


def store_curated(session: Session, entry: CuratedEntry, report: IngestReport) -> CuratedAnswer:
    """Insert or update one curated entry; bumps its version when the content changed."""
    fp = entry.fingerprint()
    row = session.get(CuratedAnswer, entry.id)
    if row is not None and row.fingerprint == fp:
        report.curated_unchanged += 1
        return row
    if row is None:
        row = CuratedAnswer(id=entry.id, version=1)
        session.add(row)
        report.curated_added += 1
    else:
        row.version = (row.version or 1) + 1
        report.curated_updated += 1
    for name in ("question", "category", "lead_unit", "audience", "reviewed", "status", "kind", "origin"):
        setattr(row, name, getattr(entry, name))
    row.paraphrases = list(entry.paraphrases)
    row.answer = sanitize(entry.answer)  # stored answers are always safe markup
    row.citations = list(entry.citations)
    row.fingerprint = fp
    session.flush()
    return row


def ingest_paths(session: Session, paths: Iterable[Path], progress: bool = False,
                 ocr: OcrReader | None = None) -> IngestReport:
    """Ingest every supported file under ``paths``; commits per file so one bad file loses nothing else.
    ``ocr``: read scanned PDFs (else they are reported as ``no_text_layer``)."""
    report = IngestReport()
    files = list(iter_files(paths))
    it: Iterable[Path] = files
    if progress:
        from tqdm import tqdm

        it = tqdm(files, desc="ingest", unit="file")
    seen_ids: dict[str, str] = {}  # curated id -> "file:line" where this run first saw it
    stored: list[int] = []  # documents added or changed by this run
    stems = {(f.parent, f.stem) for f in files if f.suffix.lower() == ".md"}
    pages_before = ocr.pages_read if ocr is not None else 0
    for path in it:
        if path.suffix.lower() == ".pdf" and (path.parent, path.stem) in stems:
            # a standard both scanned (or typeset) and transcribed: one document, from the transcription, which
            # was checked against the pages — an OCR or a text layer is never better than that
            report.choices.append({"document": path.stem, "used": path.with_suffix(".md").name, "over": path.name,
                                   "why": "全文转录稿（已逐页核对）优先于 PDF"})
            continue
        for item in parse_file(path, ocr):
            if isinstance(item, NoTextLayer):
                report.errors.append(item)
            elif isinstance(item, IngestError):
                report.errors.append(item)
            elif isinstance(item, CuratedEntry):
                if item.id in seen_ids:
                    report.errors.append(IngestError(str(path), f"条目 id 重复：{item.id}（已见于 {seen_ids[item.id]}）",
                                                     line=item.line))
                    continue
                seen_ids[item.id] = f"{path}:{item.line}"
                store_curated(session, item, report)
            else:
                if "ocr" in item.extra:
                    report.ocr_documents.append(item.title)
                before = (report.added, report.updated)
                doc = store_document(session, item, report)
                if (report.added, report.updated) != before:
                    stored.append(doc.id)
        session.commit()
    for change in versions.link_replacements(session, stored):  # "《X》同时废止": X's text becomes a version
        report.changes.append({"document": change.title, "kind": change.kind, "from": change.old_label,
                               "to": change.new_label, "replaces": change.old_title, **change.counts})
        report.status_changed.append(change.old_title)
    session.commit()
    if ocr is not None:
        read = ocr.pages_read - pages_before
        report.ocr.update({"engine": ocr.engine.id, "pages_read": read, "pages_cached": ocr.pages_total - read})
    return report
