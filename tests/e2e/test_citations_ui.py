"""Citation hygiene in the chat page (issue #15), in a real browser (Playwright driving Debian's Chromium): under a
curated answer, 依据 holds only the answer's own citations; what retrieval found besides sits in a collapsed
其他可能相关的条文 section; every card's link opens its document page.

Screenshots go to build/e2e/ (test artifacts)."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import E2E_ARTIFACTS as ARTIFACTS
from conftest import PWXK, VIEWPORTS, LiveApp, ask_in_chat, live_app, open_chat


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    with live_app(tmp_path_factory, "e2e-cite", ratelimit_ask="1000/minute") as app:
        yield app


@pytest.mark.parametrize(("name", "viewport"), VIEWPORTS)
def test_curated_answer_basis_is_its_own_and_other_articles_are_collapsed(browser: Any, live: LiveApp, name: str,
                                                                        viewport: dict[str, int]) -> None:
    ctx, page = open_chat(browser, live.base, viewport)
    msg = ask_in_chat(page, "排污许可证能用几年")
    msg.get_by_test_id("curated-answer").wait_for()

    basis = msg.get_by_test_id("citations-basis")
    assert basis.locator(".section-title").inner_text() == "依据"
    ids = [c.get_attribute("data-citation-id") for c in basis.get_by_test_id("citation-card").all()]
    assert ids == [f"{PWXK}#14"]  # the curated answer's own citation, nothing appended

    more = msg.get_by_test_id("related-articles")
    assert more.count() == 1
    assert more.locator(":scope > summary").inner_text().startswith("其他可能相关的条文")
    assert more.evaluate("e => e.open") is False  # collapsed
    others = more.get_by_test_id("citation-card")
    assert others.count() >= 1 and not others.first.is_visible()
    page.screenshot(path=str(ARTIFACTS / f"{name}-curated-citations.png"))

    more.locator(":scope > summary").click()
    assert others.first.is_visible()
    other_ids = [c.get_attribute("data-citation-id") for c in others.all()]
    assert f"{PWXK}#14" not in other_ids
    page.screenshot(path=str(ARTIFACTS / f"{name}-curated-related-open.png"))

    # every card's 查看原文 opens its document page
    hrefs = [a.get_attribute("href") for a in msg.get_by_test_id("citation-link").all()]
    assert hrefs and all(h.startswith("/doc/") for h in hrefs)
    for h in hrefs:
        with urllib.request.urlopen(live.base + h) as r:
            assert r.status == 200
    ctx.close()


def test_an_answer_kept_in_the_history_from_before_is_shown_the_same_way(browser: Any, live: LiveApp) -> None:
    """The chat keeps answers in localStorage: one stored before issue #15 (a curated answer with retrieved cards
    appended to its citations, a reply titled with its record id, no parts) is split and named like a new one."""
    def card(pid: str, kind: str) -> dict[str, Any]:
        title = pid.split("#")[0]
        return {"id": pid, "title": title, "article": None, "label": f"《{title}》", "url": "/doc/x",
                "status": "现行有效", "kind": kind, "snippet": "……", "highlights": []}

    old = {"decision": "answer", "confidence": 0.9, "notice": "", "footer": "", "related": [],
           "curated": {"id": "fx-pwxk-001", "question": "排污许可证的有效期是几年？", "answer": "五年。",
                       "citations": [f"{PWXK}#14"]},
           "citations": [{**card(f"{PWXK}#14", "行政法规"), "article": 14, "label": f"《{PWXK}》第十四条"},
                         card("中华人民共和国防治陆源污染物污染损害海洋环境管理条例#15", "行政法规"),
                         card("部长信箱·关于排污登记是否需要领证的回复（mee-141）#1", "官方答复")]}
    history = [{"role": "user", "text": "排污许可证能用几年"}, {"role": "bot", "answer": old}]
    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    ctx.add_init_script("localStorage.setItem('zsenv-history-v1', " + repr(json.dumps(history)) + ");")
    page = ctx.new_page()
    page.goto(live.base + "/chat")
    msg = page.get_by_test_id("bot-message").filter(has=page.get_by_test_id("curated-answer")).first
    msg.wait_for()
    basis = msg.get_by_test_id("citations-basis")
    assert [c.get_attribute("data-citation-id") for c in basis.get_by_test_id("citation-card").all()] == [f"{PWXK}#14"]
    more = msg.get_by_test_id("related-articles")
    assert more.evaluate("e => e.open") is False and more.get_by_test_id("citation-card").count() == 2
    labels = more.locator(".citation-label").all_text_contents()  # collapsed: not rendered, still in the page
    assert "部长信箱答复：关于排污登记是否需要领证的回复" in labels and not any("mee-141" in t for t in labels)
    # a ministry reply is not a rule in force: its card carries no 现行有效 badge; the regulation's card does
    reply = more.locator("[data-section=reply]")
    assert reply.count() == 1 and reply.locator(".badge").count() == 0
    assert more.locator("[data-section=regulation] .badge").first.text_content() == "现行有效"
    ctx.close()
