"""Flask application factory: one app, blueprints per audience (public API now; console and WeChat later)."""

from __future__ import annotations

import secrets
from typing import Any

from flask import Flask, Response, jsonify, request
from markupsafe import escape
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from .config import Settings
from .errors import AppError
from .http import JSON_PATHS, error_json, wants_json
from .security import init_security
from .service import AssistantService

DB_UNAVAILABLE = {"error_code": "database_unavailable", "message": "数据库暂时无法连接，请稍后重试"}
DB_UNAVAILABLE_HTML = ("<!doctype html><html lang=zh-CN><meta charset=utf-8><title>服务暂时不可用</title>"
                       "<p>数据库暂时无法连接，请稍后重试。<a href=/chat>返回咨询页面</a></p></html>")


def is_database_outage(exc: BaseException) -> bool:
    """The database cannot be reached (refused, restarted, connection dropped, pool exhausted) — as opposed to a
    bad statement or a constraint violation, which stay errors of ours."""
    if isinstance(exc, OperationalError | InterfaceError | DisconnectionError | PoolTimeoutError):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def database_unavailable_response() -> Any:
    """503 in Chinese: JSON for the API and probes, a short page for everything else."""
    if wants_json(JSON_PATHS):
        resp = jsonify(DB_UNAVAILABLE)
        resp.status_code = 503
    else:
        resp = Response(DB_UNAVAILABLE_HTML, 503, mimetype="text/html")
    resp.headers["Retry-After"] = "5"
    return resp


#: errors Flask raises before any view runs, answered as JSON with a stable code and a Chinese message
HTTP_ERRORS = ((400, "bad_request", "请求格式不正确"), (405, "method_not_allowed", "不支持该请求方法"),
               (413, "payload_too_large", "请求体过大"), (429, "rate_limited", "请求过于频繁，请稍后再试。"))


def _json_error(status: int, code: str, message: str) -> Any:
    def handler(_e: Any) -> Any:
        return jsonify({"error_code": code, "message": message}), status
    return handler


def create_app(settings: Settings | None = None, service: AssistantService | None = None,
               start: bool = True) -> Flask:
    """Create the app; with ``start`` the database is migrated, the bundled corpus ingested when empty and the
    indexes loaded (vectors built in the background when missing)."""
    app = Flask(__name__, static_folder=None)
    app.config["JSON_AS_ASCII"] = False
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    svc = service or AssistantService(settings or Settings.from_env())
    app.extensions["assistant"] = svc
    app.config["SECRET_KEY"] = svc.settings.web.secret_key or secrets.token_hex(32)
    app.config["MAX_CONTENT_LENGTH"] = 256 * 1024
    init_security(app, svc.settings)
    if start:
        svc.migrate()
        svc.ensure_corpus()
        svc.load_indexes()
        svc.encode_sentences_later(svc.read_scans_later())
        if svc.settings.search.warm_up:
            svc.warm_up()

    from .channels.api import bp as api_bp
    from .channels.consult_web import bp as consult_web_bp
    from .channels.updates_web import bp as updates_bp
    from .channels.web import bp as web_bp
    from .channels.wechat.views import bp as wechat_bp
    from .console import csrf, init_console

    app.register_blueprint(api_bp)
    app.register_blueprint(web_bp)
    app.register_blueprint(updates_bp)  # /updates 政策速递 (public), /updates/feed.xml (Atom)
    app.register_blueprint(consult_web_bp)  # /consult registration, /followup/<token> 跟踪问效 (CSRF-checked forms)
    app.register_blueprint(wechat_bp)  # /wechat/<account>: WeChat Official Account webhook (signed by WeChat)
    init_console(app)  # staff console: Flask-Login, CSRF on its forms, /console blueprint
    csrf.exempt(api_bp)  # the public API is token-based (CORS), never cookie-authenticated
    csrf.exempt(wechat_bp)  # WeChat's servers post signed XML, never cookie-authenticated

    @app.before_request
    def refresh_indexes() -> None:
        # another worker may have published a curated answer: reload its index (throttled to once a second)
        svc.indexes.refresh()

    @app.get("/healthz")
    def healthz() -> Any:
        return jsonify({"status": "ok", **svc.status()})

    @app.get("/readyz")
    def readyz() -> Any:
        """For the load balancer: 200 only when the index is loaded and the database answers."""
        ok, message = svc.ready()
        body = {"status": "ready" if ok else "not_ready", "message": message}
        if not ok:
            body["error_code"] = "not_ready"
        return jsonify(body), 200 if ok else 503

    @app.errorhandler(404)
    def not_found(_e: Any) -> Any:
        if request.path.startswith("/api/"):
            return jsonify({"error_code": "not_found", "message": "请求的地址不存在"}), 404
        return Response("<!doctype html><html lang=zh-CN><meta charset=utf-8><title>页面不存在</title>"
                        "<p>页面不存在。<a href=/chat>返回咨询页面</a></p></html>", 404, mimetype="text/html")

    for status, code, message in HTTP_ERRORS:
        app.register_error_handler(status, _json_error(status, code, message))

    @app.errorhandler(AppError)
    def app_error(e: AppError) -> Any:
        """An AppError no blueprint answered itself: its status and message, as JSON or a short page."""
        if wants_json(JSON_PATHS):
            return error_json(e)
        return Response(f"<!doctype html><html lang=zh-CN><meta charset=utf-8><title>无法完成请求</title>"
                        f"<p>{escape(e.message)}</p><p><a href=/chat>返回咨询页面</a></p></html>", e.status,
                        mimetype="text/html")

    @app.errorhandler(SQLAlchemyError)
    def database_error(e: SQLAlchemyError) -> Any:
        if not is_database_outage(e):
            raise e  # a bug of ours: the usual 500 (logged) below
        # SQLAlchemy already invalidated a connection that died in use; the pool pre-pings (PostgreSQL) or opens
        # a new one (SQLite) at the next checkout, so the service recovers by itself once the database is back
        app.logger.warning("database unavailable on %s %s: %s", request.method, request.path,
                           str(e).splitlines()[0][:300])
        return database_unavailable_response()

    @app.errorhandler(500)
    def server_error(_e: Any) -> Any:
        return jsonify({"error_code": "internal_error", "message": "服务内部错误，您的问题已记录，请稍后重试"}), 500

    return app
