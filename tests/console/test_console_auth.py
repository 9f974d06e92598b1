"""Console login: sessions, lockout, rate limit, inactive accounts, CSRF, logout."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from console_support import PASSWORD, ConsoleEnv, console_env, csrf_token, make_item  # noqa: F401
from flask.testing import FlaskClient
from sqlalchemy import select

from assistant.auth import create_user
from assistant.db.models import AuditLog, StaffUser


@pytest.fixture
def env(console_env: ConsoleEnv) -> Iterator[ConsoleEnv]:  # noqa: F811
    """The module app with a generous login limit (the rate limit itself is tested on its own)."""
    console_env.app.config["CONSOLE_LOGIN_RATELIMIT"] = "1000/minute"
    yield console_env
    console_env.app.config["CONSOLE_LOGIN_RATELIMIT"] = "10/minute"


def _new_user(env: ConsoleEnv, name: str, role: str = "district", district: str = "普陀区") -> None:
    with env.svc.Session() as s:
        if s.scalar(select(StaffUser).where(StaffUser.username == name)) is None:
            create_user(s, name, PASSWORD, role, district=district)
            s.commit()


def _login(c: FlaskClient, username: str, password: str, nxt: str = "", token: str | None = None) -> object:
    data = {"username": username, "password": password, "next": nxt}
    data["csrf_token"] = csrf_token(c) if token is None else token
    return c.post("/console/login", data=data)


def test_login_sets_an_8_hour_http_only_lax_session(env: ConsoleEnv) -> None:
    c = env.client()
    r = _login(c, "admin", PASSWORD)
    assert r.status_code == 302 and r.headers["Location"].endswith("/console/")  # type: ignore[attr-defined]
    cookie = r.headers["Set-Cookie"]  # type: ignore[attr-defined]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Expires=" in cookie
    assert env.app.config["PERMANENT_SESSION_LIFETIME"] == timedelta(hours=8)
    assert env.app.config["SESSION_REFRESH_EACH_REQUEST"] is True
    page = c.get("/console/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "舟山市生态环境局" in html and "工作台" in html and "admin-显示名" in html and "审计日志" in html
    assert "Set-Cookie" in page.headers  # refreshed on activity
    with env.svc.Session() as s:
        assert s.scalar(select(AuditLog).where(AuditLog.action == "login", AuditLog.username == "admin"))


def test_login_follows_only_local_next(env: ConsoleEnv) -> None:
    c = env.client()
    r = _login(c, "viewer", PASSWORD, nxt="/console/curated")
    assert r.headers["Location"].endswith("/console/curated")  # type: ignore[attr-defined]
    for evil in ("//evil.example/console", "https://evil.example/", "/chat"):
        c = env.client()
        r = _login(c, "viewer", PASSWORD, nxt=evil)
        assert r.headers["Location"].endswith("/console/"), evil  # type: ignore[attr-defined]


def test_anonymous_page_redirects_to_login_with_next(env: ConsoleEnv) -> None:
    r = env.client().get("/console/curated?q=排污")
    assert r.status_code == 302
    assert "/console/login?next=" in r.headers["Location"]
    # the hit-test panel's fetch gets a JSON 401 instead of a login page to paste into the panel
    r = env.client().get("/console/hittest?q=x&partial=1", headers={"X-Requested-With": "XMLHttpRequest"})
    assert r.status_code == 401 and r.get_json()["error_code"] == "login_required"


def _assert_refused(c: FlaskClient, username: str, password: str, status: int, message: str) -> None:
    """The login answers ``status`` with ``message`` on the page, and the client is still logged out."""
    r = _login(c, username, password)
    assert r.status_code == status  # type: ignore[attr-defined]
    assert message in r.get_data(as_text=True)  # type: ignore[attr-defined]
    assert c.get("/console/").status_code == 302


def test_bad_password_is_refused_in_chinese(env: ConsoleEnv) -> None:
    _assert_refused(env.client(), "admin", "wrong-password", 401, "用户名或密码错误")


def test_lockout_after_five_bad_passwords(env: ConsoleEnv) -> None:
    _new_user(env, "lockme")
    c = env.client()
    for _ in range(5):
        assert _login(c, "lockme", "not-the-password").status_code == 401  # type: ignore[attr-defined]
    _assert_refused(c, "lockme", PASSWORD, 423, "账号已锁定")  # right password, but locked now


def test_inactive_user_cannot_log_in_and_loses_session(env: ConsoleEnv) -> None:
    _new_user(env, "leaver")
    c = env.client()
    assert _login(c, "leaver", PASSWORD).status_code == 302  # type: ignore[attr-defined]
    assert c.get("/console/").status_code == 200
    with env.svc.Session() as s:
        u = s.scalars(select(StaffUser).where(StaffUser.username == "leaver")).one()
        u.active = False
        s.commit()
    assert c.get("/console/").status_code == 302  # the user loader refuses inactive users
    r = _login(env.client(), "leaver", PASSWORD)
    assert r.status_code == 401  # type: ignore[attr-defined]


def test_login_rate_limit_per_ip(console_env: ConsoleEnv) -> None:  # noqa: F811
    console_env.app.config["CONSOLE_LOGIN_RATELIMIT"] = "3/minute"
    try:
        c = console_env.client()
        codes = [_login(c, "nobody", "x" * 12).status_code for _ in range(4)]  # type: ignore[attr-defined]
        assert codes == [401, 401, 401, 429]
        r = _login(c, "nobody", "x" * 12)
        assert "请求过于频繁" in r.get_data(as_text=True)  # type: ignore[attr-defined]
        assert c.get("/console/login").status_code == 200  # GET is not limited
    finally:
        console_env.app.config["CONSOLE_LOGIN_RATELIMIT"] = "10/minute"


def test_csrf_token_required_on_login_and_actions(env: ConsoleEnv) -> None:
    assert env.app.config["WTF_CSRF_ENABLED"] is True
    c = env.client()
    r = c.post("/console/login", data={"username": "admin", "password": PASSWORD})
    assert r.status_code == 400 and "CSRF" in r.get_data(as_text=True)
    assert _login(c, "admin", PASSWORD, token="forged").status_code == 400  # type: ignore[attr-defined]
    assert _login(c, "admin", PASSWORD).status_code == 302  # type: ignore[attr-defined]
    it = make_item(env.svc, "普陀区")
    url = f"/console/items/{it['id']}/close"
    assert c.post(url, data={"reason": "duplicate"}).status_code == 400
    r = c.post(url, data={"reason": "duplicate"}, headers={"X-Requested-With": "XMLHttpRequest"})
    assert r.status_code == 400 and r.get_json()["error_code"] == "csrf_failed"
    # positive case: the token from the rendered item page
    token = csrf_token(c, f"/console/items/{it['id']}")
    assert c.post(url, data={"reason": "duplicate", "csrf_token": token}).status_code == 302
    assert "已关闭" in c.get(f"/console/items/{it['id']}").get_data(as_text=True)
    # a token of another session is refused
    other = env.client("admin")
    assert other.post(url, data={"reason": "duplicate", "csrf_token": token}).status_code == 400


def test_public_api_is_exempt_from_csrf(env: ConsoleEnv) -> None:
    r = env.client().post("/api/v1/handoff", json={"question": "海岛民宿污水怎么处理才合规", "district": "普陀区"})
    assert r.status_code == 201, r.get_data(as_text=True)


def test_logout_ends_the_session(env: ConsoleEnv) -> None:
    c = env.client()
    _login(c, "putuo", PASSWORD)
    assert c.get("/console/").status_code == 200
    token = csrf_token(c, "/console/")
    r = c.post("/console/logout", data={"csrf_token": token})
    assert r.status_code == 302 and r.headers["Location"].endswith("/console/login")
    assert c.get("/console/").status_code == 302
    assert c.post("/console/logout", data={"csrf_token": token}).status_code == 401
