"""OpenAPI 3.1 description of the public API (served at ``/api/v1/openapi.json``)."""

from __future__ import annotations

from typing import Any

_ERR = {"$ref": "#/components/schemas/Error"}


def _resp(desc: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"description": desc}
    if schema is not None:
        out["content"] = {"application/json": {"schema": schema}}
    return out


_KINDS = ["法律", "行政法规", "部门规章", "地方性法规", "司法解释", "规范性文件", "标准", "名录", "官方答复"]
_CITATION = ("一张引用卡片：同一文件被检索到的多个片段（条、款、表、名录行）合为一张卡片，各片段见 parts；"
             "id、title、article、status、kind、snippet、highlights、score 与未分组时含义相同（取第一个片段）。")

_ERRORS = {"400": _resp("输入不合法", _ERR), "404": _resp("不存在", _ERR), "413": _resp("请求体过大", _ERR),
           "429": _resp("请求过于频繁", _ERR)}

_SESSION_PARAM = {"name": "session", "in": "query", "required": True,
                  "schema": {"type": "string", "minLength": 8, "maxLength": 64}, "description": "会话标识（与 /ask 的 session 相同）"}
_SUBSCRIBE = {"type": "object", "required": ["session"], "properties": {
    "session": {"type": "string", "minLength": 8, "maxLength": 64},
    "topics": {"type": "string", "maxLength": 200, "description": "主题名称或常用简称，空格分隔：危废 排污证 环保税"}}}

_REVISED = {"type": ["object", "null"], "description": "政策速递记录到本条文有变化时：kind（修订/文本更正/废止/替代）、"
                                                    "label（新版本日期）、url（/updates/<id> 修改对照）、recorded（新文本导入日）；"
                                                    "界面显示“本条已修订”",
            "properties": {"kind": {"type": "string"}, "label": {"type": "string"}, "url": {"type": "string"},
                           "recorded": {"type": "string"}}}

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
                    "session": {"type": "string", "maxLength": 64, "description":
                                "会话编号（浏览器会话）：同一会话 30 分钟内的追问（如“那罚多少？”）结合上一个问题回答"},
                    "district": {"type": "string", "maxLength": 50},
                    "enterprise": {"type": "string", "maxLength": 200},
                    "channel": {"type": "string", "enum": ["widget", "chat", "api"]},
                    "client_msg_id": {"type": "string", "maxLength": 100, "description":
                                      "客户端生成的消息编号（可选）：同一渠道内重发同一编号不会重复记录，返回同一回答"},
                    "suggestion_of": {"type": "integer", "minimum": 1, "description":
                                      "点选“您是不是想问”建议提问时：提出该建议的回答的 question_id（记录建议被采纳）"},
                    "standalone": {"type": "boolean", "default": False, "description":
                                   "true：不结合本会话此前的消息，单独回答这个问题（界面中“结合您上一个问题”旁的"
                                   "“单独提问”；回答的 meta.context 为 {\"used\": false, \"standalone\": true}）"}}}}}},
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
                "notices": {"type": "array", "description": "咨询日邀请、跟踪问效回访链接、政策速递（所依据条文有变化）等通知",
                            "items": {"type": "object", "properties": {
                                "kind": {"type": "string", "enum": ["consult_invitation", "consult_followup",
                                                                     "policy_change"]},
                                "text": {"type": "string"}, "at": {"type": ["string", "null"]}}}}}}),
                **_ERRORS}}},
        "/suggestions": {"get": {"summary": "推荐问题", "operationId": "suggestions",
                                 "responses": {"200": _resp("推荐问题", {"type": "object"})}}},
        "/topics": {"get": {"summary": "可订阅的政策速递主题（精选问答的分类）", "operationId": "topics",
                            "responses": {"200": _resp("主题", {"type": "object", "properties": {
                                "topics": {"type": "array", "items": {"type": "string"}}}})}}},
        "/subscriptions": {
            "get": {"summary": "本会话订阅的主题", "operationId": "subscriptions",
                    "parameters": [_SESSION_PARAM],
                    "responses": {"200": _resp("已订阅主题与可订阅主题", {"type": "object", "properties": {
                        "subscribed": {"type": "array", "items": {"type": "string"}},
                        "topics": {"type": "array", "items": {"type": "string"}}}}), **_ERRORS}},
            "post": {"summary": "订阅主题：相关法规、标准变化时在本会话收到政策速递通知", "operationId": "subscribe",
                     "requestBody": {"required": True, "content": {"application/json": {"schema": _SUBSCRIBE}}},
                     "responses": {"200": _resp("订阅后的主题", {"type": "object"}), **_ERRORS}}},
        "/subscriptions/cancel": {"post": {
            "summary": "退订（topics 为空时退订全部）", "operationId": "unsubscribe",
            "requestBody": {"required": True, "content": {"application/json": {"schema": _SUBSCRIBE}}},
            "responses": {"200": _resp("仍订阅的主题", {"type": "object"}), **_ERRORS}}},
        "/notices": {"get": {
            "summary": "发给本会话的政策速递通知（新的在前）", "operationId": "notices", "parameters": [_SESSION_PARAM],
            "responses": {"200": _resp("通知", {"type": "object", "properties": {"notices": {
                "type": "array", "items": {"type": "object", "properties": {
                    "id": {"type": "integer"}, "change_id": {"type": "integer"}, "title": {"type": "string"},
                    "kind": {"type": "string", "enum": ["修订", "文本更正", "废止", "替代"]},
                    "url": {"type": "string"}, "text": {"type": "string"}, "sent_at": {"type": "string"}}}}}}),
                **_ERRORS}}},
        "/contact-rules": {"get": {"summary": "转人工联系方式的校验规则（与服务端一致）", "operationId": "contactRules",
                                   "responses": {"200": _resp("正则表达式与统一社会信用代码校验参数",
                                                              {"type": "object"})}}},
    },
    "components": {"schemas": {
        "Error": {"type": "object", "required": ["error_code", "message"],
                  "properties": {"error_code": {"type": "string"}, "message": {"type": "string"}}},
        "Citation": {"type": "object", "description": _CITATION, "properties": {
            "id": {"type": "string", "description": "第一个（最相关的）片段：<文件标题>#<位置键>，如 排污许可管理条例#14、"
                                                    "GB 37822-2019 挥发性有机物无组织排放控制标准#5.2.1、…#表1、"
                                                    "国家危险废物名录（2021年版）#row-900-041-49"},
            "title": {"type": "string", "description": "文件标题；部长信箱答复为来信主题（不含信箱内部编号）"},
            "article": {"type": ["integer", "null"], "description": "第一个片段的条号（法规条文；标准、名录为 null）"},
            "label": {"type": "string", "description": "显示名称，列出本卡片的全部位置，如《排污许可管理条例》第十四条、"
                                                       "《GB 37822-2019 挥发性有机物无组织排放控制标准》5.2.1、表1、"
                                                       "部长信箱答复：关于…的回复"},
            "status": {"type": "string", "description": "文件效力：现行有效、已修改、已废止"},
            "kind": {"type": "string", "examples": _KINDS,
                     "description": "文件类别：法律、行政法规……标准、名录；官方答复 = 生态环境部部长信箱答复"},
            "section": {"type": "string", "enum": ["regulation", "reply"],
                        "description": "regulation = 法规条文（含标准、名录）；reply = 部长信箱答复（单独成组显示）"},
            "part": {"type": "string", "description": "第一个片段在文件中的位置：第十四条、5.2.1、表1、附录A、"
                                                      "废物代码900-041-49、第12项；无法确定时为空"},
            "snippet": {"type": "string"}, "highlights": {"type": "array", "items": {"type": "string"}},
            "score": {"type": ["number", "null"]},
            "answer_sentence": {"type": "string", "description": "无精选答复时：该条文中回答问题的句子（加粗先显示）；"
                                                                "列举项（如“（一）…”）前附引出该列举的句子（以“……”"
                                                                "连接）；条文只有一句或无从判断时为空"},
            "url": {"type": "string", "description": "原文页面（/doc/<id>），高亮第一个片段"},
            "revised": _REVISED,
            "dates": {"type": "string", "description": "标准的发布、实施日期，如“1996-10-04 发布，1998-01-01 实施”；其他文件为空"},
            "ocr": {"type": "boolean", "description": "标准文本由扫描件 OCR 识别（数字可能有误，卡片上会提示以正式文本为准）"},
            "ocr_confidence": {"type": ["number", "null"], "description": "OCR 识别的平均置信度（0–1），非扫描件为 null"},
            "parts": {"type": "array", "minItems": 1, "description": "本卡片引用的同一文件的全部片段，第一个即卡片本身",
                      "items": {"$ref": "#/components/schemas/CitationPart"}}}},
        "CitationPart": {"type": "object", "properties": {
            "id": {"type": "string"}, "article": {"type": ["integer", "null"]}, "part": {"type": "string"},
            "label": {"type": "string", "description": "该片段的显示名称，如《…》表1"},
            "url": {"type": "string", "description": "原文页面（/doc/<id>），高亮该片段"},
            "snippet": {"type": "string"}, "highlights": {"type": "array", "items": {"type": "string"}},
            "score": {"type": ["number", "null"]}, "revised": _REVISED,
            "limit": {"type": ["object", "null"], "description": "标准限值表的一行（id 形如 …#表4·14）：表号、表题、单位与"
                                                                "各列取值，界面显示为小表格；其他片段为 null",
                      "properties": {"table": {"type": "string"}, "caption": {"type": "string"},
                                     "unit": {"type": "string"},
                                     "cells": {"type": "array", "description": "[[列名, 取值], …]",
                                               "items": {"type": "array", "items": {"type": "string"}}}}}}},
        "Answer": {"type": "object", "properties": {
            "question_id": {"type": "integer"}, "token": {"type": "string"},
            "decision": {"type": "string", "enum": ["answer", "caution", "abstain"]},
            "confidence": {"type": "number"}, "curated": {"type": ["object", "null"], "description":
                "精选答复：id、question、answer、answer_html、category、lead_unit、kind、citations、confidence、"
                "reviewed（最近复核日期）"},
            "citations": {"type": "array", "items": {"$ref": "#/components/schemas/Citation"}, "description":
                          "有精选答复时：仅为该答复经工作人员核对的引用（依据）；无精选答复时：检索到的条文"},
            "related_articles": {"type": "array", "items": {"$ref": "#/components/schemas/Citation"}, "description":
                                 "仅在有精选答复时：检索到、但该答复未引用的条文（其他可能相关的条文，未经核对，"
                                 "界面中默认折叠）；绝不作为依据。无精选答复时为空"},
            "related": {"type": "array"}, "notice": {"type": "string"}, "footer": {"type": "string"},
            "suggestion": {"type": ["object", "null"], "description": "您是不是想问：未达到显示阈值但接近的精选问答，"
                                                                     "或长信（80 字以上）匹配到的精选问答（长信先给出检索到的条文）；"
                                                                     "点选后以其问题提问并带 suggestion_of；"
                                                                     "不再重复出现在 related 中",
                           "properties": {"id": {"type": "string"}, "question": {"type": "string"}}},
            "meta": {"type": "object", "properties": {
                "context": {"type": "object", "description": "是否结合了本会话此前的消息：{\"used\": true, \"turn\": "
                                                             "\"上一个问题\", \"turns\": [\"检索时结合的各条消息（从早到晚）\"], "
                                                             "\"shown\": [\"界面中对各条消息的称呼：长信取其提问句\"]}"
                                                             "（界面显示“结合您上一个问题：…”，结合多条消息时显示“结合您"
                                                             "前面的消息：… / …”）或 {\"used\": false}",
                            "properties": {"used": {"type": "boolean"}, "turn": {"type": "string"},
                                           "turns": {"type": "array", "items": {"type": "string"}},
                                           "shown": {"type": "array", "items": {"type": "string"}}}},
                "searched": {"type": "string", "description": "实际检索的文本（追问时含此前的对话）"},
                "carries": {"type": "string", "description": "本轮交给下一个追问的对话上下文（未提问的陈述会带上此前"
                                                             "说明的情况）"},
                "carried_turns": {"type": "array", "items": {"type": "string"},
                                  "description": "carries 所含的用户消息（从早到晚）"},
                "entries": {"type": "array", "items": {"type": "string"},
                            "description": "本会话（结合上下文阅读的各轮）已给出或建议过的人工答复 id：追问另有所问时不再重复给出"},
                "courtesy": {"type": "boolean", "description": "“好的/谢谢”等致谢：只回复“不客气”，不检索、不转人工"},
                "tells": {"type": "boolean", "description": "只介绍情况、未提问且未找到依据：请用户接着说明问题（已转人工；"
                                                            "随后结合它提出的问题会将其从待办中撤出）"},
                "retrieval_mode": {"type": "string", "enum": ["hybrid", "bm25"]},
                "ranking": {"type": "string", "enum": ["learned", "fusion"],
                            "description": "排列条文的方式：learned = 排序模型；fusion = 分数融合（未加载模型，或询问"
                                           "限值的问题：排序模型未见过限值表的行）"}}}}},
    }},
}
