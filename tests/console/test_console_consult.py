"""The consultation day through the console forms (scoped, CSRF-checked) and the public pages: registration at
/consult and the follow-up link /followup/<token> (single use, expiring, errors in Chinese with status codes)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from console_support import ConsoleEnv, console_env, csrf_token, make_item  # noqa: F401
from flask.testing import FlaskClient
from sqlalchemy import select

from assistant.consult import outcomes as oc
from assistant.db.models import AgendaItem, AuditLog, ConsultationDay, CuratedAnswer, Participant, Question

PWXK = "排污许可管理条例"


def _post(c: FlaskClient, path: str, data: dict[str, Any], page: str = "/console/consult") -> Any:
    return c.post(path, data={**data, "csrf_token": csrf_token(c, page)})


def _day(env: ConsoleEnv, month: str, organiser: str) -> ConsultationDay:
    with env.svc.Session() as s:
        day = s.scalar(select(ConsultationDay).where(ConsultationDay.month == month,
                                                     ConsultationDay.organiser == organiser))
        assert day is not None
        s.expunge(day)
        return day


def test_console_consult_day_flow_and_scope(console_env: ConsoleEnv) -> None:  # noqa: F811
    env = console_env
    common = make_item(env.svc, district="岱山县", members=4, title="岱山县船舶修造企业涂装废气怎么治理？")
    make_item(env.svc, district="岱山县", members=1, title="岱山县某企业的个别问题")
    make_item(env.svc, district="普陀区", members=3, title="普陀区的问题不应出现在岱山县议程")
    admin = env.client("admin")
    r = _post(admin, "/console/consult/schedule", {"month": "2031-03", "organiser": "岱山县"})
    assert r.status_code == 302
    day = _day(env, "2031-03", "岱山县")
    assert day.day == date(2031, 3, 10)  # a Monday
    page = f"/console/consult/{day.id}"
    r = _post(admin, f"{page}/build", {"size": "5"}, page)
    assert r.status_code == 302
    html = admin.get(page).get_data(as_text=True)
    assert "岱山县船舶修造企业涂装废气怎么治理？" in html and "普陀区的问题" not in html
    # four chat askers, none an enterprise: said so, and never "多家企业" (was "4 位提问者（0 家企业）… 分布在多家企业")
    assert "4 位提问者（均未留企业信息）共提问 4 次" in html and "分布在 4 位不同提问者" in html
    reasons = " ".join(re.findall(r'data-testid="agenda-reasons">(.*?)</ul>', html, re.S))
    assert "0 家企业" not in reasons and "多家企业" not in reasons
    assert "已等待" in html and 'data-testid="agenda-reasons"' in html
    # a district user of another district cannot see or act on it; a viewer sees but cannot change
    putuo = env.client("putuo")
    assert putuo.get(page).status_code == 404
    assert _post(putuo, f"{page}/freeze", {}).status_code == 404
    viewer = env.client("viewer")
    assert viewer.get(page).status_code == 200
    assert _post(viewer, f"{page}/freeze", {}).status_code == 403
    # CSRF
    assert admin.post(f"{page}/freeze").status_code == 400
    with env.svc.Session() as s:
        rows = list(s.scalars(select(AgendaItem).where(AgendaItem.day_id == day.id).order_by(AgendaItem.position)))
        assert rows[0].queue_item_id == common["id"]
        second = rows[1].id
    assert _post(admin, f"{page}/items/{second}/exclude", {}, page).status_code == 302
    assert _post(admin, f"{page}/freeze", {}, page).status_code == 302
    assert _post(admin, f"{page}/freeze", {}, page).status_code == 302  # idempotent
    assert _post(admin, f"{page}/build", {}, page).status_code == 302  # frozen: nothing changes
    with env.svc.Session() as s:
        rows = list(s.scalars(select(AgendaItem).where(AgendaItem.day_id == day.id, AgendaItem.state != "excluded")))
        assert [a.queue_item_id for a in rows] == [common["id"]]
        top = rows[0].id
    assert _post(admin, f"{page}/invite", {}, page).status_code == 302
    with env.svc.Session() as s:
        parts = list(s.scalars(select(Participant).where(Participant.day_id == day.id)))
        assert parts and all(p.invited_at is not None for p in parts)
        pid = parts[0].id
    assert _post(admin, f"{page}/attendance/{pid}", {"attended": "1"}, page).status_code == 302
    r = _post(admin, f"{page}/items/{top}/outcome", {"answer": "<script>x()</script>涂装废气应收集处理后达标排放。",
                                                     "citations": f"{PWXK}#14"}, page)
    assert r.status_code == 302
    with env.svc.Session() as s:
        assert s.get(Participant, pid).attended  # type: ignore[union-attr]
        a = s.get(AgendaItem, top)
        assert a is not None and a.curated_id
        entry = s.get(CuratedAnswer, a.curated_id)
        assert entry is not None and entry.kind == "咨询日答复" and "<script" not in entry.answer
        assert s.scalar(select(AuditLog).where(AuditLog.action == "consult_outcome")) is not None
    html = admin.get(page).get_data(as_text=True)
    assert "<script>x()" not in html and "已举办" in html


def test_public_registration_form(console_env: ConsoleEnv) -> None:  # noqa: F811
    env = console_env
    with env.svc.Session() as s:
        from assistant.consult.schedule import ensure_day

        day = ensure_day(s, env.svc.settings, "2031-04", "嵊泗县")
        s.commit()
        day_id = day.id
    c = env.app.test_client()
    html = c.get("/consult").get_data(as_text=True)
    assert "嵊泗县" in html and "2031年4月10日" in html
    form = {"day_id": str(day_id), "company": "<b>嵊泗</b>海产品有限公司", "contact": "陈女士", "phone": "0580-5081234",
            "question": ["贻贝加工废水能否排入市政管网？"], "consent": "1"}
    assert c.post("/consult/register", data=form).status_code == 400  # no CSRF token
    tok = csrf_token(c, "/consult")
    bad = c.post("/consult/register", data={**form, "phone": "12", "csrf_token": tok})
    assert bad.status_code == 400 and "联系电话格式不正确" in bad.get_data(as_text=True)
    ok = c.post("/consult/register", data={**form, "csrf_token": tok})
    body = ok.get_data(as_text=True)
    assert ok.status_code == 200 and "报名成功" in body and "<b>嵊泗</b>" not in body and "&lt;b&gt;" in body
    token = re.search(r'data-testid="token">([^<]+)<', body)
    assert token is not None
    with env.svc.Session() as s:
        qs = list(s.scalars(select(Question).where(Question.text == "贻贝加工废水能否排入市政管网？")))
        assert len(qs) == 1 and qs[0].channel == "consult" and qs[0].district == "嵊泗县"
    assert env.svc.questions.status(token.group(1))["queued"] is True
    # the success page says what the 查询凭证 is, that it is shown once, where to use it, and links there
    help_box = body.split('data-testid="token-help"', 1)[1]
    assert "是什么" in help_box and "只显示这一次" in help_box and "在哪里用" in help_box
    assert 'href="/consult/status" data-testid="status-page-link"' in help_box
    link = re.search(r'href="(/consult/status\?token=[^"]+)" data-testid="status-link"', help_box)
    assert link is not None and token.group(1) in link.group(1)
    assert 'name="referrer" content="no-referrer"' in body  # its links carry the tokens
    # …and that page takes it: the question and its progress, in Chinese
    status = c.get(link.group(1).replace("&amp;", "&"))
    page_text = status.get_data(as_text=True)
    assert status.status_code == 200 and "贻贝加工废水能否排入市政管网？" in page_text
    assert 'data-testid="status-state">工作人员正在处理' in page_text
    assert 'content="noindex, nofollow"' in page_text and 'name="referrer" content="no-referrer"' in page_text
    blank = c.get("/consult/status")
    assert blank.status_code == 200 and 'data-testid="status-form"' in blank.get_data(as_text=True)
    unknown = c.get("/consult/status?token=nope-not-a-token")
    assert unknown.status_code == 404 and "请检查查询凭证" in unknown.get_data(as_text=True)


def test_followup_link_single_use_and_expiry(console_env: ConsoleEnv) -> None:  # noqa: F811
    env = console_env
    item = make_item(env.svc, district="定海区", members=2, title="定海区冷库氨制冷需要做环评吗？", channel="chat",
                     session_id="web-s")
    admin = env.client("admin")
    _post(admin, "/console/consult/schedule", {"month": "2030-01", "organiser": "定海区"})
    day = _day(env, "2030-01", "定海区")
    page = f"/console/consult/{day.id}"
    _post(admin, f"{page}/add", {"queue_item_id": str(item["id"])}, page)
    _post(admin, f"{page}/freeze", {}, page)
    _post(admin, f"{page}/invite", {}, page)
    with env.svc.Session() as s:
        aid = s.scalar(select(AgendaItem.id).where(AgendaItem.day_id == day.id))
    _post(admin, f"{page}/items/{aid}/outcome", {"answer": "氨制冷冷库按名录判断，一般填报登记表。",
                                                 "citations": f"{PWXK}#14"}, page)
    issued = oc.issue_followups(env.svc.session, env.svc.settings, today=date(2030, 2, 20), day_id=day.id)
    assert len(issued) == 1  # the two questions came from one asker (same chat session)
    c = env.app.test_client()
    url = f"/followup/{issued[0].token}"
    r = c.get(url)
    assert r.status_code == 200 and "问题是否已解决" in r.get_data(as_text=True)
    assert c.get("/followup/unknown-token").status_code == 404
    tok = csrf_token(c, url)
    bad = c.post(url, data={"solved": "yes", "score": "9", "csrf_token": tok})
    assert bad.status_code == 400 and "1—5" in bad.get_data(as_text=True)
    done = c.post(url, data={"solved": "partly", "score": "3", "comment": "还需确认", "csrf_token": tok})
    assert done.status_code == 200 and "重新交给工作人员" in done.get_data(as_text=True)
    again = c.post(url, data={"solved": "yes", "score": "5", "csrf_token": tok})
    assert again.status_code == 409 and "已经提交过" in again.get_data(as_text=True)
    assert c.get(url).status_code == 409
    html = admin.get(page).get_data(as_text=True)
    assert "部分解决" in html and "跟踪问效" in html
