"""Markdown pipe-table lines (``| 污染物 | 一级标准 |``, ``|---|---|``), read the same way by ingestion (limit rows),
composing (snippets) and the document page (HTML tables)."""

from __future__ import annotations

import re

_RULE = re.compile(r"\|?[\s:|-]*-{2,}[\s:|-]*\|?")


def is_pipe_rule(line: str) -> bool:
    """The rule under a header row: ``|---|:---:|``."""
    return bool(_RULE.fullmatch(line.strip()))


def pipe_cells(line: str) -> list[str] | None:
    """The cells of a pipe row (``| a | b |`` → ``["a", "b"]``), or None for any other line (rules included)."""
    s = line.strip()
    if not (s.startswith("|") and s.endswith("|") and len(s) > 1) or is_pipe_rule(s):
        return None
    return [c.strip() for c in s[1:-1].split("|")]
