"""Public pages of the consultation day: registration (``/consult``), 咨询进展查询 with the 查询凭证 the registration
gives (``/consult/status``) and the 跟踪问效 link (``/followup/<token>``).

Server-rendered forms (they work without JavaScript, on phones inside WeChat), CSRF-protected (Flask-WTF token in a
session cookie), rate-limited like the API's write endpoints. Errors are shown in Chinese on the page with a status
code (400 bad input, 404 unknown link, 409 already answered, 410 expired); nothing half-stored.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, current_app, render_template, request
from flask_wtf.csrf import CSRFError, generate_csrf

from ..consult.agenda import today_cst
from ..consult.outcomes import SOLVED, followup_for, submit_followup
from ..consult.people import MAX_QUESTIONS, open_days, register
from ..db.models import ConsultationDay
from ..domain import CHINA_TZ
from ..errors import AppError, WorkflowError
from ..security import csp_nonce, csrf, limiter
from ..service import AssistantService

bp = Blueprint("consult_web", __name__)


def _svc() -> AssistantService:
    svc: AssistantService = current_app.extensions["assistant"]
    return svc


def _ctx(**kw: Any) -> dict[str, Any]:
    return {"csp_nonce": csp_nonce(), "csrf_token": generate_csrf, **kw}


def _days() -> list[dict[str, Any]]:
    with _svc().Session() as s:
        return [{"id": d.id, "organiser": d.organiser, "date": d.day, "time": d.time_text, "place": d.place,
                 "topics": list(d.topics or [])} for d in open_days(s, today_cst())]


@bp.errorhandler(CSRFError)
def _csrf(_e: CSRFError) -> Any:
    return render_template("consult.html", **_ctx(days=_days(), form={}, max_q=MAX_QUESTIONS,
                                                  error="页面已过期，请刷新后重新提交")), 400


@bp.get("/consult")
def consult_page() -> Any:
    return render_template("consult.html", **_ctx(days=_days(), form={}, max_q=MAX_QUESTIONS))


@bp.post("/consult/register")
@limiter.limit(lambda: _svc().settings.web.ratelimit_write)
def consult_register() -> Any:
    csrf.protect()
    f = request.form
    form = {k: (f.get(k) or "").strip()[:1000] for k in ("day_id", "company", "uscc", "contact", "phone")}
    questions = [q for q in f.getlist("question") if q.strip()]
    form["questions"] = questions  # type: ignore[assignment]
    try:
        day_id = int(form["day_id"]) if form["day_id"].isdigit() else -1
        reg = register(_svc().session, _svc().clusterer, day_id, form["company"], form["contact"], form["phone"], questions,
                       uscc=form["uscc"], consent=f.get("consent") == "1")
    except WorkflowError as e:
        return render_template("consult.html", **_ctx(days=_days(), form=form, max_q=MAX_QUESTIONS,
                                                      error=e.message, error_code=e.code)), 400
    with _svc().Session() as s:
        day = s.get(ConsultationDay, reg.participant.day_id)
        assert day is not None
        info = {"organiser": day.organiser, "date": day.day, "time": day.time_text, "place": day.place}
    return render_template("consult_done.html", **_ctx(day=info, company=reg.participant.company,
                                                       tokens=reg.tokens, questions=questions))


def _beijing(iso: str | None) -> str:
    """An ISO timestamp from the status (UTC; naive on SQLite) as Beijing time, 2026-12-03 13:05."""
    if not iso:
        return ""
    try:
        dt = datetime.fromisoformat(iso)
    except ValueError:
        return ""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M")


@bp.get("/consult/status")
@limiter.limit("60/minute")
def consult_status() -> Any:
    """咨询进展查询: the 查询凭证 given at registration (any question token works) → the question, the staff answer
    once there is one, and the notices for the asker (consultation-day invitations)."""
    token = (request.args.get("token") or "").strip()[:100]
    if not token:
        return render_template("consult_status.html", **_ctx(token=""))
    try:
        st = _svc().questions.status(token)
    except AppError as e:
        return render_template("consult_status.html", **_ctx(token=token, error=e.message, error_code=e.code)), \
            e.status
    answer = st.get("answer") or None
    data = {"question": st["question"], "asked_at": _beijing(st.get("asked_at")), "status": st["status"],
            "answer": answer["text"] if answer else "", "answered_at": _beijing(answer.get("answered_at"))
            if answer else "", "notices": [n["text"] for n in st.get("notices") or [] if n.get("text")]}
    return render_template("consult_status.html", **_ctx(token=token, data=data))


@bp.get("/followup/<token>")
def followup_page(token: str) -> Any:
    try:
        data = followup_for(_svc().session, token)
    except WorkflowError as e:
        return render_template("followup.html", **_ctx(error=e.message, error_code=e.code)), e.status
    return render_template("followup.html", **_ctx(data=data, token=token, SOLVED=SOLVED, form={}))


@bp.post("/followup/<token>")
@limiter.limit(lambda: _svc().settings.web.ratelimit_write)
def followup_submit(token: str) -> Any:
    csrf.protect()
    raw = (request.form.get("score") or "").strip()
    score = int(raw) if raw.isdigit() else None
    form = {"solved": request.form.get("solved") or "", "score": raw,
            "comment": (request.form.get("comment") or "")[:1000]}
    try:
        submit_followup(_svc().session, token, form["solved"], score, form["comment"])
    except WorkflowError as e:
        if e.code.startswith("followup_"):  # the link itself is unusable: no form to show again
            return render_template("followup.html", **_ctx(error=e.message, error_code=e.code)), e.status
        data = followup_for(_svc().session, token)
        return render_template("followup.html", **_ctx(data=data, token=token, SOLVED=SOLVED, form=form,
                                                       error=e.message, error_code=e.code)), 400
    return render_template("followup.html", **_ctx(done=True, solved=form["solved"]))
