"""The consultation day end to end on SQLite and PostgreSQL: schedule, registration, agenda, invitations by channel,
attendance, outcomes published into the corpus, follow-up links (single use, expiring, unresolved → queue)."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from assistant.consult import agenda as ag
from assistant.consult import outcomes as oc
from assistant.consult import people
from assistant.consult.schedule import default_date, ensure_day, load_calendar, update_day
from assistant.db.models import (
    CuratedAnswer,
    FollowUp,
    Handoff,
    Notification,
    Participant,
    Question,
    QueueItem,
    QueueMember,
)
from assistant.queue.curation import Actor, WorkflowError
from assistant.queue.intake import enqueue
from assistant.service import AssistantService
from assistant.text.normalize import normalize
from tests.conftest import PWXK

ADMIN = Actor("chief", "admin")
PUTUO = Actor("pt", "district", "普陀区")
USCC = "91330900MA2A0B0X0L"  # check character computed below
TODAY = date(2026, 12, 1)


def _uscc() -> str:
    from assistant.text.contact import uscc_check_char

    first = USCC[:17]
    return first + uscc_check_char(first)


def _ask(svc: AssistantService, text: str, channel: str = "chat", session: str = "", enterprise: str = "",
         district: str = "普陀区", phone: str = "") -> Question:
    with svc.Session() as s:
        q = Question(token=secrets.token_urlsafe(24), text=text, normalized=normalize(text), channel=channel,
                     session_id=session, enterprise=enterprise, district=district, decision="abstain")
        s.add(q)
        s.flush()
        if phone:
            s.add(Handoff(question_id=q.id, name="王工", company=enterprise, phone=phone, consent=True))
        enqueue(s, q, "abstain", svc.clusterer)
        s.commit()
        s.refresh(q)
        s.expunge(q)
        return q


def test_schedule_default_day_moves_off_weekends_and_listed_holidays(service: AssistantService) -> None:
    st = service.settings
    assert default_date(st, "2026-12") == (date(2026, 12, 10), "")  # a Thursday
    d, why = default_date(st, "2027-01")  # Sunday → Monday
    assert d == date(2027, 1, 11) and "周末" in why and "顺延至1月11日" in why

    st2 = st.evolve(consult_holidays=("2026-12-10", "2026-12-11"))
    d, why = default_date(st2, "2026-12")
    assert d == date(2026, 12, 14) and "节假日" in why  # 10, 11 holidays; 12, 13 weekend
    with pytest.raises(WorkflowError):
        default_date(st, "2026-1")
    cal = load_calendar(st)
    assert cal.is_working_day(date(2026, 12, 10))
    with service.Session() as s:
        day = ensure_day(s, st, "2026-12", "普陀区", PUTUO)
        assert (day.day, day.organiser, day.status) == (date(2026, 12, 10), "普陀区", "planned")
        assert ensure_day(s, st, "2026-12", "普陀区").id == day.id  # one per organiser and month
        update_day(s, PUTUO, day, new_date=date(2026, 12, 11), place="普陀分局三楼会议室", reason="与培训冲突")
        assert day.day == date(2026, 12, 11) and day.moved_reason == "与培训冲突"
        with pytest.raises(WorkflowError) as e:
            update_day(s, PUTUO, day, new_date=date(2027, 1, 4))
        assert e.value.code == "invalid_date"
        with pytest.raises(WorkflowError) as e:
            ensure_day(s, st, "2026-12", "定海区", PUTUO)
        assert e.value.code == "forbidden"
        s.commit()


def test_registration_validates_then_stores_each_question_once_in_the_queue(service: AssistantService) -> None:
    with service.Session() as s:
        day = ensure_day(s, service.settings, "2026-12", "普陀区")
        s.commit()
        day_id = day.id
    bad = [dict(company=""), dict(phone="123"), dict(uscc="91330900MA2A0B0X00"), dict(questions=[]),
           dict(consent=False), dict(questions=["问"] * 6)]
    base: dict[str, Any] = dict(company="舟山普陀水产有限公司", contact="李经理", phone="13800001234",
                                questions=["水产加工废水排放执行什么标准？"], uscc=_uscc(), consent=True)
    for b in bad:
        with pytest.raises(WorkflowError):
            people.register(service.session, service.clusterer, day_id, **{**base, **b}, today=TODAY)
    with service.Session() as s:
        assert s.scalar(select(func.count()).select_from(Question)) == 0  # nothing half-stored
    reg = people.register(service.session, service.clusterer, day_id, **{**base, "questions": ["水产加工废水排放执行什么标准？", "污泥算危废吗？"]},
                          today=TODAY)
    assert len(reg.tokens) == 2 and reg.participant.key == f"uscc:{_uscc()}"
    # registering again adds the new question to the same participant
    people.register(service.session, service.clusterer, day_id, **{**base, "questions": ["排污许可证到期怎么延续？"]}, today=TODAY)
    with service.Session() as s:
        qs = list(s.scalars(select(Question).where(Question.channel == "consult")))
        assert len(qs) == 3 and {q.district for q in qs} == {"普陀区"}
        assert s.scalar(select(func.count()).select_from(QueueMember).where(QueueMember.source == "registration")) == 3
        parts = list(s.scalars(select(Participant)))
        assert len(parts) == 1 and len(parts[0].question_ids) == 3 and parts[0].phone == "13800001234"
        assert s.scalar(select(func.count()).select_from(Handoff).where(Handoff.consent.is_(True))) == 3
    status = service.questions.status(reg.tokens[0])
    assert status["queued"] and status["status"] == "pending"
    with pytest.raises(WorkflowError) as e:
        people.register(service.session, service.clusterer, day_id, **base, today=date(2026, 12, 11))  # after the day
    assert e.value.code == "day_closed"


def _day_with_agenda(svc: AssistantService) -> tuple[int, list[Question]]:
    asks = [
        _ask(svc, "码头油污水怎么处理才合规？", "wechat", "openid-A", "甲船务公司"),
        _ask(svc, "码头油污水怎么处理才合规", "chat", "web-b", "乙港务公司"),
        _ask(svc, "码头油污水怎么处理才合规呢？", "widget", "", "丙物流公司", phone="13912345678"),
        _ask(svc, "食堂油烟净化器多久清洗一次？", "chat", "web-d", "丁食品公司"),
    ]
    with svc.Session() as s:
        day = ensure_day(s, svc.settings, "2026-12", "普陀区")
        res = ag.build(s, day, svc, now=datetime(2026, 12, 1, tzinfo=UTC), actor=PUTUO)
        assert [a.askers for a in res.items] == [3, 1]
        ag.freeze(s, PUTUO, day)
        s.commit()
        return day.id, asks


def test_invitations_by_channel_once_and_phone_list(service: AssistantService) -> None:
    day_id, asks = _day_with_agenda(service)
    with service.Session() as s:
        day = s.get(ag.ConsultationDay, day_id)
        with pytest.raises(WorkflowError):
            people.invite(s, Actor("dh", "district", "定海区"), day)  # type: ignore[arg-type]
        rep = people.invite(s, PUTUO, day)  # type: ignore[arg-type]
        s.commit()
        assert rep.participants == 4 and rep.messages == 4 and rep.already == 0
        # the widget asker who left a number is phoned as well (a web notice is only seen on coming back)
        assert [p["phone"] for p in rep.phone_list] == ["13912345678"]
        notes = list(s.scalars(select(Notification).where(Notification.kind == "consult_invitation")))
        assert {(n.channel, n.recipient) for n in notes} == {("wechat", "openid-A"), ("web", asks[1].token),
                                                             ("web", asks[2].token), ("web", asks[3].token)}
        assert all("12月10日" in n.body and "咨询日" in n.body for n in notes)
        again = people.invite(s, PUTUO, day)  # type: ignore[arg-type]
        s.commit()
        assert again.messages == 0 and again.already == 4
        assert s.scalar(select(func.count()).select_from(Notification)) == 4
    # the web asker sees the invitation on the status page of the question
    notices = service.questions.status(asks[1].token)["notices"]
    assert len(notices) == 1 and notices[0]["kind"] == "consult_invitation"


def test_outcome_is_published_as_consultation_answer_and_followups_work_once(service: AssistantService) -> None:
    day_id, asks = _day_with_agenda(service)
    with service.Session() as s:
        day = s.get(ag.ConsultationDay, day_id)
        people.invite(s, PUTUO, day)  # type: ignore[arg-type]
        parts = people.participants(s, day)  # type: ignore[arg-type]
        people.set_attendance(s, PUTUO, day, parts[0].id, True)  # type: ignore[arg-type]
        s.commit()
        top = ag.visible(day)[0]  # type: ignore[arg-type]
        top_id, queue_id = top.id, top.queue_item_id
    answer = "船舶和码头含油污水应交港口接收设施或有资质的单位处理，禁止直接排放。"
    with pytest.raises(WorkflowError) as e:
        oc.record_outcome(service.indexes, PUTUO, day_id, top_id, answer, [f"{PWXK}#999"])
    assert e.value.code == "bad_citation"
    a = oc.record_outcome(service.indexes, PUTUO, day_id, top_id, answer, [f"{PWXK}#14"])
    with service.Session() as s:
        e_row = s.get(CuratedAnswer, a.curated_id)
        assert e_row is not None and e_row.kind == "咨询日答复" and e_row.status == "published"
        assert "2026年12月10日普陀区企业环保咨询日现场答复" in e_row.answer and "普陀区" in e_row.origin
        item = s.get(QueueItem, queue_id)
        assert item is not None and item.status == "published" and item.curated_id == a.curated_id
        assert s.get(ag.ConsultationDay, day_id).status == "held"  # type: ignore[union-attr]
        # the WeChat asker is told (same publish path as any staff answer)
        assert s.scalar(select(Notification).where(Notification.kind == "answer_published",
                                                   Notification.recipient == "openid-A")) is not None
    # searchable at once: another enterprise asking the same thing gets the consultation-day answer
    res = service.answer("码头油污水怎么处理才合规？")
    assert res.curated is not None and res.curated["id"] == a.curated_id
    # follow-ups: not before 30 days; then once per (item, enterprise) that took part
    assert oc.issue_followups(service.session, service.settings, today=date(2027, 1, 8)) == []
    issued = oc.issue_followups(service.session, service.settings, today=date(2027, 1, 9), base_url="https://zx.example.cn")
    assert len(issued) == 3  # the three askers of the discussed item (the other item had no outcome)
    assert oc.issue_followups(service.session, service.settings, today=date(2027, 1, 20)) == []
    with service.Session() as s:
        bodies = [n.body for n in s.scalars(select(Notification).where(Notification.kind == "consult_followup"))]
        assert len(bodies) == 3 and all("https://zx.example.cn/followup/" in b for b in bodies)
        stored = {f.token_hash for f in s.scalars(select(FollowUp))}
    assert all(f.token not in stored and oc.token_hash(f.token) in stored for f in issued)  # only hashes stored
    yes, no, late = issued
    page = oc.followup_for(service.session, yes.token)
    assert page["answer"] == answer and page["organiser"] == "普陀区"
    for bad in [("maybe", 3), ("yes", 0), ("yes", 6), ("yes", None)]:
        with pytest.raises(WorkflowError):
            oc.submit_followup(service.session, yes.token, bad[0], bad[1])  # type: ignore[arg-type]
    assert oc.submit_followup(service.session, yes.token, "yes", 5)["requeued_item_id"] is None
    with pytest.raises(WorkflowError) as e:
        oc.submit_followup(service.session, yes.token, "no", 1)
    assert e.value.code == "followup_used"  # single use
    r = oc.submit_followup(service.session, no.token, "no", 2, "还是不清楚接收单位名单")
    with service.Session() as s:
        back = s.get(QueueItem, r["requeued_item_id"])
        assert back is not None and back.status == "new" and back.reopened_from == queue_id
        assert back.title.startswith("【跟踪问效未解决】") and back.district == "普陀区" and back.count == 1
        member_q = s.scalar(select(Question).join(QueueMember, QueueMember.question_id == Question.id)
                            .where(QueueMember.item_id == back.id))
        assert member_q is not None and "接收单位名单" in member_q.text
    # expiry: 30 days after issue by default
    with pytest.raises(WorkflowError) as e:
        oc.followup_for(service.session, late.token, now=datetime.now(UTC) + timedelta(days=31))
    assert e.value.code == "followup_expired"
    with pytest.raises(WorkflowError) as e:
        oc.submit_followup(service.session, late.token, "yes", 4, now=datetime.now(UTC) + timedelta(days=31))
    assert e.value.code == "followup_expired"
    with pytest.raises(WorkflowError) as e:
        oc.followup_for(service.session, "not-a-token")
    assert e.value.code == "followup_not_found"
    with service.Session() as s:
        rows = oc.results(s, s.get(ag.ConsultationDay, day_id))  # type: ignore[arg-type]
        assert sorted(r["solved"] for r in rows) == ["已解决", "未反馈", "未解决"]
        assert sorted(r["score"] or 0 for r in rows) == [0, 2, 5]


def test_outcome_needs_a_frozen_agenda_and_the_organisers_staff(service: AssistantService) -> None:
    _ask(service, "码头油污水怎么处理才合规？", "chat", "x", "甲")
    with service.Session() as s:
        day = ensure_day(s, service.settings, "2026-12", "普陀区")
        ag.build(s, day, service, actor=PUTUO)
        s.commit()
        day_id, aid = day.id, ag.visible(day)[0].id
    with pytest.raises(WorkflowError) as e:
        oc.record_outcome(service.indexes, PUTUO, day_id, aid, "答复", [])
    assert e.value.code == "agenda_not_frozen"
    with service.Session() as s:
        day = s.get(ag.ConsultationDay, day_id)
        ag.freeze(s, PUTUO, day)  # type: ignore[arg-type]
        s.commit()
    with pytest.raises(WorkflowError) as e:
        oc.record_outcome(service.indexes, Actor("dh", "district", "定海区"), day_id, aid, "答复", [])
    assert e.value.code == "forbidden"
