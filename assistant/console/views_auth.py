"""Login and logout."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from ..auth import authenticate
from ..db.models import StaffUser
from ..domain import Actor, audit
from ..errors import AuthError
from ..security import limiter
from .common import ConsoleUser, bp, me, safe_next, svc


def _login_limit() -> str:
    return str(current_app.config.get("CONSOLE_LOGIN_RATELIMIT", "10/minute"))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login() -> Any:
    nxt = request.values.get("next", "")
    if safe_next(nxt) != nxt:  # never carry a foreign or script target into the form (it is refused anyway)
        nxt = ""
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(safe_next(nxt))
        return render_template("console/login.html", next=nxt, username="", error="")
    username = (request.form.get("username") or "").strip()[:50]
    password = request.form.get("password") or ""
    with svc().Session() as s:
        try:
            row: StaffUser = authenticate(s, username, password)
        except AuthError as e:
            return render_template("console/login.html", next=nxt, username=username, error=e.message), \
                (423 if e.code == "locked" else 401)
        user = ConsoleUser(row)
        audit(s, Actor(row.username, row.role, row.district, request.remote_addr or ""), "login",
              f"user:{row.username}")
        s.commit()
    session.clear()  # a fresh session (and CSRF token) for the new login
    login_user(user)
    session.permanent = True
    flash(f"欢迎，{user.display_name}", "ok")
    return redirect(safe_next(nxt))


@bp.post("/logout")
def logout() -> Any:
    name = me().display_name
    logout_user()
    session.clear()
    flash(f"{name}，您已退出登录", "ok")
    return redirect(url_for("console.login"))
