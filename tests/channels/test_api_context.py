"""POST /api/v1/ask in a conversation: the follow-up's meta.context, the suggestion field, suggestion_of."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient

from assistant.app import create_app
from assistant.config import Settings
from assistant.db.models import Question


@pytest.fixture
def client(db_settings: Settings) -> Iterator[FlaskClient]:
    app = create_app(db_settings.evolve(ratelimit_ask="1000/minute"))
    yield app.test_client()
    app.extensions["assistant"].engine.dispose()


def _ask(client: FlaskClient, **body: object) -> dict:
    r = client.post("/api/v1/ask", json={"channel": "widget", **body})
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def test_a_follow_up_in_one_session_says_which_question_it_used(client: FlaskClient) -> None:
    first = _ask(client, question="排污许可证的有效期是几年", session="web-1")
    assert first["meta"]["context"] == {"used": False} and "suggestion" in first
    follow = _ask(client, question="那到期了没延续还排污，罚多少？", session="web-1")
    assert follow["meta"]["context"] == {"used": True, "turn": "排污许可证的有效期是几年", "turns": ["排污许可证的有效期是几年"], "shown": ["排污许可证的有效期是几年"]}
    assert follow["question"] == "那到期了没延续还排污，罚多少？"
    other = _ask(client, question="那到期了没延续还排污，罚多少？", session="web-2")
    assert other["meta"]["context"] == {"used": False}


def test_suggestion_of_is_stored_with_the_question(client: FlaskClient) -> None:
    first = _ask(client, question="许可证到期时间", session="web-3")
    taken = _ask(client, question="排污许可证的有效期是几年？", session="web-3", suggestion_of=first["question_id"])
    app = client.application
    with app.extensions["assistant"].Session() as s:
        row = s.get(Question, taken["question_id"])
        assert row is not None and row.suggestion_of == first["question_id"]
    bad = client.post("/api/v1/ask", json={"question": "排污许可证", "suggestion_of": "x"})
    assert bad.status_code == 400 and bad.get_json()["error_code"] == "invalid_suggestion_of"
    assert "suggestion_of" in bad.get_json()["message"]


def test_standalone_answers_the_question_without_the_conversation(client: FlaskClient) -> None:
    """"单独提问": the user says the conversation was read wrongly — the same words, answered on their own (stored as
    the new submission it is), and the answer says so."""
    _ask(client, question="排污许可证的有效期是几年", session="web-alone")
    follow = _ask(client, question="那到期了没延续还排污，罚多少？", session="web-alone")
    assert follow["meta"]["context"]["used"] is True
    alone = _ask(client, question="那到期了没延续还排污，罚多少？", session="web-alone", standalone=True)
    assert alone["meta"]["context"] == {"used": False, "standalone": True}
    assert alone["meta"]["searched"] == "那到期了没延续还排污，罚多少？"
    with client.application.extensions["assistant"].Session() as s:
        rows = s.query(Question).filter(Question.session_id == "web-alone").order_by(Question.id).all()
        assert [r.text for r in rows] == ["排污许可证的有效期是几年", "那到期了没延续还排污，罚多少？",
                                          "那到期了没延续还排污，罚多少？"]
    bad = client.post("/api/v1/ask", json={"question": "排污许可证", "standalone": "yes"})
    assert bad.status_code == 400 and bad.get_json()["error_code"] == "invalid_standalone"
    assert "standalone" in bad.get_json()["message"]
