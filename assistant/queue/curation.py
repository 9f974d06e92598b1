"""Staff workflows on the queue: scoping, assignment, answering, publishing into the corpus, merging, closing,
and the audit trail. Used by the console blueprint; no Flask imports here."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..db.models import (
    CuratedAnswer,
    CuratedVersion,
    Handoff,
    Notification,
    Question,
    QueueItem,
    QueueMember,
)
from ..domain import OPEN, QUEUE_STATUS_LABELS, UNANSWERED, Actor, audit
from ..errors import WorkflowError
from ..ingest.curated import CuratedEntry
from ..text.normalize import normalize

if TYPE_CHECKING:
    from ..search.retriever import SearchResult



class Library(Protocol):
    """What curation and the consultation day need of the corpus and its indexes, and nothing more
    (:class:`~assistant.search.lifecycle.IndexLifecycle` is one)."""

    Session: Callable[[], Session]

    def search(self, question: str, k: int = 10) -> SearchResult: ...

    def known_article(self, passage_id: str) -> bool: ...

    def publish_curated(self, entry: CuratedEntry) -> CuratedAnswer: ...


STATUSES = QUEUE_STATUS_LABELS
#: how a question reached us, as staff read it (queue, dashboard, exports)
CHANNELS = {"widget": "网页挂件", "chat": "咨询页面", "api": "接口", "wechat": "微信", "cli": "命令行", "consult": "咨询日报名",
            "followup": "跟踪问效"}
CLOSE_REASONS = {"out_of_scope": "不属于本局职责", "duplicate": "重复问题", "referred": "已转其他部门"}
UNITS = ("综合处", "办公室", "科监处", "环评处", "执法支队", "生态处", "水处", "大气处", "土壤处", "技术中心", "环境学会")


def can_view(actor: Actor, item: QueueItem) -> bool:
    """admin: everything; district staff: their district's items; expert: items assigned to them;
    viewer: their district's items (all items when the viewer has no district). Items without a district belong
    to the city bureau until an admin routes them to a district."""
    if actor.role == "admin":
        return True
    if actor.role == "expert":
        return item.assigned_to == actor.username
    if actor.role == "district":
        return bool(actor.district) and item.district == actor.district
    if actor.role == "viewer":
        return not actor.district or item.district == actor.district
    return False


def can_edit(actor: Actor, item: QueueItem) -> bool:
    return actor.role != "viewer" and can_view(actor, item)


def can_see_contacts(actor: Actor) -> bool:
    return actor.role in ("admin", "district")


def scoped_items(session: Session, actor: Actor) -> Any:
    """A select of the items this actor may see."""
    q = select(QueueItem)
    if actor.role == "expert":
        q = q.where(QueueItem.assigned_to == actor.username)
    elif actor.role == "district" or (actor.role == "viewer" and actor.district):
        q = q.where(QueueItem.district == (actor.district or "\x00none"))
    elif actor.role != "admin" and actor.role != "viewer":
        q = q.where(QueueItem.id < 0)
    return q


def snapshot(item: QueueItem) -> dict[str, Any]:
    return {"status": item.status, "title": item.title, "count": item.count, "district": item.district,
            "category": item.category, "lead_unit": item.lead_unit, "assigned_unit": item.assigned_unit,
            "assigned_to": item.assigned_to, "answer": item.answer, "close_reason": item.close_reason,
            "curated_id": item.curated_id}


def get_item(session: Session, actor: Actor, item_id: int, edit: bool = False) -> QueueItem:
    item = session.get(QueueItem, item_id)
    if item is None or not can_view(actor, item):
        raise WorkflowError("not_found", "问题不存在或不在您的权限范围内")
    if edit and not can_edit(actor, item):
        raise WorkflowError("forbidden", "您没有处理该问题的权限")
    return item


def list_items(session: Session, actor: Actor, status: str = "", district: str = "", category: str = "",
               search: str = "", sort: str = "count", limit: int = 200) -> list[QueueItem]:
    q = scoped_items(session, actor)
    if status == "open":
        q = q.where(QueueItem.status.in_(OPEN))
    elif status:
        q = q.where(QueueItem.status == status)
    if district:
        q = q.where(QueueItem.district == district)
    if category:
        q = q.where(QueueItem.category == category)
    if search:
        q = q.where(QueueItem.normalized.contains(normalize(search)))
    order = {"count": (QueueItem.count.desc(), QueueItem.last_asked.desc()),
             "age": (QueueItem.first_asked.asc(),), "recent": (QueueItem.last_asked.desc(),)}.get(sort)
    q = q.order_by(*(order or (QueueItem.count.desc(),))).limit(limit)
    return list(session.scalars(q))


def consented_contacts(session: Session, question_ids: Any) -> dict[int, Handoff]:
    """The first contact left with consent for each of these questions (a 转人工 handoff or a registration)."""
    ids = list(question_ids)
    contacts: dict[int, Handoff] = {}
    if ids:
        for h in session.scalars(select(Handoff).where(Handoff.question_id.in_(ids), Handoff.consent.is_(True))
                                 .order_by(Handoff.id)):
            contacts.setdefault(h.question_id, h)
    return contacts


def members(session: Session, item: QueueItem, with_contacts: bool) -> list[dict[str, Any]]:
    """Member questions with channel, district, enterprise and (if allowed) the contact left with a handoff."""
    first: dict[int, QueueMember] = {}
    for m in sorted(item.members, key=lambda m: m.added_at):
        first.setdefault(m.question_id, m)
    ids = list(first)
    questions = {q.id: q for q in session.scalars(select(Question).where(Question.id.in_(ids)))} if ids else {}
    contacts = consented_contacts(session, ids) if with_contacts else {}
    rows = []
    for qid, m in first.items():
        q = questions.get(qid)
        if q is None:
            continue
        row: dict[str, Any] = {"question_id": q.id, "text": q.text, "channel": q.channel, "district": q.district,
                               "enterprise": q.enterprise, "asked_at": q.asked_at, "source": m.source,
                               "decision": q.decision, "session_id": q.session_id, "result": q.result}
        if with_contacts:
            contact = contacts.get(qid)
            if contact is not None:
                row["contact"] = {"name": contact.name, "company": contact.company, "uscc": contact.uscc,
                                  "phone": contact.phone, "email": contact.email}
        rows.append(row)
    return rows


def suggest(lib: Library, item: QueueItem) -> dict[str, str]:
    """Suggested category and lead unit from what retrieval finds for the item's question."""
    res = lib.search(item.title, k=5)
    if res.curated is not None and res.curated.hits:
        with lib.Session() as s:
            e = s.get(CuratedAnswer, res.curated.hits[0].item.target)
            if e is not None:
                return {"category": e.category, "lead_unit": e.lead_unit}
    return {"category": "", "lead_unit": ""}


def assign(session: Session, actor: Actor, item_id: int, unit: str = "", expert: str = "",
           district: str | None = None) -> QueueItem:
    """Assign to a unit (处室) and/or an expert; admins may also route the item to a district."""
    from ..auth import DISTRICTS
    from ..db.models import StaffUser

    item = get_item(session, actor, item_id, edit=True)
    if unit and unit not in UNITS:
        raise WorkflowError("invalid_unit", "处室不在列表中")
    if expert:
        u = session.scalar(select(StaffUser).where(StaffUser.username == expert, StaffUser.role == "expert"))
        if u is None:
            raise WorkflowError("invalid_expert", "专家账号不存在")
    if district is not None and district != item.district:
        if actor.role != "admin":
            raise WorkflowError("forbidden", "只有市局管理员可以把问题分派到区县")
        if district and district not in DISTRICTS:
            raise WorkflowError("invalid_district", "辖区不在列表中")
        item.district = district
    before = snapshot(item)
    item.assigned_unit, item.assigned_to = unit, expert
    if item.status == "new":
        item.status = "assigned"
    audit(session, actor, "assign", f"queue:{item.id}", before, snapshot(item))
    session.commit()
    return item


def save_answer(session: Session, actor: Actor, item_id: int, answer: str, category: str = "",
                lead_unit: str = "") -> QueueItem:
    item = get_item(session, actor, item_id, edit=True)
    if not answer.strip():
        raise WorkflowError("empty_answer", "答复内容不能为空")
    before = snapshot(item)
    item.answer = answer.strip()
    item.category = category or item.category
    item.lead_unit = lead_unit or item.lead_unit
    item.answered_by = actor.username
    if item.status in UNANSWERED:
        item.status = "answered"
    audit(session, actor, "answer", f"queue:{item.id}", before, snapshot(item))
    session.commit()
    return item


def publish(lib: Library, actor: Actor, item_id: int, question: str, answer: str, citations: list[str],
            category: str, lead_unit: str, kind: str = "curated", origin: str = "console",
            entry_id: str = "") -> tuple[QueueItem, float]:
    """Turn the item's answer into a curated entry, searchable at once; notify every asker. Returns
    (item, seconds from publish to searchable). ``kind``/``origin``: ``咨询日答复`` entries published from a
    consultation day's record (:mod:`assistant.consult.outcomes`) go through here too."""
    import time

    from ..text.markup import sanitize

    with lib.Session() as s:
        item = get_item(s, actor, item_id, edit=True)
        if actor.role == "expert" and item.assigned_to != actor.username:
            raise WorkflowError("forbidden", "只能发布分派给您的问题")
        if not answer.strip() or not question.strip():
            raise WorkflowError("empty_answer", "问题和答复都不能为空")
        missing = [c for c in citations if not lib.known_article(c)]
        if missing:
            raise WorkflowError("bad_citation", f"引用的条文不存在：{'、'.join(missing)}")
        rows = members(s, item, False)
        texts = [m["text"] for m in rows]
        paraphrases = [t for t in dict.fromkeys(texts) if normalize(t) != normalize(question)][:20]
        before = snapshot(item)
        cid = entry_id or item.curated_id or f"q-{item.id}"
        entry = CuratedEntry(id=cid, question=question.strip(), answer=answer.strip(), paraphrases=paraphrases,
                             citations=citations, category=category, lead_unit=lead_unit, audience="企业",
                             reviewed=datetime.now(UTC).date(), status="published", origin=origin, kind=kind)
        item.answer = to_plain(sanitize(answer.strip()))
        item.category, item.lead_unit, item.curated_id = category, lead_unit, cid
        item.status = "published"
        item.answered_at = datetime.now(UTC)
        item.answered_by = item.answered_by or actor.username
        for m in rows:
            if m["channel"] == "wechat":
                s.add(Notification(question_id=m["question_id"], channel="wechat", recipient=m["session_id"],
                                   kind="answer_published", body=item.answer, status="pending"))
        audit(s, actor, "publish", f"queue:{item.id}", before, snapshot(item))
        s.commit()
    t0 = time.perf_counter()
    row = lib.publish_curated(entry)
    elapsed = time.perf_counter() - t0
    with lib.Session() as s:
        save_version(s, row.id, actor.username)
        s.commit()
        done = s.get(QueueItem, item_id)
        assert done is not None
        return done, elapsed


def to_plain(markup: str) -> str:
    from ..text.markup import to_text

    return to_text(markup)


def close(session: Session, actor: Actor, item_id: int, reason: str, department: str = "") -> QueueItem:
    item = get_item(session, actor, item_id, edit=True)
    if reason not in CLOSE_REASONS:
        raise WorkflowError("invalid_reason", f"关闭原因应为：{'、'.join(CLOSE_REASONS.values())}")
    if reason == "referred" and not department.strip():
        raise WorkflowError("department_required", "转其他部门时须写明部门名称")
    before = snapshot(item)
    item.status = "closed"
    item.close_reason = CLOSE_REASONS[reason] + (f"：{department.strip()}" if department.strip() else "")
    audit(session, actor, "close", f"queue:{item.id}", before, snapshot(item))
    session.commit()
    return item


def merge(session: Session, actor: Actor, target_id: int, other_ids: list[int]) -> QueueItem:
    """Move the members of ``other_ids`` into ``target_id`` (by hand: staff see the same question twice)."""
    target = get_item(session, actor, target_id, edit=True)
    before = snapshot(target)
    for oid in other_ids:
        if oid == target_id:
            continue
        other = get_item(session, actor, oid, edit=True)
        for m in list(other.members):
            exists = session.scalar(select(QueueMember).where(QueueMember.item_id == target.id,
                                                              QueueMember.question_id == m.question_id,
                                                              QueueMember.source == m.source))
            if exists is None:
                m.item_id = target.id
            else:
                session.delete(m)
        other.status, other.close_reason = "closed", f"重复问题：已合并到 #{target.id}"
        other.count = 0
        if other.first_asked and (target.first_asked is None or other.first_asked < target.first_asked):
            target.first_asked = other.first_asked
    session.flush()
    session.expire(target)
    target.count = len({m.question_id for m in target.members})
    audit(session, actor, "merge", f"queue:{target.id}", before, {**snapshot(target), "merged": other_ids})
    session.commit()
    return target


def split(session: Session, actor: Actor, item_id: int, question_ids: list[int]) -> QueueItem:
    """Move some member questions of an item into a new item."""
    item = get_item(session, actor, item_id, edit=True)
    moving = [m for m in item.members if m.question_id in set(question_ids)]
    if not moving or len({m.question_id for m in moving}) >= len({m.question_id for m in item.members}):
        raise WorkflowError("invalid_split", "请选择部分（不是全部）成员问题拆分")
    first_q = session.get(Question, moving[0].question_id)
    assert first_q is not None
    new = QueueItem(title=first_q.text, normalized=normalize(first_q.text), status="new", count=0,
                    district=item.district, first_asked=first_q.asked_at, last_asked=first_q.asked_at)
    session.add(new)
    session.flush()
    for m in moving:
        m.item_id = new.id
    session.flush()
    session.expire(item)
    session.expire(new)
    item.count = len({m.question_id for m in item.members})
    new.count = len({m.question_id for m in new.members})
    audit(session, actor, "split", f"queue:{item.id}", {"count": item.count + new.count},
          {"new_item": new.id, "moved": question_ids})
    session.commit()
    return new


def age_days(item: QueueItem) -> float:
    first = item.first_asked
    if first is None:
        return 0.0
    if first.tzinfo is None:
        first = first.replace(tzinfo=UTC)
    return (datetime.now(UTC) - first).total_seconds() / 86400


# -- curated corpus management ----------------------------------------------------------------------------------
def save_version(session: Session, curated_id: str, editor: str) -> None:
    e = session.get(CuratedAnswer, curated_id)
    if e is None:
        return
    session.add(CuratedVersion(curated_id=e.id, version=e.version, editor=editor, data={
        "question": e.question, "paraphrases": e.paraphrases, "answer": e.answer, "citations": e.citations,
        "category": e.category, "lead_unit": e.lead_unit, "status": e.status}))


def edit_curated(lib: Library, actor: Actor, curated_id: str, **changes: Any) -> CuratedAnswer:
    if actor.role not in ("admin", "district", "expert"):
        raise WorkflowError("forbidden", "您没有编辑精选问答的权限")
    with lib.Session() as s:
        e = s.get(CuratedAnswer, curated_id)
        if e is None:
            raise WorkflowError("not_found", "条目不存在")
        before = {"question": e.question, "answer": e.answer, "citations": e.citations, "status": e.status,
                  "paraphrases": e.paraphrases, "category": e.category, "lead_unit": e.lead_unit}
        entry = CuratedEntry(id=e.id, question=changes.get("question", e.question),
                             answer=changes.get("answer", e.answer),
                             paraphrases=changes.get("paraphrases", e.paraphrases),
                             citations=changes.get("citations", e.citations),
                             category=changes.get("category", e.category),
                             lead_unit=changes.get("lead_unit", e.lead_unit), audience=e.audience,
                             reviewed=datetime.now(UTC).date(), status=changes.get("status", e.status),
                             kind=e.kind, origin=e.origin)
        missing = [c for c in entry.citations if not lib.known_article(c)]
        if missing:
            raise WorkflowError("bad_citation", f"引用的条文不存在：{'、'.join(missing)}")
        audit(s, actor, "retire_curated" if entry.status == "retired" else "edit_curated", f"curated:{e.id}",
              before, {k: getattr(entry, k) for k in before})
        s.commit()
    row = lib.publish_curated(entry)
    with lib.Session() as s:
        save_version(s, row.id, actor.username)
        s.commit()
    return row


def queue_stats(session: Session, actor: Actor) -> dict[str, int]:
    q = scoped_items(session, actor).subquery()
    rows = session.execute(select(q.c.status, func.count()).group_by(q.c.status)).all()
    return {str(k): int(v) for k, v in rows}
