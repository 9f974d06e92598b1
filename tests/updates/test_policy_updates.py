"""政策速递 end to end, on SQLite and PostgreSQL: an enterprise asks a question answered with article N; a new version
of the regulation changes N; the old version stays readable; the console lists the enterprise; sending creates
exactly one notice (never twice); /updates shows the diff; an answer now cites the new text and says it was revised;
subscriptions reach subscribers; bad input gets a Chinese error."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from conftest import build_service, hold, login_session, make_settings, pg_schema
from sqlalchemy import func, select

from assistant.app import create_app
from assistant.auth import create_user
from assistant.db.models import ChangeNotice, DocumentVersion, Notification, PolicyChange, Question
from assistant.service import AssistantService

TITLE = "排污许可管理条例"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def new_version(src: Path, dst: Path) -> None:
    """The fixture regulation, revised: article 14 changes (有效期 five → three years), a new last article."""
    text = src.read_text(encoding="utf-8")
    text = text.replace("2021年3月1日 施行", "2021年3月1日 施行\n\n2026年11月1日 国务院令修订")
    assert "第十四条 排污许可证的有效期为五年。" in text
    text = text.replace("第十四条 排污许可证的有效期为五年。", "第十四条 排污许可证的有效期为三年，自发证之日起计算。")
    text = text.rstrip() + "\n\n第九十九条 排污单位应当每年公开一次排污许可证执行情况。\n"
    dst.write_text(text, encoding="utf-8")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[AssistantService, object, dict[str, int]]]:
    if request.param == "sqlite":
        url, gen = f"sqlite:///{tmp_path / 'env' / 'a.db'}", None
    else:
        gen = pg_schema()
        url = next(gen)
    svc = build_service(make_settings(tmp_path / "env", url))
    app = create_app(service=svc, start=False)
    app.config.update(TESTING=True, WTF_CSRF_ENABLED=True)
    with svc.Session() as s:
        ids = {name: create_user(s, name, "correct-horse-42", role).id
               for name, role in (("admin", "admin"), ("viewer", "viewer"), ("expert", "expert"))}
        s.commit()
    yield from hold((svc, app, ids), svc.stop_background, svc.engine.dispose, *([gen.close] if gen else []))


def _client(app: object, uid: int | None = None):  # type: ignore[no-untyped-def]
    c = app.test_client()  # type: ignore[attr-defined]
    if uid is not None:
        login_session(c, uid)
    return c


def _csrf(client, path: str) -> str:  # type: ignore[no-untyped-def]
    m = CSRF_RE.search(client.get(path).get_data(as_text=True))
    assert m, path
    return m.group(1)


def test_change_reaches_the_asker_once_and_the_answer_says_revised(env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    svc, app, ids = env
    out = svc.ask("排污许可证的有效期是几年", channel="chat", session_id="sess-enterprise-1", enterprise="舟山某水产公司")
    cited = [c["id"] for c in out.answer.as_dict()["citations"]]
    assert f"{TITLE}#14" in cited  # the question is answered with article 14

    src = svc.settings.corpus.shared_data / "laws" / f"{TITLE}.md"
    new_version(src, src)
    report = svc.ingest([src])
    assert report.changes and report.changes[0]["kind"] == "修订"
    assert report.changes[0]["changed"] == 1 and report.changes[0]["added"] == 1
    assert report.changes[0]["removed"] == 0 and report.changes[0]["renumbered"] == 0
    assert not svc.ingest([src]).changes  # re-ingesting the same text records nothing

    with svc.Session() as s:
        change = s.scalar(select(PolicyChange))
        assert change is not None and change.old_label == "2021-03-01" and change.new_label == "2026-11-01"
        assert f"{TITLE}#14" in change.touched and f"{TITLE}#99" in change.touched
        v = s.scalar(select(DocumentVersion))
        assert v is not None and any("有效期为五年" in p["text"] for p in v.passages)
        cid = change.id

    # the old version stays readable, marked; the current page offers the history and marks the changed article
    web = _client(app)
    old = web.get("/doc/" + quote(f"{TITLE}@2021-03-01#14", safe=""))
    assert old.status_code == 200
    html = old.get_data(as_text=True)
    assert "有效期为五年" in html and "此为历史版本（2021-03-01）" in html
    assert 'data-testid="doc-status">已修订<' in html and "本文件已被修改" not in html  # never shown as in force
    cur = web.get("/doc/" + quote(f"{TITLE}#14", safe="")).get_data(as_text=True)
    assert "有效期为三年" in cur and 'data-testid="doc-versions"' in cur and 'data-testid="doc-changed-mark"' in cur
    assert web.get("/doc/" + quote(f"{TITLE}@1999-01-01", safe="")).status_code == 404

    # /updates: the change with its diff (新增/删除 marked), the Atom feed
    lst = web.get("/updates").get_data(as_text=True)
    assert f"《{TITLE}》修订" in lst and f"/updates/{cid}" in lst
    page = web.get(f"/updates/{cid}").get_data(as_text=True)
    assert '<del class="diff-del">五年。</del>' in page or '<del class="diff-del">五' in page
    assert '<ins class="diff-ins">' in page and "第九十九条" in page
    feed = web.get("/updates/feed.xml")
    assert feed.mimetype == "application/atom+xml" and f"/updates/{cid}</id>" in feed.get_data(as_text=True)

    # the console lists the enterprise; sending creates exactly one notice, and never a second one
    admin = _client(app, ids["admin"])
    item = admin.get(f"/console/updates/{cid}").get_data(as_text=True)
    assert "舟山某水产公司" in item and "排污许可证的有效期是几年" in item and "未通知" in item
    token = _csrf(admin, f"/console/updates/{cid}")
    picks = re.findall(r'name="to" value="([^"]+)"', item)
    assert picks == ["web|sess-enterprise-1"]
    none = admin.post(f"/console/updates/{cid}/notify", data={"csrf_token": token},  # nobody ticked: nothing sent
                      headers={"Accept": "application/json"})
    assert none.status_code == 400 and none.get_json()["error_code"] == "no_recipients"
    with svc.Session() as s:
        assert s.scalar(select(func.count(ChangeNotice.id))) == 0
    for _ in range(2):
        r = admin.post(f"/console/updates/{cid}/notify", data={"csrf_token": token, "to": picks})
        assert r.status_code == 302
    with svc.Session() as s:
        notices = list(s.scalars(select(ChangeNotice).where(ChangeNotice.change_id == cid)))
        assert len(notices) == 1 and notices[0].channel == "web" and notices[0].recipient == "sess-enterprise-1"
        q = s.get(Question, notices[0].question_id)
        assert q is not None and q.enterprise == "舟山某水产公司"
        key = notices[0].key
        web_notes = s.scalar(select(func.count(Notification.id)).where(Notification.kind == "policy_change"))
        assert web_notes == 1
    assert "已通知" in admin.get(f"/console/updates/{cid}").get_data(as_text=True)
    # the asker sees it: with the question's status, and when the chat opens (by session)
    st = web.get(f"/api/v1/questions/{q.token}").get_json()
    assert any(n["kind"] == "policy_change" and f"/updates/{cid}?n={key}" in n["text"] for n in st["notices"])
    got = web.get("/api/v1/notices?session=sess-enterprise-1").get_json()["notices"]
    assert len(got) == 1 and got[0]["change_id"] == cid and "第十四条" in got[0]["text"]
    # opening the link counts the notice as opened (once)
    web.get(f"/updates/{cid}?n={key}")
    web.get(f"/updates/{cid}?n={key}")
    assert "已打开 <b>1</b> 条" in admin.get("/console/updates").get_data(as_text=True)
    dash = admin.get("/console/dashboard").get_data(as_text=True)
    assert re.search(r'data-testid="kpi-policy-notices">1<.*?已打开 1（', dash, re.S)

    # an answer now cites the new text (after the index rebuild that follows an ingest) and says it was revised
    svc.build_indexes()
    again = svc.ask("排污许可证的有效期是几年", channel="chat", session_id="sess-enterprise-2").answer.as_dict()
    card = next(c for c in again["citations"] if c["id"] == f"{TITLE}#14")
    assert {k: card["revised"][k] for k in ("kind", "label", "url")} == \
        {"kind": "修订", "label": "2026-11-01", "url": f"/updates/{cid}"}
    assert "三年" in card["snippet"]
    # the curated answer (reviewed before the new text arrived) is flagged: its wording may be out of date
    assert again["curated"] and again["curated"]["reviewed"] < card["revised"]["recorded"]
    assert "已修订" in again["notice"] and "复核" in again["notice"]


def test_interpretation_roles_and_publication(env) -> None:  # type: ignore[no-untyped-def]
    svc, app, ids = env
    src = svc.settings.corpus.shared_data / "laws" / f"{TITLE}.md"
    new_version(src, src)
    svc.ingest([src])
    with svc.Session() as s:
        cid = s.scalar(select(PolicyChange.id))
    viewer = _client(app, ids["viewer"])
    t = _csrf(viewer, f"/console/updates/{cid}")
    r = viewer.post(f"/console/updates/{cid}/interpretation", data={"csrf_token": t, "interpretation": "x",
                                                                    "action": "publish"})
    assert r.status_code == 403
    expert = _client(app, ids["expert"])
    t = _csrf(expert, f"/console/updates/{cid}")
    assert expert.post(f"/console/updates/{cid}/notify", data={"csrf_token": t}).status_code == 403
    text = "有效期由五年改为三年<script>alert(1)</script>，<b>已发证的</b>按原有效期执行。"
    r = expert.post(f"/console/updates/{cid}/interpretation", data={"csrf_token": t, "interpretation": text,
                                                                    "action": "publish"})
    assert r.status_code == 302
    page = _client(app).get(f"/updates/{cid}").get_data(as_text=True)
    assert "有效期由五年改为三年" in page and "<b>已发证的</b>" in page and "<script>alert" not in page
    assert "解读" in _client(app).get("/updates/feed.xml").get_data(as_text=True)
    # no CSRF token: refused, nothing changed
    r = expert.post(f"/console/updates/{cid}/interpretation", data={"interpretation": "改掉", "action": "publish"})
    assert r.status_code in (400, 403)
    with svc.Session() as s:
        c = s.get(PolicyChange, cid)
        assert c is not None and c.interpretation_status == "published" and "改掉" not in c.interpretation


def test_subscribers_of_a_topic_are_notified(env) -> None:  # type: ignore[no-untyped-def]
    svc, app, ids = env
    web = _client(app)
    r = web.post("/api/v1/subscriptions", json={"session": "sess-subscriber-9", "topics": "排污证"})
    assert r.status_code == 200, r.get_json()
    topics = r.get_json()["subscribed"]
    assert topics and all("排污许可" in t for t in topics)
    bad = web.post("/api/v1/subscriptions", json={"session": "sess-subscriber-9", "topics": "火星移民"})
    assert bad.status_code == 400 and bad.get_json()["error_code"] == "unknown_topic" and "可订阅的主题" in \
        bad.get_json()["message"]
    assert web.get("/api/v1/subscriptions?session=x").get_json()["error_code"] == "invalid_session"
    src = svc.settings.corpus.shared_data / "laws" / f"{TITLE}.md"
    new_version(src, src)
    svc.ingest([src])
    with svc.Session() as s:
        change = s.scalar(select(PolicyChange))
        assert change is not None and set(topics) & set(change.topics)
        cid = change.id
    admin = _client(app, ids["admin"])
    assert "订阅了相关主题" in admin.get(f"/console/updates/{cid}").get_data(as_text=True)
    page = admin.get(f"/console/updates/{cid}").get_data(as_text=True)
    admin.post(f"/console/updates/{cid}/notify", data={"csrf_token": _csrf(admin, f"/console/updates/{cid}"),
                                                       "to": re.findall(r'name="to" value="([^"]+)"', page)})
    got = web.get("/api/v1/notices?session=sess-subscriber-9").get_json()["notices"]
    assert len(got) == 1 and "订阅的主题" in got[0]["text"]
    # 退订: a later change would not reach them
    assert web.post("/api/v1/subscriptions/cancel", json={"session": "sess-subscriber-9"}).get_json() == \
        {"subscribed": []}


def test_a_new_regulation_that_repeals_an_older_one_records_the_replacement(env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    svc, app, _ = env
    old = tmp_path / "舟山市示例海岸保护规定.md"
    new = tmp_path / "舟山市示例海岸保护条例.md"
    old.write_text("# 舟山市示例海岸保护规定\n\n2015年3月1日 通过\n\n<!-- INFO END -->\n\n"
                   "第一条 为了保护海岸线，制定本规定。\n\n第二条 禁止在海岸线向陆一侧一百米内新建排污口。\n\n"
                   "第三条 违反第二条规定的，处一万元以上五万元以下罚款。\n", encoding="utf-8")
    new.write_text("# 舟山市示例海岸保护条例\n\n2025年6月1日 通过\n\n<!-- INFO END -->\n\n"
                   "第一条 为了保护海岸线和海洋生态环境，制定本条例。\n\n"
                   "第二条 海岸线保护实行分类管理。\n\n"
                   "第三条 禁止在海岸线向陆一侧二百米内新建排污口。\n\n"
                   "第四条 违反第三条规定的，处五万元以上二十万元以下罚款。\n\n"
                   "第五条 本条例自2025年9月1日起施行。《舟山市示例海岸保护规定》同时废止。\n", encoding="utf-8")
    svc.ingest([old])
    report = svc.ingest([new])
    assert [(c["kind"], c["replaces"]) for c in report.changes] == [("替代", "舟山市示例海岸保护规定")]
    assert "舟山市示例海岸保护规定" in report.status_changed
    assert not svc.ingest([old, new]).changes  # idempotent
    with svc.Session() as s:
        c = s.scalar(select(PolicyChange))
        assert c is not None and c.title == "舟山市示例海岸保护条例" and c.old_label == "2015-03-01"
        rows = {(d["old"], d["new"]): d["op"] for d in c.diff if d["old"] and d["new"]}
        assert rows == {("1", "1"): "changed", ("2", "3"): "changed", ("3", "4"): "changed"}
        assert [d["new"] for d in c.diff if d["op"] == "added"] == ["2", "5"]
    web = _client(app)
    old_page = web.get("/doc/" + quote("舟山市示例海岸保护规定", safe="")).get_data(as_text=True)
    assert 'data-testid="doc-replaced-by"' in old_page and "已废止" in old_page
    hist = web.get("/doc/" + quote("舟山市示例海岸保护规定@2015-03-01#2", safe=""))
    assert hist.status_code == 200 and "一百米" in hist.get_data(as_text=True)
    page = web.get(f"/updates/{c.id}").get_data(as_text=True)
    assert "由《舟山市示例海岸保护条例》替代《舟山市示例海岸保护规定》" in page and "原第二条" in page


def test_a_reparse_without_text_changes_is_not_news(env) -> None:  # type: ignore[no-untyped-def]
    """Only headings moved (a new splitter, a fixed chapter line): the document is updated, nothing is recorded."""
    svc, _, _ = env
    src = svc.settings.corpus.shared_data / "laws" / f"{TITLE}.md"
    text = src.read_text(encoding="utf-8")
    assert "## 第一章 总 则" in text
    src.write_text(text.replace("## 第一章 总 则", "## 第一章 总则"), encoding="utf-8")
    report = svc.ingest([src])
    assert report.updated == 1 and report.changes == []
    with svc.Session() as s:
        assert s.scalar(select(func.count(PolicyChange.id))) == 0
        assert s.scalar(select(func.count(DocumentVersion.id))) == 0


def test_an_asker_who_left_a_phone_with_consent_is_on_the_phone_list(env) -> None:  # type: ignore[no-untyped-def]
    from assistant.domain import Actor
    from assistant.updates.audience import who_needs_to_know
    from assistant.updates.notices import send

    svc, _, _ = env
    out = svc.ask("排污许可证的有效期是几年", channel="widget", session_id="sess-phone-1")
    svc.questions.handoff(None, out.question_id, out.token, {"name": "王工", "company": "嵊泗某水产公司",
                                                             "phone": "13905800000"}, True, channel="widget",
                          session_id="sess-phone-1")
    svc.ask("排污许可证的有效期是几年", channel="widget", session_id="sess-web-2")  # no contact: a web notice
    src = svc.settings.corpus.shared_data / "laws" / f"{TITLE}.md"
    new_version(src, src)
    svc.ingest([src])
    with svc.Session() as s:
        change = s.scalar(select(PolicyChange))
        assert change is not None
        people = {(r.channel, r.recipient): r for r in who_needs_to_know(s, change)}
        assert set(people) == {("phone", "13905800000"), ("web", "sess-web-2")}
        assert people[("phone", "13905800000")].enterprise == "嵊泗某水产公司"
        assert people[("phone", "13905800000")].name == "王工"
        counts = send(s, Actor("admin", "admin"), change.id, "https://zixun.example.cn")
        assert (counts["phone"], counts["web"]) == (1, 1)
        statuses = sorted(s.scalars(select(ChangeNotice.status)))
        assert statuses == ["phone_list", "sent"]
