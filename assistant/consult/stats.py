"""Numbers for the console's 统计看板: questions, answer and abstention rates, the queue, topics, consultation-day
attendance and 跟踪问效 — over the last 7 / 30 / 90 days (Beijing calendar days, today included), scoped to the
staff member. Pure functions over a Session and an :class:`~assistant.queue.curation.Actor`; no Flask.

Definitions:

* **答复率** = questions decided ``answer`` or ``caution`` ÷ questions decided ``answer`` / ``caution`` /
  ``abstain``; **拒答率** = ``abstain`` ÷ the same. Pending, failed and direct 转人工 questions are not "decided".
* **待办问题** = queue items now ``new`` / ``assigned`` / ``answered`` (a snapshot, not windowed), with the median
  days since their first question.
* **热点主题** = queue items whose last question falls in the window, by category (``未分类`` without one); 已答主题 =
  answered questions in the window whose best hit is a curated entry, by that entry's category.
* **咨询日** = days whose date falls in the window: participants, invited, registered (网上报名), walk-ins, attended.
* **跟踪问效** = follow-ups sent in the window, and those answered in the window: solved rate (已解决 ÷ answered)
  and average satisfaction (1–5).

Scope — who sees what (the same rules as the queue, :func:`assistant.queue.curation.can_view`):

* **admin** — everything; may filter by district; sees the per-district table.
* **viewer without a district** — like the admin (such viewers already see every queue item), read-only anyway.
* **district staff, viewer with a district** — their district only: ``Question.district``,
  ``QueueItem.district`` and ``ConsultationDay.organiser`` (its participants and follow-ups) equal to it. The
  filter is applied in the queries, not after. No district table, no district filter.
* **expert** — queue numbers (open items, median age, hot topics) over the items assigned to them only, as in their
  queue. Question volume, rates, consultation days and follow-ups are shown city-wide: they are counts without any
  question text or contact data, and experts answer for the whole city. No district table, no district filter.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..auth import DISTRICTS
from ..db.models import ConsultationDay, CuratedAnswer, FollowUp, Participant, Question, QueueItem
from ..domain import CHINA_TZ, OPEN, Actor
from ..queue.curation import CHANNELS
from .schedule import DAY_STATUSES

WINDOWS = (7, 30, 90)
DEFAULT_DAYS = 30
OPEN_LABELS = {"new": "新问题", "assigned": "已分派", "answered": "已答复"}
DECIDED = ("answer", "caution", "abstain")
NO_TOPIC = "未分类"
NO_DISTRICT = "未标明区县"
TOP_TOPICS = 10


@dataclass(frozen=True)
class Scope:
    """What an actor's dashboard covers. ``district`` None = every district; ``expert`` limits the queue."""

    label: str
    district: str | None = None
    expert: str = ""
    city_wide: bool = False  # may see the per-district table and filter by district
    filter: str = ""  # the district a city-wide user chose ("" = all)


def scope_for(actor: Actor, district: str = "") -> Scope:
    district = (district or "").strip()
    if actor.role == "admin" or (actor.role == "viewer" and not actor.district):
        if district in DISTRICTS:
            return Scope(district, district=district, city_wide=True, filter=district)
        return Scope("全市", city_wide=True)
    if actor.role == "expert":
        return Scope("全市（待办问题仅含分派给您的问题）", expert=actor.username)
    if actor.role in ("district", "viewer") and actor.district:
        return Scope(actor.district, district=actor.district)
    return Scope("无权限范围", district="\x00none")  # unknown role: nothing


@dataclass(frozen=True)
class Window:
    days: int
    start: date
    end: date  # inclusive

    @property
    def start_utc(self) -> datetime:
        return datetime.combine(self.start, time(0), CHINA_TZ).astimezone(UTC)

    @property
    def end_utc(self) -> datetime:  # exclusive
        return datetime.combine(self.end + timedelta(days=1), time(0), CHINA_TZ).astimezone(UTC)

    def dates(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range(self.days)]


def window(days: int | str | None, today: date | None = None) -> Window:
    try:
        n = int(days) if days is not None else DEFAULT_DAYS
    except (TypeError, ValueError):
        n = DEFAULT_DAYS
    n = n if n in WINDOWS else DEFAULT_DAYS
    today = today or datetime.now(CHINA_TZ).date()
    return Window(n, today - timedelta(days=n - 1), today)


def _aware(dt: datetime | None) -> datetime | None:
    if dt is None:
        return None
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


def _cst_date(dt: datetime) -> date:
    aware = _aware(dt)
    assert aware is not None
    return aware.astimezone(CHINA_TZ).date()


def ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def pct(x: float | None) -> str:
    return "—" if x is None else f"{x * 100:.1f}%"


def num(x: float | None, digits: int = 2) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


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


def dashboard(session: Session, actor: Actor, days: int | str | None = DEFAULT_DAYS, district: str = "",
              today: date | None = None, now: datetime | None = None) -> Dashboard:
    """Every number of the page for ``actor`` (see the module docstring for the scope rules)."""
    scope = scope_for(actor, district)
    win = window(days, today)
    now = _aware(now) or datetime.now(UTC)
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

    # questions
    q = select(Question.asked_at, Question.channel, Question.decision, Question.district, Question.top_id).where(
        Question.asked_at >= win.start_utc, Question.asked_at < win.end_utc)
    if sql_district is not None:
        q = q.where(Question.district == sql_district)
    for asked_at, channel, decision, qd, top_id in session.execute(q):
        key = _district_key(qd)
        b = blocks[key]
        b.questions += 1
        b.decisions[decision] += 1
        if not counts(key):
            continue
        total.questions += 1
        total.decisions[decision] += 1
        d = _cst_date(asked_at)
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
        age = max(0.0, (now - (_aware(first) or now)).total_seconds() / 86400)
        for b in (blocks[key], total) if counts(key) else (blocks[key],):
            if status in OPEN:
                b.open_items[status] += 1
                b.ages.append(age)
        last_a = _aware(last)
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
        c, u = _aware(created), _aware(used)
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


# -- tables (the page and the CSV downloads render the same rows) ------------------------------------------------
@dataclass
class Table:
    name: str
    title: str
    headers: list[str]
    rows: list[list[Any]]
    numeric: set[int] = field(default_factory=set)  # right-aligned columns


def channel_label(c: str) -> str:
    return CHANNELS.get(c, c)


def district_label(d: str) -> str:
    return d or NO_DISTRICT


DISTRICT_HEADERS = ["区县", "提问数", "已判定", "答复率", "拒答率", "待办问题", "待办中位等待（天）", "咨询日场次",
                    "参会企业", "已邀请", "网上报名", "到场", "回访发出", "回访已反馈", "已解决率", "平均满意度"]


def _district_row(label: str, b: Block) -> list[Any]:
    return [label, b.questions, b.decided, pct(b.answer_rate), pct(b.abstain_rate), b.open_total,
            num(b.median_age, 1), b.days, b.participants, b.invited, b.registered, b.attended, b.fu_sent,
            b.fu_answered, pct(b.solved_rate), num(b.avg_score)]


def tables(dash: Dashboard) -> dict[str, Table]:
    t = dash.total
    out: dict[str, Table] = {}
    out["summary"] = Table("summary", "总体指标", ["指标", "数值"], [
        ["提问数", t.questions],
        ["已判定（直接答复、提示性答复、拒答）", t.decided],
        ["直接答复", t.decisions["answer"]],
        ["提示性答复", t.decisions["caution"]],
        ["拒答（转人工处理）", t.decisions["abstain"]],
        ["答复率", pct(t.answer_rate)],
        ["拒答率", pct(t.abstain_rate)],
        *[[f"待办问题：{label}", t.open_items[k]] for k, label in OPEN_LABELS.items()],
        ["待办问题合计", t.open_total],
        ["待办问题中位等待（天）", num(t.median_age, 1)],
        ["咨询日场次", t.days],
        ["咨询日参会企业", t.participants],
        ["咨询日到场企业", t.attended],
        ["跟踪问效：发出", t.fu_sent],
        ["跟踪问效：已反馈", t.fu_answered],
        ["跟踪问效：已解决率", pct(t.solved_rate)],
        ["跟踪问效：平均满意度（1—5 分）", num(t.avg_score)],
    ], {1})
    chans = dash.channels
    out["daily"] = Table("daily", "每日提问（按渠道）", ["日期", *[channel_label(c) for c in chans], "合计"],
                         [[d.isoformat(), *[dash.per_day[d][c] for c in chans], sum(dash.per_day[d].values())]
                          for d in dash.window.dates()], set(range(1, len(chans) + 2)))
    out["topics"] = Table("topics", "热点主题（期间内有提问的队列问题）", ["主题", "问题数", "累计提问次数"],
                          [[c, n, q] for c, n, q in dash.topics], {1, 2})
    out["answered_topics"] = Table("answered_topics", "已答问题主题（命中精选问答的分类）", ["主题", "答复次数"],
                                   [[c, n] for c, n in dash.answered_topics], {1})
    out["consult"] = Table("consult", "咨询日参会情况", ["日期", "组织单位", "状态", "参会企业", "已邀请", "网上报名",
                                                  "现场登记", "到场"],
                           [[d["date"].isoformat(), d["organiser"], d["status"], d["participants"], d["invited"],
                             d["registered"], d["walk_in"], d["attended"]] for d in dash.consult_days],
                           {3, 4, 5, 6, 7})
    if dash.scope.city_wide:
        rows = [_district_row(district_label(d), b) for d, b in dash.districts.items()]
        total = Block()
        for b in dash.districts.values():
            _add(total, b)
        rows.append(_district_row("合计", total))
        out["districts"] = Table("districts", "分区县统计", DISTRICT_HEADERS, rows, set(range(1, len(DISTRICT_HEADERS))))
    return out


def _add(into: Block, b: Block) -> None:
    into.questions += b.questions
    into.decisions.update(b.decisions)
    into.open_items.update(b.open_items)
    into.ages.extend(b.ages)
    for f in ("days", "participants", "invited", "registered", "walk_in", "attended", "fu_sent", "fu_answered",
              "fu_solved"):
        setattr(into, f, getattr(into, f) + getattr(b, f))
    into.fu_scores.extend(b.fu_scores)


def chart_data(dash: Dashboard) -> dict[str, Any]:
    """What dashboard.js draws (plain JSON: labels and numbers only)."""
    dates = dash.window.dates()
    return {
        "questions": {"labels": [f"{d.month}/{d.day}" for d in dates],
                      "datasets": [{"label": channel_label(c), "data": [dash.per_day[d][c] for d in dates]}
                                   for c in dash.channels]},
        "consult": {"labels": [f"{d['date'].month}/{d['date'].day} {d['organiser']}" for d in dash.consult_days],
                    "datasets": [{"label": label, "data": [d[k] for d in dash.consult_days]}
                                 for k, label in (("participants", "参会企业"), ("invited", "已邀请"),
                                                  ("registered", "网上报名"), ("attended", "到场"))]},
        "topics": {"labels": [t[0] for t in dash.topics],
                   "datasets": [{"label": "问题数", "data": [t[1] for t in dash.topics]}]},
    }


def csv_bytes(table: Table) -> bytes:
    """UTF-8 with a BOM (Excel then reads the Chinese correctly); cells that a spreadsheet would take for a formula
    are prefixed with an apostrophe."""
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(table.headers)
    for r in table.rows:
        w.writerow([_csv_cell(v) for v in r])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def _csv_cell(v: Any) -> Any:
    if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + v
    return v
