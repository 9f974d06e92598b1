"""The rows of a standard PDF's limit tables as passage units (text layer or scan)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .scan_tables import scan_grids
from .tables import ROW_SEP, pdf_grids, row_text
from .units import Unit


def table_row_units(path: Path, code: str, units: list[Unit], scanned: list[Any] | None = None) -> list[Unit]:
    """The rows of the PDF's captioned limit tables as units keyed ``表1·2`` (the table's key, the row's number), at
    the line of their table passage so the document page shows them with it; ``scanned``: the OCR'd pages of a scan
    (read from its boxes and rules instead of the text layer)."""
    line_of = {u.key: u.line for u in units}
    out: list[Unit] = []
    used: set[str] = set()
    for grid in (scan_grids(scanned) if scanned is not None else pdf_grids(path)):
        table = f"表{grid.number}"
        if table in used:  # the same number twice (a misread caption): keep the first table's rows only
            continue
        used.add(table)
        n = 0
        for cells in grid.rows:
            text = row_text(code, grid.caption, grid.unit, grid.header, cells)
            if text is not None:
                n += 1
                out.append(Unit(f"{table}{ROW_SEP}{n}", [text], line_of.get(table, 0), grid.caption))
    return out
