"""What the assistant says back to a WeChat user: questions answered like web questions (channel ``wechat``,
session_id = openid, client_msg_id = MsgId), menu clicks, 转人工, binding an enterprise, "我的问题"."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ...config import Settings
from ...consult.schedule import next_day
from ...db.models import Question, WechatUser
from ...domain import CHINA_TZ, today_cn
from ...errors import QuestionError
from ...questions import QuestionWorkflow
from ...text.contact import valid_uscc
from ...updates import changes, subscriptions
from .accounts import WechatAccount
from .format import (
    BIND_USAGE,
    HANDOFF_DONE,
    HANDOFF_PROMPT,
    NON_TEXT,
    VOICE_UNRECOGNIZED,
    fit_reply,
    format_answer,
    register_day_text,
    welcome_text,
)
from .protocol import Inbound

CHANNEL = "wechat"
#: 订阅 危废 / 订阅 / 退订 排污证 / 退订
_SUBSCRIBE = re.compile(r"^(订阅|退订)(?:[\s:：]+(.{1,100}))?$", re.S)
_BIND = re.compile(r"^(?:绑定|绑定企业)[\s:：]*(?P<name>.+?)[\s,，、;；:：]+(?P<code>[0-9A-Za-z]{18})$")
_UNBIND = {"解绑", "解除绑定", "取消绑定"}
_HANDOFF_WORDS = {"转人工", "人工", "人工客服", "人工服务", "转人工服务"}
_TRAILING_PUNCT = "。！？!?.，, "
#: the reply that takes the previous answer's "您是不是想问" suggestion (``format.SUGGESTION_HINT``)
_TAKE_SUGGESTION = {"1", "１"}
_ASK_ALONE = {"0", "０"}


@dataclass
class Outcome:
    """What handling a message produced: a text to send (None: nothing, reply ``success``) and the question."""

    text: str | None
    question_id: int | None = None


class Dialogue:
    """Handles one message of one user (in a worker thread of the channel)."""

    def __init__(self, sessions: Callable[[], Session], settings: Settings, questions: QuestionWorkflow) -> None:
        self.sessions = sessions
        self.settings = settings
        self.questions = questions

    def user(self, account: WechatAccount, openid: str, **changes: Any) -> WechatUser:
        with self.sessions() as s:
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
        with self.sessions() as s:
            return next_day(self.settings, today_cn(), s)

    def _event(self, account: WechatAccount, msg: Inbound, base_url: str) -> Outcome:
        ev = msg.event
        if ev in ("subscribe", "subscribe_scan"):
            self.user(account, msg.source, subscribed=True)
            return Outcome(welcome_text(base_url, self.next_day(), self.settings.consult.day_of_month))
        if ev == "unsubscribe":
            self.user(account, msg.source, subscribed=False, awaiting_handoff=False)
            return Outcome(None)
        if ev == "click":
            key = msg.event_key.strip()
            if key == "MY_QUESTIONS":
                return Outcome(self.my_questions(account, msg.source, base_url))
            if key == "REGISTER_DAY":
                return Outcome(register_day_text(base_url, self.next_day(), self.settings.consult.day_of_month))
            if key == "POLICY_UPDATES":
                return Outcome(self.policy_updates(msg.source, base_url))
            if key == "HANDOFF":
                self.user(account, msg.source, awaiting_handoff=True)
                return Outcome(HANDOFF_PROMPT)
            return Outcome(None)
        return Outcome(None)  # view, location, scan, template job reports …: acknowledged silently

    def _text(self, account: WechatAccount, msg: Inbound, text: str, base_url: str) -> Outcome:
        openid = msg.source
        user = self.user(account, openid)
        if not text:
            return Outcome(NON_TEXT)
        if text in _UNBIND:
            self.user(account, openid, enterprise="", uscc="", bound_at=None)
            return Outcome("已解除企业绑定。")
        if text.startswith("绑定"):
            return Outcome(self._bind(account, openid, text))
        if text in _HANDOFF_WORDS:
            self.user(account, openid, awaiting_handoff=True)
            return Outcome(HANDOFF_PROMPT)
        if text == "我的问题":
            return Outcome(self.my_questions(account, openid, base_url))
        sub = _SUBSCRIBE.match(text)
        if sub:
            return Outcome(self._subscription(openid, sub.group(1), (sub.group(2) or "").strip(), base_url))
        if text == "政策速递":
            return Outcome(self.policy_updates(openid, base_url))
        if user.awaiting_handoff and text in ("取消", "退出"):
            self.user(account, openid, awaiting_handoff=False)
            return Outcome("已取消转人工。您可以继续直接提问。")
        direct = re.match(r"^(?:转人工|人工)[\s:：,，]+(.+)$", text, re.S)
        if user.awaiting_handoff or direct:
            body = direct.group(1).strip() if direct else text
            return self._handoff(account, msg, user, body)
        offered = self.questions.offered(CHANNEL, openid) if text.strip(_TRAILING_PUNCT) in _TAKE_SUGGESTION else None
        alone = self.questions.read_in_context(CHANNEL, openid) if text.strip(_TRAILING_PUNCT) in _ASK_ALONE else None
        try:
            if alone is not None:  # "0": the previous question again, answered without the conversation
                out = self.questions.ask(alone, channel=CHANNEL, session_id=openid,
                                         client_msg_id=self.client_msg_id(account, msg), enterprise=user.enterprise,
                                         standalone=True)
                return Outcome(format_answer(out.answer, alone, base_url), out.question_id)
            if offered is not None:  # "1": the "您是不是想问" question of the previous answer, asked as if tapped
                out = self.questions.ask(offered[1], channel=CHANNEL, session_id=openid,
                                         client_msg_id=self.client_msg_id(account, msg), enterprise=user.enterprise,
                                         suggestion_of=offered[0])
                return Outcome(format_answer(out.answer, offered[1], base_url), out.question_id)
            out = self.questions.ask(text, channel=CHANNEL, session_id=openid, client_msg_id=self.client_msg_id(account,
                               msg), enterprise=user.enterprise)
        except QuestionError as exc:
            return Outcome(exc.message)
        return Outcome(format_answer(out.answer, text, base_url), out.question_id)

    def _subscription(self, openid: str, verb: str, words: str, base_url: str) -> str:
        """订阅 X / 退订 X / 退订 / 订阅 (the list of topics)."""
        with self.sessions() as s:
            try:
                if verb == "订阅" and not words:
                    have = subscriptions.subscribed(s, CHANNEL, openid)
                    return (f"可订阅的主题：{'、'.join(subscriptions.topics(s))}。\n发送“订阅 危废”等即可订阅，相关法规、"
                            f"标准变化时通过公众号通知您。" + (f"\n您已订阅：{'、'.join(have)}。" if have else ""))
                if verb == "订阅":
                    names = subscriptions.resolve(s, words)
                    have = subscriptions.subscribe(s, CHANNEL, openid, names)
                    return (f"已订阅：{'、'.join(names)}。相关法规、标准有修订或废止时，将通过公众号通知您。\n"
                            f"当前订阅：{'、'.join(have)}。发送“退订 {names[0]}”或“退订”可取消。")
                names_or_all = subscriptions.resolve(s, words) if words else None
                left = subscriptions.unsubscribe(s, CHANNEL, openid, names_or_all)
            except QuestionError as exc:
                return exc.message
        done = "已退订全部主题。" if names_or_all is None else f"已退订：{'、'.join(names_or_all)}。"
        return done + (f"仍订阅：{'、'.join(left)}。" if left else "您已不再收到政策速递通知。")

    def policy_updates(self, openid: str, base_url: str, n: int = 5) -> str:
        """The latest changes (政策速递), with the page link and how to subscribe."""
        with self.sessions() as s:
            rows = [changes.headline(c) for c in changes.recent(s, limit=n)]
            have = subscriptions.subscribed(s, CHANNEL, openid)
        head = "【政策速递】最近的法规、标准变化：\n" + "\n".join(f"{i}. {h}" for i, h in enumerate(rows, 1)) \
            if rows else "【政策速递】暂无法规、标准变化。"
        sub = f"您已订阅：{'、'.join(have)}。" if have else "发送“订阅 危废”等可订阅主题，变化时通知您。"
        return f"{head}\n详情：{base_url.rstrip('/')}/updates\n{sub}"

    @staticmethod
    def client_msg_id(account: WechatAccount, msg: Inbound) -> str:
        key = msg.msg_id or f"{msg.source}:{msg.create_time}"
        return key if account.name == "default" else f"{account.name}:{key}"[:100]

    def _handoff(self, account: WechatAccount, msg: Inbound, user: WechatUser, body: str) -> Outcome:
        self.user(account, msg.source, awaiting_handoff=False)
        try:
            res = self.questions.handoff(body, None, None, {}, False, channel=CHANNEL, session_id=msg.source)
        except QuestionError as exc:
            return Outcome(exc.message)
        qid = int(res["question_id"])
        with self.sessions() as s:
            q = s.get(Question, qid)
            if q is not None:
                q.enterprise = user.enterprise
                q.client_msg_id = self.client_msg_id(account, msg)
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
        self.user(account, openid, enterprise=name, uscc=code, bound_at=datetime.now(UTC))
        return (f"已绑定企业：{name}（统一社会信用代码 {code}）。此后的咨询将记录在该企业名下，"
                "同一企业绑定的微信可在“我的问题”中看到企业的咨询记录。发送“解除绑定”可取消。")

    def my_questions(self, account: WechatAccount, openid: str, base_url: str, n: int = 5) -> str:
        """The user's (or the bound enterprise's) recent questions and their status."""
        with self.sessions() as s:
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
            st = self.questions.status(q.token)
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
