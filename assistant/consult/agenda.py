"""The agenda builder: which queue items a consultation day should discuss, ranked and explained.

Candidates are the organiser's unsettled queue items (new / assigned / answered; the city bureau's day sees every
district, a district's day its own items), minus items already discussed on an earlier day and items staff excluded.
Each candidate is scored from what its member questions say (``features``):

* **how common** — distinct askers (an asker is the enterprise's 信用代码, else its name, else the chat session) and
  distinct enterprises: ``1.0·ln(1+askers) + 0.5·ln(1+enterprises)``;
* **how recent** — ``0.6·exp(−days since the last question / 30)``;
* **how typical** — askers ÷ questions (1 when every question comes from a different asker, small when one
  enterprise asked many times: one enterprise's own case is better handled one to one): ``0.8·typicality``;
* **how long unresolved** — ``0.4·min(age, 90)/90`` for the days since the first question.

The weights are a product decision (stated in the README), not fitted: commonness dominates, the rest order items of
similar size. Every stored agenda item keeps its features and a Chinese explanation (``reasons``).

Staff adjust a planned agenda (pin, exclude, add an item by number, move, set topic / lead unit) and freeze it.
Rebuilding a planned agenda re-ranks the builder's proposals and keeps staff decisions; rebuilding a frozen (or
held) agenda changes nothing.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..answer.context import IDLE
from ..db.models import AgendaItem, ConsultationDay, Handoff, Question, QueueItem, QueueMember
from ..domain import OPEN, Actor, audit, today_cn
from ..errors import WorkflowError
from ..queue.curation import consented_contacts
from ..text.normalize import normalize
from .reasons import reason_lines, stored_reasons
from .schedule import CITY, can_manage

if TYPE_CHECKING:
    from ..queue.curation import Library

#: queue items that can go on an agenda: the open ones
CANDIDATE_STATUSES = OPEN
DEFAULT_SIZE = 10
W_ASKERS, W_ENTERPRISES, W_RECENT, W_TYPICAL, W_AGE = 1.0, 0.5, 0.6, 0.8, 0.4
RECENT_DAYS, AGE_CAP = 30.0, 90.0
STATES = {"proposed": "系统推荐", "pinned": "已确认", "added": "人工添加", "excluded": "已移出"}
NO_TOPIC = "未分类"


def _aware(dt: datetime | None) -> datetime | None:
    if dt is None:
        return None
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


def asker_key(q: Question, contact: Handoff | None) -> str:
    uscc = (contact.uscc if contact is not None else "").strip().upper()
    if uscc:
        return f"uscc:{uscc}"
    company = normalize(q.enterprise or (contact.company if contact is not None else "")).strip()
    if company:
        return f"company:{company}"
    if q.session_id:
        return f"asker:{q.channel}:{q.session_id}"
    return f"question:{q.id}"


@dataclass
class Features:
    item_id: int
    questions: int = 0
    askers: int = 0
    enterprises: int = 0
    recent: int = 0
    last_days: float = 0.0
    age_days: float = 0.0
    typicality: float = 0.0
    top_asker_share: float = 0.0
    components: dict[str, float] = field(default_factory=dict)
    score: float = 0.0

    def explain(self) -> list[str]:
        """The ranking explained in the bureau's words (:func:`reason_lines`)."""
        return reason_lines(self.questions, self.askers, self.enterprises, self.recent, self.last_days,
                            self.age_days, self.typicality, self.top_asker_share)

    def as_dict(self) -> dict[str, Any]:
        return {"questions": self.questions, "askers": self.askers, "enterprises": self.enterprises,
                "recent_30d": self.recent, "last_asked_days": round(self.last_days, 1),
                "age_days": round(self.age_days, 1), "typicality": round(self.typicality, 3),
                "top_asker_share": round(self.top_asker_share, 3),
                "components": {k: round(v, 4) for k, v in self.components.items()}, "score": round(self.score, 4),
                "text": self.explain()}


def cases(questions: list[Question]) -> list[Question]:
    """The questions of an item, one per case: messages of one conversation (same channel and session, each within
    :data:`~assistant.answer.context.IDLE` of the one before) are one case told and asked in several messages — kept
    as its latest message — not one asker asking again (a case's item holds every message since the queue joins a
    question read with its conversation to the item of that conversation)."""
    out: list[Question] = []
    last: tuple[str, str] | None = None
    def order(q: Question) -> tuple[str, str, datetime, int]:
        return q.channel or "", q.session_id or "", _aware(q.asked_at) or datetime.min.replace(tzinfo=UTC), q.id

    for q in sorted(questions, key=order):
        conv = (q.channel or "", q.session_id or "")
        t, prev = _aware(q.asked_at), _aware(out[-1].asked_at) if out else None
        if out and q.session_id and conv == last and t is not None and prev is not None and t - prev <= IDLE:
            out[-1] = q
        else:
            out.append(q)
        last = conv
    return out


def features(session: Session, items: list[QueueItem], now: datetime) -> dict[int, Features]:
    """Ranking features of ``items`` from their member questions (three queries in all)."""
    ids = [it.id for it in items]
    out = {i: Features(i) for i in ids}
    if not ids:
        return out
    rows = session.execute(select(QueueMember.item_id, Question)
                           .join(Question, Question.id == QueueMember.question_id)
                           .where(QueueMember.item_id.in_(ids))).all()
    contacts = consented_contacts(session, {q.id for _, q in rows})
    per_item: dict[int, dict[int, Question]] = {i: {} for i in ids}
    for item_id, q in rows:
        per_item[item_id][q.id] = q
    for it in items:
        f = out[it.id]
        qs = cases(list(per_item[it.id].values()))  # a case asked in several messages of one conversation: once
        keys = [asker_key(q, contacts.get(q.id)) for q in qs]
        by_asker = Counter(keys)
        f.questions = len(qs)
        f.askers = len(by_asker)
        f.enterprises = len({k for k in by_asker if k.startswith(("uscc:", "company:"))})
        times = [t for t in (_aware(q.asked_at) for q in qs) if t is not None]
        last = max(times) if times else (_aware(it.last_asked) or now)
        first = min(times) if times else (_aware(it.first_asked) or now)
        f.last_days = max(0.0, (now - last).total_seconds() / 86400)
        f.age_days = max(0.0, (now - first).total_seconds() / 86400)
        f.recent = sum(1 for t in times if 0 <= (now - t).total_seconds() / 86400 <= RECENT_DAYS)
        f.typicality = f.askers / f.questions if f.questions else 0.0
        f.top_asker_share = max(by_asker.values()) / f.questions if f.questions else 0.0
        f.components = {
            "common": W_ASKERS * math.log1p(f.askers) + W_ENTERPRISES * math.log1p(f.enterprises),
            "recent": W_RECENT * math.exp(-f.last_days / RECENT_DAYS),
            "typical": W_TYPICAL * f.typicality,
            "age": W_AGE * min(f.age_days, AGE_CAP) / AGE_CAP,
        }
        f.score = sum(f.components.values())
    return out


def reference_time(day: ConsultationDay, now: datetime | None = None) -> datetime:
    """Features are computed as of ``now`` (building before the day) but never after the day itself."""
    now = now or datetime.now(UTC)
    end_of_day = datetime(day.day.year, day.day.month, day.day.day, 23, 59, 59, tzinfo=UTC)
    return min(now, end_of_day)


def candidates(session: Session, day: ConsultationDay) -> list[QueueItem]:
    q = select(QueueItem).where(QueueItem.status.in_(CANDIDATE_STATUSES))
    if day.organiser != CITY:
        q = q.where(QueueItem.district == day.organiser)
    # already discussed (an outcome recorded) on another day: not again
    discussed = select(AgendaItem.queue_item_id).where(AgendaItem.day_id != day.id, AgendaItem.outcome != "")
    q = q.where(QueueItem.id.not_in(discussed))
    return list(session.scalars(q.order_by(QueueItem.id)))


def rank(session: Session, day: ConsultationDay, now: datetime | None = None) -> list[tuple[QueueItem, Features]]:
    """Every candidate with its features, best first (ties: more questions, then older item)."""
    items = candidates(session, day)
    feats = features(session, items, reference_time(day, now))
    ranked = [(it, feats[it.id]) for it in items if feats[it.id].questions > 0]
    ranked.sort(key=lambda p: (-p[1].score, -p[1].questions, p[0].id))
    return ranked


def _topic(library: Library | None, item: QueueItem) -> tuple[str, str]:
    """Topic (category) and lead unit: the item's own, else suggested from retrieval, else 未分类."""
    topic, unit = item.category, item.lead_unit or item.assigned_unit
    if (not topic or not unit) and library is not None:
        from ..queue.curation import suggest

        try:
            s = suggest(library, item)
        except Exception:  # no index loaded (CLI before a build): leave unclassified
            s = {"category": "", "lead_unit": ""}
        topic, unit = topic or s["category"], unit or s["lead_unit"]
    return topic or NO_TOPIC, unit or ""


@dataclass
class BuildResult:
    day: ConsultationDay
    changed: bool
    items: list[AgendaItem]
    ranked: int  # how many candidates were ranked


def visible(day: ConsultationDay) -> list[AgendaItem]:
    return sorted((a for a in day.items if a.state != "excluded"), key=lambda a: (a.position, a.id))


def build(session: Session, day: ConsultationDay, library: Library | None = None, size: int = DEFAULT_SIZE,
          now: datetime | None = None, actor: Actor | None = None) -> BuildResult:
    """Propose (or re-propose) the day's agenda. A frozen or held day is returned unchanged."""
    if actor is not None and not can_manage(actor, day.organiser):
        raise WorkflowError("forbidden", "您只能安排本辖区的咨询日议程")
    if day.status != "planned":
        return BuildResult(day, False, visible(day), 0)
    size = max(1, min(50, size))
    ranked = rank(session, day, now)
    by_id = {it.id: (it, f) for it, f in ranked}
    existing = {a.queue_item_id: a for a in day.items}
    before = [(a.queue_item_id, a.position, a.state, round(a.score, 6)) for a in visible(day)]
    kept = [a for a in visible(day) if a.state in ("pinned", "added")]
    # refresh the staff-kept rows' numbers; they keep their places
    for a in kept:
        pair = by_id.get(a.queue_item_id)
        if pair is not None:
            _fill(a, pair[0], pair[1], library, keep_topic=True)
    taken = {a.position for a in kept}
    proposals = [(it, f) for it, f in ranked
                 if it.id not in existing or existing[it.id].state == "proposed"]
    proposals = [(it, f) for it, f in proposals if it.id not in {a.queue_item_id for a in kept}]
    slots = [p for p in range(1, size + 1 + len(kept)) if p not in taken][: max(0, size - len(kept))]
    chosen = dict(zip(slots, proposals))
    chosen_ids = {it.id for it, _ in chosen.values()}
    for a in list(day.items):
        if a.state == "proposed" and a.queue_item_id not in chosen_ids:
            day.items.remove(a)
            session.delete(a)
    for pos, (it, f) in chosen.items():
        row = existing.get(it.id)
        if row is None or row not in day.items:
            row = AgendaItem(queue_item_id=it.id, state="proposed")
            day.items.append(row)
        row.position = pos
        _fill(row, it, f, library, keep_topic=False)
    session.flush()
    session.expire(day, ["items"])
    after = [(a.queue_item_id, a.position, a.state, round(a.score, 6)) for a in visible(day)]
    changed = after != before
    if changed and actor is not None:
        audit(session, actor, "agenda_build", f"consult:{day.id}", {"items": [b[0] for b in before]},
              {"items": [x[0] for x in after]})
    return BuildResult(day, changed, visible(day), len(ranked))


def _fill(a: AgendaItem, it: QueueItem, f: Features, library: Library | None, keep_topic: bool) -> None:
    a.title = it.title
    a.score, a.askers, a.enterprises = f.score, f.askers, f.enterprises
    a.reasons = f.as_dict()
    if not (keep_topic and a.topic):
        a.topic, a.lead_unit = _topic(library, it)


def _editable(day: ConsultationDay, actor: Actor) -> None:
    if not can_manage(actor, day.organiser):
        raise WorkflowError("forbidden", "您只能调整本辖区的咨询日议程")
    if day.status != "planned":
        raise WorkflowError("agenda_frozen", "议程已冻结，如需调整请先解除冻结")


def _row(day: ConsultationDay, agenda_item_id: int) -> AgendaItem:
    for a in day.items:
        if a.id == agenda_item_id:
            return a
    raise WorkflowError("not_found", "议程条目不存在")


def adjust(session: Session, actor: Actor, day: ConsultationDay, agenda_item_id: int, action: str,
           topic: str = "", lead_unit: str = "") -> AgendaItem:
    """pin | exclude | restore | up | down | topic — staff's changes to a planned agenda."""
    _editable(day, actor)
    a = _row(day, agenda_item_id)
    before = {"state": a.state, "position": a.position, "topic": a.topic, "lead_unit": a.lead_unit}
    rows = visible(day)
    if action == "pin":
        a.state = "pinned" if a.state == "proposed" else a.state
    elif action == "exclude":
        a.state = "excluded"
    elif action == "restore":
        a.state = "pinned"
        a.position = (max((r.position for r in rows), default=0)) + 1
    elif action in ("up", "down"):
        i = rows.index(a) if a in rows else -1
        j = i - 1 if action == "up" else i + 1
        if i < 0 or not 0 <= j < len(rows):
            raise WorkflowError("cannot_move", "已经在最前（或最后）")
        other = rows[j]
        a.position, other.position = other.position, a.position
        for r in (a, other):
            if r.state == "proposed":
                r.state = "pinned"
    elif action == "topic":
        a.topic = topic.strip()[:50] or NO_TOPIC
        a.lead_unit = lead_unit.strip()[:50]
        if a.state == "proposed":
            a.state = "pinned"
    else:
        raise WorkflowError("invalid_action", "不支持的议程操作")
    audit(session, actor, f"agenda_{action}", f"consult:{day.id}:{a.queue_item_id}", before,
          {"state": a.state, "position": a.position, "topic": a.topic, "lead_unit": a.lead_unit})
    session.flush()
    return a


def add_item(session: Session, actor: Actor, day: ConsultationDay, queue_item_id: int,
             library: Library | None = None, now: datetime | None = None) -> AgendaItem:
    """Staff add a queue item by its number (it must be in the organiser's scope)."""
    _editable(day, actor)
    item = session.get(QueueItem, queue_item_id)
    if item is None or (day.organiser != CITY and item.district != day.organiser):
        raise WorkflowError("not_found", f"问题 #{queue_item_id} 不存在或不属于{day.organiser}")
    for a in day.items:
        if a.queue_item_id == queue_item_id:
            a.state = "added" if a.state in ("excluded", "proposed") else a.state
            session.flush()
            return a
    f = features(session, [item], reference_time(day, now))[item.id]
    a = AgendaItem(queue_item_id=item.id, state="added",
                   position=max((r.position for r in visible(day)), default=0) + 1)
    _fill(a, item, f, library, keep_topic=False)
    day.items.append(a)
    audit(session, actor, "agenda_add", f"consult:{day.id}:{item.id}", {}, {"position": a.position})
    session.flush()
    return a


def freeze(session: Session, actor: Actor, day: ConsultationDay) -> bool:
    """Fix the agenda (idempotent: freezing a frozen day changes nothing). Returns whether it changed."""
    if not can_manage(actor, day.organiser):
        raise WorkflowError("forbidden", "您只能冻结本辖区的咨询日议程")
    if day.status != "planned":
        return False
    if not visible(day):
        raise WorkflowError("agenda_empty", "议程为空，请先生成或添加议题")
    # positions become 1..n in the shown order
    for n, a in enumerate(visible(day), 1):
        a.position = n
    day.status, day.frozen_at, day.frozen_by = "frozen", datetime.now(UTC), actor.username
    audit(session, actor, "agenda_freeze", f"consult:{day.id}", {"status": "planned"},
          {"status": "frozen", "items": [a.queue_item_id for a in visible(day)]})
    session.flush()
    return True


def unfreeze(session: Session, actor: Actor, day: ConsultationDay) -> None:
    if actor.role != "admin" and not can_manage(actor, day.organiser):
        raise WorkflowError("forbidden", "您没有解除冻结的权限")
    if day.status != "frozen":
        raise WorkflowError("not_frozen", "只有已冻结、尚未举办的议程可以解除冻结")
    day.status, day.frozen_at = "planned", None
    audit(session, actor, "agenda_unfreeze", f"consult:{day.id}", {"status": "frozen"}, {"status": "planned"})
    session.flush()


def groups(rows: list[AgendaItem]) -> list[dict[str, Any]]:
    """The agenda grouped by topic and lead unit, groups in the order of their best-placed item."""
    out: dict[tuple[str, str], list[AgendaItem]] = {}
    for a in sorted(rows, key=lambda r: r.position):
        out.setdefault((a.topic or NO_TOPIC, a.lead_unit or ""), []).append(a)
    return [{"topic": t, "lead_unit": u, "items": items} for (t, u), items in out.items()]


def as_json(day: ConsultationDay, result: BuildResult | None = None) -> dict[str, Any]:
    rows = visible(day)

    def item(a: AgendaItem) -> dict[str, Any]:
        return {"position": a.position, "queue_item_id": a.queue_item_id, "title": a.title, "topic": a.topic,
                "lead_unit": a.lead_unit, "state": a.state, "score": round(a.score, 4), "askers": a.askers,
                "enterprises": a.enterprises, "member_count": a.reasons.get("questions", 0),
                "reasons": stored_reasons(a.reasons), "features": {k: v for k, v in a.reasons.items()
                                                                    if k != "text"},
                "outcome": a.outcome or None, "curated_id": a.curated_id}

    return {"month": day.month, "organiser": day.organiser, "date": day.day.isoformat(), "time": day.time_text,
            "place": day.place, "topics": list(day.topics or []), "status": day.status,
            "moved_reason": day.moved_reason, "changed": result.changed if result is not None else False,
            "candidates": result.ranked if result is not None else None,
            "items": [item(a) for a in rows],
            "groups": [{"topic": g["topic"], "lead_unit": g["lead_unit"],
                        "items": [a.queue_item_id for a in g["items"]]} for g in groups(rows)]}


def today_cst() -> date:
    return today_cn()
