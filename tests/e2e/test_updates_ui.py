"""政策速递 in a real browser, on a desktop and a 390 px phone: an enterprise asks, the regulation is revised, staff send
the notice; when the chat opens again the notice is shown once with its link; the cited article's card says 本条已修订
and links to the change; /updates and the change page (新增/删除 marked) and the old version's page render without
horizontal overflow; 订阅 / 退订 typed in the chat are commands, not questions. Screenshots go to build/e2e/."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from conftest import E2E_ARTIFACTS as ARTIFACTS
from conftest import VIEWPORTS, LiveApp, ask_in_chat, console_login, live_app, open_chat
from sqlalchemy import func, select

from assistant.db.models import PolicyChange, Question
from assistant.domain import Actor
from assistant.updates.notices import send

TITLE = "排污许可管理条例"
QUESTION = "排污许可证的有效期是几年"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    with live_app(tmp_path_factory, "e2e-updates", ratelimit_ask="1000/minute",
                  ratelimit_write="1000/minute") as app:
        yield app


def _revise(live: LiveApp) -> int:
    """A new version of the regulation: article 14 changes; the index is rebuilt; returns the change id."""
    with live.svc.Session() as s:
        have = s.scalar(select(PolicyChange.id))
    if have is not None:
        return int(have)
    src = live.svc.settings.corpus.shared_data / "laws" / f"{TITLE}.md"
    text = src.read_text(encoding="utf-8").replace("2021年3月1日 施行", "2021年3月1日 施行\n\n2026年11月1日 国务院令修订")
    src.write_text(text.replace("排污许可证的有效期为五年。", "排污许可证的有效期为三年，自发证之日起计算。"),
                   encoding="utf-8")
    live.svc.ingest([src])
    live.svc.build_indexes()
    with live.svc.Session() as s:
        cid = s.scalar(select(PolicyChange.id))
        assert cid is not None
        return int(cid)


@pytest.mark.e2e
@pytest.mark.parametrize(("name", "viewport"), VIEWPORTS)
def test_notice_revised_card_and_updates_pages(browser: Any, live: LiveApp, name: str,
                                               viewport: dict[str, int]) -> None:
    ctx, page = open_chat(browser, live.base, viewport)
    first = ask_in_chat(page, QUESTION)
    first.locator(f'[data-citation-id="{TITLE}#14"]').wait_for()
    cid = _revise(live)
    with live.svc.Session() as s:
        sent = send(s, Actor("admin", "admin"), cid, live.base)
    assert sent["web"] >= 1

    page.reload()
    notice = page.get_by_test_id("policy-notice")
    notice.wait_for()
    assert notice.count() == 1 and f"《{TITLE}》已修订（2026-11-01）" in notice.inner_text()
    assert QUESTION in notice.inner_text()
    link = notice.locator("a")
    assert link.get_attribute("href").startswith(f"/updates/{cid}?n=")
    msg = ask_in_chat(page, QUESTION)
    card = msg.locator(f'[data-citation-id="{TITLE}#14"]')
    card.wait_for()
    assert "本条已修订（2026-11-01）" in card.get_by_test_id("citation-revised").inner_text()
    card.locator("summary").click()
    assert card.get_by_test_id("citation-change-link").get_attribute("href") == f"/updates/{cid}"
    page.screenshot(path=str(ARTIFACTS / f"{name}-updates-chat.png"))
    page.reload()
    page.get_by_test_id("bot-message").last.wait_for()
    assert page.get_by_test_id("policy-notice").count() == 0  # shown once

    # 订阅 / 退订 are commands: answered, never stored as questions
    with live.svc.Session() as s:
        before = s.scalar(select(func.count(Question.id)))
    reply = ask_in_chat(page, "订阅 排污证")
    assert "已订阅：" in reply.inner_text() and "排污许可" in reply.inner_text()
    reply = ask_in_chat(page, "退订")
    assert "已退订" in reply.inner_text()
    with live.svc.Session() as s:
        assert s.scalar(select(func.count(Question.id))) == before

    page.goto(live.base + f"/updates/{cid}")
    rows = page.get_by_test_id("diff-row")
    assert rows.count() == 1 and page.locator("del.diff-del").count() >= 1 and page.locator("ins.diff-ins").count() >= 1
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.screenshot(path=str(ARTIFACTS / f"{name}-update-diff.png"), full_page=True)
    page.goto(live.base + "/doc/" + quote(f"{TITLE}@2021-03-01#14", safe=""))
    assert "此为历史版本（2021-03-01）" in page.get_by_test_id("doc-old-version").inner_text()
    assert "有效期为五年" in page.locator("article.hl").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.wait_for_timeout(800)  # the page scrolls smoothly to the highlighted article
    page.screenshot(path=str(ARTIFACTS / f"{name}-doc-old-version.png"), full_page=True)
    page.goto(live.base + "/updates")
    assert page.get_by_test_id("update-card").count() == 1
    page.screenshot(path=str(ARTIFACTS / f"{name}-updates-list.png"))
    ctx.close()


@pytest.mark.e2e
def test_console_lists_who_needs_to_know_and_sends(browser: Any, live: LiveApp) -> None:
    """Staff in the console: the change with its diff, the asker ticked, 发送, then 已通知 — no console errors."""
    from assistant.auth import create_user

    with live.svc.Session() as s:
        if s.scalar(select(func.count()).select_from(Question).where(Question.session_id == "sess-console-1")) == 0:
            create_user(s, "admin-updates", "correct-horse-42", "admin")
            s.commit()
    live.svc.ask(QUESTION, channel="chat", session_id="sess-console-1", enterprise="岱山某船舶修造公司")
    cid = _revise(live)
    ctx = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = ctx.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    console_login(page, live.base, "admin-updates", "correct-horse-42")
    page.get_by_test_id("nav-updates").click()
    page.get_by_test_id("updates-table").wait_for()
    page.goto(live.base + f"/console/updates/{cid}")
    row = page.get_by_test_id("notice-row").filter(has_text="岱山某船舶修造公司")
    assert row.count() == 1 and "未通知" in row.get_by_test_id("notice-status").inner_text()
    assert row.get_by_test_id("notice-pick").is_checked()
    page.screenshot(path=str(ARTIFACTS / "desktop-console-update.png"), full_page=True)
    page.get_by_test_id("send-notices").click()
    row = page.get_by_test_id("notice-row").filter(has_text="岱山某船舶修造公司")
    assert "已通知" in row.get_by_test_id("notice-status").inner_text()
    assert "已发送" in page.locator(".flash-ok").inner_text()
    assert not problems, problems
    ctx.close()
