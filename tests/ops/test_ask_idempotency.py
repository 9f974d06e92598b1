"""client_msg_id on the public API: a retry of the same message (same channel) is stored and answered once, even when
the retry races the original; questions without an id are stored once each. SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import func, select

from assistant.app import create_app
from assistant.config import Settings
from assistant.db.models import Question
from assistant.service import AssistantService

Q = "排污许可证能用几年"


@pytest.fixture
def app(db_settings: Settings) -> Iterator[Flask]:
    app = create_app(db_settings)
    yield app
    app.extensions["assistant"].engine.dispose()


def _rows(svc: AssistantService, msg: str | None = None) -> int:
    with svc.Session() as s:
        q = select(func.count()).select_from(Question)
        if msg is not None:
            q = q.where(Question.client_msg_id == msg)
        return int(s.scalar(q) or 0)


def test_retry_with_same_client_msg_id_is_stored_once(app: Flask) -> None:
    c = app.test_client()
    svc: AssistantService = app.extensions["assistant"]
    first = c.post("/api/v1/ask", json={"question": Q, "client_msg_id": "m-1"}).get_json()
    again = c.post("/api/v1/ask", json={"question": Q, "client_msg_id": "m-1"}).get_json()
    assert again["question_id"] == first["question_id"] and again["token"] == first["token"]
    assert again["decision"] == first["decision"]
    other_channel = c.post("/api/v1/ask", json={"question": Q, "client_msg_id": "m-1", "channel": "widget"})
    assert other_channel.get_json()["question_id"] != first["question_id"]  # ids are per channel
    c.post("/api/v1/ask", json={"question": Q})
    c.post("/api/v1/ask", json={"question": Q})
    assert _rows(svc, "m-1") == 2 and _rows(svc) == 4


def test_too_long_client_msg_id_is_refused(app: Flask) -> None:
    r = app.test_client().post("/api/v1/ask", json={"question": Q, "client_msg_id": "x" * 101})
    assert r.status_code == 400 and r.get_json()["error_code"] == "invalid_client_msg_id"


def test_racing_duplicates_resolve_to_one_row(app: Flask) -> None:
    svc: AssistantService = app.extensions["assistant"]
    results: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def ask() -> None:
        try:
            start.wait()
            results.append(svc.ask(Q, channel="api", client_msg_id="race-1").question_id)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    ts = [threading.Thread(target=ask) for _ in range(6)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors and len(set(results)) == 1 and len(results) == 6
    assert _rows(svc, "race-1") == 1
