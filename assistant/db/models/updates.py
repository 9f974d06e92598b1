"""政策速递: earlier versions of documents, the changes between versions (article diff, staff 解读), the notices sent
to askers a change concerns, and topic subscriptions."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class DocumentVersion(Base):
    """A superseded version of a document, kept readable (``<title>@<label>#<n>``); the current version lives in
    ``documents``/``passages``. ``passages`` holds the version's passages as they were (key, article, heading,
    text)."""

    __tablename__ = "document_versions"
    __table_args__ = (UniqueConstraint("document_id", "label", name="uq_document_version_label"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    #: the title the document had then (a law can be renamed when it is replaced)
    title: Mapped[str] = mapped_column(String(300))
    #: how the version is addressed: its effective (else promulgated, else ingest) date, ``YYYY-MM-DD``
    label: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10), default="现行有效")
    kind: Mapped[str] = mapped_column(String(20), default="")
    effective: Mapped[date | None] = mapped_column(Date, nullable=True)
    promulgated: Mapped[date | None] = mapped_column(Date, nullable=True)
    revision_note: Mapped[str] = mapped_column(Text, default="")
    fingerprint: Mapped[str] = mapped_column(String(64), default="")
    passages: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    superseded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PolicyChange(Base):
    """One change of a document (revision, amendment, repeal, replacement by a new law): the article diff and the
    staff's 解读, shown on 政策速递 (``/updates``)."""

    __tablename__ = "policy_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    #: the superseded version (None for a repeal recorded without a text change)
    version_id: Mapped[int | None] = mapped_column(ForeignKey("document_versions.id", ondelete="SET NULL"),
                                                   nullable=True)
    kind: Mapped[str] = mapped_column(String(20))  # 修订 | 废止 | 替代
    title: Mapped[str] = mapped_column(String(300))  # the document's title after the change
    old_title: Mapped[str] = mapped_column(String(300), default="")
    old_label: Mapped[str] = mapped_column(String(20), default="")
    new_label: Mapped[str] = mapped_column(String(20), default="")
    #: {"added": n, "removed": n, "changed": n, "renumbered": n, "unchanged": n}
    counts: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    #: one row per article: {"op", "old", "new", "old_text", "new_text", "similarity"}
    diff: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    #: the current passage ids the change touches (changed/added/renumbered) and the old ids it removed
    touched: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: curated categories the change concerns (for topic subscribers)
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    interpretation: Mapped[str] = mapped_column(Text, default="")  # staff 解读 (safe markup)
    interpretation_status: Mapped[str] = mapped_column(String(20), default="none")  # none | draft | published
    interpreted_by: Mapped[str] = mapped_column(String(50), default="")
    interpreted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


class ChangeNotice(Base):
    """A notice to one asker about one change: never twice for the same change and recipient."""

    __tablename__ = "change_notices"
    __table_args__ = (UniqueConstraint("change_id", "channel", "recipient", name="uq_change_notice"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    change_id: Mapped[int] = mapped_column(ForeignKey("policy_changes.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(20))  # wechat | web | phone
    recipient: Mapped[str] = mapped_column(String(200))  # openid / question token / phone
    enterprise: Mapped[str] = mapped_column(String(200), default="")
    question_id: Mapped[int | None] = mapped_column(ForeignKey("questions.id", ondelete="SET NULL"), nullable=True)
    reason: Mapped[str] = mapped_column(String(30), default="")  # answered | queue | curated | subscription
    #: the key in the link the notice carries (``/updates/<id>?n=<key>``): opening it counts the notice as opened
    key: Mapped[str] = mapped_column(String(40), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="sent")  # sent | called (phone list) | failed
    sent_by: Mapped[str] = mapped_column(String(50), default="")
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    opened_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Subscription(Base):
    """An asker's subscription to a topic (a curated category) on a channel; ``active`` False after 退订."""

    __tablename__ = "subscriptions"
    __table_args__ = (UniqueConstraint("channel", "subscriber", "topic", name="uq_subscription"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))  # wechat | web
    subscriber: Mapped[str] = mapped_column(String(200))  # openid / web subscriber token
    topic: Mapped[str] = mapped_column(String(50), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
