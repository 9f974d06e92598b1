"""PDF ingester: national standards (GB …) and catalogues (名录/目录/税目表) with a text layer.

The text layer is read with pypdf.  Two extraction modes are used:

* **standards** – fragments are re-assembled into lines by their position on the page
  (several standards' PDFs put every word on its own "line" in content-stream order,
  e.g. ``1\\n适用范围``); this gives one visual line per text line.
* **catalogues** – the content-stream order of pypdf's plain extraction is kept: it emits
  table cells roughly cell by cell, which keeps a table row together.

The extracted text is normalised (NFKC, page furniture and cover/publisher boilerplate
removed, lines broken mid-sentence joined) and split into passages: 第X条 articles,
numbered clauses (``4.1.2``) and tables (``表1``) of standards, and one passage per
catalogue table row (with its section/column context).  Scans raise :class:`NoTextLayer`.
"""

from __future__ import annotations

import re
from pathlib import Path

from assistant.ingest.base import NoTextLayer, ParsedDocument

from .catalog import article_units, catalog_rows
from .clean import is_cover_boilerplate, join_broken, strip_furniture
from .extract import NO_TEXT_LAYER_MESSAGE, read_pages
from .meta import Meta, catalog_title, find_date, issuers, kind_for, standard_code, standard_name
from .ocr import OcrPage, OcrReader
from .patterns import ISSUERS
from .rows import table_row_units
from .standard import standard_units
from .units import Keys, chunk_units, finish

__all__ = ["parse_pdf"]


def parse_pdf(path: Path, ocr: OcrReader | None = None) -> ParsedDocument:
    """Parse a PDF into a :class:`ParsedDocument`: its text layer, or for a scan the pages read by ``ocr``.

    Raises :class:`NoTextLayer` for scans (without ``ocr``) and :class:`IngestError` for unreadable files.
    """
    path = Path(path)
    kind = kind_for(path)
    code = standard_code(path.stem)
    ocr_info: dict[str, object] | None = None
    pages: list[OcrPage] = []
    try:
        raw_pages = read_pages(path, positional=kind == "标准")
    except NoTextLayer:
        if ocr is None:
            raise
        pages = ocr.read_pdf(path)
        # a scan's table of contents would start the body at its "1 范围" entry: the 目次 page is left out
        raw_pages = [[] if any(x.replace(" ", "") in ("目次", "目录") for x in p.lines[:3]) else p.lines
                     for p in pages]
        confidences = [p.confidence for p in pages if p.lines]
        ocr_info = {"engine": ocr.engine.id, "pages": len(pages),
                    "confidence": round(sum(confidences) / max(len(confidences), 1), 3),
                    "low_confidence_pages": [i + 1 for i, p in enumerate(pages) if p.lines and p.confidence < 0.8]}
    stripped = strip_furniture(raw_pages)
    first_page_text = "\n".join(line for page, line in stripped if page == 0)
    all_text = "\n".join(line for _p, line in stripped)
    if kind == "标准":
        kept = [(p, line) for p, line in stripped if not is_cover_boilerplate(p, line)]
    else:
        kept = stripped
    lines = join_broken(kept)
    keys = Keys()
    meta = Meta(title=path.stem, kind=kind)
    if kind == "标准" and code:
        name = standard_name(lines, code)
        meta.title = f"{code} {name}".strip()
        meta.extra["code"] = code
        meta.issuer = issuers(first_page_text)
        meta.promulgated = find_date(first_page_text, "发布")
        meta.effective = find_date(first_page_text, "实施")
        units = standard_units(lines)
        if not units:
            units = chunk_units(lines, 0, keys)
    else:
        meta.title = catalog_title(lines, path.stem)
        m = re.search(r"由(" + "|".join(ISSUERS) + r")负责解释", all_text.replace(" ", "").replace("\n", ""))
        meta.issuer = m.group(1) if m else ""
        meta.effective = find_date(all_text, "施行")
        articles, end = article_units(lines, keys)
        rest = lines[end:]
        rows = catalog_rows(rest, end, meta.title, keys) if kind == "名录" else chunk_units(rest, end, keys)
        units = articles + rows
        if not units:
            units = chunk_units(lines, 0, keys)
    if ocr_info is not None:
        meta.extra["ocr"] = ocr_info
    passages = finish(units)
    if kind == "标准" and code:
        # rows of the limit tables, read from the pages' ruling lines (a scan's: found in its images)
        passages += finish(table_row_units(path, code, units, scanned=pages if ocr_info is not None else None),
                           merge_small=False)
    if not passages:
        raise NoTextLayer(str(path), NO_TEXT_LAYER_MESSAGE)
    return ParsedDocument(
        title=meta.title,
        kind=kind,
        source_path=str(path),
        passages=passages,
        issuer=meta.issuer,
        promulgated=meta.promulgated,
        effective=meta.effective,
        extra=dict(meta.extra),
    )
