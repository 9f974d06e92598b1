"""Limit tables of scanned pages: the rules found in the page image (``rules.py``) become cells as a text layer's
drawn lines do (pdfplumber's table finder on those edges), and the OCR boxes fill the cells; the grid is then read
as a text-layer table's (``tables.py``). A scanned table usually has no side rules: its sides are where its long
horizontal rules end; a scanned rule often stops a few pixels short of the rule it meets, so rules are extended.
"""

from __future__ import annotations

from typing import Any

from .ocr import DPI
from .tables import CAPTION_SPAN, Grid, add_table, caption_of, grid_of

#: how far (pixels) a scanned rule is extended at both ends to meet the rules it stops short of
REACH = 10
#: pixels of a scanned page (rendered at :data:`ocr.DPI`) per PDF point
SCAN_SCALE = DPI / 72


def _scan_edges(rules: tuple[tuple[float, float, float, float], ...]) -> list[dict[str, Any]]:
    """A scan's rules as pdfplumber edges, plus the sides of an open-sided table: where the long horizontal rules
    end, when no vertical rule stands there."""
    edges: list[dict[str, Any]] = []
    for x0, top, x1, bottom in rules:
        orient = "h" if top == bottom else "v"
        # a scanned rule often stops a few pixels short of the rule it meets
        if orient == "h":
            x0, x1 = x0 - REACH, x1 + REACH
        else:
            top, bottom = top - REACH, bottom + REACH
        edges.append({"x0": x0, "x1": x1, "top": top, "bottom": bottom, "width": x1 - x0, "height": bottom - top,
                      "orientation": orient, "object_type": "line"})
    hs = [e for e in edges if e["orientation"] == "h"]
    if len(hs) < 2:
        return edges
    vs = [e for e in edges if e["orientation"] == "v"]
    if not vs:
        return edges
    # the table's rules: within the height its vertical rules span (not the running header's rule above it)
    vtop, vbottom = min(e["top"] for e in vs) - 12, max(e["bottom"] for e in vs) + 12
    hs = [e for e in hs if vtop <= e["top"] <= vbottom]
    if len(hs) < 2:
        return edges
    longest = max(e["width"] for e in hs)
    long_rules = [e for e in hs if e["width"] >= 0.6 * longest]
    top, bottom = min(e["top"] for e in long_rules), max(e["top"] for e in long_rules)
    for x in (min(e["x0"] for e in long_rules), max(e["x1"] for e in long_rules)):
        if not any(e["orientation"] == "v" and abs(e["x0"] - x) < 12 and e["height"] > 0.5 * (bottom - top)
                   for e in edges):
            edges.append({"x0": x, "x1": x, "top": top, "bottom": bottom, "width": 0.0, "height": bottom - top,
                          "orientation": "v", "object_type": "line"})
    return edges


def _box_chars(boxes: tuple[tuple[float, float, float, float, str], ...]) -> list[dict[str, Any]]:
    """OCR boxes as the character records :func:`_cell_text` reads; one size for all (a box's height says nothing
    of superscripts: the engine reads "mg/m³" as one box)."""
    kept = [b for b in boxes if b[4].strip()]
    heights = sorted(b[3] - b[1] for b in kept)
    size = heights[len(heights) // 2] if heights else 10.0
    return [{"x0": x0, "x1": x1, "top": top, "bottom": bottom, "size": size, "text": text}
            for x0, top, x1, bottom, text in kept]


def _lines_above(chars: list[dict[str, Any]], top: float, span: float) -> str:
    """The text lines of the OCR boxes just above ``top`` (a table's caption)."""
    near = sorted((c for c in chars if top - span <= c["bottom"] <= top + 2), key=lambda c: (c["top"], c["x0"]))
    lines: list[list[dict[str, Any]]] = []
    for c in near:
        if lines and abs(lines[-1][0]["top"] - c["top"]) <= 0.5 * c["size"]:
            lines[-1].append(c)
        else:
            lines.append([c])
    return "\n".join(" ".join(c["text"] for c in sorted(line, key=lambda c: c["x0"])) for line in lines)


def scan_grids(pages: list[Any]) -> list[Grid]:
    """Every captioned table of OCR'd pages (``ocr.OcrPage`` with text boxes and ruling lines), as :func:`pdf_grids`
    reads them from a text layer: cells from the rules, text from the boxes whose centre is in the cell."""
    from pdfplumber.table import Table, cells_to_tables, edges_to_intersections, intersections_to_cells, merge_edges

    grids: list[Grid] = []
    for pno, page in enumerate(pages):
        if not page.rules or not page.boxes:
            continue
        edges = merge_edges(_scan_edges(page.rules), 6, 6, 12, 12)
        cells = intersections_to_cells(edges_to_intersections(edges, 8, 8))
        chars = _box_chars(page.boxes)
        for group in sorted(cells_to_tables(cells), key=lambda g: min(c[1] for c in g)):
            table = Table(None, group)  # type: ignore[arg-type]  # rows and columns need the cells only
            if len(table.rows) < 2:
                continue
            cap = caption_of(_lines_above(chars, table.bbox[1], CAPTION_SPAN * SCAN_SCALE))
            if cap is not None:
                add_table(grids, grid_of(table, chars), cap, pno + 1)
    return grids
