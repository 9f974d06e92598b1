"""Queue intake (``assistant.queue.intake``): joining open items."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from assistant.db.models import Question
from assistant.queue.cluster import QuestionClusterer
from assistant.queue.intake import enqueue
from assistant.service import AssistantService
from assistant.text.normalize import normalize


@pytest.fixture
def session(db_settings) -> Iterator[Session]:  # type: ignore[no-untyped-def]
    svc = AssistantService(db_settings)
    svc.migrate()
    with svc.Session() as s:
        yield s
    svc.engine.dispose()


def _q(s: Session, text: str) -> Question:
    q = Question(token=f"t{datetime.now(UTC).timestamp()}{len(text)}{id(text)}", text=text,
                 normalized=normalize(text), channel="api")
    s.add(q)
    s.flush()
    return q


class Recording(QuestionClusterer):
    def __init__(self) -> None:
        super().__init__()
        self.compared: list[str] = []

    def assign(self, text, item_texts):  # type: ignore[no-untyped-def]
        self.compared.append(text)
        return super().assign(text, item_texts)


def test_exact_repeat_joins_the_item_holding_it_without_similarity(session: Session) -> None:
    real = QuestionClusterer()
    first = enqueue(session, _q(session, "排污许可证的有效期是几年？"), "abstain", real)
    other = enqueue(session, _q(session, "夜间施工噪音扰民应该向哪个部门投诉？"), "abstain", real)
    member = enqueue(session, _q(session, "排污许可证有效期多长时间"), "abstain", real)
    assert member.id == first.id != other.id
    # a member's text again, in Traditional characters: normalised to the same text
    rec = Recording()
    again = enqueue(session, _q(session, "排污許可證有效期多長時間"), "abstain", rec)
    assert again.id == first.id
    assert again.count == 3
    title_again = enqueue(session, _q(session, "夜間施工噪音擾民應該向哪個部門投訴？"), "abstain", rec)
    assert title_again.id == other.id
    assert rec.compared == []  # exact repeats: no similarity computed
    enqueue(session, _q(session, "危险废物转移联单要保存多少年"), "abstain", rec)
    assert rec.compared == ["危险废物转移联单要保存多少年"]  # anything new is still compared

class Broken(QuestionClusterer):
    def assign(self, text, item_texts):  # type: ignore[no-untyped-def]
        raise RuntimeError("embedding cache: database is locked")


def test_a_failing_clusterer_still_queues_the_question(session: Session, caplog: pytest.LogCaptureFixture) -> None:
    real = QuestionClusterer()
    first = enqueue(session, _q(session, "排污许可证的有效期是几年？"), "abstain", real)
    item = enqueue(session, _q(session, "排污许可证有效期多长时间"), "abstain", Broken())
    assert item.id != first.id and item.count == 1 and item.status == "new"  # a new item staff can merge
    assert "queue clustering failed" in caplog.text
