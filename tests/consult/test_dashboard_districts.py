"""统计看板: a district's 提问数 counts the questions of the items in its 待办.

Questions keep the district they were asked with (the web chat sends none), while the queue — and so the
dashboard's 待办 — is scoped by the item's district, which the city bureau sets when it routes an item. The questions
of an item routed to 普陀区 used to be counted under 未标明区县 (or under another district when a question joined
that district's item), so 普陀区's dashboard showed 待办 items whose questions were missing from its 提问数 and
拒答率. Now a question counts for the district of its queue item, else its own; per-district rows still add up."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from assistant.config import Settings
from assistant.consult import stats, stats_tables
from assistant.db.models import Question, QueueItem, QueueMember
from assistant.queue.curation import Actor
from assistant.service import AssistantService
from assistant.text.normalize import normalize

ADMIN, PUTUO = Actor("admin", "admin"), Actor("putuo", "district", "普陀区")
DINGHAI = Actor("dinghai", "district", "定海区")


@pytest.fixture
def svc(db_settings: Settings) -> Iterator[AssistantService]:
    s = AssistantService(db_settings)
    s.migrate()
    yield s
    s.engine.dispose()


def _q(s: Session, district: str, decision: str, days_ago: float = 1.0) -> Question:
    text = f"测试问题 {secrets.token_hex(4)}"
    q = Question(token=secrets.token_urlsafe(24), text=text, normalized=normalize(text), channel="chat",
                 district=district, decision=decision, asked_at=datetime.now(UTC) - timedelta(days=days_ago))
    s.add(q)
    s.flush()
    return q


def _item(s: Session, district: str, *questions: Question) -> QueueItem:
    t = datetime.now(UTC) - timedelta(days=2)
    it = QueueItem(title=questions[0].text, status="new", count=len(questions), district=district, first_asked=t,
                   last_asked=t)
    s.add(it)
    s.flush()
    for q in questions:
        s.add(QueueMember(item_id=it.id, question_id=q.id, source="abstain", channel=q.channel))
    return it


def test_district_counts_the_questions_of_its_open_items(svc: AssistantService) -> None:
    with svc.Session() as s:
        _q(s, "普陀区", "answer")  # asked in 普陀区, answered: no queue item
        routed = [_q(s, "", "abstain"), _q(s, "", "abstain")]  # web chat, no district; routed to 普陀区 by the city
        _item(s, "普陀区", *routed)
        joined = _q(s, "定海区", "abstain")  # asked in 定海区, joined 普陀区's item (same question)
        _item(s, "普陀区", joined)
        _item(s, "", _q(s, "", "abstain"))  # not routed: the city bureau's
        _item(s, "定海区", _q(s, "定海区", "abstain"))
        s.commit()

    with svc.Session() as s:
        pt = stats.dashboard(s, PUTUO)
        dh = stats.dashboard(s, DINGHAI)
        city = stats.dashboard(s, ADMIN)
        filtered = stats.dashboard(s, ADMIN, district="普陀区")
    # 普陀区's 待办: the two items routed to it; its 提问数: their 3 questions and the one answered there
    assert pt.total.open_total == 2
    assert pt.total.questions == 4 and pt.total.decisions["abstain"] == 3
    assert pt.total.abstain_rate == pytest.approx(3 / 4)
    assert filtered.total.questions == 4 and filtered.total.open_total == 2
    # 定海区 keeps only the question of its own item
    assert dh.total.questions == 1 and dh.total.open_total == 1
    # the city table: each question in one row, rows add up to the total
    rows = {r[0]: r for r in stats_tables.tables(city)["districts"].rows}
    assert rows["普陀区"][1] == 4 and rows["定海区"][1] == 1 and rows[stats_tables.NO_DISTRICT][1] == 1
    assert rows["合计"][1] == city.total.questions == 6
    assert rows["普陀区"][5] == 2 and rows[stats_tables.NO_DISTRICT][5] == 1
