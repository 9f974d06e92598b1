"""Shared helpers for the WeChat tests: an app whose ``default`` account is configured, signed requests built from
the documentation's XML samples in ``tests/data/wechat``, and reply decoding.

Import the fixtures into a test module (``from wechat_support import wx, wx_db``) to use them. ``wx`` runs on
SQLite; ``wx_db`` runs on SQLite and PostgreSQL (the parametrised ``db_settings``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from conftest import DATA, build_service
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from assistant.app import create_app
from assistant.channels.wechat.protocol import AccountCrypto, reply_content
from assistant.channels.wechat.service import WechatChannel, channel_for
from assistant.config import Settings
from assistant.service import AssistantService

WX = DATA / "wechat"
TOKEN = "zhoushan-test-token"
APPID = "wx1234567890abcdef"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters, as WeChat issues them
OPENID = "oUser-0001"


def sample(name: str, **subs: Any) -> str:
    """A documentation sample with values replaced: ``sample("text.xml", Content="…", MsgId=42)``."""
    xml = (WX / name).read_text(encoding="utf-8")
    defaults = {"FromUserName": None, "CreateTime": None, "MsgId": None, "Content": None, "EventKey": None,
                "Recognition": None}
    for field_name in defaults:
        if field_name not in subs:
            continue
        value = str(subs[field_name])
        start = xml.find(f"<{field_name}>")
        end = xml.find(f"</{field_name}>")
        assert start >= 0 and end > start, f"{name} has no {field_name}"
        inner = xml[start + len(field_name) + 2 : end]
        new = f"<![CDATA[{value}]]>" if inner.startswith("<![CDATA[") else value
        xml = xml[: start + len(field_name) + 2] + new + xml[end:]
    return xml


def signed_query(token: str = TOKEN, timestamp: int | None = None, nonce: str = "1357924680",
                 **extra: str) -> dict[str, str]:
    from assistant.channels.wechat.protocol import sign

    ts = str(int(time.time()) if timestamp is None else timestamp)
    return {"signature": sign(token, ts, nonce), "timestamp": ts, "nonce": nonce, **extra}


@dataclass
class WxEnv:
    svc: AssistantService
    app: Flask
    client: FlaskClient

    @property
    def channel(self) -> WechatChannel:
        ch: WechatChannel = self.app.extensions["wechat"]
        return ch

    def post(self, xml: str | bytes, account: str = "default", query: dict[str, str] | None = None,
             **kw: Any) -> TestResponse:
        q = query if query is not None else signed_query()
        data = xml.encode("utf-8") if isinstance(xml, str) else xml
        return self.client.post(f"/wechat/{account}?{urlencode(q)}", data=data, content_type="text/xml", **kw)

    def ask(self, text: str, msg_id: int, openid: str = OPENID) -> str:
        """Post a text message and return the reply's Content."""
        r = self.post(sample("text.xml", Content=text, MsgId=msg_id, FromUserName=openid,
                             CreateTime=int(time.time())))
        assert r.status_code == 200, r.get_data(as_text=True)
        body = r.get_data(as_text=True)
        assert body != "success", "expected a passive reply"
        return reply_content(body)

    def event(self, name: str, openid: str = OPENID, create_time: int | None = None, **subs: Any) -> TestResponse:
        ct = create_time if create_time is not None else int(time.time() * 1000) % 2_000_000_000
        return self.post(sample(name, FromUserName=openid, CreateTime=ct, **subs))


def wx_settings(base: Settings, **overrides: Any) -> Settings:
    return base.evolve(wechat_token=TOKEN, wechat_appid=APPID, public_base_url="https://zixun.example.cn",
                   wechat_reply_budget=3.0, **overrides)


def make_env(s: Settings) -> Iterator[WxEnv]:
    svc = build_service(s)
    app = create_app(service=svc, start=False)
    app.config["TESTING"] = True
    channel_for(app)  # app.extensions["wechat"]
    env = WxEnv(svc, app, app.test_client())
    try:
        yield env
    finally:
        env.channel.close()
        svc.stop_background()
        svc.engine.dispose()


@pytest.fixture
def wx(settings: Settings) -> Iterator[WxEnv]:
    """The app on SQLite, account ``default`` in plaintext mode, outbound disabled."""
    yield from make_env(wx_settings(settings))


@pytest.fixture
def wx_db(db_settings: Settings) -> Iterator[WxEnv]:
    """The same on SQLite and PostgreSQL."""
    yield from make_env(wx_settings(db_settings))


@pytest.fixture
def wx_aes(settings: Settings) -> Iterator[WxEnv]:
    """Account ``default`` in 安全模式 (encrypted messages only)."""
    yield from make_env(wx_settings(settings, wechat_encoding_aes_key=AES_KEY, wechat_mode="safe"))


def crypto() -> AccountCrypto:
    return AccountCrypto(TOKEN, AES_KEY, APPID)


def encrypted_post(env: WxEnv, plain_xml: str, nonce: str = "246813579") -> TestResponse:
    """Post ``plain_xml`` as WeChat does in 安全模式: the documented envelope, encrypt_type=aes, msg_signature."""
    ts = str(int(time.time()))
    encrypted, msg_signature = crypto().encrypt_payload(plain_xml, ts, nonce)
    body = (WX / "encrypted.xml").read_text(encoding="utf-8").replace("msg_encrypt", encrypted)
    q = signed_query(timestamp=int(ts), nonce=nonce, encrypt_type="aes", msg_signature=msg_signature)
    return env.post(body, query=q)


def wait_for(pred: Any, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


__all__ = ["APPID", "AES_KEY", "OPENID", "TOKEN", "WX", "Path", "WxEnv", "crypto", "encrypted_post", "sample",
           "signed_query", "wait_for", "wx", "wx_aes", "wx_db", "wx_settings"]
