"""Who a 统计看板 covers and over which days: the actor's :class:`Scope` and the :class:`Window` of 7 / 30 / 90
Beijing calendar days (today included).

Scope — who sees what (the same rules as the queue, :func:`assistant.queue.curation.can_view`):

* **admin** — everything; may filter by district; sees the per-district table.
* **viewer without a district** — like the admin (such viewers already see every queue item), read-only anyway.
* **district staff, viewer with a district** — their district only: questions counted for it
  (:func:`assistant.consult.stats.question_district`: the district of the queue item a question is in, else the
  asker's), ``QueueItem.district`` and ``ConsultationDay.organiser`` (its participants and follow-ups) equal to it.
  The filter is applied in the queries, not after. No district table, no district filter.
* **expert** — queue numbers (open items, median age, hot topics) over the items assigned to them only, as in their
  queue. Question volume, rates, consultation days and follow-ups are shown city-wide: they are counts without any
  question text or contact data, and experts answer for the whole city. No district table, no district filter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from ..auth import DISTRICTS
from ..domain import CHINA_TZ, Actor

WINDOWS = (7, 30, 90)
DEFAULT_DAYS = 30


@dataclass(frozen=True)
class Scope:
    """What an actor's dashboard covers. ``district`` None = every district; ``expert`` limits the queue."""

    label: str
    district: str | None = None
    expert: str = ""
    city_wide: bool = False  # may see the per-district table and filter by district
    filter: str = ""  # the district a city-wide user chose ("" = all)


def scope_for(actor: Actor, district: str = "") -> Scope:
    district = (district or "").strip()
    if actor.role == "admin" or (actor.role == "viewer" and not actor.district):
        if district in DISTRICTS:
            return Scope(district, district=district, city_wide=True, filter=district)
        return Scope("全市", city_wide=True)
    if actor.role == "expert":
        return Scope("全市（待办问题仅含分派给您的问题）", expert=actor.username)
    if actor.role in ("district", "viewer") and actor.district:
        return Scope(actor.district, district=actor.district)
    return Scope("无权限范围", district="\x00none")  # unknown role: nothing


@dataclass(frozen=True)
class Window:
    days: int
    start: date
    end: date  # inclusive

    @property
    def start_utc(self) -> datetime:
        return datetime.combine(self.start, time(0), CHINA_TZ).astimezone(UTC)

    @property
    def end_utc(self) -> datetime:  # exclusive
        return datetime.combine(self.end + timedelta(days=1), time(0), CHINA_TZ).astimezone(UTC)

    def dates(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range(self.days)]


def window(days: int | str | None, today: date | None = None) -> Window:
    try:
        n = int(days) if days is not None else DEFAULT_DAYS
    except (TypeError, ValueError):
        n = DEFAULT_DAYS
    n = n if n in WINDOWS else DEFAULT_DAYS
    today = today or datetime.now(CHINA_TZ).date()
    return Window(n, today - timedelta(days=n - 1), today)


def as_aware(dt: datetime | None) -> datetime | None:
    if dt is None:
        return None
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


def cst_date(dt: datetime) -> date:
    aware = as_aware(dt)
    assert aware is not None
    return aware.astimezone(CHINA_TZ).date()
