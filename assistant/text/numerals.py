"""Chinese numerals as used in article numbers (第一千一百六十四条 → 1164)."""

from __future__ import annotations

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_UNITS = {"十": 10, "百": 100, "千": 1000}
CN_NUMERAL_CHARS = "零〇一二三四五六七八九十百千两"


def cn_to_int(text: str) -> int:
    """Convert a Chinese numeral (or ASCII digits) below 10 000 to an int.

    >>> cn_to_int("十四"), cn_to_int("一百二十"), cn_to_int("一千一百六十四"), cn_to_int("12")
    (14, 120, 1164, 12)
    """
    text = text.strip()
    if text.isdigit():
        return int(text)
    if not text or any(c not in _DIGITS and c not in _UNITS for c in text):
        raise ValueError(f"not a Chinese numeral: {text!r}")
    total, digit = 0, 0
    for ch in text:
        if ch in _DIGITS:
            digit = _DIGITS[ch]
        else:
            unit = _UNITS[ch]
            total += (digit or 1) * unit
            digit = 0
    return total + digit


def int_to_cn(n: int) -> str:
    """Inverse of :func:`cn_to_int` for 1…9999, in the form used by statutes (14 → 十四)."""
    if not 0 < n < 10000:
        raise ValueError(f"article number out of range: {n}")
    digits = "零一二三四五六七八九"
    parts: list[str] = []
    for value, name in ((1000, "千"), (100, "百"), (10, "十")):
        q, n = divmod(n, value)
        if q:
            parts.append(digits[q] + name)
        elif parts and n:
            if parts[-1] != "零":
                parts.append("零")
    if n:
        parts.append(digits[n])
    out = "".join(parts)
    if out.startswith("一十"):
        out = out[1:]
    return out
