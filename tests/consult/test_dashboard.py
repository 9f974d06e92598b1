"""统计看板: the numbers on a hand-built dataset, scoping per role, the page (vendored Chart.js, no external URLs,
CSP-safe data block) and the CSV downloads (BOM, headers, scope, errors).

The dataset (inside the last 30 days unless said otherwise):

* questions — 普陀区: answer (widget, hits curated fx-pwxk-001), answer (widget), caution (wechat), abstain
  (wechat); 定海区: answer (widget), abstain (widget), one direct 转人工 (handoff, not "decided"); and an answer in
  普陀区 40 days ago (only in the 90-day window). 30 days: 7 questions, 6 decided, answer rate 4/6, abstention 2/6.
* queue — 普陀区: two open items (2 and 4 days old; one categorised ``=船舶污染`` to test the CSV formula guard),
  one published; 定海区: one item assigned to the expert (10 days old, uncategorised).
* consultation days — 普陀区 three days ago: 3 participants (1 registered, 2 invited), 2 attended, 2 follow-ups
  answered (solved 5 points, not solved 2 points); 定海区 40 days ago: 1 participant (only in the 90-day window).
"""

from __future__ import annotations

import csv
import io
import re
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import DATABASES, AppEnv, app_env_per_database

from assistant.auth import create_user
from assistant.consult import stats, stats_tables
from assistant.db.models import (
    AgendaItem,
    ConsultationDay,
    FollowUp,
    Participant,
    Question,
    QueueItem,
)
from assistant.domain import CHINA_TZ
from assistant.queue.curation import Actor
from assistant.service import AssistantService
from assistant.text.normalize import normalize

PASSWORD = "correct-horse-42"
USERS = {"admin": ("admin", ""), "putuo": ("district", "普陀区"), "dinghai": ("district", "定海区"),
         "viewer_pt": ("viewer", "普陀区"), "viewer": ("viewer", ""), "expert": ("expert", "")}
XSS_TOPIC = "</script><script>alert(1)</script>"
BOM = b"\xef\xbb\xbf"


Env = AppEnv  # a service and its app, with the ids of the accounts of ``USERS``


def _q(s: Any, district: str, decision: str, channel: str, days_ago: float = 1.0, top_id: str = "") -> None:
    text = f"测试问题 {secrets.token_hex(4)}"
    s.add(Question(token=secrets.token_urlsafe(24), text=text, normalized=normalize(text), channel=channel,
                   district=district, decision=decision, top_id=top_id,
                   asked_at=datetime.now(UTC) - timedelta(days=days_ago)))


def _item(s: Any, district: str, status: str, days_ago: float, category: str = "", assigned_to: str = "",
          count: int = 1) -> QueueItem:
    t = datetime.now(UTC) - timedelta(days=days_ago)
    it = QueueItem(title=f"队列问题 {secrets.token_hex(4)}", status=status, count=count, district=district,
                   category=category, assigned_to=assigned_to, first_asked=t, last_asked=t)
    s.add(it)
    s.flush()
    return it


def seed(svc: AssistantService) -> None:
    now = datetime.now(UTC)
    with svc.Session() as s:
        _q(s, "普陀区", "answer", "widget", top_id="fx-pwxk-001")
        _q(s, "普陀区", "answer", "widget", 2)
        _q(s, "普陀区", "caution", "wechat", 3)
        _q(s, "普陀区", "abstain", "wechat", 4)
        _q(s, "定海区", "answer", "widget", 5)
        _q(s, "定海区", "abstain", "widget", 6)
        _q(s, "定海区", "handoff", "widget", 6)
        _q(s, "普陀区", "answer", "widget", 40)
        pt1 = _item(s, "普陀区", "new", 2, "=船舶污染", count=3)
        _item(s, "普陀区", "assigned", 4, XSS_TOPIC)
        _item(s, "普陀区", "published", 5, "排污许可")
        _item(s, "定海区", "assigned", 10, "", assigned_to="expert")
        today = datetime.now(CHINA_TZ).date()
        day = ConsultationDay(organiser="普陀区", month=today.strftime("%Y-%m"), day=today - timedelta(days=3),
                              status="held", topics=[])
        old = ConsultationDay(organiser="定海区", month=(today - timedelta(days=40)).strftime("%Y-%m"),
                              day=today - timedelta(days=40), status="closed", topics=[])
        s.add_all([day, old])
        s.flush()
        a = AgendaItem(day_id=day.id, queue_item_id=pt1.id, position=1, title=pt1.title, outcome="已答复")
        s.add(a)
        parts = [Participant(day_id=day.id, key="company:甲", source="registered", company="甲公司", attended=True),
                 Participant(day_id=day.id, key="company:乙", source="invited", company="乙公司", invited_at=now,
                             attended=True),
                 Participant(day_id=day.id, key="company:丙", source="invited", company="丙公司", invited_at=now),
                 Participant(day_id=old.id, key="company:丁", source="walk_in", company="丁公司", attended=True)]
        s.add_all(parts)
        s.flush()
        for p, solved, score in ((parts[0], "yes", 5), (parts[1], "no", 2)):
            s.add(FollowUp(day_id=day.id, agenda_item_id=a.id, participant_id=p.id,
                           token_hash=secrets.token_hex(32), channel="phone", created_at=now - timedelta(hours=5),
                           expires_at=now + timedelta(days=30), used_at=now - timedelta(hours=1), solved=solved,
                           score=score))
        s.commit()


def _setup(env: Env) -> None:
    with env.svc.Session() as s:
        for name, (role, district) in USERS.items():
            env.user_ids[name] = create_user(s, name, PASSWORD, role, district=district).id
        s.commit()
    seed(env.svc)


@pytest.fixture(scope="module", params=DATABASES)
def env(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    yield from app_env_per_database(request, tmp_path_factory, "dashboard", _setup)


def dash(env: Env, actor: Actor, **kw: Any) -> stats.Dashboard:
    with env.svc.Session() as s:
        return stats.dashboard(s, actor, **kw)


ADMIN, PUTUO = Actor("admin", "admin"), Actor("putuo", "district", "普陀区")


# -- numbers -----------------------------------------------------------------------------------------------------
def test_admin_totals(env: Env) -> None:
    d = dash(env, ADMIN)
    t = d.total
    assert d.window.days == 30 and d.scope.city_wide and d.scope.label == "全市"
    assert t.questions == 7 and t.decided == 6
    assert (t.decisions["answer"], t.decisions["caution"], t.decisions["abstain"]) == (3, 1, 2)
    assert t.answer_rate == pytest.approx(4 / 6) and t.abstain_rate == pytest.approx(2 / 6)
    assert stats_tables.pct(t.answer_rate) == "66.7%" and stats_tables.pct(t.abstain_rate) == "33.3%"
    # per channel: widget 5 (incl. the handoff), wechat 2; the daily chart adds up
    assert d.channels == ["widget", "wechat"]
    assert sum(c["widget"] for c in d.per_day.values()) == 5 and sum(c["wechat"] for c in d.per_day.values()) == 2
    # queue: 3 open (new 1, assigned 2), median age 4 days (2, 4, 10)
    assert dict(t.open_items) == {"new": 1, "assigned": 2} and t.open_total == 3
    assert t.median_age == pytest.approx(4, abs=0.01)
    assert ("=船舶污染", 1, 3) in d.topics and ("未分类", 1, 1) in d.topics and ("排污许可", 1, 1) in d.topics
    assert d.answered_topics == [("排污许可", 1)]
    # consultation days: only 普陀区's is in the window
    assert [(c["organiser"], c["participants"], c["invited"], c["registered"], c["attended"])
            for c in d.consult_days] == [("普陀区", 3, 2, 1, 2)]
    assert (t.fu_sent, t.fu_answered, t.fu_solved) == (2, 2, 1)
    assert t.solved_rate == pytest.approx(0.5) and t.avg_score == pytest.approx(3.5)


def test_district_table(env: Env) -> None:
    tabs = stats_tables.tables(dash(env, ADMIN))
    rows = {r[0]: r for r in tabs["districts"].rows}
    h = tabs["districts"].headers
    assert h[:6] == ["区县", "提问数", "已判定", "答复率", "拒答率", "待办问题"]
    assert rows["普陀区"][1:6] == [4, 4, "75.0%", "25.0%", 2]
    assert rows["定海区"][1:6] == [3, 2, "50.0%", "50.0%", 1]
    assert rows["合计"][1:6] == [7, 6, "66.7%", "33.3%", 3]
    pt = dict(zip(h, rows["普陀区"]))
    assert (pt["咨询日场次"], pt["参会企业"], pt["到场"], pt["已解决率"], pt["平均满意度"]) == (1, 3, 2, "50.0%", "3.50")
    assert rows["岱山县"][1] == 0 and rows["岱山县"][3] == "—"  # every district listed, no data = dashes


def test_windows(env: Env) -> None:
    d90 = dash(env, ADMIN, days=90)
    assert d90.total.questions == 8 and d90.total.decisions["answer"] == 4 and len(d90.per_day) == 90
    assert {c["organiser"] for c in d90.consult_days} == {"普陀区", "定海区"}
    assert dash(env, ADMIN, days="365").window.days == 30  # not offered: the default
    d7 = dash(env, ADMIN, days=7)
    assert d7.total.questions == 7 and len(d7.per_day) == 7


def test_admin_filter(env: Env) -> None:
    d = dash(env, ADMIN, district="定海区")
    assert d.scope.filter == "定海区" and d.total.questions == 3 and d.total.answer_rate == pytest.approx(0.5)
    assert d.total.open_total == 1 and not d.consult_days and d.total.fu_answered == 0
    assert "districts" in stats_tables.tables(d)  # the comparison stays visible
    assert dash(env, ADMIN, district="火星区").scope.filter == ""  # unknown district: all


def test_district_scope(env: Env) -> None:
    d = dash(env, PUTUO, district="定海区")  # asking for another district changes nothing
    assert d.scope.district == "普陀区" and not d.scope.city_wide
    assert d.total.questions == 4 and d.total.answer_rate == pytest.approx(0.75)
    assert d.total.open_total == 2 and len(d.consult_days) == 1 and d.total.fu_answered == 2
    assert "districts" not in stats_tables.tables(d)
    dh = dash(env, Actor("dinghai", "district", "定海区"), days=90)
    assert dh.total.questions == 3 and [c["organiser"] for c in dh.consult_days] == ["定海区"]
    assert dh.total.fu_sent == 0


def test_viewer_and_expert_scope(env: Env) -> None:
    v = dash(env, Actor("viewer_pt", "viewer", "普陀区"))
    assert v.scope.district == "普陀区" and v.total.questions == 4 and "districts" not in stats_tables.tables(v)
    assert dash(env, Actor("viewer", "viewer")).scope.city_wide
    e = dash(env, Actor("expert", "expert"), district="普陀区")
    assert not e.scope.city_wide and e.scope.filter == ""
    assert e.total.open_total == 1 and e.total.open_items["assigned"] == 1  # only the item assigned to them
    assert [t[0] for t in e.topics] == ["未分类"]
    assert e.total.questions == 7  # city-wide counts (documented)
    assert "districts" not in stats_tables.tables(e)


# -- page --------------------------------------------------------------------------------------------------------
def test_anonymous_redirected(env: Env) -> None:
    for path in ("/console/dashboard", "/console/dashboard.csv?table=summary"):
        r = env.client().get(path)
        assert r.status_code == 302 and "/console/login" in r.headers["Location"]


def test_page_admin(env: Env) -> None:
    r = env.client("admin").get("/console/dashboard")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert '统计看板</a>' in html and 'data-testid="nav-dashboard"' in html
    assert 'src="/console/static/vendor/chart.umd.min.js"' in html and 'src="/console/static/dashboard.js"' in html
    assert not re.search(r'(?:src|href)\s*=\s*"(?:https?:)?//', html), "no external URLs"
    assert "cdn" not in html.lower()
    # inline scripts: only the JSON data block (not executable); nothing else without a src
    inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", html)
    assert inline == [' type="application/json" id="dash-data"']
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in csp
    nonce = re.search(r"'nonce-([^']+)'", csp)
    assert nonce and f'<style nonce="{nonce.group(1)}">' in html
    # the data block: valid JSON, and a topic cannot close the script element
    m = re.search(r'<script type="application/json" id="dash-data">(.*?)</script>', html, re.S)
    assert m is not None and XSS_TOPIC not in m.group(1)
    import json

    data = json.loads(m.group(1))
    assert [ds["label"] for ds in data["questions"]["datasets"]] == ["网页挂件", "微信"]
    assert XSS_TOPIC in data["topics"]["labels"]
    assert XSS_TOPIC not in html  # escaped in the HTML table too
    # numbers visible as HTML
    assert 'data-testid="kpi-answer-rate">66.7%<' in html and 'data-testid="kpi-abstain-rate">33.3%<' in html
    assert 'data-testid="dash-table-districts"' in html and '<th scope="row">定海区</th>' in html
    assert 'name="district"' in html
    assert "/console/dashboard.csv?table=districts&amp;days=30" in html


def test_page_district_user(env: Env) -> None:
    html = env.client("putuo").get("/console/dashboard?days=90&district=定海区").get_data(as_text=True)
    assert 'data-testid="dash-scope">普陀区<' in html
    assert 'data-testid="kpi-questions">5<' in html  # 普陀区 in 90 days: 4 + the old one
    assert 'data-testid="dash-table-districts"' not in html and 'name="district"' not in html
    assert "定海区" not in html.split('data-testid="dash-kpis"', 1)[1]


def test_page_expert_and_viewer(env: Env) -> None:
    for user in ("expert", "viewer_pt", "viewer"):
        r = env.client(user).get("/console/dashboard?days=7")
        assert r.status_code == 200, user


def test_static_vendor_served(env: Env) -> None:
    r = env.client().get("/console/static/vendor/chart.umd.min.js")
    assert r.status_code == 200 and b"Chart.js v4" in r.data[:200]
    r.close()
    lic = Path(__file__).resolve().parents[2] / "web/static/console/vendor/chart.js.LICENSE.md"
    assert "MIT License" in lic.read_text(encoding="utf-8")
    r = env.client().get("/console/static/dashboard.js")
    assert r.status_code == 200
    r.close()


# -- CSV ---------------------------------------------------------------------------------------------------------
def _csv(r: Any) -> list[list[str]]:
    assert r.data.startswith(BOM)
    return list(csv.reader(io.StringIO(r.data[3:].decode("utf-8"))))


def test_csv_admin(env: Env) -> None:
    r = env.client("admin").get("/console/dashboard.csv?table=districts&days=30")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/csv") and "charset=utf-8" in r.headers["Content-Type"]
    cd = r.headers["Content-Disposition"]
    assert cd.startswith("attachment;") and 'filename="dashboard-districts-30d-' in cd and "filename*=UTF-8''" in cd
    rows = _csv(r)
    assert rows[0] == stats_tables.DISTRICT_HEADERS
    by = {row[0]: row for row in rows[1:]}
    assert by["普陀区"][1:6] == ["4", "4", "75.0%", "25.0%", "2"]
    assert by["合计"][1:6] == ["7", "6", "66.7%", "33.3%", "3"]
    summary = dict(tuple(x) for x in _csv(env.client("admin").get("/console/dashboard.csv?table=summary"))[1:])
    assert summary["提问数"] == "7" and summary["答复率"] == "66.7%" and summary["跟踪问效：平均满意度（1—5 分）"] == "3.50"
    # filtered by district
    f = dict(tuple(x) for x in _csv(env.client("admin").get(
        "/console/dashboard.csv?table=summary&district=定海区"))[1:])
    assert f["提问数"] == "3"
    # formula guard: a category beginning with "=" is written as text
    topics = _csv(env.client("admin").get("/console/dashboard.csv?table=topics"))
    assert topics[0] == ["主题", "问题数", "累计提问次数"] and ["'=船舶污染", "1", "3"] in topics
    daily = _csv(env.client("admin").get("/console/dashboard.csv?table=daily&days=7"))
    assert daily[0] == ["日期", "网页挂件", "微信", "合计"] and len(daily) == 8
    assert sum(int(row[-1]) for row in daily[1:]) == 7


def test_csv_scope(env: Env) -> None:
    c = env.client("putuo")
    summary = dict(tuple(x) for x in _csv(c.get("/console/dashboard.csv?table=summary&district=定海区"))[1:])
    assert summary["提问数"] == "4" and summary["答复率"] == "75.0%"
    consult = _csv(c.get("/console/dashboard.csv?table=consult&days=90"))
    assert [row[1] for row in consult[1:]] == ["普陀区"]
    r = c.get("/console/dashboard.csv?table=districts")  # not theirs to see
    assert r.status_code == 400 and "没有这个统计表" in r.get_data(as_text=True)


def test_csv_unknown_table(env: Env) -> None:
    c = env.client("admin")
    r = c.get("/console/dashboard.csv?table=<b>nope</b>")
    body = r.get_data(as_text=True)
    assert r.status_code == 400 and r.mimetype == "text/html"
    assert "没有这个统计表" in body and "<b>nope</b>" not in body and "可下载" in body
    r = c.get("/console/dashboard.csv", headers={"X-Requested-With": "XMLHttpRequest"})
    assert r.status_code == 400 and r.get_json()["error_code"] == "invalid_table"
    assert "没有这个统计表" in r.get_json()["message"]
