"""When and where: one consultation day per organiser and month.

The default day is the configured day of the month (the 10th); when that is a weekend or a listed holiday it moves to
the next working day (``corpus/calendar/holidays.txt`` plus ``ASSISTANT_CONSULT_HOLIDAYS``; ``workday`` lines are
调休 working weekend days). Staff may move a day, set place, time and topics; every change is audited.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..auth import DISTRICTS
from ..config import Settings
from ..db.models import ConsultationDay
from ..domain import Actor, audit
from ..errors import WorkflowError

CITY = "市本级"
ORGANISERS = (CITY, *[d for d in DISTRICTS if d != CITY])
DAY_STATUSES = {"planned": "筹备中", "frozen": "议程已冻结", "held": "已举办", "closed": "已结束"}
MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
DEFAULT_TIME = "9:00—11:30"
DEFAULT_PLACE = {CITY: "舟山市生态环境局一楼企业服务窗口"}


@dataclass(frozen=True)
class Calendar:
    holidays: frozenset[date]
    workdays: frozenset[date]

    def is_working_day(self, d: date) -> bool:
        if d in self.workdays:
            return True
        return d.weekday() < 5 and d not in self.holidays

    def next_working_day(self, d: date) -> date:
        while not self.is_working_day(d):
            d += timedelta(days=1)
        return d


def load_calendar(settings: Settings) -> Calendar:
    holidays: set[date] = set()
    workdays: set[date] = set()
    path = Path(settings.corpus.corpus_dir) / "calendar" / "holidays.txt"
    if path.exists():
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            parts = line.split()
            try:
                d = date.fromisoformat(parts[0])
            except ValueError as e:
                raise ValueError(f"{path}:{n}: 日期格式应为 YYYY-MM-DD：{parts[0]}") from e
            (workdays if len(parts) > 1 and parts[1] == "workday" else holidays).add(d)
    for x in settings.consult.holidays:
        holidays.add(date.fromisoformat(x))
    return Calendar(frozenset(holidays), frozenset(workdays))


def parse_month(month: str) -> tuple[int, int]:
    m = MONTH_RE.match((month or "").strip())
    if not m:
        raise WorkflowError("invalid_month", "月份格式应为 YYYY-MM，例如 2026-12")
    return int(m.group(1)), int(m.group(2))


def check_organiser(organiser: str) -> str:
    organiser = (organiser or CITY).strip()
    if organiser not in ORGANISERS:
        raise WorkflowError("invalid_organiser", f"组织单位应为：{'、'.join(ORGANISERS)}")
    return organiser


def default_date(settings: Settings, month: str, calendar: Calendar | None = None) -> tuple[date, str]:
    """The month's day and, if it moved, why (e.g. ``12月10日为星期六，顺延至12月12日``)."""
    y, m = parse_month(month)
    cal = calendar or load_calendar(settings)
    nominal = date(y, m, max(1, min(28, settings.consult.day_of_month)))
    actual = cal.next_working_day(nominal)
    if actual == nominal:
        return actual, ""
    why = "节假日" if nominal in cal.holidays else "周末"
    return actual, f"{nominal.month}月{nominal.day}日为{why}，顺延至{actual.month}月{actual.day}日"


def next_day(settings: Settings, today: date, session: Session | None = None, organiser: str = CITY) -> date:
    """The organiser's next consultation day on or after ``today``: the day stored for the month (staff may have
    moved it), else the month's default date with the weekend/holiday shift — the date the console shows."""
    y, m = today.year, today.month
    cal = load_calendar(settings)
    d = today
    for _ in range(3):
        month = f"{y:04d}-{m:02d}"
        stored = get_day(session, month, organiser) if session is not None else None
        d = stored.day if stored is not None else default_date(settings, month, cal)[0]
        if d >= today:
            return d
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return d


def can_manage(actor: Actor, organiser: str) -> bool:
    """Admins manage every organiser's days; district staff their own district's."""
    if actor.role == "admin":
        return True
    return actor.role == "district" and bool(actor.district) and actor.district == organiser


def can_view_day(actor: Actor, organiser: str) -> bool:
    if actor.role in ("admin", "expert"):
        return True
    if actor.role == "viewer":
        return not actor.district or actor.district == organiser
    return can_manage(actor, organiser)


def get_day(session: Session, month: str, organiser: str) -> ConsultationDay | None:
    parse_month(month)
    return session.scalar(select(ConsultationDay).where(ConsultationDay.month == month,
                                                        ConsultationDay.organiser == check_organiser(organiser)))


def ensure_day(session: Session, settings: Settings, month: str, organiser: str = CITY,
               actor: Actor | None = None) -> ConsultationDay:
    """The organiser's day of ``month``, created on the default date if it does not exist yet."""
    organiser = check_organiser(organiser)
    if actor is not None and not can_manage(actor, organiser):
        raise WorkflowError("forbidden", "您只能安排本辖区的咨询日")
    day = get_day(session, month, organiser)
    if day is not None:
        return day
    d, why = default_date(settings, month)
    day = ConsultationDay(organiser=organiser, month=month, day=d, time_text=DEFAULT_TIME,
                          place=DEFAULT_PLACE.get(organiser, f"{organiser}生态环境分局（具体地点以通知为准）"),
                          topics=[], status="planned", moved_reason=why)
    session.add(day)
    session.flush()
    if actor is not None:
        audit(session, actor, "consult_schedule", f"consult:{day.id}", {}, day_snapshot(day))
    return day


def day_snapshot(day: ConsultationDay) -> dict[str, object]:
    return {"organiser": day.organiser, "month": day.month, "day": day.day.isoformat(), "time": day.time_text,
            "place": day.place, "topics": list(day.topics or []), "status": day.status,
            "moved_reason": day.moved_reason}


def update_day(session: Session, actor: Actor, day: ConsultationDay, *, new_date: date | None = None,
               place: str | None = None, time_text: str | None = None, topics: list[str] | None = None,
               reason: str = "") -> ConsultationDay:
    """Staff move the day or change place, time and topics (the day must stay in its month)."""
    if not can_manage(actor, day.organiser):
        raise WorkflowError("forbidden", "您只能安排本辖区的咨询日")
    if day.status in ("held", "closed") and new_date is not None and new_date != day.day:
        raise WorkflowError("day_held", "咨询日已举办，不能再改期")
    before = day_snapshot(day)
    if new_date is not None and new_date != day.day:
        y, m = parse_month(day.month)
        if (new_date.year, new_date.month) != (y, m):
            raise WorkflowError("invalid_date", f"改期后的日期须在 {day.month} 月内")
        day.day = new_date
        day.moved_reason = (reason or "").strip()[:200] or "工作人员调整"
    if place is not None:
        if not place.strip():
            raise WorkflowError("place_required", "请填写咨询日地点")
        day.place = place.strip()[:300]
    if time_text is not None:
        day.time_text = time_text.strip()[:100]
    if topics is not None:
        day.topics = [t.strip()[:50] for t in topics if t.strip()][:20]
    audit(session, actor, "consult_update", f"consult:{day.id}", before, day_snapshot(day))
    session.flush()
    return day
