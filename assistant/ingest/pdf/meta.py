"""Document metadata of a PDF: its kind (标准 / 名录 / 规范性文件), a standard's code and name, a catalogue's printed
title, issuers and the dates it was issued and takes effect."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from ...text.dates import ymd
from .patterns import BOILERPLATE, CJK, CLAUSE, ISSUERS, PAGE_NUMBER


@dataclass
class Meta:
    title: str
    kind: str
    issuer: str = ""
    promulgated: date | None = None
    effective: date | None = None
    extra: dict[str, object] = field(default_factory=dict)


_STD_STEM = re.compile(r"^(GB|HJ|GBZ|CJJ|CJ)(?:[-_ ]?(T))?[-_ ]?(\d+(?:\.\d+)*)[-_](\d{4})$", re.IGNORECASE)


def standard_code(stem: str) -> str | None:
    """``GB-12348-2008`` → ``GB 12348-2008``; ``HJ-T-55-2000`` → ``HJ/T 55-2000``."""
    m = _STD_STEM.match(stem)
    if not m:
        return None
    prefix = m.group(1).upper() + ("/T" if m.group(2) else "")
    return f"{prefix} {m.group(3)}-{m.group(4)}"


def find_date(text: str, word: str) -> date | None:
    compact = re.sub(r"\s+", "", text)
    return ymd(re.search(rf"(\d{{4}})[-－—.年]?(\d{{1,2}})[-－—.月]?(\d{{1,2}})日?(?:起)?{word}", compact))


def issuers(text: str) -> str:
    compact = text.replace(" ", "")
    found = sorted({i for i in ISSUERS if i in compact}, key=compact.index)
    # "国家环境保护总局" contains no other name, but "环境保护部" ⊂ "中华人民共和国环境保护部公告" is fine.
    return "、".join(found)


def standard_name(lines: list[str], code: str) -> str:
    """The Chinese name of a standard: the title line printed above clause 1, else from the cover."""
    for i, line in enumerate(lines[:-1]):
        if re.match(r"^1\s*\.?\s*(适用)?范围", lines[i + 1]) and re.search(rf"[{CJK}]{{4,}}", line):
            name = line.replace(" ", "")
            if not CLAUSE.match(line) and len(name) <= 60 and not name.startswith("前言"):
                return name
    # cover: CJK lines between the code and the English title
    name_parts: list[str] = []
    for line in lines[:25]:
        if re.search(r"[A-Za-z]{4,} [A-Za-z]{2,}", line) and name_parts:
            break
        if re.fullmatch(rf"[{CJK}（）() 、，]+", line) and not BOILERPLATE.search(line) and not issuers(line):
            name_parts.append(line.replace(" ", ""))
    return "".join(name_parts)


def catalog_title(lines: list[str], stem: str) -> str:
    """The catalogue's own printed title (with its edition line), else the file stem."""
    core = re.sub(r"[-_ ]?\d{4}$", "", stem)
    for i, line in enumerate(lines[:8]):
        compact = line.replace(" ", "")
        if re.fullmatch(r"(附件|附表|附录)[一二三四五六七八九十\d]*", compact) or PAGE_NUMBER.match(line):
            continue
        if not re.search(rf"[{CJK}]{{4,}}", compact) or len(compact) > 50:
            continue
        if i + 1 < len(lines) and re.fullmatch(r"[（(]\d{4}年版[）)]", lines[i + 1].replace(" ", "")):
            compact += lines[i + 1].replace(" ", "")
        shared = len(set(core) & set(compact)) / max(1, len(set(core)))
        if shared >= 0.6:
            return compact.replace("(", "（").replace(")", "）")
        break
    return stem



def kind_for(path: Path) -> str:
    if standard_code(path.stem):
        return "标准"
    if "catalogs" in path.parts or re.search(r"名录|目录|清单|税额表|当量值表", path.stem):
        return "名录"
    return "规范性文件"
