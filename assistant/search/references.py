"""Explicit references in a question: 《大气污染防治法》第八十一条, 环评法第三十一条, 条例第十九条 …

Enterprise staff and officials often name the law and article they are asking about. Such references are a
strong, precise signal that neither BM25 nor the encoder uses well (numbers written in Chinese, abbreviated
titles). :func:`reference_vector` marks the referenced articles (1.0) and the other articles of referenced
documents (a smaller document prior) for a given index.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..text.numerals import CN_NUMERAL_CHARS, cn_to_int
from .index import SearchIndex
from .letter import QueryParts

_TITLE_REF = re.compile(r"《([^《》]{2,60})》")
#: an article by number ("第八十一条", "第46条")
NAMED_ARTICLE = re.compile(rf"第([{CN_NUMERAL_CHARS}0-9]+)条")
_PREFIX = "中华人民共和国"
#: common short names → a distinctive part of the full title
ABBREVIATIONS = {
    "环评法": "环境影响评价法", "大气法": "大气污染防治法", "水污法": "水污染防治法", "固废法": "固体废物污染环境防治法",
    "土壤法": "土壤污染防治法", "噪声法": "噪声污染防治法", "环保法": "环境保护法", "环境保护法": "环境保护法",
    "环保税法": "环境保护税法", "海环法": "海洋环境保护法", "条例": "",
}


@dataclass
class ReferenceMatcher:
    """Maps title mentions to documents of one index."""

    index: SearchIndex

    @cached_property
    def _by_title(self) -> dict[str, list[int]]:
        out: dict[str, list[int]] = {}
        for i, it in enumerate(self.index.items):
            if it.title and it.article is not None:
                out.setdefault(it.title, []).append(i)
        return out

    @cached_property
    def _article_pos(self) -> dict[tuple[str, int], int]:
        return {(self.index.items[i].title, self.index.items[i].article or 0): i
                for ps in self._by_title.values() for i in ps}

    def resolve_title(self, mention: str) -> str | None:
        """The document title a mention (full, without 中华人民共和国, or abbreviated) refers to."""
        m = mention.strip()
        m = re.sub(r"[（(][^）)]*[）)]$", "", m)  # drop "（2016年修订）"
        if m in self._by_title:
            return m
        if _PREFIX + m in self._by_title:
            return _PREFIX + m
        core = ABBREVIATIONS.get(m)
        if core:
            cands = [t for t in self._by_title if t.endswith(core) and (t == core or t == _PREFIX + core)]
            if cands:
                return cands[0]
        return None

    def references(self, text: str) -> tuple[set[int], set[str]]:
        """(positions of explicitly referenced articles, titles of referenced documents)."""
        arts: set[int] = set()
        docs: set[str] = set()
        spans = [(m.start(), m.end(), m.group(1)) for m in _TITLE_REF.finditer(text)]
        for abbr in ABBREVIATIONS:
            if abbr and abbr != "条例":
                for m in re.finditer(re.escape(abbr), text):
                    if not any(s <= m.start() < e for s, e, _ in spans):
                        spans.append((m.start(), m.end(), abbr))
        spans.sort()
        for k, (_s, e, mention) in enumerate(spans):
            title = self.resolve_title(mention)
            if title is None:
                continue
            docs.add(title)
            nxt = spans[k + 1][0] if k + 1 < len(spans) else len(text)
            tail = text[e : min(nxt, e + 40)]
            for am in NAMED_ARTICLE.finditer(tail):
                try:
                    n = cn_to_int(am.group(1))
                except ValueError:
                    continue
                pos = self._article_pos.get((title, n))
                if pos is not None:
                    arts.add(pos)
        return arts, docs


def reference_vector(matcher: ReferenceMatcher, text: str, doc_prior: float) -> np.ndarray | None:
    """1.0 on referenced articles, ``doc_prior`` on other articles of referenced documents; None if none."""
    arts, docs = matcher.references(text)
    if not arts and not docs:
        return None
    v = np.zeros(len(matcher.index.items), dtype=np.float32)
    for t in docs:
        v[matcher._by_title[t]] = doc_prior
    for p in arts:
        v[p] = 1.0
    return v


# -- documents and articles a question names (for the ranking stage) ---------------------------------------------
_PAREN = re.compile(r"[（(][^（）()]*[）)]")
_GENERIC = re.compile(r"(?:《(条例|办法|规定|细则|名录|通知)》|(?:该|本|此|上述|前述)(法|条例|办法|规定|细则|名录))")
_STD_CODE = re.compile(r"^((?:gb|hj|cj|db\d{2})(?:/t)?)\s*([0-9]{2,5}(?:\.[0-9]+)?)(?:\s*[-—–]\s*(\d{4}))?")
#: a standard's code in running text, with or without a space or the year ("执行gb8978-1996表4")
STD_IN_TEXT = re.compile(r"(?<![a-z])((?:gb|hj|cj|db\d{2})(?:/t)?)\s*([0-9]{2,5}(?:\.[0-9]+)?)"
                          r"(?:\s*[-—–]\s*((?:19|20)\d{2}))?")
#: a hazardous-waste code ("900-041-49"), which names its row of 国家危险废物名录 (passage ``…#row-900-041-49``)
WASTE_CODE = re.compile(r"(?<![0-9])([0-9]{3}-[0-9]{3}-[0-9]{2})(?![0-9])")
WASTE_ROW_ID = re.compile(r"#row-([0-9]{3}-[0-9]{3}-[0-9]{2})$")
#: a clause or table named right after a standard's code ("GB 37822-2019 5.2.1", "GB 8978-1996 表1")
_NAMED_CLAUSE = re.compile(r"^\s*(?:的|中的|第)?\s*(?:([0-9]+(?:\.[0-9]+)+)|(表|附录)\s*([0-9]+|[a-z]))(?![0-9.])")
#: at most this many clauses under a named clause that has no passage of its own (5.2.1 → 5.2.1.1, 5.2.1.2)
_SUBCLAUSES = 3
_CORE_MIN = 4


@dataclass(frozen=True)
class Mentions:
    """What a question names, resolved against one index."""

    articles: frozenset[int]          # item positions of named articles (《X》第N条, X法第N条, 该条例第N条, 废物代码)
    docs: frozenset[str]              # titles of named documents
    docs_in_question: frozenset[str]  # … of those, named inside a question sentence


def _core(title_norm: str) -> str:
    """A title without 中华人民共和国 and parenthesised parts (版本, 试行)."""
    t = _PAREN.sub("", title_norm)
    return t[len(_PREFIX):] if t.startswith(_PREFIX) else t


class MentionResolver:
    """Maps what a question names to documents of one index: 《full or short title》, titles written without
    brackets (水污染防治法第八十三条), common abbreviations (环评法), standard codes (GB 8978-1996) and back-references
    (《条例》, 该法 → the last document of that kind named before). Built once per index (~10 ms)."""

    def __init__(self, index: SearchIndex) -> None:
        from ..text.normalize import normalize

        self.index = index
        by_title: dict[str, list[int]] = {}
        for i, it in enumerate(index.items):
            if it.title and (it.article is not None or it.id.startswith(it.title + "#")):
                by_title.setdefault(it.title, []).append(i)
        self.by_title = by_title
        self.article_pos = {(index.items[i].title, index.items[i].article): i
                            for ps in by_title.values() for i in ps if index.items[i].article is not None}
        self.norm_title: dict[str, str] = {}
        self.core_titles: dict[str, list[str]] = {}
        self.codes: dict[str, list[str]] = {}
        for t in by_title:
            n = normalize(t)
            self.norm_title[n] = t
            core = _core(n)
            if len(core) >= _CORE_MIN:
                self.core_titles.setdefault(core, []).append(t)
            m = _STD_CODE.match(n)
            if m:
                self.codes.setdefault(f"{m.group(1)} {m.group(2)}", []).append(t)
        self.clauses: dict[str, dict[str, int]] = {}  # a standard's title → its passages by key (5.2.1, 表1)
        for t in {t for ts in self.codes.values() for t in ts}:
            self.clauses[t] = {index.items[i].id.split("#", 1)[1]: i for i in by_title[t]
                               if "#" in index.items[i].id and "·" not in index.items[i].id}
        self.waste_rows: dict[str, int] = {}  # waste code → its catalogue row
        for i, it in enumerate(index.items):
            if wm := WASTE_ROW_ID.search(it.id):
                self.waste_rows.setdefault(wm.group(1), i)
        self.category_rows: dict[str, list[int]] = {}  # a waste category's number ("08") → its rows, in order
        for code, i in sorted(self.waste_rows.items(), key=lambda kv: kv[1]):
            self.category_rows.setdefault(code[-2:], []).append(i)
        # longest cores first, so 水污染防治法实施细则 wins over 水污染防治法 at the same place
        self._cores = sorted(self.core_titles, key=len, reverse=True)
        self._local_prefixes = ("浙江省", "舟山市")

    def _clause(self, title: str, tail: str) -> list[int]:
        """The passages of the clause or table named at the start of ``tail`` (right after the standard's code):
        the clause's own passage, else the first few under it."""
        cm = _NAMED_CLAUSE.match(tail)
        if cm is None:
            return []
        keys = self.clauses[title]
        key = cm.group(1) or (cm.group(2) + cm.group(3).upper())
        if key in keys:
            return [keys[key]]
        under = sorted((k for k in keys if k.startswith(key + ".")),
                       key=lambda k: [int(x) if x.isdigit() else 0 for x in k.split(".")])
        return [keys[k] for k in under[:_SUBCLAUSES]]

    def names_of(self, title: str) -> list[str]:
        """The ways a question may write ``title`` that :meth:`mentions` reads: the title, its core, the
        abbreviations of its core, its standard code."""
        names = {n for n, t in self.norm_title.items() if t == title}
        cores = {c for c, ts in self.core_titles.items() if title in ts}
        names |= cores | {a for a, c in ABBREVIATIONS.items() if c and c in cores}
        names |= {code for code, ts in self.codes.items() if title in ts}
        return sorted(names)

    def _prefer(self, titles: list[str]) -> str:
        """Among titles sharing a core: the national one, else the Zhejiang/Zhoushan one, else the first."""
        for t in titles:
            if not t.startswith(self._local_prefixes) and "市" not in t[:4]:
                return t
        for t in titles:
            if t.startswith(self._local_prefixes):
                return t
        return titles[0]

    def resolve(self, mention: str) -> str | None:
        """The title of the document a (normalised) mention refers to, or None."""
        m = mention.strip()
        if m in self.norm_title:
            return self.norm_title[m]
        if _PREFIX + m in self.norm_title:
            return self.norm_title[_PREFIX + m]
        core = _core(m)
        if core in self.core_titles:
            return self._prefer(self.core_titles[core])
        ab = ABBREVIATIONS.get(core)
        if ab and ab in self.core_titles:
            return self._prefer(self.core_titles[ab])
        sm = _STD_CODE.match(m)
        if sm:
            code = f"{sm.group(1)} {sm.group(2)}"
            cands = self.codes.get(code, [])
            if sm.group(3):
                cands = [t for t in cands if sm.group(3) in t] or cands
            return cands[0] if cands else None
        if len(core) >= 6:  # a longer mention that contains exactly one known core (《中华人民共和国水法（2016修订）》)
            inside = [c for c in self._cores if c in core and len(c) >= 0.6 * len(core)]
            if inside:
                return self._prefer(self.core_titles[inside[0]])
        return None

    def mentions(self, parts: QueryParts) -> Mentions:
        """Documents and articles named in ``parts`` (see :func:`~.letter.analyse`)."""
        text = parts.normalized
        spans: list[tuple[int, int, str]] = []  # (start, end, title)
        taken = np.zeros(len(text) + 1, dtype=bool)

        def add(s: int, e: int, title: str | None) -> None:
            if title is not None and not taken[s:e].any():
                spans.append((s, e, title))
                taken[s:e] = True

        for m in _TITLE_REF.finditer(text):
            add(m.start(), m.end(), self.resolve(m.group(1)))
        for core in self._cores:  # titles written without brackets
            start = text.find(core)
            while start >= 0:
                add(start, start + len(core), self._prefer(self.core_titles[core]))
                start = text.find(core, start + 1)
        for abbr, core in ABBREVIATIONS.items():
            if core and core in self.core_titles:
                for m in re.finditer(re.escape(abbr), text):
                    add(m.start(), m.end(), self._prefer(self.core_titles[core]))
        for sm in STD_IN_TEXT.finditer(text):  # "gb 8978-1996", "执行gb8978-1996表4"
            code = f"{sm.group(1)} {sm.group(2)}" + (f"-{sm.group(3)}" if sm.group(3) else "")
            add(sm.start(), sm.end(), self.resolve(code))
        spans.sort()
        for m in _GENERIC.finditer(text):  # 《条例》 / 该法 → the last document of that kind named before it
            word = m.group(1) or m.group(2)
            before = [t for s, _e, t in spans if s < m.start() and t.endswith(word)]
            if before:
                add(m.start(), m.end(), before[-1])
        spans.sort()
        arts: set[int] = set()
        docs: set[str] = set()
        in_q: set[str] = set()
        qs = [(s.start, s.end) for s in parts.sentences if s.question]
        for k, (s, e, title) in enumerate(spans):
            docs.add(title)
            if any(a <= s < b for a, b in qs):
                in_q.add(title)
            nxt = spans[k + 1][0] if k + 1 < len(spans) else len(text)
            for am in NAMED_ARTICLE.finditer(text[e : min(nxt, e + 40)]):
                try:
                    pos = self.article_pos.get((title, cn_to_int(am.group(1))))
                except ValueError:
                    continue
                if pos is not None:
                    arts.add(pos)
            if title in self.clauses:  # a standard's clause or table
                arts.update(self._clause(title, text[e : e + 12]))
        for wm in WASTE_CODE.finditer(text):  # a waste code names its row (and the catalogue)
            if (pos := self.waste_rows.get(wm.group(1))) is not None:
                arts.add(pos)
                docs.add(self.index.items[pos].title)
                if any(a <= wm.start() < b for a, b in qs):
                    in_q.add(self.index.items[pos].title)
        return Mentions(frozenset(arts), frozenset(docs), frozenset(in_q))
