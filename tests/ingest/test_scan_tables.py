"""Limit tables of scanned standards (issue #17.2): the rules of the page image (thin, slightly skewed, an open-sided
table) become cells, the OCR boxes fill them, and each row becomes a passage like a text-layer table's row."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from assistant.ingest.pdf.ocr import OcrPage, OcrReader, render_pages
from assistant.ingest.pdf.rules import ruling_lines
from assistant.ingest.pdf.scan_tables import scan_grids
from assistant.ingest.pdf.tables import row_text

SCAN = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "standards" / "GB-16297-1996.pdf"
XS = [200, 500, 800, 1100]  # column rules; the table's sides (100, 1300) are not drawn: open-sided
YS = [300, 380, 460, 540]


def _page() -> bytes:
    """A grey 200-dpi page with a 3-row table ruled by thin lines that drift by 3 px (a skewed scan)."""
    img = Image.new("L", (1400, 1000), 255)
    d = ImageDraw.Draw(img)
    for y in YS:
        d.line([(100, y), (1300, y + 3)], fill=30, width=2)
    for x in XS:
        d.line([(x, YS[0]), (x + 1, YS[-1])], fill=30, width=2)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


#: what OCR would read on that page (team-written example values, not a real standard)
BOXES = (
    (110, 200, 700, 240, "表1 示例废气排放限值"), (1000, 250, 1200, 285, "单位：mg/m3"),
    (120, 320, 180, 350, "序号"), (250, 320, 450, 350, "污染物"), (560, 320, 740, 350, "排放限值"),
    (850, 320, 1050, 350, "监控位置"), (1150, 320, 1280, 350, "特别限值"),
    (130, 400, 160, 430, "1"), (260, 400, 380, 430, "甲苯"), (600, 400, 660, 430, "40"),
    (850, 400, 1050, 430, "排气筒"), (1150, 400, 1250, 430, "20"),
    (130, 480, 160, 510, "2"), (260, 480, 380, 510, "二甲苯"), (600, 480, 660, 510, "70"),
    (850, 480, 1050, 510, "排气筒"), (1150, 480, 1250, 510, "35"),
)


def test_thin_skewed_rules_are_found_and_the_border_is_not_a_rule() -> None:
    rules, size = ruling_lines(_page())
    assert size == (1400, 1000)
    hs = sorted(r for r in rules if r[1] == r[3])
    vs = sorted(r for r in rules if r[0] == r[2])
    assert len(hs) == 4 and len(vs) == 4
    assert all(abs(h[1] - (y + 1.5)) <= 3 for h, y in zip(sorted(hs, key=lambda r: r[1]), YS))
    assert ruling_lines(b"not an image") == ([], (0, 0))


def test_an_open_sided_scanned_table_becomes_rows() -> None:
    page = OcrPage(["…"], 0.9, BOXES, tuple(ruling_lines(_page())[0]))
    grids = scan_grids([page])
    assert len(grids) == 1
    g = grids[0]
    assert (g.number, g.caption, g.unit) == ("1", "表1 示例废气排放限值", "mg/m3")
    assert g.header == ["序号", "污染物", "排放限值", "监控位置", "特别限值"]  # the sides recovered from the rules' ends
    assert row_text("GB 1-2000", g.caption, g.unit, g.header, g.rows[1]) == \
        "GB 1-2000 表1 示例废气排放限值｜单位：mg/m3｜污染物：二甲苯｜排放限值：70｜监控位置：排气筒｜特别限值：35"


@pytest.mark.model
@pytest.mark.skipif(not SCAN.is_file(), reason="../shared standards missing")
def test_the_real_scan_of_the_air_standard_gives_its_rows(tmp_path: Path) -> None:
    """Page 8 of the real GB 16297-1996 scan, read by the shipped engine: 表1's first rows with all nine columns."""
    from assistant.ingest.pdf.ocr import make_engine

    engine = make_engine("rapidocr")
    assert engine is not None
    page = OcrReader(engine, tmp_path / "ocr.sqlite").read(render_pages(SCAN)[7])
    grids = scan_grids([page])
    assert grids and grids[0].number == "1" and len(grids[0].header) == 9
    texts = [row_text("GB 16297-1996", grids[0].caption, grids[0].unit, grids[0].header, r) or "" for r in grids[0].rows]
    so2 = next(t for t in texts if "二氧化硫" in t)
    assert "最高允许排放浓度 mg/m3：1200" in so2 and "无组织排放监控浓度限值·浓度 mg/m3：0.50" in so2
