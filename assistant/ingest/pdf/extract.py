"""Reading a PDF's text layer with pypdf: every page's raw lines, either in content-stream order (pypdf's plain
extraction, which keeps a catalogue's table row together) or re-assembled into visual lines by position (standards,
whose PDFs often put every word on its own "line"); scans raise :class:`NoTextLayer`."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pypdf import PdfReader
from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError

from assistant.ingest.base import IngestError, NoTextLayer

NO_TEXT_LAYER_MESSAGE = "PDF 无文字层（扫描件），未建立索引；请提供文字版或 OCR 后的文本"


@contextmanager
def _quiet_pypdf() -> Iterator[None]:
    """Silence pypdf's warnings (font encodings, stray bytes) for the duration of a parse."""
    logger = logging.getLogger("pypdf")
    old = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(old)


def _char_width(ch: str) -> float:
    """Approximate advance of a character in em (CJK and full-width forms are 1 em)."""
    return 1.0 if ord(ch) >= 0x2E80 else 0.5


def _positional_lines(page: object) -> list[str]:
    """Re-assemble a page's text fragments into visual lines by their position."""
    frags: list[tuple[float, float, float, str]] = []

    def visit(text: str, cm: list[float], tm: list[float], _font: object, size: float) -> None:
        if not text or not text.strip():
            return
        tx, ty = tm[4], tm[5]
        x = cm[0] * tx + cm[2] * ty + cm[4]
        y = cm[1] * tx + cm[3] * ty + cm[5]
        scale = (tm[2] ** 2 + tm[3] ** 2) ** 0.5 * (cm[2] ** 2 + cm[3] ** 2) ** 0.5
        frags.append((x, y, (size or 10.0) * (scale or 1.0), text.replace("\n", " ")))

    page.extract_text(visitor_text=visit)  # type: ignore[attr-defined]
    frags.sort(key=lambda f: (-f[1], f[0]))
    rows: list[tuple[float, list[tuple[float, float, str]]]] = []
    for x, y, size, text in frags:
        if rows and abs(rows[-1][0] - y) <= max(2.0, 0.4 * size):
            rows[-1][1].append((x, size, text))
        else:
            rows.append((y, [(x, size, text)]))
    lines: list[str] = []
    for _y, items in rows:
        items.sort(key=lambda i: i[0])
        out, end = "", None
        for x, size, text in items:
            if out and end is not None and x - end > 0.3 * size and not out.endswith(" "):
                out += " "
            out += text
            end = x + sum(_char_width(c) for c in text) * size
        lines.append(out)
    return lines


def _meaningful(text: str) -> int:
    """Number of letters, digits and CJK characters in ``text``."""
    return sum(1 for c in text if c.isalnum())


def read_pages(path: Path, positional: bool) -> list[list[str]]:
    """Open the PDF and return the raw lines of every page; raise IngestError/NoTextLayer."""
    name = str(path)
    if not path.is_file():
        raise IngestError(name, "PDF 文件不存在或不是普通文件")
    try:
        with _quiet_pypdf():
            reader = PdfReader(path)
            if reader.is_encrypted:
                reader.decrypt("")
            pages = list(reader.pages)
            plain = [p.extract_text() or "" for p in pages]
            positioned: list[list[str]] | None = None
            if positional:
                positioned = [_positional_lines(p) for p in pages]
    except DependencyError as exc:
        raise IngestError(name, f"PDF 已加密，解密需要 cryptography 库（pip install cryptography）：{exc}") from exc
    except FileNotDecryptedError as exc:
        raise IngestError(name, f"PDF 已加密且需要密码，无法读取：{exc}") from exc
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError, OSError) as exc:
        raise IngestError(name, f"无法读取 PDF（文件损坏或不是 PDF）：{exc}") from exc
    except Exception as exc:  # pypdf raises many internal error types on damaged files
        raise IngestError(name, f"无法读取 PDF（解析失败）：{type(exc).__name__}: {exc}") from exc
    total = sum(_meaningful(t) for t in plain)
    if not pages or total < max(50, 20 * len(pages)):
        raise NoTextLayer(name, NO_TEXT_LAYER_MESSAGE)
    if positioned is not None:
        # Fall back to plain extraction if the positional pass lost text (odd matrices).
        got = sum(_meaningful("".join(lines)) for lines in positioned)
        if got >= 0.9 * total:
            return positioned
    return [t.splitlines() for t in plain]
