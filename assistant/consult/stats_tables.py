"""The 统计看板's tables, chart data and CSV downloads (the page and the CSV files render the same rows), made from a
:class:`~assistant.consult.stats.Dashboard`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..queue.curation import CHANNELS
from .stats import Block, Dashboard

OPEN_LABELS = {"new": "新问题", "assigned": "已分派", "answered": "已答复"}
NO_DISTRICT = "未标明区县"


def pct(x: float | None) -> str:
    return "—" if x is None else f"{x * 100:.1f}%"


def num(x: float | None, digits: int = 2) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


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
