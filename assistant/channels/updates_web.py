"""政策速递 for everyone: ``/updates`` (recent changes of the regulations the assistant answers from, newest first,
each with its staff 解读 when published), ``/updates/<id>`` (one change: the article diff marked 新增/删除/修改),
``/updates/feed.xml`` (Atom, for partner sites). A notice's link ``?n=<key>`` counts that notice as opened."""

from __future__ import annotations

from datetime import UTC
from typing import Any
from xml.sax.saxutils import escape

from flask import Blueprint, Response, abort, current_app, render_template, request, url_for

from ..db.models import PolicyChange
from ..security import csp_nonce
from ..service import AssistantService
from ..text.markup import to_html, to_text
from ..updates import changes, notices

bp = Blueprint("updates", __name__)


def _svc() -> AssistantService:
    svc: AssistantService = current_app.extensions["assistant"]
    return svc


def _card(c: PolicyChange) -> dict[str, Any]:
    return {"id": c.id, "kind": c.kind, "title": c.title, "old_title": c.old_title, "headline": changes.headline(c),
            "old_label": c.old_label, "new_label": c.new_label, "date": c.created_at.date().isoformat(),
            "counts": c.counts, "topics": c.topics,
            "interpretation": to_html(c.interpretation) if c.interpretation_status == "published" else ""}


@bp.get("/updates")
def updates_list() -> Any:
    with _svc().Session() as s:
        cards = [_card(c) for c in changes.recent(s, limit=50)]
    return render_template("updates.html", cards=cards, csp_nonce=csp_nonce(),
                           static_url=url_for("web.static", filename=""))


@bp.get("/updates/<int:change_id>")
def update_page(change_id: int) -> Any:
    key = (request.args.get("n") or "")[:40]
    with _svc().Session() as s:
        c = s.get(PolicyChange, change_id)
        if c is None:
            abort(404)
        if key:
            notices.mark_opened(s, change_id, key)
        card = _card(c)
        rows = changes.diff_view(c)
    return render_template("update.html", card=card, rows=rows, csp_nonce=csp_nonce(),
                           static_url=url_for("web.static", filename=""))


@bp.get("/updates/feed.xml")
def feed() -> Any:
    base = (_svc().settings.web.public_base_url or request.host_url).rstrip("/")
    with _svc().Session() as s:
        items = changes.recent(s, limit=30)
        entries = []
        for c in items:
            when = c.created_at.replace(tzinfo=c.created_at.tzinfo or UTC).isoformat()
            summary = changes.headline(c)
            if c.interpretation_status == "published" and c.interpretation:
                summary += "\n解读：" + to_text(c.interpretation)
            entries.append(f"<entry><id>{escape(base)}/updates/{c.id}</id><title>{escape(changes.headline(c))}</title>"
                           f"<updated>{when}</updated><link href=\"{escape(base)}/updates/{c.id}\"/>"
                           f"<summary>{escape(summary)}</summary></entry>")
        updated = (items[0].created_at.replace(tzinfo=items[0].created_at.tzinfo or UTC).isoformat()
                   if items else "1970-01-01T00:00:00+00:00")
    xml = ("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">"
           f"<id>{escape(base)}/updates</id><title>政策速递 - 舟山市生态环境局环保咨询助手</title>"
           f"<updated>{updated}</updated><link rel=\"self\" href=\"{escape(base)}/updates/feed.xml\"/>"
           f"<link href=\"{escape(base)}/updates\"/>" + "".join(entries) + "</feed>")
    return Response(xml, mimetype="application/atom+xml")
