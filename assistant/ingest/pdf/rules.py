"""The ruling lines of a scanned page (a table's grid), found in the page image: long runs of dark pixels, horizontal
and vertical, merged into segments. A scan has no drawing operators, so this stands in for the lines pdfplumber reads
from a text layer's page (``tables.py`` turns either into cells).
"""

from __future__ import annotations

import io

import numpy as np

#: a rule is at least this long (pixels at 200 dpi ≈ 7.5 mm); a scan's rules are thin and slightly skewed, so the
#: dark pixels are first widened across the line by SPREAD pixels each side
MIN_LENGTH = 60
SPREAD = 2
DARK = 160
#: longest side (pixels) the rules are looked for at: an A4 page at 200 dpi is 2339
MAX_SIDE = 2400
#: rules this close to the image's border (share of its size) belong to the scan, not to a table
MARGIN = 0.015


def _runs(mask: np.ndarray, min_len: int) -> list[tuple[int, int, int]]:
    """(row, start, end) of every run of True at least ``min_len`` long, row by row."""
    out: list[tuple[int, int, int]] = []
    padded = np.zeros((mask.shape[0], mask.shape[1] + 2), dtype=np.int8)
    padded[:, 1:-1] = mask
    diff = np.diff(padded, axis=1)
    rows, starts = np.nonzero(diff == 1)
    _rows_e, ends = np.nonzero(diff == -1)
    for r, s, e in zip(rows.tolist(), starts.tolist(), ends.tolist()):
        if e - s >= min_len:
            out.append((r, s, e))
    return out


def _spread(mask: np.ndarray, n: int) -> np.ndarray:
    """``mask`` widened by ``n`` pixels up and down (rows)."""
    out = mask.copy()
    for k in range(1, n + 1):
        out[k:] |= mask[:-k]
        out[:-k] |= mask[k:]
    return out


def _segments(runs: list[tuple[int, int, int]], gap: int = 3, touch: int = 8) -> list[tuple[float, int, int, int]]:
    """Runs on neighbouring rows that overlap or meet end to end → one segment (centre row, start, end, thickness):
    a slightly skewed line steps from row to row and stays one segment."""
    segs: list[list[int]] = []  # [first row, last row, start, end]
    open_: list[list[int]] = []
    for r, s, e in sorted(runs):
        hit = None
        for seg in open_:
            if r - seg[1] <= gap and s <= seg[3] + touch and e >= seg[2] - touch:
                hit = seg
                break
        if hit is None:
            seg = [r, r, s, e]
            segs.append(seg)
            open_.append(seg)
        else:
            hit[1], hit[2], hit[3] = r, min(hit[2], s), max(hit[3], e)
        open_ = [g for g in open_ if r - g[1] <= gap]
    # a rule is thin for its length (a skew of ~1° over its length plus the spread); a block of text is not
    return [((a + b) / 2, s, e, b - a + 1) for a, b, s, e in segs
            if b - a + 1 <= 2 * SPREAD + 6 + 0.02 * (e - s)]


def ruling_lines(png: bytes) -> tuple[list[tuple[float, float, float, float]], tuple[int, int]]:
    """The page's horizontal and vertical rules as (x0, top, x1, bottom) in pixels, and the image size."""
    from PIL import Image, UnidentifiedImageError

    try:
        img = Image.open(io.BytesIO(png)).convert("L")
    except (UnidentifiedImageError, OSError, ValueError):  # not an image: no rules (the text is still read)
        return [], (0, 0)
    grey = np.asarray(img)
    # an oversized page (GB 3838's scan renders at 6889 × 9734) is reduced by whole blocks, keeping each block's
    # darkest pixel so a thin rule survives; the rules are then scaled back to the page's pixels
    f = max(1, -(-max(img.width, img.height) // MAX_SIDE))
    if f > 1:
        h, w = grey.shape[0] // f * f, grey.shape[1] // f * f
        grey = grey[:h, :w].reshape(h // f, f, w // f, f).min(axis=(1, 3))
    dark = grey < DARK
    height, width = dark.shape
    out: list[tuple[float, float, float, float]] = []
    m = MARGIN * max(width, height)  # the scanner's frame and the paper's edge are not rules
    for y, s, e, _t in _segments(_runs(_spread(dark, SPREAD), MIN_LENGTH)):
        if m < y < height - m and s > m / 2 and e < width - m / 2:
            out.append((float(s) * f, y * f, float(e) * f, y * f))
    for x, s, e, _t in _segments(_runs(_spread(np.ascontiguousarray(dark.T), SPREAD), MIN_LENGTH)):
        if m < x < width - m and s > m / 2 and e < height - m / 2:
            out.append((x * f, float(s) * f, x * f, float(e) * f))
    return out, (img.width, img.height)
