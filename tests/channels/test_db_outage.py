"""Database outage: every route answers 503 in Chinese instead of 500, and the service recovers by itself.

The shared PostgreSQL server is never stopped: the service's engine is pointed at an unreachable address (port 1),
a flush is made to fail, or the server side of our own pooled connections is terminated (PostgreSQL restart).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.exc import DataError, IntegrityError, OperationalError

from assistant.app import create_app, is_database_outage
from assistant.config import Settings
from assistant.db.models import Question
from assistant.db.session import make_engine, make_sessionmaker

UNREACHABLE = "postgresql+psycopg://postgres@127.0.0.1:1/nowhere?connect_timeout=2"
MESSAGE = "数据库暂时无法连接，请稍后重试"


@pytest.fixture
def app(db_settings: Settings) -> Iterator[Flask]:
    s = db_settings.evolve(ratelimit_ask="1000/minute", ratelimit_write="1000/minute")
    app = create_app(s)
    yield app
    app.extensions["assistant"].engine.dispose()


def _count(app: Flask) -> int:
    with app.extensions["assistant"].Session() as s:
        return int(s.scalar(select(func.count()).select_from(Question)) or 0)


def _ask(app: Flask, q: str = "排污许可证能用几年") -> Any:
    return app.test_client().post("/api/v1/ask", json={"question": q})


def _assert_json_503(r: Any) -> None:
    assert r.status_code == 503, (r.status_code, r.get_data(as_text=True)[:300])
    assert r.get_json() == {"error_code": "database_unavailable", "message": MESSAGE}
    assert r.headers.get("Retry-After")


def test_outage_classification() -> None:
    refused = OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))
    assert is_database_outage(refused)
    assert not is_database_outage(IntegrityError("INSERT", {}, Exception("duplicate key")))
    assert not is_database_outage(DataError("SELECT", {}, Exception("bad value")))


def test_every_route_answers_503_while_unreachable_then_recovers(app: Flask) -> None:
    svc = app.extensions["assistant"]
    client = app.test_client()
    first = _ask(app).get_json()
    n0 = _count(app)
    good_engine, good_session = svc.engine, svc.Session
    dead = make_engine(UNREACHABLE)
    svc.engine, svc.Session = dead, make_sessionmaker(dead)
    try:
        _assert_json_503(_ask(app))
        _assert_json_503(client.post("/api/v1/feedback", json={"question_id": first["question_id"],
                                                                "token": first["token"], "helpful": False}))
        _assert_json_503(client.post("/api/v1/handoff", json={"question": "船舶喷漆废气要联网吗"}))
        _assert_json_503(client.get(f"/api/v1/questions/{first['token']}"))
        _assert_json_503(client.get("/api/v1/suggestions"))
        r = client.get("/doc/排污许可管理条例%23第三条")
        assert r.status_code == 503 and r.mimetype == "text/html" and MESSAGE in r.get_data(as_text=True)
        r = client.get("/readyz")
        assert r.status_code == 503 and r.get_json()["error_code"] == "not_ready"
        assert client.get("/healthz").status_code == 200  # liveness does not touch the database
        assert client.get("/chat").status_code == 200  # the page itself needs no database
    finally:
        svc.engine, svc.Session = good_engine, good_session
        dead.dispose()
    # back without a restart; nothing was stored during the outage, the retry is stored exactly once
    assert _count(app) == n0
    r = _ask(app)
    assert r.status_code == 200 and _count(app) == n0 + 1
    assert client.get(f"/api/v1/questions/{first['token']}").status_code == 200
    assert client.get("/doc/排污许可管理条例%23第三条").status_code == 200
    assert client.get("/readyz").status_code == 200


def test_session_factory_raising_gives_503_everywhere(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    svc = app.extensions["assistant"]
    client = app.test_client()

    def refused(*_a: Any, **_k: Any) -> Any:
        raise OperationalError("connect", {}, ConnectionRefusedError("connection refused"))

    monkeypatch.setattr(svc, "Session", refused)
    _assert_json_503(_ask(app))
    _assert_json_503(client.post("/api/v1/handoff", json={"question": "船舶喷漆废气要联网吗"}))
    r = client.get("/doc/排污许可管理条例")
    assert r.status_code == 503 and "数据库暂时无法连接" in r.get_data(as_text=True)
    monkeypatch.undo()
    assert _ask(app).status_code == 200


def test_failed_insert_leaves_no_row_and_the_retry_stores_once(app: Flask) -> None:
    svc = app.extensions["assistant"]
    n0 = _count(app)
    state = {"fail": True}

    def drop_during_insert(session: Any, _ctx: Any) -> None:
        if state["fail"] and any(isinstance(o, Question) for o in session.new):
            state["fail"] = False
            raise OperationalError("INSERT INTO questions", {}, ConnectionResetError("server closed the connection"))

    event.listen(svc.Session, "after_flush", drop_during_insert)
    try:
        _assert_json_503(_ask(app, "危险废物转移联单保存期限"))
        assert _count(app) == n0  # no half row
    finally:
        event.remove(svc.Session, "after_flush", drop_during_insert)
    r = _ask(app, "危险废物转移联单保存期限")
    assert r.status_code == 200 and _count(app) == n0 + 1
    with svc.Session() as s:
        texts = s.scalars(select(Question.text).where(Question.text == "危险废物转移联单保存期限")).all()
    assert len(texts) == 1


@pytest.mark.postgres
def test_postgres_restart_is_survived_without_restarting_the_service(settings: Settings) -> None:
    """Our pooled connections are killed server-side (what a PostgreSQL restart does to them): the pre-ping
    pool discards them and the next requests are answered normally."""
    from conftest import PG_URL, pg_schema

    schemas = pg_schema()
    url = next(schemas)
    name = f"outage_{uuid.uuid4().hex[:8]}"
    app = create_app(settings.evolve(database_url=f"{url}&application_name={name}", ratelimit_ask="1000/minute"))
    svc = app.extensions["assistant"]
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        assert _ask(app).status_code == 200
        n0 = _count(app)
        with admin.connect() as conn:
            killed = conn.execute(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                       "WHERE application_name = :n"), {"n": name}).scalar()
        assert killed and killed >= 1
        for _ in range(3):
            r = _ask(app, "危险废物转移联单保存期限")
            assert r.status_code == 200, r.get_data(as_text=True)[:300]
        assert _count(app) == n0 + 3
        assert app.test_client().get("/readyz").status_code == 200
    finally:
        svc.engine.dispose()
        admin.dispose()
        schemas.close()
