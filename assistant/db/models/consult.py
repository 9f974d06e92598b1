"""企业环保咨询日: the consultation days, their agendas, the participating enterprises and the 跟踪问效 follow-ups."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow


class ConsultationDay(Base):
    """One consultation day of one organiser (市本级 = the city bureau, or a district/zone): by default the 10th of
    the month, moved to the next working day when that is a weekend or a listed holiday, or by staff."""

    __tablename__ = "consult_days"
    __table_args__ = (UniqueConstraint("organiser", "month", name="uq_consult_days_organiser_month"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organiser: Mapped[str] = mapped_column(String(50), index=True)  # 市本级 | a district in auth.DISTRICTS
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    day: Mapped[date] = mapped_column(Date)
    time_text: Mapped[str] = mapped_column(String(100), default="")
    place: Mapped[str] = mapped_column(String(300), default="")
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: planned → frozen (agenda fixed, invitations may go out) → held (outcomes being recorded) → closed
    status: Mapped[str] = mapped_column(String(20), default="planned", index=True)
    moved_reason: Mapped[str] = mapped_column(String(200), default="")
    frozen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    frozen_by: Mapped[str] = mapped_column(String(50), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    items: Mapped[list[AgendaItem]] = relationship(back_populates="day", cascade="all, delete-orphan",
                                                   order_by="AgendaItem.position")


class AgendaItem(Base):
    """A queue item proposed for (or fixed on) a day's agenda, with its ranking and why; later the answer given."""

    __tablename__ = "consult_agenda_items"
    __table_args__ = (UniqueConstraint("day_id", "queue_item_id", name="uq_consult_agenda_day_item"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day_id: Mapped[int] = mapped_column(ForeignKey("consult_days.id", ondelete="CASCADE"), index=True)
    queue_item_id: Mapped[int] = mapped_column(ForeignKey("queue_items.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(Text, default="")
    topic: Mapped[str] = mapped_column(String(50), default="")
    lead_unit: Mapped[str] = mapped_column(String(50), default="")
    score: Mapped[float] = mapped_column(Float, default=0.0)
    askers: Mapped[int] = mapped_column(Integer, default=0)
    enterprises: Mapped[int] = mapped_column(Integer, default=0)
    reasons: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: proposed (by the builder) | pinned (kept by staff) | added (by staff) | excluded (removed by staff)
    state: Mapped[str] = mapped_column(String(20), default="proposed")
    outcome: Mapped[str] = mapped_column(Text, default="")
    outcome_citations: Mapped[list[str]] = mapped_column(JSON, default=list)
    curated_id: Mapped[str | None] = mapped_column(String(60), nullable=True)
    outcome_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    outcome_by: Mapped[str] = mapped_column(String(50), default="")

    day: Mapped[ConsultationDay] = relationship(back_populates="items")


class Participant(Base):
    """An enterprise on a day: registered by web form, invited because it asked an agenda question, or walked in;
    attendance recorded on the day. Contact data only with consent (registration) or from a consented handoff."""

    __tablename__ = "consult_participants"
    __table_args__ = (UniqueConstraint("day_id", "key", name="uq_consult_participant_day_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day_id: Mapped[int] = mapped_column(ForeignKey("consult_days.id", ondelete="CASCADE"), index=True)
    #: one row per enterprise and day: ``uscc:<code>``, ``company:<name>``, ``asker:<channel>:<session>``
    key: Mapped[str] = mapped_column(String(300))
    source: Mapped[str] = mapped_column(String(20), default="registered")  # registered | invited | walk_in
    company: Mapped[str] = mapped_column(String(200), default="")
    uscc: Mapped[str] = mapped_column(String(18), default="")
    contact: Mapped[str] = mapped_column(String(100), default="")
    phone: Mapped[str] = mapped_column(String(30), default="")
    channel: Mapped[str] = mapped_column(String(20), default="")  # how to reach them: wechat | web | phone | ""
    recipient: Mapped[str] = mapped_column(String(200), default="")  # openid / question token / phone
    question_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    agenda_item_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    invited_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    attended: Mapped[bool] = mapped_column(default=False)
    attended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class FollowUp(Base):
    """跟踪问效: one enterprise asked, some days after the day, whether its problem (one agenda item) was solved.
    Only the SHA-256 of the link token is stored; the token works once and expires."""

    __tablename__ = "consult_followups"
    __table_args__ = (UniqueConstraint("agenda_item_id", "participant_id", name="uq_consult_followup_item_part"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day_id: Mapped[int] = mapped_column(ForeignKey("consult_days.id", ondelete="CASCADE"), index=True)
    agenda_item_id: Mapped[int] = mapped_column(ForeignKey("consult_agenda_items.id", ondelete="CASCADE"), index=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("consult_participants.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    channel: Mapped[str] = mapped_column(String(20), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    solved: Mapped[str] = mapped_column(String(10), default="")  # "" (no answer yet) | yes | partly | no
    score: Mapped[int | None] = mapped_column(Integer, nullable=True)
    comment: Mapped[str] = mapped_column(Text, default="")
    requeued_item_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
