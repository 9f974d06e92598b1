"""WeChat retries: one answer per MsgId (events: FromUserName+CreateTime), byte-identical replies; the 5-second
rule: a slow answer is replied ``success`` and delivered later through the customer-service API."""

from __future__ import annotations

import threading
import time
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select
from wechat_support import OPENID, WxEnv, sample, signed_query, wait_for, wx, wx_db  # noqa: F401

from assistant.channels.wechat.protocol import DisabledOutbound, parse, reply_content
from assistant.db.models import Notification, Question, WechatMessage


def _count(env: WxEnv, model: Any) -> int:
    with env.svc.Session() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_same_msgid_three_times_one_question_same_bytes(wx_db: WxEnv) -> None:  # noqa: F811
    xml = sample("text.xml", Content="排污许可证能用几年", MsgId=88001, FromUserName=OPENID,
                 CreateTime=int(time.time()))
    replies = [wx_db.post(xml) for _ in range(3)]
    assert all(r.status_code == 200 for r in replies)
    assert replies[0].get_data() == replies[1].get_data() == replies[2].get_data()
    assert "《排污许可管理条例》" in reply_content(replies[0].get_data(as_text=True))
    assert _count(wx_db, Question) == 1
    with wx_db.svc.Session() as s:
        row = s.scalars(select(WechatMessage)).one()
        assert (row.account, row.msg_key, row.status) == ("default", "msg:88001", "replied")
        assert row.reply.encode("utf-8") == replies[0].get_data()
        assert row.question_id is not None
    # a new MsgId is a new question
    wx_db.post(sample("text.xml", Content="排污许可证能用几年", MsgId=88002, FromUserName=OPENID))
    assert _count(wx_db, Question) == 2


def test_event_retries_are_deduplicated_by_user_and_create_time(wx: WxEnv) -> None:  # noqa: F811
    a = wx.event("subscribe.xml", create_time=1700000000)
    time.sleep(1.1)  # a later render would carry a different CreateTime in the reply
    b = wx.event("subscribe.xml", create_time=1700000000)
    assert a.get_data() == b.get_data()
    c = wx.event("subscribe.xml", create_time=1700000001)
    assert _count(wx, WechatMessage) == 2 and c.status_code == 200


def test_concurrent_retries_answer_once(wx: WxEnv) -> None:  # noqa: F811
    xml = sample("text.xml", Content="排污许可证能用几年", MsgId=88100, FromUserName=OPENID)
    out: list[bytes] = []

    def go() -> None:
        c = wx.app.test_client()
        out.append(c.post(f"/wechat/default?{urlencode(signed_query())}", data=xml,
                          content_type="text/xml").get_data())

    threads = [threading.Thread(target=go) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(out)) == 1 and len(out) == 3
    assert _count(wx, Question) == 1


@pytest.fixture
def slow(wx_db: WxEnv, monkeypatch: pytest.MonkeyPatch) -> WxEnv:  # noqa: F811
    """The reply budget is 0.3 s and retrieval takes 1 s."""
    svc = wx_db.svc
    svc.settings = svc.settings.evolve(wechat_reply_budget=0.3)
    wx_db.channel.settings = svc.settings
    real = svc.answerer.answer

    def sleepy(*a: Any, **kw: Any) -> Any:
        time.sleep(1.0)
        return real(*a, **kw)

    monkeypatch.setattr(svc.answerer, "answer", sleepy)
    return wx_db


def test_slow_answer_success_then_notification(slow: WxEnv) -> None:
    xml = sample("text.xml", Content="排污许可证能用几年", MsgId=99001, FromUserName=OPENID,
                 CreateTime=int(time.time()))
    t0 = time.perf_counter()
    r = slow.post(xml)
    assert time.perf_counter() - t0 < 0.9
    assert r.status_code == 200 and r.get_data(as_text=True) == "success"

    def delivered() -> Notification | None:
        with slow.svc.Session() as s:
            return s.scalars(select(Notification).where(Notification.status != "pending")).first()

    n = wait_for(delivered)
    assert (n.channel, n.recipient, n.kind, n.status) == ("wechat", OPENID, "deferred_answer", "disabled")
    assert "《排污许可管理条例》第十四条" in n.body and "/chat?q=" in n.body
    assert len(n.body.encode("utf-8")) <= 2048
    out = slow.channel.outbound(slow.channel.accounts["default"])
    assert isinstance(out, DisabledOutbound) and out.sent[0]["openid"] == OPENID
    with slow.svc.Session() as s:
        q = s.scalars(select(Question)).one()
        assert n.question_id == q.id and q.decision == "answer"
        row = s.scalars(select(WechatMessage)).one()
        assert (row.status, row.reply, row.question_id) == ("answered_later", "success", q.id)
    # WeChat's retry gets the same "success", and nothing is asked or sent twice
    assert slow.post(xml).get_data(as_text=True) == "success"
    assert _count(slow, Question) == 1 and _count(slow, Notification) == 1


def test_retry_while_first_is_still_processing(slow: WxEnv) -> None:
    """A retry that finds the first attempt still working waits for it, then defers it to the API."""
    msg = parse(sample("text.xml", Content="排污许可证能用几年", MsgId=99002, FromUserName=OPENID))
    ch = slow.channel
    acc = ch.accounts["default"]
    row, created = ch.inbox.claim(acc, msg)  # as if another process had claimed it and stalled
    assert created
    assert ch.respond(acc, msg) == "success"
    with slow.svc.Session() as s:
        assert s.get(WechatMessage, row.id).status == "deferred"  # type: ignore[union-attr]


def test_answer_finished_after_a_retry_deferred_it_goes_through_the_api(wx: WxEnv,  # noqa: F811
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    svc, ch = wx.svc, wx.channel
    gate = threading.Event()
    real = svc.answerer.answer

    def gated(*a: Any, **kw: Any) -> Any:
        gate.wait(5)
        return real(*a, **kw)

    monkeypatch.setattr(svc.answerer, "answer", gated)
    msg = parse(sample("text.xml", Content="排污许可证能用几年", MsgId=99003, FromUserName=OPENID))
    acc = ch.accounts["default"]
    result: list[str] = []
    t = threading.Thread(target=lambda: result.append(ch.respond(acc, msg)))
    t.start()
    row = wait_for(lambda: _row_for(wx, "msg:99003"))
    assert ch.inbox.finish(row.id, "deferred", "success")  # what a retry does after waiting in vain
    gate.set()
    t.join(10)
    assert result == ["success"]
    with svc.Session() as s:
        n = s.scalars(select(Notification)).one()
        assert n.status == "disabled" and "《排污许可管理条例》" in n.body


def _row_for(env: WxEnv, key: str) -> WechatMessage | None:
    with env.svc.Session() as s:
        return s.scalars(select(WechatMessage).where(WechatMessage.msg_key == key)).first()
