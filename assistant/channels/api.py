"""Public JSON API ``/api/v1``: ask, feedback, handoff, question status, suggestions, OpenAPI spec.

Controllers only parse and serialise; the service owns the workflow. Errors are JSON ``{error_code, message}``
with a Chinese message and a stable code; validation never reaches the service with bad input.
"""

from __future__ import annotations

from typing import Any, Literal

from flask import Blueprint, current_app, jsonify, request
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from ..errors import ApiError, AppError
from ..questions import MAX_QUESTION_CHARS
from ..security import limiter
from ..service import AssistantService
from ..text.contact import contact_rules, valid_email, valid_phone, valid_uscc
from ..updates import notices, subscriptions
from .openapi import OPENAPI

bp = Blueprint("api", __name__, url_prefix="/api/v1")

MAX_BODY = 32 * 1024
_FIELD_MESSAGES = {
    "question": "question 应为 1–2000 字的字符串",
    "question_id": "question_id 应为正整数",
    "token": "token 应为字符串",
    "helpful": "helpful 应为 true 或 false",
    "consent": "consent 应为 true 或 false",
    "reason": "reason 应为不超过 500 字的字符串",
    "session": "session 应为不超过 64 字的字符串",
    "district": "district 应为不超过 50 字的字符串",
    "enterprise": "enterprise 应为不超过 200 字的字符串",
    "channel": "channel 应为 widget、chat 或 api",
    "contact": "contact 应为对象",
    "client_msg_id": "client_msg_id 应为不超过 100 字的字符串",
    "suggestion_of": "suggestion_of 应为正整数（提出建议的那个问题的 question_id）",
    "standalone": "standalone 应为 true 或 false",
    "topics": "topics 应为主题名称，多个用空格分隔，例如 \"危废 排污许可\"",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, strict=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, v: Any) -> Any:
        # NUL never belongs in text and PostgreSQL refuses it in text columns (it was a 500 there)
        return v.replace("\x00", "").strip() if isinstance(v, str) else v


class AskIn(_Strict):
    question: str = Field(max_length=10_000)
    session: str = Field(default="", max_length=64)
    district: str = Field(default="", max_length=50)
    enterprise: str = Field(default="", max_length=200)
    channel: Literal["widget", "chat", "api"] = "api"
    #: the client's id of this message: a retry with the same id (same channel) is stored and answered once
    client_msg_id: str = Field(default="", max_length=100)
    #: the question whose "您是不是想问" suggestion this question takes (its question_id)
    suggestion_of: int | None = Field(default=None, gt=0)
    #: answer this question on its own, without the conversation ("单独提问")
    standalone: bool = False


class FeedbackIn(_Strict):
    question_id: int = Field(gt=0)
    token: str = Field(min_length=1, max_length=64)
    helpful: bool
    reason: str = Field(default="", max_length=500)


_CONTACT_CHECKS = {
    "phone": (valid_phone, "invalid_phone", "电话号码格式不正确（手机 11 位，或带区号的固定电话）"),
    "email": (valid_email, "invalid_email", "电子邮箱格式不正确"),
}


class ContactIn(_Strict):
    name: str = Field(default="", max_length=50)
    company: str = Field(default="", max_length=200)
    uscc: str = Field(default="", max_length=18)
    phone: str = Field(default="", max_length=30)
    email: str = Field(default="", max_length=200)

    @field_validator("uscc")
    @classmethod
    def _uscc(cls, v: str) -> str:
        if v and not valid_uscc(v):
            raise ApiError("invalid_uscc", "统一社会信用代码无效（应为 18 位且校验位正确）")
        return v.upper()

    @field_validator("phone", "email")
    @classmethod
    def _reachable(cls, v: str, info: ValidationInfo) -> str:
        valid, code, message = _CONTACT_CHECKS[str(info.field_name)]
        if v and not valid(v):
            raise ApiError(code, message)
        return v


class HandoffIn(_Strict):
    question_id: int | None = Field(default=None, gt=0)
    token: str = Field(default="", max_length=64)
    question: str = Field(default="", max_length=10_000)
    consent: bool = False
    contact: ContactIn | None = None
    session: str = Field(default="", max_length=64)
    district: str = Field(default="", max_length=50)
    channel: Literal["widget", "chat", "api"] = "api"


class SubscribeIn(_Strict):
    session: str = Field(min_length=8, max_length=64)
    topics: str = Field(default="", max_length=200)


def _svc() -> AssistantService:
    svc: AssistantService = current_app.extensions["assistant"]
    return svc


def _parse(model: type[_Strict]) -> Any:
    if request.content_length and request.content_length > MAX_BODY:
        raise ApiError("payload_too_large", "请求体过大", 413)
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError("invalid_json", "请求体应为 JSON 对象，例如 {\"question\": \"排污证能用几年？\"}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        ctx_err = (err.get("ctx") or {}).get("error")
        if isinstance(ctx_err, ApiError):
            raise ctx_err from None
        loc = [str(x) for x in err.get("loc", ())]
        field = loc[0] if loc else ""
        if err.get("type") == "missing":
            raise ApiError(f"missing_{field}", f"缺少必填字段 {field}") from None
        raise ApiError(f"invalid_{field or 'input'}", _FIELD_MESSAGES.get(field, f"字段 {field} 不合法")) from None


def _check_question(text: str) -> None:
    if not text:
        raise ApiError("empty_question", "问题不能为空，请输入您要咨询的内容。")
    if len(text) > MAX_QUESTION_CHARS:
        raise ApiError("question_too_long", f"问题过长（{len(text)} 字），请控制在 {MAX_QUESTION_CHARS} 字以内。")


@bp.errorhandler(AppError)
def _app_error(e: AppError) -> Any:
    return jsonify(e.to_json()), e.status


@bp.post("/ask")
@limiter.limit(lambda: _svc().settings.web.ratelimit_ask)
def ask() -> Any:
    body: AskIn = _parse(AskIn)
    _check_question(body.question)
    out = _svc().ask(body.question, channel=body.channel, session_id=body.session, district=body.district,
                     enterprise=body.enterprise, client_msg_id=body.client_msg_id or None,
                     suggestion_of=body.suggestion_of, standalone=body.standalone)
    data = out.answer.as_dict()
    data["question_id"] = out.question_id
    data["token"] = out.token
    return jsonify(data)


@bp.post("/feedback")
@limiter.limit(lambda: _svc().settings.web.ratelimit_write)
def feedback() -> Any:
    body: FeedbackIn = _parse(FeedbackIn)
    return jsonify(_svc().questions.feedback(body.question_id, body.token, body.helpful, body.reason))


@bp.post("/handoff")
@limiter.limit(lambda: _svc().settings.web.ratelimit_write)
def handoff() -> Any:
    body: HandoffIn = _parse(HandoffIn)
    if not body.token:
        _check_question(body.question)
    contact = body.contact.model_dump() if body.contact else {}
    out = _svc().questions.handoff(body.question or None, body.question_id, body.token or None, contact, body.consent,
                         channel=body.channel, session_id=body.session, district=body.district)
    return jsonify(out), 201


@bp.get("/questions/<token>")
@limiter.limit("60/minute")
def question_status(token: str) -> Any:
    if not token or len(token) > 64:
        raise ApiError("question_not_found", "找不到该问题，请检查查询凭证。", 404)
    return jsonify(_svc().questions.status(token))


@bp.get("/suggestions")
def suggestions() -> Any:
    return jsonify({"questions": _svc().questions.suggestions()})


@bp.get("/contact-rules")
def contact_rules_view() -> Any:
    """The contact validation rules of the handoff form (one source for server and chat page)."""
    return jsonify(contact_rules())


def _session_arg() -> str:
    sid = (request.args.get("session") or "").strip()
    if not 8 <= len(sid) <= 64 or "\x00" in sid:
        raise ApiError("invalid_session", "session 应为 8–64 字的会话标识")
    return sid


@bp.get("/topics")
def topics() -> Any:
    """The topics one can subscribe to (政策速递)."""
    with _svc().Session() as s:
        return jsonify({"topics": subscriptions.topics(s)})


@bp.get("/subscriptions")
@limiter.limit("60/minute")
def subscriptions_view() -> Any:
    sid = _session_arg()
    with _svc().Session() as s:
        return jsonify({"subscribed": subscriptions.subscribed(s, "web", sid), "topics": subscriptions.topics(s)})


@bp.post("/subscriptions")
@limiter.limit(lambda: _svc().settings.web.ratelimit_write)
def subscribe() -> Any:
    body: SubscribeIn = _parse(SubscribeIn)
    if not body.topics:
        raise ApiError("missing_topics", "请写明要订阅的主题，例如“危废”")
    with _svc().Session() as s:
        names = subscriptions.resolve(s, body.topics)
        return jsonify({"subscribed": subscriptions.subscribe(s, "web", body.session, names), "added": names})


@bp.post("/subscriptions/cancel")
@limiter.limit(lambda: _svc().settings.web.ratelimit_write)
def unsubscribe() -> Any:
    body: SubscribeIn = _parse(SubscribeIn)
    with _svc().Session() as s:
        names = subscriptions.resolve(s, body.topics) if body.topics else None
        return jsonify({"subscribed": subscriptions.unsubscribe(s, "web", body.session, names)})


@bp.get("/notices")
@limiter.limit("60/minute")
def notices_view() -> Any:
    """政策速递 notices sent to this web conversation (its session id), newest first."""
    sid = _session_arg()
    with _svc().Session() as s:
        return jsonify({"notices": notices.notices_for_session(s, sid)})


@bp.get("/openapi.json")
def openapi() -> Any:
    return jsonify(OPENAPI)
