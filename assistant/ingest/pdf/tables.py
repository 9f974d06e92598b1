"""The limit tables of a standard's PDF as grids, so that each row can become a passage of its own (as the Markdown
standards' rows do, ``ingest/limits.py``): "锅炉 二氧化硫" or "厂区内 NMHC" then reaches the row, not a flattened table.

The text layer's lines lose the columns (a wrapped value shifts every later cell), so the grid is read from the
page's ruling lines with pdfplumber: every cell with its rectangle, merged cells spread over the columns and rows they
cover (the header "限值" over 燃煤锅炉 / 燃油锅炉 / 燃气锅炉; "烟囱或烟道" down four rows). A cell's text is read from its
characters: small raised digits are superscripts (10³, mg/m³), small lowered ones subscripts (BOD5, O2).

A table is used when the lines just above it carry its caption (``表1 在用锅炉大气污染物排放浓度限值``, ``表A.1 …``,
``续表`` / ``表1（续）`` continue the previous table; a continuation of another width adds no rows) and it has a
header: leading rows without values. A scan's tables are read by ``scan_tables.py`` from the rules found in its page
images and the OCR boxes, through the same grid reading. Tables without a caption, or whose grid reads wrong
(:func:`_plausible`), keep their table passage only.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .patterns import CJK, TABLE

log = logging.getLogger(__name__)

_SUPERSCRIPT = str.maketrans("0123456789-+", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺")
_UNIT = re.compile(r"[（(]?\s*单位\s*[:：]?\s*(.+?)\s*[）)]?$")
_CJK_CHAR = re.compile(f"[{CJK}（）]")
#: a cell that states a value: a number (with its comparison, range, footnote), a dash for "not applicable"
_VALUE = re.compile(r"^(?:[<>≤≥~～±+\-—－.\d\s()（）/×%①-⑩*]*\d|[-—－/]+$|不得检出)")
_CONTINUED = re.compile(r"续表([A-Z]?\.?\d{1,2}(?:\.\d{1,2})?)|表([A-Z]?\.?\d{1,2})[（(]续[）)]")
_SPACED = re.compile(f"(?<=[{CJK}])\\s+(?=[{CJK}])")
_KEEP = set("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺①②③④⑤⑥⑦⑧⑨⑩")
#: separates a row's number from its table's in a row key (``表4·12``)
ROW_SEP = "·"
#: longest column name of a table read right (characters; GB 18918 表6 has one of 32)
MAX_HEADER = 40
#: how far above a table its caption may sit (points)
CAPTION_SPAN = 70.0
#: the foot of a page where a caption whose table starts on the next page is looked for (points)
FOOT_SPAN = 120.0


@dataclass
class Grid:
    """One captioned table of a page: ``number`` as in its key (``1``, ``A.1``), the column names (header rows joined
    with ``·``) and the data rows (merged cells repeated)."""

    number: str
    caption: str
    unit: str
    header: list[str]
    rows: list[list[str]] = field(default_factory=list)
    page: int = 0


def _join(parts: list[str]) -> str:
    """Lines of a cell as one text: no space between Chinese characters, one elsewhere."""
    out = ""
    for part in parts:
        if out and not (_CJK_CHAR.match(out[-1]) and _CJK_CHAR.match(part[0])):
            out += " "
        out += part
    return out


def _cell_text(chars: list[dict[str, Any]]) -> str:
    """A cell's characters in reading order; small characters raised above their line are superscripts."""
    if not chars:
        return ""
    main = max(c["size"] for c in chars)
    big = sorted((c for c in chars if c["size"] >= 0.8 * main), key=lambda c: (c["top"], c["x0"]))
    lines: list[list[dict[str, Any]]] = []
    for c in big:
        if lines and abs(lines[-1][0]["top"] - c["top"]) <= 0.5 * main:
            lines[-1].append(c)
        else:
            lines.append([c])
    if not lines:
        lines = [[]]
    marked: list[list[tuple[float, str]]] = [[(c["x0"], c["text"]) for c in line] for line in lines]
    for c in chars:
        if c["size"] >= 0.8 * main:
            continue
        mid = (c["top"] + c["bottom"]) / 2
        best = min(range(len(lines)), key=lambda i: min((abs(mid - (x["top"] + x["bottom"]) / 2) for x in lines[i]),
                                                        default=0.0))
        ref = lines[best][0] if lines[best] else c
        text = c["text"]
        if mid < (ref["top"] + ref["bottom"]) / 2 - 0.15 * main:
            text = text.translate(_SUPERSCRIPT)
        marked[best].append((c["x0"], text))
    texts = ["".join(t for _x, t in sorted(line)).strip() for line in marked]
    text = re.sub(r"\s+", " ", _join([_nfkc(t) for t in texts if t])).strip()
    return _SPACED.sub("", text)  # letter-spaced headers: "昼 间" → "昼间"


def _nfkc(text: str) -> str:
    """NFKC (full-width letters and digits, ligatures) except the footnote marks ①② and the superscripts made above."""
    return "".join(ch if ch in _KEEP else unicodedata.normalize("NFKC", ch) for ch in text)


def _inside(c: dict[str, Any], box: tuple[float, float, float, float]) -> bool:
    x = (c["x0"] + c["x1"]) / 2
    y = (c["top"] + c["bottom"]) / 2
    return box[0] <= x < box[2] and box[1] <= y < box[3]


def grid_of(table: Any, chars: list[dict[str, Any]]) -> list[list[str]]:
    """The table's cells as a full grid: a merged cell's text in every position it covers."""
    rows = table.rows
    ncols = max(len(r.cells) for r in rows)
    text_of: dict[tuple[float, ...], str] = {}
    for box in table.cells:
        text_of[tuple(box)] = _cell_text([c for c in chars if _inside(c, box)])
    # column centres from the cells' edges (a cell merged across columns would pull a mean to one side)
    edges: list[float] = []
    for x in sorted({b[0] for b in table.cells} | {b[2] for b in table.cells}):
        if not edges or x - edges[-1] > 1.0:
            edges.append(x)
    if len(edges) == ncols + 1:
        col_x: list[float | None] = [(edges[j] + edges[j + 1]) / 2 for j in range(ncols)]
    else:
        col_x = []
        for j in range(ncols):
            xs = [(r.cells[j][0] + r.cells[j][2]) / 2 for r in rows if j < len(r.cells) and r.cells[j] is not None]
            col_x.append(sum(xs) / len(xs) if xs else None)
    grid: list[list[str]] = []
    for r in rows:
        known = [c for c in r.cells if c is not None]
        # the row's own band: a cell merged downwards is taller than the row
        cy = (max(c[1] for c in known) + min(c[3] for c in known)) / 2 if known else None
        line: list[str] = []
        for j in range(ncols):
            box = r.cells[j] if j < len(r.cells) else None
            if box is not None:
                line.append(text_of.get(tuple(box), ""))
                continue
            x = col_x[j]
            cover = [b for b in table.cells if x is not None and cy is not None and b[0] <= x < b[2] and b[1] <= cy < b[3]]
            line.append(text_of.get(tuple(cover[0]), "") if cover else "")
        grid.append(line)
    return grid


def _is_value(cell: str) -> bool:
    return bool(_VALUE.match(cell.strip()))


def _header_rows(grid: list[list[str]]) -> int:
    """How many leading rows are the header: rows until the first one whose cells (after the first column) are mostly
    values; 0 when the very first row holds values (a table laid out sideways) or no row does."""
    for i, line in enumerate(grid[:4]):
        cells = [c for c in line[1:] if c]
        if cells and sum(_is_value(c) for c in cells) * 2 >= len(cells):
            return i
    return 0


def _columns(header: list[list[str]]) -> list[str]:
    names: list[str] = []
    for j in range(len(header[0])):
        parts: list[str] = []
        for line in header:
            if line[j] and line[j] not in parts:
                parts.append(line[j])
        names.append("·".join(parts))
    return names


def caption_of(above: str) -> tuple[str, str, str, bool] | None:
    """(number, caption, unit, continued) from the text lines above a table, or None without a caption."""
    lines = [unicodedata.normalize("NFKC", x).strip() for x in above.splitlines() if x.strip()]
    for k in range(len(lines) - 1, -1, -1):
        line = lines[k]
        if line.replace(" ", "") == "续表":
            return "", "", "", True
        if (c := _CONTINUED.fullmatch(line.replace(" ", ""))) is not None:
            return c.group(1), "", "", True
        m = TABLE.match(line)
        if m is None:
            continue
        number = m.group(2).replace(" ", "")
        caption = f"表{number} {m.group(3).strip()}".strip()
        unit = ""
        for source in [caption] + lines[k + 1:]:
            if (idx := source.find("单位")) >= 0 and (u := _UNIT.match(source[idx:])):
                unit = u.group(1).strip()
                if unit.count("(") > unit.count(")"):
                    unit += ")"  # "dB(A)": its own parenthesis, not one around the unit
                if source is caption:
                    caption = caption[:idx].rstrip(" (（").strip()
                break
        continued = bool(m.group(1)) or bool(re.search(r"[（(]续[）)]\s*$", caption))
        caption = re.sub(r"\s*[（(]续[）)]\s*$", "", caption)
        return number, caption, unit, continued
    return None


def _widened(page: Any, table: Any) -> Any:
    """Tables drawn without outer side rules lose their first and last columns; when the table's horizontal rules
    reach beyond it, read it again inside those rules with them as its sides."""
    x0, top, x1, bottom = table.bbox
    rules = [e for e in page.edges
             if e["orientation"] == "h" and top - 1 <= e["top"] <= bottom + 1 and e["x1"] > x0 and e["x0"] < x1]
    if not rules:
        return table
    lo, hi = min(e["x0"] for e in rules), max(e["x1"] for e in rules)
    if lo >= x0 - 5 and hi <= x1 + 5:
        return table
    region = page.crop((max(0.0, lo - 2), max(0.0, top - 2), min(page.width, hi + 2), min(page.height, bottom + 2)))
    found = region.find_tables({"explicit_vertical_lines": [lo, hi]})
    if not found:
        return table
    return max(found, key=lambda t: (t.bbox[2] - t.bbox[0]) * (t.bbox[3] - t.bbox[1]))


def _side_by_side(header: list[str], rows: list[list[str]]) -> tuple[list[str], list[list[str]]]:
    """A long list printed in two halves side by side (序号 项目 标准值 | 序号 项目 标准值) as one list."""
    n = len(header)
    for k in range(2, n // 2 + 1):
        if n % k == 0 and header == header[:k] * (n // k):
            return header[:k], [line[i:i + k] for i in range(0, n, k) for line in rows]
    return header, rows


def pdf_grids(path: Path) -> list[Grid]:
    """Every captioned table with a header in the PDF's text layer (continuations joined to their table)."""
    import pdfplumber

    grids: list[Grid] = []
    try:
        pdf = pdfplumber.open(str(path))
    except Exception as exc:  # a damaged file: the text layer's passages still stand
        log.warning("tables of %s not read: %s", path, exc)
        return []
    with pdf:
        pending: tuple[str, str, str, bool] | None = None  # a caption at the foot of the previous page
        for pno, page in enumerate(pdf.pages):
            try:
                tables = sorted(page.find_tables(), key=lambda t: t.bbox[1])
            except Exception as exc:  # pragma: no cover - pdfminer's errors on odd pages
                log.warning("tables of %s page %d not read: %s", path, pno + 1, exc)
                continue
            for i, found in enumerate(tables):
                top = found.bbox[1]
                above = page.crop((0, max(0.0, top - CAPTION_SPAN), page.width, top)).extract_text() or ""
                cap = caption_of(above)
                if cap is None and i == 0 and pending is not None:
                    cap = pending  # 表1 … printed at the foot of the page before, its table on this one
                pending = None
                if cap is None:
                    continue
                grid = grid_of(_widened(page, found), page.chars)
                add_table(grids, grid, cap, pno + 1)
            below = tables[-1].bbox[3] if tables else 0.0
            foot = page.crop((0, max(below, page.height - FOOT_SPAN), page.width, page.height)).extract_text() or ""
            pending = _foot_caption(foot)
    return grids


def _foot_caption(text: str) -> tuple[str, str, str, bool] | None:
    """A caption on one of the last lines of a page with no table under it (page numbers aside)."""
    lines = [x.strip() for x in text.splitlines() if x.strip()]
    while lines and re.fullmatch(r"[-—\s\d·]*", lines[-1]):
        lines.pop()  # the page number
    cap = caption_of(lines[-1]) if lines else None
    return cap if cap is not None and not cap[3] else None


def add_table(grids: list[Grid], grid: list[list[str]], cap: tuple[str, str, str, bool], page: int) -> None:
    """A table read from a page: a new captioned table with a header, or the continuation of the previous one."""
    number, caption, unit, continued = cap
    n = _header_rows(grid)
    if continued and grids and (not number or number == grids[-1].number):
        prev = grids[-1]
        _h, body = _side_by_side(_columns(grid[:n]) if n else prev.header, grid[n:])
        prev.rows.extend(line for line in body if len(line) == len(prev.header))
        return
    if continued or not number or n == 0:
        return
    header, body = _side_by_side(_columns(grid[:n]), grid[n:])
    if _plausible(header, body):
        grids.append(Grid(number, caption, unit, header, body, page))


def _plausible(header: list[str], body: list[list[str]]) -> bool:
    """A header read right names every column that holds values, in a few words. A misread grid (a diagonal header
    cell, a scan's lost rule) gives a column without a name or a "name" that is a paragraph — and a row whose value
    sits under the wrong column is worse than no row: such a table keeps its table passage only."""
    if any(len(h) > MAX_HEADER or any(_is_value(part) for part in h.split("·")) for h in header):
        return False  # a paragraph, or values taken for the header (a data row read as a header row)
    return all(h or not any(j < len(line) and line[j].strip() for line in body) for j, h in enumerate(header))


#: columns that number the rows, not part of what a row states (序号 — read by OCR also as 序各 —, 编号)
_NUMBERING_START = ("序", "编号")
_NOT_APPLICABLE = ("", "—", "-", "－", "/", "——")


def row_text(code: str, caption: str, unit: str, header: list[str], cells: list[str]) -> str | None:
    """One row of a limit table as the passage text that keeps its context; None for a row that states no value
    (a note across the table, an empty half of a side-by-side list)::

        GB 13271-2014 表1 在用锅炉大气污染物排放浓度限值｜单位：mg/m3｜污染物项目：二氧化硫｜限值·燃煤锅炉：400 …
    """
    kept: list[tuple[str, str]] = []
    for h, c in zip(header, cells):
        c = c.strip()
        if c in _NOT_APPLICABLE or h.startswith(_NUMBERING_START) or (kept and kept[-1] == (h, c)):
            continue
        kept.append((h, c))
    values = [c for h, c in kept[1:] if _is_value(c)]
    if not kept or not values or len({c for _h, c in kept}) == 1 or kept[0][1].startswith(("注", "说明")):
        return None
    parts = [f"{code} {caption}".strip()] + ([f"单位：{unit}"] if unit else [])
    parts += [f"{h}：{c}" if h else c for h, c in kept]
    return "｜".join(parts)
