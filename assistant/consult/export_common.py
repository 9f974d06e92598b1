"""What every export of a consultation day shares: titles and the day's facts, Beijing times, masked phone numbers
(the record is printed and handed around; the full numbers stay in the console's phone list), and text made safe for
XML (DOCX and XLSX are both XML: characters XML cannot hold are dropped)."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from typing import Any

from ..db.models import AgendaItem, ConsultationDay
from ..domain import CHINA_TZ, cn_date
from .agenda import stored_reasons
from .schedule import DAY_STATUSES

WEEKDAYS = "一二三四五六日"
CHANNELS = {"wechat": "微信", "web": "网页", "phone": "电话/短信", "": "—"}
NOT_RECORDED = "（未记录）"
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_CN_NUM = "一二三四五六七八九十"


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
    return [clean(t) for t in stored_reasons(a.reasons)]


def cn_ordinal(n: int) -> str:
    if 1 <= n <= 10:
        return _CN_NUM[n - 1]
    if n < 20:
        return "十" + _CN_NUM[n - 11]
    return str(n)


def saved(doc: Any) -> bytes:
    """The bytes of a python-docx document or an openpyxl workbook."""
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
