"""Public JSON API (minimal for now: ``POST /api/v1/ask``). Errors: ``{error_code, message}`` in Chinese."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request

from ..service import AssistantService, QuestionError

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def _svc() -> AssistantService:
    svc: AssistantService = current_app.extensions["assistant"]
    return svc


def _error(code: str, message: str, status: int) -> Any:
    return jsonify({"error_code": code, "message": message}), status


@bp.post("/ask")
def ask() -> Any:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return _error("invalid_json", "请求体应为 JSON 对象，例如 {\"question\": \"排污证能用几年？\"}", 400)
    q = data.get("question")
    if not isinstance(q, str):
        return _error("missing_question", "缺少 question 字段（字符串）", 400)
    try:
        out = _svc().ask(q, channel="api", session_id=str(data.get("session") or "")[:100],
                         district=str(data.get("district") or "")[:50],
                         enterprise=str(data.get("enterprise") or "")[:200])
    except QuestionError as exc:
        return _error(exc.code, exc.message, 400)
    body = out.answer.as_dict()
    body["question_id"] = out.question_id
    body["token"] = out.token
    return jsonify(body)
