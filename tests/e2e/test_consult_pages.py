"""The consultation-day pages in a real browser (Playwright + Debian Chromium) on a month of simulated traffic from
the real petitions: the agenda page after building, the dashboard, and the public registration and follow-up pages
on a phone. Screenshots go to build/e2e/ (looked at by hand; described in the issue note)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from conftest import E2E_ARTIFACTS as ARTIFACTS
from conftest import REPO, LiveApp, console_login, live_app, require_chromium

from assistant.auth import create_user
from assistant.consult import agenda as ag
from assistant.consult import outcomes as oc
from assistant.consult import people
from assistant.consult.schedule import ensure_day
from assistant.consult.simulate import simulate
from assistant.queue.curation import Actor
from assistant.service import AssistantService

PETITIONS = REPO.parent / "shared" / "eval" / "taidi_env_petitions_unanswered.jsonl"
PASSWORD = "correct-horse-42"


def _simulated_month(svc: AssistantService) -> None:
    simulate(svc, PETITIONS, datetime(2026, 11, 1, tzinfo=UTC), limit=260)
    with svc.Session() as sess:
        create_user(sess, "admin", PASSWORD, "admin", display_name="市局管理员")
        sess.commit()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    require_chromium()
    if not PETITIONS.exists():
        pytest.skip("shared petitions file missing")
    with live_app(tmp_path_factory, "consult-e2e", _simulated_month, ratelimit_write="1000/minute") as served:
        yield served


@pytest.mark.e2e
def test_agenda_and_dashboard_pages(browser: Any, live: LiveApp) -> None:
    admin = Actor("admin", "admin")
    # a past day with outcomes and follow-up answers, so the dashboard has consultation-day numbers
    with live.svc.Session() as s:
        past = ensure_day(s, live.svc.settings, "2026-11", "市本级", admin)
        ag.build(s, past, live.svc, size=4, now=datetime(2026, 11, 9, tzinfo=UTC), actor=admin)
        ag.freeze(s, admin, past)
        people.invite(s, admin, past)
        parts = people.participants(s, past)
        for p in parts[: len(parts) // 2]:
            people.set_attendance(s, admin, past, p.id, True)
        s.commit()
        past_id, first = past.id, ag.visible(past)[0].id
    oc.record_outcome(live.svc.indexes, admin, past_id, first, "按所在区域的声环境功能区执行相应排放限值，夜间施工须依法办理手续。",
                      [])
    issued = oc.issue_followups(live.svc.session, live.svc.settings, today=date(2026, 12, 11), day_id=past_id)
    for n, f in enumerate(issued):
        oc.submit_followup(live.svc.session, f.token, "yes" if n % 3 else "no", 3 + n % 3)

    ctx = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = ctx.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    console_login(page, live.base, "admin", PASSWORD)
    page.get_by_test_id("nav-consult").click()
    page.get_by_test_id("schedule-form").locator("input[name=month]").fill("2026-12")
    page.get_by_test_id("schedule-form").locator("button").click()
    page.get_by_test_id("build-agenda").click()
    page.get_by_test_id("agenda-table").first.wait_for()
    rows = page.get_by_test_id("agenda-row")
    assert rows.count() == 10
    first_reasons = page.get_by_test_id("agenda-reasons").first.inner_text()
    assert "位提问者" in first_reasons and "已等待" in first_reasons
    widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], f"horizontal scroll at 1366: {widths}"
    page.screenshot(path=str(ARTIFACTS / "consult-agenda.png"), full_page=True)
    page.get_by_test_id("freeze-agenda").click()
    assert page.get_by_test_id("day-status").inner_text() == "议程已冻结"
    page.get_by_test_id("invite").click()
    page.get_by_test_id("participants").wait_for()
    page.screenshot(path=str(ARTIFACTS / "consult-day-frozen.png"), full_page=True)

    page.goto(live.base + "/console/dashboard?days=90")
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(500)  # chart animation
    assert page.locator("canvas").count() >= 1
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
    assert not problems, problems
    ctx.close()


@pytest.mark.e2e
def test_registration_and_followup_on_a_phone(browser: Any, live: LiveApp) -> None:
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                              has_touch=True, locale="zh-CN")
    page = ctx.new_page()
    with live.svc.Session() as s:
        ensure_day(s, live.svc.settings, "2031-05", "普陀区")
        s.commit()
    page.goto(live.base + "/consult")
    form = page.get_by_test_id("register-form")
    form.locator("select[name=day_id]").select_option(label="5月12日 · 普陀区")
    form.locator("#company").fill("舟山普陀某水产有限公司")
    form.locator("#contact").fill("李经理")
    form.locator("#phone").fill("13800001234")
    form.locator("#q0").fill("鱼粉加工的臭气执行什么排放标准？")
    form.locator("input[name=consent]").check()
    page.screenshot(path=str(ARTIFACTS / "consult-register-mobile.png"), full_page=True)
    page.get_by_test_id("register-submit").click()
    assert "报名成功" in page.get_by_test_id("register-ok").inner_text()
    widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1]
    ctx.close()
