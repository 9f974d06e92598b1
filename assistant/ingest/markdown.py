"""Regulation Markdown in the two formats of the shared corpus.

* LawRefBook: ``# 标题``, header lines with dates, ``<!-- INFO END -->``, ``## 第一章 …`` / ``### 第一节 …``,
  articles as paragraphs starting ``第X条``.
* VuePress pages: YAML front matter (``title:``, ``date:``, ``author:``, ``category:``), a ``::: tip 修订信息`` block,
  articles as ``<p id="tN">&emsp;&emsp;<b>第X条</b>…</p>`` with ``<br>`` line breaks and site-added ``【…】``
  captions (dropped: they are not part of the official text).

Documents without articles (复函, 意见, 纪要) are split into paragraphs under their headings (keys ``p1``, ``p2`` …).
"""

from __future__ import annotations

import html
import re
from datetime import date
from pathlib import Path

from ..text.dates import ymd
from ..text.numerals import CN_NUMERAL_CHARS, cn_to_int
from .base import IngestError, ParsedDocument, ParsedPassage
from .limits import standard_passages

_ARTICLE = re.compile(rf"^第([{CN_NUMERAL_CHARS}]+)条(?:之[{CN_NUMERAL_CHARS}]+)?[\s\u3000]*(.*)$")
_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_CHAPTER = re.compile(rf"^第[{CN_NUMERAL_CHARS}]+[章编]")
_SECTION = re.compile(rf"^第[{CN_NUMERAL_CHARS}]+节")
_LOCAL_PREFIXES = ("浙江省", "杭州市", "宁波市", "温州市", "嘉兴市", "湖州市", "绍兴市", "金华市", "衢州市", "舟山市",
                   "台州市", "丽水市")


_TAG = re.compile(r"<[^>]+>")
_ATTR = re.compile(r"\{[^{}]*\}\s*$")


def _clean_inline(text: str) -> str:
    text = text.replace("&emsp;", " ").replace("&nbsp;", " ")
    text = re.sub(r"<br\s*/?>", "\n", text)
    text = _TAG.sub("", text)
    text = html.unescape(text)
    text = _ATTR.sub("", text)
    lines = [re.sub(r"[ \u3000]+", " ", ln).strip() for ln in text.split("\n")]
    return "\n".join(ln for ln in lines if ln)


_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
#: a standard's title page: "1996-10-04 批准（发布） 1998-01-01 实施"
_STANDARD_DATES = re.compile(r"(\d{4}-\d{1,2}-\d{1,2})\s*(?:批准|发布)\s*(\d{4}-\d{1,2}-\d{1,2})\s*实施")


def _parse_date(text: str) -> date | None:
    return ymd(_DATE.search(text) or _ISO_DATE.search(text))


#: document kinds a front matter ``kind:`` may set
KNOWN_KINDS = ("法律", "行政法规", "部门规章", "地方性法规", "司法解释", "规范性文件", "标准", "名录")


def infer_kind(title: str, local: bool = False, category: str = "") -> str:
    """Document kind from its title (and the VuePress category when present)."""
    if title.startswith("最高人民法院") or title.startswith("最高人民检察院") or "司法解释" in category:
        return "司法解释"
    if local or title.startswith(_LOCAL_PREFIXES):
        return "地方性法规" if ("条例" in title or "规定" in title) else "规范性文件"
    if title.startswith("中华人民共和国") and title.endswith("法"):
        return "法律"
    if title.endswith("法") and "办法" not in title[-3:]:
        return "法律"
    if "条例" in title and "实施细则" not in title:
        return "行政法规"
    if "实施条例" in title:
        return "行政法规"
    if any(w in title for w in ("复函", "意见", "纪要", "通知", "清单", "范围")) or "法律解释" in category:
        return "规范性文件"
    return "部门规章"


def _new_doc(path: Path, title: str, local: bool, category: str = "") -> ParsedDocument:
    status = "已废止" if "已废止" in path.name or "失效" in path.name else "现行有效"
    title = re.sub(r"\(.*?已废止.*?\)|（.*?已废止.*?）", "", title).strip()
    return ParsedDocument(title=title, kind=infer_kind(title, local, category), source_path=str(path), status=status)


_CAPTION = re.compile(r"^【[^】]{1,20}】")


class _Splitter:
    """Accumulates article / paragraph passages while walking a file's body."""

    def __init__(self, doc: ParsedDocument) -> None:
        self.doc = doc
        self.chapter = ""
        self.section = ""
        self.sub = ""
        self.cur: dict[str, object] | None = None
        self.paragraphs: list[tuple[str, str, int]] = []  # (heading, text, line) for docs without articles
        self.seen: set[str] = set()

    @property
    def heading(self) -> str:
        return " / ".join(h for h in (self.chapter, self.section, self.sub) if h)

    def set_heading(self, level: int, text: str) -> None:
        self.close()
        if _SECTION.match(text):
            self.section, self.sub = text, ""
        elif level <= 2 or _CHAPTER.match(text):
            self.chapter, self.section, self.sub = text, "", ""
        else:
            self.sub = text

    def start_article(self, numeral: str, rest: str, line: int) -> None:
        self.close()
        n = cn_to_int(numeral)
        key = str(n)
        if key in self.seen:  # e.g. 第十条之一 or a repeated number: keep ids unique
            suffix = 2
            while f"{n}-{suffix}" in self.seen:
                suffix += 1
            key = f"{n}-{suffix}"
        self.seen.add(key)
        self.cur = {"key": key, "n": n, "lines": [rest] if rest else [], "line": line, "heading": self.heading}

    def add_line(self, text: str, line: int) -> None:
        if self.cur is not None:
            lines = self.cur["lines"]
            assert isinstance(lines, list)
            lines.append(text)
        else:
            self.paragraphs.append((self.heading, text, line))

    def close(self) -> None:
        if self.cur is None:
            return
        lines = self.cur["lines"]
        assert isinstance(lines, list)
        text = "\n".join(str(x) for x in lines).strip()
        text = _CAPTION.sub("", text).strip()
        n = self.cur["n"]
        assert isinstance(n, int)
        self.doc.passages.append(ParsedPassage(
            key=str(self.cur["key"]), article=n, text=text, heading=str(self.cur["heading"]),
            line=int(str(self.cur["line"])),
        ))
        self.cur = None

    def finish(self) -> None:
        self.close()
        if self.doc.passages:
            return
        # No articles: paragraphs become passages, short ones merged with the next under the same heading.
        buf: list[str] = []
        start, head = 0, ""
        k = 0
        for heading, text, line in self.paragraphs:
            if buf and (heading != head or sum(map(len, buf)) >= 120):
                k += 1
                self.doc.passages.append(ParsedPassage(key=f"p{k}", text="\n".join(buf), heading=head, line=start))
                buf = []
            if not buf:
                start, head = line, heading
            buf.append(text)
        if buf:
            k += 1
            self.doc.passages.append(ParsedPassage(key=f"p{k}", text="\n".join(buf), heading=head, line=start))


def parse_lawrefbook(path: Path, text: str, local: bool) -> ParsedDocument:
    """Parse the LawRefBook format (``# title`` … ``<!-- INFO END -->`` … articles)."""
    lines = text.splitlines()
    titles: list[str] = []
    header: list[str] = []
    body_start = 0
    for i, raw in enumerate(lines):
        s = raw.strip()
        if s == "<!-- INFO END -->":
            body_start = i + 1
            break
        m = _HEADING.match(s)
        if m and m.group(1) == "#":
            titles.append(_clean_inline(m.group(2)))
        elif s:
            header.append(_clean_inline(s))
    else:
        body_start = 0
    if not titles:
        raise IngestError(str(path), "缺少标题行（应以“# 标题”开头）", line=1)
    doc = _new_doc(path, titles[0], local)
    if len(titles) > 1:
        doc.extra["part"] = "".join(titles[1:])
    doc.revision_note = "\n".join(header)
    dates = [d for d in (_parse_date(h) for h in header) if d]
    if dates:
        doc.promulgated = dates[0]
        doc.extra["last_revised"] = dates[-1].isoformat()
    for h in header:
        if "施行" in h and _parse_date(h):
            doc.effective = _parse_date(h)
    sp = _Splitter(doc)
    for i in range(body_start, len(lines)):
        s = lines[i].strip()
        if not s:
            continue
        m = _HEADING.match(s)
        if m:
            if m.group(1) != "#":
                sp.set_heading(len(m.group(1)), _clean_inline(m.group(2)))
            continue
        s = _clean_inline(s)
        a = _ARTICLE.match(s)
        if a:
            sp.start_article(a.group(1), a.group(2), i + 1)
        elif s:
            sp.add_line(s, i + 1)
    sp.finish()
    return doc


def _front_matter(path: Path, lines: list[str]) -> tuple[dict[str, object], int]:
    import yaml

    if not lines or lines[0].strip() != "---":
        return {}, 0
    for i in range(1, len(lines)):
        if lines[i].strip() == "---":
            try:
                meta = yaml.safe_load("\n".join(lines[1:i])) or {}
            except yaml.YAMLError as exc:
                mark = getattr(exc, "problem_mark", None)
                line = (mark.line + 2) if mark is not None else 1
                raise IngestError(str(path), f"YAML 头信息无法解析：{exc}", line=line) from None
            if not isinstance(meta, dict):
                raise IngestError(str(path), "YAML 头信息不是键值表", line=2)
            return meta, i + 1
    raise IngestError(str(path), "YAML 头信息缺少结束的“---”", line=1)


_P_ID = re.compile(r'^<p id="t\d+">')


def parse_vuepress(path: Path, text: str, local: bool) -> ParsedDocument:
    """Parse the VuePress page format (front matter, ``<p id>`` articles, ``&emsp;`` paragraphs)."""
    lines = text.splitlines()
    meta, start = _front_matter(path, lines)
    title = str(meta.get("title") or "").strip()
    if not title:
        raise IngestError(str(path), "头信息缺少 title 字段", line=2)
    cats = meta.get("category") or []
    tags = meta.get("tag") or []
    category = " ".join(str(c) for c in (cats if isinstance(cats, list) else [cats]))
    doc = _new_doc(path, title, local, category)
    if "部门规章" in [str(t) for t in (tags if isinstance(tags, list) else [tags])] and doc.kind == "规范性文件":
        doc.kind = "部门规章"
    if str(meta.get("kind") or "") in KNOWN_KINDS:  # the file says what it is (the standards' Markdown texts: 标准)
        doc.kind = str(meta["kind"])
    if str(meta.get("status") or "") in ("现行有效", "已废止", "已修改"):
        doc.status = str(meta["status"])
    doc.issuer = str(meta.get("author") or "")
    d = meta.get("date")
    if isinstance(d, date):
        doc.effective = d
    elif d:
        doc.effective = _parse_date(str(d))
    if doc.kind == "标准":
        # a standard's full text: clauses, tables and limit-table rows (ingest/limits.py), not articles
        body = []
        for raw in lines[start:]:
            s = raw.strip()
            if not s or s == "---":
                continue
            m = _HEADING.match(s)
            body.append(_clean_inline(m.group(2)) if m else s)
        code = str(meta.get("number") or "").strip()
        doc.passages = standard_passages(body, code)
        for line in body[:15]:  # the title page: "国家环境保护局 1996-10-04 批准 1998-01-01 实施"
            m = _STANDARD_DATES.search(line)
            if m:
                doc.promulgated, doc.effective = ymd(_ISO_DATE.search(m.group(1))), ymd(_ISO_DATE.search(m.group(2)))
                break
        if code:
            doc.extra["code"] = code
        return doc
    sp = _Splitter(doc)
    block: str | None = None  # inside ::: tip / details / warning
    depth = 0
    notes: list[str] = []
    for i in range(start, len(lines)):
        s = lines[i].strip()
        if s.startswith(":::"):
            word = s[3:].strip()
            if word:  # containers do not nest in these pages: `::: details` + `::: tabs` close with one `:::`
                if depth == 0:
                    block = word.split()[0]
                depth = 1
            else:
                depth, block = 0, None
            continue
        if depth:
            if block == "tip" and s:
                notes.append(_clean_inline(s))
            elif block == "warning" and s.startswith("<http"):
                doc.extra["source_url"] = s.strip("<>")
            continue
        if not s or s == "---" or s.startswith("@tab") or s == "[[toc]]":
            continue
        m = _HEADING.match(s)
        if m:
            sp.set_heading(len(m.group(1)), _clean_inline(m.group(2)))
            continue
        is_p = bool(_P_ID.match(s))
        s = _clean_inline(s)
        if not s:
            continue
        first, _, rest = s.partition("\n")
        a = _ARTICLE.match(first)
        if a and (is_p or sp.cur is not None or not sp.paragraphs):
            sp.start_article(a.group(1), (a.group(2) + ("\n" + rest if rest else "")).strip(), i + 1)
        else:
            sp.add_line(s, i + 1)
    sp.finish()
    doc.revision_note = "\n".join(notes)
    if notes:
        doc.promulgated = _parse_date(notes[0])
        m = re.search(r"自(\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日)起施行", notes[-1])
        if m:
            doc.effective = _parse_date(m.group(1))
    return doc


def parse_markdown(path: Path) -> ParsedDocument:
    """Parse one regulation Markdown file in either format; raises :class:`IngestError` naming file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise IngestError(str(path), "文件不是 UTF-8 编码", line=line) from None
    if not text.strip():
        raise IngestError(str(path), "文件为空", line=1)
    local = "zhejiang" in path.parts
    if text.lstrip().startswith("---"):
        doc = parse_vuepress(path, text, local)
    else:
        doc = parse_lawrefbook(path, text, local)
    if not doc.passages:
        raise IngestError(str(path), "未找到任何条文或段落")
    return doc
