"""Web pages for enterprises: the widget loader, the chat (framed and full page), document pages, a demo page."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from flask import Blueprint, abort, current_app, render_template, request, send_from_directory, url_for
from sqlalchemy import select

from ..answer.sources import is_reply, key_label, limit_row, reply_topic, shown_text
from ..db.models import Document, DocumentVersion, PolicyChange
from ..ingest.limits import is_table_row, table_of
from ..search.corpus import region_of
from ..security import csp_nonce
from ..service import AssistantService
from ..text.numerals import int_to_cn
from ..text.pipes import is_pipe_rule, pipe_cells

WEB = Path(__file__).resolve().parents[2] / "web"
bp = Blueprint("web", __name__, template_folder=str(WEB / "templates"), static_folder=str(WEB / "static"),
               static_url_path="/static")
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
DEFAULT_TITLE = "环保咨询助手"
DEFAULT_COLOR = "#0b7a53"
DEFAULT_GREETING = "您好！我是舟山市生态环境局环保咨询助手，可以咨询环评、排污许可、危废、环保税等问题。"
#: the chat script's ES modules (web/static/chat/, entry main.js): chat.html preloads them all, so the browser fetches
#: them in parallel instead of discovering the imports one level at a time
CHAT_MODULES = ("main.js", *sorted(p.name for p in (WEB / "static" / "chat").glob("*.js") if p.name != "main.js"))


def _svc() -> AssistantService:
    svc: AssistantService = current_app.extensions["assistant"]
    return svc


def _chat_context(embedded: bool) -> dict[str, Any]:
    title = (request.args.get("title") or DEFAULT_TITLE).strip()[:30] or DEFAULT_TITLE
    color = request.args.get("color") or DEFAULT_COLOR
    greeting = (request.args.get("greeting") or DEFAULT_GREETING).strip()[:200] or DEFAULT_GREETING
    return {"title": title, "color": color if _COLOR.match(color) else DEFAULT_COLOR, "greeting": greeting,
            "embedded": embedded, "api_base": "/api/v1", "static_url": url_for("web.static", filename=""),
            "chat_modules": CHAT_MODULES, "csp_nonce": csp_nonce()}


@bp.get("/widget.js")
def widget_js() -> Any:
    resp = send_from_directory(WEB / "static", "widget.js", mimetype="application/javascript", max_age=300)
    return resp


@bp.get("/widget/frame")
def widget_frame() -> Any:
    return render_template("chat.html", **_chat_context(True))


@bp.get("/chat")
def chat() -> Any:
    return render_template("chat.html", **_chat_context(False))


@bp.get("/demo")
def demo() -> Any:
    return render_template("demo.html", host=request.host_url.rstrip("/"), csp_nonce=csp_nonce(),
                           static_url=url_for("web.static", filename=""))


def text_blocks(text: str) -> list[dict[str, Any]]:
    """A passage's text as paragraphs and tables: runs of Markdown pipe rows (``| a | b |``) become a table whose
    first row is the header unless the run continues a table split across passages."""
    blocks: list[dict[str, Any]] = []
    for line in text.split("\n"):
        if is_pipe_rule(line):
            if blocks and blocks[-1]["kind"] == "table":
                blocks[-1]["has_header"] = True  # the rule under the first row
            continue
        cells = pipe_cells(line)
        if cells is not None:
            if blocks and blocks[-1]["kind"] == "table":
                blocks[-1]["rows"].append(cells)
            else:
                blocks.append({"kind": "table", "rows": [cells], "has_header": False})
        elif blocks and blocks[-1]["kind"] == "text":
            blocks[-1]["text"] += "\n" + line
        else:
            blocks.append({"kind": "text", "text": line})
    return blocks


#: ``<title>@<label>``: an earlier version of a document (``label`` = its date, ``2018-12-29`` or ``2018-12-29.2``)
_VERSION_LABEL = re.compile(r"^(?P<title>.+)@(?P<label>\d{4}-\d{2}-\d{2}(?:\.\d+)?)$")


def _rows(items: list[tuple[str, str, int | None, str, str]], key: str, marks: dict[str, int]
          ) -> tuple[list[dict[str, Any]], str]:
    """Template rows of (id, key, article, heading, text) passages; the anchor of the highlighted ``key``."""
    anchor = ""
    rows = []
    for pid, pkey, article, heading, text in items:
        a = "a-" + re.sub(r"[^0-9A-Za-z\-_.~]", "_", pkey)
        hl = bool(key) and pkey == key
        if hl:
            anchor = a
        # a catalogue's row by what it is ("废物代码266-009-16", "第97项"), not by its key ("row-266-009-16")
        label = f"第{int_to_cn(article)}条" if article else (key_label(pkey) or ("" if pkey.startswith("p") else pkey))
        rows.append({"id": pid, "key": pkey, "anchor": a, "label": label, "heading": heading, "text": text,
                     "blocks": text_blocks(text), "highlighted": hl, "changed_in": marks.get(pid)})
    return rows, anchor


def _tables_from_rows(rows: list[dict[str, Any]], table_rows: list[tuple[str, str, str]]) -> None:
    """A table passage read from a PDF is its page's text in reading order; when its rows were read from the grid
    (``ingest/pdf/tables.py``), the page shows them as a table — the column names as the header, a row per row — and
    keeps the page text below it, folded."""
    by_table: dict[str, list[dict[str, Any]]] = {}
    for pid, pkey, text in table_rows:
        limit = limit_row(pid, text)
        if limit is not None:
            by_table.setdefault(table_of(pkey), []).append(limit)
    for r in rows:
        limits = by_table.get(r["key"])
        if not limits or any(b["kind"] == "table" for b in r["blocks"]):
            continue  # no rows, or already a table (a Markdown standard's pipe table)
        cols = list(dict.fromkeys(name for lim in limits for name, _v in lim["cells"]))
        grid = [cols] + [[dict(lim["cells"]).get(c, "") or "—" for c in cols] for lim in limits]
        unit = f"（单位：{limits[0]['unit']}）" if limits[0]["unit"] else ""
        r["blocks"] = [{"kind": "text", "text": f"{r['label']} 各行（由表格识别）{unit}"},
                       {"kind": "table", "rows": grid, "has_header": True},
                       {"kind": "source", "text": r["text"]}]


@bp.get("/doc/<path:ident>")
def document(ident: str) -> Any:
    ident = unquote(ident)
    title, _, key = ident.partition("#")
    if "\x00" in ident or len(title) > 500:  # never a valid title (PostgreSQL refuses NUL in text: was a 500)
        abort(404)
    m = _VERSION_LABEL.match(title)
    with _svc().Session() as s:
        doc = s.scalar(select(Document).where(Document.title == title))
        version = None
        if doc is None and m:
            version = s.scalar(select(DocumentVersion).where(DocumentVersion.title == m["title"],
                                                             DocumentVersion.label == m["label"]))
            if version is None:  # a replaced law's old text is kept under the new document
                version = s.scalar(select(DocumentVersion).join(Document, Document.id == DocumentVersion.document_id)
                                   .where(Document.title == m["title"], DocumentVersion.label == m["label"]))
            doc = s.get(Document, version.document_id) if version is not None else None
        if doc is None:
            abort(404)
        if is_table_row(key):  # a limit-table row (表4·12) is shown inside its table: its link highlights the table
            key = table_of(key)
        history = [{"label": v.label, "title": v.title, "status": v.status,
                    "url": "/doc/" + quote(f"{v.title}@{v.label}", safe=""), "current": version is not None
                    and v.id == version.id}
                   for v in s.scalars(select(DocumentVersion).where(DocumentVersion.document_id == doc.id)
                                      .order_by(DocumentVersion.label.desc(), DocumentVersion.id.desc()))]
        changes = list(s.scalars(select(PolicyChange).where(PolicyChange.document_id == doc.id)
                                 .order_by(PolicyChange.created_at.desc(), PolicyChange.id.desc())))
        if version is None:
            marks: dict[str, int] = {}
            for c in reversed(changes):  # the latest change that touched an article wins
                if c.kind == "替代":
                    continue  # a new law's own articles were not revised
                for t in c.touched:
                    marks[t] = c.id
            # a catalogue's passages without the lines kept for the search (as its cards quote them)
            items = [(p.id, p.key, p.article, p.heading, shown_text(doc.kind, p.text)) for p in doc.passages
                     if not is_table_row(p.key)]
            rows, anchor = _rows(items, key, marks)
            _tables_from_rows(rows, [(p.id, p.key, p.text) for p in doc.passages if is_table_row(p.key)])
            if is_reply(doc.kind):  # named as its cards name it, without the record id; its one passage unnumbered
                for r in rows:
                    r["label"] = ""
            # a ministry reply is an answer, not a rule in force: no 现行有效 badge on its page
            d = {"title": "部长信箱答复：" + reply_topic(doc.title) if is_reply(doc.kind) else doc.title,
                 "kind": doc.kind, "status": "" if is_reply(doc.kind) else doc.status,
                 "issuer": doc.issuer,
                 "promulgated": doc.promulgated.isoformat() if doc.promulgated else "",
                 "effective": doc.effective.isoformat() if doc.effective else "",
                 "revision_note": doc.revision_note, "source_url": str((doc.extra or {}).get("source_url") or ""),
                 "region": region_of(doc.title), "ocr": (doc.extra or {}).get("ocr") or None}
            old = None
        else:
            vt = f"{version.title}@{version.label}"
            items = [(f"{vt}#{p['key']}", str(p["key"]), p.get("article"), str(p.get("heading") or ""),
                      str(p["text"])) for p in version.passages if not is_table_row(str(p["key"]))]
            rows, anchor = _rows(items, key, {})
            shown = "已修订" if version.status == "现行有效" else version.status  # an earlier text is never in force
            d = {"title": version.title, "kind": version.kind, "status": shown, "issuer": "",
                 "promulgated": version.promulgated.isoformat() if version.promulgated else "",
                 "effective": version.effective.isoformat() if version.effective else "",
                 "revision_note": version.revision_note, "source_url": "", "region": region_of(version.title),
                 "ocr": None}
            change = next((c for c in changes if c.version_id == version.id), None)
            old = {"label": version.label, "current_title": doc.title,
                   "current_url": "/doc/" + quote(doc.title, safe=""),
                   "change_url": f"/updates/{change.id}" if change else "",
                   "change_kind": change.kind if change else "修订"}
        latest = changes[0] if changes else None
        updates = {"url": f"/updates/{latest.id}", "kind": latest.kind, "label": latest.new_label} if latest else None
        replaced = s.scalar(select(PolicyChange).where(PolicyChange.old_title == doc.title, PolicyChange.kind == "替代",
                                                       PolicyChange.title != doc.title)
                            .order_by(PolicyChange.id.desc()).limit(1)) if version is None else None
        replaced_by = {"title": replaced.title, "url": "/doc/" + quote(replaced.title, safe=""),
                       "change_url": f"/updates/{replaced.id}"} if replaced is not None else None
    return render_template("doc.html", doc=d, passages=rows, highlight=anchor, csp_nonce=csp_nonce(),
                           static_url=url_for("web.static", filename=""), history=history, old=old,
                           latest_change=updates, replaced_by=replaced_by)
