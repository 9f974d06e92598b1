"""Route-by-route access control of the console: every route × every role (× every item scope for item routes).

Roles: anonymous, viewer (no district: sees everything, acts on nothing), district staff of 普陀区, an expert,
the admin. Item scopes: a 普陀区 item, a 定海区 item, a district-less item (the city bureau's), and a 定海区 item
assigned to the expert. Out of scope → 404 (existence not revealed); read-only → 403; anonymous → login/401.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from console_support import ConsoleEnv, console_env, csrf_token, flashes, make_item  # noqa: F401
from flask.testing import FlaskClient
from sqlalchemy import select

from assistant.auth import create_user
from assistant.db.models import Document, PolicyChange

ROLES = ("anonymous", "viewer", "putuo", "expert", "admin")
SCOPES = ("putuo", "dinghai", "none", "assigned")
CURATED = "fx-pwxk-001"

# (method, rule, kind) for EVERY console route; test_table_covers_every_route checks it against the app.
ITEM_ROUTES = [
    ("GET", "/console/items/<int:item_id>"),
    ("POST", "/console/items/<int:item_id>/assign"),
    ("POST", "/console/items/<int:item_id>/answer"),
    ("POST", "/console/items/<int:item_id>/publish"),
    ("POST", "/console/items/<int:item_id>/close"),
    ("POST", "/console/items/<int:item_id>/merge"),
    ("POST", "/console/items/<int:item_id>/split"),
]
OTHER_ROUTES = [  # kind: page (any staff), admin (admin only), curated_edit (staff but not viewers), logout
    ("GET", "/console/", "page"),
    ("GET", "/console/hittest", "page"),
    ("GET", "/console/curated", "page"),
    ("GET", "/console/curated/review", "page"),
    ("GET", "/console/curated/<curated_id>", "page"),
    ("POST", "/console/curated/<curated_id>", "curated_edit"),
    ("GET", "/console/users", "admin"),
    ("POST", "/console/users", "admin"),
    ("POST", "/console/users/<int:user_id>/deactivate", "admin"),
    ("POST", "/console/users/<int:user_id>/activate", "admin"),
    ("GET", "/console/audit", "admin"),
    ("POST", "/console/logout", "logout"),
    ("GET", "/console/consult", "page"),
    ("GET", "/console/dashboard", "page"),
    ("GET", "/console/dashboard.csv", "page"),
    ("GET", "/console/updates", "page"),
    ("GET", "/console/updates/<int:change_id>", "page"),
    ("POST", "/console/updates/<int:change_id>/interpretation", "curated_edit"),
    ("POST", "/console/updates/<int:change_id>/notify", "sender"),
]
#: consultation-day routes on one day (普陀区's): scope checked by test_consult_route_access
CONSULT_ROUTES = [
    ("POST", "/console/consult/schedule"),
    ("GET", "/console/consult/<int:day_id>"),
    ("POST", "/console/consult/<int:day_id>/update"),
    ("POST", "/console/consult/<int:day_id>/build"),
    ("POST", "/console/consult/<int:day_id>/items/<int:agenda_id>/<action>"),
    ("POST", "/console/consult/<int:day_id>/add"),
    ("POST", "/console/consult/<int:day_id>/freeze"),
    ("POST", "/console/consult/<int:day_id>/unfreeze"),
    ("POST", "/console/consult/<int:day_id>/invite"),
    ("POST", "/console/consult/<int:day_id>/attendance/<int:participant_id>"),
    ("POST", "/console/consult/<int:day_id>/walk-in"),
    ("POST", "/console/consult/<int:day_id>/held"),
    ("POST", "/console/consult/<int:day_id>/items/<int:agenda_id>/outcome"),
    ("GET", "/console/consult/<int:day_id>/export"),
]
PUBLIC_ROUTES = [("GET", "/console/login"), ("POST", "/console/login"), ("GET", "/console/static/<path:filename>")]


def test_table_covers_every_route(console_env: ConsoleEnv) -> None:  # noqa: F811
    table = {(m, r) for m, r in ITEM_ROUTES} | {(m, r) for m, r, _ in OTHER_ROUTES} | set(PUBLIC_ROUTES) | \
        set(CONSULT_ROUTES)
    app_routes = {(m, rule.rule) for rule in console_env.app.url_map.iter_rules()
                  if rule.endpoint.startswith("console.") for m in (rule.methods or set()) - {"HEAD", "OPTIONS"}}
    assert app_routes == table


def _change(env: ConsoleEnv) -> int:
    """A recorded 政策速递 change (straight in the database)."""
    with env.svc.Session() as s:
        cid = s.scalar(select(PolicyChange.id))
        if cid is None:
            doc = s.scalar(select(Document).where(Document.title == "排污许可管理条例"))
            assert doc is not None
            c = PolicyChange(document_id=doc.id, kind="修订", title=doc.title, old_title=doc.title,
                             old_label="2021-03-01", new_label="2026-11-01", counts={"changed": 1},
                             diff=[{"op": "changed", "old": "14", "new": "14", "old_text": "五年", "new_text": "三年"}],
                             touched=["排污许可管理条例#14"], topics=[])
            s.add(c)
            s.commit()
            cid = c.id
        return int(cid)


def _item_scope(env: ConsoleEnv, scope: str) -> dict[str, Any]:
    district = {"putuo": "普陀区", "dinghai": "定海区", "none": "", "assigned": "定海区"}[scope]
    assigned = "expert" if scope == "assigned" else ""
    it = make_item(env.svc, district, assigned, members=2)
    it["other"] = make_item(env.svc, district, assigned, members=1)["id"]  # for merge
    return it


def _item_form(path: str, it: dict[str, Any]) -> dict[str, Any]:
    action = path.rsplit("/", 1)[-1]
    return {
        "assign": {"unit": "综合处"},
        "answer": {"answer": "测试答复：请按规定委托有资质单位接收处置。", "category": "船舶污染", "lead_unit": "水处",
                   "question": it["title"], "citations": "排污许可管理条例#14"},
        "publish": {"question": it["title"], "answer": "测试答复：请按规定委托有资质单位接收处置。",
                    "citations": "排污许可管理条例#14", "category": "船舶污染", "lead_unit": "水处"},
        "close": {"reason": "duplicate"},
        "merge": {"other_ids": str(it["other"])},
        "split": {"question_ids": str(it["qids"][1])},
    }.get(action, {})


def _expect_item(role: str, scope: str, method: str) -> int | str:
    if role == "anonymous":
        return "login" if method == "GET" else 401
    visible = {"admin": True, "viewer": True, "putuo": scope == "putuo", "expert": scope == "assigned"}[role]
    if not visible:
        return 404
    if method == "POST" and role == "viewer":
        return 403
    return "ok"


def _check(r: Any, expected: int | str, client: FlaskClient) -> None:
    body = r.get_data(as_text=True)[:300]
    if expected == "login":
        assert r.status_code == 302 and "/console/login" in r.headers["Location"], (r.status_code, body)
    elif expected == "ok":
        assert r.status_code in (200, 302), (r.status_code, body)
        errors = [m for cat, m in flashes(client) if cat == "error"]
        assert not errors, errors
    else:
        assert r.status_code == expected, (r.status_code, body)


def _client(env: ConsoleEnv, role: str) -> tuple[FlaskClient, str]:
    c = env.client(None if role == "anonymous" else role)
    return c, csrf_token(c, "/console/login" if role == "anonymous" else "/console/hittest")


@pytest.mark.parametrize("scope", SCOPES)
@pytest.mark.parametrize("method,rule", ITEM_ROUTES, ids=[f"{m} {r.split('>')[-1] or '/'}" for m, r in ITEM_ROUTES])
@pytest.mark.parametrize("role", ROLES)
def test_item_route_access(console_env: ConsoleEnv, role: str, method: str, rule: str,  # noqa: F811
                           scope: str) -> None:
    it = _item_scope(console_env, scope)
    path = rule.replace("<int:item_id>", str(it["id"]))
    c, token = _client(console_env, role)
    if method == "GET":
        r = c.get(path)
    else:
        r = c.post(path, data={"csrf_token": token, **_item_form(path, it)})
    _check(r, _expect_item(role, scope, method), c)


def _expect_other(role: str, method: str, kind: str) -> int | str:
    if role == "anonymous":
        return "login" if method == "GET" else 401
    if kind == "admin":
        return "ok" if role == "admin" else 403
    if kind == "sender":  # notices to enterprises: the city bureau's admins and the district branches
        return "ok" if role in ("admin", "putuo") else 403
    if method == "POST" and role == "viewer" and kind != "logout":
        return 403
    return "ok"


@pytest.mark.parametrize("method,rule,kind", OTHER_ROUTES, ids=[f"{m} {r}" for m, r, _ in OTHER_ROUTES])
@pytest.mark.parametrize("role", ROLES)
def test_other_route_access(console_env: ConsoleEnv, role: str, method: str, rule: str,  # noqa: F811
                            kind: str) -> None:
    env = console_env
    data: dict[str, Any] = {}
    path = rule.replace("<curated_id>", CURATED)
    if "<int:user_id>" in rule:
        with env.svc.Session() as s:
            u = create_user(s, f"tmp-{uuid.uuid4().hex[:8]}", "temporary-pass-1", "viewer")
            s.commit()
            path = rule.replace("<int:user_id>", str(u.id))
    elif rule == "/console/users":
        data = {"username": f"new-{uuid.uuid4().hex[:8]}", "role": "district", "district": "岱山县",
                "unit": "执法支队", "password": "a-long-password"}
    elif kind == "curated_edit":
        data = {"question": "排污许可证的有效期是几年？", "paraphrases": "排污证能用几年\n排污许可证多久要续期",
                "answer": "排污许可证有效期为五年。到期后还要继续排污的，应在届满六十日前向审批部门申请延续。",
                "citations": "排污许可管理条例#14", "category": "排污许可", "lead_unit": "环评处", "status": "published"}
    elif rule == "/console/hittest":
        path += "?q=排污许可证有效期"
    elif rule == "/console/dashboard.csv":
        path += "?table=summary"
    if "<int:change_id>" in rule:
        path = path.replace("<int:change_id>", str(_change(env)))
        data = {"interpretation": "解读：有效期不变。", "action": "save"} if rule.endswith("interpretation") \
            else {"to": "web|nobody-asked"} if rule.endswith("notify") else data
    c, token = _client(env, role)
    r = c.get(path) if method == "GET" else c.post(path, data={"csrf_token": token, **data})
    _check(r, _expect_other(role, method, kind), c)


@pytest.mark.parametrize("role", ROLES[1:])
def test_login_page_redirects_when_logged_in(console_env: ConsoleEnv, role: str) -> None:  # noqa: F811
    r = console_env.client(role).get("/console/login")
    assert r.status_code == 302 and r.headers["Location"].endswith("/console/")


def test_anonymous_post_without_token_is_401_not_400(console_env: ConsoleEnv) -> None:  # noqa: F811
    it = make_item(console_env.svc, "普陀区")
    r = console_env.client().post(f"/console/items/{it['id']}/close", data={"reason": "duplicate"})
    assert r.status_code == 401
    r = console_env.client().post(f"/console/items/{it['id']}/close", data={"reason": "duplicate"},
                                  headers={"X-Requested-With": "XMLHttpRequest"})
    assert r.status_code == 401 and r.get_json()["error_code"] == "login_required"


@pytest.mark.parametrize("method,rule", CONSULT_ROUTES, ids=[f"{m} {r}" for m, r in CONSULT_ROUTES])
def test_consult_route_access(console_env: ConsoleEnv, method: str, rule: str) -> None:  # noqa: F811
    """A 普陀区 day: anonymous → login; another district's staff → 404 (or 403 scheduling it); viewers may read
    but not change; experts read only."""
    from assistant.consult.schedule import ensure_day

    env = console_env
    with env.svc.Session() as s:
        day = ensure_day(s, env.svc.settings, "2035-06", "普陀区")
        s.commit()
        day_id = day.id
    path = (rule.replace("<int:day_id>", str(day_id)).replace("<int:agenda_id>", "999999")
            .replace("<action>", "pin").replace("<int:participant_id>", "999999"))
    data = {"month": "2035-06", "organiser": "普陀区"}
    anon = env.client()
    r = anon.get(path) if method == "GET" else anon.post(path, data=data)
    assert r.status_code in (302, 401)
    for role, expected in (("dinghai", 404), ("viewer", 403), ("expert", 403)):
        c, token = _client(env, role)
        r = c.get(path) if method == "GET" else c.post(path, data={"csrf_token": token, **data})
        if method == "GET":
            assert r.status_code == (404 if role == "dinghai" else 200), (role, r.status_code)
        elif rule == "/console/consult/schedule" and role == "dinghai":
            assert r.status_code == 403
        else:
            assert r.status_code == expected, (role, r.status_code)
