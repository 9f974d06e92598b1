"""The WeChat Official Account (公众号) channel: the 5-second rule on top of the inbox, the dialogue and the outbox.

* Accounts: ``default`` from ``WECHAT_TOKEN``/``WECHAT_APPID``/``WECHAT_ENCODING_AES_KEY``/``WECHAT_APPSECRET``,
  more from the JSON object ``WECHAT_ACCOUNTS`` (:mod:`.accounts`).
* Each inbound message is claimed once in ``wechat_messages`` and its reply stored there (:mod:`.inbox`).
* The 5-second rule: the message is handled in a worker thread (:mod:`.dialogue`); when it is not ready within the
  reply budget the passive reply is ``success`` and the answer goes out later through the customer-service API
  (:mod:`.outbox`); a handler that died is finished by :func:`.recovery.recover_deferred`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from ...service import AssistantService
from .accounts import WechatAccount, load_accounts
from .dialogue import Dialogue, Outcome
from .format import ERROR_TEXT
from .inbox import Inbox, Stored
from .outbound import DbTokenStore
from .outbox import Outbox
from .protocol import SUCCESS, Inbound, Outbound, text_reply
from .recovery import recover_deferred

log = logging.getLogger(__name__)


class WechatChannel:
    """Handles messages of every configured account; one per app (``app.extensions["wechat"]``)."""

    def __init__(self, svc: AssistantService, workers: int = 4) -> None:
        self.settings = svc.settings
        self.sessions = svc.session
        self.accounts = load_accounts(svc.settings)
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="wechat")
        self.inbox = Inbox(svc.session)
        self.dialogue = Dialogue(svc.session, svc.settings, svc.questions)
        self.outbox = Outbox(svc.session, svc.settings, self.accounts, DbTokenStore(svc), self.base_url)

    def base_url(self, fallback: str = "") -> str:
        return (self.settings.web.public_base_url or fallback or "http://127.0.0.1:8000").rstrip("/")

    def outbound(self, account: WechatAccount) -> Outbound:
        return self.outbox.outbound(account)

    def render(self, msg: Inbound, text: str | None) -> str:
        if text is None:
            return SUCCESS
        return text_reply(msg.source, msg.target, text, int(time.time()))

    def respond(self, account: WechatAccount, msg: Inbound, base_url: str = "",
                encrypt: Callable[[str], str] | None = None) -> str:
        """The bytes to send back for ``msg`` (the same for every retry of it)."""
        budget = float(self.settings.wechat.reply_budget)
        row, created = self.inbox.claim(account, msg)
        if not created:
            done = self.inbox.wait_existing(row, budget)
            return self.inbox.wire(done, encrypt)
        fut = self.pool.submit(self.dialogue.handle, account, msg, self.base_url(base_url))
        outcome: Outcome | None
        try:
            outcome = fut.result(timeout=budget)
        except FutureTimeout:
            outcome = None
        except Exception:
            log.exception("wechat message %s failed", msg.dedup_key)
            outcome = Outcome(ERROR_TEXT)
        if outcome is not None:
            reply = self.render(msg, outcome.text)
            if self.inbox.finish(row.id, "replied", reply, outcome.question_id):
                return self.inbox.wire(Stored(row.id, reply, ""), encrypt)
            # a retry gave up waiting and answered "success": the answer goes out through the API
            self.outbox.deliver_later(account, msg, outcome)
        else:
            self.inbox.finish(row.id, "deferred", SUCCESS)
            fut.add_done_callback(lambda f: self._deferred_done(account, msg, f))
        stored = self.inbox.row(row.id)
        assert stored is not None
        return self.inbox.wire(stored, encrypt)

    def _deferred_done(self, account: WechatAccount, msg: Inbound, fut: Future[Outcome]) -> None:
        try:
            outcome = fut.result()
        except Exception:
            log.exception("wechat message %s failed", msg.dedup_key)
            outcome = Outcome(ERROR_TEXT)
        self.outbox.deliver_later(account, msg, outcome)

    def recover_deferred(self, older_than: float = 120.0, limit: int = 200) -> dict[str, int]:
        return recover_deferred(self, older_than, limit)

    def deliver_pending(self, limit: int = 200) -> dict[str, int]:
        return self.outbox.deliver_pending(limit)

    def push_menu(self, account: WechatAccount, menu: dict[str, Any]) -> bool:
        return self.outbox.push_menu(account, menu)

    def close(self) -> None:
        self.pool.shutdown(wait=True)


def channel_for(app: Any) -> WechatChannel:
    """The app's channel (created on first use)."""
    ch = app.extensions.get("wechat")
    if ch is None:
        ch = WechatChannel(app.extensions["assistant"])
        app.extensions["wechat"] = ch
    return ch  # type: ignore[no-any-return]


__all__ = ["WechatChannel", "channel_for"]
