"""XLSX exports of a consultation day (openpyxl): the agenda, the record (agenda with answers, participants) and the
跟踪问效 results. One header row (bold, frozen), column widths set, long texts wrapped, times in Beijing time;
everything that came from askers is written as text (a question beginning with ``=`` is never a formula)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from ..db.models import ConsultationDay, Participant
from ..domain import cn_date
from . import agenda as agenda_mod
from . import outcomes as outcomes_mod
from . import people as people_mod
from .export_common import CHANNELS, NOT_RECORDED, beijing, clean, mask_phone, reasons_of, saved, title_text


def _sheet(ws: Any, headers: Sequence[str], rows: Iterable[Sequence[Any]], widths: Sequence[float],
           wrap: Iterable[int] = (), formats: dict[int, str] | None = None) -> None:
    """Header row bold and frozen, widths set, ``wrap`` columns (0-based) wrapped, every cell typed explicitly."""
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wrap = set(wrap)
    formats = formats or {}
    ws.append(list(headers))
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="E6F2EC")
        cell.alignment = Alignment(vertical="center", wrap_text=True)
    for r in rows:
        ws.append([None] * len(headers))
        row = ws.max_row
        for i, v in enumerate(r):
            cell = ws.cell(row=row, column=i + 1)
            if isinstance(v, datetime):
                cell.value = beijing(v)
                cell.number_format = "yyyy-mm-dd hh:mm"
            elif isinstance(v, str):
                cell.value = clean(v)
                cell.data_type = "s"  # never a formula, whatever the asker typed
            else:
                cell.value = v
            if i in formats:
                cell.number_format = formats[i]
            cell.alignment = Alignment(vertical="top", wrap_text=i in wrap)
    for i, wdt in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(i)].width = wdt
    ws.freeze_panes = "A2"
    if ws.max_row > 1:
        ws.auto_filter.ref = ws.dimensions


def _workbook(title: str) -> Any:
    from openpyxl import Workbook

    wb = Workbook()
    wb.properties.title = title
    wb.properties.creator = "舟山市生态环境局"
    return wb



AGENDA_HEADERS = ("序号", "问题编号", "问题", "主题", "牵头处室", "提问人数", "企业数", "得分", "排序理由")


def agenda_rows(day: ConsultationDay) -> list[list[Any]]:
    return [[a.position, a.queue_item_id, a.title, a.topic or agenda_mod.NO_TOPIC, a.lead_unit or "", a.askers,
             a.enterprises, round(a.score, 4), "\n".join(reasons_of(a))] for a in agenda_mod.visible(day)]


def agenda_xlsx(day: ConsultationDay) -> bytes:
    wb = _workbook(title_text(day, "agenda"))
    ws = wb.active
    ws.title = "议程"
    _sheet(ws, AGENDA_HEADERS, agenda_rows(day), (6, 10, 50, 14, 12, 10, 8, 8, 60), wrap=(2, 8), formats={7: "0.00"})
    return saved(wb)


def _participant_row(n: int, p: Participant) -> list[Any]:
    return [n, p.company, p.uscc, p.contact, mask_phone(p.phone), people_mod.SOURCES.get(p.source, p.source),
            CHANNELS.get(p.channel or "", p.channel), "是" if p.attended else "否",
            p.attended_at if p.attended else None]


def record_xlsx(session: Session, day: ConsultationDay) -> bytes:
    wb = _workbook(title_text(day, "record"))
    ws = wb.active
    ws.title = "议程与答复"
    rows = [[a.position, a.queue_item_id, a.title, a.topic or agenda_mod.NO_TOPIC, a.lead_unit or "",
             a.outcome or NOT_RECORDED, "\n".join(a.outcome_citations or []), a.curated_id or "", a.outcome_by or "",
             a.outcome_at] for a in agenda_mod.visible(day)]
    _sheet(ws, ("序号", "问题编号", "问题", "主题", "牵头处室", "现场答复", "依据条文", "已发布条目", "记录人", "记录时间"),
           rows, (6, 10, 44, 14, 12, 60, 30, 26, 10, 17), wrap=(2, 5, 6))
    ws2 = wb.create_sheet("参会企业")
    _sheet(ws2, ("序号", "企业", "统一社会信用代码", "联系人", "联系电话", "来源", "联系渠道", "是否到场", "到场时间"),
           [_participant_row(n, p) for n, p in enumerate(people_mod.participants(session, day), 1)],
           (6, 36, 22, 12, 16, 12, 12, 10, 17), wrap=(1,))
    return saved(wb)


FOLLOWUP_HEADERS = ("序号", "问题", "企业", "联系人", "渠道", "发出时间", "反馈时间", "是否解决", "满意度", "补充说明",
                    "重新入队问题编号")


def followup_xlsx(session: Session, day: ConsultationDay) -> bytes:
    wb = _workbook(title_text(day, "followup"))
    rows = outcomes_mod.results(session, day)
    ws = wb.active
    ws.title = "跟踪问效"
    _sheet(ws, FOLLOWUP_HEADERS,
           [[n, r["question"], r["company"], r["contact"], CHANNELS.get(r["channel"] or "", r["channel"]),
             r["sent_at"], r["answered_at"], r["solved"], r["score"], r["comment"], r["requeued_item_id"]]
            for n, r in enumerate(rows, 1)],
           (6, 44, 30, 12, 10, 17, 17, 10, 8, 40, 14), wrap=(1, 9))
    s = outcomes_mod.summary(rows)
    ws2 = wb.create_sheet("汇总")
    _sheet(ws2, ("组织单位", "咨询日", "发出", "已反馈", "已解决", "部分解决", "未解决", "已解决率", "平均满意度"),
           [[day.organiser, cn_date(day.day), s["sent"], s["answered"], s["solved"], s["partly"], s["unsolved"],
             s["solved_rate"] if s["solved_rate"] is not None else "—",
             round(s["avg_score"], 2) if s["avg_score"] is not None else "—"]],
           (12, 16, 8, 8, 8, 10, 8, 10, 12), formats={7: "0.0%", 8: "0.00"})
    return saved(wb)
