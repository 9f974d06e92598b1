"""Numbers for the console's 统计看板: questions, answer and abstention rates, the queue, topics, consultation-day
attendance and 跟踪问效 — over the last 7 / 30 / 90 days (Beijing calendar days, today included), scoped to the
staff member. Pure functions over a Session and an :class:`~assistant.queue.curation.Actor`; no Flask.

Definitions:

* **提问数** = questions asked in the window, each counted for one district: the district of the queue item it is
  in, else the asker's (:func:`question_district`) — so a district's 待办 items bring their questions with them.
* **答复率** = questions decided ``answer`` or ``caution`` ÷ questions decided ``answer`` / ``caution`` /
  ``abstain``; **拒答率** = ``abstain`` ÷ the same. Pending, failed and direct 转人工 questions are not "decided".
* **待办问题** = queue items now ``new`` / ``assigned`` / ``answered`` (a snapshot, not windowed), with the median
  days since their first question.
* **热点主题** = queue items whose last question falls in the window, by category (``未分类`` without one); 已答主题 =
  answered questions in the window whose best hit is a curated entry, by that entry's category.
* **咨询日** = days whose date falls in the window: participants, invited, registered (网上报名), walk-ins, attended.
* **跟踪问效** = follow-ups sent in the window, and those answered in the window: solved rate (已解决 ÷ answered)
  and average satisfaction (1–5).

Who sees what and the windows: :mod:`assistant.consult.stats_scope`; the tables, charts and CSV downloads made
from these numbers: :mod:`assistant.consult.stats_tables`.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..auth import DISTRICTS
from ..db.models import ConsultationDay, CuratedAnswer, FollowUp, Participant, Question, QueueItem, QueueMember
from ..domain import OPEN, Actor
from .schedule import DAY_STATUSES
from .stats_scope import DEFAULT_DAYS, Scope, Window, as_aware, cst_date, scope_for, window

DECIDED = ("answer", "caution", "abstain")
NO_TOPIC = "未分类"
TOP_TOPICS = 10


def ratio(num: int, den: int) -> float | None:
    return num / den if den else None


# -- the numbers -------------------------------------------------------------------------------------------------
@dataclass
class Block:
    """The numbers of one district (or of the whole scope)."""

    questions: int = 0
    decisions: Counter[str] = field(default_factory=Counter)
    open_items: Counter[str] = field(default_factory=Counter)
    ages: list[float] = field(default_factory=list)
    days: int = 0
    participants: int = 0
    invited: int = 0
    registered: int = 0
    walk_in: int = 0
    attended: int = 0
    fu_sent: int = 0
    fu_answered: int = 0
    fu_solved: int = 0
    fu_scores: list[int] = field(default_factory=list)

    @property
    def decided(self) -> int:
        return sum(self.decisions[d] for d in DECIDED)

    @property
    def answer_rate(self) -> float | None:
        return ratio(self.decisions["answer"] + self.decisions["caution"], self.decided)

    @property
    def abstain_rate(self) -> float | None:
        return ratio(self.decisions["abstain"], self.decided)

    @property
    def open_total(self) -> int:
        return sum(self.open_items.values())

    @property
    def median_age(self) -> float | None:
        return statistics.median(self.ages) if self.ages else None

    @property
    def solved_rate(self) -> float | None:
        return ratio(self.fu_solved, self.fu_answered)

    @property
    def avg_score(self) -> float | None:
        return sum(self.fu_scores) / len(self.fu_scores) if self.fu_scores else None


@dataclass
class Dashboard:
    scope: Scope
    window: Window
    total: Block
    per_day: dict[date, Counter[str]]  # Beijing date → channel → questions
    channels: list[str]  # channels present, most used first
    topics: list[tuple[str, int, int]]  # (category, items, questions)
    answered_topics: list[tuple[str, int]]
    consult_days: list[dict[str, Any]]
    districts: dict[str, Block]  # only for city-wide scopes (key "" = no district)


def _district_key(d: str | None) -> str:
    return d or ""


def question_district() -> Any:
    """The district a question counts for: the district of the queue item it is in, when staff (or the intake) gave
    that item one, else the asker's own ``Question.district``.

    The queue is scoped by ``QueueItem.district`` and a question keeps the district it was asked with (often none:
    the web chat sends none). Counting questions by the latter alone left a district's 待办 items — say routed to
    普陀区 by the city bureau — without their questions in 普陀区's 提问数 and 拒答率 (counted under 未标明区县, or
    under the asker's district when a question joined another district's item). One district per question, so the
    per-district rows still add up to the city's total."""
    item_district = (select(func.max(QueueItem.district))
                     .join(QueueMember, QueueMember.item_id == QueueItem.id)
                     .where(QueueMember.question_id == Question.id, QueueItem.district != "")
                     .correlate(Question).scalar_subquery())
    return func.coalesce(item_district, Question.district, "")


def dashboard(session: Session, actor: Actor, days: int | str | None = DEFAULT_DAYS, district: str = "",
              today: date | None = None, now: datetime | None = None) -> Dashboard:
    """Every number of the page for ``actor`` (see :mod:`assistant.consult.stats_scope` for the scope rules)."""
    scope = scope_for(actor, district)
    win = window(days, today)
    now = as_aware(now) or datetime.now(UTC)
    # a city-wide scope reads every district once (the table needs them all) and filters the totals in Python;
    # a district scope is filtered in the queries themselves
    sql_district = None if scope.city_wide else scope.district
    want = scope.filter if scope.city_wide and scope.filter else None

    blocks: dict[str, Block] = defaultdict(Block)
    total = Block()
    per_day: dict[date, Counter[str]] = {d: Counter() for d in win.dates()}
    chan_total: Counter[str] = Counter()
    answered_tops: Counter[str] = Counter()

    def counts(key: str) -> bool:
        return want is None or key == want

    # questions, each in the district that handles it (see question_district)
    qd_col = question_district()
    q = select(Question.asked_at, Question.channel, Question.decision, qd_col, Question.top_id).where(
        Question.asked_at >= win.start_utc, Question.asked_at < win.end_utc)
    if sql_district is not None:
        q = q.where(qd_col == sql_district)
    for asked_at, channel, decision, qd, top_id in session.execute(q):
        key = _district_key(qd)
        b = blocks[key]
        b.questions += 1
        b.decisions[decision] += 1
        if not counts(key):
            continue
        total.questions += 1
        total.decisions[decision] += 1
        d = cst_date(asked_at)
        if d in per_day:
            per_day[d][channel or "cli"] += 1
        chan_total[channel or "cli"] += 1
        if decision in ("answer", "caution") and top_id:
            answered_tops[top_id] += 1

    # queue (open items: a snapshot) and hot topics (items asked in the window)
    iq = select(QueueItem.status, QueueItem.first_asked, QueueItem.last_asked, QueueItem.district,
                QueueItem.category, QueueItem.count)
    if sql_district is not None:
        iq = iq.where(QueueItem.district == sql_district)
    if scope.expert:
        iq = iq.where(QueueItem.assigned_to == scope.expert)
    iq = iq.where((QueueItem.status.in_(OPEN)) | (QueueItem.last_asked >= win.start_utc))
    topic_items: Counter[str] = Counter()
    topic_questions: Counter[str] = Counter()
    for status, first, last, idist, category, count in session.execute(iq):
        key = _district_key(idist)
        age = max(0.0, (now - (as_aware(first) or now)).total_seconds() / 86400)
        for b in (blocks[key], total) if counts(key) else (blocks[key],):
            if status in OPEN:
                b.open_items[status] += 1
                b.ages.append(age)
        last_a = as_aware(last)
        if counts(key) and last_a is not None and win.start_utc <= last_a < win.end_utc:
            topic_items[category or NO_TOPIC] += 1
            topic_questions[category or NO_TOPIC] += int(count or 0)

    # consultation days in the window and their participants
    dq = select(ConsultationDay).where(ConsultationDay.day >= win.start, ConsultationDay.day <= win.end)
    if sql_district is not None:
        dq = dq.where(ConsultationDay.organiser == sql_district)
    day_rows = list(session.scalars(dq.order_by(ConsultationDay.day, ConsultationDay.organiser)))
    parts: dict[int, list[Any]] = defaultdict(list)
    if day_rows:
        for row in session.execute(select(Participant.day_id, Participant.source, Participant.invited_at,
                                          Participant.attended)
                                   .where(Participant.day_id.in_([d.id for d in day_rows]))):
            parts[row[0]].append(row)
    consult_days: list[dict[str, Any]] = []
    for day in day_rows:
        ps = parts[day.id]
        info: dict[str, Any] = {
            "date": day.day, "organiser": day.organiser, "status": DAY_STATUSES.get(day.status, day.status),
            "participants": len(ps), "invited": sum(1 for p in ps if p[2] is not None),
            "registered": sum(1 for p in ps if p[1] == "registered"),
            "walk_in": sum(1 for p in ps if p[1] == "walk_in"), "attended": sum(1 for p in ps if p[3])}
        for b in (blocks[day.organiser], total) if counts(day.organiser) else (blocks[day.organiser],):
            b.days += 1
            b.participants += info["participants"]
            b.invited += info["invited"]
            b.registered += info["registered"]
            b.walk_in += info["walk_in"]
            b.attended += info["attended"]
        if counts(day.organiser):
            consult_days.append(info)

    # follow-ups sent or answered in the window
    fq = select(FollowUp.created_at, FollowUp.used_at, FollowUp.solved, FollowUp.score,
                ConsultationDay.organiser).join(ConsultationDay, ConsultationDay.id == FollowUp.day_id).where(
        ((FollowUp.created_at >= win.start_utc) & (FollowUp.created_at < win.end_utc))
        | ((FollowUp.used_at >= win.start_utc) & (FollowUp.used_at < win.end_utc)))
    if sql_district is not None:
        fq = fq.where(ConsultationDay.organiser == sql_district)
    for created, used, solved, score, organiser in session.execute(fq):
        c, u = as_aware(created), as_aware(used)
        for b in (blocks[organiser], total) if counts(organiser) else (blocks[organiser],):
            if c is not None and win.start_utc <= c < win.end_utc:
                b.fu_sent += 1
            if u is not None and win.start_utc <= u < win.end_utc:
                b.fu_answered += 1
                b.fu_solved += 1 if solved == "yes" else 0
                if score is not None:
                    b.fu_scores.append(int(score))

    # answered questions' topics: the category of the curated entry they hit (one query over the curated ids)
    answered: Counter[str] = Counter()
    if answered_tops:
        cats = {cid: cat for cid, cat in session.execute(select(CuratedAnswer.id, CuratedAnswer.category)
                                                         .where(CuratedAnswer.id.in_(list(answered_tops))))}
        for top, n in answered_tops.items():
            if top in cats:
                answered[cats[top] or NO_TOPIC] += n

    districts: dict[str, Block] = {}
    if scope.city_wide:
        for name in (*DISTRICTS, ""):
            districts[name] = blocks.get(name, Block())
        for name, b in blocks.items():  # districts not in the list (legacy data): still shown
            districts.setdefault(name, b)
    topics = sorted(((t, n, topic_questions[t]) for t, n in topic_items.items()), key=lambda x: (-x[1], -x[2], x[0]))
    return Dashboard(scope=scope, window=win, total=total, per_day=per_day,
                     channels=[c for c, _ in sorted(chan_total.items(), key=lambda x: (-x[1], x[0]))],
                     topics=topics[:TOP_TOPICS], answered_topics=sorted(answered.items(),
                                                                        key=lambda x: (-x[1], x[0]))[:TOP_TOPICS],
                     consult_days=consult_days, districts=districts)
