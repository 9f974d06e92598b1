"""The full-page chat (/chat) and the widget frame in a real browser: the fixes of the walkthrough (issue #15, part 5)
and the two answer fields the chat renders (``meta.context``, ``suggestion``).

* after sending, the START of the new answer is in view (phone and desktop), not the end of the log;
* times are China time whatever the browser's time zone;
* 清空记录 asks first (a dialog in Chinese) while a 转人工 question waits for the staff answer;
* the 没帮助 提交 button keeps its label on one line on a phone;
* the title is shown once on a phone (the widget's own bar, WeChat's top bar);
* "结合您上一个问题：…" above an answer that used the earlier question; "您是不是想问：…" asks the curated question with
  ``suggestion_of`` — both stubbed with route interception until the API returns them.

Screenshots go to build/e2e/.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from conftest import E2E_ARTIFACTS as ARTIFACTS
from conftest import LiveApp, live_app

from assistant.domain import CHINA_TZ

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
TITLE = "环保咨询助手"
LONG_ANSWER = "排污许可证能用几年"  # a curated answer with three citation cards: taller than half a phone screen
WECHAT_UA = ("Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 "
             "Chrome/116.0.0.0 Mobile Safari/537.36 XWEB/1160065 MMWEBSDK/20231202 MicroMessenger/8.0.47.2560"
             "(0x28002F35) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    with live_app(tmp_path_factory, "chat-e2e", ratelimit_ask="1000/minute", ratelimit_write="1000/minute") as app:
        yield app


def _page(browser: Any, viewport: dict[str, int], **kw: Any) -> Any:
    phone = viewport["width"] < 500
    ctx = browser.new_context(viewport=viewport, locale="zh-CN", is_mobile=phone, has_touch=phone, **kw)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.errors = errors
    return page


def _open(page: Any, base: str, path: str = "/chat") -> None:
    page.goto(base + path)
    page.locator(".msg-greeting").wait_for()


def _ask(page: Any, text: str) -> Any:
    """Sends ``text`` and returns the new answer (a bot message with actions: not the greeting or an error); ``page``
    is a page or the widget's frame."""
    answers = page.locator("[data-testid=bot-message][data-question-id]")
    n = answers.count()
    page.get_by_test_id("chat-input").fill(text)
    page.get_by_test_id("chat-send").click()
    answers.nth(n).wait_for(timeout=20_000)
    page.get_by_test_id("chat-loading").wait_for(state="hidden")  # the answer is in and scrolled to
    return answers.nth(n)


def _hand_off_then_clear(page: Any, text: str) -> Any:
    """Ask ``text``, hand it to staff anonymously, press 清空记录: returns the confirmation dialog (on screen)."""
    answer = _ask(page, text)
    answer.get_by_test_id("handoff-open").click()
    answer.get_by_test_id("handoff-submit").click()
    answer.get_by_test_id("handoff-status").wait_for()
    page.get_by_test_id("chat-clear").click()
    dialog = page.get_by_test_id("confirm-dialog")
    dialog.wait_for()
    return dialog


# -- 1. the start of the new answer is in view -----------------------------------------------------------------
@pytest.mark.parametrize(("name", "viewport"), [("phone", PHONE), ("desktop", DESKTOP)])
def test_the_start_of_each_new_answer_is_in_view(browser: Any, live: LiveApp, name: str,
                                                  viewport: dict[str, int]) -> None:
    page = _page(browser, viewport)
    _open(page, live.base)
    for n, q in enumerate([LONG_ANSWER, "危险废物转移联单要保存多久", LONG_ANSWER]):
        answer = _ask(page, q)
        box = answer.bounding_box()
        log = page.get_by_test_id("chat-log").bounding_box()
        assert box is not None and log is not None
        # inside the viewport, inside the log's visible area, and not just peeking in at the bottom: either the
        # whole answer is visible or its start is in the upper half of the log
        assert 0 <= box["y"] < viewport["height"], (n, box)
        assert log["y"] - 1 <= box["y"] <= log["y"] + log["height"], (n, box, log)
        fully_visible = box["y"] + box["height"] <= log["y"] + log["height"] + 1
        assert fully_visible or box["y"] <= log["y"] + log["height"] / 2, (n, box, log)
    page.screenshot(path=str(ARTIFACTS / f"chat-{name}-answer-start.png"))
    assert page.errors == []
    page.context.close()


# -- 2. China time -----------------------------------------------------------------------------------------------
def test_times_are_shown_in_china_time_in_any_browser_time_zone(browser: Any, live: LiveApp) -> None:
    # 2026-01-05 02:30 UTC = 10:30 in Beijing; the staff answer's time comes from the server without an offset (UTC)
    asked = int(datetime(2026, 1, 5, 2, 30, tzinfo=UTC).timestamp() * 1000)
    history = [{"role": "user", "text": "排污许可证能用几年？", "ts": asked},
               {"role": "bot", "text": "", "answer": {"decision": "abstain", "notice": "已转人工"}, "question": "q",
                "question_id": 1, "token": "t" * 32, "handoff": True, "ts": asked,
                "staff_answer": {"text": "五年。", "answered_at": "2026-01-05T03:45:00"}}]
    page = _page(browser, DESKTOP, timezone_id="UTC")
    page.add_init_script(f"window.localStorage.setItem('zsenv-history-v1', {json.dumps(json.dumps(history))});")
    _open(page, live.base)
    metas = page.locator(".msg-meta").all_inner_texts()
    assert metas[0] == "1月5日 10:30"  # was 02:30: the browser's (UTC) clock
    assert metas[1] == "答复时间：1月5日 11:45"
    # a question sent now: China's wall clock, not UTC's
    _ask(page, LONG_ANSWER)
    shown = page.get_by_test_id("user-message").last.locator(".msg-meta").inner_text()
    now = datetime.now(CHINA_TZ)
    assert shown in {now.strftime("%H:%M"), (now - timedelta(minutes=1)).strftime("%H:%M")}, shown
    assert page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone") in ("UTC", "Etc/UTC")
    page.context.close()


# -- 3. 清空记录 while a 转人工 question waits ----------------------------------------------------------------------
def test_clear_asks_first_while_a_handoff_waits_for_staff(browser: Any, live: LiveApp) -> None:
    page = _page(browser, PHONE)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    _open(page, live.base)
    # nothing handed off: clearing needs no confirmation
    _ask(page, LONG_ANSWER)
    page.get_by_test_id("chat-clear").click()
    assert page.get_by_test_id("confirm-dialog").count() == 0
    assert page.locator("[data-testid=bot-message][data-question-id]").count() == 0
    # hand a question off (anonymously), then clear
    dialog = _hand_off_then_clear(page, "我们厂的锅炉烟气要装在线监测吗（清空测试）")
    text = dialog.inner_text()
    assert "清空对话记录？" in text and "1 个问题已转人工" in text and "等待工作人员答复" in text
    assert dialog.get_by_test_id("confirm-cancel").inner_text() == "取消"
    assert dialog.get_by_test_id("confirm-ok").inner_text() == "仍然清空"
    assert page.evaluate("document.activeElement.dataset.testid") == "confirm-cancel"  # the safe choice first
    page.screenshot(path=str(ARTIFACTS / "chat-phone-clear-confirm.png"))
    # 取消 keeps the history (on the page and stored)
    dialog.get_by_test_id("confirm-cancel").click()
    dialog.wait_for(state="detached")
    assert page.locator("[data-testid=bot-message][data-question-id]").count() == 1
    stored = json.loads(page.evaluate("window.localStorage.getItem('zsenv-history-v1')"))
    assert any(e.get("handoff_submitted") for e in stored)
    # Esc is a cancel too
    page.get_by_test_id("chat-clear").click()
    page.get_by_test_id("confirm-dialog").wait_for()
    page.keyboard.press("Escape")
    dialog.wait_for(state="detached")
    assert page.locator("[data-testid=bot-message][data-question-id]").count() == 1
    # 仍然清空 clears
    page.get_by_test_id("chat-clear").click()
    page.get_by_test_id("confirm-ok").click()
    dialog.wait_for(state="detached")
    assert page.locator("[data-testid=bot-message][data-question-id]").count() == 0
    assert page.evaluate("window.localStorage.getItem('zsenv-history-v1')") is None
    assert dialogs == [] and page.errors == []  # the page's own dialog, never the browser's
    page.context.close()


# -- 4. 没帮助 → 提交 on one line ------------------------------------------------------------------------------------
def test_not_helpful_submit_label_does_not_wrap_on_a_phone(browser: Any, live: LiveApp) -> None:
    page = _page(browser, PHONE)
    _open(page, live.base)
    answer = _ask(page, LONG_ANSWER)
    answer.get_by_test_id("fb-unhelpful").click()
    submit = answer.get_by_test_id("fb-submit")
    submit.wait_for()
    lines = submit.evaluate("b => { const r = document.createRange(); r.selectNodeContents(b); "
                            "return new Set(Array.from(r.getClientRects()).map(x => Math.round(x.top))).size; }")
    assert submit.inner_text() == "提交" and lines == 1
    reason = answer.get_by_test_id("fb-reason").bounding_box()
    assert reason is not None and reason["width"] > 150  # the input keeps the room
    submit.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "chat-phone-not-helpful.png"))
    page.context.close()


# -- 5. the title once on a phone --------------------------------------------------------------------------------
def _visible_titles(frame: Any) -> int:
    """Visible elements whose own text is exactly the title."""
    return int(frame.locator("body").evaluate(
        """(b, title) => Array.from(b.querySelectorAll('*')).filter(e => {
             const own = Array.from(e.childNodes).filter(n => n.nodeType === 3).map(n => n.textContent).join('').trim();
             if (own !== title) return false;
             const r = e.getBoundingClientRect();
             return r.width > 2 && r.height > 2 && getComputedStyle(e).visibility !== 'hidden';
           }).length""", TITLE))


def test_title_is_shown_once_on_a_phone(browser: Any, live: LiveApp) -> None:
    # /chat in a phone browser: the page's header carries the title
    page = _page(browser, PHONE)
    _open(page, live.base)
    assert _visible_titles(page) == 1
    page.context.close()
    # /chat in WeChat (opened from the account's menu): WeChat's top bar shows <title>, the page does not repeat it
    page = _page(browser, PHONE, user_agent=WECHAT_UA)
    _open(page, live.base)
    assert TITLE in page.title() and _visible_titles(page) == 0
    assert page.get_by_role("heading", name=TITLE).count() == 1  # still there for screen readers
    assert page.get_by_test_id("chat-clear").is_visible()
    page.screenshot(path=str(ARTIFACTS / "chat-phone-wechat-header.png"))
    page.context.close()
    # the widget on a phone: the panel's bar has the title; the frame does not repeat it
    page = _page(browser, PHONE)
    page.goto(live.base + "/demo")
    page.get_by_test_id("zsenv-launcher").click()
    frame = page.frame_locator("[data-testid=zsenv-frame]")
    frame.locator(".msg-greeting").wait_for()
    assert _visible_titles(page) == 1 and _visible_titles(frame) == 0
    assert frame.get_by_test_id("chat-clear").is_visible()
    page.screenshot(path=str(ARTIFACTS / "widget-phone-title-once.png"))
    page.context.close()


# -- the two new answer fields -------------------------------------------------------------------------------------
STUB_QID = 990001
TURN = "我们是一家位于舟山市普陀区的水产品加工企业，年产鱼粉两万吨，请问排污许可证应当按照重点管理还是简化管理申请？"
SUGGESTED = "排污许可证的有效期是几年？"


def _stub_answer(question: str, context: dict[str, Any] | None, suggestion: dict[str, Any] | None) -> dict[str, Any]:
    meta: dict[str, Any] = {"question_id": STUB_QID, "retrieval_mode": "hybrid"}
    if context is not None:
        meta["context"] = context
    return {"question": question, "question_id": STUB_QID, "token": "s" * 32, "decision": "abstain",
            "confidence": 0.1, "notice": "抱歉，这个问题暂时没有找到足够可靠的依据。", "curated": None, "citations": [],
            "related": [{"id": "fx-wf-001", "question": "危险废物转移联单要保存多久？"}], "footer": "仅供参考。",
            "meta": meta, "suggestion": suggestion}


LETTER = ("您好，我们是沈家门一家做鱼干和虾干的加工厂，废水预处理以后排进城市污水管网，签了纳管协议。现在税务那边说要申报"
          "环境保护税。请问废水这块是不是就不用交了？")


def test_context_line_and_did_you_mean(browser: Any, live: LiveApp) -> None:
    page = _page(browser, PHONE)
    sent: list[dict[str, Any]] = []

    def route(r: Any) -> None:
        body = r.request.post_data_json or {}
        sent.append(body)
        q = body.get("question", "")
        if q == "那要多久？":
            r.fulfill(status=200, content_type="application/json", body=json.dumps(_stub_answer(
                q, {"used": True, "turn": TURN}, {"id": "fx-pwxk-001", "question": SUGGESTED})))
        elif q == "<img src=x onerror=alert(1)>":
            r.fulfill(status=200, content_type="application/json", body=json.dumps(_stub_answer(
                q, {"used": True, "turn": q}, {"id": "x", "question": "<b>粗体</b>"})))
        elif q == "是按月报还是按季报？":  # after a letter: named by its question sentence, not its greeting
            r.fulfill(status=200, content_type="application/json", body=json.dumps(_stub_answer(
                q, {"used": True, "turn": LETTER, "turns": [LETTER], "shown": ["请问<b>废水</b>这块是不是就不用交了？"]},
                None)))
        elif q == "不用上文":
            r.fulfill(status=200, content_type="application/json", body=json.dumps(_stub_answer(
                q, {"used": False}, None)))
        else:
            r.continue_()  # the real service

    page.route("**/api/v1/ask", route)
    _open(page, live.base)
    answer = _ask(page, "那要多久？")
    note = answer.get_by_test_id("answer-context")
    assert note.inner_text() == "结合您上一个问题：" + TURN[:40] + "…"
    # above the answer: the first thing in the bubble, before the notice
    order = answer.evaluate("m => Array.from(m.querySelector('.bubble').children).map(c => c.dataset.testid || '')")
    assert order.index("answer-context") < order.index("answer-notice") < order.index("did-you-mean")
    button = answer.get_by_test_id("did-you-mean")
    assert button.inner_text().replace("\n", "") == "您是不是想问：" + SUGGESTED
    assert answer.get_by_test_id("related-chip").count() == 1  # 相关问题 unchanged
    page.screenshot(path=str(ARTIFACTS / "chat-phone-context-suggestion.png"))
    # one tap asks the curated question, saying which answer offered it; the answer renders like any other
    button.click()
    answers = page.locator("[data-testid=bot-message][data-question-id]")
    answers.nth(1).wait_for(timeout=20_000)
    assert sent[-1]["question"] == SUGGESTED and sent[-1]["suggestion_of"] == STUB_QID
    assert page.get_by_test_id("user-message").last.locator(".msg-text").inner_text() == SUGGESTED
    assert answers.nth(1).get_by_test_id("curated-answer").count() == 1
    # a related chip asks without suggestion_of
    answer.get_by_test_id("related-chip").click()
    answers.nth(2).wait_for(timeout=20_000)
    assert sent[-1]["question"] == "危险废物转移联单要保存多久？" and "suggestion_of" not in sent[-1]
    # {"used": false} and no suggestion: nothing extra
    plain = _ask(page, "不用上文")
    assert plain.get_by_test_id("answer-context").count() == 0 and plain.get_by_test_id("did-you-mean").count() == 0
    # as text, never markup
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    xss = _ask(page, "<img src=x onerror=alert(1)>")
    assert xss.get_by_test_id("answer-context").inner_text() == "结合您上一个问题：<img src=x onerror=alert(1)>"
    assert "<b>粗体</b>" in xss.get_by_test_id("did-you-mean").inner_text()
    assert page.locator("img[src=x]").count() == 0 and page.locator(".did-you-mean b").count() == 0
    # the fields survive a reload (kept in the history)
    page.reload()
    page.locator(".msg-greeting").wait_for()
    assert page.get_by_test_id("answer-context").count() == 2 and page.get_by_test_id("did-you-mean").count() == 2
    letter_answer = _ask(page, "是按月报还是按季报？")
    after_letter = letter_answer.get_by_test_id("answer-context")
    assert after_letter.inner_text() == "结合您上一个问题：请问<b>废水</b>这块是不是就不用交了？"
    assert after_letter.get_attribute("title") == LETTER and page.locator(".context-note b").count() == 0
    # the conversation read wrongly: one tap asks the same words on their own
    letter_answer.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "chat-phone-ask-alone.png"))
    alone = letter_answer.get_by_test_id("ask-alone")
    assert alone.inner_text() == "不是接着问？单独提问" and plain.get_by_test_id("ask-alone").count() == 0
    alone.click()
    page.locator("[data-testid=bot-message][data-question-id]").nth(5).wait_for(timeout=20_000)
    assert sent[-1]["question"] == "是按月报还是按季报？" and sent[-1]["standalone"] is True
    assert "suggestion_of" not in sent[-1]
    page.wait_for_timeout(300)
    assert dialogs == [] and page.errors == []
    page.context.close()


def test_esc_in_the_clear_dialog_keeps_the_widget_open(browser: Any, live: LiveApp) -> None:
    """In the widget, Esc closes the panel — but Esc in the confirmation only cancels the confirmation."""
    page = _page(browser, DESKTOP)
    page.goto(live.base + "/demo")
    page.get_by_test_id("zsenv-launcher").click()
    frame = page.frame_locator("[data-testid=zsenv-frame]")
    frame.locator(".msg-greeting").wait_for()
    dialog = _hand_off_then_clear(frame, "我们厂的锅炉烟气要装在线监测吗（挂件清空测试）")
    page.keyboard.press("Escape")
    dialog.wait_for(state="detached")
    assert page.locator(".zsenv-panel.zsenv-open").count() == 1  # the widget stayed open
    assert frame.locator("[data-testid=bot-message][data-question-id]").count() == 1
    page.keyboard.press("Escape")  # outside the dialog, Esc still closes the widget
    page.locator(".zsenv-panel.zsenv-open").wait_for(state="detached")
    page.context.close()
