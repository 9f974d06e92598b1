"""The audit log as staff read it: every action code with a Chinese label, the object in words, and before/after as
``字段：值`` lines (statuses, roles and agenda states by their labels, lists joined, ids as ``#12``) instead of raw
JSON. Only the console's audit page uses it; the stored rows keep the codes."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from ..auth import ROLES
from ..consult.agenda import STATES as AGENDA_STATES
from ..consult.schedule import DAY_STATUSES
from ..queue.curation import STATUSES
from .common import CURATED_STATUSES

#: every action the service writes (domain.audit callers), in the order of the filter menu
ACTIONS: dict[str, str] = {
    "login": "登录",
    "assign": "分派", "answer": "保存答复", "publish": "发布", "close": "关闭", "merge": "合并", "split": "拆分",
    "edit_curated": "编辑精选问答", "retire_curated": "停用精选问答",
    "create_user": "创建账号", "deactivate_user": "停用账号", "activate_user": "启用账号",
    "consult_schedule": "安排咨询日", "consult_update": "修改咨询日", "agenda_build": "生成议程",
    "agenda_pin": "确认议题", "agenda_exclude": "移出议题", "agenda_restore": "恢复议题", "agenda_up": "议题上移",
    "agenda_down": "议题下移", "agenda_topic": "设置议题主题", "agenda_add": "添加议题", "agenda_freeze": "冻结议程",
    "agenda_unfreeze": "解除冻结", "consult_invite": "邀请提问企业", "consult_attendance": "登记到场",
    "consult_walk_in": "现场登记企业", "consult_outcome": "记录咨询日答复", "consult_held": "标记咨询日已举办",
    "save_interpretation": "保存政策解读", "publish_interpretation": "发布政策解读", "notify_change": "发送政策速递通知",
}

FIELDS: dict[str, str] = {
    # queue items
    "status": "状态", "title": "问题", "count": "提问次数", "district": "区县", "category": "分类",
    "lead_unit": "牵头处室", "assigned_unit": "分派处室", "assigned_to": "分派专家", "answer": "答复",
    "close_reason": "关闭原因", "curated_id": "精选问答编号", "merged": "并入的问题", "new_item": "拆出的新问题",
    "moved": "移出的成员问题（提问编号）",
    # curated entries
    "question": "标准问法", "paraphrases": "其他问法", "citations": "引用条文",
    # accounts
    "role": "角色", "unit": "处室", "display_name": "姓名", "active": "账号",
    # consultation days and agendas
    "organiser": "组织单位", "month": "月份", "day": "日期", "time": "时间", "place": "地点", "topics": "主题",
    "moved_reason": "日期调整说明", "items": "议程问题", "state": "议程状态", "position": "顺序", "topic": "议题主题",
    "outcome": "咨询日答复", "participants": "涉及企业", "messages": "发出消息", "already": "此前已邀请",
    "attended": "到场", "company": "企业名称",
    # 政策速递 (a change's 解读; the notices sent, by channel)
    "interpretation": "解读", "wechat": "微信通知", "web": "网页通知", "phone": "电话名单", "skipped": "不可发送",
}
#: fields whose values are queue item numbers
ITEM_IDS = {"merged", "new_item", "items"}
EMPTY = "（空）"


@dataclass(frozen=True)
class Line:
    label: str
    value: str


def target_label(target: str) -> str:
    """``queue:12`` → 问题 #12; ``consult:3:45`` → 咨询日 #3 · 问题 #45; ``user:x`` → 账号 x; ``curated:q`` → 精选问答 q."""
    kind, _, rest = target.partition(":")
    if kind == "queue":
        return f"问题 #{rest}"
    if kind == "consult":
        day, _, item = rest.partition(":")
        return f"咨询日 #{day}" + (f" · 问题 #{item}" if item else "")
    if kind == "curated":
        return f"精选问答 {rest}"
    if kind == "user":
        return f"账号 {rest}"
    return target


def _status(value: str, target: str) -> str:
    table = {"queue": STATUSES, "curated": CURATED_STATUSES, "consult": DAY_STATUSES}.get(target.partition(":")[0], {})
    return table.get(value, value)


def value_text(key: str, value: Any, target: str = "") -> str:
    """One value in words."""
    if value is None or value == "" or value == [] or value == {}:
        return EMPTY
    if isinstance(value, bool):
        return {"active": ("启用", "停用"), "attended": ("已到场", "未到场")}.get(key, ("是", "否"))[0 if value else 1]
    if isinstance(value, list):
        return "、".join(value_text(key, v, target) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    if key in ITEM_IDS and (isinstance(value, int) or re.fullmatch(r"\d+", str(value))):
        return f"#{value}"
    if key == "status":
        return _status(str(value), target)
    if key == "role":
        return ROLES.get(str(value), str(value))
    if key == "state":
        return AGENDA_STATES.get(str(value), str(value))
    return str(value)


def lines(data: dict[str, Any], target: str = "", keys: list[str] | None = None) -> list[Line]:
    """``字段：值`` lines of ``data`` (only ``keys`` when given, in their order)."""
    return [Line(FIELDS.get(k, k), value_text(k, data.get(k), target)) for k in (keys if keys is not None else data)
            if k in data]


def audit_row(r: Any) -> dict[str, Any]:
    """What the audit page shows of an :class:`~assistant.db.models.AuditLog` row."""
    before, after = dict(r.before or {}), dict(r.after or {})
    keys = list(dict.fromkeys([*before, *after]))
    changed = [k for k in keys if before.get(k) != after.get(k)]
    return {"id": r.id, "at": r.at, "username": r.username, "action": r.action,
            "action_label": ACTIONS.get(r.action, r.action), "target": r.target,
            "target_label": target_label(r.target), "ip": r.ip,
            "before": lines(before, r.target), "after": lines(after, r.target),
            "before_changed": lines(before, r.target, [k for k in changed if k in before]),
            "after_changed": lines(after, r.target, [k for k in changed if k in after]),
            "partial": len(changed) < len(keys)}
