"""Reading a question the way a consultant reads a letter: sentences, the actual questions, the documents named.

Real enterprise questions are often 100–600-character letters: background, quoted rules, then the question
(请问/是否/能否/怎么办…). :func:`analyse` splits the (normalised) text into sentences, marks the question sentences
and collects the documents it names (``《…》`` with or without 第N条, abbreviations such as 环评法, standard codes
such as GB 8978-1996). Mapping a mention to a document of an index is :class:`~.references.ReferenceMatcher`'s job;
this module only reads the text, so it needs no index and is cheap (well under a millisecond for a letter).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..text.normalize import normalize

#: a question sentence contains one of these (or ends with a question mark)
QUESTION_CUES = (
    "请问", "是否", "能否", "可否", "能不能", "可不可以", "是不是", "有没有", "要不要", "需不需要", "应不应该",
    "如何", "怎么", "怎样", "怎么办", "哪些", "哪个", "哪里", "哪儿", "哪种", "什么", "多少", "多久", "几年", "几天",
    "为何", "为什么", "何时", "何种", "咨询", "请教", "求解", "疑问", "还是", "吗", "呢", "么",
)

#: a letter longer than this is read sentence by sentence (shorter questions are one sentence in effect)
LONG_QUERY_CHARS = 80


def is_long(normalized: str) -> bool:
    """A long letter (read sentence by sentence, and decided by the long-letter thresholds)."""
    return len(normalized) > LONG_QUERY_CHARS


@dataclass(frozen=True)
class Sentence:
    text: str
    start: int
    end: int
    question: bool
    quoted: bool  # mostly a quotation of a rule (“…” or 《…》第N条规定)


@dataclass(frozen=True)
class QueryParts:
    """What :func:`analyse` found in one question."""

    normalized: str
    sentences: list[Sentence]
    #: the titles in 《…》, in order of appearance (normalised, without repeats)
    titles: list[str] = field(default_factory=list)
    #: standard codes such as ``gb 8978-1996`` (normalised: lower case, one space)
    standards: list[str] = field(default_factory=list)

    @property
    def is_long(self) -> bool:
        return is_long(self.normalized)

    @property
    def questions(self) -> list[Sentence]:
        return [s for s in self.sentences if s.question]

    @property
    def focus(self) -> str:
        """The text to weigh most: the question sentences of a long letter (without quotations), else everything."""
        if not self.is_long:
            return self.normalized
        qs = [s.text for s in self.sentences if s.question and not s.quoted] or \
             [s.text for s in self.sentences if s.question]
        text = "".join(qs)
        # a question sentence such as "请问如何处理？" says too little alone: keep the sentence before it
        if len(text) < 20 and qs:
            first = next(i for i, s in enumerate(self.sentences) if s.question)
            if first > 0:
                text = self.sentences[first - 1].text + text
        return text if len(text) >= 8 else self.normalized

    @property
    def question_share(self) -> float:
        """Share of the text's characters in question sentences (0 for a letter with no question found)."""
        total = sum(len(s.text) for s in self.sentences) or 1
        return sum(len(s.text) for s in self.sentences if s.question) / total


def _is_question(text: str) -> bool:
    t = text.rstrip()
    if t.endswith(("?", "？")):
        return True
    body = _QUOTE.sub("", t)  # a cue inside a quoted rule ("…是否…") is not the asker's question
    return any(c in body for c in QUESTION_CUES if len(c) > 1) or body.rstrip("。.!！ ").endswith(("吗", "呢"))


_QUOTE = re.compile(r"[“\"「『]([^”\"」』]{4,})[”\"」』]")


def _is_quoted(text: str) -> bool:
    quoted = sum(len(m.group(1)) for m in _QUOTE.finditer(text))
    return quoted >= 0.6 * max(1, len(text)) or bool(re.search(r"》第[^，。]{1,12}条(?:规定|明确|指出)", text)
                                                       and not _is_question(_QUOTE.sub("", text)))


#: a sentence that only greets, thanks or signs off carries no content
_COURTESY = re.compile(r"^(您好|你好|尊敬的[^，,:：]{0,12}|此致|敬礼|谢谢|感谢|万分感谢|盼复|望回复|期待回复|特此请示)[!！。.,，]*$")
#: salutations and greetings at the start of a sentence ("尊敬的领导:您好!"), thanks at its end
_LEAD = re.compile(r"^(?:(?:尊敬的[^，,:：!！。]{0,12}|[^，,:：!！。]{0,8}领导|[^，,:：!！。]{0,10}(?:厅|局|部))[:：,，]\s*|"
                   r"(?:您好|你好|领导好|各位领导好|领导您好)[!！,，。.]*\s*)+")
_TAIL = re.compile(r"(?:[,，]?\s*(?:谢谢|感谢|万分感谢|盼复|望回复|期待回复|此致|敬礼)[!！。.,，]*)+$")
_SPLIT = re.compile(r"(?<=[。！？!?；;\n])|(?=(?:^|\s)(?:[1-9一二三四五六七八九十][、.．)）]|[（(][1-9一二三四五六七八九十][)）]))")


def split_sentences(text: str) -> list[tuple[int, str]]:
    """(start, sentence) pairs: split after 。！？；, line breaks and before enumerations (1、 （2） …)."""
    out: list[tuple[int, str]] = []
    pos = 0
    for part in _SPLIT.split(text):
        if not part:
            continue
        start = pos
        pos += len(part)
        s = part.strip()
        lead = _LEAD.match(s)
        if lead:
            s = s[lead.end():]
        s = _TAIL.sub("", s).strip()
        if s and not _COURTESY.match(s):
            out.append((start + len(part) - len(part.lstrip()) + (lead.end() if lead else 0), s))
    return out


_ENUM_HEAD = re.compile(r"^\s*(?:[1-9一二三四五六七八九十][、.．)）]|[（(][1-9一二三四五六七八九十][)）])\s*")
_TITLE = re.compile(r"《([^《》]{2,60})》")
_STANDARD = re.compile(r"\b((?:gb|hj|cj|db\d{2})(?:/t)?)\s*([0-9]{2,5}(?:\.[0-9]+)?)(?:\s*[-—–]\s*((?:19|20)\d{2}))?")


def analyse(raw: str, normalized: str | None = None) -> QueryParts:
    """Sentences, question sentences, named documents and standard codes of a question or letter."""
    norm = normalized if normalized is not None else normalize(raw)
    sents = []
    for start, s in split_sentences(norm):
        body = _ENUM_HEAD.sub("", s)
        sents.append(Sentence(body, start, start + len(s), _is_question(body), _is_quoted(body)))
    titles = list(dict.fromkeys(m.group(1).strip() for m in _TITLE.finditer(norm)))
    stds = []
    for m in _STANDARD.finditer(norm):
        code = f"{m.group(1)} {m.group(2)}" + (f"-{m.group(3)}" if m.group(3) else "")
        stds.append(code)
    return QueryParts(norm, sents, titles, list(dict.fromkeys(stds)))
