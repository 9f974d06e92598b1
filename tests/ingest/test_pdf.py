"""Tests of the PDF ingester on the real standards/catalogues in ``../shared/data``."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from assistant.ingest.base import IngestError, NoTextLayer
from assistant.ingest.pdf import parse_pdf
from assistant.ingest.pdf.extract import NO_TEXT_LAYER_MESSAGE

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
STANDARDS = DATA / "standards"
CATALOGS = DATA / "catalogs"

needs_data = pytest.mark.skipif(
    not (STANDARDS.is_dir() and CATALOGS.is_dir()),
    reason=f"shared data not found at {DATA} (expected ../shared/data beside the repository)",
)


def _pdf(folder: Path, name: str) -> Path:
    path = folder / name
    if not path.is_file():
        pytest.skip(f"{path} missing")
    return path


@needs_data
def test_text_layer_standard_gb12348() -> None:
    doc = parse_pdf(_pdf(STANDARDS, "GB-12348-2008.pdf"))
    assert doc.kind == "标准"
    assert "工业企业厂界环境噪声排放标准" in doc.title
    assert doc.title.startswith("GB 12348-2008")
    assert doc.extra["code"] == "GB 12348-2008"
    assert "环境保护部" in doc.issuer
    keys = [p.key for p in doc.passages]
    assert len(keys) == len(set(keys)), "passage keys must be unique"
    # NFKC: no full-width digits/letters survive
    assert not any("ＧＢ" in p.text or "１" in p.text for p in doc.passages)
    # the zone-class limits table (昼间/夜间, dB(A))
    texts = [p.text.replace("（", "(").replace("）", ")") for p in doc.passages]
    assert any("昼间" in t and "夜间" in t and "dB(A)" in t for t in texts)
    clause = {p.key: p for p in doc.passages}
    assert "5.1.1" in clause and clause["5.1.1"].heading.startswith("5 测量方法")
    # cover/publisher boilerplate dropped
    assert not any("书号" in p.text or "定价" in p.text for p in doc.passages)
    assert all(p.line and p.line > 0 for p in doc.passages)
    assert all(len(p.text) <= 1300 for p in doc.passages)


@needs_data
def test_catalogue_hazardous_waste_list() -> None:
    doc = parse_pdf(_pdf(CATALOGS, "国家危险废物名录-2021.pdf"))
    assert doc.kind == "名录"
    assert doc.title == "国家危险废物名录（2021年版）"
    by_key = {p.key: p for p in doc.passages}
    assert by_key["1"].article == 1
    assert by_key["1"].text.startswith("第一条")
    assert by_key["8"].article == 8
    rows = [p for p in doc.passages if "900-041-49" in p.text]
    assert rows, "the row of 900-041-49 must be findable"
    assert any(p.key.startswith("row-") and "HW49" in p.text for p in rows)
    # a category's name wrapped over several lines of its narrow column is read whole, and a category code that ends
    # the previous category's last line still names its rows
    first_line = {p.key: p.text.split("\n")[0] for p in doc.passages if p.key.startswith("row-")}
    assert "› HW15 爆炸性废物 ›" in first_line["row-267-001-15"]
    assert "› HW06 废有机溶剂与含有机溶剂废物 ›" in first_line["row-900-401-06"]
    assert "› HW09 油/水、烃/水混合物或乳化液 ›" in first_line["row-900-007-09"]
    assert "› HW08 废矿物油与含矿物油废物 ›" in first_line["row-900-249-08"]
    assert "› HW27 含锑废物 ›" in first_line["row-261-048-27"]
    assert "› HW03 废药物、药品 ›" in first_line["row-900-002-03"]
    # a row the PDF's text ran into the line of the row before it (after its hazard column) is its own row
    codes = {k[4:] for k in first_line if re.fullmatch(r"row-\d{3}-\d{3}-\d{2}", k)}
    every = {c for p in doc.passages for c in re.findall(r"(?<!\d)\d{3}-\d{3}-\d{2}(?!\d)", p.text)}
    assert every - codes == set(), "every waste code has its own row"
    row = {p.key: p.text for p in doc.passages}
    assert "275-009-50" not in row["row-271-006-50"] and "兽药生产过程中产生的废催化剂" in row["row-275-009-50"]
    assert "› HW47 含钡废物 ›" in first_line["row-336-106-47"] and "含钡盐浴渣" in row["row-336-106-47"]


@needs_data
def test_scanned_standard_raises_no_text_layer() -> None:
    path = _pdf(STANDARDS, "GB-8978-1996.pdf")
    with pytest.raises(NoTextLayer) as info:
        parse_pdf(path)
    assert info.value.message == NO_TEXT_LAYER_MESSAGE
    assert "无文字层" in str(info.value) and str(path) in str(info.value)


def test_corrupt_pdf_raises_ingest_error(tmp_path: Path) -> None:
    bad = tmp_path / "x.pdf"
    bad.write_bytes(b"%PDF-1.4\n\x00\x01garbage\xff\xfe not a pdf at all" * 20)
    with pytest.raises(IngestError) as info:
        parse_pdf(bad)
    assert not isinstance(info.value, NoTextLayer)
    assert "x.pdf" in str(info.value)
    assert "PDF" in info.value.message


def test_missing_file_raises_ingest_error(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="nope.pdf"):
        parse_pdf(tmp_path / "nope.pdf")


@needs_data
def test_every_shared_pdf_parses_or_is_reported(capsys: pytest.CaptureFixture[str]) -> None:
    """Every PDF either yields passages or is a scan; prints a summary (see with ``-s``)."""
    lines: list[str] = []
    for path in sorted(CATALOGS.glob("*.pdf")) + sorted(STANDARDS.glob("*.pdf")):
        try:
            doc = parse_pdf(path)
        except NoTextLayer as exc:
            lines.append(f"{path.name}: NoTextLayer: {exc.message}")
            continue
        except IngestError as exc:  # AES-encrypted GB-34330 needs the optional cryptography package
            if "cryptography" in exc.message and importlib.util.find_spec("cryptography") is None:
                lines.append(f"{path.name}: skipped (cryptography not installed)")
                continue
            raise
        assert doc.passages, path.name
        keys = [p.key for p in doc.passages]
        assert len(keys) == len(set(keys)), path.name
        lines.append(f"{path.name}: {len(doc.passages)} passages | {doc.kind} | {doc.title}")
    with capsys.disabled():
        print("\n" + "\n".join(lines))


def test_numbered_table_rows_are_not_clauses() -> None:
    """Rows of a limit table that start with their row number ("11 镉及其化合物 1.0 40 …") stay in the table, and the
    next real heading after the table still starts a clause (GB 16297, GB 3838 and GB 18918 had table rows 10–36
    as clauses, and the real clauses after them were lost)."""
    from assistant.ingest.pdf.standard import standard_units

    lines = ["1 范围", "本标准规定了示例限值。", "2 要求", "2.1 排放限值见表1。", "3 监测", "3.1 按规定方法监测。",
             "表1 示例排放限值", "序号 污染物 限值", "4 总汞 0.001 0.001 0.001",
             "5 镉及其化合物 1.0 40 0.59 0.90 周界外浓度 0.050", "6 铅及其化合物 0.70 100 0.39 0.60 周界外浓度",
             "4 其他规定", "4.1 地方可以制定更严格的标准。"]
    units = standard_units(lines)
    assert [u.key for u in units] == ["1", "2", "2.1", "3", "3.1", "表1", "4", "4.1"]
    table = next(u for u in units if u.key == "表1")
    assert sum(1 for ln in table.lines if "及其化合物" in ln) == 2
