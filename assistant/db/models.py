"""SQLAlchemy 2.0 typed models: the documents, their passages, curated answers and every asked question."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Date, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[str]: JSON}


class Document(Base):
    """A source document: a law, 条例, 规章, local regulation, standard, catalogue, official reply, curated set."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(300), unique=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    issuer: Mapped[str] = mapped_column(String(200), default="")
    doc_number: Mapped[str] = mapped_column(String(200), default="")
    promulgated: Mapped[date | None] = mapped_column(Date, nullable=True)
    effective: Mapped[date | None] = mapped_column(Date, nullable=True)
    status: Mapped[str] = mapped_column(String(10), default="现行有效", index=True)
    revision_note: Mapped[str] = mapped_column(Text, default="")
    source_path: Mapped[str] = mapped_column(String(1000), default="")
    fingerprint: Mapped[str] = mapped_column(String(64), default="")
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    ingested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    passages: Mapped[list[Passage]] = relationship(
        back_populates="document", cascade="all, delete-orphan", order_by="Passage.ordinal"
    )


class Passage(Base):
    """One retrievable unit. Regulation articles have id ``<title>#<n>``."""

    __tablename__ = "passages"

    id: Mapped[str] = mapped_column(String(400), primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(60))
    ordinal: Mapped[int] = mapped_column(Integer, default=0)
    article: Mapped[int | None] = mapped_column(Integer, nullable=True)
    heading: Mapped[str] = mapped_column(String(500), default="")
    text: Mapped[str] = mapped_column(Text)
    line: Mapped[int | None] = mapped_column(Integer, nullable=True)

    document: Mapped[Document] = relationship(back_populates="passages")


class CuratedAnswer(Base):
    """A question answered by the bureau in plain Chinese, citing the articles behind it."""

    __tablename__ = "curated_answers"

    id: Mapped[str] = mapped_column(String(60), primary_key=True)
    question: Mapped[str] = mapped_column(Text)
    paraphrases: Mapped[list[str]] = mapped_column(JSON, default=list)
    answer: Mapped[str] = mapped_column(Text)
    citations: Mapped[list[str]] = mapped_column(JSON, default=list)
    category: Mapped[str] = mapped_column(String(50), default="", index=True)
    lead_unit: Mapped[str] = mapped_column(String(50), default="")
    audience: Mapped[str] = mapped_column(String(50), default="")
    reviewed: Mapped[date | None] = mapped_column(Date, nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="published", index=True)
    #: where the entry came from: ``file:<path>`` (shipped corpus) or ``console`` (published by staff)
    origin: Mapped[str] = mapped_column(String(500), default="")
    kind: Mapped[str] = mapped_column(String(20), default="curated")  # curated | 咨询日答复
    version: Mapped[int] = mapped_column(Integer, default=1)
    fingerprint: Mapped[str] = mapped_column(String(64), default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


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


class StaffUser(Base):
    """A bureau staff account: admin (city, all districts), district staff, expert, viewer."""

    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(50), unique=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(20))
    district: Mapped[str] = mapped_column(String(50), default="")
    display_name: Mapped[str] = mapped_column(String(100), default="")
    unit: Mapped[str] = mapped_column(String(50), default="")  # 处室 / 单位, for assignment
    active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_login: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AuditLog(Base):
    """Every staff action: who, when, what, before/after."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    username: Mapped[str] = mapped_column(String(50), index=True)
    action: Mapped[str] = mapped_column(String(50))
    target: Mapped[str] = mapped_column(String(200), default="")
    before: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    after: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    ip: Mapped[str] = mapped_column(String(64), default="")


class CuratedVersion(Base):
    """Version history of curated entries (one row per saved version)."""

    __tablename__ = "curated_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    curated_id: Mapped[str] = mapped_column(String(60), index=True)
    version: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    editor: Mapped[str] = mapped_column(String(50), default="")
    saved_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


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


class WechatMessage(Base):
    """One inbound WeChat message or event, keyed by account + MsgId (events: FromUserName+CreateTime), with the
    reply that was sent: WeChat retries a message up to three times and every retry gets the same bytes."""

    __tablename__ = "wechat_messages"
    __table_args__ = (UniqueConstraint("account", "msg_key", name="uq_wechat_messages_account_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account: Mapped[str] = mapped_column(String(50))
    msg_key: Mapped[str] = mapped_column(String(160))
    openid: Mapped[str] = mapped_column(String(100), default="", index=True)
    msg_type: Mapped[str] = mapped_column(String(40), default="")
    status: Mapped[str] = mapped_column(String(20), default="processing")
    # processing | replied | deferred (reply "success", answer to follow) | answered_later (in the outbox)
    # | recovering / abandoned (see WechatChannel.recover_deferred)
    reply: Mapped[str] = mapped_column(Text, default="")  # the plaintext reply (XML, or "success")
    reply_wire: Mapped[str] = mapped_column(Text, default="")  # the encrypted envelope as sent (安全/兼容模式)
    question_id: Mapped[int | None] = mapped_column(ForeignKey("questions.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class WechatUser(Base):
    """A follower of an account: enterprise binding (绑定 企业名称 信用代码) and conversation state (转人工)."""

    __tablename__ = "wechat_users"
    __table_args__ = (UniqueConstraint("account", "openid", name="uq_wechat_users_account_openid"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account: Mapped[str] = mapped_column(String(50))
    openid: Mapped[str] = mapped_column(String(100), index=True)
    enterprise: Mapped[str] = mapped_column(String(200), default="")
    uscc: Mapped[str] = mapped_column(String(18), default="", index=True)
    bound_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    awaiting_handoff: Mapped[bool] = mapped_column(default=False)
    subscribed: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class WechatToken(Base):
    """Cached access tokens of the outbound API, shared by every process (fetching a new one invalidates the old)."""

    __tablename__ = "wechat_tokens"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="")
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class IndexState(Base):
    """One row per saved index (``passages``, ``curated``): a version bumped every time the index is saved to
    ``index/<name>/`` and the fingerprint of its items. Every worker process compares the version with the one it
    has loaded (at most once a second) and reloads that index from disk when it changed."""

    __tablename__ = "index_state"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    fingerprint: Mapped[str] = mapped_column(String(64), default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


# -- 企业环保咨询日 ------------------------------------------------------------------------------------------------
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
