"""Scanned standards read by OCR (issue #17.1): lines in reading order, results cached by page image (ingest stays
idempotent), a scan yields clause passages marked as OCR'd, a transcription beside a scan is the one document, and
the document page warns that the text was read from a scan."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from assistant.config import Settings
from assistant.db.models import Document
from assistant.ingest.pdf import parse_pdf
from assistant.ingest.pdf.ocr import OcrPage, OcrReader, _group_lines, render_pages
from assistant.service import AssistantService

REAL_STANDARDS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "standards"
SCAN = REAL_STANDARDS / "GB-18483-2001.pdf"
needs_scan = pytest.mark.skipif(not SCAN.is_file(), reason="../shared standards missing")

#: what an engine might read on the pages of GB 18483-2001 (team-written stand-in text, not the standard)
PAGES = [
    ["中华人民共和国国家标准", "GB 18483-2001", "饮食业油烟排放标准", "2001-11-12 发布 2002-01-01 实施",
     "国家环境保护总局 发布"],
    ["1 主题内容与适用范围", "1.1 主题内容", "本标准规定了饮食业单位油烟的最高允许排放浓度。", "1.2 适用范围",
     "本标准适用于城市建成区内现有饮食业单位的油烟排放管理。"],
    ["4 技术内容", "4.1 油烟最高允许排放浓度为 2.0 mg/m3。", "4.2 净化设施最低去除效率：小型 60%，中型 75%，大型 85%。"],
]


class _Scripted:
    """An engine that returns the scripted pages in order and counts its reads."""

    id = "scripted:1"

    def __init__(self) -> None:
        self.reads = 0

    def read(self, png: bytes) -> OcrPage:
        page = PAGES[self.reads % len(PAGES)] if self.reads < len(PAGES) else []
        self.reads += 1
        return OcrPage(list(page), 0.95)


def test_boxes_become_lines_in_reading_order() -> None:
    boxes = [(100, 300, 20, "排放浓度", 0.9), (102, 40, 22, "4.1 油烟最高允许", 0.95),  # one line, two boxes
             (40, 40, 20, "4 技术内容", 0.99), (160, 40, 20, "4.2 去除效率", 0.8)]
    lines, conf = _group_lines(boxes)
    assert lines == ["4 技术内容", "4.1 油烟最高允许 排放浓度", "4.2 去除效率"]
    assert conf == pytest.approx((0.9 + 0.95 + 0.99 + 0.8) / 4)


def test_a_page_is_read_once_and_then_from_the_cache(tmp_path: Path) -> None:
    engine = _Scripted()
    reader = OcrReader(engine, tmp_path / "ocr.sqlite")
    first = reader.read(b"page-image-1")
    assert reader.read(b"page-image-1") == first and engine.reads == 1
    again = OcrReader(engine, tmp_path / "ocr.sqlite")  # another run (a later ingest)
    assert again.read(b"page-image-1") == first and engine.reads == 1 and again.pages_read == 0
    again.read(b"page-image-2")  # another image: read
    assert engine.reads == 2


@needs_scan
def test_a_scan_becomes_clause_passages_marked_as_ocr(tmp_path: Path) -> None:
    scan = tmp_path / SCAN.name
    shutil.copy(SCAN, scan)
    engine = _Scripted()
    doc = parse_pdf(scan, OcrReader(engine, tmp_path / "ocr.sqlite"))
    assert engine.reads == len(render_pages(scan))
    assert doc.title == "GB 18483-2001 饮食业油烟排放标准"
    keys = {p.key: p.text for p in doc.passages}
    assert {"1.1", "1.2", "4.2"} <= set(keys)  # clauses (a title-only clause keeps its first sub-clause)
    assert "2.0 mg/m3" in keys["4"] and "85%" in keys["4.2"]
    assert doc.extra["ocr"]["engine"] == "scripted:1" and doc.extra["ocr"]["confidence"] == 0.95


@needs_scan
def test_a_transcription_beside_its_scan_is_the_one_document(settings: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "standards"
    folder.mkdir()
    shutil.copy(SCAN, folder / SCAN.name)
    (folder / "GB-18483-2001.md").write_text(
        "---\ntitle: GB 18483-2001 饮食业油烟排放标准（试行）\nkind: 标准\nstatus: 现行有效\n---\n\n"
        "# GB 18483-2001 饮食业油烟排放标准（试行）\n\n4.1 油烟最高允许排放浓度为 2.0 mg/m3。\n", encoding="utf-8")
    svc = AssistantService(settings.evolve(ocr="auto"))
    svc.migrate()
    engine = _Scripted()
    svc._ocr = OcrReader(engine, tmp_path / "ocr.sqlite")
    report = svc.ingest([folder]).as_dict()
    assert engine.reads == 0  # the scan was not read at all
    assert report["choices"] == [{"document": "GB-18483-2001", "used": "GB-18483-2001.md",
                                  "over": "GB-18483-2001.pdf", "why": "全文转录稿（已逐页核对）优先于 PDF"}]
    with svc.Session() as s:
        assert [d.title for d in s.scalars(select(Document))] == ["GB 18483-2001 饮食业油烟排放标准（试行）"]
    svc.engine.dispose()


@needs_scan
def test_the_document_page_says_it_was_read_from_a_scan(settings: Settings, tmp_path: Path) -> None:
    from assistant.app import create_app

    folder = tmp_path / "scans"
    folder.mkdir()
    shutil.copy(SCAN, folder / SCAN.name)
    svc = AssistantService(settings)
    svc.migrate()
    svc._ocr = OcrReader(_Scripted(), tmp_path / "ocr.sqlite")
    report = svc.ingest([folder]).as_dict()
    assert report["errors"] == [] and report["ocr"]["documents"] == ["GB 18483-2001 饮食业油烟排放标准"]
    assert report["ocr"]["pages_read"] == len(render_pages(SCAN))
    app = create_app(settings, service=svc)
    html = app.test_client().get("/doc/GB 18483-2001 饮食业油烟排放标准").get_data(as_text=True)
    assert "本页由扫描件识别，可能有误，请以正式文本为准" in html and "2.0 mg/m3" in html
    # a document with a text of its own has no such banner
    svc.ingest([settings.corpus.shared_data / "laws"])
    with svc.Session() as s:
        other = s.scalar(select(Document.title).where(Document.title != "GB 18483-2001 饮食业油烟排放标准"))
    page = app.test_client().get(f"/doc/{other}")
    assert page.status_code == 200 and "本页由扫描件识别" not in page.get_data(as_text=True)
    svc.engine.dispose()


@pytest.mark.model
@needs_scan
def test_the_shipped_engine_reads_a_real_scanned_page(tmp_path: Path) -> None:
    """rapidocr (models inside the wheel, nothing downloaded) on page 3 of the real GB 18483-2001 scan."""
    from assistant.ingest.pdf.ocr import make_engine

    engine = make_engine("rapidocr")
    assert engine is not None
    page = engine.read(render_pages(SCAN)[2])
    text = "".join(page.lines)
    assert "饮食业油烟" in text and "国家环境保护总局" in text and page.confidence > 0.9


def _with_a_scan(settings: Settings) -> tuple[AssistantService, _Scripted, Path]:
    """A service on a corpus folder holding the real scan, with a scripted OCR engine (the standards folder)."""
    standards = settings.corpus.shared_data / "standards"
    standards.mkdir(exist_ok=True)
    shutil.copy(SCAN, standards / SCAN.name)
    svc = AssistantService(settings.evolve(ocr="auto"))
    svc.migrate()
    engine = _Scripted()
    svc._ocr = OcrReader(engine, settings.search.index_dir / "ocr.sqlite")
    return svc, engine, standards


@needs_scan
def test_the_first_start_answers_at_once_and_reads_scans_in_the_background(settings: Settings) -> None:
    """The first start ingests without OCR (seconds); the scans are read afterwards and the passages index is
    rebuilt with them while the service keeps answering."""
    svc, engine, standards = _with_a_scan(settings)
    first = svc.ensure_corpus()
    assert first is not None and engine.reads == 0
    assert "no_text_layer" in [e["code"] for e in first.as_dict()["errors"]]  # type: ignore[index]
    assert svc.pending_scans == [standards / SCAN.name]
    # gunicorn ingests in a child of its master: a worker — another service on the same database and index
    # folder — finds the scans left out in index/scans_pending.json
    svc.engine.dispose()
    svc = AssistantService(settings.evolve(ocr="auto"))
    svc._ocr = OcrReader(engine, settings.search.index_dir / "ocr.sqlite")
    svc.load_indexes(background=False)
    before = len(svc.retriever.passages.items)
    thread = svc.read_scans_later()
    assert thread is not None
    assert svc.status()["scans"]["pending"] == 1
    thread.join(timeout=120)
    assert svc.pending_scans == [] and engine.reads == len(render_pages(SCAN))
    assert svc.status()["scans"] == {"state": "indexed", "pending": 0}
    assert not (settings.search.index_dir / "scans_pending.json").exists()
    assert svc.read_scans_later() is None  # nothing left to read at the next start
    assert len(svc.retriever.passages.items) > before
    hits = svc.retriever.search("饮食业单位油烟最高允许排放浓度是多少", k=5).passages.hits
    assert any(h.item.title.startswith("GB 18483-2001") for h in hits)
    svc.engine.dispose()


@needs_scan
def test_an_ingest_that_reads_a_pending_scan_takes_it_off_the_pending_list(settings: Settings) -> None:
    """``assistant ingest --bundled`` after the first start reads the scans: the next start must not read them
    again (it did, at every start, in every new index copy — minutes of CPU on a slow machine)."""
    svc, engine, standards = _with_a_scan(settings)
    svc.ensure_corpus()
    pending = settings.search.index_dir / "scans_pending.json"
    assert pending.exists() and svc.pending_scans == [standards / SCAN.name]
    svc.ingest([settings.corpus.shared_data / "laws"])  # other files: the scan stays pending
    assert pending.exists() and svc.pending_scans == [standards / SCAN.name]
    svc.ingest([standards])  # the folder holding it, read by OCR
    assert engine.reads == len(render_pages(SCAN))
    assert not pending.exists() and svc.pending_scans == []
    assert svc.read_scans_later() is None
    svc.engine.dispose()
