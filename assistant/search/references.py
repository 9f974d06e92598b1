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

_TITLE_REF = re.compile(r"《([^《》]{2,60})》")
_ARTICLE_REF = re.compile(rf"第([{CN_NUMERAL_CHARS}0-9]+)条")
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
            for am in _ARTICLE_REF.finditer(tail):
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
