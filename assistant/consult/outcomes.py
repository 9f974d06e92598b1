"""What was answered on the day, and whether it helped.

**Outcomes**: the answer given on the day for an agenda item is published as a ``咨询日答复`` curated entry through
the same path as any staff answer (:func:`assistant.queue.curation.publish`: sanitised, citations checked, searchable
at once in every worker, askers notified), with the day's date and organiser in the entry.

**跟踪问效**: ``followup_days`` (30) after the day, every participant linked to a discussed item gets a link with a
random token (only its SHA-256 is stored) that works once and expires after ``followup_valid_days`` (30). The answer
(solved yes / partly / no, satisfaction 1–5, a comment) is stored per item and enterprise; "no" and "partly" put the
problem back in the queue as a new item that points to the original one (``reopened_from``), so staff see it again.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..db.models import (
    AgendaItem,
    ConsultationDay,
    FollowUp,
    Notification,
    Participant,
    Question,
    QueueItem,
    QueueMember,
)
from ..domain import OPEN, Actor, audit, cn_date
from ..errors import WorkflowError
from ..queue.curation import publish
from ..text.normalize import normalize
from .agenda import visible
from .schedule import can_manage

if TYPE_CHECKING:
    from ..config import Settings
    from ..queue.curation import Library

#: opens a database session (``AssistantService.session``)
Sessions = Callable[[], Session]
KIND = "咨询日答复"
SOLVED = {"yes": "已解决", "partly": "部分解决", "no": "未解决"}


def entry_id(day: ConsultationDay, a: AgendaItem) -> str:
    return f"zxr-{day.month}-{day.id}-{a.queue_item_id}"


def record_outcome(lib: Library, actor: Actor, day_id: int, agenda_item_id: int, answer: str,
                   citations: list[str], question: str = "") -> AgendaItem:
    """Record the answer given on the day and publish it as a 咨询日答复 entry (searchable at once)."""
    with lib.Session() as s:
        day = s.get(ConsultationDay, day_id)
        if day is None:
            raise WorkflowError("not_found", "咨询日不存在")
        if not can_manage(actor, day.organiser):
            raise WorkflowError("forbidden", "您只能记录本辖区咨询日的答复")
        if day.status not in ("frozen", "held"):
            raise WorkflowError("agenda_not_frozen", "议程冻结后才能记录现场答复")
        a = next((r for r in visible(day) if r.id == agenda_item_id), None)
        if a is None:
            raise WorkflowError("not_found", "议程条目不存在")
        if not answer.strip():
            raise WorkflowError("empty_answer", "请填写现场答复内容")
        footer = f"（{cn_date(day.day)}{day.organiser}企业环保咨询日现场答复）"
        text = answer.strip()
        if footer not in text:
            text = f"{text}\n\n{footer}"
        q = (question or a.title).strip()
        cid = entry_id(day, a)
        queue_item_id, topic, unit = a.queue_item_id, a.topic, a.lead_unit
        origin = f"consult:{day.id}:{day.organiser}:{day.day.isoformat()}"
    publish(lib, actor, queue_item_id, q, text, citations, "" if topic == "未分类" else topic, unit,
            kind=KIND, origin=origin, entry_id=cid)
    with lib.Session() as s:
        day = s.get(ConsultationDay, day_id)
        assert day is not None
        a = next(r for r in day.items if r.id == agenda_item_id)
        before = {"outcome": a.outcome}
        a.outcome, a.outcome_citations, a.curated_id = answer.strip(), list(citations), cid
        a.outcome_at, a.outcome_by = datetime.now(UTC), actor.username
        if day.status == "frozen":
            day.status = "held"
        audit(s, actor, "consult_outcome", f"consult:{day.id}:{a.queue_item_id}", before,
              {"outcome": a.outcome, "curated_id": cid})
        s.commit()
        s.refresh(a)
        s.expunge(a)
        return a


def mark_held(session: Session, actor: Actor, day: ConsultationDay) -> None:
    if not can_manage(actor, day.organiser):
        raise WorkflowError("forbidden", "您只能操作本辖区的咨询日")
    if day.status != "frozen":
        raise WorkflowError("agenda_not_frozen", "只有已冻结议程的咨询日可以标记为已举办")
    day.status = "held"
    audit(session, actor, "consult_held", f"consult:{day.id}", {"status": "frozen"}, {"status": "held"})
    session.flush()


# -- 跟踪问效 ----------------------------------------------------------------------------------------------------
def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def followup_text(day: ConsultationDay, title: str, link: str) -> str:
    return (f"您好！{cn_date(day.day)}{day.organiser}企业环保咨询日上讨论了您咨询的“{title[:40]}”。"
            f"请问问题是否已解决？请花一分钟告诉我们并为服务打分（1—5 分）：{link}")


@dataclass
class IssuedFollowUp:
    followup_id: int
    token: str  # the raw token: only here, at issue time (and in the delivery message)
    participant_id: int
    agenda_item_id: int
    channel: str


def issue_followups(sessions: Sessions, settings: Settings, today: date | None = None, day_id: int | None = None,
                    base_url: str = "") -> list[IssuedFollowUp]:
    """Create (once) the follow-ups that are due: days held at least ``followup_days`` ago, every participant of
    every discussed item. Each gets a delivery by its channel: WeChat message, web status notice, or the phone
    (SMS) list. Running it again issues nothing twice."""
    from .agenda import today_cst

    today = today or today_cst()
    st = settings
    due_before = today - timedelta(days=st.consult.followup_days)
    base = (base_url or st.web.public_base_url or "").rstrip("/")
    issued: list[IssuedFollowUp] = []
    with sessions() as s:
        q = select(ConsultationDay).where(ConsultationDay.status.in_(("held", "closed")),
                                          ConsultationDay.day <= due_before)
        if day_id is not None:
            q = q.where(ConsultationDay.id == day_id)
        for day in s.scalars(q.order_by(ConsultationDay.day)):
            discussed = {a.id: a for a in visible(day) if a.outcome}
            if not discussed:
                continue
            have = {(f.agenda_item_id, f.participant_id) for f in s.scalars(
                select(FollowUp).where(FollowUp.day_id == day.id))}
            for part in s.scalars(select(Participant).where(Participant.day_id == day.id).order_by(Participant.id)):
                for aid in part.agenda_item_ids or []:
                    a = discussed.get(aid)
                    if a is None or (aid, part.id) in have:
                        continue
                    token = secrets.token_urlsafe(32)
                    now = datetime.now(UTC)
                    f = FollowUp(day_id=day.id, agenda_item_id=aid, participant_id=part.id,
                                 token_hash=token_hash(token), channel=part.channel or "phone", created_at=now,
                                 expires_at=now + timedelta(days=st.consult.followup_valid_days))
                    s.add(f)
                    s.flush()
                    link = f"{base}/followup/{token}"
                    qid = next((i for i in reversed(part.question_ids or []) if i), None)
                    channel = part.channel if part.channel in ("wechat", "web") else "phone"
                    recipient = part.recipient if channel != "phone" else (part.phone or "")
                    s.add(Notification(question_id=qid, channel=channel, recipient=recipient, kind="consult_followup",
                                       body=followup_text(day, a.title, link),
                                       status="pending" if recipient else "failed"))
                    issued.append(IssuedFollowUp(f.id, token, part.id, aid, channel))
        s.commit()
    return issued


def followup_for(sessions: Sessions, token: str, now: datetime | None = None) -> dict[str, Any]:
    """What the follow-up page shows for a token (raises ``followup_*`` errors for unknown / used / expired)."""
    now = now or datetime.now(UTC)
    if not token or len(token) > 100:
        raise WorkflowError("followup_not_found", "链接无效，请检查短信或消息中的完整链接")
    with sessions() as s:
        f = s.scalar(select(FollowUp).where(FollowUp.token_hash == token_hash(token)))
        if f is None:
            raise WorkflowError("followup_not_found", "链接无效，请检查短信或消息中的完整链接")
        if f.used_at is not None:
            raise WorkflowError("followup_used", "您已经提交过反馈，感谢您的配合")
        exp = f.expires_at if f.expires_at.tzinfo else f.expires_at.replace(tzinfo=UTC)
        if exp < now:
            raise WorkflowError("followup_expired", "该回访链接已过期，如问题仍未解决，请直接咨询或拨打电话联系我们")
        a = s.get(AgendaItem, f.agenda_item_id)
        day = s.get(ConsultationDay, f.day_id)
        part = s.get(Participant, f.participant_id)
        assert a is not None and day is not None and part is not None
        return {"question": a.title, "answer": a.outcome, "date": cn_date(day.day), "organiser": day.organiser,
                "company": part.company, "expires_at": exp.isoformat()}


def submit_followup(sessions: Sessions, token: str, solved: str, score: int | None, comment: str = "",
                    now: datetime | None = None) -> dict[str, Any]:
    """Store the answer once (the token is consumed atomically); unresolved → back in the queue."""
    now = now or datetime.now(UTC)
    if solved not in SOLVED:
        raise WorkflowError("invalid_solved", "请选择问题是否已解决")
    if score is None or not 1 <= score <= 5:
        raise WorkflowError("invalid_score", "请为本次服务打分（1—5 分）")
    comment = (comment or "").strip()
    if len(comment) > 1000:
        raise WorkflowError("comment_too_long", "补充说明请控制在 1000 字以内")
    followup_for(sessions, token, now)  # unknown / used / expired → error
    with sessions() as s:
        h = token_hash(token)
        # single use even under concurrent submissions: only one UPDATE finds used_at still empty
        res = s.execute(update(FollowUp).where(FollowUp.token_hash == h, FollowUp.used_at.is_(None))
                        .values(used_at=now, solved=solved, score=score, comment=comment))
        if res.rowcount != 1:  # type: ignore[attr-defined]
            s.rollback()
            raise WorkflowError("followup_used", "您已经提交过反馈，感谢您的配合")
        f = s.scalar(select(FollowUp).where(FollowUp.token_hash == h))
        assert f is not None
        requeued = None
        if solved in ("no", "partly"):
            requeued = _requeue(s, f, comment)
            f.requeued_item_id = requeued
        s.commit()
        return {"solved": solved, "score": score, "requeued_item_id": requeued}


def _requeue(s: Session, f: FollowUp, comment: str) -> int:
    """An unresolved problem goes back to the queue: one reopened item per original item, the enterprise's
    report as its member question."""
    a = s.get(AgendaItem, f.agenda_item_id)
    part = s.get(Participant, f.participant_id)
    assert a is not None and part is not None
    orig = s.get(QueueItem, a.queue_item_id)
    title = f"【跟踪问效未解决】{a.title}"
    text = title + (f"（企业反馈：{comment}）" if comment else "")
    q = Question(token=secrets.token_urlsafe(24), text=text[:4000], normalized=normalize(text), channel="followup",
                 session_id=part.key, district=orig.district if orig else "", enterprise=part.company,
                 decision="abstain")
    s.add(q)
    s.flush()
    item = s.scalar(select(QueueItem).where(QueueItem.reopened_from == a.queue_item_id,
                                            QueueItem.status.in_(OPEN)))
    if item is None:
        item = QueueItem(title=title, normalized=normalize(title), status="new", count=0,
                         first_asked=q.asked_at, last_asked=q.asked_at, district=orig.district if orig else "",
                         category=orig.category if orig else "", lead_unit=orig.lead_unit if orig else "",
                         reopened_from=a.queue_item_id)
        s.add(item)
        s.flush()
    s.add(QueueMember(item_id=item.id, question_id=q.id, source="followup", channel="followup"))
    item.count = (item.count or 0) + 1
    item.last_asked = datetime.now(UTC)
    s.flush()
    return item.id


def results(session: Session, day: ConsultationDay) -> list[dict[str, Any]]:
    """Follow-up results of a day, one row per item and enterprise."""
    items = {a.id: a for a in day.items}
    parts = {p.id: p for p in session.scalars(select(Participant).where(Participant.day_id == day.id))}
    rows = []
    for f in session.scalars(select(FollowUp).where(FollowUp.day_id == day.id).order_by(FollowUp.id)):
        a, p = items.get(f.agenda_item_id), parts.get(f.participant_id)
        rows.append({"agenda_position": a.position if a else None, "question": a.title if a else "",
                     "company": p.company if p else "", "contact": p.contact if p else "",
                     "channel": f.channel, "sent_at": f.created_at, "answered_at": f.used_at,
                     "solved": SOLVED.get(f.solved, "未反馈"), "score": f.score, "comment": f.comment,
                     "requeued_item_id": f.requeued_item_id})
    return rows


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """发出 / 已反馈 / 已解决 (yes) / 已解决率 (of the answered; None when nobody answered) / 平均满意度."""
    answered = [r for r in rows if r.get("answered_at") is not None]
    solved = sum(1 for r in answered if r.get("solved") == SOLVED["yes"])
    partly = sum(1 for r in answered if r.get("solved") == SOLVED["partly"])
    scores = [int(r["score"]) for r in answered if r.get("score") is not None]
    return {"sent": len(rows), "answered": len(answered), "solved": solved, "partly": partly,
            "unsolved": len(answered) - solved - partly,
            "solved_rate": solved / len(answered) if answered else None,
            "avg_score": sum(scores) / len(scores) if scores else None}
