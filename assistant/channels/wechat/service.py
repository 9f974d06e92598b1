"""The WeChat Official Account (公众号) workflow on top of :class:`~assistant.service.AssistantService`.

* Accounts: ``default`` from ``WECHAT_TOKEN``/``WECHAT_APPID``/``WECHAT_ENCODING_AES_KEY``/``WECHAT_APPSECRET``,
  more from the JSON object ``WECHAT_ACCOUNTS`` (``{"putuo": {"token": …, "appid": …, "encoding_aes_key": …,
  "appsecret": …, "mode": "safe"}}``).
* Each inbound message is claimed once in ``wechat_messages`` (unique per account + MsgId, events: FromUserName +
  CreateTime); the reply is stored there, so WeChat's retries get the same bytes, across processes.
* The 5-second rule: the message is handled in a worker thread; when it is not ready within the reply budget the
  passive reply is ``success`` and the answer goes out later through the customer-service API (a Notification row,
  ``pending`` → ``sent``/``failed``, or ``disabled`` when the outbound adapter is off).
* Questions are stored like web questions (channel ``wechat``, session_id = openid, client_msg_id = MsgId);
  abstentions and 转人工 reach the staff queue through the service.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ...consult.schedule import next_day
from ...db.models import Notification, Question, WechatMessage, WechatUser
from ...domain import CHINA_TZ, today_cn
from ...errors import QuestionError
from ...questions import answer_from_dict
from ...service import AssistantService
from ...text.contact import valid_uscc
from .accounts import WechatAccount, load_accounts
from .format import (
    BIND_USAGE,
    ERROR_TEXT,
    HANDOFF_DONE,
    HANDOFF_PROMPT,
    MAX_REPLY_BYTES,
    NON_TEXT,
    VOICE_UNRECOGNIZED,
    chat_link,
    fit_reply,
    format_answer,
    register_day_text,
    truncate_bytes,
    welcome_text,
)
from .outbound import DbTokenStore
from .protocol import (
    SUCCESS,
    DisabledOutbound,
    Inbound,
    Outbound,
    OutboundError,
    WechatApiOutbound,
    text_reply,
)

log = logging.getLogger(__name__)


CHANNEL = "wechat"
MAX_ATTEMPTS = 5
_BIND = re.compile(r"^(?:绑定|绑定企业)[\s:：]*(?P<name>.+?)[\s,，、;；:：]+(?P<code>[0-9A-Za-z]{18})$")
_UNBIND = {"解绑", "解除绑定", "取消绑定"}
_HANDOFF_WORDS = {"转人工", "人工", "人工客服", "人工服务", "转人工服务"}
_TRAILING_PUNCT = "。！？!?.，, "


# -- the channel -----------------------------------------------------------------------------------------------
RESEND_TEXT = "抱歉，您刚才发送的消息因系统故障未能处理，请重新发送您的问题。给您带来不便，敬请谅解。"


@dataclass
class Outcome:
    """What handling a message produced: a text to send (None: nothing, reply ``success``) and the question."""

    text: str | None
    question_id: int | None = None


@dataclass
class Stored:
    """The reply for a message as stored (plaintext XML or ``success``) and its encrypted form when sent so."""

    row_id: int
    reply: str
    reply_wire: str


class WechatChannel:
    """Handles messages of every configured account; one per app (``app.extensions["wechat"]``)."""

    def __init__(self, svc: AssistantService, workers: int = 4) -> None:
        self.svc = svc
        self.settings = svc.settings
        self.accounts = load_accounts(svc.settings)
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="wechat")
        self._outbound: dict[str, Outbound] = {}
        self._lock = threading.Lock()
        #: tests may replace this to observe delivery
        self.outbound_factory: Callable[[WechatAccount], Outbound] = self._make_outbound

    # outbound -----------------------------------------------------------------------------------------------
    def _make_outbound(self, account: WechatAccount) -> Outbound:
        if self.settings.wechat_outbound and account.appid and account.appsecret:
            return WechatApiOutbound(account.appid, account.appsecret, DbTokenStore(self.svc))
        return DisabledOutbound(account.name)

    def outbound(self, account: WechatAccount) -> Outbound:
        with self._lock:
            if account.name not in self._outbound:
                self._outbound[account.name] = self.outbound_factory(account)
            return self._outbound[account.name]

    def base_url(self, fallback: str = "") -> str:
        return (self.settings.public_base_url or fallback or "http://127.0.0.1:8000").rstrip("/")

    # dedup + the 5-second rule -------------------------------------------------------------------------------
    def _claim(self, account: WechatAccount, msg: Inbound) -> tuple[WechatMessage, bool]:
        key = msg.dedup_key
        with self.svc.Session() as s:
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

    def _finish(self, row_id: int, status: str, reply: str, question_id: int | None = None) -> bool:
        """processing → replied/deferred, only if still processing (compare-and-set across processes)."""
        values: dict[str, Any] = {"status": status, "reply": reply, "updated_at": datetime.now(UTC)}
        if question_id is not None:
            values["question_id"] = question_id
        with self.svc.Session() as s:
            res = s.execute(update(WechatMessage).where(WechatMessage.id == row_id,
                                                        WechatMessage.status == "processing").values(**values))
            s.commit()
            return bool(getattr(res, "rowcount", 0) == 1)

    def _row(self, row_id: int) -> WechatMessage | None:
        with self.svc.Session() as s:
            return s.get(WechatMessage, row_id)

    def _wait_existing(self, row: WechatMessage, budget: float) -> WechatMessage:
        """A retry of a message being handled elsewhere: wait for its reply; past the budget, defer it."""
        deadline = time.monotonic() + budget
        current: WechatMessage | None = row
        while current is not None and current.status == "processing" and time.monotonic() < deadline:
            time.sleep(0.05)
            current = self._row(row.id)
        if current is None or current.status == "processing":
            self._finish(row.id, "deferred", SUCCESS)  # the first handler then delivers through the API
            current = self._row(row.id)
        assert current is not None
        return current

    def render(self, msg: Inbound, text: str | None) -> str:
        if text is None:
            return SUCCESS
        return text_reply(msg.source, msg.target, text, int(time.time()))

    def respond(self, account: WechatAccount, msg: Inbound, base_url: str = "",
                encrypt: Callable[[str], str] | None = None) -> str:
        """The bytes to send back for ``msg`` (the same for every retry of it)."""
        budget = float(self.settings.wechat_reply_budget)
        row, created = self._claim(account, msg)
        if not created:
            done = self._wait_existing(row, budget)
            return self._wire(done, encrypt)
        fut = self.pool.submit(self.handle, account, msg, self.base_url(base_url))
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
            if self._finish(row.id, "replied", reply, outcome.question_id):
                return self._wire(Stored(row.id, reply, ""), encrypt)
            # a retry gave up waiting and answered "success": the answer goes out through the API
            self._deliver_later(account, msg, outcome)
        else:
            self._finish(row.id, "deferred", SUCCESS)
            fut.add_done_callback(lambda f: self._deferred_done(account, msg, f))
        stored = self._row(row.id)
        assert stored is not None
        return self._wire(stored, encrypt)

    def _wire(self, row: WechatMessage | Stored, encrypt: Callable[[str], str] | None) -> str:
        """The reply as sent: plaintext, or the encrypted envelope (stored the first time, so retries match)."""
        if row.reply == SUCCESS or not row.reply or encrypt is None:
            return row.reply or SUCCESS
        if row.reply_wire:
            return row.reply_wire
        wire = encrypt(row.reply)
        rid = row.row_id if isinstance(row, Stored) else row.id
        with self.svc.Session() as s:
            s.execute(update(WechatMessage).where(WechatMessage.id == rid, WechatMessage.reply_wire == "")
                      .values(reply_wire=wire))
            s.commit()
            stored = s.get(WechatMessage, rid)
            return stored.reply_wire if stored is not None and stored.reply_wire else wire

    def _deferred_done(self, account: WechatAccount, msg: Inbound, fut: Future[Outcome]) -> None:
        try:
            outcome = fut.result()
        except Exception:
            log.exception("wechat message %s failed", msg.dedup_key)
            outcome = Outcome(ERROR_TEXT)
        self._deliver_later(account, msg, outcome)

    def _deliver_later(self, account: WechatAccount, msg: Inbound, outcome: Outcome,
                       claimed: tuple[str, ...] = ("processing", "deferred")) -> None:
        """Put the answer in the outbox once: the message row moves from a ``claimed`` status to
        ``answered_later`` in the same transaction (compare-and-set), so a handler that finishes after
        :meth:`recover_deferred` took its message over does not send a second answer."""
        with self.svc.Session() as s:
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

    def recover_deferred(self, older_than: float = 120.0, limit: int = 200) -> dict[str, int]:
        """Messages whose handler died (a killed or restarted worker) before their answer reached the outbox.

        A message still ``processing`` or ``deferred`` after ``older_than`` seconds is claimed (compare-and-set, so
        two cron runs never both take it) and finished from what was stored: the stored answer of its question,
        else the stored question answered again, else — the text never reached the database — a notice asking the
        user to send it again. The result goes out through the outbox like any deferred answer. Returns counts.
        """
        cutoff = datetime.now(UTC) - timedelta(seconds=older_than)
        counts = {"answered": 0, "reanswered": 0, "asked_to_resend": 0, "skipped": 0}
        with self.svc.Session() as s:
            rows = list(s.scalars(select(WechatMessage)
                                  .where(WechatMessage.status.in_(("processing", "deferred")),
                                         WechatMessage.updated_at < cutoff)
                                  .order_by(WechatMessage.id).limit(limit)))
        for row in rows:
            with self.svc.Session() as s:
                res = s.execute(update(WechatMessage)
                                .where(WechatMessage.id == row.id, WechatMessage.status == row.status,
                                       WechatMessage.updated_at < cutoff)
                                .values(status="recovering", updated_at=datetime.now(UTC)))
                s.commit()
                if getattr(res, "rowcount", 0) != 1:
                    continue  # finished or claimed by someone else meanwhile
            account = self.accounts.get(row.account)
            if account is None or not row.msg_key.startswith("msg:") or row.msg_type not in ("text", "voice"):
                self._finish_recovery(row.id, "abandoned")  # events and media: nothing to answer later
                counts["skipped"] += 1
                continue
            msg_id = row.msg_key[4:]
            inbound = Inbound(msg_type=row.msg_type, event="", source=row.openid, target="", create_time=0,
                              msg_id=msg_id)
            cmid = self._client_msg_id(account, inbound)
            with self.svc.Session() as s:
                q = s.scalar(select(Question).where(Question.channel == CHANNEL, Question.client_msg_id == cmid))
                text, result = (q.text, q.result) if q is not None else ("", None)
            if q is not None and result:
                outcome = Outcome(format_answer(answer_from_dict(result), text, self.base_url()), q.id)
                counts["answered"] += 1
            elif q is not None:
                try:
                    out = self.svc.ask(text, channel=CHANNEL, session_id=row.openid, client_msg_id=cmid)
                    outcome = Outcome(format_answer(out.answer, text, self.base_url()), out.question_id)
                except QuestionError as exc:
                    outcome = Outcome(exc.message, q.id)
                counts["reanswered"] += 1
            else:
                outcome = Outcome(RESEND_TEXT)
                counts["asked_to_resend"] += 1
            self._deliver_later(account, inbound, outcome, claimed=("recovering",))
        return counts

    def _finish_recovery(self, row_id: int, status: str) -> None:
        with self.svc.Session() as s:
            s.execute(update(WechatMessage).where(WechatMessage.id == row_id).values(status=status))
            s.commit()

    # delivery ------------------------------------------------------------------------------------------------
    def _account_of(self, openid: str) -> WechatAccount | None:
        with self.svc.Session() as s:
            u = s.scalar(select(WechatUser).where(WechatUser.openid == openid)
                         .order_by(WechatUser.updated_at.desc()).limit(1))
        name = u.account if u is not None else "default"
        return self.accounts.get(name)

    def _notification_text(self, n: Notification) -> str:
        if n.kind == "deferred_answer":
            return truncate_bytes(n.body, MAX_REPLY_BYTES)
        question = ""
        if n.question_id is not None:
            with self.svc.Session() as s:
                q = s.get(Question, n.question_id)
                question = q.text if q is not None else ""
        lead = f"您咨询的问题“{question[:60]}{'…' if len(question) > 60 else ''}”已由工作人员答复：" if question \
            else "工作人员答复："
        tail = "完整答复：" + chat_link(self.base_url(), question) if question else ""
        return fit_reply(lead + "\n" + n.body, tail)

    def deliver(self, notification_id: int) -> str:
        """Send one pending notification; returns its new status (or the current one if someone else has it)."""
        with self.svc.Session() as s:
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
            text = self._notification_text(n)
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
        with self.svc.Session() as s:
            s.execute(update(Notification).where(Notification.id == notification_id)
                      .values(status=status, sent_at=sent_at))
            s.commit()
        return status

    def deliver_pending(self, limit: int = 200) -> dict[str, int]:
        """Send pending WeChat notifications (staff answers, deferred answers); counts by resulting status."""
        with self.svc.Session() as s:
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

    # handling ------------------------------------------------------------------------------------------------
    def _user(self, account: WechatAccount, openid: str, **changes: Any) -> WechatUser:
        with self.svc.Session() as s:
            u = s.scalar(select(WechatUser).where(WechatUser.account == account.name, WechatUser.openid == openid))
            if u is None:
                u = WechatUser(account=account.name, openid=openid[:100], enterprise="", uscc="",
                               awaiting_handoff=False, subscribed=True)
                s.add(u)
                try:
                    s.flush()
                except IntegrityError:
                    s.rollback()
                    u = s.scalar(select(WechatUser).where(WechatUser.account == account.name,
                                                          WechatUser.openid == openid))
                    assert u is not None
            for k, v in changes.items():
                setattr(u, k, v)
            u.updated_at = datetime.now(UTC)
            s.commit()
            return u

    def handle(self, account: WechatAccount, msg: Inbound, base_url: str) -> Outcome:
        """What to answer to ``msg`` (runs in a worker thread)."""
        if msg.msg_type == "event":
            return self._event(account, msg, base_url)
        if msg.msg_type == "text":
            return self._text(account, msg, msg.content.strip(), base_url)
        if msg.msg_type == "voice":
            said = msg.recognition.strip().rstrip(_TRAILING_PUNCT).strip()
            if not said:
                return Outcome(VOICE_UNRECOGNIZED)
            return self._text(account, msg, said, base_url)
        return Outcome(NON_TEXT)

    def next_day(self) -> date:
        """The city bureau's next consultation day, as the console schedules it (stored day or holiday shift)."""
        with self.svc.Session() as s:
            return next_day(self.svc.settings, today_cn(), s)

    def _event(self, account: WechatAccount, msg: Inbound, base_url: str) -> Outcome:
        ev = msg.event
        if ev in ("subscribe", "subscribe_scan"):
            self._user(account, msg.source, subscribed=True)
            return Outcome(welcome_text(base_url, self.next_day(), self.svc.settings.consult_day_of_month))
        if ev == "unsubscribe":
            self._user(account, msg.source, subscribed=False, awaiting_handoff=False)
            return Outcome(None)
        if ev == "click":
            key = msg.event_key.strip()
            if key == "MY_QUESTIONS":
                return Outcome(self.my_questions(account, msg.source, base_url))
            if key == "REGISTER_DAY":
                return Outcome(register_day_text(base_url, self.next_day(), self.svc.settings.consult_day_of_month))
            if key == "HANDOFF":
                self._user(account, msg.source, awaiting_handoff=True)
                return Outcome(HANDOFF_PROMPT)
            return Outcome(None)
        return Outcome(None)  # view, location, scan, template job reports …: acknowledged silently

    def _text(self, account: WechatAccount, msg: Inbound, text: str, base_url: str) -> Outcome:
        openid = msg.source
        user = self._user(account, openid)
        if not text:
            return Outcome(NON_TEXT)
        if text in _UNBIND:
            self._user(account, openid, enterprise="", uscc="", bound_at=None)
            return Outcome("已解除企业绑定。")
        if text.startswith("绑定"):
            return Outcome(self._bind(account, openid, text))
        if text in _HANDOFF_WORDS:
            self._user(account, openid, awaiting_handoff=True)
            return Outcome(HANDOFF_PROMPT)
        if text == "我的问题":
            return Outcome(self.my_questions(account, openid, base_url))
        if user.awaiting_handoff and text in ("取消", "退出"):
            self._user(account, openid, awaiting_handoff=False)
            return Outcome("已取消转人工。您可以继续直接提问。")
        direct = re.match(r"^(?:转人工|人工)[\s:：,，]+(.+)$", text, re.S)
        if user.awaiting_handoff or direct:
            body = direct.group(1).strip() if direct else text
            return self._handoff(account, msg, user, body)
        try:
            out = self.svc.ask(text, channel=CHANNEL, session_id=openid, client_msg_id=self._client_msg_id(account,
                               msg), enterprise=user.enterprise)
        except QuestionError as exc:
            return Outcome(exc.message)
        return Outcome(format_answer(out.answer, text, base_url), out.question_id)

    @staticmethod
    def _client_msg_id(account: WechatAccount, msg: Inbound) -> str:
        key = msg.msg_id or f"{msg.source}:{msg.create_time}"
        return key if account.name == "default" else f"{account.name}:{key}"[:100]

    def _handoff(self, account: WechatAccount, msg: Inbound, user: WechatUser, body: str) -> Outcome:
        self._user(account, msg.source, awaiting_handoff=False)
        try:
            res = self.svc.questions.handoff(body, None, None, {}, False, channel=CHANNEL, session_id=msg.source)
        except QuestionError as exc:
            return Outcome(exc.message)
        qid = int(res["question_id"])
        with self.svc.Session() as s:
            q = s.get(Question, qid)
            if q is not None:
                q.enterprise = user.enterprise
                q.client_msg_id = self._client_msg_id(account, msg)
                try:
                    s.commit()
                except IntegrityError:  # the same MsgId was already asked: keep the question without the id
                    s.rollback()
        return Outcome(HANDOFF_DONE.format(qid=qid), qid)

    def _bind(self, account: WechatAccount, openid: str, text: str) -> str:
        m = _BIND.match(text.replace("\u3000", " ").strip())
        if not m:
            return BIND_USAGE
        name, code = m.group("name").strip(), m.group("code").upper()
        if len(name) < 2 or len(name) > 100:
            return "企业名称应为 2–100 字。\n" + BIND_USAGE
        if not valid_uscc(code):
            return f"统一社会信用代码“{code}”无效（应为 18 位且校验位正确），请核对后重新发送。\n" + BIND_USAGE
        self._user(account, openid, enterprise=name, uscc=code, bound_at=datetime.now(UTC))
        return (f"已绑定企业：{name}（统一社会信用代码 {code}）。此后的咨询将记录在该企业名下，"
                "同一企业绑定的微信可在“我的问题”中看到企业的咨询记录。发送“解除绑定”可取消。")

    def my_questions(self, account: WechatAccount, openid: str, base_url: str, n: int = 5) -> str:
        """The user's (or the bound enterprise's) recent questions and their status."""
        with self.svc.Session() as s:
            me = s.scalar(select(WechatUser).where(WechatUser.account == account.name, WechatUser.openid == openid))
            openids = {openid}
            header = "您最近的咨询："
            if me is not None and me.uscc:
                openids |= set(s.scalars(select(WechatUser.openid).where(WechatUser.account == account.name,
                                                                         WechatUser.uscc == me.uscc)))
                header = f"{me.enterprise} 最近的咨询："
            rows = list(s.scalars(select(Question).where(Question.channel == CHANNEL,
                                                         Question.session_id.in_(openids))
                                  .order_by(Question.asked_at.desc(), Question.id.desc()).limit(n)))
        if not rows:
            return "您还没有咨询记录。直接发送文字即可提问，例如：“排污许可证有效期几年？”"
        lines = [header]
        for i, q in enumerate(rows, 1):
            st = self.svc.questions.status(q.token)
            when = q.asked_at.astimezone(CHINA_TZ).strftime("%m-%d") if q.asked_at.tzinfo else \
                q.asked_at.replace(tzinfo=UTC).astimezone(CHINA_TZ).strftime("%m-%d")
            title = q.text if len(q.text) <= 40 else q.text[:40] + "…"
            if st["status"] == "answered":
                ans = (st.get("answer") or {}).get("text") or ""
                state = "工作人员已答复：" + (ans if len(ans) <= 80 else ans[:80] + "…")
            elif st["status"] == "pending":
                state = "已转人工，等待工作人员答复"
            elif q.decision == "error":
                state = "处理出错，请重新发送"
            elif q.decision == "caution":
                state = "已由助手答复（仅供参考）"
            else:
                state = "已由助手答复"
            lines.append(f"{i}. {title}（{when}）\n   {state}")
        tail = f"更多内容：{base_url.rstrip('/')}/chat"
        return fit_reply("\n".join(lines), tail)

    def close(self) -> None:
        self.pool.shutdown(wait=True)


def channel_for(app: Any) -> WechatChannel:
    """The app's channel (created on first use)."""
    ch = app.extensions.get("wechat")
    if ch is None:
        ch = WechatChannel(app.extensions["assistant"])
        app.extensions["wechat"] = ch
    return ch  # type: ignore[no-any-return]


__all__ = ["CHANNEL", "Outcome", "Stored", "WechatChannel", "channel_for"]
