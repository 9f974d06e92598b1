"""Messages and events: answers formatted for WeChat, welcome, menu clicks, voice, binding, 转人工, my questions."""

from __future__ import annotations

import time
from datetime import date

from sqlalchemy import select
from wechat_support import OPENID, WxEnv, sample, wx, wx_db  # noqa: F401

from assistant.channels.wechat.protocol import reply_content
from assistant.consult.schedule import ensure_day, next_day
from assistant.db.models import Question, QueueMember, WechatUser
from assistant.domain import cn_date, today_cn
from assistant.text.contact import uscc_check_char


def _uscc(prefix: str = "91330900MA2A0B1C") -> str:
    first17 = (prefix + "X")[:17]
    return first17 + uscc_check_char(first17)


def test_text_answer_is_short_cited_linked(wx_db: WxEnv) -> None:  # noqa: F811
    r = wx_db.post(sample("text.xml", Content="排污许可证能用几年", MsgId=1001, FromUserName=OPENID,
                          CreateTime=int(time.time())))
    assert r.status_code == 200 and r.mimetype == "application/xml"
    xml = r.get_data(as_text=True)
    assert f"<ToUserName><![CDATA[{OPENID}]]></ToUserName>" in xml
    assert "<FromUserName><![CDATA[toUser]]></FromUserName>" in xml
    assert "<MsgType><![CDATA[text]]></MsgType>" in xml
    content = reply_content(xml)
    assert len(content.encode("utf-8")) <= 2048
    assert "排污许可证的有效期是几年" in content  # the curated answer
    assert "《排污许可管理条例》第十四条" in content  # a citation label
    assert "https://zixun.example.cn/chat?q=%E6%8E%92%E6%B1%A1" in content  # the link to the full answer
    with wx_db.svc.Session() as s:
        q = s.scalars(select(Question)).one()
        assert (q.channel, q.session_id, q.client_msg_id, q.decision) == ("wechat", OPENID, "1001", "answer")


def test_abstention_goes_to_the_staff_queue(wx: WxEnv) -> None:  # noqa: F811
    content = wx.ask("食堂的菜单今天是什么", 1002)
    assert "转交工作人员" in content and "/chat?q=" in content
    with wx.svc.Session() as s:
        q = s.scalars(select(Question)).one()
        assert q.decision == "abstain"
        m = s.scalars(select(QueueMember)).one()
        assert (m.question_id, m.source, m.channel) == (q.id, "abstain", "wechat")


def test_subscribe_welcome_names_next_consultation_day(wx: WxEnv) -> None:  # noqa: F811
    r = wx.event("subscribe.xml", create_time=int(time.time()))
    content = reply_content(r.get_data(as_text=True))
    day = next_day(wx.svc.settings, today_cn())
    assert "欢迎关注" in content and "排污许可" in content
    assert f"下一次企业环保咨询日：{cn_date(day)}" in content
    with wx.svc.Session() as s:
        u = s.scalars(select(WechatUser)).one()
        assert (u.openid, u.subscribed) == (OPENID, True)


def test_next_consultation_day_follows_the_schedule(wx: WxEnv) -> None:  # noqa: F811
    settings = wx.svc.settings
    assert next_day(settings, date(2026, 11, 3)) == date(2026, 11, 10)
    assert next_day(settings, date(2026, 11, 10)) == date(2026, 11, 10)
    assert next_day(settings, date(2026, 11, 11)) == date(2026, 12, 10)
    # 2027-01-10 is a Sunday: the day moves to Monday the 11th, as in the console (it used to say the 10th)
    assert next_day(settings, date(2026, 12, 27)) == date(2027, 1, 11)


def test_welcome_names_the_day_staff_moved(wx: WxEnv) -> None:  # noqa: F811
    today = today_cn()
    month = f"{today.year:04d}-{today.month:02d}"
    with wx.svc.Session() as s:
        day = ensure_day(s, wx.svc.settings, month)
        day.day = today  # moved to today by the organiser
        s.commit()
    r = wx.event("subscribe.xml", create_time=int(time.time()))
    assert f"下一次企业环保咨询日：{cn_date(today)}" in reply_content(r.get_data(as_text=True))


def test_view_event_and_unknown_click_are_acknowledged_silently(wx: WxEnv) -> None:  # noqa: F811
    r = wx.event("view.xml")
    assert r.status_code == 200 and r.get_data(as_text=True) == "success"
    r = wx.event("click.xml")  # EventKey EVENTKEY: not ours
    assert r.get_data(as_text=True) == "success"
    r = wx.event("subscribe.xml", create_time=1).get_data(as_text=True)
    unsub = sample("subscribe.xml", FromUserName=OPENID, CreateTime=2).replace("subscribe", "unsubscribe")
    assert wx.post(unsub).get_data(as_text=True) == "success"


def test_register_day_click(wx: WxEnv) -> None:  # noqa: F811
    content = reply_content(wx.event("click.xml", EventKey="REGISTER_DAY").get_data(as_text=True))
    assert "每月10日" in content and "即将开通" in content and "https://zixun.example.cn/chat" in content


def test_my_questions_lists_recent_questions_with_status(wx: WxEnv) -> None:  # noqa: F811
    empty = reply_content(wx.event("click.xml", EventKey="MY_QUESTIONS", create_time=10).get_data(as_text=True))
    assert "还没有咨询记录" in empty
    wx.ask("排污许可证能用几年", 2001)
    wx.ask("食堂的菜单今天是什么", 2002)
    wx.ask("别人的问题", 2003, openid="oSomeoneElse")
    content = reply_content(wx.event("click.xml", EventKey="MY_QUESTIONS", create_time=11).get_data(as_text=True))
    assert "排污许可证能用几年" in content and "已由助手答复" in content
    assert "食堂的菜单今天是什么" in content and "等待工作人员答复" in content
    assert "别人的问题" not in content
    assert len(content.encode("utf-8")) <= 2048


def test_handoff_click_leaves_the_next_message_for_staff(wx_db: WxEnv) -> None:  # noqa: F811
    prompt = reply_content(wx_db.event("click.xml", EventKey="HANDOFF").get_data(as_text=True))
    assert "转交工作人员" in prompt
    content = wx_db.ask("我们码头的含油污水能委托哪家单位处理？", 3001)
    assert "已转交工作人员" in content
    with wx_db.svc.Session() as s:
        q = s.scalars(select(Question)).one()
        assert (q.channel, q.session_id, q.client_msg_id, q.decision) == ("wechat", OPENID, "3001", "handoff")
        m = s.scalars(select(QueueMember)).one()
        assert (m.source, m.channel) == ("handoff", "wechat")
        assert s.scalars(select(WechatUser)).one().awaiting_handoff is False
    # the state is cleared: the next message is answered by the assistant again
    assert "《排污许可管理条例》" in wx_db.ask("排污许可证能用几年", 3002)


def test_handoff_by_text_and_cancel(wx: WxEnv) -> None:  # noqa: F811
    assert "转交工作人员" in wx.ask("转人工", 3101)
    assert "已取消" in wx.ask("取消", 3102)
    assert "《排污许可管理条例》" in wx.ask("排污许可证能用几年", 3103)
    assert "已转交工作人员" in wx.ask("转人工：危废暂存间的标识牌怎么做？", 3104)
    with wx.svc.Session() as s:
        texts = {q.text: q.decision for q in s.scalars(select(Question))}
    assert texts["危废暂存间的标识牌怎么做？"] == "handoff"


def test_voice_uses_recognition_else_polite_message(wx: WxEnv) -> None:  # noqa: F811
    r = wx.post(sample("voice.xml", Recognition="排污许可证能用几年。", MsgId=4001, FromUserName=OPENID))
    content = reply_content(r.get_data(as_text=True))
    assert "《排污许可管理条例》第十四条" in content
    with wx.svc.Session() as s:
        assert s.scalars(select(Question)).one().text == "排污许可证能用几年"
    r = wx.post(sample("voice.xml", Recognition="", MsgId=4002, FromUserName=OPENID))
    assert "没能识别" in reply_content(r.get_data(as_text=True))
    no_rec = "\n".join(line for line in sample("voice.xml", MsgId=4003).splitlines() if "Recognition" not in line)
    assert "没能识别" in reply_content(wx.post(no_rec).get_data(as_text=True))


def test_image_gets_a_polite_message(wx: WxEnv) -> None:  # noqa: F811
    content = reply_content(wx.post(sample("image.xml", MsgId=5001)).get_data(as_text=True))
    assert "文字" in content
    with wx.svc.Session() as s:
        assert s.scalars(select(Question)).all() == []


def test_binding_valid_and_invalid_uscc(wx_db: WxEnv) -> None:  # noqa: F811
    good = _uscc()
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    assert "无效" in wx_db.ask(f"绑定 舟山海洋化工有限公司 {bad}", 6001)
    assert "绑定企业请发送" in wx_db.ask("绑定", 6002)
    with wx_db.svc.Session() as s:
        assert s.scalars(select(WechatUser)).one().uscc == ""
    content = wx_db.ask(f"绑定 舟山海洋化工有限公司 {good.lower()}", 6003)
    assert "已绑定企业：舟山海洋化工有限公司" in content and good in content
    wx_db.ask("排污许可证能用几年", 6004)
    with wx_db.svc.Session() as s:
        u = s.scalars(select(WechatUser)).one()
        assert (u.enterprise, u.uscc) == ("舟山海洋化工有限公司", good)
        q = s.scalars(select(Question).where(Question.client_msg_id == "6004")).one()
        assert q.enterprise == "舟山海洋化工有限公司"
    # a colleague binding the same enterprise sees its history
    wx_db.ask(f"绑定 舟山海洋化工有限公司 {good}", 6005, openid="oColleague")
    mine = reply_content(wx_db.event("click.xml", openid="oColleague", EventKey="MY_QUESTIONS")
                         .get_data(as_text=True))
    assert "舟山海洋化工有限公司 最近的咨询" in mine and "排污许可证能用几年" in mine
    assert "已解除" in wx_db.ask("解除绑定", 6006)


def test_empty_and_too_long_text(wx: WxEnv) -> None:  # noqa: F811
    assert "文字" in wx.ask("   ", 7001)
    assert "问题过长" in wx.ask("排" * 2100, 7002)
