"""The console blueprint, the logged-in user, the request guard, error pages and template helpers."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

from flask import Blueprint, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import UserMixin, current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as WzResponse

from ..auth import DISTRICTS, ROLES
from ..db.models import StaffUser
from ..domain import CHINA_TZ, Actor
from ..errors import WorkflowError
from ..http import error_json, wants_json
from ..queue.curation import CLOSE_REASONS, STATUSES, UNITS
from ..security import csp_nonce
from ..service import AssistantService

log = logging.getLogger(__name__)
WEB = Path(__file__).resolve().parents[2] / "web"
bp = Blueprint("console", __name__, url_prefix="/console", template_folder=str(WEB / "templates"),
               static_folder=str(WEB / "static" / "console"), static_url_path="/static")

#: endpoints an anonymous user may reach
PUBLIC_ENDPOINTS = {"console.login", "console.static"}
#: POST endpoints a viewer may use
VIEWER_POSTS = {"console.logout"}
CURATED_STATUSES = {"draft": "草稿", "published": "已发布", "retired": "已停用"}
#: the error code of a refusal that is not raised as an AppError (guards, HTTP errors)
GUARD_CODES = {400: "bad_request", 401: "login_required", 403: "forbidden", 404: "not_found", 429: "rate_limited"}


class ConsoleUser(UserMixin):
    """The logged-in staff member (a detached snapshot of the StaffUser row, reloaded every request)."""

    def __init__(self, row: StaffUser) -> None:
        self.id = row.id
        self.username = row.username
        self.role = row.role
        self.district = row.district or ""
        self.unit = row.unit or ""
        self.display_name = row.display_name or row.username
        self._active = bool(row.active)

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return self._active

    @property
    def role_label(self) -> str:
        return ROLES.get(self.role, self.role)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def actor(self) -> Actor:
        return Actor(self.username, self.role, self.district, request.remote_addr or "")


def svc() -> AssistantService:
    s: AssistantService = current_app.extensions["assistant"]
    return s


def load_user(user_id: str) -> ConsoleUser | None:
    """Flask-Login user loader: inactive (deactivated) accounts get no session."""
    try:
        uid = int(user_id)
    except (TypeError, ValueError):
        return None
    with svc().Session() as s:
        row = s.get(StaffUser, uid)
        if row is None or not row.active:
            return None
        return ConsoleUser(row)


def me() -> ConsoleUser:
    u: ConsoleUser = current_user._get_current_object()  # type: ignore[attr-defined]
    return u


def actor() -> Actor:
    return me().actor()


def error_response(status: int, message: str, code: str = "") -> Any:
    code = code or GUARD_CODES.get(status, "error")
    if wants_json():
        return jsonify({"error_code": code, "message": message}), status
    return render_template("console/error.html", status=status, message=message), status


def fail(status: int, message: str) -> NoReturn:
    """Stop the request with a console error page (or JSON for XHR)."""
    from flask import abort, make_response

    abort(make_response(error_response(status, message)))


def require_admin() -> None:
    if not me().is_admin:
        fail(403, "仅市局管理员可以访问该页面")


@bp.before_request
def _guard() -> Any:
    """Authentication first (401/redirect), then CSRF (400), then the viewer's read-only rule (403)."""
    endpoint = request.endpoint or ""
    if endpoint not in PUBLIC_ENDPOINTS and not current_user.is_authenticated:
        if request.method in ("GET", "HEAD") and not wants_json():
            return redirect(url_for("console.login", next=request.full_path.rstrip("?")))
        return error_response(401, "请先登录工作台")
    if request.method not in ("GET", "HEAD", "OPTIONS") and current_app.config.get("WTF_CSRF_ENABLED", True):
        from . import csrf

        csrf.protect()
    if endpoint not in PUBLIC_ENDPOINTS and request.method == "POST" and me().role == "viewer" \
            and endpoint not in VIEWER_POSTS:
        return error_response(403, "只读账号不能进行该操作")
    return None


@bp.context_processor
def _context() -> dict[str, Any]:
    user = current_user if current_user.is_authenticated else None
    return {"csp_nonce": csp_nonce(), "me": user, "ROLES": ROLES, "STATUSES": STATUSES, "UNITS": UNITS,
            "DISTRICTS": DISTRICTS, "CLOSE_REASONS": CLOSE_REASONS, "CURATED_STATUSES": CURATED_STATUSES,
            "static": lambda f: url_for("console.static", filename=f)}


@bp.app_template_filter("console_dt")
def _dt(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored (UTC) timestamp in Beijing time."""
    if value is None:
        return "—"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(CHINA_TZ).strftime(fmt)


@bp.app_template_filter("console_json")
def _json(value: Any) -> str:
    """Pretty JSON as text (autoescaped by the template like any other string)."""
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True, default=str)


# -- errors ------------------------------------------------------------------------------------------------------
@bp.errorhandler(WorkflowError)
def _workflow_error(e: WorkflowError) -> Any:
    if e.status in (403, 404):  # out of the user's scope: an error page, not a flash on the page they came from
        return error_response(e.status, e.message, e.code)
    if wants_json():
        return error_json(e)
    flash(e.message, "error")
    return redirect(back_url())


@bp.errorhandler(CSRFError)
def _csrf_error(_e: CSRFError) -> Any:
    return error_response(400, "页面已过期或表单校验失败（CSRF），请刷新页面后重试", "csrf_failed")


@bp.errorhandler(429)
def _rate_limited(_e: Any) -> Any:
    return error_response(429, "请求过于频繁，请稍后再试")


@bp.errorhandler(404)
def _not_found(_e: Any) -> Any:
    return error_response(404, "页面不存在或不在您的权限范围内")


@bp.errorhandler(403)
def _forbidden(_e: Any) -> Any:
    return error_response(403, "您没有执行该操作的权限")


@bp.errorhandler(500)
def _server_error(_e: Any) -> Any:
    return error_response(500, "服务内部错误，请稍后重试", "internal_error")


@bp.errorhandler(HTTPException)
def _http_error(e: HTTPException) -> Any:
    if e.response is not None:
        return e.response
    return error_response(e.code or 500, e.description or "请求无法处理")


def back_url() -> str:
    """Where to send the user after a failed action: the item (or curated entry) page, else the queue."""
    args = request.view_args or {}
    if "item_id" in args:
        return url_for("console.item", item_id=args["item_id"])
    if "day_id" in args:
        return url_for("console.consult_day", day_id=args["day_id"])
    if "curated_id" in args:
        return url_for("console.curated_edit", curated_id=args["curated_id"])
    if request.endpoint and request.endpoint.startswith("console.user"):
        return url_for("console.users")
    return url_for("console.queue")


def safe_next(target: str | None) -> str:
    """Only local console paths (no open redirect)."""
    if target and target.startswith("/console") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("console.queue")


def redirect_to(endpoint: str, **kw: Any) -> WzResponse:
    return redirect(url_for(endpoint, **kw))
