"""Outbound: pending notifications delivered through the adapter (disabled offline), the API client's token
cache, refresh and retries against a fake transport (never the internet), the CLI, the menu."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner
from sqlalchemy import select
from wechat_support import OPENID, TOKEN, WxEnv, wx, wx_db  # noqa: F401

from assistant.channels.wechat.menu import check_menu, load_menu
from assistant.channels.wechat.outbound import DbTokenStore
from assistant.channels.wechat.protocol import DisabledOutbound, OutboundError, WechatApiOutbound
from assistant.cli import main
from assistant.config import Settings
from assistant.db.models import Notification, Question, WechatToken
from assistant.service import AssistantService

REPO = Path(__file__).resolve().parents[2]


def _published(env_svc: AssistantService, openid: str = OPENID, body: str = "排污许可证有效期为五年。") -> int:
    """What the console's publish leaves: a wechat question and a pending notification for its asker."""
    with env_svc.Session() as s:
        q = Question(token=secrets.token_urlsafe(24), text="排污许可证到期了怎么办", channel="wechat",
                     session_id=openid, decision="abstain")
        s.add(q)
        s.flush()
        n = Notification(question_id=q.id, channel="wechat", recipient=openid, kind="answer_published", body=body,
                         status="pending")
        s.add(n)
        s.commit()
        return n.id


@dataclass
class FakeOutbound:
    enabled: bool = True
    fail: OutboundError | None = None
    sent: list[tuple[str, str]] = field(default_factory=list)

    def send_text(self, openid: str, text: str) -> None:
        if self.fail is not None:
            raise self.fail
        self.sent.append((openid, text))

    def create_menu(self, menu: dict[str, Any]) -> None:
        self.sent.append(("menu", json.dumps(menu, ensure_ascii=False)))


def _with_outbound(env: WxEnv, out: Any) -> None:
    env.channel.outbox.adapters.clear()
    env.channel.outbox.factory = lambda _acc: out


def test_deliver_pending_disabled_records(wx_db: WxEnv) -> None:  # noqa: F811
    nid = _published(wx_db.svc)
    assert wx_db.channel.deliver_pending() == {"disabled": 1}
    with wx_db.svc.Session() as s:
        n = s.get(Notification, nid)
        assert n is not None and (n.status, n.attempts, n.sent_at) == ("disabled", 1, None)
    out = wx_db.channel.outbound(wx_db.channel.accounts["default"])
    assert isinstance(out, DisabledOutbound)
    text = out.sent[0]["text"]
    assert "排污许可证到期了怎么办" in text and "排污许可证有效期为五年" in text and "/chat?q=" in text
    assert wx_db.channel.deliver_pending() == {}  # nothing left


def test_deliver_sent_retry_and_failure(wx: WxEnv) -> None:  # noqa: F811
    ok = FakeOutbound()
    _with_outbound(wx, ok)
    nid = _published(wx.svc)
    assert wx.channel.deliver_pending() == {"sent": 1}
    with wx.svc.Session() as s:
        n = s.get(Notification, nid)
        assert n is not None and n.status == "sent" and n.sent_at is not None
    assert ok.sent[0][0] == OPENID

    _with_outbound(wx, FakeOutbound(fail=OutboundError("busy", -1, retryable=True)))
    nid2 = _published(wx.svc)
    assert wx.channel.deliver_pending() == {"pending": 1}
    with wx.svc.Session() as s:
        n = s.get(Notification, nid2)
        assert n is not None and (n.status, n.attempts) == ("pending", 1)

    _with_outbound(wx, FakeOutbound(fail=OutboundError("45015", 45015, retryable=False)))
    assert wx.channel.deliver_pending() == {"failed": 1}


# -- the real client against a fake transport ---------------------------------------------------------------------
class FakeResponse:
    def __init__(self, data: dict[str, Any], status: int = 200) -> None:
        self.data, self.status_code = data, status
        self.content = json.dumps(data).encode()
        self.request = None

    def raise_for_status(self) -> None:
        if self.status_code >= 400:
            raise requests.HTTPError(f"{self.status_code}", response=self)  # type: ignore[arg-type]

    def json(self) -> dict[str, Any]:
        return self.data


class FakeHttp:
    """Plays WeChat's API: /token hands out tokens; message and menu calls answer from a script."""

    def __init__(self, script: list[Any]) -> None:
        self.script = script
        self.tokens = 0
        self.calls: list[dict[str, Any]] = []

    def get(self, url: str, params: dict[str, Any]) -> FakeResponse:
        assert url.endswith("/cgi-bin/token") and params["grant_type"] == "client_credential"
        self.tokens += 1
        return FakeResponse({"access_token": f"T{self.tokens}", "expires_in": 7200})

    def request(self, method: str, url: str, **kw: Any) -> FakeResponse:
        self.calls.append({"method": method, "url": url, "token": kw["params"]["access_token"],
                           "data": json.loads(kw["data"].decode("utf-8")) if kw.get("data") else None})
        step = self.script.pop(0) if self.script else {"errcode": 0, "errmsg": "ok"}
        if isinstance(step, Exception):
            raise step
        return FakeResponse(step)


def _client(svc: AssistantService, http: FakeHttp, sleeps: list[float]) -> WechatApiOutbound:
    return WechatApiOutbound("wxappid", "secret", DbTokenStore(svc), http=http, sleep=sleeps.append)


def test_api_client_caches_token_in_the_database(wx_db: WxEnv) -> None:  # noqa: F811
    http, sleeps = FakeHttp([]), []
    c = _client(wx_db.svc, http, sleeps)
    c.send_text(OPENID, "您好")
    c.send_text(OPENID, "再次问候")
    assert http.tokens == 1
    assert http.calls[0]["url"].endswith("/cgi-bin/message/custom/send")
    assert http.calls[0]["data"] == {"touser": OPENID, "msgtype": "text", "text": {"content": "您好"}}
    # another process (a new client on the same database) reuses the token
    http2 = FakeHttp([])
    _client(wx_db.svc, http2, sleeps).send_text(OPENID, "第三条")
    assert http2.tokens == 0 and http2.calls[0]["token"] == "T1"
    with wx_db.svc.Session() as s:
        assert s.get(WechatToken, "wxappid_access_token").value == "T1"  # type: ignore[union-attr]


def test_api_client_refreshes_invalid_token_and_retries_with_backoff(wx: WxEnv) -> None:  # noqa: F811
    sleeps: list[float] = []
    http = FakeHttp([{"errcode": 40001, "errmsg": "invalid credential"}, {"errcode": 0}])
    _client(wx.svc, http, sleeps).send_text(OPENID, "x")
    assert http.tokens == 2 and [c["token"] for c in http.calls] == ["T1", "T2"] and sleeps == []

    http = FakeHttp([{"errcode": -1, "errmsg": "system busy"}, requests.ConnectionError("down"), {"errcode": 0}])
    _client(wx.svc, http, sleeps).send_text(OPENID, "x")
    assert len(http.calls) == 3 and sleeps == [0.5, 1.0]

    sleeps.clear()
    http = FakeHttp([{"errcode": 45015, "errmsg": "response out of time limit"}])
    with pytest.raises(OutboundError) as exc:
        _client(wx.svc, http, sleeps).send_text(OPENID, "x")
    assert exc.value.code == 45015 and not exc.value.retryable and len(http.calls) == 1 and sleeps == []

    http = FakeHttp([requests.Timeout("slow")] * 3)
    with pytest.raises(OutboundError) as exc:
        _client(wx.svc, http, sleeps).send_text(OPENID, "x")
    assert exc.value.retryable and len(http.calls) == 3 and sleeps == [0.5, 1.0]


def test_api_client_pushes_menu(wx: WxEnv) -> None:  # noqa: F811
    http = FakeHttp([])
    menu = load_menu(wx.svc.settings, REPO / "corpus" / "wechat_menu.json")
    _client(wx.svc, http, []).create_menu(menu)
    assert http.calls[0]["url"].endswith("/cgi-bin/menu/create")
    assert http.calls[0]["data"]["button"][0]["url"] == "https://zixun.example.cn/chat"


# -- menu ------------------------------------------------------------------------------------------------------
def test_bundled_menu_is_valid(settings: Settings) -> None:
    menu = json.loads((REPO / "corpus" / "wechat_menu.json").read_text(encoding="utf-8"))
    names = json.dumps(menu, ensure_ascii=False)
    for label in ("咨询问答", "我的问题", "咨询日报名", "转人工", "MY_QUESTIONS", "REGISTER_DAY", "HANDOFF"):
        assert label in names
    assert check_menu(json.loads(names.replace("{public_base_url}", "https://zixun.example.cn"))) == []
    assert check_menu(menu)  # the URL placeholder must be filled before pushing
    assert check_menu({"button": [{"type": "click", "name": "一二三四五六", "key": "K"}] * 4})


# -- CLI -------------------------------------------------------------------------------------------------------
@pytest.fixture
def wx_cli(cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("WECHAT_TOKEN", TOKEN)
    monkeypatch.setenv("ASSISTANT_PUBLIC_BASE_URL", "https://zixun.example.cn")
    return CliRunner()


def test_cli_menu_push_offline_prints_the_menu(wx_cli: CliRunner) -> None:
    r = wx_cli.invoke(main, ["wechat", "menu", "push", "--file", str(REPO / "corpus" / "wechat_menu.json")])
    assert r.exit_code == 0, r.output
    assert "未开启微信接口" in r.output
    sent = json.loads(r.output[r.output.index("{"):])
    assert sent["button"][0]["url"] == "https://zixun.example.cn/chat"
    r = wx_cli.invoke(main, ["wechat", "menu", "push", "--account", "nope"])
    assert r.exit_code != 0 and "未配置公众号" in r.output


def test_cli_menu_push_needs_the_public_address(wx_cli: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_PUBLIC_BASE_URL", "")
    r = wx_cli.invoke(main, ["wechat", "menu", "push", "--file", str(REPO / "corpus" / "wechat_menu.json")])
    assert r.exit_code == 1 and "ASSISTANT_PUBLIC_BASE_URL" in r.output


def test_cli_deliver_marks_disabled(wx_cli: CliRunner, settings: Settings) -> None:
    r = wx_cli.invoke(main, ["wechat", "deliver"])
    assert r.exit_code == 0 and "没有待发送" in r.output
    svc = AssistantService(settings)
    try:
        nid = _published(svc)
        r = wx_cli.invoke(main, ["wechat", "deliver"])
        assert r.exit_code == 0, r.output
        assert "接口未开启（已记录） 1" in r.output
        with svc.Session() as s:
            assert s.scalar(select(Notification.status).where(Notification.id == nid)) == "disabled"
    finally:
        svc.engine.dispose()
