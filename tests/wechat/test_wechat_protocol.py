"""The webhook protocol: verification, signatures, timestamps, body limits, malformed XML, 安全模式 (AES)."""

from __future__ import annotations

import time
from urllib.parse import urlencode

from sqlalchemy import func, select
from wechat_support import (  # noqa: F401
    OPENID,
    TOKEN,
    WxEnv,
    crypto,
    encrypted_post,
    sample,
    signed_query,
    wx,
    wx_aes,
)

from assistant.channels.wechat.protocol import parse, reply_content, sign, signature_ok
from assistant.db.models import Question


def test_get_verification_echoes_echostr(wx: WxEnv) -> None:  # noqa: F811
    q = signed_query(echostr="5837397520363226434")
    r = wx.client.get(f"/wechat/default?{urlencode(q)}")
    assert r.status_code == 200
    assert r.get_data(as_text=True) == "5837397520363226434"


def test_get_verification_bad_signature_and_missing_fields(wx: WxEnv) -> None:  # noqa: F811
    q = signed_query(echostr="abc")
    q["signature"] = "0" * 40
    assert wx.client.get(f"/wechat/default?{urlencode(q)}").status_code == 403
    q = signed_query(token="another-token", echostr="abc")
    assert wx.client.get(f"/wechat/default?{urlencode(q)}").status_code == 403
    assert wx.client.get("/wechat/default").status_code == 403
    assert wx.client.get(f"/wechat/default?{urlencode(signed_query())}").status_code == 400  # no echostr
    q = signed_query(echostr="abc")
    q["signature"] = "签名"  # non-ASCII must not crash the constant-time comparison
    assert wx.client.get(f"/wechat/default?{urlencode(q)}").status_code == 403


def test_unknown_account_is_404_in_chinese(wx: WxEnv) -> None:  # noqa: F811
    """An account that is not configured: 404 with the service's JSON error body — a stable code and a Chinese
    message for whoever set the server URL in the 公众号 console (was an English plain-text "not found")."""
    q = signed_query(echostr="abc")
    for r in (wx.client.get(f"/wechat/putuo?{urlencode(q)}"), wx.post(sample("text.xml"), account="putuo"),
              wx.client.get("/wechat/%3Cscript%3E")):
        assert r.status_code == 404 and r.mimetype == "application/json"
        body = r.get_json()
        assert body["error_code"] == "wechat_account_not_found"
        assert "未找到该公众号接入配置" in body["message"] and "/wechat/default" in body["message"]
        assert "not found" not in r.get_data(as_text=True) and "<script>" not in r.get_data(as_text=True)


def test_wrong_signature_post_is_403(wx: WxEnv) -> None:  # noqa: F811
    q = signed_query(token="not-our-token")
    r = wx.post(sample("text.xml", Content="排污许可证能用几年"), query=q)
    assert r.status_code == 403
    with wx.svc.Session() as s:
        assert s.scalar(select(func.count()).select_from(Question)) == 0


def test_stale_or_future_timestamp_is_403(wx: WxEnv) -> None:  # noqa: F811
    for ts in (int(time.time()) - 301, int(time.time()) + 400, 0):
        r = wx.post(sample("text.xml", Content="排污许可证能用几年"), query=signed_query(timestamp=ts))
        assert r.status_code == 403
    q = signed_query()
    q["timestamp"] = "not-a-number"
    q["signature"] = sign(TOKEN, q["timestamp"], q["nonce"])
    assert wx.post(sample("text.xml"), query=q).status_code == 403
    # inside the window is fine
    r = wx.post(sample("subscribe.xml", FromUserName=OPENID), query=signed_query(timestamp=int(time.time()) - 200))
    assert r.status_code == 200


def test_oversized_body_is_413(wx: WxEnv) -> None:  # noqa: F811
    big = sample("text.xml", Content="排" * 30_000)  # 90 KB
    r = wx.post(big)
    assert r.status_code == 413


def test_malformed_xml_is_400_without_traceback(wx: WxEnv) -> None:  # noqa: F811
    bodies = [
        "<xml><ToUserName>oops",
        "not xml at all",
        "",
        "<xml><ToUserName><![CDATA[toUser]]></ToUserName></xml>",  # required fields missing
        "<other><MsgType>text</MsgType></other>",
        '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x "boom">]><xml><ToUserName>&x;</ToUserName></xml>',
        sample("text.xml").replace("1348831860", "yesterday"),
        b"\xff\xfe<xml>",
    ]
    for body in bodies:
        r = wx.post(body)
        text = r.get_data(as_text=True)
        assert r.status_code == 400, body
        assert "Traceback" not in text and "Error" not in text and "File " not in text


def test_signature_helpers() -> None:
    # the example of the WeChat documentation's algorithm: sorted, concatenated, SHA-1
    import hashlib

    parts = sorted([TOKEN, "1409304348", "xxxxxx"])
    assert sign(TOKEN, "1409304348", "xxxxxx") == hashlib.sha1("".join(parts).encode()).hexdigest()
    assert signature_ok(sign(TOKEN, "1", "2"), TOKEN, "1", "2")
    assert signature_ok(sign(TOKEN, "1", "2").upper(), TOKEN, "1", "2")
    assert not signature_ok(None, TOKEN, "1", "2")
    assert not signature_ok("", TOKEN, "1", "2")


def test_parse_documentation_samples() -> None:
    m = parse(sample("text.xml"))
    assert (m.msg_type, m.source, m.target, m.create_time, m.msg_id, m.content) == \
        ("text", "fromUser", "toUser", 1348831860, "1234567890123456", "this is a test")
    assert m.dedup_key == "msg:1234567890123456"
    e = parse(sample("subscribe.xml"))
    assert (e.msg_type, e.event, e.msg_id) == ("event", "subscribe", "")
    assert e.dedup_key == "evt:FromUser:123456789:subscribe"
    c = parse(sample("click.xml"))
    assert (c.event, c.event_key) == ("click", "EVENTKEY")
    assert parse(sample("view.xml")).event == "view"
    v = parse(sample("voice.xml"))
    assert (v.msg_type, v.recognition) == ("voice", "腾讯微信团队")


def test_aes_round_trip(wx_aes: WxEnv) -> None:  # noqa: F811
    plain = sample("text.xml", Content="排污许可证能用几年", MsgId=7001, FromUserName=OPENID,
                   CreateTime=int(time.time()))
    r = encrypted_post(wx_aes, plain)
    assert r.status_code == 200
    envelope = r.get_data(as_text=True)
    assert "<Encrypt>" in envelope and "<MsgSignature>" in envelope and "排污" not in envelope
    reply_xml = crypto().decrypt_reply(envelope)  # checks MsgSignature like WeChat does
    content = reply_content(reply_xml)
    assert "《排污许可管理条例》第十四条" in content and "https://zixun.example.cn/chat?q=" in content
    assert f"<ToUserName><![CDATA[{OPENID}]]></ToUserName>" in reply_xml
    # a retry (same MsgId, new timestamp/nonce) gets the very same bytes
    again = encrypted_post(wx_aes, plain, nonce="999")
    assert again.get_data() == r.get_data()


def test_aes_mode_refusals(wx_aes: WxEnv) -> None:  # noqa: F811
    plain = sample("text.xml", Content="排污许可证能用几年", MsgId=7002, FromUserName=OPENID)
    # 安全模式 accepts encrypted messages only
    assert wx_aes.post(plain).status_code == 403
    # a wrong msg_signature
    ts = str(int(time.time()))
    encrypted, _sig = crypto().encrypt_payload(plain, ts, "1")
    body = f"<xml><ToUserName><![CDATA[toUser]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
    q = signed_query(timestamp=int(ts), nonce="1", encrypt_type="aes", msg_signature="f" * 40)
    assert wx_aes.post(body, query=q).status_code == 403
    # a correctly signed envelope that does not decrypt
    junk = "QUJDREVGR0g="
    q = signed_query(timestamp=int(ts), nonce="1", encrypt_type="aes", msg_signature=sign(TOKEN, ts, "1", junk))
    r = wx_aes.post(f"<xml><Encrypt><![CDATA[{junk}]]></Encrypt></xml>", query=q)
    assert r.status_code == 400 and "Traceback" not in r.get_data(as_text=True)
    # encrypted for another AppID
    from assistant.channels.wechat.protocol import AccountCrypto

    other = AccountCrypto(TOKEN, crypto().aes_key, "wxother")
    enc, sig = other.encrypt_payload(plain, ts, "1")
    q = signed_query(timestamp=int(ts), nonce="1", encrypt_type="aes", msg_signature=sig)
    assert wx_aes.post(f"<xml><Encrypt><![CDATA[{enc}]]></Encrypt></xml>", query=q).status_code == 403


def test_compat_mode_accepts_both(settings) -> None:  # type: ignore[no-untyped-def]
    from wechat_support import AES_KEY, make_env, wx_settings

    gen = make_env(wx_settings(settings, wechat_encoding_aes_key=AES_KEY))  # compat by default
    env = next(gen)
    try:
        r = env.post(sample("subscribe.xml", FromUserName=OPENID, CreateTime=int(time.time())))
        assert r.status_code == 200 and "欢迎关注" in reply_content(r.get_data(as_text=True))
        plain = sample("text.xml", Content="排污许可证能用几年", MsgId=7003, FromUserName=OPENID)
        r = encrypted_post(env, plain)
        assert "《排污许可管理条例》" in reply_content(crypto().decrypt_reply(r.get_data(as_text=True)))
    finally:
        gen.close()
