"""Normalising the extracted lines: NFKC and glyph repairs, page furniture (page numbers, running headers, TOC
dot leaders) and cover boilerplate removed, lines broken mid-sentence joined."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

from .patterns import (
    APPENDIX,
    ARTICLE,
    BOILERPLATE,
    CHAPTER,
    CJK,
    CN_SECTION,
    CN_SUBSECTION,
    PAGE_NUMBER,
    TABLE,
    looks_tabular,
)

_SENTENCE_END = "。；：！？;!?"
_DOT_LEADER = re.compile(r"(?:\.{5,}|…{3,}|·{5,}|\.\s\.\s\.\s\.)")
_KEEP_FULLWIDTH = frozenset("，：；（）！？")
_SPACED_CJK = re.compile(rf"(?<![{CJK}])[{CJK}](?: {{1,3}}[{CJK}](?![{CJK}])){{2,}}")


def _norm_line(line: str) -> str:
    """NFKC one line, repair glyph artefacts and collapse spacing."""
    line = line.replace("\ue010", ".")  # private-use glyph used for '.' in some GB PDFs
    # NFKC (ＧＢ１２３４８ → GB12348) but keep Chinese full-width punctuation for display
    line = "".join(c if c in _KEEP_FULLWIDTH else unicodedata.normalize("NFKC", c) for c in line)
    line = line.replace("\u3000", " ").replace("\xa0", " ").replace("﹡", "*")
    line = re.sub(r"[ \t]+", " ", line).strip()
    line = re.sub(r"(?<=\d) ?\. ?(?=\d)", ".", line)  # "3 . 1" → "3.1"
    line = re.sub(r"(?<=[A-Za-z]) ?/ ?(?=T\b)", "/", line)  # "GB / T" → "GB/T"
    line = re.sub(r"(?<=/) (?=T\b)", "", line)
    # letter-spaced words: "中 华 人 民 共 和 国" → "中华人民共和国"
    line = _SPACED_CJK.sub(lambda m: m.group(0).replace(" ", ""), line)
    return line


def _furniture_key(line: str) -> str:
    return re.sub(r"\d+", "#", line.replace(" ", ""))


def strip_furniture(pages: list[list[str]]) -> list[tuple[int, str]]:
    """Normalise lines and drop page numbers, repeated headers/footers and TOC dot-leader lines.

    Returns ``(page_index, line)`` pairs.  A short line repeated at the top/bottom of several
    pages is a running header: its first occurrence is kept (a table's column header is
    useful once), later ones are dropped.
    """
    normed = [[_norm_line(line) for line in page] for page in pages]
    normed = [[line for line in page if line] for page in normed]
    edge_counts: Counter[str] = Counter()
    for page in normed:
        edges = page[:4] + page[-3:]
        edge_counts.update({_furniture_key(line) for line in edges if len(line) <= 60})
    threshold = max(3, int(0.3 * len(pages)))
    seen: set[str] = set()
    out: list[tuple[int, str]] = []
    for index, page in enumerate(normed):
        for pos, line in enumerate(page):
            at_edge = pos < 4 or pos >= len(page) - 3
            if PAGE_NUMBER.match(line) and (
                pos in (0, len(page) - 1) or (at_edge and re.search(r"[-—–－]", line))
            ):
                continue
            if _DOT_LEADER.search(line):
                continue
            key = _furniture_key(line)
            if at_edge and len(line) <= 60 and edge_counts[key] >= threshold and len(pages) > 3:
                if key in seen:
                    continue
                seen.add(key)
                # a running title like "GB 12348-2008" is pure furniture: drop even the first
                if re.fullmatch(r"(GB|HJ)[/T ]*[\d.# -—]+", line.replace("#", "")) or key.startswith("GB#"):
                    continue
            out.append((index, line))
    return out


def _starts_structure(line: str) -> bool:
    """True when ``line`` opens a new unit (clause, article, list item, table, row)."""
    return bool(
        ARTICLE.match(line) or CHAPTER.match(line) or CN_SECTION.match(line)
        or CN_SUBSECTION.match(line) or TABLE.match(line) or APPENDIX.match(line)
        or re.match(r"^(\d|[A-Z]\.\d|——|—|-|注|说明|式中|附|前言|目次|续表|[a-z]\)|\(\d|（\d|[①-⑳]|"
                    r"(GB|HJ|CJ|GBZ)[/ T]*\d|HW\d{2})", line)
        or re.search(r"\d{3}-\d{3}-\d{2}", line[:16])
    )


def join_broken(lines: list[tuple[int, str]]) -> list[str]:
    """Join lines broken mid-sentence (Chinese has no spaces; Latin words get one)."""
    out: list[str] = []
    for _page, line in lines:
        if out:
            prev = out[-1]
            ends_open = prev[-1] in "（(《“‘、，,—-"
            long_enough = sum(2 if ord(c) >= 0x2E80 else 1 for c in prev) >= 36
            if (
                prev[-1] not in _SENTENCE_END
                and (long_enough or ends_open)
                and not _starts_structure(line)
                and not looks_tabular(prev)
                and not looks_tabular(line)
            ):
                sep = " " if prev[-1].isascii() and prev[-1].isalnum() and line[0].isascii() and line[0].isalnum() else ""
                out[-1] = prev + sep + line
                continue
        out.append(line)
    return out



def is_cover_boilerplate(page: int, line: str) -> bool:
    """Publisher/colophon/cover lines of a standard (only looked for on the first pages)."""
    return page < 3 and len(line) < 60 and "。" not in line and bool(BOILERPLATE.search(line.replace(" ", "")))
