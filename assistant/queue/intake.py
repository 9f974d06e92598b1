"""Intake: abstentions, 没帮助 feedback and 转人工 handoffs create or join a queue item.

Joining uses the measured clusterer (:mod:`assistant.queue.cluster`) against the members of the open items; staff
merge and split by hand in the console.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db.models import Question, QueueItem, QueueMember
from ..domain import UNANSWERED
from ..text.normalize import normalize
from .cluster import QuestionClusterer

log = logging.getLogger(__name__)

SOURCES = ("abstain", "letter_review", "followup_review", "not_helpful", "handoff", "registration", "followup")
MEMBER_SAMPLE = 20
_lock = threading.Lock()


def _items_texts(session: Session, items: list[tuple[int, str, str]]) -> tuple[list[list[str]], dict[str, int]]:
    """Each item's title plus its most recent member questions (a bounded sample), in one query; and the item index
    of every normalised title and member text (exact repeats). ``items``: (id, title, normalized) rows."""
    ids = [item_id for item_id, _, _ in items]
    pos = {item_id: i for i, item_id in enumerate(ids)}
    rows = session.execute(select(QueueMember.item_id, Question.text, Question.normalized)
                           .join(Question, QueueMember.question_id == Question.id)
                           .where(QueueMember.item_id.in_(ids))
                           .order_by(QueueMember.item_id, QueueMember.added_at.desc())).all()
    members: dict[int, list[str]] = {}
    exact: dict[str, int] = {}
    for item_id, text, norm in rows:
        exact.setdefault(norm or "", pos[item_id])
        bucket = members.setdefault(item_id, [])
        if len(bucket) < MEMBER_SAMPLE:
            bucket.append(text)
    for i, (_, _, norm) in enumerate(items):
        exact.setdefault(norm or "", i)
    exact.pop("", None)
    return [list(dict.fromkeys([title, *members.get(item_id, [])])) for item_id, title, _ in items], exact


def find_item(session: Session, text: str, clusterer: QuestionClusterer) -> QueueItem | None:
    """The open item this question belongs to (see :mod:`assistant.queue.cluster` for the measured settings).

    A question asked before word for word (after normalisation) joins the open item that holds it without any
    similarity computation; everything else is compared with every open item (plain rows, not ORM objects: the
    queue may hold hundreds of open items)."""
    items = [(int(i), str(t or ""), str(n or "")) for i, t, n in session.execute(
        select(QueueItem.id, QueueItem.title, QueueItem.normalized)
        .where(QueueItem.status.in_(UNANSWERED)).order_by(QueueItem.id)).all()]
    if not items:
        return None
    texts, exact = _items_texts(session, items)
    idx = exact.get(normalize(text))
    if idx is None:
        try:
            with _lock:  # the clusterer's in-memory caches are not thread-safe
                idx = clusterer.assign(text, texts)
        except Exception:  # the question must still reach staff: as a new item, which staff can merge
            log.exception("queue clustering failed; the question becomes a new item")
            idx = None
    return session.get(QueueItem, items[idx][0]) if idx is not None else None


def enqueue(session: Session, question: Question, source: str, clusterer: QuestionClusterer,
            into: QueueItem | None = None) -> QueueItem:
    """Put ``question`` in the queue (joining a similar open item, or ``into``: the item of the conversation it was
    read with — :func:`conversation_item`); idempotent per (item, question, source)."""
    if source not in SOURCES:
        raise ValueError(f"queue source must be one of {SOURCES}, got {source!r}")
    existing = session.scalar(select(QueueMember).where(QueueMember.question_id == question.id))
    item = existing.item if existing is not None else into if into is not None else \
        find_item(session, question.text, clusterer)
    now = datetime.now(UTC)
    if item is None:
        item = QueueItem(title=question.text, normalized=normalize(question.text), status="new", count=0,
                         first_asked=question.asked_at or now, last_asked=question.asked_at or now,
                         district=question.district or "")
        session.add(item)
        session.flush()
    # a question that is in no item yet (most abstentions) cannot be a duplicate member: no second lookup
    dup = None if existing is None else session.scalar(select(QueueMember).where(
        QueueMember.item_id == item.id, QueueMember.question_id == question.id, QueueMember.source == source))
    if dup is None:
        already_member = existing is not None and existing.item_id == item.id
        session.add(QueueMember(item_id=item.id, question_id=question.id, source=source, channel=question.channel))
        if not already_member:
            item.count = (item.count or 0) + 1
        item.last_asked = now
    session.flush()
    return item


def conversation_item(session: Session, earlier: list[Question]) -> QueueItem | None:
    """The open item, still waiting (new), that holds the latest of ``earlier`` — the messages a question was read
    with: a case told and asked in several messages ("这些算危废吧" / "厂里已经隔了一间小屋…" / "门口和桶上要贴啥吗")
    is one item for staff, with every message of it, not one item per message. (A message that only told the case
    is not given: it leaves the queue — :func:`withdraw_told` — and must not title the item.)"""
    if not earlier:
        return None
    m = session.scalar(select(QueueMember).join(QueueItem)
                       .where(QueueMember.question_id.in_([q.id for q in earlier]), QueueItem.status == "new")
                       .order_by(QueueMember.question_id.desc()).limit(1))
    return m.item if m is not None else None


def withdraw_told(session: Session, questions: list[Question]) -> int:
    """Messages that only told the situation ("我是沈家门的渔船老大") were passed to staff on their own when nothing
    fitted; once the question that follows them has been answered or queued with the conversation (its queue item
    shows the messages before it), they leave the queue: their "abstain" membership of an item still waiting (new)
    is removed, and an item left without members is closed. Returns how many memberships were removed."""
    removed = 0
    for q in questions:
        for m in list(session.scalars(select(QueueMember).where(QueueMember.question_id == q.id,
                                                                QueueMember.source == "abstain"))):
            item = m.item
            if item.status != "new":
                continue  # staff have it in hand: it stays
            session.delete(m)
            removed += 1
            item.count = max(0, (item.count or 0) - 1)
            if item.count == 0:
                item.status, item.close_reason = "closed", "同一对话中的情况说明：已随后续提问一并处理"
    session.flush()
    return removed
