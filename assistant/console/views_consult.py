"""企业环保咨询日 in the console: the days (schedule), a day's page (agenda builder with ranking reasons, staff
adjustments, freeze, invitations and phone list, attendance, outcomes published into the corpus, follow-up results)
and exports. The workflows live in :mod:`assistant.consult`; the views parse forms, call them and render."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

from flask import Response, flash, render_template, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..consult import agenda as ag
from ..consult import outcomes as oc
from ..consult import people
from ..consult.schedule import CITY, DAY_STATUSES, ORGANISERS, can_manage, can_view_day, ensure_day, update_day
from ..db.models import ConsultationDay
from ..errors import WorkflowError
from .common import actor, bp, fail, redirect_to, svc

T = TypeVar("T")

CITATION_RE = re.compile(r"^.+#[0-9A-Za-z.\-~]+$")


def _day(s: Any, day_id: int, manage: bool = False) -> ConsultationDay:
    a = actor()
    day = s.get(ConsultationDay, day_id)
    if day is None or not can_view_day(a, day.organiser):
        fail(404, "咨询日不存在或不在您的权限范围内")
    if manage and not can_manage(a, day.organiser):
        fail(403, "您只能管理本辖区的咨询日")
    return day


def _on_day(day_id: int, act: Callable[[Session, ConsultationDay], T]) -> T:
    """Run one staff action on a day the actor manages, in one transaction; returns what the action returned."""
    with svc().Session() as s:
        day = _day(s, day_id, manage=True)
        out = act(s, day)
        s.commit()
    return out


def _form(name: str, limit: int = 200) -> str:
    return (request.form.get(name) or "").strip()[:limit]


@bp.get("/consult")
def consult_days() -> Any:
    a = actor()
    with svc().Session() as s:
        q = select(ConsultationDay).order_by(ConsultationDay.day.desc(), ConsultationDay.organiser)
        days = [d for d in s.scalars(q.limit(200)) if can_view_day(a, d.organiser)]
        rows = [{"id": d.id, "organiser": d.organiser, "month": d.month, "day": d.day, "time": d.time_text,
                 "place": d.place, "status": d.status, "status_label": DAY_STATUSES.get(d.status, d.status),
                 "items": len(ag.visible(d)), "moved": d.moved_reason} for d in days]
    organisers = list(ORGANISERS) if a.role == "admin" else ([a.district] if a.role == "district" else [])
    today = ag.today_cst()
    next_month = f"{today.year + (today.month == 12)}-{today.month % 12 + 1:02d}"
    return render_template("console/consult_list.html", active="consult", rows=rows, organisers=organisers,
                           next_month=next_month)


@bp.post("/consult/schedule")
def consult_schedule() -> Any:
    a = actor()
    organiser = _form("organiser", 50) or (a.district if a.role == "district" else CITY)
    with svc().Session() as s:
        day = ensure_day(s, svc().settings, _form("month", 7), organiser, a)
        s.commit()
        day_id = day.id
    flash("咨询日已安排", "ok")
    return redirect_to("console.consult_day", day_id=day_id)


@bp.get("/consult/<int:day_id>")
def consult_day(day_id: int) -> Any:
    a = actor()
    with svc().Session() as s:
        day = _day(s, day_id)
        rows = ag.visible(day)
        excluded = [r for r in day.items if r.state == "excluded"]
        parts = people.participants(s, day)
        results = oc.results(s, day)
        summary = oc.summary(results)
        ctx = {
            "day": day, "rows": rows, "groups": ag.groups(rows), "excluded": excluded, "participants": parts,
            "phone_list": people.phone_list(s, day), "results": results, "summary": summary,
            "manage": can_manage(a, day.organiser), "DAY_STATUSES": DAY_STATUSES, "STATES": ag.STATES,
            "SOURCES": people.SOURCES, "attended": sum(1 for p in parts if p.attended),
            "item_titles": {r.id: r.title for r in day.items}, "stored_reasons": ag.stored_reasons,
        }
        return render_template("console/consult_day.html", active="consult", **ctx)


@bp.post("/consult/<int:day_id>/update")
def consult_update(day_id: int) -> Any:
    with svc().Session() as s:
        day = _day(s, day_id, manage=True)
        raw = _form("date", 10)
        try:
            new_date = date.fromisoformat(raw) if raw else None
        except ValueError as e:
            raise WorkflowError("invalid_date", "日期格式应为 YYYY-MM-DD") from e
        topics = [t for t in re.split(r"[、,，;；\n]", request.form.get("topics") or "") if t.strip()]
        update_day(s, actor(), day, new_date=new_date, place=_form("place", 300), time_text=_form("time", 100),
                   topics=topics, reason=_form("reason", 200))
        s.commit()
    flash("咨询日信息已保存", "ok")
    return redirect_to("console.consult_day", day_id=day_id)


@bp.post("/consult/<int:day_id>/build")
def consult_build(day_id: int) -> Any:
    try:
        size = max(1, min(50, int(request.form.get("size") or ag.DEFAULT_SIZE)))
    except ValueError:
        size = ag.DEFAULT_SIZE
    with svc().Session() as s:
        day = _day(s, day_id, manage=True)
        res = ag.build(s, day, svc().indexes, size=size, actor=actor())
        s.commit()
        if day.status != "planned":
            flash("议程已冻结，未作改变", "info")
        else:
            flash(f"已从 {res.ranked} 个待处理问题中生成议程" + ("" if res.changed else "（无变化）"), "ok")
    return redirect_to("console.consult_day", day_id=day_id)


@bp.post("/consult/<int:day_id>/items/<int:agenda_id>/<action>")
def consult_adjust(day_id: int, agenda_id: int, action: str) -> Any:
    if action not in ("pin", "exclude", "restore", "up", "down", "topic"):
        fail(404, "不支持的操作")
    topic, unit = _form("topic", 50), _form("lead_unit", 50)
    _on_day(day_id, lambda s, day: ag.adjust(s, actor(), day, agenda_id, action, topic=topic, lead_unit=unit))
    return redirect_to("console.consult_day", day_id=day_id, _anchor="agenda")


@bp.post("/consult/<int:day_id>/add")
def consult_add(day_id: int) -> Any:
    raw = _form("queue_item_id", 12).lstrip("#")
    with svc().Session() as s:
        day = _day(s, day_id, manage=True)
        if not raw.isdigit():
            raise WorkflowError("invalid_item", "请输入问题编号（数字）")
        ag.add_item(s, actor(), day, int(raw), svc().indexes)
        s.commit()
    flash(f"已把问题 #{raw} 加入议程", "ok")
    return redirect_to("console.consult_day", day_id=day_id, _anchor="agenda")


@bp.post("/consult/<int:day_id>/freeze")
def consult_freeze(day_id: int) -> Any:
    with svc().Session() as s:
        day = _day(s, day_id, manage=True)
        changed = ag.freeze(s, actor(), day)
        people.registered_items(s, day)
        s.commit()
    flash("议程已冻结，可以发送邀请" if changed else "议程此前已冻结，未作改变", "ok")
    return redirect_to("console.consult_day", day_id=day_id)


#: a day's state changes that take nothing but the day: what to do, what to tell the staff member
_DAY_STEPS = {"unfreeze": (ag.unfreeze, "已解除冻结，可以调整议程"),
              "held": (oc.mark_held, "已标记为已举办，请记录各议题的现场答复")}


@bp.post("/consult/<int:day_id>/unfreeze", defaults={"step": "unfreeze"})
@bp.post("/consult/<int:day_id>/held", defaults={"step": "held"})
def consult_step(day_id: int, step: str) -> Any:
    act, done = _DAY_STEPS[step]
    _on_day(day_id, lambda s, day: act(s, actor(), day))
    flash(done, "ok")
    return redirect_to("console.consult_day", day_id=day_id)


@bp.post("/consult/<int:day_id>/invite")
def consult_invite(day_id: int) -> Any:
    rep = _on_day(day_id, lambda s, day: people.invite(s, actor(), day))
    flash(f"已邀请：消息 {rep.messages} 条，需电话通知 {len(rep.phone_list)} 家；此前已邀请 {rep.already} 家", "ok")
    return redirect_to("console.consult_day", day_id=day_id, _anchor="participants")


@bp.post("/consult/<int:day_id>/attendance/<int:participant_id>")
def consult_attendance(day_id: int, participant_id: int) -> Any:
    attended = request.form.get("attended") == "1"
    _on_day(day_id, lambda s, day: people.set_attendance(s, actor(), day, participant_id, attended))
    return redirect_to("console.consult_day", day_id=day_id, _anchor="participants")


@bp.post("/consult/<int:day_id>/walk-in")
def consult_walk_in(day_id: int) -> Any:
    ids = [int(x) for x in request.form.getlist("agenda_item_ids") if x.isdigit()]
    who = (_form("company"), _form("contact", 100), _form("phone", 30), _form("uscc", 18))
    _on_day(day_id, lambda s, day: people.walk_in(s, actor(), day, *who, ids))
    flash("已登记到场企业", "ok")
    return redirect_to("console.consult_day", day_id=day_id, _anchor="participants")


@bp.post("/consult/<int:day_id>/items/<int:agenda_id>/outcome")
def consult_outcome(day_id: int, agenda_id: int) -> Any:
    with svc().Session() as s:
        _day(s, day_id, manage=True)
    raw = request.form.get("citations") or ""
    citations = [c.strip() for c in re.split(r"[\n,，;；]", raw) if c.strip()]
    bad = [c for c in citations if not CITATION_RE.match(c)]
    if bad:
        raise WorkflowError("bad_citation", f"引用格式应为“文件名#条号”：{'、'.join(bad)}")
    a = oc.record_outcome(svc().indexes, actor(), day_id, agenda_id, request.form.get("answer") or "", citations,
                          question=_form("question", 500))
    flash(f"现场答复已发布为咨询日答复（{a.curated_id}），企业现在即可检索到", "ok")
    return redirect_to("console.consult_day", day_id=day_id, _anchor=f"outcome-{agenda_id}")


@bp.get("/consult/<int:day_id>/export")
def consult_export(day_id: int) -> Any:
    from ..consult import exports

    what = request.args.get("what", "agenda")
    fmt = request.args.get("format", "docx")
    if what not in ("agenda", "record", "followup") or fmt not in ("docx", "xlsx"):
        fail(400, "导出类型应为 agenda/record/followup，格式应为 docx/xlsx")
    with svc().Session() as s:
        day = _day(s, day_id)
        data = exports.export(s, day, what, fmt)
        name = {"agenda": "议程", "record": "咨询日记录", "followup": "跟踪问效"}[what]
        filename = f"{day.organiser}企业环保咨询日{name}-{day.day.isoformat()}.{fmt}"
    mime = ("application/vnd.openxmlformats-officedocument.wordprocessingml.document" if fmt == "docx"
            else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    from urllib.parse import quote

    resp = Response(data, mimetype=mime)
    resp.headers["Content-Disposition"] = (f"attachment; filename=\"consult-{what}-{day_id}.{fmt}\"; "
                                           f"filename*=UTF-8''{quote(filename)}")
    return resp
