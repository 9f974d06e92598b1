"""A standard's full text in Markdown (``../shared/data/standards/*.md``) as structure: numbered clauses (``4.2.1``)
and tables (``表4``) as passages like a standard's PDF, and every row of a limit table once more as a passage of its
own that keeps the table's caption, unit and column headers, so "COD 一级标准" or "电镀 总铬" reaches the row:

    GB 8978-1996 表4 第二类污染物最高允许排放浓度（1998 年 1 月 1 日后建设的单位）｜单位：mg/L｜污染物：化学需氧量（COD）｜
    适用范围：石油化工工业（包括石油炼制）｜一级标准：60｜二级标准：120｜三级标准：500

Row keys are ``表4·12`` (table, row): :func:`is_table_row` tells them apart — the document page shows the table once,
not its rows again.
"""

from __future__ import annotations

import re

from ..text.pipes import pipe_cells
from .base import ParsedPassage
from .pdf.patterns import TABLE
from .pdf.standard import standard_units
from .pdf.tables import ROW_SEP
from .pdf.units import Keys, Unit, chunk_units, finish

_UNIT = re.compile(r"^(?:单位|计量单位)\s*[:：]\s*(.+)$")


def is_table_row(key: str) -> bool:
    """A limit-table row passage (``表4·12``), shown inside its table rather than on its own."""
    return ROW_SEP in key


def is_table(key: str) -> bool:
    """A table passage (``表4``, ``表A.1``, ``续表1``) or one of its rows."""
    return key.startswith(("表", "续表"))


def table_of(key: str) -> str:
    """The table a row passage belongs to (``表4·12`` → ``表4``); any other key unchanged."""
    return key.split(ROW_SEP, 1)[0]


def table_rows(lines: list[str], code: str) -> list[Unit]:
    """One unit per data row of every pipe table that follows a ``表N`` caption (rows of tables without a caption
    are left in their table passage only)."""
    rows: list[Unit] = []
    caption, table, unit = "", "", ""
    header: list[str] | None = None
    n = 0
    for i, line in enumerate(lines):
        s = line.strip()
        m = TABLE.match(s)
        if m and not s.startswith("|"):
            caption, table, unit, header, n = s, f"表{m.group(2)}", "", None, 0
            continue
        if (u := _UNIT.match(s)) and table:
            unit = u.group(1).strip()
            continue
        if not s.startswith("|"):
            if header is not None and not s.startswith(("注", "*")):
                caption, table, header = "", "", None  # the table ended
            continue
        cells = pipe_cells(s)
        if not table or cells is None:  # no caption above, or the rule under the header
            continue
        if header is None:
            header = cells
            continue
        n += 1
        parts = [f"{code} {caption}".strip()] + ([f"单位：{unit}"] if unit else [])
        for h, c in zip(header, cells):
            if not c or c in ("—", "-", "－", "/") or h in ("序号", "编号"):  # "—": the limit does not apply
                continue
            parts.append(f"{h}：{c}" if h else c)
        rows.append(Unit(f"{table}{ROW_SEP}{n}", ["｜".join(parts)], i + 1, caption))
    return rows


def standard_passages(lines: list[str], code: str) -> list[ParsedPassage]:
    """Clauses and tables (the PDF standard splitter on the Markdown's lines), then the limit-table rows."""
    units = standard_units(lines) or chunk_units(lines, 0, Keys())
    return finish(units) + finish(table_rows(lines, code), merge_small=False)
