"""A conversation in a real browser against the real service (issue #15): a follow-up answered with the earlier
question ("结合您上一个问题：…"), a new topic answered on its own, a "您是不是想问" suggestion taken with one tap, and
the sentence that answers shown first on a citation card while the article stays collapsed. Screenshots go to
build/e2e/."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import E2E_ARTIFACTS as ARTIFACTS
from conftest import LiveApp, live_app
from sqlalchemy import select

from assistant.db.models import Question

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
FIRST = "排污许可证的有效期是几年"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    # every close curated entry is offered (the hash encoder's confidences are not e5's): the one-tap path is real
    with live_app(tmp_path_factory, "conversation-e2e", ratelimit_ask="1000/minute", suggest_threshold=0.0) as app:
        yield app


def _page(browser: Any) -> Any:
    ctx = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
    page = ctx.new_page()
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    return page


def _ask(page: Any, text: str) -> Any:
    answers = page.locator("[data-testid=bot-message][data-question-id]")
    n = answers.count()
    page.get_by_test_id("chat-input").fill(text)
    page.get_by_test_id("chat-send").click()
    answers.nth(n).wait_for(timeout=20_000)
    page.get_by_test_id("chat-loading").wait_for(state="hidden")
    return answers.nth(n)


def test_a_follow_up_in_context_and_a_new_topic_alone(browser: Any, live: LiveApp) -> None:
    page = _page(browser)
    page.goto(live.base + "/chat")
    page.locator(".msg-greeting").wait_for()
    first = _ask(page, FIRST)
    assert first.get_by_test_id("answer-context").count() == 0
    follow = _ask(page, "那到期了没延续还排污，罚多少？")
    assert follow.get_by_test_id("answer-context").inner_text() == "结合您上一个问题：" + FIRST
    page.screenshot(path=str(ARTIFACTS / "conversation-follow-up-phone.png"))
    switch = _ask(page, "另外问一下，危险废物转移联单要保存多久？")
    assert switch.get_by_test_id("answer-context").count() == 0
    with live.svc.Session() as s:  # one row each, in the user's words
        texts = [q.text for q in s.scalars(select(Question).order_by(Question.id))]
    assert texts[-3:] == [FIRST, "那到期了没延续还排污，罚多少？", "另外问一下，危险废物转移联单要保存多久？"]
    assert page.errors == []
    page.context.close()


def test_a_suggestion_taken_with_one_tap(browser: Any, live: LiveApp) -> None:
    page = _page(browser)
    page.goto(live.base + "/chat")
    page.locator(".msg-greeting").wait_for()
    offered = _ask(page, "许可证到期时间")
    button = offered.get_by_test_id("did-you-mean")
    assert button.inner_text().replace("\n", "").startswith("您是不是想问：")
    page.screenshot(path=str(ARTIFACTS / "conversation-did-you-mean-phone.png"))
    answers = page.locator("[data-testid=bot-message][data-question-id]")
    n = answers.count()
    button.click()
    answers.nth(n).wait_for(timeout=20_000)
    assert answers.nth(n).get_by_test_id("curated-answer").count() == 1
    offered_id = int(offered.get_attribute("data-question-id"))
    with live.svc.Session() as s:
        taken = s.scalars(select(Question).order_by(Question.id.desc())).first()
        assert taken is not None and taken.suggestion_of == offered_id
    page.context.close()


def test_the_answering_sentence_is_shown_first_and_the_article_collapsed(browser: Any, live: LiveApp) -> None:
    page = _page(browser)
    sentence = "联单保存期限为五年。"
    body = {"question": "联单保存多久", "question_id": 9, "token": "t" * 32, "decision": "answer", "confidence": 0.9,
            "notice": "", "curated": None, "related": [], "footer": "仅供参考。", "meta": {"retrieval_mode": "hybrid"},
            "suggestion": None, "related_articles": [],
            "citations": [{"id": "危险废物转移管理办法#6", "title": "危险废物转移管理办法", "article": 6,
                           "label": "《危险废物转移管理办法》第六条", "status": "现行有效", "kind": "部门规章",
                           "section": "regulation", "part": "第六条", "url": "/doc/x", "score": 1.0,
                           "snippet": "转移危险废物的，应当执行危险废物转移联单制度。联单保存期限为五年。", "highlights": [],
                           "answer_sentence": sentence, "parts": []}]}
    page.route("**/api/v1/ask", lambda r: r.fulfill(status=200, content_type="application/json",
                                                     body=json.dumps(body)))
    page.goto(live.base + "/chat")
    page.locator(".msg-greeting").wait_for()
    answer = _ask(page, "联单保存多久")
    shown = answer.get_by_test_id("citation-answer")
    assert shown.inner_text() == sentence and shown.is_visible()
    card = answer.get_by_test_id("citation-card")
    assert card.get_attribute("open") is None  # the article itself stays collapsed
    assert shown.evaluate("e => getComputedStyle(e).fontWeight") in ("600", "700", "bold")
    page.screenshot(path=str(ARTIFACTS / "conversation-answer-sentence-phone.png"))
    page.context.close()


def test_a_case_told_in_several_messages_and_thanks(browser: Any, live: LiveApp) -> None:
    """The enterprise tells its case in two messages and asks in the third: the answer names both earlier messages
    ("结合您前面的消息：… / …"); "好的，谢谢" gets the short reply, without feedback buttons or the disclaimer."""
    page = _page(browser)
    page.goto(live.base + "/chat")
    page.locator(".msg-greeting").wait_for()
    _ask(page, "我们是定海一家水产加工厂，排污许可证的有效期是几年")
    told = _ask(page, "厂里去年又扩建了一条生产线")
    assert told.get_attribute("data-decision") == "abstain"  # nothing found: the question is invited, not refused
    assert told.get_by_test_id("answer-notice").inner_text().startswith("已记下您介绍的情况")
    page.screenshot(path=str(ARTIFACTS / "conversation-told-phone.png"))
    last = _ask(page, "那没延续还在排污，罚多少？")
    note = last.get_by_test_id("answer-context").inner_text()
    assert note.startswith("结合您前面的消息：我们是定海一家水产加工厂") and " / 厂里去年又扩建了一条生产线" in note
    page.screenshot(path=str(ARTIFACTS / "conversation-several-messages-phone.png"))
    thanks = _ask(page, "好的，谢谢")
    assert thanks.get_by_test_id("answer-notice").inner_text().startswith("不客气")
    assert thanks.locator(".footer-note").count() == 0 and thanks.get_by_test_id("handoff-open").count() == 0
    page.screenshot(path=str(ARTIFACTS / "conversation-thanks-phone.png"))
    assert not page.errors


LETTER = ("您好！我们是普陀区一家水产冷冻加工厂，三年前领取了排污许可证，最近在整理台账时发现许可证的有效期好像快到了，"
          "但是不清楚具体到期以后要怎么处理。请问排污许可证到期之前需要提前多久申请延续？如果来不及办理会不会影响正常生产？谢谢！")


@pytest.fixture(scope="module")
def lenient(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    # every confidence passes (the hash encoder's are not e5's): whatever the letter finds would be shown, and its
    # best curated entry would be the answer of a short question
    with live_app(tmp_path_factory, "letter-e2e", ratelimit_ask="1000/minute", suggest_threshold=0.0,
                  answer_threshold=0.0, caution_threshold=0.0, curated_threshold=0.0) as app:
        yield app


def test_a_long_letter_shows_its_articles_and_offers_the_curated_answer(browser: Any, lenient: LiveApp) -> None:
    """A letter (over 80 characters) is answered with the article cards found for it, for reference; the curated entry
    it matched is a one-tap "您是不是想问", not repeated among the related questions; the tap shows that answer."""
    page = _page(browser)
    page.goto(lenient.base + "/chat")
    page.locator(".msg-greeting").wait_for()
    letter = _ask(page, LETTER)
    assert letter.get_by_test_id("curated-answer").count() == 0
    assert letter.get_by_test_id("citation-card").count() >= 1
    button = letter.get_by_test_id("did-you-mean")
    suggested = button.locator(".did-you-mean-q").inner_text()
    assert suggested and suggested not in [c.inner_text() for c in letter.get_by_test_id("related-chip").all()]
    page.screenshot(path=str(ARTIFACTS / "conversation-letter-phone.png"))
    answers = page.locator("[data-testid=bot-message][data-question-id]")
    n = answers.count()
    button.click()
    answers.nth(n).wait_for(timeout=20_000)
    page.get_by_test_id("chat-loading").wait_for(state="hidden")
    assert answers.nth(n).get_by_test_id("curated-answer").count() == 1
    assert page.errors == []
    page.context.close()
