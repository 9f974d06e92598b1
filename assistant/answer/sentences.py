"""The sentence of a cited article that answers the question (shown first, in bold, before the whole article).

The rule, measured in ``scripts/key_sentence.py`` on the curated entries (the key sentence of a cited article is
the one the entry's staff-written answer restates): the sentence holding the most query terms, longer terms weighing
more; ties go to the earlier sentence. The answer path ships this rule. The sentence closest to the question in e5
space (``query_vector`` + ``embed``) picks the key sentence more often, but encoding the sentences of every newly
cited article took the service from 49.9 to 25.6 new questions/s on a fresh clone (``scripts/bench_api.py``): it
needs the sentence vectors built ahead, in the background vector build, before it can be shipped. Asking-type cues
(a penalty for "罚多少", a time limit for "多久") were measured and did not help.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

from ..text.normalize import normalize
from ..text.pipes import is_pipe_rule, pipe_cells

#: characters of a citation's snippet
SNIPPET_CHARS = 160

#: sentence ends in statute text: 。；！？ and line breaks (enumerated items （一）… end with ；)
_SPLIT = re.compile(r"(?<=[。；;！？!?])|\n+")

#: an enumerated item of a list: （一）… / 一、… / 1. …
_ITEM = re.compile(r"^(?:[（(][一二三四五六七八九十百]+[）)]|[一二三四五六七八九十百]+、|\d+[.．、])")
#: a lead-in longer than this is not repeated before its item (the item is shown alone)
MAX_LEAD_CHARS = 200
#: the words that announce an article's list of cases ("有下列行为之一的")
_LIST_WORD = "下列"

#: texts → L2-normalised passage vectors (the service: its encoder through the embedding cache)
#: texts → their passage vectors, or None when they are not at hand (the query terms choose then)
Embed = Callable[[list[str]], "np.ndarray | None"]


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in _SPLIT.split(text) if s and s.strip()]


def term_score(sentence: str, terms: list[str]) -> float:
    low = normalize(sentence)
    return float(sum(min(len(t), 4) for t in set(terms) if len(t) >= 2 and t in low))


def answering_sentence(text: str, terms: list[str], query_vector: np.ndarray | None = None,
                       embed: Embed | None = None) -> str:
    """The sentence of ``text`` that best answers the question (``terms``: its search terms; ``query_vector`` and
    ``embed``: its e5 vector and the sentence encoder); "" when the text is one sentence (the whole article is the
    answer) or nothing in it matches."""
    sents = split_sentences(text)
    if len(sents) < 2:
        return ""
    return _best(sents, terms, query_vector, embed)


def _best(candidates: list[str], terms: list[str], query_vector: np.ndarray | None, embed: Embed | None) -> str:
    """The candidate closest to the question by e5 when all are encoded, else the one with most query terms (ties to
    the earlier); "" when no term matches."""
    vecs = embed(candidates) if query_vector is not None and embed is not None else None
    if vecs is not None:
        scores = [float(v) for v in vecs @ np.asarray(query_vector, dtype=np.float32)]
    else:
        scores = [term_score(c, terms) for c in candidates]
        if max(scores) <= 0:
            return ""
    return candidates[max(range(len(candidates)), key=lambda i: (scores[i], -i))]


def card_sentence(text: str, terms: list[str], query_vector: np.ndarray | None = None, embed: Embed | None = None,
                  asked_terms: list[str] | None = None, asked_vector: np.ndarray | None = None) -> str:
    """The sentence an article card shows first. For a follow-up read in context (``asked_terms`` /
    ``asked_vector``: its own words): the sentence with most of its own words' terms; when they match none, the one
    closest to its own words by e5 — never by the words searched, which are mostly the earlier turns' ("是按月报还是
    按季报？" after a letter on the tax: no term in common, e5 shows "环境保护税按月计算，按季申报缴纳。", not the
    letter's sentence on what to declare). Other questions: e5 when the sentences are encoded, else the terms.
    A sentence that introduces a list ("…处五日以上十日以下拘留:") says nothing alone: its item chosen the same way
    follows it (:func:`with_item`)."""
    if asked_terms and (sentence := answering_sentence(text, asked_terms)):
        return with_item(text, sentence, asked_terms)
    if asked_vector is not None and (sentence := answering_sentence(text, [], asked_vector, embed)):
        return with_item(text, sentence, [], asked_vector, embed)
    return with_item(text, answering_sentence(text, terms, query_vector, embed), terms, query_vector, embed)


#: a line that only names a clause, a chapter or a page ("5.2.1 储罐控制要求", "第三章 监督管理", "3")
_HEADING = re.compile(r"(?:[0-9]+(?:\.[0-9]+)*|第[一二三四五六七八九十百]+[章节]|HW[0-9]{2})\s*[^。；，,;：:]{0,16}")
#: a hazardous-waste category's heading ("HW08 废矿物油与含矿物油废物")
_CATEGORY_HEAD = re.compile(r"HW[0-9]{2}\s*[\u4e00-\u9fff（）()]{1,24}$")
#: between a category's heading and its count in the lead of a category's card
_CATEGORY_COUNT = "：本类列出"


def category_heading(sentence: str) -> str:
    """The category's heading when ``sentence`` is the lead of a waste category's card (:func:`lead_sentence` with
    several rows: "HW08 废矿物油与含矿物油废物：本类列出32个废物代码，见下" → "HW08 废矿物油与含矿物油废物"); "" otherwise."""
    head, sep, _ = sentence.partition(_CATEGORY_COUNT)
    return head if sep and _CATEGORY_HEAD.match(head) else ""


def lead_sentence(text: str, rows: int = 1) -> str:
    """The sentence a card asked for by name shows first (a lookup, ``search/lookup.py``: "固废法第一百一十二条讲的
    什么"): the passage's own first sentence, headings passed over — not the sentence closest to the question, which
    names only the article; "" when the passage is one sentence (it is its own answer). The heading of a catalogue's
    row ("HW11 精（蒸）馏残渣") is passed over too: the row itself is the answer — unless the card lists ``rows`` rows
    of the category (the category asked for, "HW08包括哪些废物"): then the heading leads, with how many rows follow."""
    every = split_sentences(text)
    if rows > 1 and every and (head := _CATEGORY_HEAD.match(every[0])):
        return f"{head.group(0)}{_CATEGORY_COUNT}{rows}个废物代码，见下"
    sents = [x for x in every if not _HEADING.fullmatch(x)]
    return sents[0] if sents and len(every) > 1 else ""


def with_item(text: str, sentence: str, terms: list[str], query_vector: np.ndarray | None = None,
              embed: Embed | None = None) -> str:
    """``sentence`` followed by the item of its list that answers (by the same rule), when it introduces a list
    (ends with a colon, enumerated items after it): "情节较轻的，处五日以上十日以下拘留:……（二）未取得排污许可证排放污染
    物，被责令停止排污，拒不执行的；" — joined by "……" when other items stand between them. Unchanged when no item
    matches."""
    sents = split_sentences(text)
    if sentence not in sents:
        return sentence
    i, lead = sents.index(sentence), sentence
    if not sentence.endswith(("：", ":")):
        # "…有下列行为之一的，…处2万元以上20万元以下的罚款；" + "拒不改正的，责令停产整治：" + items: one lead in two
        if not (_LIST_WORD in sentence and i + 1 < len(sents) and sents[i + 1].endswith(("：", ":"))
                and not _ITEM.match(sents[i + 1])):
            return sentence
        i += 1
        lead += sents[i]
    items: list[str] = []
    for nxt in sents[i + 1:]:
        if not _ITEM.match(nxt):
            break
        items.append(nxt)
    if not items:
        return sentence
    item = _best(items, terms, query_vector, embed)
    if not item:
        return sentence
    return lead + ("" if items.index(item) == 0 else "……") + item


def with_lead_in(text: str, sentence: str) -> str:
    """``sentence`` as shown first: an enumerated item ("（一）未按规定开展…风险评估工作…的；") reads only with the
    sentence that introduces its list ("企业事业单位有下列情形之一的，…可以处一万元以上三万元以下罚款："), so that
    sentence comes before it — joined by "……" when other items stand between them. Still the article's own words;
    which sentence answers is chosen by :func:`answering_sentence` alone."""
    if not sentence or not _ITEM.match(sentence):
        return sentence
    sents = split_sentences(text)
    if sentence not in sents:
        return sentence
    i = sents.index(sentence)
    for j in range(i - 1, -1, -1):
        if sents[j].endswith(("：", ":")):
            lead = sents[j]
            # the list announced a sentence earlier ("…有下列行为之一的，…处…罚款；拒不改正的，责令停产整治："): both
            if j > 0 and _LIST_WORD in sents[j - 1] and _LIST_WORD not in lead and not _ITEM.match(sents[j - 1]):
                lead = sents[j - 1] + lead
            if len(lead) > MAX_LEAD_CHARS:
                return sentence
            return lead + ("" if j == i - 1 else "……") + sentence
    return sentence


def snippet(text: str, terms: list[str], width: int = SNIPPET_CHARS) -> tuple[str, list[str]]:
    """A window of ``text`` around the first matched query term, and the terms that occur in it. Markdown table rows
    read as cells separated by ｜, each row ended by ； (no pipes at the ends, no ``|---|`` rules)."""
    if "|" in text:
        lines = [(ln, pipe_cells(ln)) for ln in text.split("\n") if not is_pipe_rule(ln)]
        text = "\n".join(ln if cells is None else "｜".join(cells) + "；" for ln, cells in lines)  # ；ends a row
    flat = re.sub(r"\s+", " ", text).strip()
    low = normalize(flat)
    found = [t for t in sorted(set(terms), key=len, reverse=True) if len(t) >= 2 and t in low]
    start = 0
    if found:
        pos = min(low.find(t) for t in found)
        start = max(0, pos - width // 4)
    out = flat[start : start + width]
    if start > 0:
        out = "…" + out
    if start + width < len(flat):
        out += "…"
    shown = normalize(out)
    return out, [t for t in found if t in shown]
