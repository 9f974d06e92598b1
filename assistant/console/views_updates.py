"""政策速递 in the console: the recorded changes, one change with its diff, the staff 解读 (save / publish) and who
needs to know — reviewed here and sent, one notice per asker, never twice."""

from __future__ import annotations

from typing import Any

from flask import flash, render_template, request

from ..db.models import PolicyChange
from ..errors import WorkflowError
from ..text.markup import to_html
from ..updates import changes, notices
from ..updates.audience import who_needs_to_know
from .common import actor, bp, fail, redirect_to, svc

#: roles that may write a 解读 and send notices to enterprises
SENDER_ROLES = ("admin", "district")
EDITOR_ROLES = ("admin", "district", "expert")


@bp.get("/updates")
def updates() -> Any:
    with svc().Session() as s:
        rows = [{"id": c.id, "headline": changes.headline(c), "kind": c.kind, "date": c.created_at,
                 "interpretation_status": c.interpretation_status, "topics": c.topics}
                for c in changes.recent(s, limit=200)]
        stats = notices.stats(s)
    return render_template("console/updates.html", rows=rows, stats=stats)


@bp.get("/updates/<int:change_id>")
def update_item(change_id: int) -> Any:
    with svc().Session() as s:
        c = s.get(PolicyChange, change_id)
        if c is None:
            fail(404, "没有这条政策变化")
        people = [r.as_dict() | {"article_labels": [notices.article_label(a) for a in r.articles]}
                  for r in who_needs_to_know(s, c)]
        card = {"id": c.id, "headline": changes.headline(c), "kind": c.kind, "title": c.title,
                "old_label": c.old_label, "new_label": c.new_label, "counts": c.counts, "topics": c.topics,
                "interpretation": c.interpretation, "interpretation_html": to_html(c.interpretation),
                "interpretation_status": c.interpretation_status, "interpreted_by": c.interpreted_by}
        rows = changes.diff_view(c)
    pending = sum(1 for p in people if p["notice"] is None and p["sendable"])
    return render_template("console/update_item.html", card=card, rows=rows, people=people, pending=pending,
                           can_send=actor().role in SENDER_ROLES)


@bp.post("/updates/<int:change_id>/interpretation")
def update_interpretation(change_id: int) -> Any:
    a = actor()
    if a.role not in EDITOR_ROLES:
        raise WorkflowError("forbidden", "您的角色不能编写解读", status=403)
    publish = request.form.get("action") == "publish"
    with svc().Session() as s:
        changes.interpret(s, a, change_id, request.form.get("interpretation") or "", publish)
    flash("解读已发布，政策速递页面已显示" if publish else "解读已保存（尚未发布）", "ok")
    return redirect_to("console.update_item", change_id=change_id)


@bp.post("/updates/<int:change_id>/notify")
def update_notify(change_id: int) -> Any:
    a = actor()
    if a.role not in SENDER_ROLES:
        raise WorkflowError("forbidden", "只有市局管理员和分局工作人员可以发送通知", status=403)
    base = svc().settings.web.public_base_url or request.host_url
    picked = {tuple(v.split("|", 1)) for v in request.form.getlist("to") if "|" in v}
    if not picked:
        raise WorkflowError("no_recipients", "请至少勾选一位提问者")
    with svc().Session() as s:
        counts = notices.send(s, a, change_id, base, only={(c, r) for c, r in picked})
    sent = counts["wechat"] + counts["web"] + counts["phone"]
    msg = f"已发送 {sent} 条通知（微信 {counts['wechat']}、网页 {counts['web']}、电话名单 {counts['phone']}）"
    if counts["already"]:
        msg += f"；{counts['already']} 人此前已通知，未重复发送"
    if counts["skipped"]:
        msg += f"；{counts['skipped']} 人不可发送（已取消关注等）"
    flash(msg, "ok")
    return redirect_to("console.update_item", change_id=change_id)
