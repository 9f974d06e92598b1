"""A month of simulated traffic from the real petitions file (542 complaints, many posted by several people):
the agenda ranks the biggest real duplicate clusters first and explains why; rebuilds and freezes are idempotent;
staff adjustments survive a rebuild; one enterprise's repeated question ranks below a common one."""

from __future__ import annotations

import json
import secrets
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from assistant.consult import agenda as ag
from assistant.consult.schedule import ensure_day
from assistant.consult.simulate import simulate
from assistant.db.models import AgendaItem, ConsultationDay, Question, QueueItem, QueueMember
from assistant.queue.curation import Actor, WorkflowError
from assistant.queue.intake import enqueue
from assistant.text.normalize import normalize
from tests.conftest import REPO, build_service, make_settings

PETITIONS = REPO.parent / "shared" / "eval" / "taidi_env_petitions_unanswered.jsonl"
PAIRS = REPO / "tests" / "data" / "petition_pairs.jsonl"
ADMIN = Actor("chief", "admin")
NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)


def gold_clusters() -> list[set[str]]:
    """Hand-labelled duplicate groups (connected components of the 'same complaint' pairs), biggest first."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            x = parent[x]
        return x

    for d in map(json.loads, PAIRS.read_text(encoding="utf-8").splitlines()):
        if d["same"]:
            parent[find(d["a"])] = find(d["b"])
    comps: dict[str, set[str]] = {}
    for x in list(parent):
        comps.setdefault(find(x), set()).add(x)
    return sorted(comps.values(), key=len, reverse=True)


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> Any:
    if not PETITIONS.exists():
        pytest.skip(f"shared petitions file missing: {PETITIONS}")
    root = tmp_path_factory.mktemp("month")
    svc = build_service(make_settings(root / "env", f"sqlite:///{root / 'env' / 'assistant.db'}"))
    sim = simulate(svc, PETITIONS, datetime(2026, 11, 1, tzinfo=UTC))
    # one enterprise asks its own question six times (a case, not a common question)
    with svc.Session() as s:
        for n in range(6):
            text = f"我司岙山码头储罐区第{n + 1}次申请延期整改，能否再宽限？"
            q = Question(token=secrets.token_urlsafe(24), text=text, normalized=normalize(text), channel="chat",
                         session_id="solo", enterprise="舟山某某石化储运有限公司", decision="abstain",
                         asked_at=datetime(2026, 11, 20 + n, tzinfo=UTC))
            s.add(q)
            s.flush()
            enqueue(s, q, "abstain", svc.clusterer)
        s.commit()
    try:
        yield svc, sim
    finally:
        svc.engine.dispose()


def _home(s: Any, sim: Any, cluster: set[str]) -> tuple[int, int]:
    """The queue item holding most of a gold cluster's petitions, and how many it holds."""
    qids = [q for q, p in sim.petition_ids.items() if p in cluster]
    items = Counter(s.scalars(select(QueueMember.item_id).where(QueueMember.question_id.in_(qids))))
    return items.most_common(1)[0]


def test_agenda_ranks_biggest_real_clusters_first_and_explains(month: Any) -> None:
    svc, sim = month
    assert sim.questions == 542
    gold = gold_clusters()
    with svc.Session() as s:
        day = ensure_day(s, svc.settings, "2026-12", "市本级", ADMIN)
        res = ag.build(s, day, svc.indexes, size=10, now=NOW, actor=ADMIN)
        s.commit()
        rows = res.items
        assert len(rows) == 10 and res.changed and res.ranked > 50
        ranked = [it.id for it, _ in ag.rank(s, day, NOW)]
        # the biggest hand-labelled duplicate group (10 petitions: the same mixing plant, reworded) leads the agenda
        home, held = _home(s, sim, gold[0])
        assert held >= 8
        assert rows[0].queue_item_id == home
        # every labelled group of 5+ reworded petitions is in the top fifth of the ranking
        for cluster in (c for c in gold if len(c) >= 5):
            home, _ = _home(s, sim, cluster)
            assert ranked.index(home) < len(ranked) // 5, cluster
        # ordered by score, and the explanation states the numbers the ranking used, as counted in the database
        assert [r.score for r in rows] == sorted((r.score for r in rows), reverse=True)
        for r in rows:
            qs = list(s.scalars(select(Question).join(QueueMember, QueueMember.question_id == Question.id)
                                .where(QueueMember.item_id == r.queue_item_id)))
            askers = {q.enterprise for q in qs}
            assert r.askers == len(askers) and r.reasons["questions"] == len(qs)
            assert r.reasons["text"][0].startswith(f"{len(askers)} 位提问者")
            assert any("已等待" in t for t in r.reasons["text"])
            assert r.topic  # grouped by topic (suggested when staff set none)
        # the top item is much more common than the tenth
        assert rows[0].askers > rows[-1].askers


def test_one_enterprise_repeating_itself_ranks_below_common_questions(month: Any) -> None:
    svc, _ = month
    with svc.Session() as s:
        day = ensure_day(s, svc.settings, "2026-12", "市本级", ADMIN)
        pairs = ag.rank(s, day, NOW)
        solo = next(p for p in pairs if "岙山码头" in p[0].title)
        f = solo[1]
        assert f.questions == 6 and f.askers == 1 and f.typicality == pytest.approx(1 / 6)
        assert any("偏个案" in t for t in f.explain())
        # items with as few as three distinct askers outrank it, despite its six questions
        three = [p for p in pairs if p[1].askers == 3 and p[1].questions == 3]
        assert three and all(pairs.index(p) < pairs.index(solo) for p in three)


def test_rebuild_keeps_staff_decisions_and_frozen_agenda_never_changes(month: Any) -> None:
    svc, _ = month
    with svc.Session() as s:
        day = ensure_day(s, svc.settings, "2026-12", "定海区", ADMIN)
        first = ag.build(s, day, svc.indexes, size=5, now=NOW, actor=ADMIN)
        assert first.items and all(
            s.get(QueueItem, a.queue_item_id).district == "定海区" for a in first.items)  # type: ignore[union-attr]
        # a rebuild with nothing new changes nothing
        assert not ag.build(s, day, svc.indexes, size=5, now=NOW, actor=ADMIN).changed
        top, second = first.items[0], first.items[1]
        ag.adjust(s, ADMIN, day, second.id, "up")
        ag.adjust(s, ADMIN, day, top.id, "exclude")
        extra = next(it for it, _ in ag.rank(s, day, NOW) if it.id not in {a.queue_item_id for a in day.items})
        added = ag.add_item(s, ADMIN, day, extra.id, svc.indexes, now=NOW)
        s.commit()
        again = ag.build(s, day, svc.indexes, size=5, now=NOW + timedelta(hours=1), actor=ADMIN)
        ids = [a.queue_item_id for a in again.items]
        assert ids[0] == second.queue_item_id  # moved up by staff, kept first
        assert top.queue_item_id not in ids  # excluded by staff, not re-proposed
        assert added.queue_item_id in ids
        assert len(ids) == 5
        assert ag.freeze(s, ADMIN, day) is True
        s.commit()
        frozen = [(a.queue_item_id, a.position, a.score, a.state) for a in ag.visible(day)]
        snapshot = json.dumps(ag.as_json(day), sort_keys=True)
    # new questions arrive after the freeze: rebuilding the frozen agenda changes nothing
    with svc.Session() as s:
        q = Question(token=secrets.token_urlsafe(24), text="定海区工业园区企业雨污分流怎么验收？", channel="chat",
                     normalized="定海区工业园区企业雨污分流怎么验收？", district="定海区", enterprise="甲", decision="abstain")
        s.add(q)
        s.flush()
        enqueue(s, q, "abstain", svc.clusterer)
        s.commit()
    with svc.Session() as s:
        day2 = s.scalar(select(ConsultationDay).where(ConsultationDay.organiser == "定海区"))
        assert day2 is not None
        res = ag.build(s, day2, svc.indexes, size=10, now=NOW + timedelta(days=3), actor=ADMIN)
        assert res.changed is False
        assert ag.freeze(s, ADMIN, day2) is False
        s.commit()
        assert [(a.queue_item_id, a.position, a.score, a.state) for a in ag.visible(day2)] == frozen
        assert json.dumps(ag.as_json(day2), sort_keys=True) == snapshot
        with pytest.raises(WorkflowError) as e:
            ag.adjust(s, ADMIN, day2, ag.visible(day2)[0].id, "exclude")
        assert e.value.code == "agenda_frozen"
        assert s.scalar(select(AgendaItem).where(AgendaItem.day_id == day2.id, AgendaItem.state == "excluded"))


def test_district_staff_cannot_build_another_districts_agenda(month: Any) -> None:
    svc, _ = month
    putuo = Actor("pt", "district", "普陀区")
    with svc.Session() as s:
        day = ensure_day(s, svc.settings, "2026-12", "岱山县", ADMIN)
        with pytest.raises(WorkflowError) as e:
            ag.build(s, day, svc.indexes, actor=putuo)
        assert e.value.code == "forbidden"
        own = ensure_day(s, svc.settings, "2026-12", "普陀区", putuo)
        assert ag.build(s, own, svc, now=NOW, actor=putuo).items


def test_cli_agenda_build_json_lists_items_counts_and_reasons(month: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from assistant.cli import main

    svc, _ = month
    st = svc.settings
    for k, v in {"DATABASE_URL": st.db.url, "ASSISTANT_INDEX_DIR": str(st.search.index_dir),
                 "ASSISTANT_SHARED_DATA": str(st.corpus.shared_data), "ASSISTANT_CORPUS_DIR": str(st.corpus.corpus_dir),
                 "ASSISTANT_ENCODER": "hash", "ASSISTANT_BACKGROUND_VECTORS": "0",
                 "ASSISTANT_SENTENCE_VECTORS": "0"}.items():
        monkeypatch.setenv(k, v)
    r = CliRunner().invoke(main, ["agenda", "build", "--month", "2027-01", "--district", "普陀区", "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["organiser"] == "普陀区" and data["date"] == "2027-01-11"  # the 10th is a Sunday
    assert "顺延" in data["moved_reason"]
    assert data["items"] and all(i["member_count"] >= 1 and i["reasons"] for i in data["items"])
    assert {i["queue_item_id"] for g in data["groups"] for i in [{"queue_item_id": x} for x in g["items"]]} == \
        {i["queue_item_id"] for i in data["items"]}
    bad = CliRunner().invoke(main, ["agenda", "build", "--month", "2027-13"])
    assert bad.exit_code == 2 and "YYYY-MM" in bad.output
