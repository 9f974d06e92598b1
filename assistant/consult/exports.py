"""Exports of a consultation day: the agenda, the day's record and the 跟踪问效 results, as DOCX (python-docx) or
XLSX (openpyxl).

* **DOCX** follows the bureau's document habits: A4, body text 仿宋_GB2312 (the font table names 宋体 as the
  alternative where 仿宋_GB2312 is not installed), title and headings 黑体, black text. Fonts are set on the styles
  (``w:rFonts`` with ``w:eastAsia`` — Word ignores the Latin font name for Chinese characters), not run by run.
* **XLSX**: one header row (bold, frozen), column widths set, long texts wrapped; times in Beijing time.
* The record masks phone numbers (``138****1234``): it is printed and handed around; the full numbers stay in the
  console's phone list.
* Everything that came from askers is written as text: a question beginning with ``=`` is never a formula, and
  characters XML cannot hold are dropped.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from ..db.models import AgendaItem, ConsultationDay, Participant
from ..domain import CHINA_TZ, cn_date
from ..errors import WorkflowError
from . import agenda as agenda_mod
from . import outcomes as outcomes_mod
from . import people as people_mod
from .schedule import DAY_STATUSES

WHATS = {"agenda": "议程", "record": "咨询日记录", "followup": "跟踪问效结果"}
FORMATS = ("docx", "xlsx")
WEEKDAYS = "一二三四五六日"
CHANNELS = {"wechat": "微信", "web": "网页", "phone": "电话/短信", "": "—"}
BODY_FONT, BODY_FONT_ALT, HEADING_FONT, LATIN_FONT = "仿宋_GB2312", "宋体", "黑体", "Times New Roman"
NOT_RECORDED = "（未记录）"
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_CN_NUM = "一二三四五六七八九十"


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


# -- shared helpers ----------------------------------------------------------------------------------------------
def clean(value: Any) -> str:
    """Text safe for XML (DOCX and XLSX are both XML): control characters dropped."""
    return _XML_BAD.sub("", "" if value is None else str(value))


def beijing(dt: datetime | None) -> datetime | None:
    """A stored (UTC) timestamp as naive Beijing time (spreadsheets have no time zones)."""
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(CHINA_TZ).replace(tzinfo=None)


def beijing_text(dt: datetime | None) -> str:
    b = beijing(dt)
    return b.strftime("%Y-%m-%d %H:%M") if b is not None else "—"


def mask_phone(phone: str) -> str:
    """``13812341234`` → ``138****1234``; a fixed line keeps its first three and last four characters too."""
    phone = (phone or "").strip()
    if not phone:
        return ""
    if len(phone) <= 7:
        return "****" + phone[-2:] if len(phone) > 2 else "****"
    return f"{phone[:3]}****{phone[-4:]}"


def title_text(day: ConsultationDay, what: str) -> str:
    kind = {"agenda": "议程", "record": "记录", "followup": "跟踪问效结果"}[what]
    return f"舟山市生态环境局 {day.organiser} 企业环保咨询日{kind}（{cn_date(day.day)}）"


def day_facts(day: ConsultationDay) -> list[tuple[str, str]]:
    d = day.day
    facts = [("时间", f"{cn_date(day.day)}（星期{WEEKDAYS[d.weekday()]}）{day.time_text or ''}".strip()),
             ("地点", day.place or "—"),
             ("主题", "、".join(day.topics or []) or "—"),
             ("组织单位", day.organiser),
             ("状态", DAY_STATUSES.get(day.status, day.status))]
    if day.moved_reason:
        facts.append(("日期调整", day.moved_reason))
    return facts


def reasons_of(a: AgendaItem) -> list[str]:
    text = (a.reasons or {}).get("text") or []
    return [clean(t) for t in text] if isinstance(text, list) else [clean(text)]


def cn_ordinal(n: int) -> str:
    if 1 <= n <= 10:
        return _CN_NUM[n - 1]
    if n < 20:
        return "十" + _CN_NUM[n - 11]
    return str(n)


# -- DOCX --------------------------------------------------------------------------------------------------------
def _set_fonts(style: Any, east_asia: str, size_pt: float | None = None, bold: bool | None = None) -> None:
    """Latin and East Asian fonts on a style (theme font references removed: they would win over the names)."""
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor

    style.font.name = LATIN_FONT
    rpr = style.element.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.insert(0, rfonts)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        rfonts.attrib.pop(qn(attr), None)
    rfonts.set(qn("w:ascii"), LATIN_FONT)
    rfonts.set(qn("w:hAnsi"), LATIN_FONT)
    rfonts.set(qn("w:eastAsia"), east_asia)
    rfonts.set(qn("w:hint"), "eastAsia")
    style.font.color.rgb = RGBColor(0, 0, 0)
    if size_pt is not None:
        style.font.size = Pt(size_pt)
    if bold is not None:
        style.font.bold = bold


def _font_fallbacks(doc: Any) -> None:
    """Name 宋体 (and SimHei) as alternatives in the font table, for machines without 仿宋_GB2312 / 黑体."""
    from lxml import etree

    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    for rel in doc.part.rels.values():
        if not rel.reltype.endswith("/fontTable") or rel.is_external:
            continue
        part = rel.target_part
        try:
            root = etree.fromstring(part.blob)
        except Exception:  # pragma: no cover - the bundled template's table always parses
            return
        have = {f.get(f"{{{w}}}name") for f in root.findall(f"{{{w}}}font")}
        for name, alt in ((BODY_FONT, BODY_FONT_ALT), (HEADING_FONT, "SimHei")):
            if name in have:
                continue
            font = etree.SubElement(root, f"{{{w}}}font", {f"{{{w}}}name": name})
            etree.SubElement(font, f"{{{w}}}altName", {f"{{{w}}}val": alt})
            etree.SubElement(font, f"{{{w}}}charset", {f"{{{w}}}val": "86"})
            etree.SubElement(font, f"{{{w}}}family", {f"{{{w}}}val": "modern"})
            etree.SubElement(font, f"{{{w}}}pitch", {f"{{{w}}}val": "fixed"})
        if hasattr(part, "_blob"):
            part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
        return


def _page_number_footer(section: Any) -> None:
    """“第 N 页” centred in the footer (a PAGE field)."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    p = section.footer.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p.add_run("第 ")
    run = p.add_run()
    for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
        if kind is not None:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        else:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = f" {text} "
        run._r.append(el)
    p.add_run(" 页")


def new_document(title: str) -> Any:
    """An A4 document with the bureau's fonts on Normal, Title and Heading 1–3, and the title paragraph."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm, Pt

    doc = Document()
    _set_fonts(doc.styles["Normal"], BODY_FONT, 12)
    doc.styles["Normal"].paragraph_format.space_after = Pt(4)
    doc.styles["Normal"].paragraph_format.line_spacing = 1.25
    _set_fonts(doc.styles["Title"], HEADING_FONT, 18, bold=False)
    _set_fonts(doc.styles["Heading 1"], HEADING_FONT, 15, bold=False)
    _set_fonts(doc.styles["Heading 2"], HEADING_FONT, 13, bold=False)
    _set_fonts(doc.styles["Heading 3"], HEADING_FONT, 12, bold=False)
    for name in ("List Bullet", "Table Grid"):
        try:
            _set_fonts(doc.styles[name], BODY_FONT, 11 if name == "Table Grid" else None)
        except KeyError:  # pragma: no cover - both are in python-docx's template
            pass
    # the Title style's blue rule under the title is not ours
    tppr = doc.styles["Title"].element.pPr
    if tppr is not None:
        from docx.oxml.ns import qn

        for bdr in tppr.findall(qn("w:pBdr")):
            tppr.remove(bdr)
    _font_fallbacks(doc)
    sec = doc.sections[0]
    sec.page_width, sec.page_height = Mm(210), Mm(297)
    sec.top_margin, sec.bottom_margin = Mm(30), Mm(28)
    sec.left_margin, sec.right_margin = Mm(26), Mm(24)
    _page_number_footer(sec)
    doc.core_properties.title = title
    doc.core_properties.author = "舟山市生态环境局"
    doc.core_properties.language = "zh-CN"
    t = doc.add_paragraph(clean(title), style="Title")
    t.alignment = WD_ALIGN_PARAGRAPH.CENTER
    return doc


def _facts_block(doc: Any, facts: Iterable[tuple[str, str]]) -> None:
    for label, value in facts:
        p = doc.add_paragraph()
        p.add_run(f"{label}：").bold = True
        p.add_run(clean(value))


def _table(doc: Any, headers: Sequence[str], rows: Iterable[Sequence[Any]], widths_mm: Sequence[float]) -> Any:
    from docx.shared import Mm

    table = doc.add_table(rows=1, cols=len(headers))
    table.style = doc.styles["Table Grid"]
    for cell, h in zip(table.rows[0].cells, headers):
        cell.text = ""
        cell.paragraphs[0].add_run(h).bold = True
    for r in rows:
        cells = table.add_row().cells
        for cell, v in zip(cells, r):
            cell.text = clean(v)
    for row in table.rows:
        for cell, wmm in zip(row.cells, widths_mm):
            cell.width = Mm(wmm)
    return table


def _save_docx(doc: Any) -> bytes:
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def agenda_docx(day: ConsultationDay) -> bytes:
    """The agenda handout: the day, then the items grouped by topic and lead unit, each with why it is there."""
    doc = new_document(title_text(day, "agenda"))
    _facts_block(doc, day_facts(day))
    rows = agenda_mod.visible(day)
    if not rows:
        doc.add_paragraph("议程尚未生成。")
        return _save_docx(doc)
    doc.add_paragraph(f"本次咨询日共 {len(rows)} 个议题，按主题和牵头处室分组如下（序号为讨论顺序）。")
    for n, g in enumerate(agenda_mod.groups(rows), 1):
        unit = g["lead_unit"] or "待定"
        doc.add_heading(f"{cn_ordinal(n)}、{clean(g['topic'])}（牵头处室：{clean(unit)}）", level=1)
        for a in g["items"]:
            doc.add_heading(f"{a.position}. {clean(a.title)}", level=2)
            p = doc.add_paragraph()
            p.add_run(f"问题编号 #{a.queue_item_id}　提问人数 {a.askers} 人　涉及企业 {a.enterprises} 家"
                      f"　综合得分 {a.score:.2f}")
            reasons = reasons_of(a)
            if reasons:
                doc.add_paragraph("排序理由：")
                for r in reasons:
                    doc.add_paragraph(r, style="List Bullet")
    return _save_docx(doc)


def record_docx(session: Session, day: ConsultationDay) -> bytes:
    """The day's record: who came, and what was answered for every agenda item."""
    doc = new_document(title_text(day, "record"))
    _facts_block(doc, day_facts(day))
    parts = people_mod.participants(session, day)
    came = sum(1 for p in parts if p.attended)
    doc.add_heading("一、参会企业", level=1)
    if parts:
        doc.add_paragraph(f"共 {len(parts)} 家（个）参会对象，到场 {came} 家。联系电话已隐去中间四位。")
        _table(doc, ("序号", "企业", "联系人", "联系电话", "来源", "是否到场"),
               [(n, p.company or "（未留企业名称）", p.contact or "—", mask_phone(p.phone) or "—",
                 people_mod.SOURCES.get(p.source, p.source), "是" if p.attended else "否")
                for n, p in enumerate(parts, 1)],
               (12, 58, 22, 28, 20, 18))
    else:
        doc.add_paragraph("暂无参会企业记录。")
    doc.add_heading("二、议题与现场答复", level=1)
    rows = agenda_mod.visible(day)
    if not rows:
        doc.add_paragraph("议程为空。")
    for a in rows:
        doc.add_heading(f"{a.position}. {clean(a.title)}", level=2)
        _facts_block(doc, [("主题", a.topic or agenda_mod.NO_TOPIC), ("牵头处室", a.lead_unit or "待定")])
        p = doc.add_paragraph()
        p.add_run("现场答复：").bold = True
        p.add_run(clean(a.outcome) if a.outcome else NOT_RECORDED)
        if a.outcome:
            _facts_block(doc, [("依据条文", "；".join(a.outcome_citations or []) or "—"),
                               ("已发布条目", a.curated_id or "—"),
                               ("记录", f"{a.outcome_by or '—'}，{beijing_text(a.outcome_at)}")])
    return _save_docx(doc)


# -- XLSX --------------------------------------------------------------------------------------------------------
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


def _save_xlsx(wb: Any) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


AGENDA_HEADERS = ("序号", "问题编号", "问题", "主题", "牵头处室", "提问人数", "企业数", "得分", "排序理由")


def agenda_rows(day: ConsultationDay) -> list[list[Any]]:
    return [[a.position, a.queue_item_id, a.title, a.topic or agenda_mod.NO_TOPIC, a.lead_unit or "", a.askers,
             a.enterprises, round(a.score, 4), "\n".join(reasons_of(a))] for a in agenda_mod.visible(day)]


def agenda_xlsx(day: ConsultationDay) -> bytes:
    wb = _workbook(title_text(day, "agenda"))
    ws = wb.active
    ws.title = "议程"
    _sheet(ws, AGENDA_HEADERS, agenda_rows(day), (6, 10, 50, 14, 12, 10, 8, 8, 60), wrap=(2, 8), formats={7: "0.00"})
    return _save_xlsx(wb)


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
    return _save_xlsx(wb)


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
    return _save_xlsx(wb)
