"""Admin only: staff accounts and the audit log (read in words: :mod:`.audit_view`)."""

from __future__ import annotations

from typing import Any

from flask import flash, render_template, request
from sqlalchemy import func, select

from ..auth import DISTRICTS, ROLES, create_user
from ..db.models import AuditLog, StaffUser
from ..domain import audit
from ..errors import AuthError, WorkflowError
from ..queue.curation import UNITS
from .audit_view import ACTIONS, audit_row
from .common import actor, bp, fail, me, redirect_to, require_admin, svc

AUDIT_PAGE = 100


@bp.get("/users")
def users() -> Any:
    require_admin()
    with svc().Session() as s:
        rows = [{"id": u.id, "username": u.username, "display_name": u.display_name, "role": u.role,
                 "role_label": ROLES.get(u.role, u.role), "district": u.district, "unit": u.unit,
                 "active": u.active, "last_login": u.last_login, "locked_until": u.locked_until,
                 "created_at": u.created_at}
                for u in s.scalars(select(StaffUser).order_by(StaffUser.active.desc(), StaffUser.role,
                                                              StaffUser.username))]
    return render_template("console/users.html", rows=rows, units=UNITS, districts=DISTRICTS,
                           form=request.args)


@bp.post("/users")
def user_create() -> Any:
    require_admin()
    f = request.form
    username = (f.get("username") or "").strip()
    role, district = (f.get("role") or "").strip(), (f.get("district") or "").strip()
    unit, name = (f.get("unit") or "").strip()[:50], (f.get("display_name") or "").strip()[:100]
    with svc().Session() as s:
        try:
            u = create_user(s, username, f.get("password") or "", role, district=district, unit=unit,
                            display_name=name)
        except AuthError as e:
            raise WorkflowError(e.code, e.message) from None
        audit(s, actor(), "create_user", f"user:{u.username}", {},
              {"role": role, "district": district, "unit": unit, "display_name": u.display_name})
        s.commit()
    flash(f"已创建账号 {username}（{ROLES[role]}）", "ok")
    return redirect_to("console.users")


def _set_active(user_id: int, active: bool) -> Any:
    require_admin()
    with svc().Session() as s:
        u = s.get(StaffUser, user_id)
        if u is None:
            fail(404, "账号不存在")
        if u.id == me().id and not active:
            raise WorkflowError("self_deactivate", "不能停用自己的账号")
        before = {"active": u.active}
        u.active = active
        if active:
            u.failed_logins, u.locked_until = 0, None
        audit(s, actor(), "activate_user" if active else "deactivate_user", f"user:{u.username}", before,
              {"active": active})
        s.commit()
        flash(f"账号 {u.username} 已{'启用' if active else '停用'}", "ok")
    return redirect_to("console.users")


@bp.post("/users/<int:user_id>/deactivate")
def user_deactivate(user_id: int) -> Any:
    return _set_active(user_id, False)


@bp.post("/users/<int:user_id>/activate")
def user_activate(user_id: int) -> Any:
    return _set_active(user_id, True)


@bp.get("/audit")
def audit_log() -> Any:
    require_admin()
    who = request.args.get("user", "").strip()[:50]
    action = request.args.get("action", "").strip()[:50]
    target = request.args.get("target", "").strip()[:200]
    try:
        page = max(1, int(request.args.get("page", "1")))
    except ValueError:
        page = 1
    with svc().Session() as s:
        sel = select(AuditLog)
        if who:
            sel = sel.where(AuditLog.username == who)
        if action:
            sel = sel.where(AuditLog.action == action)
        if target:
            sel = sel.where(AuditLog.target.contains(target))
        total = s.scalar(select(func.count()).select_from(sel.subquery())) or 0
        rows = [audit_row(r) for r in
                s.scalars(sel.order_by(AuditLog.id.desc()).offset((page - 1) * AUDIT_PAGE).limit(AUDIT_PAGE))]
    return render_template("console/audit.html", rows=rows, actions=ACTIONS, page=page, total=total,
                           pages=max(1, -(-total // AUDIT_PAGE)), f={"user": who, "action": action,
                                                                      "target": target})
