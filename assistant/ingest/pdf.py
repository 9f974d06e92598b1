"""PDF ingester: national standards (GB …) and catalogues (名录/目录/税目表) with a text layer.

The text layer is read with pypdf.  Two extraction modes are used:

* **standards** – fragments are re-assembled into lines by their position on the page
  (several standards' PDFs put every word on its own "line" in content-stream order,
  e.g. ``1\\n适用范围``); this gives one visual line per text line.
* **catalogues** – the content-stream order of pypdf's plain extraction is kept: it emits
  table cells roughly cell by cell, which keeps a table row together.

The extracted text is normalised (NFKC, page furniture and cover/publisher boilerplate
removed, lines broken mid-sentence joined) and split into passages: 第X条 articles,
numbered clauses (``4.1.2``) and tables (``表1``) of standards, and one passage per
catalogue table row (with its section/column context).  Scans raise :class:`NoTextLayer`.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from pypdf import PdfReader
from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError

from assistant.ingest.base import (
    IngestError,
    NoTextLayer,
    ParsedDocument,
    ParsedPassage,
)
from assistant.text.numerals import CN_NUMERAL_CHARS, cn_to_int

__all__ = ["NO_TEXT_LAYER_MESSAGE", "parse_pdf"]

NO_TEXT_LAYER_MESSAGE = "PDF 无文字层（扫描件），未建立索引；请提供文字版或 OCR 后的文本"

#: Passage size bounds (characters).
MIN_PASSAGE = 30
MAX_PASSAGE = 1200

_CJK = "\u3400-\u9fff\uf900-\ufaff"
_SENTENCE_END = "。；：！？;!?"
_ISSUERS = (
    "生态环境部", "环境保护部", "国家环境保护总局", "国家环境保护局", "国家质量监督检验检疫总局",
    "国家市场监督管理总局", "国家技术监督局", "国家发展和改革委员会", "财政部", "国家税务总局",
    "工业和信息化部", "住房和城乡建设部", "公安部",
)
#: Cover / publisher / colophon lines of standards (dropped).
_BOILERPLATE = re.compile(
    r"出版社|出版集团|出版发行|书号|印刷|开本|印张|字数|定价|网址|电话|版权专有|违者必究|"
    r"本电子版|电子文本|标准正在出版|正式出版|正式标准文本|^（?发布稿）?$|^ICS\b|^[A-Z]\s?\d{2}$|^Z$|"
    r"^中华人民共和国国家标准$|^国家标准$|^中华人民共和国$|^代替|^发布$|^实施$"
)
_PAGE_NUMBER = re.compile(
    r"^(?:[-—–－_ ]*\d{1,3}[-—–－_ ]*|[ivxlcIVXLC]{1,5}|[ⅰ-ⅿⅠ-Ⅿ]{1,3}|第\s*\d+\s*页(?:\s*共\s*\d+\s*页)?)$"
)
_DOT_LEADER = re.compile(r"(?:\.{5,}|…{3,}|·{5,}|\.\s\.\s\.\s\.)")
_ARTICLE = re.compile(rf"^第\s*([{CN_NUMERAL_CHARS}\d]+)\s*条(?:\s|$|[^{_CJK}]|(?=[{_CJK}]))")
_CHAPTER = re.compile(rf"^第\s*[{CN_NUMERAL_CHARS}\d]+\s*[章节编]\s*\S*")
_CN_SECTION = re.compile(rf"^[{CN_NUMERAL_CHARS}]{{1,4}}[、．.]\s*\S")
_CN_SUBSECTION = re.compile(rf"^[（(][{CN_NUMERAL_CHARS}]{{1,3}}[）)]\s*\S")
_CLAUSE = re.compile(r"^([A-Z](?:\.\d{1,2}){1,4}|\d{1,2}(?:\.\d{1,2}){0,4})(?:\.(?!\d))?\s*(.*)$")
_TABLE = re.compile(r"^(续?)表\s*([A-Z]?\.?\d{1,2}(?:\.\d{1,2})?)(?:\s+|(?=[^\d.\s]))(.*)$")
_APPENDIX = re.compile(r"^附\s*录\s*([A-Z])\b\s*(.*)$")
_WASTE_CODE = re.compile(r"\b(\d{3}-\d{3}-\d{2})\b")
_HW_LABEL = re.compile(rf"HW(\d{{2}})([{_CJK}、，]{{2,16}})?")
_CATALOG_HEADER_WORDS = (
    "序号", "废物类别", "行业来源", "废物代码", "危险特性", "项目类别", "环评类别", "报告书",
    "报告表", "登记表", "行业类别", "重点管理", "简化管理", "登记管理", "产品名称", "产品代码",
    "行业名称", "行业代码", "豁免环节", "豁免条件", "豁免内容", "计税单位", "税额", "污染当量值",
)
_CATALOG_START = re.compile(r"^(附表|附录|附件)\s*[一二三四五六七八九十\dA-Z]?\s*$")


@contextmanager
def _quiet_pypdf() -> Iterator[None]:
    """Silence pypdf's warnings (font encodings, stray bytes) for the duration of a parse."""
    logger = logging.getLogger("pypdf")
    old = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(old)


# --------------------------------------------------------------------------- extraction


def _char_width(ch: str) -> float:
    """Approximate advance of a character in em (CJK and full-width forms are 1 em)."""
    return 1.0 if ord(ch) >= 0x2E80 else 0.5


def _positional_lines(page: object) -> list[str]:
    """Re-assemble a page's text fragments into visual lines by their position."""
    frags: list[tuple[float, float, float, str]] = []

    def visit(text: str, cm: list[float], tm: list[float], _font: object, size: float) -> None:
        if not text or not text.strip():
            return
        tx, ty = tm[4], tm[5]
        x = cm[0] * tx + cm[2] * ty + cm[4]
        y = cm[1] * tx + cm[3] * ty + cm[5]
        scale = (tm[2] ** 2 + tm[3] ** 2) ** 0.5 * (cm[2] ** 2 + cm[3] ** 2) ** 0.5
        frags.append((x, y, (size or 10.0) * (scale or 1.0), text.replace("\n", " ")))

    page.extract_text(visitor_text=visit)  # type: ignore[attr-defined]
    frags.sort(key=lambda f: (-f[1], f[0]))
    rows: list[tuple[float, list[tuple[float, float, str]]]] = []
    for x, y, size, text in frags:
        if rows and abs(rows[-1][0] - y) <= max(2.0, 0.4 * size):
            rows[-1][1].append((x, size, text))
        else:
            rows.append((y, [(x, size, text)]))
    lines: list[str] = []
    for _y, items in rows:
        items.sort(key=lambda i: i[0])
        out, end = "", None
        for x, size, text in items:
            if out and end is not None and x - end > 0.3 * size and not out.endswith(" "):
                out += " "
            out += text
            end = x + sum(_char_width(c) for c in text) * size
        lines.append(out)
    return lines


def _meaningful(text: str) -> int:
    """Number of letters, digits and CJK characters in ``text``."""
    return sum(1 for c in text if c.isalnum())


def _read_pages(path: Path, positional: bool) -> list[list[str]]:
    """Open the PDF and return the raw lines of every page; raise IngestError/NoTextLayer."""
    name = str(path)
    if not path.is_file():
        raise IngestError(name, "PDF 文件不存在或不是普通文件")
    try:
        with _quiet_pypdf():
            reader = PdfReader(path)
            if reader.is_encrypted:
                reader.decrypt("")
            pages = list(reader.pages)
            plain = [p.extract_text() or "" for p in pages]
            positioned: list[list[str]] | None = None
            if positional:
                positioned = [_positional_lines(p) for p in pages]
    except DependencyError as exc:
        raise IngestError(name, f"PDF 已加密，解密需要 cryptography 库（pip install cryptography）：{exc}") from exc
    except FileNotDecryptedError as exc:
        raise IngestError(name, f"PDF 已加密且需要密码，无法读取：{exc}") from exc
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError, OSError) as exc:
        raise IngestError(name, f"无法读取 PDF（文件损坏或不是 PDF）：{exc}") from exc
    except Exception as exc:  # pypdf raises many internal error types on damaged files
        raise IngestError(name, f"无法读取 PDF（解析失败）：{type(exc).__name__}: {exc}") from exc
    total = sum(_meaningful(t) for t in plain)
    if not pages or total < max(50, 20 * len(pages)):
        raise NoTextLayer(name, NO_TEXT_LAYER_MESSAGE)
    if positioned is not None:
        # Fall back to plain extraction if the positional pass lost text (odd matrices).
        got = sum(_meaningful("".join(lines)) for lines in positioned)
        if got >= 0.9 * total:
            return positioned
    return [t.splitlines() for t in plain]


# --------------------------------------------------------------------------- normalisation

_KEEP_FULLWIDTH = frozenset("，：；（）！？")
_SPACED_CJK = re.compile(rf"(?<![{_CJK}])[{_CJK}](?: {{1,3}}[{_CJK}](?![{_CJK}])){{2,}}")


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


def _strip_furniture(pages: list[list[str]]) -> list[tuple[int, str]]:
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
            if _PAGE_NUMBER.match(line) and (
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
        _ARTICLE.match(line) or _CHAPTER.match(line) or _CN_SECTION.match(line)
        or _CN_SUBSECTION.match(line) or _TABLE.match(line) or _APPENDIX.match(line)
        or re.match(r"^(\d|[A-Z]\.\d|——|—|-|注|说明|式中|附|前言|目次|续表|[a-z]\)|\(\d|（\d|[①-⑳]|"
                    r"(GB|HJ|CJ|GBZ)[/ T]*\d|HW\d{2})", line)
        or re.search(r"\d{3}-\d{3}-\d{2}", line[:16])
    )


def _join_broken(lines: list[tuple[int, str]]) -> list[str]:
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
                and not _looks_tabular(prev)
                and not _looks_tabular(line)
            ):
                sep = " " if prev[-1].isascii() and prev[-1].isalnum() and line[0].isascii() and line[0].isalnum() else ""
                out[-1] = prev + sep + line
                continue
        out.append(line)
    return out


def _looks_tabular(line: str) -> bool:
    """A table row of values: mostly numeric / '/' tokens."""
    tokens = line.split()
    if len(tokens) < 3:
        return False
    numeric = sum(1 for t in tokens if re.fullmatch(r"[\d.,~～≤≥<>/%()（）*-]+", t))
    return numeric >= max(2, len(tokens) // 2)


# --------------------------------------------------------------------------- metadata


@dataclass
class _Meta:
    title: str
    kind: str
    issuer: str = ""
    promulgated: date | None = None
    effective: date | None = None
    extra: dict[str, object] = field(default_factory=dict)


_STD_STEM = re.compile(r"^(GB|HJ|GBZ|CJJ|CJ)(?:[-_ ]?(T))?[-_ ]?(\d+(?:\.\d+)*)[-_](\d{4})$", re.IGNORECASE)


def _standard_code(stem: str) -> str | None:
    """``GB-12348-2008`` → ``GB 12348-2008``; ``HJ-T-55-2000`` → ``HJ/T 55-2000``."""
    m = _STD_STEM.match(stem)
    if not m:
        return None
    prefix = m.group(1).upper() + ("/T" if m.group(2) else "")
    return f"{prefix} {m.group(3)}-{m.group(4)}"


def _find_date(text: str, word: str) -> date | None:
    compact = re.sub(r"\s+", "", text)
    m = re.search(rf"(\d{{4}})[-－—.年]?(\d{{1,2}})[-－—.月]?(\d{{1,2}})日?(?:起)?{word}", compact)
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def _issuers(text: str) -> str:
    compact = text.replace(" ", "")
    found = sorted({i for i in _ISSUERS if i in compact}, key=compact.index)
    # "国家环境保护总局" contains no other name, but "环境保护部" ⊂ "中华人民共和国环境保护部公告" is fine.
    return "、".join(found)


def _standard_name(lines: list[str], code: str) -> str:
    """The Chinese name of a standard: the title line printed above clause 1, else from the cover."""
    for i, line in enumerate(lines[:-1]):
        if re.match(r"^1\s*\.?\s*(适用)?范围", lines[i + 1]) and re.search(rf"[{_CJK}]{{4,}}", line):
            name = line.replace(" ", "")
            if not _CLAUSE.match(line) and len(name) <= 60 and not name.startswith("前言"):
                return name
    # cover: CJK lines between the code and the English title
    name_parts: list[str] = []
    for line in lines[:25]:
        if re.search(r"[A-Za-z]{4,} [A-Za-z]{2,}", line) and name_parts:
            break
        if re.fullmatch(rf"[{_CJK}（）() 、，]+", line) and not _BOILERPLATE.search(line) and not _issuers(line):
            name_parts.append(line.replace(" ", ""))
    return "".join(name_parts)


def _catalog_title(lines: list[str], stem: str) -> str:
    """The catalogue's own printed title (with its edition line), else the file stem."""
    core = re.sub(r"[-_ ]?\d{4}$", "", stem)
    for i, line in enumerate(lines[:8]):
        compact = line.replace(" ", "")
        if re.fullmatch(r"(附件|附表|附录)[一二三四五六七八九十\d]*", compact) or _PAGE_NUMBER.match(line):
            continue
        if not re.search(rf"[{_CJK}]{{4,}}", compact) or len(compact) > 50:
            continue
        if i + 1 < len(lines) and re.fullmatch(r"[（(]\d{4}年版[）)]", lines[i + 1].replace(" ", "")):
            compact += lines[i + 1].replace(" ", "")
        shared = len(set(core) & set(compact)) / max(1, len(set(core)))
        if shared >= 0.6:
            return compact.replace("(", "（").replace(")", "）")
        break
    return stem


# --------------------------------------------------------------------------- passages


@dataclass
class _Unit:
    key: str
    lines: list[str]
    line: int  # 1-based line number of the first line
    heading: str = ""
    article: int | None = None
    context: str = ""  # prefix for table rows (section / column header)

    @property
    def body(self) -> str:
        return "\n".join(self.lines).strip()


class _Keys:
    """Hands out unique passage keys."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def __call__(self, key: str) -> str:
        cand, n = key, 2
        while cand in self.used:
            cand = f"{key}~{n}"
            n += 1
        self.used.add(cand)
        return cand


def _split_long(unit: _Unit) -> list[_Unit]:
    """Split a unit longer than MAX_PASSAGE at sentence/line boundaries (keys ``k``, ``k-2`` …)."""
    text_len = len(unit.context) + len(unit.body)
    if text_len <= MAX_PASSAGE:
        return [unit]
    pieces: list[tuple[int, str]] = []  # (line offset, sentence)
    for offset, line in enumerate(unit.lines):
        for sentence in re.findall(r"[^。；;！？!?]+[。；;！？!?]?", line) or [line]:
            pieces.append((offset, sentence))
    budget = MAX_PASSAGE - len(unit.context)
    parts: list[_Unit] = []
    cur: list[str] = []
    cur_len, cur_off, last_off = 0, 0, 0
    for offset, sentence in pieces:
        if cur and cur_len + len(sentence) > budget:
            parts.append(_Unit("", ["".join(cur)], unit.line + cur_off, unit.heading, unit.article, unit.context))
            cur, cur_len, cur_off = [], 0, offset
        if cur and offset != last_off:
            cur.append("\n")
        cur.append(sentence)
        cur_len += len(sentence)
        last_off = offset
    if cur:
        parts.append(_Unit("", ["".join(cur)], unit.line + cur_off, unit.heading, unit.article, unit.context))
    for i, part in enumerate(parts):
        part.key = unit.key if i == 0 else f"{unit.key}-{i + 1}"
    return parts


def _finish(units: list[_Unit], merge_small: bool = True) -> list[ParsedPassage]:
    """Merge tiny units, split huge ones and build passages."""
    merged: list[_Unit] = []
    pending: _Unit | None = None  # a heading-only unit waiting to prefix its first child
    for unit in units:
        if not unit.body:
            continue
        if pending is not None:
            unit.lines = pending.lines + unit.lines
            unit.line = pending.line
            pending = None
        if merge_small and len(unit.body) < MIN_PASSAGE:
            nxt = units[units.index(unit) + 1] if units.index(unit) + 1 < len(units) else None
            if nxt is not None and nxt.key.startswith(unit.key + ".") and unit.article is None:
                pending = unit  # "5 测量方法" heading: prefix it to 5.1
                continue
            prev = merged[-1] if merged else None
            if (
                prev is not None
                and prev.article is None
                and unit.article is None
                and prev.context == unit.context  # table rows only group within one section
                and len(prev.body) + len(unit.body) <= MAX_PASSAGE // 3
            ):
                prev.lines.extend(unit.lines)
                continue
        merged.append(unit)
    if pending is not None:
        merged.append(pending)
    passages: list[ParsedPassage] = []
    for unit in merged:
        for part in _split_long(unit):
            text = (part.context + "\n" + part.body).strip() if part.context else part.body
            passages.append(
                ParsedPassage(key=part.key, text=text, article=part.article, heading=part.heading, line=part.line)
            )
    return passages


def _clause_tuple(num: str) -> tuple[int, ...] | None:
    if not num[0].isdigit():
        return None
    return tuple(int(p) for p in num.split("."))


def _plausible_next(prev: tuple[int, ...], cand: tuple[int, ...]) -> bool:
    """Is ``cand`` a plausible clause number after ``prev`` (allowing a lost page or two)?"""
    if not prev:
        return cand[0] <= 2 and all(c <= 2 for c in cand[1:])
    if cand <= prev:
        return False
    for level, value in enumerate(cand):
        before = prev[level] if level < len(prev) else 0
        if value != before:
            return value - before <= 3 and all(v <= 3 for v in cand[level + 1:])
    return False


def _standard_units(lines: list[str]) -> list[_Unit]:
    """Split a standard's body into 公告/前言/clauses/tables/附录."""
    keys = _Keys()
    units: list[_Unit] = []
    titles: dict[tuple[int, ...], str] = {}
    prev: tuple[int, ...] = ()
    body_started = False
    in_appendix = False
    cur: _Unit | None = None

    def heading_for(num: tuple[int, ...]) -> str:
        if len(num) == 1:
            return titles.get(num, "")
        return " / ".join(titles[num[:k]] for k in range(1, len(num)) if num[:k] in titles)

    def section_path(num: tuple[int, ...]) -> str:
        """Titles of ``num`` and its ancestors: the heading of a table inside clause ``num``."""
        return " / ".join(titles[num[:k]] for k in range(1, len(num) + 1) if num[:k] in titles)

    for i, line in enumerate(lines):
        lineno = i + 1
        compact = line.replace(" ", "")
        new: _Unit | None = None
        if not body_started:
            if re.match(r"^1\s*\.?\s*(适用)?范围", line):
                body_started = True
                if cur is not None and cur.lines and re.fullmatch(rf"[{_CJK} ]{{4,60}}", cur.lines[-1]):
                    cur.lines.pop()  # the standard's name printed above clause 1
            elif compact.endswith("公告") and len(compact) <= 30:
                new = _Unit(keys("公告"), [line], lineno, "公告")
            elif compact in ("前言", "目次"):
                new = _Unit(keys(compact), [line], lineno, compact) if compact == "前言" else None
                if compact == "目次":
                    cur = None
                    continue
            elif cur is None:
                continue  # cover lines: metadata only
        if body_started:
            m_app = _APPENDIX.match(line)
            m_tab = _TABLE.match(line)
            m_cl = _CLAUSE.match(line)
            if m_app:
                in_appendix = True
                key = f"附录{m_app.group(1)}"
                titles_text = line
                new = _Unit(keys(key), [line], lineno, titles_text)
            elif m_tab and not re.match(r"^(规定|中|的|所|要求|执行|和|或)", m_tab.group(3) or ""):
                if m_tab.group(1) and cur is not None and cur.key.startswith("表"):
                    cur.lines.append(line)  # 续表N continues the open table
                    continue
                new = _Unit(keys(f"表{m_tab.group(2)}"), [line], lineno, section_path(prev))
            elif line.replace(" ", "") == "续表" and cur is not None and not cur.key.startswith("表"):
                # continuation of a table whose first part was not extracted (e.g. an image page)
                new = _Unit(keys("续表"), [line], lineno, section_path(prev))
            elif m_cl:
                num, rest = m_cl.group(1), m_cl.group(2)
                tup = _clause_tuple(num)
                ok = False
                if tup is None:
                    ok = in_appendix
                elif len(tup) == 1:
                    ok = bool(re.match(rf"^[{_CJK}]", rest)) and _plausible_next(prev, tup)
                else:
                    ok = _plausible_next(prev, tup) and not _looks_tabular(line)
                if ok:
                    if tup is not None:
                        prev = tup
                        title = re.split(r"[。；，：]", rest, maxsplit=1)[0] if rest else ""
                        if title and len(title) <= 30:
                            titles[tup] = f"{num} {title}"
                        new = _Unit(keys(num), [line], lineno, heading_for(tup))
                    else:
                        new = _Unit(keys(num), [line], lineno, cur.heading if cur else "")
        if new is not None:
            cur = new
            units.append(new)
        elif cur is not None:
            cur.lines.append(line)
    return units


def _article_units(lines: list[str], keys: _Keys) -> tuple[list[_Unit], int]:
    """Split the 第X条 part of a catalogue/regulation; return the units and the index where it ends."""
    units: list[_Unit] = []
    chapter = ""
    cur: _Unit | None = None
    end = 0
    started = False
    for i, line in enumerate(lines):
        compact = line.replace(" ", "")
        if started and (_CATALOG_START.match(compact) or _is_table_header(compact)):
            return units, i
        m = _ARTICLE.match(line)
        if m:
            try:
                n = cn_to_int(m.group(1))
            except ValueError:
                n = None
            if n is not None:
                started = True
                cur = _Unit(keys(str(n)), [line], i + 1, chapter, article=n)
                units.append(cur)
                end = i + 1
                continue
        if _CHAPTER.match(line) and len(compact) <= 30:
            chapter = line
            continue
        if cur is not None:
            cur.lines.append(line)
            end = i + 1
    return units, (end if started else 0)


def _is_table_header(compact: str) -> bool:
    """A column-header line of a catalogue table (short, no sentence punctuation)."""
    if len(compact) > 60 or re.search(r"[，。；,;]", compact):
        return False
    return sum(1 for w in _CATALOG_HEADER_WORDS if w in compact) >= 3


def _catalog_rows(lines: list[str], offset: int, title: str, keys: _Keys) -> list[_Unit]:
    """One unit per catalogue table row, carrying its section and column-header context."""
    text = "\n".join(lines)
    waste = len(_WASTE_CODE.findall(text)) >= 20
    hw_names: dict[str, str] = {}
    if waste:
        for i, line in enumerate(lines):
            m = _HW_LABEL.fullmatch(line.replace(" ", ""))
            if m:
                following = lines[i + 1].split() if i + 1 < len(lines) else []
                name = m.group(2) or (following[0] if following else "")
                if re.fullmatch(rf"[{_CJK}、，]{{2,16}}", name):
                    hw_names.setdefault(m.group(1), name.rstrip("、，"))
    units: list[_Unit] = []
    section = subsection = header = table = ""
    row_no = 0
    cur: _Unit | None = None
    preamble: _Unit | None = None

    def context() -> str:
        parts = [p for p in (title, table, section, subsection) if p]
        ctx = " › ".join(parts)
        if header:
            ctx += f"\n［表头：{header}］"
        return ctx

    for i, line in enumerate(lines):
        lineno = offset + i + 1
        compact = line.replace(" ", "")
        if _CATALOG_START.match(compact):
            table, section, subsection, row_no, cur = "", "", "", 0, None
            continue
        if table == "" and cur is None and re.fullmatch(
            rf"[{_CJK}（）()、“”]{{2,30}}(名录|清单|目录|表)([（(]\d{{4}}年版[）)])?", compact
        ):
            table = compact
            continue
        if _is_table_header(compact):
            header = " | ".join(line.split()) if " " in line else line
            cur = None
            continue
        if _CN_SECTION.match(line) and len(compact) <= 40 and not _looks_tabular(line):
            section, subsection, cur = line, "", None
            continue
        if _CN_SUBSECTION.match(line) and len(compact) <= 40 and "中的" not in compact:
            subsection, cur = line, None
            continue
        start = False
        number: str | None = None
        m_code = re.match(rf"^(?:(\d{{1,3}})\s+)?(?:[{_CJK}]{{2,12}}\s*)?(\d{{3}}-\d{{3}}-\d{{2}})", line) if waste else None
        m_num = re.match(r"^(\d{1,3})(?:-\d{1,3})?(?:\s+|\.|、|$)(?!\d{3}-)", line)
        if m_code:
            start, number = True, m_code.group(2)
        elif m_num and not waste:
            n = int(m_num.group(1))
            rest = line[m_num.end():].lstrip()
            continuation = bool(re.match(r"^(万|亿|千|吨|个|台|头|只|米|平方|立方|年|以|及|%|倍|小时|蒸吨)", rest))
            if not continuation and (
                n == row_no + 1 or (row_no < n <= row_no + 3 and rest) or (n == 1 and cur is None)
            ):
                start, number, row_no = True, m_num.group(1), n
        if start and number is not None:
            ctx = context()
            if waste and _WASTE_CODE.fullmatch(number):
                hw = number[-2:]
                label = f"HW{hw} {hw_names.get(hw, '')}".strip()
                ctx = ctx.replace(title, f"{title} › {label}", 1) if title else label
                key = keys(f"row-{number}")
            else:
                key = keys(f"row-{number}")
            cur = _Unit(key, [line], lineno, section or table, context=ctx)
            units.append(cur)
        elif cur is not None:
            cur.lines.append(line)
        else:
            if preamble is None or (units and units[-1] is not preamble):
                preamble = _Unit(keys(f"p{lineno}"), [], lineno, section or table, context=context())
                units.append(preamble)
            preamble.lines.append(line)
    return units


def _chunk_units(lines: list[str], offset: int, keys: _Keys, heading: str = "") -> list[_Unit]:
    """Fallback: paragraphs grouped up to MAX_PASSAGE characters."""
    units: list[_Unit] = []
    cur: _Unit | None = None
    for i, line in enumerate(lines):
        if cur is None or len(cur.body) + len(line) > MAX_PASSAGE * 0.8:
            cur = _Unit(keys(f"p{offset + i + 1}"), [], offset + i + 1, heading)
            units.append(cur)
        cur.lines.append(line)
    return units


# --------------------------------------------------------------------------- entry point


def _is_cover_boilerplate(page: int, line: str) -> bool:
    """Publisher/colophon/cover lines of a standard (only looked for on the first pages)."""
    return page < 3 and len(line) < 60 and "。" not in line and bool(_BOILERPLATE.search(line.replace(" ", "")))


def _kind_for(path: Path) -> str:
    if _standard_code(path.stem):
        return "标准"
    if "catalogs" in path.parts or re.search(r"名录|目录|清单|税额表|当量值表", path.stem):
        return "名录"
    return "规范性文件"


def parse_pdf(path: Path) -> ParsedDocument:
    """Parse a PDF with a text layer into a :class:`ParsedDocument`.

    Raises :class:`NoTextLayer` for scans and :class:`IngestError` for unreadable files.
    """
    path = Path(path)
    kind = _kind_for(path)
    code = _standard_code(path.stem)
    raw_pages = _read_pages(path, positional=kind == "标准")
    stripped = _strip_furniture(raw_pages)
    first_page_text = "\n".join(line for page, line in stripped if page == 0)
    all_text = "\n".join(line for _p, line in stripped)
    if kind == "标准":
        kept = [(p, line) for p, line in stripped if not _is_cover_boilerplate(p, line)]
    else:
        kept = stripped
    lines = _join_broken(kept)
    keys = _Keys()
    meta = _Meta(title=path.stem, kind=kind)
    if kind == "标准" and code:
        name = _standard_name(lines, code)
        meta.title = f"{code} {name}".strip()
        meta.extra["code"] = code
        meta.issuer = _issuers(first_page_text)
        meta.promulgated = _find_date(first_page_text, "发布")
        meta.effective = _find_date(first_page_text, "实施")
        units = _standard_units(lines)
        if not units:
            units = _chunk_units(lines, 0, keys)
    else:
        meta.title = _catalog_title(lines, path.stem)
        m = re.search(r"由(" + "|".join(_ISSUERS) + r")负责解释", all_text.replace(" ", "").replace("\n", ""))
        meta.issuer = m.group(1) if m else ""
        meta.effective = _find_date(all_text, "施行")
        articles, end = _article_units(lines, keys)
        rest = lines[end:]
        rows = _catalog_rows(rest, end, meta.title, keys) if kind == "名录" else _chunk_units(rest, end, keys)
        units = articles + rows
        if not units:
            units = _chunk_units(lines, 0, keys)
    passages = _finish(units)
    if not passages:
        raise NoTextLayer(str(path), NO_TEXT_LAYER_MESSAGE)
    return ParsedDocument(
        title=meta.title,
        kind=kind,
        source_path=str(path),
        passages=passages,
        issuer=meta.issuer,
        promulgated=meta.promulgated,
        effective=meta.effective,
        extra=dict(meta.extra),
    )
