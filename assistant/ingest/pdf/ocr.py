"""Text for PDF pages without a text layer (scanned standards), read offline by an OCR engine.

Engines (``ASSISTANT_OCR``): ``rapidocr`` — PP-OCRv4 through onnxruntime, its models inside the wheel
``rapidocr-onnxruntime`` (nothing is downloaded); ``tesseract`` — Debian's ``tesseract-ocr`` + ``chi_sim``;
``auto`` — the first of the two that is installed; ``off``. Chosen by measurement (``scripts/ocr_cer.py``).

Pages are rendered with pypdfium2. A page's result is cached by the sha256 of the rendered image and the engine, so
ingesting the same scan again costs a render, not an OCR (ingest stays idempotent and fast).
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import sqlite3
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from .rules import ruling_lines

log = logging.getLogger(__name__)

DPI = 200


Box = tuple[float, float, float, float, str]  # x0, top, x1, bottom (pixels at DPI), text
Rule = tuple[float, float, float, float]  # x0, top, x1, bottom: a horizontal (top == bottom) or vertical rule


@dataclass(frozen=True)
class OcrPage:
    """One page's lines (reading order: top to bottom, left to right), the engine's mean confidence (0–1), and for
    reading its tables (``tables.py``) the text boxes and the page's ruling lines (pixels at :data:`DPI`)."""

    lines: list[str]
    confidence: float
    boxes: tuple[Box, ...] = ()
    rules: tuple[Rule, ...] = ()


class OcrEngine(Protocol):
    id: str

    def read(self, png: bytes) -> OcrPage: ...


def _group_lines(boxes: list[tuple[float, float, float, str, float]]) -> tuple[list[str], float]:
    """(top y, left x, height, text, confidence) boxes → visual lines (boxes whose vertical centres are within half
    a line height are one line, joined left to right with a space where there is a gap) and the mean confidence."""
    boxes = sorted(boxes, key=lambda b: (b[0] + b[2] / 2, b[1]))
    rows: list[list[tuple[float, float, float, str, float]]] = []
    for b in boxes:
        centre = b[0] + b[2] / 2
        if rows:
            last = rows[-1]
            ref = sum(x[0] + x[2] / 2 for x in last) / len(last)
            if abs(centre - ref) <= 0.5 * max(b[2], last[0][2]):
                last.append(b)
                continue
        rows.append([b])
    lines = [" ".join(x[3] for x in sorted(r, key=lambda x: x[1])) for r in rows]
    conf = [b[4] for b in boxes]
    return lines, (sum(conf) / len(conf) if conf else 0.0)


class RapidOcrEngine:
    id = "rapidocr:ppocrv4"

    def __init__(self) -> None:
        from rapidocr_onnxruntime import RapidOCR

        self._ocr = RapidOCR()
        self._lock = threading.Lock()

    def read(self, png: bytes) -> OcrPage:
        with self._lock:
            result, _ = self._ocr(png)
        boxes = []
        found: list[Box] = []
        for box, text, score in result or []:
            ys = [float(p[1]) for p in box]
            xs = [float(p[0]) for p in box]
            boxes.append((min(ys), min(xs), max(ys) - min(ys), str(text), float(score)))
            found.append((min(xs), min(ys), max(xs), max(ys), str(text)))
        lines, conf = _group_lines(boxes)
        return OcrPage(lines, conf, tuple(found))


class TesseractEngine:
    id = "tesseract:chi_sim"

    def __init__(self) -> None:
        if shutil.which("tesseract") is None:
            raise OcrUnavailable("tesseract 未安装（apt-get install tesseract-ocr tesseract-ocr-chi-sim）")

    def read(self, png: bytes) -> OcrPage:
        out = subprocess.run(["tesseract", "stdin", "stdout", "-l", "chi_sim", "--psm", "6", "tsv"], input=png,
                             capture_output=True, check=True, timeout=300).stdout.decode("utf-8", "replace")
        words: dict[tuple[str, str, str], list[tuple[float, float, float, str, float, float]]] = {}
        for row in out.splitlines()[1:]:
            f = row.split("\t")
            if len(f) < 12 or not f[11].strip() or float(f[10]) < 0:
                continue
            key = (f[2], f[3], f[4])  # block, paragraph, line
            words.setdefault(key, []).append((float(f[7]), float(f[6]), float(f[9]), f[11], float(f[10]) / 100,
                                              float(f[6]) + float(f[8])))
        boxes = []
        found: list[Box] = []
        for ws in words.values():
            ws.sort(key=lambda w: w[1])
            text = "".join(w[3] for w in ws)  # chi_sim splits every character into a "word"
            top, height = min(w[0] for w in ws), max(w[2] for w in ws)
            boxes.append((top, ws[0][1], height, text, sum(w[4] for w in ws) / len(ws)))
            found.append((ws[0][1], top, max(w[5] for w in ws), top + height, text))
        lines, conf = _group_lines(boxes)
        return OcrPage(lines, conf, tuple(found))


class OcrUnavailable(Exception):
    pass


def make_engine(name: str) -> OcrEngine | None:
    """``rapidocr`` | ``tesseract`` | ``auto`` (the first installed) | ``off``; None when none can be used."""
    if name == "off":
        return None
    order = ["rapidocr", "tesseract"] if name == "auto" else [name]
    for n in order:
        try:
            return RapidOcrEngine() if n == "rapidocr" else TesseractEngine()
        except (ImportError, OcrUnavailable) as exc:
            log.warning("OCR engine %s unavailable: %s", n, exc)
    return None


def render_pages(path: Path, dpi: int = DPI) -> list[bytes]:
    """Every page of the PDF as PNG bytes (grey, ``dpi``)."""
    import io

    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    try:
        out = []
        for page in pdf:
            img = page.render(scale=dpi / 72, grayscale=True).to_pil()
            buf = io.BytesIO()
            img.save(buf, format="PNG")
            out.append(buf.getvalue())
        return out
    finally:
        pdf.close()


class OcrReader:
    """An engine with a per-page result cache (SQLite file keyed by engine id + sha256 of the page image)."""

    def __init__(self, engine: OcrEngine, cache_file: Path | None) -> None:
        self.engine = engine
        self._conn: sqlite3.Connection | None = None
        if cache_file is not None:
            cache_file.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(str(cache_file), check_same_thread=False, timeout=60)
            self._conn.execute("CREATE TABLE IF NOT EXISTS ocr (engine TEXT, h TEXT, page TEXT, "
                               "PRIMARY KEY (engine, h))")
        self.pages_read = 0  # pages the engine actually read (not from the cache)
        self.pages_total = 0  # pages asked for

    def read_pdf(self, path: Path) -> list[OcrPage]:
        return [self.read(png) for png in render_pages(path)]

    def read(self, png: bytes) -> OcrPage:
        """The page's OCR result from the cache, else from the engine (with the page's ruling lines), then cached.
        An entry cached before text boxes were kept is read again once."""
        self.pages_total += 1
        h = hashlib.sha256(png).hexdigest()
        if self._conn is not None:
            row = self._conn.execute("SELECT page FROM ocr WHERE engine=? AND h=?", (self.engine.id, h)).fetchone()
            if row is not None:
                d: dict[str, Any] = json.loads(row[0])
                if "boxes" in d:
                    return OcrPage(list(d["lines"]), float(d["confidence"]),
                                   tuple(tuple(b) for b in d["boxes"]),  # type: ignore[misc]
                                   tuple(ruling_lines(png)[0]))  # cheap (~0.1 s a page): not cached
        page = self.engine.read(png)
        self.pages_read += 1
        if self._conn is not None:
            self._conn.execute("INSERT OR REPLACE INTO ocr VALUES (?, ?, ?)",
                               (self.engine.id, h, json.dumps({"lines": page.lines, "confidence": page.confidence,
                                                               "boxes": page.boxes}, ensure_ascii=False)))
            self._conn.commit()
        return OcrPage(page.lines, page.confidence, page.boxes, tuple(ruling_lines(png)[0]))
