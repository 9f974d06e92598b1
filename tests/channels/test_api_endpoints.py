"""Feedback, handoff, question status, suggestions, OpenAPI, headers, CORS and rate limits of the public API."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from assistant.app import create_app
from assistant.config import Settings
from assistant.db.models import Feedback, Handoff, Question, QueueItem, QueueMember
from assistant.text.contact import uscc_check_char, valid_uscc

VALID_USCC = "91330900MA2A0B1C2" + uscc_check_char("91330900MA2A0B1C2")


@pytest.fixture
def app(db_settings: Settings) -> Iterator[Flask]:
    s = db_settings.evolve(allowed_origins=("https://partner.example",), ratelimit_ask="1000/minute")
    app = create_app(s)
    yield app
    app.extensions["assistant"].engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def _count(app: Flask, model: type) -> int:
    with app.extensions["assistant"].Session() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def _ask(client: FlaskClient, q: str = "排污许可证能用几年") -> dict:
    r = client.post("/api/v1/ask", json={"question": q, "channel": "widget"})
    assert r.status_code == 200
    return r.get_json()


def test_uscc_checksum() -> None:
    assert valid_uscc(VALID_USCC) and valid_uscc("91110000802100433B")
    assert not valid_uscc(VALID_USCC[:17] + ("0" if VALID_USCC[17] != "0" else "1"))
    assert not valid_uscc("91330900MA2A0B1C2I")  # I is not in the alphabet
    assert not valid_uscc("123")


def test_not_helpful_feedback_creates_queue_item(client: FlaskClient, app: Flask) -> None:
    a = _ask(client)
    r = client.post("/api/v1/feedback", json={"question_id": a["question_id"], "token": a["token"],
                                              "helpful": False, "reason": "没说清楚怎么延续"})
    assert r.status_code == 200 and r.get_json()["queued"] is True
    assert _count(app, Feedback) == 1 and _count(app, QueueItem) == 1
    with app.extensions["assistant"].Session() as s:
        m = s.scalars(select(QueueMember)).one()
        assert m.question_id == a["question_id"] and m.source == "not_helpful" and m.channel == "widget"
    # helpful feedback does not queue
    b = _ask(client, "危险废物转移联单保存期限")
    r = client.post("/api/v1/feedback", json={"question_id": b["question_id"], "token": b["token"], "helpful": True})
    assert r.get_json()["queued"] is False
    with app.extensions["assistant"].Session() as s:
        sources = [m.source for m in s.scalars(select(QueueMember).where(QueueMember.question_id == b["question_id"]))]
    assert "not_helpful" not in sources


def test_feedback_needs_the_right_token(client: FlaskClient) -> None:
    a = _ask(client)
    r = client.post("/api/v1/feedback", json={"question_id": a["question_id"], "token": "x" * 20, "helpful": False})
    assert r.status_code == 404 and r.get_json()["error_code"] == "question_not_found"


def test_handoff_of_new_question_stores_it_once_and_queues(client: FlaskClient, app: Flask) -> None:
    r = client.post("/api/v1/handoff", json={
        "question": "我们是船舶修造企业，喷漆废气在线监测要联网吗？", "consent": True, "channel": "widget",
        "contact": {"name": "王工", "company": "舟山某船舶修造有限公司", "uscc": VALID_USCC, "phone": "13800138000"}})
    assert r.status_code == 201
    body = r.get_json()
    assert _count(app, Question) == 1 and _count(app, QueueItem) == 1 and _count(app, Handoff) == 1
    with app.extensions["assistant"].Session() as s:
        h = s.scalars(select(Handoff)).one()
        assert h.consent and h.uscc == VALID_USCC and h.phone == "13800138000"
        item = s.scalars(select(QueueItem)).one()
        assert item.count == 1 and item.members[0].source == "handoff"
    st = client.get(f"/api/v1/questions/{body['token']}").get_json()
    assert st["status"] == "pending" and st["answer"] is None and st["question"].startswith("我们是船舶")


def test_handoff_of_asked_question_reuses_it(client: FlaskClient, app: Flask) -> None:
    a = _ask(client)
    r = client.post("/api/v1/handoff", json={"question_id": a["question_id"], "token": a["token"], "consent": False})
    assert r.status_code == 201 and r.get_json()["question_id"] == a["question_id"]
    assert _count(app, Question) == 1 and _count(app, Handoff) == 1
    with app.extensions["assistant"].Session() as s:
        assert s.scalars(select(Handoff)).one().consent is False


def test_status_shows_staff_answer_once_published(client: FlaskClient, app: Flask) -> None:
    r = client.post("/api/v1/handoff", json={"question": "渔港码头的废油桶能卖给废品站吗"})
    token = r.get_json()["token"]
    with app.extensions["assistant"].Session() as s:
        item = s.scalars(select(QueueItem)).one()
        item.status, item.answer = "published", "废矿物油桶属于危险废物，应交有许可证的单位处置。"
        from datetime import datetime

        item.answered_at = datetime.now(UTC)
        s.commit()
    st = client.get(f"/api/v1/questions/{token}").get_json()
    assert st["status"] == "answered" and "危险废物" in st["answer"]["text"]


def test_similar_questions_join_one_item(client: FlaskClient, app: Flask) -> None:
    for q in ("渔港码头的废油桶能卖给废品站吗", "渔港码头废油桶可以卖给废品站吗？", "锅炉烟气在线监测要联网吗"):
        assert client.post("/api/v1/handoff", json={"question": q}).status_code == 201
    with app.extensions["assistant"].Session() as s:
        counts = sorted(i.count for i in s.scalars(select(QueueItem)))
    assert counts == [1, 2]


def test_abstention_is_queued(client: FlaskClient, app: Flask) -> None:
    a = _ask(client, "我家孩子上小学的学费怎么交")
    assert a["decision"] == "abstain"
    with app.extensions["assistant"].Session() as s:
        m = s.scalars(select(QueueMember)).one()
        assert m.question_id == a["question_id"] and m.source == "abstain"


@pytest.mark.parametrize(("payload", "code"), [
    ({"question": "问题", "consent": False, "contact": {"phone": "13800138000"}}, "consent_required"),
    ({"question": "问题", "consent": True, "contact": {"uscc": "91330900MA2A0B1C2X"}}, "invalid_uscc"),
    ({"question": "问题", "consent": True, "contact": {"phone": "12345"}}, "invalid_phone"),
    ({"question": "问题", "consent": True, "contact": {"email": "not-an-email"}}, "invalid_email"),
    ({"question": "", "consent": False}, "empty_question"),
    ({"question": "问" * 10_000}, "question_too_long"),
    ({"question": 123}, "invalid_question"),
    ({"question": "问题", "consent": "yes"}, "invalid_consent"),
    ({"question": "问题", "contact": "13800138000"}, "invalid_contact"),
])
def test_handoff_bad_input(client: FlaskClient, app: Flask, payload: dict, code: str) -> None:
    r = client.post("/api/v1/handoff", json=payload)
    assert r.status_code == 400, r.get_json()
    body = r.get_json()
    assert body["error_code"] == code and body["message"]
    assert _count(app, Question) == 0 and _count(app, Handoff) == 0  # nothing half-stored


@pytest.mark.parametrize(("payload", "code"), [
    ({"token": "t", "helpful": False}, "missing_question_id"),
    ({"question_id": "1", "token": "t", "helpful": False}, "invalid_question_id"),
    ({"question_id": 1, "token": "t", "helpful": "no"}, "invalid_helpful"),
    ({"question_id": 1, "token": "t", "helpful": False, "reason": "x" * 501}, "invalid_reason"),
])
def test_feedback_bad_input(client: FlaskClient, payload: dict, code: str) -> None:
    r = client.post("/api/v1/feedback", json=payload)
    assert r.status_code == 400 and r.get_json()["error_code"] == code


@pytest.mark.parametrize(("payload", "code"), [
    ({"question": ""}, "empty_question"), ({"question": "   "}, "empty_question"),
    ({"question": "问" * 10_000}, "question_too_long"), ({"question": ["a"]}, "invalid_question"),
    ({"question": "排污证", "channel": "fax"}, "invalid_channel"), ({"question": None}, "invalid_question"),
])
def test_ask_bad_input(client: FlaskClient, app: Flask, payload: dict, code: str) -> None:
    r = client.post("/api/v1/ask", json=payload)
    assert r.status_code == 400 and r.get_json()["error_code"] == code
    assert _count(app, Question) == 0


def test_unknown_token_is_404(client: FlaskClient) -> None:
    r = client.get("/api/v1/questions/nope")
    assert r.status_code == 404 and r.get_json()["error_code"] == "question_not_found"


def test_suggestions_and_openapi(client: FlaskClient) -> None:
    assert client.get("/api/v1/suggestions").get_json()["questions"]
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.") and {"/ask", "/feedback", "/handoff", "/questions/{token}"} <= set(
        spec["paths"])


def test_security_headers_and_framing(client: FlaskClient) -> None:
    r = client.get("/api/v1/suggestions")
    assert r.headers["X-Content-Type-Options"] == "nosniff" and "frame-ancestors 'none'" in r.headers[
        "Content-Security-Policy"] and r.headers["X-Frame-Options"] == "DENY"
    f = client.get("/widget/frame")
    csp = f.headers["Content-Security-Policy"]
    assert "frame-ancestors 'self' https://partner.example" in csp and "X-Frame-Options" not in f.headers
    assert "frame-ancestors 'none'" in client.get("/chat").headers["Content-Security-Policy"]


def test_cors_only_for_configured_origins(client: FlaskClient) -> None:
    ok = client.post("/api/v1/ask", json={"question": "排污证能用几年"},
                     headers={"Origin": "https://partner.example"})
    assert ok.headers.get("Access-Control-Allow-Origin") == "https://partner.example"
    bad = client.post("/api/v1/ask", json={"question": "排污证能用几年"}, headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in bad.headers


def test_rate_limit_returns_429_json(settings: Settings) -> None:
    app = create_app(settings.evolve(ratelimit_ask="2/minute"))
    c = app.test_client()
    codes = [c.post("/api/v1/ask", json={"question": "排污证能用几年"}).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    r = c.post("/api/v1/ask", json={"question": "排污证能用几年"})
    assert r.get_json()["error_code"] == "rate_limited"
    app.extensions["assistant"].engine.dispose()


def test_curated_markup_is_sanitised_on_save(settings: Settings) -> None:
    from assistant.ingest.curated import CuratedEntry
    from assistant.service import AssistantService

    svc = AssistantService(settings)
    svc.migrate()
    svc.ensure_corpus()
    svc.load_indexes(background=False)
    svc.indexes.publish_curated(CuratedEntry(id="x-1", question="测试条目的问题是什么", category="测试",
                                 answer='<b>要点</b><img src=x onerror=alert(1)><script>alert(2)</script>'
                                        '<a href="javascript:alert(3)">链接</a>'))
    from assistant.db.models import CuratedAnswer

    with svc.Session() as s:
        stored = s.get(CuratedAnswer, "x-1").answer
    assert "<b>要点</b>" in stored
    assert "onerror" not in stored and "<script" not in stored and "javascript:" not in stored
    svc.engine.dispose()


def test_rate_limit_with_redis_storage(settings: Settings) -> None:
    """Production profile: limits kept in Redis are shared by every worker (two apps = two workers here)."""
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url("redis://127.0.0.1:6379/15").ping()
    except Exception as exc:  # pragma: no cover - depends on the machine
        pytest.skip(f"Redis not reachable: {exc}")
    redis.Redis.from_url("redis://127.0.0.1:6379/15").flushdb()
    s = settings.evolve(ratelimit_ask="3/minute", ratelimit_storage="redis://127.0.0.1:6379/15")
    a, b = create_app(s), create_app(s)
    codes = [app.test_client().post("/api/v1/ask", json={"question": "排污证能用几年"}).status_code
             for app in (a, b, a, b)]
    assert codes == [200, 200, 200, 429]
    for app in (a, b):
        app.extensions["assistant"].engine.dispose()


def _uscc_by_rules(code: str, rules: dict) -> bool:
    """The chat page's USCC check (web/static/chat/handoff.js: blanks removed and upper-cased, then usccValid in
    chat/contact.js), from the served rules."""
    code = "".join(code.split()).upper()
    chars, weights = rules["uscc_chars"], rules["uscc_weights"]
    if len(code) != 18 or any(c not in chars for c in code):
        return False
    total = sum(chars.index(c) * w for c, w in zip(code[:17], weights))
    return chars[(31 - total % 31) % 31] == code[17]


def test_contact_rules_served_to_the_page_refuse_what_the_server_refuses(client: FlaskClient) -> None:
    """One source: the page checks the handoff form with the rules the server validates with. The inputs include
    what the page's own patterns used to accept and the server refused (+86 prefix, 12x mobile, extensions,
    a USCC with a wrong check character)."""
    import re

    from assistant.text.contact import valid_email, valid_phone

    r = client.get("/api/v1/contact-rules")
    assert r.status_code == 200
    rules = r.get_json()
    mobile, landline, email = (re.compile(rules[k]) for k in ("mobile", "landline", "email"))
    good = "91330900MA2A0B1C" + "X"
    good = good[:17] + uscc_check_char(good[:17])
    bad = good[:17] + next(c for c in rules["uscc_chars"] if c != good[17])
    for code in (good, bad, good.lower(), good[:17], "I" * 18):
        assert _uscc_by_rules(code, rules) == valid_uscc(code), code
    for phone in ("13800138000", "12012345678", "+8613800138000", "0580-2201234", "05802201234", "0580-2201234-123",
                  "2201234", "138001380001"):
        assert bool(mobile.match(phone) or landline.match(phone)) == valid_phone(phone), phone
    for mail in ("a@b.cn", "a.b@c", "a b@c.cn", "x@y.z", "张@例子.中国"):
        assert (bool(email.match(mail)) and len(mail) <= rules["email_max"]) == valid_email(mail), mail
    for refused in ("12012345678", "+8613800138000", "0580-2201234-123"):
        assert not valid_phone(refused)
    assert client.post("/api/v1/handoff", json={"question": "测试转人工", "consent": True,
                                                "contact": {"phone": "12012345678"}}).get_json()["error_code"] \
        == "invalid_phone"


def test_a_ministry_reply_page_carries_no_in_force_badge(client: FlaskClient) -> None:
    """A reply is the ministry's answer to a letter, not a rule: its page shows no 现行有效 badge (a regulation's
    page does) and is titled like its card."""
    reply = client.get("/doc/" + quote("部长信箱·关于排污登记是否需要领证的回复（fx-001）#1", safe=""))
    assert reply.status_code == 200
    html = reply.get_data(as_text=True)
    assert "官方答复" in html and 'data-testid="doc-status"' not in html
    # named as its cards name it: no record id, and its one passage is not numbered as a chapter
    assert "部长信箱答复：关于排污登记是否需要领证的回复</h1>" in html and "fx-001" not in html.split("<main", 1)[1]
    assert "第1章" not in html
    law = client.get("/doc/" + quote("排污许可管理条例#14", safe="")).get_data(as_text=True)
    assert 'data-testid="doc-status">现行有效<' in law
