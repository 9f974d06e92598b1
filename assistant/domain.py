"""The service's shared terms, at the bottom of the stack (above the database models only): the time zone the
bureau works in and its date format, the queue's statuses and which of them are open, and who acts (``Actor``)
with the audit trail every staff action writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from .db.models import AuditLog

#: China Standard Time (UTC+8, no daylight saving): the bureau's dates and office hours
CHINA_TZ = timezone(timedelta(hours=8))


def today_cn() -> date:
    """Today's date in Zhoushan."""
    return datetime.now(CHINA_TZ).date()


def cn_date(d: date) -> str:
    """2026年3月10日"""
    return f"{d.year}年{d.month}月{d.day}日"


class QueueStatus(StrEnum):
    """Where a staff-queue item stands."""

    NEW = "new"
    ASSIGNED = "assigned"
    ANSWERED = "answered"
    PUBLISHED = "published"
    CLOSED = "closed"


#: the statuses as staff read them
QUEUE_STATUS_LABELS: dict[str, str] = {QueueStatus.NEW.value: "新问题", QueueStatus.ASSIGNED.value: "已分派",
                                       QueueStatus.ANSWERED.value: "已答复", QueueStatus.PUBLISHED.value: "已发布",
                                       QueueStatus.CLOSED.value: "已关闭"}
#: open = still work for the bureau (not published, not closed): the console's 待处理, overdue counts, agenda candidates
OPEN: tuple[str, ...] = (QueueStatus.NEW.value, QueueStatus.ASSIGNED.value, QueueStatus.ANSWERED.value)
#: not answered yet: a new question joins such an item (intake), and a handoff can still change it
UNANSWERED: tuple[str, ...] = (QueueStatus.NEW.value, QueueStatus.ASSIGNED.value)


@dataclass(frozen=True)
class Actor:
    """Who acts: enough of the staff user for scoping and auditing."""

    username: str
    role: str
    district: str = ""
    ip: str = ""


def audit(session: Session, actor: Actor, action: str, target: str, before: dict[str, Any] | None = None,
          after: dict[str, Any] | None = None) -> None:
    """One audit-log row for a staff action (committed with the action's transaction)."""
    session.add(AuditLog(username=actor.username, action=action, target=target, before=before or {},
                         after=after or {}, ip=actor.ip))


__all__ = ["CHINA_TZ", "OPEN", "QUEUE_STATUS_LABELS", "UNANSWERED", "Actor", "QueueStatus", "audit", "cn_date",
           "today_cn"]
