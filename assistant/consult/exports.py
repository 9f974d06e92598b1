"""Exports of a consultation day: the agenda, the day's record and the 跟踪问效 results, as DOCX (python-docx) or
XLSX (openpyxl); :func:`export` picks the writer.

* **DOCX** (the bureau's document habits: A4, 仿宋_GB2312 body text, 黑体 headings): :mod:`assistant.consult.export_docx`.
* **XLSX** (one frozen header row, widths set, long texts wrapped, Beijing times): :mod:`assistant.consult.export_xlsx`.
* What both share — titles and the day's facts, masked phone numbers (``138****1234``: the record is printed and
  handed around), text safe for XML and never a formula: :mod:`assistant.consult.export_common`.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from ..db.models import ConsultationDay
from ..errors import WorkflowError
from .export_docx import agenda_docx, record_docx
from .export_xlsx import agenda_xlsx, followup_xlsx, record_xlsx

WHATS = {"agenda": "议程", "record": "咨询日记录", "followup": "跟踪问效结果"}
FORMATS = ("docx", "xlsx")


def export(session: Session, day: ConsultationDay, what: str, fmt: str) -> bytes:
    """The day's ``what`` (agenda | record | followup) as ``fmt`` (docx | xlsx) bytes."""
    what, fmt = (what or "").strip().lower(), (fmt or "").strip().lower()
    if what not in WHATS:
        raise WorkflowError("invalid_export", f"导出内容应为：{'、'.join(f'{k}（{v}）' for k, v in WHATS.items())}")
    if fmt not in FORMATS:
        raise WorkflowError("invalid_format", "导出格式应为 DOCX 或 XLSX")
    if what == "followup" and fmt != "xlsx":
        raise WorkflowError("invalid_format", "跟踪问效结果只能导出为 XLSX")
    if what == "agenda":
        return agenda_docx(day) if fmt == "docx" else agenda_xlsx(day)
    if what == "record":
        return record_docx(session, day) if fmt == "docx" else record_xlsx(session, day)
    return followup_xlsx(session, day)
