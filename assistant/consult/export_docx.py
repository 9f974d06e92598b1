"""DOCX exports of a consultation day (python-docx): the agenda handout and the day's record.

The bureau's document habits: A4, body text 仿宋_GB2312 (the font table names 宋体 as the alternative where 仿宋_GB2312
is not installed), title and headings 黑体, black text. Fonts are set on the styles (``w:rFonts`` with ``w:eastAsia`` —
Word ignores the Latin font name for Chinese characters), not run by run.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy.orm import Session

from ..db.models import ConsultationDay
from . import agenda as agenda_mod
from . import people as people_mod
from .export_common import (
    NOT_RECORDED,
    beijing_text,
    clean,
    cn_ordinal,
    day_facts,
    mask_phone,
    reasons_of,
    saved,
    title_text,
)

BODY_FONT, BODY_FONT_ALT, HEADING_FONT, LATIN_FONT = "仿宋_GB2312", "宋体", "黑体", "Times New Roman"


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



def agenda_docx(day: ConsultationDay) -> bytes:
    """The agenda handout: the day, then the items grouped by topic and lead unit, each with why it is there."""
    doc = new_document(title_text(day, "agenda"))
    _facts_block(doc, day_facts(day))
    rows = agenda_mod.visible(day)
    if not rows:
        doc.add_paragraph("议程尚未生成。")
        return saved(doc)
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
    return saved(doc)


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
    return saved(doc)
