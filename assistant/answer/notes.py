"""What the corpus says about a cited passage beyond its text: the latest recorded change (政策速递: 本条已修订) and,
for a standard, when it was issued and took effect, and whether its text was read from a scan. Read once per loaded index (both change only when documents
are ingested, which is followed by an index build), never per answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db.models import Document, PolicyChange

if TYPE_CHECKING:
    from .compose import Citation


@dataclass(frozen=True)
class CorpusNotes:
    #: passage id → its latest change {"kind", "label", "url", "recorded"}
    revised: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: standard title → "1996-10-04 发布，1998-01-01 实施"
    dates: dict[str, str] = field(default_factory=dict)
    #: documents whose text was read from a scan by OCR (their numbers may be misread) → the engine's mean confidence
    scanned: dict[str, float] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session) -> CorpusNotes:
        revised: dict[str, dict[str, Any]] = {}
        for cid, kind, label, touched, old_title, created in session.execute(
                select(PolicyChange.id, PolicyChange.kind, PolicyChange.new_label, PolicyChange.touched,
                       PolicyChange.old_title, PolicyChange.created_at).order_by(PolicyChange.id)):
            for t in touched or []:
                if kind == "替代" and not t.startswith(old_title + "#"):
                    continue  # a new law's own articles were not revised: only the replaced law's are marked
                revised[t] = {"kind": kind, "label": label, "url": f"/updates/{cid}",
                              "recorded": created.date().isoformat() if created else ""}
        dates = {}
        scanned: dict[str, float] = {}
        for title, issued, effective, extra in session.execute(
                select(Document.title, Document.promulgated, Document.effective, Document.extra)
                .where(Document.kind == "标准")):
            dates[title] = "，".join(x for x in (f"{issued.isoformat()} 发布" if issued else "",
                                                f"{effective.isoformat()} 实施" if effective else "") if x)
            if ocr := (extra or {}).get("ocr"):
                scanned[title] = float(ocr.get("confidence") or 0.0) if isinstance(ocr, dict) else 0.0
        return cls(revised, dates, scanned)

    def mark(self, cards: list[Citation]) -> None:
        """Set ``revised`` on every passage of the cards, ``dates`` and ``ocr`` on standards' cards."""
        for card in cards:
            card.dates = self.dates.get(card.title, "") if card.kind == "标准" else ""
            card.ocr = card.title in self.scanned
            card.ocr_confidence = self.scanned.get(card.title)
            for p in card.passages:
                p.revised = self.revised.get(p.id)
