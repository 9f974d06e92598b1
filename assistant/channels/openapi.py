"""OpenAPI 3.1 description of the public API (served at ``/api/v1/openapi.json``)."""

from __future__ import annotations

from typing import Any

_ERR = {"$ref": "#/components/schemas/Error"}


def _resp(desc: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"description": desc}
    if schema is not None:
        out["content"] = {"application/json": {"schema": schema}}
    return out


_ERRORS = {"400": _resp("输入不合法", _ERR), "404": _resp("不存在", _ERR), "413": _resp("请求体过大", _ERR),
           "429": _resp("请求过于频繁", _ERR)}

OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "环保咨询助手 公共接口", "version": "1.0.0",
             "description": "舟山市生态环境局企业环保咨询助手。回答均来自法规原文与本局整理的答复，附条文引用；不构成法律意见。"},
    "servers": [{"url": "/api/v1"}],
    "paths": {
        "/ask": {"post": {
            "summary": "提问", "operationId": "ask",
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["question"], "additionalProperties": True,
                "properties": {
                    "question": {"type": "string", "minLength": 1, "maxLength": 2000},
                    "session": {"type": "string", "maxLength": 64},
                    "district": {"type": "string", "maxLength": 50},
                    "enterprise": {"type": "string", "maxLength": 200},
                    "channel": {"type": "string", "enum": ["widget", "chat", "api"]},
                    "client_msg_id": {"type": "string", "maxLength": 100, "description":
                                      "客户端生成的消息编号（可选）：同一渠道内重发同一编号不会重复记录，返回同一回答"}}}}}},
            "responses": {"200": _resp("回答", {"$ref": "#/components/schemas/Answer"}), **_ERRORS}}},
        "/feedback": {"post": {
            "summary": "有帮助 / 没帮助", "operationId": "feedback",
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["question_id", "token", "helpful"],
                "properties": {"question_id": {"type": "integer", "minimum": 1},
                               "token": {"type": "string", "minLength": 1, "maxLength": 64},
                               "helpful": {"type": "boolean"},
                               "reason": {"type": "string", "maxLength": 500}}}}}},
            "responses": {"200": _resp("已记录", {"type": "object", "properties": {
                "ok": {"type": "boolean"}, "queued": {"type": "boolean"},
                "queue_item_id": {"type": ["integer", "null"]}}}), **_ERRORS}}},
        "/handoff": {"post": {
            "summary": "转人工留言", "operationId": "handoff",
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object",
                "properties": {
                    "question_id": {"type": "integer", "minimum": 1},
                    "token": {"type": "string", "maxLength": 64},
                    "question": {"type": "string", "maxLength": 2000},
                    "consent": {"type": "boolean", "description": "留下联系方式时必须为 true"},
                    "contact": {"type": "object", "properties": {
                        "name": {"type": "string", "maxLength": 50},
                        "company": {"type": "string", "maxLength": 200},
                        "uscc": {"type": "string", "description": "统一社会信用代码（18 位，校验位正确）"},
                        "phone": {"type": "string"}, "email": {"type": "string"}}}}}}}},
            "responses": {"201": _resp("已转交工作人员", {"type": "object", "properties": {
                "ok": {"type": "boolean"}, "question_id": {"type": "integer"}, "token": {"type": "string"},
                "queue_item_id": {"type": "integer"}}}), **_ERRORS}}},
        "/questions/{token}": {"get": {
            "summary": "查询问题处理状态", "operationId": "questionStatus",
            "parameters": [{"name": "token", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"200": _resp("状态", {"type": "object", "properties": {
                "question": {"type": "string"}, "status": {"type": "string",
                                                           "enum": ["pending", "answered", "answered_by_assistant"]},
                "answer": {"type": ["object", "null"]},
                "notices": {"type": "array", "description": "咨询日邀请、跟踪问效回访链接等通知",
                            "items": {"type": "object", "properties": {
                                "kind": {"type": "string", "enum": ["consult_invitation", "consult_followup"]},
                                "text": {"type": "string"}, "at": {"type": ["string", "null"]}}}}}}),
                **_ERRORS}}},
        "/suggestions": {"get": {"summary": "推荐问题", "operationId": "suggestions",
                                 "responses": {"200": _resp("推荐问题", {"type": "object"})}}},
        "/contact-rules": {"get": {"summary": "转人工联系方式的校验规则（与服务端一致）", "operationId": "contactRules",
                                   "responses": {"200": _resp("正则表达式与统一社会信用代码校验参数",
                                                              {"type": "object"})}}},
    },
    "components": {"schemas": {
        "Error": {"type": "object", "required": ["error_code", "message"],
                  "properties": {"error_code": {"type": "string"}, "message": {"type": "string"}}},
        "Citation": {"type": "object", "properties": {
            "id": {"type": "string", "description": "<文件标题>#<条号>"}, "title": {"type": "string"},
            "article": {"type": ["integer", "null"]}, "label": {"type": "string"}, "status": {"type": "string"},
            "kind": {"type": "string"}, "snippet": {"type": "string"},
            "highlights": {"type": "array", "items": {"type": "string"}}, "url": {"type": "string"}}},
        "Answer": {"type": "object", "properties": {
            "question_id": {"type": "integer"}, "token": {"type": "string"},
            "decision": {"type": "string", "enum": ["answer", "caution", "abstain"]},
            "confidence": {"type": "number"}, "curated": {"type": ["object", "null"]},
            "citations": {"type": "array", "items": {"$ref": "#/components/schemas/Citation"}},
            "related": {"type": "array"}, "notice": {"type": "string"}, "footer": {"type": "string"},
            "meta": {"type": "object"}}},
    }},
}
