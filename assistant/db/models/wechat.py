"""The WeChat official accounts: inbound messages with their replies, followers, outbound API tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


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
