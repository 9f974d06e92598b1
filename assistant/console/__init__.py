"""Staff console (``/console``): login, the question queue, answering and publishing, the curated corpus, accounts
and the audit log. Server-rendered (Jinja2, autoescaped); the workflows themselves live in
:mod:`assistant.queue.curation` — the views only parse forms, call them and render.

Security model:

* Flask-Login session on :class:`~assistant.db.models.StaffUser` (inactive users are logged out on their next
  request); the session is permanent for 8 hours and refreshed by every request.
* CSRF (Flask-WTF) on every state-changing console request, checked explicitly in the blueprint's
  ``before_request`` (the public API and any future webhook blueprints are not affected).
* Anonymous users are sent to the login page (GET) or refused with 401 (POST); viewers cannot POST anything but
  logout (403); item scope comes from ``can_view``/``can_edit`` (out of scope → 404, existence not revealed).
"""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask_login import LoginManager

from ..security import csrf
from .common import bp, load_user

login_manager = LoginManager()

# the views register themselves on ``bp``
from . import (  # noqa: E402,F401
    views_admin,
    views_auth,
    views_consult,
    views_corpus,
    views_dashboard,
    views_queue,
    views_updates,
)


def init_console(app: Flask) -> None:
    """Configure sessions, Flask-Login and CSRF, and register the console blueprint."""
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=8)
    app.config["SESSION_REFRESH_EACH_REQUEST"] = True
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config.setdefault("QUEUE_SLA_DAYS", 5)
    app.config.setdefault("CONSOLE_LOGIN_RATELIMIT", "10/minute")
    # a form may stay open as long as the session lasts
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", 8 * 3600)
    # CSRF is enforced by the console blueprint itself (see common._guard); other blueprints (the token-based
    # public API, channel webhooks) are not form-based and are not checked by default.
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.user_loader(load_user)
    login_manager.session_protection = "basic"
    app.register_blueprint(bp)


__all__ = ["bp", "csrf", "init_console", "login_manager"]
