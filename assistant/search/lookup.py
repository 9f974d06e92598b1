"""A question that names an article or a waste code and asks what it says: "大气污染防治法第四十六条是什么意思",
"排污许可管理条例第三十三条", "261-019-11是什么危废".

The ranking stage learned from letters, where a quoted article is mostly background and the answer lies elsewhere, so
it gives a named article no special place: the three questions above were refused or shown other articles. Asked on
its own, such a question is a lookup: the article it names is the answer by construction. So when a short question
names at most :data:`MAX_NAMED` articles (or catalogue rows) and asks nothing but what they say, they come first, in
the order named, and the first passage's confidence is :data:`LOOKUP_CONFIDENCE` — it is the passage asked for. A
question that names an article and asks something else ("违反第四十六条罚多少") is left to the ranking, which has the
named article among its candidates. Long letters are never lookups: the rules they quote are their background.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..text.normalize import normalize
from ..text.numerals import cn_to_int
from .index import SearchIndex
from .letter import analyse
from .references import NAMED_ARTICLE, STD_IN_TEXT, WASTE_CODE, MentionResolver

#: at most this many named articles make a lookup ("第十二条和第十三条分别讲什么"); more is a letter's background
MAX_NAMED = 3
#: the confidence of a lookup's first passage: the passage the question named
LOOKUP_CONFIDENCE = 0.99
#: longest question read as a lookup (characters, normalised)
MAX_CHARS = 40
#: what is left of a lookup once the named document, article or code is taken out: asking what it says, or nothing
_WHAT_IT_SAYS = re.compile(
    r"^(?:请问|想问一?下|问一?下|查一?下|帮我查一?下)?(?:危废|危险废物|废物)?(?:代码|编码|类别)?(?:的|中的|里的)?"
    r"(?:内容|原文|全文|条文|规定)?"
    r"(?:是|指|讲|说|规定|属于)?(?:了|的)?(?:是)?(?:什么|啥|哪些|哪类|哪一类)?(?:意思|内容|规定|东西|废物|危废|危险废物|类别|类)?"
    r"(?:怎么|如何)?(?:理解|解释)?(?:吗|呢|啊)?$")
#: 第N条 and the 第N款 after it
_ARTICLE = re.compile(NAMED_ARTICLE.pattern + r"(?:第[一二三四五六七八九十0-9]+款)?")
#: an article number without 第 right after a document's name ("大气法46条", "排污许可管理条例33条")
_BARE_NUMBER = re.compile(r"(?<=[法例定则录》])\s*([0-9]{1,3})\s*条")
#: a standard's year, clause or table after its code ("gb 37822-2019 5.2.1", "gb 8978-1996 表1")
_CLAUSE = re.compile(r"[-—–][0-9]{4}|(?<![0-9])[0-9]+(?:\.[0-9]+)+|(?:表|附录)\s*(?:[0-9]+|[a-z])(?![0-9])")
#: several named together ("第十六条和第十七条分别讲什么")
_AND = re.compile(r"以及|和|与|及|、|分别|各自")
_PUNCT = re.compile(r"[\s，。、；：？！?!,.;:“”\"'《》（）()]")


def _rest(normalized: str, titles: set[str], resolver: MentionResolver) -> str:
    """The question without what it names (titles as written, their cores and abbreviations, 第N条, waste codes)."""
    text = _CLAUSE.sub("", WASTE_CODE.sub("", _ARTICLE.sub("", STD_IN_TEXT.sub("", normalized))))
    text = re.sub(r"《[^《》]{1,60}》", "", text)
    names = sorted({n for t in titles for n in resolver.names_of(t)}, key=len, reverse=True)
    for n in names:
        text = text.replace(n, "")
    return _PUNCT.sub("", _AND.sub("", text))


#: a hazardous-waste category ("HW08", "hw 49"); its rows are the codes ending in its number (900-249-08 is HW08's)
_CATEGORY = re.compile(r"(?<![a-z0-9])hw\s*([0-9]{2})(?![0-9])", re.IGNORECASE)
#: what is left of a category's lookup once the category (code and name) is taken out: what it holds
_WHAT_IT_HOLDS = re.compile(
    r"^(?:请问|想问一?下|问一?下|查一?下|帮我查一?下)?(?:这一?类|类别?)?(?:的|中的|里的|下的)?(?:危废|危险废物|废物)?"
    r"(?:具体|主要|都|一共|总共)?(?:包括|包含|含|有|涵盖|指|是)(?:了|的)?(?:哪些|什么|啥|哪几种|哪些种类|几种|多少种)?"
    r"(?:废物|危废|危险废物|东西|代码|种类|内容)?(?:呢|啊|吗)?$")
#: at most this many rows of a category are listed (the largest, HW50, has 44; its card says how many there are)
MAX_CATEGORY_ROWS = 60


def asks_category(normalized: str) -> bool:
    """The question names a hazardous-waste category and no waste code (the category, not a row, is asked for)."""
    return bool(_CATEGORY.search(normalized)) and not WASTE_CODE.search(normalized)


def category_lookup(index: SearchIndex, resolver: MentionResolver, normalized: str) -> list[int]:
    """"HW08包括哪些废物", "hw49是什么": the catalogue rows of the one category the short question names and asks the
    content of, in the catalogue's order; [] otherwise."""
    found = {m.group(1) for m in _CATEGORY.finditer(normalized)}
    if len(found) != 1 or len(normalized) > MAX_CHARS or NAMED_ARTICLE.search(normalized) or \
            WASTE_CODE.search(normalized):
        return []
    number = found.pop()
    rows = resolver.category_rows.get(number, [])
    if not rows:
        return []
    rest = _CATEGORY.sub("", normalized)
    name = re.search(r"hw" + number + r"\s*([^\s›]+)", normalize(index.items[rows[0]].text))
    if name:  # "HW08废矿物油与含矿物油废物包括哪些": the category's own name is not a question
        rest = rest.replace(name.group(1), "")
    rest = re.sub(r"(?:《[^《》]{1,60}》|国家危险废物名录|危废名录|名录)(?:里|中)?的?", "", rest)
    rest = _PUNCT.sub("", rest)
    if not (_WHAT_IT_HOLDS.match(rest) or _WHAT_IT_SAYS.match(rest)):
        return []
    return rows[:MAX_CATEGORY_ROWS]


def named_lookup(index: SearchIndex, resolver: MentionResolver, normalized: str, allow: np.ndarray | None) -> list[int]:
    """Positions of the articles a short question names and asks the text of, in the order named (or the rows of
    the hazardous-waste category it asks the content of, :func:`category_lookup`); [] when the question is not such
    a lookup."""
    if len(normalized) > MAX_CHARS:
        return []
    if _CATEGORY.search(normalized):
        rows = category_lookup(index, resolver, normalized)
        return [p for p in rows if allow is None or bool(allow[p])]
    # "固废法112条讲的啥": an article number typed without 第, right after the document's name
    normalized = _BARE_NUMBER.sub(r"第\1条", normalized)
    if not (NAMED_ARTICLE.search(normalized) or WASTE_CODE.search(normalized) or STD_IN_TEXT.search(normalized)):
        return []  # names nothing a lookup could show: not analysed (every short question passes here)
    parts = analyse(normalized)
    if parts.is_long:
        return []
    m = resolver.mentions(parts)
    named = [p for p in sorted(m.articles, key=lambda p: (_first_at(normalized, index, p), _natural(index, p)))
             if allow is None or bool(allow[p])]
    if not named or len(named) > MAX_NAMED:
        return []
    if not _WHAT_IT_SAYS.match(_rest(normalized, set(m.docs), resolver)):
        return []
    return named


#: a follow-up's opening that points back ("那第十四条呢", "再看看第二十四条")
_POINTS_BACK = re.compile(r"^(?:那么?|还有|再|看看|再看看)")


def numbered_in(resolver: MentionResolver, normalized: str, titles: Sequence[str]) -> list[int]:
    """A follow-up that names articles by number only and asks what they say ("那第十四条呢" after an answer that
    showed 《排污许可管理条例》第十四条): those articles of the first of the conversation's documents (``titles``, as
    its answers showed them) that has them all; [] otherwise."""
    if len(normalized) > 20:
        return []
    try:
        numbers = [cn_to_int(m.group(1)) for m in NAMED_ARTICLE.finditer(normalized)]
    except ValueError:
        return []
    if not numbers or len(numbers) > MAX_NAMED or resolver.mentions(analyse(normalized)).docs:
        return []
    rest = _PUNCT.sub("", _AND.sub("", NAMED_ARTICLE.sub("", normalized)))
    if not _WHAT_IT_SAYS.match(_POINTS_BACK.sub("", rest)):
        return []
    for title in titles:
        found = [resolver.article_pos.get((title, n)) for n in numbers]
        if all(p is not None for p in found):
            return [p for p in found if p is not None]
    return []


def _first_at(normalized: str, index: SearchIndex, pos: int) -> int:
    """Where the question names the passage at ``pos`` (its waste code, else its article number), for the order."""
    item = index.items[pos]
    code = WASTE_CODE.search(item.id)
    i = normalized.find(code.group(0)) if code else -1
    return i if i >= 0 else (item.article or 0) + len(normalized)


def _natural(index: SearchIndex, pos: int) -> list[int]:
    """A passage's key in reading order (5.2.1.1 before 5.2.1.2 before 5.2.10)."""
    key = index.items[pos].id.rpartition("#")[2]
    return [int(x) for x in re.findall(r"[0-9]+", key)]


def named_first(hits: list[Any], confidence: float, named: list[int], index: SearchIndex,
                hit: Any) -> tuple[list[Any], float]:
    """``hits`` with the named passages first (``hit(item, score, bm25, dense, rank)`` makes one for a passage not
    among them) and the confidence of a lookup."""
    top = hits[0].fused if hits else 0.0
    ids = [index.items[p].id for p in named]
    by_id = {h.item.id: h for h in hits}
    first = [by_id.get(i) or hit(index.items[p], top, 0.0, None, 0) for i, p in zip(ids, named, strict=True)]
    named_ids = set(ids)
    out = first + [h for h in hits if h.item.id not in named_ids]
    for r, h in enumerate(out, 1):
        h.rank = r
    return out[: max(len(hits), len(first))], max(confidence, LOOKUP_CONFIDENCE)
