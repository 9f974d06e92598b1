"""The changes as shown on 政策速递 (``/updates``, the Atom feed, the console): list, one change with its article
diff as marked-up runs, and the staff's 解读 (written in the console, published like a curated answer)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db.models import PolicyChange
from ..domain import Actor, audit
from ..errors import WorkflowError
from ..text.diff import char_diff
from ..text.markup import sanitize
from ..text.numerals import int_to_cn

OPS = {"added": "新增", "removed": "删除", "changed": "修改", "unchanged": "未变"}
MAX_INTERPRETATION = 5000


def key_label(key: str | None) -> str:
    if key is None:
        return ""
    return f"第{int_to_cn(int(key))}条" if key.isdigit() else key


def recent(session: Session, limit: int = 50, published_only: bool = False) -> list[PolicyChange]:
    q = select(PolicyChange).order_by(PolicyChange.created_at.desc(), PolicyChange.id.desc()).limit(limit)
    if published_only:
        q = q.where(PolicyChange.interpretation_status == "published")
    return list(session.scalars(q))


def headline(c: PolicyChange) -> str:
    n = c.counts or {}
    if c.kind == "废止":
        return f"《{c.title}》已废止"
    parts = [f"{label}{n.get(k, 0)}条" for k, label in (("changed", "修改"), ("added", "新增"), ("removed", "删除"))
             if n.get(k)]
    if n.get("renumbered"):
        parts.append(f"条文序号调整{n['renumbered']}条")
    verb = {"替代": f"由《{c.title}》替代《{c.old_title}》", "文本更正": f"《{c.title}》文本更正"}.get(
        c.kind, f"《{c.title}》修订")
    return verb + ("：" + "，".join(parts) if parts else "")


def diff_view(c: PolicyChange, include_unchanged: bool = False) -> list[dict[str, Any]]:
    """The article rows of a change for display: op label, old → new number, and the text as runs
    ``{"op": "=", "+", "-", "text"}`` (a changed article: the character diff; added/removed: the whole text)."""
    rows = []
    for d in c.diff:
        op = d["op"]
        if op == "unchanged" and not (include_unchanged or d.get("renumbered")):
            continue
        if op == "changed":
            runs = [{"op": o, "text": t} for o, t in char_diff(d["old_text"], d["new_text"])]
        elif op == "added":
            runs = [{"op": "+", "text": d["new_text"]}]
        elif op == "removed":
            runs = [{"op": "-", "text": d["old_text"]}]
        else:
            runs = [{"op": "=", "text": d["new_text"]}]
        label = OPS[op] if not (op == "unchanged" and d.get("renumbered")) else "序号调整"
        rows.append({"op": op, "label": label, "renumbered": bool(d.get("renumbered")),
                     "old": key_label(d.get("old")), "new": key_label(d.get("new")),
                     "anchor": f"a-{d.get('new') or 'old-' + str(d.get('old'))}", "runs": runs,
                     "new_url": "/doc/" + quote(f"{c.title}#{d['new']}", safe="") if d.get("new") else "",
                     "old_url": "/doc/" + quote(f"{c.old_title}@{c.old_label}#{d['old']}", safe="")
                     if d.get("old") else ""})
    return rows


def interpret(session: Session, actor: Actor, change_id: int, text: str, publish: bool) -> PolicyChange:
    """Save (and optionally publish) the staff's 解读 of a change; safe markup only; audited."""
    c = session.get(PolicyChange, change_id)
    if c is None:
        raise WorkflowError("not_found", "没有这条政策变化", status=404)
    text = text.strip()
    if len(text) > MAX_INTERPRETATION:
        raise WorkflowError("too_long", f"解读不超过 {MAX_INTERPRETATION} 字")
    if publish and not text:
        raise WorkflowError("empty_answer", "发布前请填写解读内容")
    before = {"interpretation": c.interpretation, "status": c.interpretation_status}
    c.interpretation = sanitize(text)
    c.interpretation_status = "published" if publish else ("draft" if text else "none")
    c.interpreted_by = actor.username
    c.interpreted_at = datetime.now(UTC)
    audit(session, actor, "publish_interpretation" if publish else "save_interpretation", f"change:{c.id}", before,
          {"interpretation": c.interpretation, "status": c.interpretation_status})
    session.commit()
    return c
