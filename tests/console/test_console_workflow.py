"""Console workflows through the forms: assign → answer → publish (asker sees the answer, WeChat asker gets a
notification, audit rows), close, merge, split, queue filters and SLA, hit-test, curated corpus, users, audit log,
escaping, and error handling."""

from __future__ import annotations

import re
from typing import Any

import pytest
from console_support import ConsoleEnv, console_env, csrf_token, flashes, login_session, make_item  # noqa: F401
from flask.testing import FlaskClient
from sqlalchemy import select

from assistant.db.models import (
    AuditLog,
    CuratedAnswer,
    CuratedVersion,
    Document,
    Notification,
    Passage,
    QueueItem,
    StaffUser,
)
from assistant.ingest.curated import CuratedEntry

ANSWER = "船舶含油污水应交由港口接收设施或有资质的单位接收处理，不得直接排入港区水域。"


def _post(c: FlaskClient, path: str, data: dict[str, Any], page: str = "/console/hittest") -> Any:
    return c.post(path, data={"csrf_token": csrf_token(c, page), **data})


def _html(c: FlaskClient, path: str) -> str:
    r = c.get(path)
    assert r.status_code == 200, r.status_code
    return r.get_data(as_text=True)


def _audit(env: ConsoleEnv, target: str) -> list[str]:
    with env.svc.Session() as s:
        return list(s.scalars(select(AuditLog.action).where(AuditLog.target == target).order_by(AuditLog.id)))


def test_assign_answer_publish_close_through_the_forms(console_env: ConsoleEnv) -> None:  # noqa: F811
    env = console_env
    api = env.client()
    q = "港口船舶含油污水接收后由谁负责处理？"
    r = api.post("/api/v1/handoff", json={"question": q, "district": "定海区", "consent": True,
                                          "contact": {"name": "李四", "phone": "13900001111"}})
    assert r.status_code == 201
    token, item_id = r.get_json()["token"], r.get_json()["queue_item_id"]
    admin = env.client("admin")
    assert q in _html(admin, "/console/")
    page = _html(admin, f"/console/items/{item_id}")
    assert "李四" in page and "13900001111" in page  # admins see contacts
    assert "检索命中测试" in page and "data-cite=" in page
    # assign to a unit and an expert
    r = _post(admin, f"/console/items/{item_id}/assign", {"unit": "水处", "expert": "expert", "district": "定海区"},
              f"/console/items/{item_id}")
    assert r.status_code == 302 and ("ok", "已分派：定海区、水处、expert") in flashes(admin)
    # the expert now sees it (but no contacts); the other expert does not
    exp_page = _html(env.client("expert"), f"/console/items/{item_id}")
    assert q in exp_page and "13900001111" not in exp_page
    assert env.client("expert2").get(f"/console/items/{item_id}").status_code == 404
    # save an answer (draft citations kept on the page)
    data = {"question": "港口船舶含油污水如何接收处理？", "answer": ANSWER, "category": "船舶污染", "lead_unit": "水处",
            "citations": "排污许可管理条例#14"}
    r = _post(admin, f"/console/items/{item_id}/answer", data)
    assert r.status_code == 302 and ("ok", "答复已保存（尚未发布）") in flashes(admin)
    page = _html(admin, f"/console/items/{item_id}")
    assert "已答复" in page and "排污许可管理条例#14" in page and "港口船舶含油污水如何接收处理？" in page
    # publish
    r = _post(admin, f"/console/items/{item_id}/publish", data)
    assert r.status_code == 302
    msg = [m for cat, m in flashes(admin) if cat == "ok"]
    m = re.fullmatch(r"已发布，检索生效用时 ([0-9.]+) 秒", msg[-1])
    assert m and float(m.group(1)) < 2
    with env.svc.Session() as s:
        item = s.get(QueueItem, item_id)
        assert item is not None and item.status == "published" and item.curated_id == f"q-{item_id}"
        entry = s.get(CuratedAnswer, f"q-{item_id}")
        assert entry is not None and entry.citations == ["排污许可管理条例#14"] and entry.origin == "console"
        assert s.scalar(select(CuratedVersion).where(CuratedVersion.curated_id == entry.id)) is not None
    res = env.svc.retriever.search("港口船舶含油污水如何接收处理？")
    assert res.curated is not None and res.curated.hits[0].item.target == f"q-{item_id}"
    # the asker sees the answer
    st = api.get(f"/api/v1/questions/{token}").get_json()
    assert st["status"] == "answered" and st["answer"]["text"] == ANSWER
    # close a second item, referred to another department
    other = make_item(env.svc, "定海区")
    r = _post(admin, f"/console/items/{other['id']}/close", {"reason": "referred", "department": ""})
    assert ("error", "转其他部门时须写明部门名称") in flashes(admin)
    r = _post(admin, f"/console/items/{other['id']}/close", {"reason": "referred", "department": "舟山市港航局"})
    assert "已转其他部门：舟山市港航局" in _html(admin, f"/console/items/{other['id']}")
    assert _audit(env, f"queue:{item_id}") == ["assign", "answer", "publish"]
    assert _audit(env, f"queue:{other['id']}") == ["close"]
    audit_page = _html(admin, "/console/audit")
    assert f"queue:{item_id}" in audit_page and "发布" in audit_page and "<dt>状态：</dt><dd>已发布</dd>" in audit_page


def test_wechat_asker_gets_a_pending_notification(console_env: ConsoleEnv) -> None:  # noqa: F811
    env = console_env
    it = make_item(env.svc, "普陀区", channel="wechat", session_id="openid-wx-1", members=1)
    c = env.client("putuo")
    r = _post(c, f"/console/items/{it['id']}/publish", {"question": it["title"], "answer": ANSWER,
                                                       "citations": "", "category": "船舶污染", "lead_unit": "水处"})
    assert r.status_code == 302 and not [m for cat, m in flashes(c) if cat == "error"]
    with env.svc.Session() as s:
        n = s.scalars(select(Notification).where(Notification.question_id == it["qids"][0])).one()
        assert (n.channel, n.recipient, n.status, n.kind) == ("wechat", "openid-wx-1", "pending", "answer_published")
        assert ANSWER in n.body


def test_publish_validates_citations(console_env: ConsoleEnv) -> None:  # noqa: F811
    env = console_env
    it = make_item(env.svc, "普陀区")
    c = env.client("admin")
    base = {"question": it["title"], "answer": ANSWER, "category": "x", "lead_unit": "水处"}
    _post(c, f"/console/items/{it['id']}/publish", {**base, "citations": "没有井号的引用"})
    assert any("引用格式应为" in m for cat, m in flashes(c) if cat == "error")
    _post(c, f"/console/items/{it['id']}/publish", {**base, "citations": "不存在的条例#9"})
    assert ("error", "引用的条文不存在：不存在的条例#9") in flashes(c)
    _post(c, f"/console/items/{it['id']}/publish", {**base, "answer": "  "})
    assert ("error", "问题和答复都不能为空") in flashes(c)
    with env.svc.Session() as s:
        assert s.get(QueueItem, it["id"]).status == "new"  # type: ignore[union-attr]
    # XHR callers get JSON, never a traceback
    r = c.post(f"/console/items/{it['id']}/publish", data={"csrf_token": csrf_token(c, "/console/"), **base,
                                                           "citations": "不存在的条例#9"},
               headers={"X-Requested-With": "XMLHttpRequest"})
    assert r.status_code == 400 and r.get_json() == {"error_code": "bad_citation",
                                                     "message": "引用的条文不存在：不存在的条例#9"}


def test_merge_and_split(console_env: ConsoleEnv) -> None:  # noqa: F811
    env = console_env
    a, b = make_item(env.svc, "普陀区", members=2), make_item(env.svc, "普陀区", members=1)
    dh = make_item(env.svc, "定海区", members=1)
    c = env.client("putuo")
    _post(c, f"/console/items/{a['id']}/merge", {"other_ids": f"#{dh['id']}"})
    assert ("error", f"问题 #{dh['id']} 不存在或不在您的权限范围内") in flashes(c)  # existence not revealed
    _post(c, f"/console/items/{a['id']}/merge", {"other_ids": "99999999"})
    assert ("error", "问题 #99999999 不存在或不在您的权限范围内") in flashes(c)
    _post(c, f"/console/items/{a['id']}/merge", {"other_ids": "abc"})
    assert any("问题编号" in m for cat, m in flashes(c) if cat == "error")
    _post(c, f"/console/items/{a['id']}/merge", {"other_ids": str(b["id"])})
    assert ("ok", f"已将 #{b['id']} 合并到本问题") in flashes(c)
    with env.svc.Session() as s:
        assert s.get(QueueItem, a["id"]).count == 3  # type: ignore[union-attr]
        assert s.get(QueueItem, b["id"]).status == "closed"  # type: ignore[union-attr]
    _post(c, f"/console/items/{a['id']}/split", {"question_ids": [str(a["qids"][1]), str(b["qids"][0])]})
    msg = [m for cat, m in flashes(c) if cat == "ok"][-1]
    new_id = int(msg.rsplit("#", 1)[1])
    with env.svc.Session() as s:
        assert s.get(QueueItem, a["id"]).count == 1  # type: ignore[union-attr]
        assert s.get(QueueItem, new_id).count == 2  # type: ignore[union-attr]
    _post(c, f"/console/items/{a['id']}/split", {"question_ids": [str(a["qids"][0])]})
    assert ("error", "请选择部分（不是全部）成员问题拆分") in flashes(c)
    assert _audit(env, f"queue:{a['id']}") == ["merge", "split"]


def test_queue_filters_sla_and_scope(console_env: ConsoleEnv) -> None:  # noqa: F811
    env = console_env
    old = make_item(env.svc, "岱山县", title="岱山县老问题：渔港含油废水收集", age_days=9)
    fresh = make_item(env.svc, "岱山县", title="岱山县新问题：渔港含油废水收集后怎么运", age_days=1)
    admin = env.client("admin")
    html = _html(admin, "/console/?district=岱山县&sort=age")
    assert html.index(old["title"]) < html.index(fresh["title"])
    rows = re.findall(r'<tr class="([^"]*)" data-testid="queue-row">\s*<td class="num">#(\d+)', html)
    overdue = {int(i) for cls, i in rows if "is-overdue" in cls}
    assert old["id"] in overdue and fresh["id"] not in overdue
    env.app.config["QUEUE_SLA_DAYS"] = 30
    try:
        assert "is-overdue" not in _html(admin, "/console/?district=岱山县")
    finally:
        env.app.config["QUEUE_SLA_DAYS"] = 5
    assert fresh["title"] in _html(admin, "/console/?district=岱山县&q=怎么运")
    assert old["title"] not in _html(admin, "/console/?district=岱山县&q=怎么运")
    # district staff of 普陀区 never see 岱山县 items, whatever they ask for; experts only their assigned items
    assert old["title"] not in _html(env.client("putuo"), "/console/?district=岱山县&status=all")
    mine = make_item(env.svc, "岱山县", assigned_to="expert2", title="专家二号的问题：船舶压载水")
    exp = _html(env.client("expert2"), "/console/?status=all")
    assert mine["title"] in exp and old["title"] not in exp
    assert old["title"] in _html(env.client("viewer"), "/console/")
    # closed items leave the default (open) view
    _post(admin, f"/console/items/{old['id']}/close", {"reason": "out_of_scope"})
    assert old["title"] not in _html(admin, "/console/?district=岱山县")
    assert old["title"] in _html(admin, "/console/?district=岱山县&status=closed")


def test_viewer_sees_no_forms_and_user_data_is_escaped(console_env: ConsoleEnv) -> None:  # noqa: F811
    env = console_env
    payload = "<img src=x onerror=alert(1)>排污许可"
    it = make_item(env.svc, "", title=payload)
    page = _html(env.client("viewer"), f"/console/items/{it['id']}")
    assert "answer-form" not in page and "assign-form" not in page and 'name="question_ids"' not in page
    assert "只读" in page and "联系方式仅市局管理员和区县工作人员可见" in page
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    admin = env.client("admin")
    assert "<img src=x" not in _html(admin, "/console/")
    _post(admin, f"/console/items/{it['id']}/assign", {"unit": "综合处"})
    audit_page = _html(admin, f"/console/audit?target=queue:{it['id']}")
    assert "<img src=x" not in audit_page and "&lt;img src=x" in audit_page
    r = env.client("admin").get("/console/")
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in csp and "unsafe-inline" not in csp


def test_hit_test_page_and_fragment(console_env: ConsoleEnv) -> None:  # noqa: F811
    c = console_env.client("viewer")
    full = _html(c, "/console/hittest?q=排污许可证有效期几年")
    assert "排污许可管理条例 第十四条" in full and "fx-pwxk-001" in full and "data-cite" not in full
    frag = _html(c, "/console/hittest?q=排污许可证有效期几年&partial=1")
    assert not frag.lstrip().startswith("<!doctype") and 'data-cite="排污许可管理条例#14"' in frag
    assert "融合" in frag and "BM25" in frag and "向量" in frag
    assert "请输入问题" in _html(c, "/console/hittest")


def test_curated_edit_versions_retire_and_review(console_env: ConsoleEnv) -> None:  # noqa: F811
    env = console_env
    c = env.client("expert")
    env.svc.indexes.publish_curated(CuratedEntry(id="t-edit-1", question="海水养殖尾水排放要办什么手续？",
                                     answer="海水养殖尾水排放应符合地方排放标准，规模以上养殖场按规定办理排污登记。",
                                     paraphrases=["养殖尾水排放手续"], citations=["排污许可管理条例#14"],
                                     category="水污染", lead_unit="水处"))
    listing = _html(c, "/console/curated?q=养殖尾水")
    assert "t-edit-1" in listing and "fx-pwxk-001" not in listing
    assert "t-edit-1" not in _html(c, "/console/curated?category=排污许可")
    form = {"question": "海水养殖尾水排放要办什么手续？", "paraphrases": "养殖尾水排放手续\n养殖废水排海要登记吗",
            "answer": "海水养殖尾水排放应符合浙江省地方排放标准，规模以上养殖场按规定办理排污登记。",
            "citations": "排污许可管理条例#14", "category": "水污染", "lead_unit": "水处", "status": "published"}
    r = _post(c, "/console/curated/t-edit-1", form)
    assert r.status_code == 302 and ("ok", "已保存（第 2 版）") in flashes(c)
    res = env.svc.retriever.search("养殖废水排海要登记吗")
    assert res.curated is not None and res.curated.hits[0].item.target == "t-edit-1"
    page = _html(c, "/console/curated/t-edit-1")
    assert "版本历史" in page and "expert" in page and "养殖废水排海要登记吗" in page
    _post(c, "/console/curated/t-edit-1", {**form, "citations": "排污许可管理条例#99999"})
    assert ("error", "引用的条文不存在：排污许可管理条例#99999") in flashes(c)
    _post(c, "/console/curated/t-edit-1", {**form, "status": "retired"})
    assert ("ok", "已保存（第 3 版），条目已停用") in flashes(c)
    res = env.svc.retriever.search("养殖废水排海要登记吗")
    assert res.curated is None or all(h.item.target != "t-edit-1" for h in res.curated.hits)
    with env.svc.Session() as s:
        versions = list(s.scalars(select(CuratedVersion.version).where(CuratedVersion.curated_id == "t-edit-1")))
        assert sorted(versions) == [2, 3]
        actions = list(s.scalars(select(AuditLog.action).where(AuditLog.target == "curated:t-edit-1")
                                  .order_by(AuditLog.id)))
        assert actions == ["edit_curated", "retire_curated"]
        repealed = s.scalars(select(Passage.id).join(Document).where(Document.status != "现行有效")).first()
    assert c.get("/console/curated/nope").status_code == 404
    # review: an entry citing a text that is no longer in force
    assert repealed is not None
    env.svc.indexes.publish_curated(CuratedEntry(id="t-old-1", question="夜间施工噪声有什么规定？", answer="见旧法。",
                                     citations=[repealed], category="噪声"))
    review = _html(c, "/console/curated/review")
    assert "t-old-1" in review and repealed in review and "已废止" in review


def test_users_create_deactivate_and_audit(console_env: ConsoleEnv) -> None:  # noqa: F811
    env = console_env
    admin = env.client("admin")
    base = {"username": "zhoushan-ds", "display_name": "岱山县王五", "role": "district", "district": "岱山县",
            "unit": "执法支队", "password": "a-long-password"}
    _post(admin, "/console/users", {**base, "district": ""})
    assert any("区县工作人员必须指定辖区" in m for cat, m in flashes(admin) if cat == "error")
    _post(admin, "/console/users", {**base, "password": "short"})
    assert ("error", "密码至少 10 位") in flashes(admin)
    _post(admin, "/console/users", base)
    assert ("ok", "已创建账号 zhoushan-ds（区县/功能区工作人员）") in flashes(admin)
    _post(admin, "/console/users", base)
    assert ("error", "用户 zhoushan-ds 已存在") in flashes(admin)
    assert "岱山县王五" in _html(admin, "/console/users")
    with env.svc.Session() as s:
        uid = s.scalars(select(StaffUser.id).where(StaffUser.username == "zhoushan-ds")).one()
    user = env.app.test_client()
    login_session(user, uid)
    assert user.get("/console/").status_code == 200
    _post(admin, f"/console/users/{uid}/deactivate", {})
    assert ("ok", "账号 zhoushan-ds 已停用") in flashes(admin)
    assert user.get("/console/").status_code == 302  # logged out on the next request
    _post(admin, f"/console/users/{env.user_ids['admin']}/deactivate", {})
    assert ("error", "不能停用自己的账号") in flashes(admin)
    assert admin.post("/console/users/999999/deactivate",
                      data={"csrf_token": csrf_token(admin, "/console/")}).status_code == 404
    _post(admin, f"/console/users/{uid}/activate", {})
    assert user.get("/console/").status_code == 200
    with env.svc.Session() as s:
        actions = list(s.scalars(select(AuditLog.action).where(AuditLog.target == "user:zhoushan-ds")
                                  .order_by(AuditLog.id)))
    assert actions == ["create_user", "deactivate_user", "activate_user"]
    audit_page = _html(admin, "/console/audit?action=create_user")
    assert "zhoushan-ds" in audit_page and "创建账号" in audit_page


def test_unexpected_errors_do_not_leak(console_env: ConsoleEnv, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    from assistant.queue import curation

    def boom(*_a: Any, **_k: Any) -> None:
        raise RuntimeError("secret internals /etc/passwd")

    monkeypatch.setattr(curation, "close", boom)
    monkeypatch.setitem(console_env.app.config, "PROPAGATE_EXCEPTIONS", False)
    it = make_item(console_env.svc, "普陀区")
    c = console_env.client("admin")
    token = csrf_token(c, "/console/")
    r = c.post(f"/console/items/{it['id']}/close", data={"csrf_token": token, "reason": "duplicate"})
    body = r.get_data(as_text=True)
    assert r.status_code == 500 and "服务内部错误" in body and "secret" not in body and "Traceback" not in body
    r = c.post(f"/console/items/{it['id']}/close", data={"csrf_token": token, "reason": "duplicate"},
               headers={"X-Requested-With": "XMLHttpRequest"})
    assert r.status_code == 500 and r.get_json() == {"error_code": "internal_error", "message": "服务内部错误，请稍后重试"}
