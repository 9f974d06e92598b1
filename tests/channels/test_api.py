"""The public JSON API and the health check (Flask test client)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest import PWXK
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from assistant.app import create_app
from assistant.config import Settings
from assistant.db.models import Question


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    app = create_app(settings)  # migrates, ingests the (fixture) bundled corpus, loads indexes
    yield app
    app.extensions["assistant"].engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def _n_questions(app: Flask) -> int:
    with app.extensions["assistant"].Session() as s:
        return int(s.scalar(select(func.count()).select_from(Question)) or 0)


def test_ask_returns_answer_json(client: FlaskClient, app: Flask) -> None:
    r = client.post("/api/v1/ask", json={"question": "排污许可证能用几年", "district": "普陀区"})
    assert r.status_code == 200
    body = r.get_json()
    assert body["decision"] == "answer" and body["curated"]["id"] == "fx-pwxk-001"
    assert body["citations"][0]["id"] == f"{PWXK}#14"
    assert isinstance(body["question_id"], int) and body["token"]
    assert "排污许可证" in r.get_data(as_text=True)  # UTF-8, not \u escapes
    assert _n_questions(app) == 1


def test_curated_answer_cites_only_its_own_articles(client: FlaskClient) -> None:
    """Issue #15: under a curated answer, ``citations`` are the entry's own (staff-verified) ones; what retrieval found
    besides is in ``related_articles`` (same item shape), documented in the OpenAPI description."""
    body = client.post("/api/v1/ask", json={"question": "排污许可证能用几年"}).get_json()
    assert body["curated"]["id"] == "fx-pwxk-001" and body["curated"]["citations"] == [f"{PWXK}#14"]
    assert [p["id"] for c in body["citations"] for p in c["parts"]] == [f"{PWXK}#14"]
    others = [p["id"] for c in body["related_articles"] for p in c["parts"]]
    assert others and f"{PWXK}#14" not in others
    assert set(body["related_articles"][0]) >= {"id", "title", "article", "status", "kind", "snippet", "highlights",
                                                "score", "label", "url", "section", "parts"}
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    assert schemas["Answer"]["properties"]["related_articles"]["items"] == {"$ref": "#/components/schemas/Citation"}
    assert {"parts", "section", "part"} <= set(schemas["Citation"]["properties"])


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [({"data": "{not json", "content_type": "application/json"}, "invalid_json"),
     ({"json": ["排污证"]}, "invalid_json"),
     ({"json": {"q": "排污证能用几年"}}, "missing_question"),
     ({"json": {"question": 42}}, "invalid_question"),
     ({"json": {"question": ""}}, "empty_question"),
     ({"json": {"question": "   "}}, "empty_question"),
     ({"json": {"question": "问" * 2001}}, "question_too_long")],
)
def test_bad_requests(client: FlaskClient, app: Flask, kwargs: dict, code: str) -> None:
    r = client.post("/api/v1/ask", **kwargs)
    assert r.status_code == 400
    body = r.get_json()
    assert body["error_code"] == code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["message"]), "message must be in Chinese"
    assert _n_questions(app) == 0


def test_healthz(client: FlaskClient) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200
    body = r.get_json()
    assert body["status"] == "ok"
    assert body["retrieval_mode"] == "hybrid" and body["vectors"] == "ready"
    assert body["passages"] == 24


def test_unknown_route_and_method(client: FlaskClient) -> None:
    r = client.get("/api/v1/nope")
    assert r.status_code == 404 and r.get_json()["error_code"] == "not_found"
    r = client.get("/api/v1/ask")
    assert r.status_code == 405 and r.get_json()["error_code"] == "method_not_allowed"
