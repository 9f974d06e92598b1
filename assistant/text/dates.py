"""Dates written in documents."""

from __future__ import annotations

import re
from datetime import date


def ymd(m: re.Match[str] | None) -> date | None:
    """The date of a match whose groups 1–3 are year, month and day; None without a match or for an impossible date
    (2021年2月30日)."""
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None
