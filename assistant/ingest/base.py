"""Shared data shapes produced by every ingester (one module per source format)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date


class IngestError(Exception):
    """A source file could not be ingested; names the file and, where known, the line."""

    code = "ingest_error"

    def __init__(self, path: str, message: str, line: int | None = None) -> None:
        self.path = path
        self.line = line
        self.message = message
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {message}")


class NoTextLayer(IngestError):
    """A PDF whose pages carry no extractable text (a scan): reported, never indexed empty."""

    code = "no_text_layer"


#: Document kinds, as stored and shown.
DOC_KINDS = (
    "法律", "行政法规", "部门规章", "地方性法规", "司法解释", "规范性文件",
    "标准", "名录", "官方答复", "咨询日答复", "curated",
)
#: Document status values.
STATUSES = ("现行有效", "已修改", "已废止")


@dataclass(frozen=True)
class ParsedPassage:
    """One retrievable unit: an article (第X条) of a regulation, a clause/row of a standard, a reply.

    ``key`` is unique within the document: the article number as a string for regulations
    (so the passage id is ``<title>#<n>``), or another stable key (``p3``, ``4.1`` …).
    """

    key: str
    text: str
    article: int | None = None
    heading: str = ""  # 章/节 path, e.g. "第三章 防治污染 / 第一节 一般规定"
    line: int | None = None  # 1-based line in the source where the passage starts


@dataclass
class ParsedDocument:
    """A source document split into passages, with its metadata."""

    title: str
    kind: str
    source_path: str
    passages: list[ParsedPassage] = field(default_factory=list)
    issuer: str = ""
    doc_number: str = ""
    promulgated: date | None = None
    effective: date | None = None
    status: str = "现行有效"
    revision_note: str = ""
    extra: dict[str, object] = field(default_factory=dict)

    def passage_id(self, p: ParsedPassage) -> str:
        """Stable, human-readable passage id: ``<title>#<key>``."""
        return f"{self.title}#{p.key}"

    def fingerprint(self) -> str:
        """Hash of everything that matters for the index: re-ingesting unchanged text is a no-op."""
        h = hashlib.sha256()
        for part in (self.title, self.kind, self.status, self.revision_note):
            h.update(part.encode("utf-8") + b"\0")
        for p in self.passages:
            h.update(f"{p.key}\0{p.heading}\0{p.text}\0".encode())
        return h.hexdigest()
