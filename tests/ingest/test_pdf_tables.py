"""Limit tables of the standards' PDFs read as grids (issue #17.2): each row a passage with its caption, unit and
column headers, merged header cells spread over their columns, superscripts kept, open-sided tables widened to their
rules, side-by-side lists unfolded — measured on the real PDFs in ``../shared/data/standards``."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.ingest.limits import is_table_row
from assistant.ingest.pdf import parse_pdf
from assistant.ingest.pdf.tables import _header_rows, _side_by_side, caption_of, row_text

STANDARDS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "standards"


def _rows(name: str) -> dict[str, str]:
    path = STANDARDS / name
    if not path.is_file():
        pytest.skip(f"{path} missing")
    return {p.key: p.text for p in parse_pdf(path).passages if is_table_row(p.key)}


def test_boiler_limits_keep_the_merged_header_and_the_monitoring_place() -> None:
    rows = _rows("GB-13271-2014.pdf")
    assert rows["表2·3"] == ("GB 13271-2014 表2 新建锅炉大气污染物排放浓度限值｜单位：mg/m3｜污染物项目：氮氧化物｜"
                            "限值·燃煤锅炉：300｜限值·燃油锅炉：250｜限值·燃气锅炉：200｜污染物排放监控位置：烟囱或烟道")
    # "—" (not applicable) cells are left out; a value merged over three columns is stated for each
    assert "燃油锅炉" not in rows["表1·4"] and "限值·燃气锅炉：≤1" in rows["表1·5"]
    assert not any(k.startswith(("表4·", "表5·")) for k in rows)  # a sideways table and a list of methods: no rows


def test_open_sided_tables_side_by_side_lists_and_superscripts() -> None:
    rows = _rows("GB-18918-2002.pdf")
    # 表4 has no outer side rules: its 序号 and 三级标准 columns are recovered
    assert rows["表4·2"].endswith("控制项目：硫化氢｜一级标准：0.03｜二级标准：0.06｜三级标准：0.32")
    # 表3 prints 43 items in two halves side by side: one list, left half first
    assert sum(k.startswith("表3·") for k in rows) == 43 and "苯｜标准值：0.1" in rows["表3·25"]
    assert "一级标准·A标准：10³" in rows["表1·13"]  # 10 with a raised 3, not "103"
    assert "三级标准：120①" in rows["表1·1"]  # the footnote mark stays a mark
    # a cell merged downwards (总磷 over its two construction periods) is stated in both rows
    assert "总磷" in rows["表1·9"] and "总磷" in rows["表1·10"] and "2006年1月1日起建设的" in rows["表1·10"]


def test_appendix_table_numbers() -> None:
    rows = _rows("GB-37822-2019.pdf")
    assert "排放限值：10｜特别排放限值：6" in rows["表A.1·1"] and "单位：mg/m3" in rows["表A.1·1"]


def test_caption_unit_and_continuation() -> None:
    assert caption_of("正文\n表1 在用锅炉大气污染物排放浓度限值\n单位：mg/m3") == (
        "1", "表1 在用锅炉大气污染物排放浓度限值", "mg/m3", False)
    assert caption_of("表 4 厂界废气排放最高允许浓度 单位 mg/m3") == ("4", "表4 厂界废气排放最高允许浓度", "mg/m3", False)
    assert caption_of("GB 8702—2014\n表1 公众曝露控制限值（续）")[3] is True
    assert caption_of("ＧＢ １２３４８\n续表") == ("", "", "", True)
    assert caption_of("本页没有表题") is None


def test_header_rows_and_row_text() -> None:
    grid = [["污染物", "限值", "限值"], ["", "新建", "现有"], ["总汞", "0.001", "0.005"]]
    assert _header_rows(grid) == 2
    assert _header_rows([["MW", "<0.7", "1.4"], ["m", "20", "25"]]) == 0  # laid out sideways: no header
    header, body = _side_by_side(["序号", "项目", "值", "序号", "项目", "值"],
                                 [["1", "甲", "1", "3", "丙", "3"], ["2", "乙", "2", "", "", ""]])
    assert header == ["序号", "项目", "值"] and [r[1] for r in body] == ["甲", "乙", "丙", ""]  # left half first
    assert row_text("GB 1-2000", "表1 示例", "mg/L", ["项目", "值"], ["注：本表说明", "注：本表说明"]) is None
    assert row_text("GB 1-2000", "表1 示例", "mg/L", ["项目", "值"], ["总汞", "—"]) is None  # states no value


def _ingested(src: Path, settings: Settings, tmp_path: Path):  # type: ignore[no-untyped-def]
    """A service with the PDF ``src`` ingested (a copy), and a test client of its app."""
    import shutil

    from assistant.app import create_app
    from assistant.service import AssistantService

    if not src.is_file():
        pytest.skip(f"{src} missing")
    shutil.copy(src, tmp_path / src.name)
    svc = AssistantService(settings)
    svc.migrate()
    svc.ingest([tmp_path / src.name])
    return svc, create_app(settings, service=svc).test_client()


def test_the_document_page_shows_a_pdf_table_from_its_rows(settings: Settings, tmp_path: Path) -> None:
    """A PDF's table passage is its page text in reading order; /doc shows the rows read from the grid as a table
    (column names as the header) and keeps the page text folded below it."""
    svc, client = _ingested(STANDARDS / "GB-13271-2014.pdf", settings, tmp_path)
    html = client.get("/doc/GB 13271-2014 锅炉大气污染物排放标准%23表2·3").get_data(as_text=True)
    assert '<th scope="col">限值·燃气锅炉</th>' in html and "<td>氮氧化物</td>" in html
    assert 'data-testid="doc-table-source"' in html and "页面文字（按原排版顺序）" in html
    assert html.count("<td>氮氧化物</td>") == 3  # 表1, 表2, 表3: each table once, its rows not repeated as passages
    svc.engine.dispose()


def test_a_caption_at_the_foot_of_the_page_before_its_table() -> None:
    """GB 12523 prints "表1 建筑施工场界环境噪声排放限值 单位：dB（A）" as the last line of page 5 and the table on page 6;
    the row keeps that caption and unit ("dB(A)" keeps its own parenthesis); letter-spaced headers are joined."""
    rows = _rows("GB-12523-2011.pdf")
    assert rows["表1·1"] == "GB 12523-2011 表1 建筑施工场界环境噪声排放限值｜单位：dB(A)｜昼间：70｜夜间：55"
    assert caption_of("表1 示例（单位：mg/L）") == ("1", "表1 示例", "mg/L", False)


def test_the_document_page_of_a_catalogue_shows_its_rows_without_the_search_only_lines(settings: Settings,
                                                                                         tmp_path: Path) -> None:
    """The hazardous-waste catalogue's rows carry, for the search, the table's header and the document's title; its
    page, like its cards, shows the rows without them (and with the PDF's wrapped lines joined)."""
    svc, client = _ingested(STANDARDS.parent / "catalogs" / "国家危险废物名录-2021.pdf", settings, tmp_path)
    with svc.Session() as s:
        from assistant.db.models import Passage

        raw = s.get(Passage, "国家危险废物名录（2021年版）#row-900-047-49")
        assert raw is not None and "［表头：" in raw.text  # the indexed text keeps them
    html = client.get("/doc/国家危险废物名录（2021年版）%23row-900-047-49").get_data(as_text=True)
    assert "900-047-49" in html and "［表头：" not in html and "（危险特性：T/C/I/R）" in html
    # a row is named by what it is, not by its key; a cell's wrapped word is joined ("感光材料生 产过程")
    assert ">废物代码900-047-49</a>" in html and ">row-900-047-49<" not in html
    assert "感光材料生产过程" in html and "感光材料生 产" not in html
    svc.engine.dispose()
