"""The curated corpus: list and search, edit (with version history), entries flagged for review."""

from __future__ import annotations

from typing import Any

from flask import flash, render_template, request
from sqlalchemy import or_, select

from ..corpus.check import check_corpus
from ..db.models import CuratedAnswer, CuratedVersion, Document, Passage
from ..errors import WorkflowError
from ..queue import curation as cur
from ..queue.curation import UNITS
from ..text.markup import to_text
from .common import CURATED_STATUSES, actor, bp, fail, me, redirect_to, svc
from .views_queue import _categories, _citations, _form

EDITOR_ROLES = ("admin", "district", "expert")


@bp.get("/curated")
def curated() -> Any:
    q = request.args.get("q", "").strip()[:200]
    category = request.args.get("category", "").strip()[:50]
    status = request.args.get("status", "")
    status = status if status in CURATED_STATUSES else ""
    with svc().Session() as s:
        sel = select(CuratedAnswer)
        if q:
            sel = sel.where(or_(CuratedAnswer.question.contains(q), CuratedAnswer.answer.contains(q),
                                CuratedAnswer.id.contains(q)))
        if category:
            sel = sel.where(CuratedAnswer.category == category)
        if status:
            sel = sel.where(CuratedAnswer.status == status)
        rows = [{"id": e.id, "question": e.question, "answer": to_text(e.answer)[:80], "category": e.category,
                 "lead_unit": e.lead_unit, "status": e.status, "version": e.version, "updated_at": e.updated_at,
                 "origin": "工作台发布" if e.origin == "console" else "语料文件", "kind": e.kind}
                for e in s.scalars(sel.order_by(CuratedAnswer.category, CuratedAnswer.id).limit(500))]
        categories = _categories(s)
    return render_template("console/curated.html", rows=rows, categories=categories,
                           f={"q": q, "category": category, "status": status})


def _review(s: Any) -> list[dict[str, Any]]:
    """Entries to re-review: ``check_corpus`` review hits (cited document changed after the entry was reviewed)
    and live entries citing documents that are not 现行有效 (or citing passages that no longer exist)."""
    out: list[dict[str, Any]] = []
    folder = svc().settings.corpus.corpus_dir / "curated"
    if folder.exists():
        for r in check_corpus(s, folder).review:
            out.append({"entry": r["entry"], "citation": r["citation"],
                        "reason": f"引用文件于 {r['document_updated']} 更新，条目复核日期为 {r['reviewed']}"})
    entries = list(s.scalars(select(CuratedAnswer).where(CuratedAnswer.status != "retired")))
    wanted = {c for e in entries for c in (e.citations or [])}
    status: dict[str, str] = {}
    if wanted:
        for pid, st in s.execute(select(Passage.id, Document.status).join(Document, Passage.document_id == Document.id)
                                 .where(Passage.id.in_(list(wanted)))):
            status[pid] = st
    for e in entries:
        for c in e.citations or []:
            st = status.get(c)
            if st is None:
                out.append({"entry": e.id, "citation": c, "reason": "引用的条文不存在于已导入的文件中"})
            elif st != "现行有效":
                out.append({"entry": e.id, "citation": c, "reason": f"引用文件状态为“{st}”"})
    questions = dict(s.execute(select(CuratedAnswer.id, CuratedAnswer.question)).all())
    for r in out:
        r["question"] = questions.get(r["entry"], "")
        r["exists"] = r["entry"] in questions
    return out


@bp.get("/curated/review")
def curated_review() -> Any:
    with svc().Session() as s:
        rows = _review(s)
    return render_template("console/curated_review.html", rows=rows)


def _entry_view(curated_id: str) -> dict[str, Any]:
    with svc().Session() as s:
        e = s.get(CuratedAnswer, curated_id)
        if e is None:
            fail(404, "精选问答条目不存在")
        versions = [{"version": v.version, "editor": v.editor, "saved_at": v.saved_at, "data": v.data}
                    for v in s.scalars(select(CuratedVersion).where(CuratedVersion.curated_id == curated_id)
                                       .order_by(CuratedVersion.version.desc(), CuratedVersion.id.desc()))]
        return {"entry": {"id": e.id, "question": e.question, "paraphrases": "\n".join(e.paraphrases or []),
                          "answer": e.answer, "citations": "\n".join(e.citations or []), "category": e.category,
                          "lead_unit": e.lead_unit, "status": e.status, "version": e.version, "origin": e.origin,
                          "kind": e.kind, "reviewed": e.reviewed, "updated_at": e.updated_at},
                "versions": versions, "categories": _categories(s)}


@bp.get("/curated/<curated_id>")
def curated_edit(curated_id: str) -> Any:
    ctx = _entry_view(curated_id)
    units = list(dict.fromkeys([*UNITS, ctx["entry"]["lead_unit"]] if ctx["entry"]["lead_unit"] else UNITS))
    return render_template("console/curated_edit.html", editable=me().role in EDITOR_ROLES, units=units, **ctx)


@bp.post("/curated/<curated_id>")
def curated_save(curated_id: str) -> Any:
    question, answer = _form("question", 500), (request.form.get("answer") or "").strip()
    if not question or not answer:
        raise WorkflowError("empty_answer", "问题和答复都不能为空")
    if len(answer) > 5000:
        raise WorkflowError("answer_too_long", "答复不能超过 5000 字")
    status = _form("status", 20)
    if status not in CURATED_STATUSES:
        raise WorkflowError("invalid_status", "状态应为草稿、已发布或已停用")
    raw = (request.form.get("paraphrases") or "").replace("\r", "")
    paraphrases = list(dict.fromkeys(p.strip()[:500] for p in raw.split("\n") if p.strip()))[:30]
    row = cur.edit_curated(svc().indexes, actor(), curated_id, question=question, answer=answer, paraphrases=paraphrases,
                           citations=_citations(), category=_form("category", 50), lead_unit=_form("lead_unit", 50),
                           status=status)
    flash(f"已保存（第 {row.version} 版）" + ("，条目已停用" if status == "retired" else ""), "ok")
    return redirect_to("console.curated_edit", curated_id=curated_id)
