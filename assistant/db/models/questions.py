"""Every asked question, what askers said about the answers (有帮助 / 没帮助, 转人工留言), the staff queue the
unsettled questions go to, and the notifications owed to askers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow


class Question(Base):
    """Every question a user submitted, stored exactly once, with what the assistant decided."""

    __tablename__ = "questions"
    __table_args__ = (
        UniqueConstraint("channel", "client_msg_id", name="uq_questions_channel_msg"),
        Index("ix_questions_asked_at", "asked_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    text: Mapped[str] = mapped_column(Text)
    normalized: Mapped[str] = mapped_column(Text, default="")
    channel: Mapped[str] = mapped_column(String(20), default="cli")
    client_msg_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    session_id: Mapped[str] = mapped_column(String(100), default="")
    district: Mapped[str] = mapped_column(String(50), default="")
    enterprise: Mapped[str] = mapped_column(String(200), default="")
    asked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    decision: Mapped[str] = mapped_column(String(20), default="pending")  # answer | caution | abstain | error | pending
    confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    top_id: Mapped[str] = mapped_column(String(400), default="")
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: the question whose "您是不是想问" suggestion the user took to ask this one
    suggestion_of: Mapped[int | None] = mapped_column(Integer, nullable=True)


class QueueItem(Base):
    """A question (or a cluster of similar questions) the assistant could not settle: for staff to answer."""

    __tablename__ = "queue_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(Text)  # the representative question
    normalized: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="new", index=True)  # new|assigned|answered|published|closed
    count: Mapped[int] = mapped_column(Integer, default=0)
    first_asked: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_asked: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    district: Mapped[str] = mapped_column(String(50), default="", index=True)
    category: Mapped[str] = mapped_column(String(50), default="")
    lead_unit: Mapped[str] = mapped_column(String(50), default="")
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    curated_id: Mapped[str | None] = mapped_column(String(60), nullable=True)
    close_reason: Mapped[str] = mapped_column(String(200), default="")
    assigned_unit: Mapped[str] = mapped_column(String(50), default="")
    assigned_to: Mapped[str] = mapped_column(String(50), default="")  # an expert's username
    answered_by: Mapped[str] = mapped_column(String(50), default="")
    #: a follow-up (跟踪问效) reported the problem as unresolved: the item it comes back from
    reopened_from: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    members: Mapped[list[QueueMember]] = relationship(back_populates="item", cascade="all, delete-orphan")


class QueueMember(Base):
    """Why a question joined a queue item: abstained, judged not helpful, or handed off by the asker."""

    __tablename__ = "queue_members"
    __table_args__ = (UniqueConstraint("item_id", "question_id", "source", name="uq_queue_member"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("queue_items.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(20))  # abstain | not_helpful | handoff
    channel: Mapped[str] = mapped_column(String(20), default="")
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    item: Mapped[QueueItem] = relationship(back_populates="members")


class Feedback(Base):
    """有帮助 / 没帮助 on an answer."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"), index=True)
    helpful: Mapped[bool] = mapped_column(default=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Handoff(Base):
    """转人工留言: the asker leaves the question for staff, optionally with contact data (stored only with consent)."""

    __tablename__ = "handoffs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    company: Mapped[str] = mapped_column(String(200), default="")
    uscc: Mapped[str] = mapped_column(String(18), default="")
    phone: Mapped[str] = mapped_column(String(30), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    consent: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Notification(Base):
    """A message owed to an asker (staff answer published, invitation, follow-up), delivered by its channel."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    question_id: Mapped[int | None] = mapped_column(ForeignKey("questions.id", ondelete="SET NULL"), nullable=True)
    channel: Mapped[str] = mapped_column(String(20))  # wechat | web | phone
    recipient: Mapped[str] = mapped_column(String(200), default="")  # openid / token / phone
    kind: Mapped[str] = mapped_column(String(30), default="answer_published")
    body: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)  # pending|sent|failed|disabled
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
