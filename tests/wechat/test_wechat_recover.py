"""Deferred WeChat answers survive a dead worker: ``recover_deferred`` (``assistant wechat recover``) finishes every
message whose handler died before the answer reached the outbox — from the stored answer, by answering the stored
question again, or by asking the user to resend — exactly once."""

from __future__ import annotations

import time

from sqlalchemy import func, select
from wechat_support import OPENID, WxEnv, sample, wx_db  # noqa: F401

from assistant.channels.wechat.dialogue import Outcome
from assistant.channels.wechat.protocol import parse
from assistant.channels.wechat.recovery import RESEND_TEXT
from assistant.db.models import Notification, Question, WechatMessage


def _stalled(env: WxEnv, msg_id: int, text: str = "排污许可证能用几年") -> tuple[object, object]:
    """A message claimed by a worker that then died (the row stays ``processing``); a retry deferred it."""
    msg = parse(sample("text.xml", Content=text, MsgId=msg_id, FromUserName=OPENID, CreateTime=int(time.time())))
    ch = env.channel
    acc = ch.accounts["default"]
    row, created = ch.inbox.claim(acc, msg)
    assert created
    assert ch.inbox.finish(row.id, "deferred", "success")
    return msg, acc


def _notifications(env: WxEnv) -> list[Notification]:
    with env.svc.Session() as s:
        return list(s.scalars(select(Notification).order_by(Notification.id)))


def _status(env: WxEnv, key: str) -> str:
    with env.svc.Session() as s:
        return str(s.scalar(select(WechatMessage.status).where(WechatMessage.msg_key == key)))


def test_nothing_recent_is_touched(wx_db: WxEnv) -> None:  # noqa: F811
    _stalled(wx_db, 71000)
    assert wx_db.channel.recover_deferred(older_than=120) == {"answered": 0, "reanswered": 0,
                                                              "asked_to_resend": 0, "skipped": 0}
    assert _status(wx_db, "msg:71000") == "deferred" and not _notifications(wx_db)


def test_text_never_stored_asks_the_user_to_resend_once(wx_db: WxEnv) -> None:  # noqa: F811
    _stalled(wx_db, 71001)
    counts = wx_db.channel.recover_deferred(older_than=0)
    assert counts["asked_to_resend"] == 1
    [n] = _notifications(wx_db)
    assert (n.recipient, n.kind, n.body) == (OPENID, "deferred_answer", RESEND_TEXT)
    assert _status(wx_db, "msg:71001") == "answered_later"
    assert sum(wx_db.channel.recover_deferred(older_than=0).values()) == 0  # nothing twice
    assert len(_notifications(wx_db)) == 1


def test_stored_answer_is_sent_and_a_late_handler_sends_nothing_more(wx_db: WxEnv) -> None:  # noqa: F811
    msg, acc = _stalled(wx_db, 71002)
    out = wx_db.svc.ask("排污许可证能用几年", channel="wechat", session_id=OPENID, client_msg_id="71002")
    counts = wx_db.channel.recover_deferred(older_than=0)
    assert counts["answered"] == 1
    [n] = _notifications(wx_db)
    assert n.question_id == out.question_id and "《排污许可管理条例》" in n.body
    # the original handler was only slow, not dead: its answer arrives after the recovery took over
    wx_db.channel.outbox.deliver_later(acc, msg, Outcome("迟到的回答", out.question_id))  # type: ignore[arg-type]
    assert len(_notifications(wx_db)) == 1
    with wx_db.svc.Session() as s:
        assert s.scalar(select(func.count()).select_from(Question)) == 1


def test_stored_question_without_answer_is_answered_again(wx_db: WxEnv) -> None:  # noqa: F811
    _stalled(wx_db, 71003)
    with wx_db.svc.Session() as s:  # the worker died between storing the question and storing its answer
        s.add(Question(token="t-71003", text="排污许可证能用几年", normalized="排污许可证能用几年", channel="wechat",
                       client_msg_id="71003", session_id=OPENID))
        s.commit()
    counts = wx_db.channel.recover_deferred(older_than=0)
    assert counts["reanswered"] == 1
    [n] = _notifications(wx_db)
    assert "《排污许可管理条例》" in n.body
    with wx_db.svc.Session() as s:
        [q] = s.scalars(select(Question)).all()  # the same row, now answered: stored once
        assert q.decision == "answer" and q.result and n.question_id == q.id


def test_events_are_not_answered_later(wx_db: WxEnv) -> None:  # noqa: F811
    msg = parse(sample("subscribe.xml", FromUserName=OPENID, CreateTime=123))
    ch = wx_db.channel
    row, _ = ch.inbox.claim(ch.accounts["default"], msg)
    counts = ch.recover_deferred(older_than=0)
    assert counts["skipped"] == 1 and not _notifications(wx_db)
    with wx_db.svc.Session() as s:
        assert s.get(WechatMessage, row.id).status == "abandoned"  # type: ignore[union-attr]
