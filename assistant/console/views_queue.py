"""The question queue: list, item page (members with their 没帮助 reasons and the conversation before them, suggestion,
assignment, answer editor, hit-test), actions."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app, flash, render_template, request, session
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..auth import DISTRICTS
from ..db.models import CuratedAnswer, Feedback, Question, QueueItem, QueueMember, StaffUser
from ..domain import OPEN
from ..errors import WorkflowError
from ..queue import curation as cur
from ..queue.curation import CHANNELS, STATUSES
from ..text.markup import to_text
from ..text.numerals import int_to_cn
from .common import actor, bp, me, redirect_to, svc

STATUS_FILTERS = {"open": "待处理（未发布、未关闭）", "all": "全部", **STATUSES}
SORTS = {"count": "提问次数", "age": "等待时间（最久在前）", "recent": "最近提问"}
SOURCES = {"abstain": "助手未能回答", "letter_review": "长信仅给出参考条文", "followup_review": "追问仅给出参考条文", "not_helpful": "反馈没帮助", "handoff": "转人工留言", "registration": "咨询日报名",
           "followup": "跟踪问效未解决"}
CITATION_RE = re.compile(r"^.+#[0-9A-Za-z.\-~]+$")
MAX_DRAFTS = 5
#: the conversation before a member question: the same session's earlier questions within this time
CONTEXT_WINDOW = timedelta(minutes=30)
CONTEXT_MAX = 10


def sla_days() -> float:
    try:
        return float(current_app.config.get("QUEUE_SLA_DAYS", 5))
    except (TypeError, ValueError):
        return 5.0


def _experts(s: Any) -> list[StaffUser]:
    return list(s.scalars(select(StaffUser).where(StaffUser.role == "expert", StaffUser.active.is_(True))
                          .order_by(StaffUser.username)))


def _categories(s: Any) -> list[str]:
    cats = set(s.scalars(select(CuratedAnswer.category).distinct()))
    cats |= set(s.scalars(select(QueueItem.category).distinct()))
    return sorted(c for c in cats if c)


@bp.get("/")
def queue() -> Any:
    a = actor()
    status = request.args.get("status", "open")
    status = status if status in STATUS_FILTERS else "open"
    sort = request.args.get("sort", "count")
    sort = sort if sort in SORTS else "count"
    district = request.args.get("district", "") if a.role == "admin" else ""
    district = district if district in DISTRICTS or district == "none" else ""
    category = request.args.get("category", "").strip()[:50]
    q = request.args.get("q", "").strip()[:200]
    sla = sla_days()
    with svc().Session() as s:
        items = cur.list_items(s, a, status="" if status == "all" else status,
                               district="" if district == "none" else district, category=category, search=q,
                               sort=sort)
        if district == "none":  # items not yet routed to a district (the city bureau's own)
            items = [i for i in items if not i.district]
        ids = [i.id for i in items]
        chans: dict[int, set[str]] = {i: set() for i in ids}
        dists: dict[int, set[str]] = {i: set() for i in ids}
        if ids:
            for item_id, channel, qd in s.execute(
                    select(QueueMember.item_id, Question.channel, Question.district)
                    .join(Question, Question.id == QueueMember.question_id).where(QueueMember.item_id.in_(ids))):
                chans[item_id].add(CHANNELS.get(channel, channel))
                if qd:
                    dists[item_id].add(qd)
        experts = {u.username: u.display_name or u.username for u in _experts(s)}
        rows = []
        for i in items:
            age = cur.age_days(i)
            rows.append({
                "id": i.id, "title": i.title, "count": i.count, "channels": sorted(chans[i.id]),
                "districts": sorted(dists[i.id] | ({i.district} if i.district else set())),
                "district": i.district, "first_asked": i.first_asked, "last_asked": i.last_asked,
                "status": i.status, "status_label": STATUSES.get(i.status, i.status), "age": age,
                "overdue": i.status in OPEN and age > sla, "unit": i.assigned_unit,
                "expert": experts.get(i.assigned_to, i.assigned_to), "category": i.category})
        stats = cur.queue_stats(s, a)
        categories = _categories(s)
    return render_template("console/queue.html", rows=rows, stats=stats, sla=sla, categories=categories,
                           f={"status": status, "sort": sort, "district": district, "category": category, "q": q},
                           STATUS_FILTERS=STATUS_FILTERS, SORTS=SORTS)


# -- hit-test ---------------------------------------------------------------------------------------------------
def _passage_label(title: str, article: int | None, heading: str, pid: str) -> str:
    if article:
        return f"{title} 第{int_to_cn(article)}条"
    return f"{title} {heading or pid.partition('#')[2]}".strip()


def hit_test(q: str, k: int = 8) -> dict[str, Any]:
    """What retrieval finds for ``q``: curated matches and passages with their scores."""
    out: dict[str, Any] = {"q": q, "curated": [], "passages": [], "mode": "", "passage_conf": None,
                           "curated_conf": None}
    if not q:
        return out
    res = svc().retriever.search(q, k=k)
    out["mode"] = res.passages.mode
    out["passage_conf"] = res.passages.confidence
    for h in res.passages.hits:
        it = h.item
        out["passages"].append({"id": it.id, "label": _passage_label(it.title, it.article, it.heading, it.id),
                                "status": it.status, "fused": h.fused, "bm25": h.bm25, "dense": h.dense,
                                "snippet": it.text[:160] + ("…" if len(it.text) > 160 else "")})
    if res.curated is not None:
        out["curated_conf"] = res.curated.confidence
        ids = [h.item.target for h in res.curated.hits]
        with svc().Session() as s:
            entries = {c.id: c for c in s.scalars(select(CuratedAnswer).where(CuratedAnswer.id.in_(ids)))}
        for h in res.curated.hits:
            e = entries.get(h.item.target)
            answer = to_text(e.answer) if e is not None else ""
            out["curated"].append({"id": h.item.target, "label": e.question if e is not None else h.item.text,
                                   "matched": h.item.text, "fused": h.fused, "bm25": h.bm25, "dense": h.dense,
                                   "snippet": answer[:160] + ("…" if len(answer) > 160 else "")})
    return out


@bp.get("/hittest")
def hittest() -> Any:
    q = request.args.get("q", "").strip()[:500]
    hits = hit_test(q)
    if request.args.get("partial"):
        return render_template("console/_hits.html", hits=hits, cite=True)
    return render_template("console/hittest.html", hits=hits, cite=False)


# -- item page --------------------------------------------------------------------------------------------------
def _drafts() -> dict[str, Any]:
    d = session.get("console_drafts")
    return d if isinstance(d, dict) else {}


def _save_draft(item_id: int, question: str, citations: list[str]) -> None:
    d = {k: v for k, v in _drafts().items() if k != str(item_id)}
    d[str(item_id)] = {"question": question[:500], "citations": citations[:20]}
    session["console_drafts"] = dict(list(d.items())[-MAX_DRAFTS:])


def _drop_draft(item_id: int) -> None:
    d = _drafts()
    if str(item_id) in d:
        d.pop(str(item_id))
        session["console_drafts"] = d


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


def shown_to_asker(result: dict[str, Any] | None) -> dict[str, Any] | None:
    """What the assistant showed the asker (a letter or a follow-up is passed to staff *with* an answer for
    reference, which staff confirm or correct): the curated answer's question, the first three cards' labels and the
    "您是不是想问" offered; None when nothing was shown."""
    r = result if isinstance(result, dict) else {}
    cur, sug = r.get("curated"), r.get("suggestion")
    out = {"curated": str(cur.get("question") or "") if isinstance(cur, dict) else "",
           "citations": [str(c["label"]) for c in (r.get("citations") or [])[:3] if isinstance(c, dict) and c.get("label")],
           "suggestion": str(sug.get("question") or "") if isinstance(sug, dict) else ""}
    return out if any(out.values()) else None


def unhelpful_reasons(s: Session, question_ids: list[int]) -> dict[int, list[str]]:
    """The reasons askers gave with 没帮助 (Feedback.reason), oldest first, by question."""
    out: dict[int, list[str]] = {}
    if question_ids:
        for qid, reason in s.execute(select(Feedback.question_id, Feedback.reason)
                                     .where(Feedback.question_id.in_(question_ids), Feedback.helpful.is_(False))
                                     .order_by(Feedback.id)):
            if (reason or "").strip():
                out.setdefault(qid, []).append(reason.strip())
    return out


def conversation_before(s: Session, rows: list[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    """For each member question with a session: the earlier questions of the same session and channel asked within
    :data:`CONTEXT_WINDOW` before it, oldest first (at most :data:`CONTEXT_MAX`, the latest ones). One query."""
    asked = [r for r in rows if r.get("session_id") and r.get("asked_at") is not None]
    out: dict[int, list[dict[str, Any]]] = {}
    if not asked:
        return out
    earliest = min(_aware(r["asked_at"]) for r in asked) - CONTEXT_WINDOW
    latest = max(_aware(r["asked_at"]) for r in asked)
    sessions = {r["session_id"] for r in asked}
    channels = {r["channel"] for r in asked}
    found = list(s.execute(select(Question.id, Question.text, Question.session_id, Question.channel, Question.asked_at)
                           .where(Question.session_id.in_(sessions), Question.channel.in_(channels),
                                  Question.asked_at >= earliest, Question.asked_at <= latest)
                           .order_by(Question.asked_at, Question.id)))
    for r in asked:
        at = _aware(r["asked_at"])
        before = [{"id": qid, "text": text, "asked_at": t} for qid, text, sid, ch, t in found
                  if sid == r["session_id"] and ch == r["channel"] and qid != r["question_id"]
                  and at - CONTEXT_WINDOW <= _aware(t) <= at and (_aware(t) < at or qid < r["question_id"])]
        if before:
            out[r["question_id"]] = before[-CONTEXT_MAX:]
    return out


@bp.get("/items/<int:item_id>")
def item(item_id: int) -> Any:
    a = actor()
    with svc().Session() as s:
        it = cur.get_item(s, a, item_id)
        editable = cur.can_edit(a, it)
        contacts = cur.can_see_contacts(a)
        rows = cur.members(s, it, contacts)
        reasons = unhelpful_reasons(s, [r["question_id"] for r in rows])
        context = conversation_before(s, rows)
        for r in rows:
            r["channel_label"] = CHANNELS.get(r["channel"], r["channel"])
            r["source_label"] = SOURCES.get(r["source"], r["source"])
            r["reasons"] = reasons.get(r["question_id"], [])
            r["context"] = context.get(r["question_id"], [])
            r["shown"] = shown_to_asker(r.get("result"))
        entry = s.get(CuratedAnswer, it.curated_id) if it.curated_id else None
        experts = [{"username": u.username, "name": u.display_name or u.username, "unit": u.unit}
                   for u in _experts(s)]
        data: dict[str, Any] = {"id": it.id, "title": it.title, "status": it.status, "status_label": STATUSES.get(it.status),
                "count": it.count, "district": it.district, "category": it.category, "lead_unit": it.lead_unit,
                "assigned_unit": it.assigned_unit, "assigned_to": it.assigned_to, "answer": it.answer,
                "answered_by": it.answered_by, "answered_at": it.answered_at, "close_reason": it.close_reason,
                "curated_id": it.curated_id, "first_asked": it.first_asked, "last_asked": it.last_asked,
                "age": cur.age_days(it)}
        categories = _categories(s)
        suggestion = cur.suggest(svc().indexes, it)
        draft = _drafts().get(str(it.id), {})
        editor = {
            "question": draft.get("question") or (entry.question if entry is not None else it.title),
            "answer": (to_text(entry.answer) if entry is not None else "") or it.answer,
            "citations": "\n".join(draft.get("citations") or (entry.citations if entry is not None else [])),
            "category": it.category,  # the suggestion is offered next to the fields, not silently prefilled
            "lead_unit": it.lead_unit,
        }
    hits = hit_test(data["title"])
    return render_template("console/item.html", item=data, members=rows, editable=editable, contacts=contacts,
                           suggestion=suggestion, experts=experts, editor=editor, hits=hits,
                           categories=categories, sla=sla_days(), is_admin=me().is_admin,
                           overdue=data["status"] in OPEN and data["age"] > sla_days())


def _form(name: str, limit: int = 200) -> str:
    return (request.form.get(name) or "").strip()[:limit]


def _citations() -> list[str]:
    raw = request.form.get("citations") or ""
    out = list(dict.fromkeys(c.strip() for c in raw.replace("\r", "").split("\n") if c.strip()))
    bad = [c for c in out if not CITATION_RE.match(c)]
    if bad:
        raise WorkflowError("bad_citation", f"引用格式应为“标题#条号”，每行一条：{'、'.join(bad[:5])}")
    if len(out) > 20:
        raise WorkflowError("too_many_citations", "引用最多 20 条")
    return out


@bp.post("/items/<int:item_id>/assign")
def assign(item_id: int) -> Any:
    a = actor()
    district = _form("district", 50) if a.role == "admin" and "district" in request.form else None
    with svc().Session() as s:
        it = cur.assign(s, a, item_id, unit=_form("unit", 50), expert=_form("expert", 50), district=district)
        who = "、".join(x for x in (it.district, it.assigned_unit, it.assigned_to) if x) or "市局"
    flash(f"已分派：{who}", "ok")
    return redirect_to("console.item", item_id=item_id)


@bp.post("/items/<int:item_id>/answer")
def save_answer(item_id: int) -> Any:
    a = actor()
    citations = _citations()
    with svc().Session() as s:
        cur.save_answer(s, a, item_id, request.form.get("answer") or "", category=_form("category", 50),
                        lead_unit=_form("lead_unit", 50))
    _save_draft(item_id, _form("question", 500), citations)
    flash("答复已保存（尚未发布）", "ok")
    return redirect_to("console.item", item_id=item_id)


@bp.post("/items/<int:item_id>/publish")
def publish(item_id: int) -> Any:
    a = actor()
    citations = _citations()
    question, answer = _form("question", 500), (request.form.get("answer") or "").strip()
    if len(answer) > 5000:
        raise WorkflowError("answer_too_long", "答复不能超过 5000 字")
    _, elapsed = cur.publish(svc().indexes, a, item_id, question, answer, citations, _form("category", 50),
                             _form("lead_unit", 50))
    _drop_draft(item_id)
    flash(f"已发布，检索生效用时 {elapsed:.2f} 秒", "ok")
    return redirect_to("console.item", item_id=item_id)


@bp.post("/items/<int:item_id>/close")
def close(item_id: int) -> Any:
    with svc().Session() as s:
        cur.close(s, actor(), item_id, _form("reason", 30), department=_form("department", 100))
    flash("问题已关闭", "ok")
    return redirect_to("console.item", item_id=item_id)


@bp.post("/items/<int:item_id>/merge")
def merge(item_id: int) -> Any:
    raw = _form("other_ids", 500)
    try:
        ids = list(dict.fromkeys(int(x.lstrip("#")) for x in re.split(r"[\s,，、;；]+", raw) if x.strip()))
    except ValueError:
        raise WorkflowError("invalid_ids", "请填写要合并的问题编号（数字，多个用逗号或空格分隔）") from None
    ids = [i for i in ids if i != item_id]
    if not ids:
        raise WorkflowError("invalid_ids", "请填写要合并进来的其他问题编号")
    a = actor()
    with svc().Session() as s:
        cur.get_item(s, a, item_id, edit=True)  # the item itself out of scope: 404/403
        for oid in ids:  # the others: a message that does not tell "missing" from "not yours"
            try:
                cur.get_item(s, a, oid, edit=True)
            except WorkflowError:
                raise WorkflowError("invalid_ids", f"问题 #{oid} 不存在或不在您的权限范围内") from None
        cur.merge(s, a, item_id, ids)
    flash(f"已将 {'、'.join(f'#{i}' for i in ids)} 合并到本问题", "ok")
    return redirect_to("console.item", item_id=item_id)


@bp.post("/items/<int:item_id>/split")
def split(item_id: int) -> Any:
    try:
        qids = [int(x) for x in request.form.getlist("question_ids")]
    except ValueError:
        raise WorkflowError("invalid_split", "请选择要拆分的成员问题") from None
    with svc().Session() as s:
        new = cur.split(s, actor(), item_id, qids)
        new_id = new.id
    flash(f"已拆分为新问题 #{new_id}", "ok")
    return redirect_to("console.item", item_id=item_id)
