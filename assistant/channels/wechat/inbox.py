"""The ledger of inbound messages (``wechat_messages``): each message claimed once (unique per account + MsgId,
events: FromUserName + CreateTime), its reply stored there so WeChat's retries get the same bytes, across processes.

Statuses: processing → replied | deferred → answered_later; recovering → answered_later | abandoned.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ...db.models import WechatMessage
from .accounts import WechatAccount
from .protocol import SUCCESS, Inbound


@dataclass
class Stored:
    """The reply for a message as stored (plaintext XML or ``success``) and its encrypted form when sent so."""

    row_id: int
    reply: str
    reply_wire: str


class Inbox:
    def __init__(self, sessions: Callable[[], Session]) -> None:
        self.sessions = sessions

    def claim(self, account: WechatAccount, msg: Inbound) -> tuple[WechatMessage, bool]:
        """The message's row and whether this call created it (False: a retry, or another process has it)."""
        key = msg.dedup_key
        with self.sessions() as s:
            row = WechatMessage(account=account.name, msg_key=key, openid=msg.source[:100],
                                msg_type=(msg.msg_type + (":" + msg.event if msg.event else ""))[:40],
                                status="processing", reply="", reply_wire="")
            s.add(row)
            try:
                s.commit()
                return row, True
            except IntegrityError:
                s.rollback()
            existing = s.scalar(select(WechatMessage).where(WechatMessage.account == account.name,
                                                            WechatMessage.msg_key == key))
            assert existing is not None
            return existing, False

    def finish(self, row_id: int, status: str, reply: str, question_id: int | None = None) -> bool:
        """processing → replied/deferred, only if still processing (compare-and-set across processes)."""
        values: dict[str, Any] = {"status": status, "reply": reply, "updated_at": datetime.now(UTC)}
        if question_id is not None:
            values["question_id"] = question_id
        with self.sessions() as s:
            res = s.execute(update(WechatMessage).where(WechatMessage.id == row_id,
                                                        WechatMessage.status == "processing").values(**values))
            s.commit()
            return bool(getattr(res, "rowcount", 0) == 1)

    def row(self, row_id: int) -> WechatMessage | None:
        with self.sessions() as s:
            return s.get(WechatMessage, row_id)

    def wait_existing(self, row: WechatMessage, budget: float) -> WechatMessage:
        """A retry of a message being handled elsewhere: wait for its reply; past the budget, defer it."""
        deadline = time.monotonic() + budget
        current: WechatMessage | None = row
        while current is not None and current.status == "processing" and time.monotonic() < deadline:
            time.sleep(0.05)
            current = self.row(row.id)
        if current is None or current.status == "processing":
            self.finish(row.id, "deferred", SUCCESS)  # the first handler then delivers through the API
            current = self.row(row.id)
        assert current is not None
        return current

    def wire(self, row: WechatMessage | Stored, encrypt: Callable[[str], str] | None) -> str:
        """The reply as sent: plaintext, or the encrypted envelope (stored the first time, so retries match)."""
        if row.reply == SUCCESS or not row.reply or encrypt is None:
            return row.reply or SUCCESS
        if row.reply_wire:
            return row.reply_wire
        wire = encrypt(row.reply)
        rid = row.row_id if isinstance(row, Stored) else row.id
        with self.sessions() as s:
            s.execute(update(WechatMessage).where(WechatMessage.id == rid, WechatMessage.reply_wire == "")
                      .values(reply_wire=wire))
            s.commit()
            stored = s.get(WechatMessage, rid)
            return stored.reply_wire if stored is not None and stored.reply_wire else wire

    def stalled(self, cutoff: datetime, limit: int) -> list[WechatMessage]:
        """Messages still ``processing`` or ``deferred`` since before ``cutoff``."""
        with self.sessions() as s:
            return list(s.scalars(select(WechatMessage)
                                  .where(WechatMessage.status.in_(("processing", "deferred")),
                                         WechatMessage.updated_at < cutoff)
                                  .order_by(WechatMessage.id).limit(limit)))

    def take_over(self, row: WechatMessage, cutoff: datetime) -> bool:
        """Claim a stalled message for recovery (compare-and-set: two cron runs never both take it)."""
        with self.sessions() as s:
            res = s.execute(update(WechatMessage)
                            .where(WechatMessage.id == row.id, WechatMessage.status == row.status,
                                   WechatMessage.updated_at < cutoff)
                            .values(status="recovering", updated_at=datetime.now(UTC)))
            s.commit()
            return getattr(res, "rowcount", 0) == 1

    def mark(self, row_id: int, status: str) -> None:
        with self.sessions() as s:
            s.execute(update(WechatMessage).where(WechatMessage.id == row_id).values(status=status))
            s.commit()
