"""Who comes: registration by web form, invitations to the askers of agenda items, attendance on the day.

One :class:`~assistant.db.models.Participant` per enterprise (or anonymous asker) and day. A registration stores each
question as a :class:`~assistant.db.models.Question` (channel ``consult``, stored exactly once) and puts it in the
queue (source ``registration``), so registered questions cluster with everything else and feed the agenda.

Invitations go by the asker's own channel: WeChat askers get a message (a ``Notification`` row the WeChat sender
delivers), web askers see it on their question's status page (``/api/v1/questions/<token>``); everyone else with a
consented phone number — and web askers who left one — is on the list to phone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db.models import AgendaItem, ConsultationDay, Handoff, Notification, Participant, Question, QueueMember
from ..domain import Actor, audit, cn_date
from ..errors import WorkflowError
from ..queue.curation import consented_contacts
from ..queue.intake import enqueue
from ..text.contact import valid_phone, valid_uscc
from ..text.normalize import normalize
from .agenda import asker_key, visible
from .schedule import CITY, can_manage

if TYPE_CHECKING:
    from ..queue.cluster import QuestionClusterer

MAX_QUESTIONS = 5
MAX_QUESTION_CHARS = 1000
SOURCES = {"registered": "网上报名", "invited": "邀请", "walk_in": "现场登记"}


def invitation_text(day: ConsultationDay, titles: list[str]) -> str:
    topics = "；".join(f"“{t[:40]}”" for t in titles[:3])
    return (f"您好！您咨询的{topics}将在{cn_date(day.day)} {day.time_text} {day.organiser}企业环保咨询日现场解答，"
            f"地点：{day.place}。欢迎届时到场交流（无需预约，如需报名请访问咨询页面）。")


@dataclass
class Registration:
    participant: Participant
    tokens: list[str]  # one per question: the asker checks its status with it


def open_days(session: Session, today: Any) -> list[ConsultationDay]:
    """Days an enterprise can still register for (today or later, not closed)."""
    return list(session.scalars(select(ConsultationDay).where(ConsultationDay.day >= today,
                                                              ConsultationDay.status.in_(("planned", "frozen")))
                                .order_by(ConsultationDay.day, ConsultationDay.organiser)))


def register(sessions: Callable[[], Session], clusterer: QuestionClusterer, day_id: int, company: str, contact: str, phone: str, questions: list[str],
             uscc: str = "", consent: bool = False, today: Any = None) -> Registration:
    """An enterprise registers for a day with its questions. Validates everything before storing anything."""
    import secrets

    from .agenda import today_cst

    company, contact, phone, uscc = company.strip(), contact.strip(), phone.strip(), uscc.strip().upper()
    qs = [q.strip() for q in questions if q and q.strip()]
    if not company or len(company) > 200:
        raise WorkflowError("company_required", "请填写企业名称（200 字以内）")
    if not contact or len(contact) > 100:
        raise WorkflowError("contact_required", "请填写联系人姓名")
    if not valid_phone(phone):
        raise WorkflowError("invalid_phone", "联系电话格式不正确（手机号 11 位，或带区号的固定电话）")
    if uscc and not valid_uscc(uscc):
        raise WorkflowError("invalid_uscc", "统一社会信用代码格式或校验位不正确")
    if not qs:
        raise WorkflowError("question_required", "请至少填写一个要咨询的问题")
    if len(qs) > MAX_QUESTIONS:
        raise WorkflowError("too_many_questions", f"每次报名最多填写 {MAX_QUESTIONS} 个问题")
    if any(len(q) > MAX_QUESTION_CHARS for q in qs):
        raise WorkflowError("question_too_long", f"每个问题请控制在 {MAX_QUESTION_CHARS} 字以内")
    if not consent:
        raise WorkflowError("consent_required", "报名需要您同意我们保存联系方式，仅用于咨询日通知和跟踪回访")
    with sessions() as s:
        day = s.get(ConsultationDay, day_id)
        if day is None or day.status not in ("planned", "frozen") or day.day < (today or today_cst()):
            raise WorkflowError("day_closed", "该场咨询日不存在或已截止报名")
        district = "" if day.organiser == CITY else day.organiser
        key = f"uscc:{uscc}" if uscc else f"company:{normalize(company)}"
        part = s.scalar(select(Participant).where(Participant.day_id == day.id, Participant.key == key))
        if part is None:
            part = Participant(day_id=day.id, key=key, source="registered", question_ids=[], agenda_item_ids=[])
            s.add(part)
        part.company, part.uscc, part.contact, part.phone = company, uscc, contact, phone
        if part.source == "invited":
            part.source = "registered"
        part.channel = part.channel or "phone"
        part.recipient = part.recipient or phone
        tokens: list[str] = []
        qids = list(part.question_ids or [])
        for text in qs:
            q = Question(token=secrets.token_urlsafe(24), text=text, normalized=normalize(text), channel="consult",
                         session_id=key, district=district, enterprise=company, decision="pending")
            s.add(q)
            s.flush()
            # the contact left with the registration, as a consented handoff: staff see it on the queue item
            s.add(Handoff(question_id=q.id, name=contact, company=company, uscc=uscc, phone=phone, consent=True))
            enqueue(s, q, "registration", clusterer)
            qids.append(q.id)
            tokens.append(q.token)
        part.question_ids = qids
        s.commit()
        s.refresh(part)
        s.expunge(part)
        return Registration(part, tokens)


def _participant_for(session: Session, day: ConsultationDay, key: str) -> Participant:
    part = session.scalar(select(Participant).where(Participant.day_id == day.id, Participant.key == key))
    if part is None:
        part = Participant(day_id=day.id, key=key, source="invited", question_ids=[], agenda_item_ids=[])
        session.add(part)
        session.flush()
    return part


@dataclass
class InvitationReport:
    participants: int
    messages: int  # WeChat + web notifications created now
    phone_list: list[dict[str, Any]]
    already: int  # invited before: nothing sent again


def invite(session: Session, actor: Actor, day: ConsultationDay) -> InvitationReport:
    """Invite every asker of the frozen agenda's items (once: inviting again sends nothing new)."""
    if not can_manage(actor, day.organiser):
        raise WorkflowError("forbidden", "您只能邀请本辖区咨询日的企业")
    if day.status not in ("frozen", "held"):
        raise WorkflowError("agenda_not_frozen", "请先冻结议程，再发送邀请")
    rows = visible(day)
    item_ids = [a.queue_item_id for a in rows]
    agenda_by_queue = {a.queue_item_id: a for a in rows}
    members = session.execute(select(QueueMember.item_id, Question)
                              .join(Question, Question.id == QueueMember.question_id)
                              .where(QueueMember.item_id.in_(item_ids))).all() if item_ids else []
    contacts = consented_contacts(session, {q.id for _, q in members})
    touched: dict[int, Participant] = {}
    titles: dict[int, list[str]] = {}
    for item_id, q in sorted(members, key=lambda m: m[1].id):
        h = contacts.get(q.id)
        part = _participant_for(session, day, asker_key(q, h))
        a = agenda_by_queue[item_id]
        if a.id not in (part.agenda_item_ids or []):
            part.agenda_item_ids = [*(part.agenda_item_ids or []), a.id]
        if q.id not in (part.question_ids or []):
            part.question_ids = [*(part.question_ids or []), q.id]
        part.company = part.company or q.enterprise or (h.company if h else "")
        if h is not None:
            part.contact, part.phone = part.contact or h.name, part.phone or h.phone
            part.uscc = part.uscc or h.uscc
        # reachable by message: WeChat first, then the web status page; the phone list covers the rest
        if q.channel == "wechat" and q.session_id:
            part.channel, part.recipient = "wechat", q.session_id
        elif part.channel not in ("wechat",) and q.channel in ("widget", "chat", "api"):
            part.channel, part.recipient = "web", q.token
        elif not part.channel and part.phone:
            part.channel, part.recipient = "phone", part.phone
        touched[part.id] = part
        titles.setdefault(part.id, [])
        if a.title not in titles[part.id]:
            titles[part.id].append(a.title)
    messages = already = 0
    now = datetime.now(UTC)
    for pid, part in touched.items():
        if part.invited_at is not None:
            already += 1
            continue
        body = invitation_text(day, titles[pid])
        if part.channel in ("wechat", "web"):
            qid = next((i for i in reversed(part.question_ids or []) if i), None)
            session.add(Notification(question_id=qid, channel=part.channel, recipient=part.recipient,
                                     kind="consult_invitation", body=body, status="pending"))
            messages += 1
        part.invited_at = now
    audit(session, actor, "consult_invite", f"consult:{day.id}", {},
          {"participants": len(touched), "messages": messages, "already": already})
    session.flush()
    return InvitationReport(len(touched), messages, phone_list(session, day), already)


def phone_list(session: Session, day: ConsultationDay) -> list[dict[str, Any]]:
    """Participants to phone: everyone with a number who is not reached by a WeChat message (a web notice is only
    seen when the asker comes back, so web askers who left a number are phoned too; registrants are phoned to
    confirm)."""
    rows = session.scalars(select(Participant).where(Participant.day_id == day.id).order_by(Participant.id))
    return [{"participant_id": p.id, "company": p.company, "contact": p.contact, "phone": p.phone,
             "source": SOURCES.get(p.source, p.source), "questions": len(p.question_ids or [])}
            for p in rows if p.phone and p.channel != "wechat"]


def participants(session: Session, day: ConsultationDay) -> list[Participant]:
    return list(session.scalars(select(Participant).where(Participant.day_id == day.id)
                                .order_by(Participant.source, Participant.id)))


def set_attendance(session: Session, actor: Actor, day: ConsultationDay, participant_id: int,
                   attended: bool) -> Participant:
    if not can_manage(actor, day.organiser):
        raise WorkflowError("forbidden", "您只能登记本辖区咨询日的到场情况")
    part = session.get(Participant, participant_id)
    if part is None or part.day_id != day.id:
        raise WorkflowError("not_found", "参会企业不存在")
    part.attended = attended
    part.attended_at = datetime.now(UTC) if attended else None
    audit(session, actor, "consult_attendance", f"consult:{day.id}:{part.id}", {}, {"attended": attended})
    session.flush()
    return part


def walk_in(session: Session, actor: Actor, day: ConsultationDay, company: str, contact: str = "",
            phone: str = "", uscc: str = "", agenda_item_ids: list[int] | None = None) -> Participant:
    """An enterprise that came without registering: recorded as attended."""
    if not can_manage(actor, day.organiser):
        raise WorkflowError("forbidden", "您只能登记本辖区咨询日的到场情况")
    company, uscc = company.strip(), uscc.strip().upper()
    if not company:
        raise WorkflowError("company_required", "请填写企业名称")
    if phone and not valid_phone(phone):
        raise WorkflowError("invalid_phone", "联系电话格式不正确")
    if uscc and not valid_uscc(uscc):
        raise WorkflowError("invalid_uscc", "统一社会信用代码格式或校验位不正确")
    valid_ids = {a.id for a in day.items}
    key = f"uscc:{uscc}" if uscc else f"company:{normalize(company)}"
    part = session.scalar(select(Participant).where(Participant.day_id == day.id, Participant.key == key))
    if part is None:
        part = Participant(day_id=day.id, key=key, source="walk_in", question_ids=[], agenda_item_ids=[])
        session.add(part)
    part.company, part.uscc = company[:200], uscc
    part.contact, part.phone = part.contact or contact.strip()[:100], part.phone or phone.strip()
    if part.phone and not part.channel:
        part.channel, part.recipient = "phone", part.phone
    extra = [i for i in (agenda_item_ids or []) if i in valid_ids and i not in (part.agenda_item_ids or [])]
    part.agenda_item_ids = [*(part.agenda_item_ids or []), *extra]
    part.attended, part.attended_at = True, datetime.now(UTC)
    audit(session, actor, "consult_walk_in", f"consult:{day.id}", {}, {"company": company})
    session.flush()
    return part


def registered_items(session: Session, day: ConsultationDay) -> None:
    """Link registrants to the agenda items their questions ended up in (called when the agenda is frozen)."""
    rows = visible(day)
    by_queue: dict[int, AgendaItem] = {a.queue_item_id: a for a in rows}
    for part in participants(session, day):
        qids = part.question_ids or []
        if not qids:
            continue
        for item_id, in session.execute(select(QueueMember.item_id).where(QueueMember.question_id.in_(qids))):
            a = by_queue.get(item_id)
            if a is not None and a.id not in (part.agenda_item_ids or []):
                part.agenda_item_ids = [*(part.agenda_item_ids or []), a.id]
    session.flush()
