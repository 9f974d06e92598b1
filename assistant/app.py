"""Flask application factory: one app, blueprints per audience (public API now; console and WeChat later)."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify

from .config import Settings
from .service import AssistantService


def create_app(settings: Settings | None = None, service: AssistantService | None = None,
               start: bool = True) -> Flask:
    """Create the app; with ``start`` the database is migrated, the bundled corpus ingested when empty and the
    indexes loaded (vectors built in the background when missing)."""
    app = Flask(__name__, static_folder=None)
    app.config["JSON_AS_ASCII"] = False
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    svc = service or AssistantService(settings or Settings.from_env())
    app.extensions["assistant"] = svc
    if start:
        svc.migrate()
        svc.ensure_corpus()
        svc.load_indexes()

    from .channels.api import bp as api_bp

    app.register_blueprint(api_bp)

    @app.get("/healthz")
    def healthz() -> Any:
        return jsonify({"status": "ok", **svc.status()})

    @app.errorhandler(404)
    def not_found(_e: Any) -> Any:
        return jsonify({"error_code": "not_found", "message": "请求的地址不存在"}), 404

    @app.errorhandler(405)
    def bad_method(_e: Any) -> Any:
        return jsonify({"error_code": "method_not_allowed", "message": "不支持该请求方法"}), 405

    @app.errorhandler(500)
    def server_error(_e: Any) -> Any:
        return jsonify({"error_code": "internal_error", "message": "服务内部错误，您的问题已记录，请稍后重试"}), 500

    return app
