"""Exports of a consultation day (agenda / record / follow-up; DOCX and XLSX), reopened and read back.

One realistic day of the city bureau (SQLite and PostgreSQL): three queue items from six questions (one asked by two
enterprises with a consented phone number, one by a single enterprise, one anonymous), the agenda built and frozen,
askers invited, attendance recorded, an answer recorded for two of the three items, follow-ups issued a month later
and answered (one solved with 5 points, one partly solved with 3 points).
"""

from __future__ import annotations

import io
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from docx import Document
from docx.oxml.ns import qn
from openpyxl import load_workbook
from sqlalchemy import select

from assistant.consult import agenda, export_common, export_xlsx, exports, outcomes, people
from assistant.consult.schedule import ensure_day
from assistant.db.models import AgendaItem, ConsultationDay, Handoff, Question
from assistant.domain import CHINA_TZ
from assistant.queue.curation import Actor, WorkflowError
from assistant.queue.intake import enqueue
from assistant.service import AssistantService
from assistant.text.normalize import normalize

ADMIN = Actor("admin", "admin")
MONTH = "2026-12"
CITE = "排污许可管理条例#14"
T_PERMIT = "排污许可证到期了怎么延续，需要提前多久申请？"
T_SHIP = "=船舶含油污水靠港后应当交给谁接收处置？"  # starts with "=": must stay text in XLSX
T_NOISE = "夜间施工噪声扰民可以向哪个部门投诉？"
ANSWER_PERMIT = "排污许可证有效期五年，应在届满六十日前向审批部门申请延续。"
ANSWER_SHIP = "应交由具备接收能力的船舶污染物接收单位接收，并保留接收凭证。"


@dataclass
class Day:
    id: int
    titles: list[str]  # in agenda order
    tokens: dict[str, str]  # company → follow-up token
    requeued: int | None


def _ask(s: Any, svc: AssistantService, text: str, company: str = "", phone: str = "", contact: str = "",
         days_ago: float = 3.0) -> Question:
    q = Question(token=secrets.token_urlsafe(24), text=text, normalized=normalize(text), channel="widget",
                 session_id=secrets.token_hex(6), enterprise=company, decision="abstain",
                 asked_at=datetime.now(UTC) - timedelta(days=days_ago))
    s.add(q)
    s.flush()
    if phone:
        s.add(Handoff(question_id=q.id, name=contact, company=company, phone=phone, consent=True))
    enqueue(s, q, "abstain", svc.clusterer)
    return q


def make_day(svc: AssistantService) -> Day:
    with svc.Session() as s:
        _ask(s, svc, T_PERMIT, "舟山海洋化工有限公司", "13812341234", "王经理", days_ago=10)
        _ask(s, svc, T_PERMIT, "定海港务有限公司", "13900001111", "李工", days_ago=2)
        _ask(s, svc, T_PERMIT, "舟山海洋化工有限公司", days_ago=1)
        _ask(s, svc, T_SHIP, "普陀渔业船舶修造厂", "0580-2281234", "陈师傅", days_ago=20)
        _ask(s, svc, T_SHIP, "普陀渔业船舶修造厂", days_ago=5)
        _ask(s, svc, T_NOISE, days_ago=1)
        day = ensure_day(s, svc.settings, MONTH)
        day.topics = ["排污许可", "船舶污染防治"]
        res = agenda.build(s, day, svc.indexes)
        assert len(res.items) == 3
        agenda.freeze(s, ADMIN, day)
        people.invite(s, ADMIN, day)
        for p in people.participants(s, day):
            if p.company in ("舟山海洋化工有限公司", "普陀渔业船舶修造厂"):
                people.set_attendance(s, ADMIN, day, p.id, True)
        s.commit()
        day_id = day.id
        titles = [a.title for a in agenda.visible(day)]
        ids = {a.title: a.id for a in agenda.visible(day)}
    outcomes.record_outcome(svc.indexes, ADMIN, day_id, ids[T_PERMIT], ANSWER_PERMIT, [CITE])
    outcomes.record_outcome(svc.indexes, ADMIN, day_id, ids[T_SHIP], ANSWER_SHIP, [CITE])
    issued = outcomes.issue_followups(svc.session, svc.settings, today=date(2027, 1, 15))
    with svc.Session() as s:
        from assistant.db.models import Participant

        company = {p.id: p.company for p in s.scalars(select(Participant).where(Participant.day_id == day_id))}
    tokens = {company[f.participant_id]: f.token for f in issued}
    outcomes.submit_followup(svc.session, tokens["舟山海洋化工有限公司"], "yes", 5, "已按期延续")
    res2 = outcomes.submit_followup(svc.session, tokens["普陀渔业船舶修造厂"], "partly", 3, "接收单位联系不上")
    return Day(day_id, titles, tokens, res2["requeued_item_id"])


@pytest.fixture
def made(service: AssistantService) -> tuple[AssistantService, Day]:
    return service, make_day(service)


def _export(svc: AssistantService, day_id: int, what: str, fmt: str) -> bytes:
    with svc.Session() as s:
        day = s.get(ConsultationDay, day_id)
        assert day is not None
        return exports.export(s, day, what, fmt)


def _docx_text(data: bytes) -> tuple[Any, list[str]]:
    doc = Document(io.BytesIO(data))
    lines = [p.text for p in doc.paragraphs]
    for t in doc.tables:
        for row in t.rows:
            lines.append(" | ".join(c.text for c in row.cells))
    return doc, lines


def test_agenda_docx(made: tuple[AssistantService, Day]) -> None:
    svc, d = made
    data = _export(svc, d.id, "agenda", "docx")
    assert data[:2] == b"PK"
    doc, lines = _docx_text(data)
    assert lines[0] == "舟山市生态环境局 市本级 企业环保咨询日议程（2026年12月10日）"
    assert doc.paragraphs[0].style.name == "Title"
    # fonts: East Asian font on Normal and the headings (not a theme font)
    normal = doc.styles["Normal"].element.rPr.rFonts
    assert normal.get(qn("w:eastAsia")) == "仿宋_GB2312"
    for name in ("Title", "Heading 1", "Heading 2"):
        rfonts = doc.styles[name].element.rPr.rFonts
        assert rfonts.get(qn("w:eastAsia")) == "黑体" and rfonts.get(qn("w:eastAsiaTheme")) is None
    sec = doc.sections[0]
    assert abs(sec.page_width.mm - 210) < 0.5 and abs(sec.page_height.mm - 297) < 0.5
    text = "\n".join(lines)
    assert "时间：2026年12月10日（星期四）9:00—11:30" in text
    assert "地点：舟山市生态环境局一楼企业服务窗口" in text and "主题：排污许可、船舶污染防治" in text
    # every item numbered by its position, listed in the order of agenda.groups (groups by best-placed item)
    item_lines = [ln for ln in lines if ln[:3] in ("1. ", "2. ", "3. ")]
    assert sorted(item_lines) == [f"{n}. {t}" for n, t in enumerate(d.titles, 1)]
    with svc.Session() as s:
        day = s.get(ConsultationDay, d.id)
        assert day is not None
        grouped = [f"{a.position}. {a.title}" for g in agenda.groups(agenda.visible(day)) for a in g["items"]]
    assert item_lines == grouped and item_lines[0] == f"1. {d.titles[0]}"
    assert d.titles[0] == T_PERMIT  # two enterprises, three questions: first
    # counts and reasons
    assert any("提问人数 2 人" in ln and "涉及企业 2 家" in ln for ln in lines)
    with svc.Session() as s:
        first = s.scalar(select(AgendaItem).where(AgendaItem.day_id == d.id, AgendaItem.position == 1))
        assert first is not None
        reasons = first.reasons["text"]
    assert reasons and all(r in lines for r in reasons)
    # grouped by topic and lead unit: a level-1 heading per group
    groups = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    assert groups and groups[0].startswith("一、") and "牵头处室" in groups[0]


def test_record_docx(made: tuple[AssistantService, Day]) -> None:
    svc, d = made
    doc, lines = _docx_text(_export(svc, d.id, "record", "docx"))
    text = "\n".join(lines)
    assert lines[0] == "舟山市生态环境局 市本级 企业环保咨询日记录（2026年12月10日）"
    assert doc.styles["Normal"].element.rPr.rFonts.get(qn("w:eastAsia")) == "仿宋_GB2312"
    # attendance table: masked phones, never the full number
    rows = [ln for ln in lines if " | " in ln]
    assert rows[0] == "序号 | 企业 | 联系人 | 联系电话 | 来源 | 是否到场"
    chem = next(r for r in rows if "舟山海洋化工有限公司" in r)
    assert "138****1234" in chem and chem.endswith("是") and "邀请" in chem
    port = next(r for r in rows if "定海港务有限公司" in r)
    assert "139****1111" in port and port.endswith("否")
    assert "058****1234" in text
    assert "13812341234" not in text and "13900001111" not in text
    # outcomes per item; the item without one says so
    assert f"现场答复：{ANSWER_PERMIT}" in lines and f"现场答复：{ANSWER_SHIP}" in lines
    assert "现场答复：（未记录）" in lines
    assert f"依据条文：{CITE}" in lines
    assert any(ln.startswith("已发布条目：zxr-2026-12-") for ln in lines)


def _rows(ws: Any) -> list[list[Any]]:
    return [list(r) for r in ws.iter_rows(values_only=True)]


def test_agenda_xlsx(made: tuple[AssistantService, Day]) -> None:
    svc, d = made
    wb = load_workbook(io.BytesIO(_export(svc, d.id, "agenda", "xlsx")))
    assert wb.sheetnames == ["议程"]
    ws = wb["议程"]
    rows = _rows(ws)
    assert rows[0] == ["序号", "问题编号", "问题", "主题", "牵头处室", "提问人数", "企业数", "得分", "排序理由"]
    assert ws["A1"].font.bold and ws.freeze_panes == "A2" and ws.column_dimensions["C"].width >= 40
    assert [r[2] for r in rows[1:]] == d.titles
    assert [r[0] for r in rows[1:]] == [1, 2, 3]
    first = rows[1]
    assert first[5] == 2 and first[6] == 2 and isinstance(first[7], float) and "2 位提问者" in first[8]
    # the question starting with "=" is a string cell, not a formula
    ship = next(c for c in ws["C"] if c.value == T_SHIP)
    assert ship.data_type == "s"


def test_record_xlsx(made: tuple[AssistantService, Day]) -> None:
    svc, d = made
    wb = load_workbook(io.BytesIO(_export(svc, d.id, "record", "xlsx")))
    assert wb.sheetnames == ["议程与答复", "参会企业"]
    items = _rows(wb["议程与答复"])
    assert items[0][:6] == ["序号", "问题编号", "问题", "主题", "牵头处室", "现场答复"]
    by_title = {r[2]: r for r in items[1:]}
    assert by_title[T_PERMIT][5] == ANSWER_PERMIT and by_title[T_PERMIT][6] == CITE
    assert by_title[T_NOISE][5] == "（未记录）"
    recorded = by_title[T_PERMIT][9]
    assert isinstance(recorded, datetime) and recorded.tzinfo is None
    now_cst = datetime.now(UTC).astimezone(CHINA_TZ).replace(tzinfo=None)
    assert abs((now_cst - recorded).total_seconds()) < 600  # Beijing time, not UTC
    parts = _rows(wb["参会企业"])
    assert parts[0] == ["序号", "企业", "统一社会信用代码", "联系人", "联系电话", "来源", "联系渠道", "是否到场", "到场时间"]
    chem = next(r for r in parts[1:] if r[1] == "舟山海洋化工有限公司")
    assert chem[3] == "王经理" and chem[4] == "138****1234" and chem[7] == "是" and chem[8] is not None
    port = next(r for r in parts[1:] if r[1] == "定海港务有限公司")
    assert port[7] == "否" and port[8] is None
    assert wb["参会企业"].freeze_panes == "A2" and wb["参会企业"]["B1"].font.bold


def test_followup_xlsx(made: tuple[AssistantService, Day]) -> None:
    svc, d = made
    wb = load_workbook(io.BytesIO(_export(svc, d.id, "followup", "xlsx")))
    assert wb.sheetnames == ["跟踪问效", "汇总"]
    rows = _rows(wb["跟踪问效"])
    assert rows[0] == list(export_xlsx.FOLLOWUP_HEADERS)
    body = rows[1:]
    # permit item: two attendees linked (化工 + 港务); ship item: 修造厂 → three follow-ups
    assert len(body) == 3
    chem = next(r for r in body if r[2] == "舟山海洋化工有限公司")
    assert chem[1] == T_PERMIT and chem[7] == "已解决" and chem[8] == 5 and chem[9] == "已按期延续"
    assert isinstance(chem[5], datetime) and isinstance(chem[6], datetime) and chem[10] is None
    ship = next(r for r in body if r[2] == "普陀渔业船舶修造厂")
    assert ship[7] == "部分解决" and ship[8] == 3 and ship[10] == d.requeued and d.requeued
    port = next(r for r in body if r[2] == "定海港务有限公司")
    assert port[6] is None and port[7] == "未反馈"
    summary = _rows(wb["汇总"])
    assert summary[0][2:] == ["发出", "已反馈", "已解决", "部分解决", "未解决", "已解决率", "平均满意度"]
    assert summary[1][:2] == ["市本级", "2026年12月10日"]
    assert summary[1][2:7] == [3, 2, 1, 1, 0]
    assert summary[1][7] == pytest.approx(0.5) and summary[1][8] == pytest.approx(4.0)
    assert wb["汇总"]["H2"].number_format == "0.0%"


def test_invalid_requests(made: tuple[AssistantService, Day]) -> None:
    svc, d = made
    with pytest.raises(WorkflowError) as e:
        _export(svc, d.id, "followup", "docx")
    assert e.value.code == "invalid_format" and e.value.message == "跟踪问效结果只能导出为 XLSX"
    with pytest.raises(WorkflowError) as e:
        _export(svc, d.id, "agenda", "pdf")
    assert e.value.code == "invalid_format"
    with pytest.raises(WorkflowError) as e:
        _export(svc, d.id, "minutes", "xlsx")
    assert e.value.code == "invalid_export"


def test_empty_day_exports(service: AssistantService) -> None:
    """A day without agenda or participants still exports (nothing to list, no crash)."""
    with service.Session() as s:
        day = ensure_day(s, service.settings, "2027-01", "普陀区")
        s.commit()
        for what, fmt in (("agenda", "docx"), ("record", "docx"), ("agenda", "xlsx"), ("record", "xlsx"),
                          ("followup", "xlsx")):
            assert exports.export(s, day, what, fmt)[:2] == b"PK"
        _, lines = _docx_text(exports.export(s, day, "agenda", "docx"))
        assert lines[0].startswith("舟山市生态环境局 普陀区 企业环保咨询日议程（2027年1月")
        assert "议程尚未生成。" in lines
        wb = load_workbook(io.BytesIO(exports.export(s, day, "followup", "xlsx")))
        assert _rows(wb["汇总"])[1][2:] == [0, 0, 0, 0, 0, "—", "—"]


def test_mask_phone_and_clean() -> None:
    assert export_common.mask_phone("13812341234") == "138****1234"
    assert export_common.mask_phone("0580-2281234") == "058****1234"
    assert export_common.mask_phone("") == ""
    assert "1234" not in export_common.mask_phone("1234")
    assert export_common.clean("a\x0bb\x00c") == "abc"
