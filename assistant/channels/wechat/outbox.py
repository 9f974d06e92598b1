"""Messages that leave through WeChat's customer-service API: answers that missed the 5-second reply, staff answers,
consultation-day notices. Each is a ``Notification`` row (``pending`` → ``sent`` / ``failed``, or ``disabled`` when
the outbound adapter is off), sent by exactly one process."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ...config import Settings
from ...db.models import Notification, Question, WechatMessage, WechatUser
from .accounts import WechatAccount
from .dialogue import CHANNEL, Outcome
from .format import MAX_REPLY_BYTES, chat_link, fit_reply, truncate_bytes
from .protocol import DisabledOutbound, Inbound, Outbound, OutboundError, WechatApiOutbound

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5


class Outbox:
    """``token_store`` keeps the access tokens of the API (shared by every process)."""

    def __init__(self, sessions: Callable[[], Session], settings: Settings, accounts: dict[str, WechatAccount],
                 token_store: Any, base_url: Callable[[], str]) -> None:
        self.sessions = sessions
        self.settings = settings
        self.accounts = accounts
        self.token_store = token_store
        self.base_url = base_url
        self.adapters: dict[str, Outbound] = {}
        self._lock = threading.Lock()
        #: tests may replace this to observe delivery
        self.factory: Callable[[WechatAccount], Outbound] = self._make_outbound

    def _make_outbound(self, account: WechatAccount) -> Outbound:
        if self.settings.wechat.outbound and account.appid and account.appsecret:
            return WechatApiOutbound(account.appid, account.appsecret, self.token_store)
        return DisabledOutbound(account.name)

    def outbound(self, account: WechatAccount) -> Outbound:
        with self._lock:
            if account.name not in self.adapters:
                self.adapters[account.name] = self.factory(account)
            return self.adapters[account.name]

    def deliver_later(self, account: WechatAccount, msg: Inbound, outcome: Outcome,
                      claimed: tuple[str, ...] = ("processing", "deferred")) -> None:
        """Put the answer in the outbox once: the message row moves from a ``claimed`` status to
        ``answered_later`` in the same transaction (compare-and-set), so a handler that finishes after
        the recovery took its message over does not send a second answer."""
        with self.sessions() as s:
            values: dict[str, Any] = {"status": "answered_later"}
            if outcome.question_id is not None:
                values["question_id"] = outcome.question_id
            res = s.execute(update(WechatMessage).where(WechatMessage.account == account.name,
                                                        WechatMessage.msg_key == msg.dedup_key,
                                                        WechatMessage.status.in_(claimed)).values(**values))
            if getattr(res, "rowcount", 0) != 1 or outcome.text is None:
                s.commit()
                return
            n = Notification(question_id=outcome.question_id, channel=CHANNEL, recipient=msg.source,
                             kind="deferred_answer", body=outcome.text, status="pending")
            s.add(n)
            s.commit()
            nid = n.id
        self.deliver(nid)

    def _account_of(self, openid: str) -> WechatAccount | None:
        with self.sessions() as s:
            u = s.scalar(select(WechatUser).where(WechatUser.openid == openid)
                         .order_by(WechatUser.updated_at.desc()).limit(1))
        name = u.account if u is not None else "default"
        return self.accounts.get(name)

    def _text(self, n: Notification) -> str:
        if n.kind in ("deferred_answer", "policy_change"):  # composed in full where it was created
            return truncate_bytes(n.body, MAX_REPLY_BYTES)
        question = ""
        if n.question_id is not None:
            with self.sessions() as s:
                q = s.get(Question, n.question_id)
                question = q.text if q is not None else ""
        lead = f"您咨询的问题“{question[:60]}{'…' if len(question) > 60 else ''}”已由工作人员答复：" if question \
            else "工作人员答复："
        tail = "完整答复：" + chat_link(self.base_url(), question) if question else ""
        return fit_reply(lead + "\n" + n.body, tail)

    def deliver(self, notification_id: int) -> str:
        """Send one pending notification; returns its new status (or the current one if someone else has it)."""
        with self.sessions() as s:
            n = s.get(Notification, notification_id)
            if n is None or n.channel != CHANNEL:
                return "missing"
            if n.status != "pending":
                return n.status
            attempts = n.attempts
            # claim it: only one process sends a given notification
            res = s.execute(update(Notification).where(Notification.id == n.id, Notification.status == "pending",
                                                       Notification.attempts == attempts)
                            .values(attempts=attempts + 1))
            s.commit()
            if getattr(res, "rowcount", 0) != 1:
                return "busy"
            text = self._text(n)
            openid = n.recipient
        account = self._account_of(openid)
        status, sent_at = "pending", None
        if account is None:
            log.error("notification %s: no configured WeChat account for %s", notification_id, openid)
            status = "failed"
        else:
            out = self.outbound(account)
            try:
                out.send_text(openid, text)
                status, sent_at = ("sent", datetime.now(UTC)) if out.enabled else ("disabled", None)
            except OutboundError as exc:
                log.warning("notification %s not delivered: %s", notification_id, exc)
                status = "pending" if exc.retryable and attempts + 1 < MAX_ATTEMPTS else "failed"
        with self.sessions() as s:
            s.execute(update(Notification).where(Notification.id == notification_id)
                      .values(status=status, sent_at=sent_at))
            s.commit()
        return status

    def deliver_pending(self, limit: int = 200) -> dict[str, int]:
        """Send pending WeChat notifications (staff answers, deferred answers); counts by resulting status."""
        with self.sessions() as s:
            ids = list(s.scalars(select(Notification.id).where(Notification.channel == CHANNEL,
                                                               Notification.status == "pending")
                                 .order_by(Notification.id).limit(limit)))
        counts: dict[str, int] = {}
        for nid in ids:
            st = self.deliver(nid)
            counts[st] = counts.get(st, 0) + 1
        return counts

    def push_menu(self, account: WechatAccount, menu: dict[str, Any]) -> bool:
        """Push the menu; False when the outbound adapter is disabled (nothing sent)."""
        out = self.outbound(account)
        out.create_menu(menu)
        return bool(out.enabled)
