"""政策速递 on WeChat: 订阅 / 退订 / 政策速递 texts and the menu click, and a WeChat asker whose answer's article
changed gets exactly one WeChat message with the link to the change."""

from __future__ import annotations

from sqlalchemy import select
from wechat_support import OPENID, WxEnv, sample, wx, wx_db  # noqa: F401

from assistant.channels.wechat.protocol import reply_content
from assistant.db.models import ChangeNotice, Notification, PolicyChange, Subscription
from assistant.domain import Actor
from assistant.updates.notices import send

TITLE = "排污许可管理条例"


def test_subscribe_list_and_unsubscribe(wx: WxEnv) -> None:  # noqa: F811
    listing = wx.ask("订阅", 5001)
    assert "可订阅的主题" in listing and "排污许可" in listing
    done = wx.ask("订阅 排污证", 5002)
    assert done.startswith("已订阅：") and "排污许可" in done and "退订" in done
    unknown = wx.ask("订阅 火星移民", 5003)
    assert "没有“火星移民”这个主题" in unknown
    with wx.svc.Session() as s:
        rows = list(s.scalars(select(Subscription).where(Subscription.subscriber == OPENID)))
        assert rows and all(r.channel == "wechat" and r.active for r in rows)
    bye = wx.ask("退订", 5004)
    assert "已退订全部主题" in bye and "不再收到" in bye
    with wx.svc.Session() as s:
        assert not any(r.active for r in s.scalars(select(Subscription).where(Subscription.subscriber == OPENID)))
    # a question that merely starts with the word is still a question
    with wx.svc.Session() as s:
        before = s.scalar(select(Subscription.id).order_by(Subscription.id.desc()))
    wx.ask("订阅号能不能办理排污许可", 5005)
    with wx.svc.Session() as s:
        assert s.scalar(select(Subscription.id).order_by(Subscription.id.desc())) == before


def test_policy_updates_text_and_menu_click(wx: WxEnv) -> None:  # noqa: F811
    empty = wx.ask("政策速递", 5101)
    assert "暂无法规、标准变化" in empty and "https://zixun.example.cn/updates" in empty
    src = wx.svc.settings.corpus.shared_data / "laws" / f"{TITLE}.md"
    src.write_text(src.read_text(encoding="utf-8").replace("有效期为五年", "有效期为三年"), encoding="utf-8")
    wx.svc.ingest([src])
    content = reply_content(wx.event("click.xml", EventKey="POLICY_UPDATES").get_data(as_text=True))
    assert f"《{TITLE}》" in content and "修改1条" in content and "/updates" in content


def test_wechat_asker_is_notified_once(wx_db: WxEnv) -> None:  # noqa: F811
    r = wx_db.post(sample("text.xml", Content="排污许可证的有效期是几年", MsgId=5201, FromUserName=OPENID,
                          CreateTime=1700000000))
    assert r.status_code == 200
    src = wx_db.svc.settings.corpus.shared_data / "laws" / f"{TITLE}.md"
    src.write_text(src.read_text(encoding="utf-8").replace("有效期为五年", "有效期为三年"), encoding="utf-8")
    wx_db.svc.ingest([src])
    admin = Actor("admin", "admin")
    with wx_db.svc.Session() as s:
        cid = s.scalar(select(PolicyChange.id))
        assert cid is not None
        first = send(s, admin, cid, "https://zixun.example.cn")
    with wx_db.svc.Session() as s:
        second = send(s, admin, cid, "https://zixun.example.cn")
    assert first["wechat"] == 1 and second == {"wechat": 0, "web": 0, "phone": 0, "already": 1, "skipped": 0}
    with wx_db.svc.Session() as s:
        notes = list(s.scalars(select(Notification).where(Notification.kind == "policy_change")))
        assert len(notes) == 1 and notes[0].recipient == OPENID and notes[0].status == "pending"
        key = s.scalar(select(ChangeNotice.key))
        assert f"https://zixun.example.cn/updates/{cid}?n={key}" in notes[0].body
        assert "排污许可证的有效期是几年" in notes[0].body and "第十四条" in notes[0].body
