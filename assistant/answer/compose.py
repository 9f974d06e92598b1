"""Compose the answer from retrieved material only — never generated text.

Order: the best curated answer (if it matched above its threshold, and the asker did not write a long letter) with
the articles its staff cited, else up to three retrieved articles (title, where in the document — 第X条, a standard's
5.2.1 or 表1, a catalogue row —, status, snippet with the matched terms), related questions, and the standard footer.
Under a curated answer, other retrieved articles are only offered apart, as ``related_articles`` (其他可能相关的条文):
never as its 依据. Passages of one document make one card (:func:`group_by_document`); mailbox replies apart.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from ..db.models import CuratedAnswer, Passage
from ..search.index import Item, SearchIndex, document_of
from ..search.letter import is_long
from ..search.query import prepare
from ..search.retriever import SearchResult
from ..text.markup import to_html, to_text
from .context import Earlier, continues_topic, not_in
from .decide import Decision, Thresholds, caution_text, join_notices
from .instead import category_rows, passage_answers_instead, row_names_what_was_asked
from .notes import CorpusNotes
from .sentences import Embed, card_sentence, category_heading, lead_sentence, snippet, with_lead_in
from .sources import article_label, is_reply, limit_row, part_label, places_label, reply_topic, section_of, shown_text

DISCLAIMER = "本回答由系统根据法规原文和本局整理的答复自动检索生成，仅供参考，不构成法律意见；具体以有权机关的认定为准。"
ABSTAIN_TEXT = "抱歉，这个问题暂时没有找到足够可靠的依据。您的问题已记录，将转交工作人员人工答复。"
REVISED_TEXT = "注意：本答复所依据的条文在答复整理后已修订，答复正在复核，请以下方现行条文为准。"


@dataclass
class Citation:
    id: str
    title: str
    article: int | None
    status: str
    kind: str
    snippet: str
    highlights: list[str]
    score: float | None = None
    #: where the passage sits in its document: 第十四条, 5.2.1, 表1, 废物代码900-041-49 … ("": the article, if any)
    part: str = ""
    #: the further cited passages of the same document, shown on this card (:func:`group_by_document`)
    more: list[Citation] = field(default_factory=list)
    #: the sentence of this passage that answers the question, shown first (article answers; :mod:`.sentences`)
    answer_sentence: str = ""
    #: a limit-table row as a small table (caption, unit, (column, value) cells): :func:`.sources.limit_row`
    limit: dict[str, Any] | None = None
    #: a standard's dates as shown on its card: "1996-10-04 发布，1998-01-01 实施" ("" for other documents)
    dates: str = ""
    #: the document's text was read from a scan by OCR: the card says its numbers may be misread
    ocr: bool = False
    #: the OCR engine's mean confidence (0–1) over the scan's pages (None: not a scan)
    ocr_confidence: float | None = None
    #: the latest recorded change of this passage (政策速递): {"kind", "label" (the new version's date), "url",
    #: "recorded" (the day the new text was ingested)}; shown as 本条已修订
    revised: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        if is_reply(self.kind):  # a mailbox reply is named by its topic, never by the mailbox's record id
            self.title = reply_topic(self.title)

    @property
    def where(self) -> str:
        return self.part or article_label(self.article)

    @property
    def passages(self) -> list[Citation]:
        """This card's passages: this one first, then the further ones of the same document."""
        return [self, *self.more]

    @property
    def ids(self) -> list[str]:
        return [p.id for p in self.passages]

    @property
    def section(self) -> str:
        """``reply`` for a ministry mailbox reply, ``regulation`` for a regulation, standard or catalogue."""
        return section_of(self.kind)

    def _label(self, places: list[str]) -> str:
        if is_reply(self.kind):
            return f"部长信箱答复：{self.title}"
        return f"《{self.title}》" + places_label(places)

    @property
    def label(self) -> str:
        """``《排污许可管理条例》第十四条``, ``《GB 37822-2019 …》5.2.1、表1`` (a card of several), ``部长信箱答复：…``."""
        return self._label([p.where for p in self.passages])

    @property
    def url(self) -> str:
        """The document page with this passage highlighted."""
        from urllib.parse import quote

        return "/doc/" + quote(self.id, safe="")

    def part_dict(self) -> dict[str, Any]:
        """One passage of a card (an item of ``parts``)."""
        return {"id": self.id, "article": self.article, "part": self.where, "label": self._label([self.where]),
                "url": self.url, "snippet": self.snippet, "highlights": self.highlights,
                "score": None if self.score is None else round(self.score, 4),
                "limit": self.limit, "revised": self.revised}

    def as_dict(self) -> dict[str, Any]:
        """The card: the fields of its first (best) passage, as before grouping, and every passage in ``parts``."""
        return {"id": self.id, "title": self.title, "article": self.article, "label": self.label, "url": self.url,
                "status": self.status, "kind": self.kind, "section": self.section, "part": self.where,
                "snippet": self.snippet, "highlights": self.highlights,
                "score": None if self.score is None else round(self.score, 4),
                "answer_sentence": self.answer_sentence, "parts": [p.part_dict() for p in self.passages],
                "revised": next((p.revised for p in self.passages if p.revised), None), "dates": self.dates,
                "ocr": self.ocr, "ocr_confidence": self.ocr_confidence}


def group_by_document(citations: list[Citation]) -> list[Citation]:
    """One card per document, in the order of each document's first passage; its further passages go to ``more``."""
    cards: dict[str, Citation] = {}
    for c in citations:
        head = cards.get(document_of(c.id))
        if head is None:
            cards[document_of(c.id)] = c
        else:
            head.more.extend(c.passages)
    return list(cards.values())


@dataclass
class Answer:
    question: str
    decision: Decision
    confidence: float
    mode: str
    curated: dict[str, Any] | None
    citations: list[Citation]
    related: list[dict[str, str]]
    notice: str = ""
    footer: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    #: "您是不是想问": a curated entry close to the question but below the curated threshold ({"id", "question"})
    suggestion: dict[str, str] | None = None
    #: (text, e5 vector) the question was encoded as — handed to the queue intake so an abstention is not encoded
    #: twice; never stored or sent
    encoded: tuple[str, Any] | None = field(default=None, repr=False, compare=False)
    #: under a curated answer: retrieved articles it does not cite (其他可能相关的条文), never its 依据
    related_articles: list[Citation] = field(default_factory=list)
    #: an answer shown only for reference that staff should answer as well: its queue source ("": none);
    #: never sent (the workflow adds the notice that says so)
    review: str = field(default="", repr=False, compare=False)

    def as_dict(self) -> dict[str, Any]:
        return {"question": self.question, "decision": self.decision.value, "confidence": round(self.confidence, 4),
                "curated": self.curated, "citations": [c.as_dict() for c in self.citations],
                "related_articles": [c.as_dict() for c in self.related_articles],
                "related": self.related, "notice": self.notice, "footer": self.footer,
                "meta": {"retrieval_mode": self.mode, **self.meta}, "suggestion": self.suggestion}

    def as_text(self) -> str:
        lines: list[str] = []
        label = {"answer": "回答", "caution": "参考（请核实）", "abstain": "暂无可靠答案"}[self.decision.value]
        lines.append(f"【{label}】置信度 {self.confidence:.2f}")
        if self.notice:
            lines.append(self.notice)
        if self.curated:
            lines.append("")
            lines.append(f"■ {self.curated['question']}")
            lines.append(self.curated["answer"])
        regulations = [c for c in self.citations if not is_reply(c.kind)]
        replies = [c for c in self.citations if is_reply(c.kind)]
        for title, cards in (("依据：" if self.curated else "相关法规条文：", regulations), ("部长信箱答复：", replies),
                             ("其他可能相关的条文（未经工作人员核对）：", self.related_articles)):
            if cards:
                lines.append("")
                lines.append(title)
                lines.extend(_card_lines(cards))
        if self.related:
            lines.append("")
            lines.append("相关问题：" + "；".join(r["question"] for r in self.related))
        lines.append("")
        lines.append(self.footer)
        return "\n".join(lines)


def _card_lines(cards: list[Citation]) -> list[str]:
    lines: list[str] = []
    for i, c in enumerate(cards, 1):
        flag = "" if c.status == "现行有效" else f"（{c.status}）"
        lines.append(f"{i}. {c.label}{flag}" + ("" if is_reply(c.kind) else f" [{c.id}]"))
        for p in c.passages:
            lines.append(f"   {p.where + '：' if len(c.passages) > 1 and p.where else ''}{p.snippet}")
    return lines


def _query_terms(result: SearchResult) -> list[str]:
    return [t for t in result.query.tokens if not t.startswith("§")]


def citation_for_item(item: Item, terms: list[str], score: float | None = None,
                      before: Iterable[str] = ()) -> Citation:
    """``before``: the texts of the passages before this one in its document, nearest first (read only to locate a
    passage whose key carries no clause or table number)."""
    snip, hl = snippet(shown_text(item.kind, item.text), terms)
    return Citation(id=item.id, title=item.title, article=item.article, status=item.status, kind=item.kind,
                    snippet=snip, highlights=hl, score=score,
                    part=part_label(item.kind, item.id, item.article, item.text, before),
                    limit=limit_row(item.id, item.text))


class _ItemLookup:
    """Find an item by id in the passage index (or among the hits)."""

    def __init__(self, index: SearchIndex | None, result: SearchResult) -> None:
        self.index = index
        self.hits = {h.item.id: h.item for h in result.passages.hits}

    def get(self, pid: str) -> Item | None:
        if pid in self.hits:
            return self.hits[pid]
        if self.index is not None and pid in self.index.pos:
            return self.index.items[self.index.pos[pid]]
        return None

    def before(self, item: Item, depth: int = 8) -> Iterator[str]:
        """The texts of up to ``depth`` passages before ``item`` in its document, nearest first (lazily)."""
        if self.index is None or item.id not in self.index.pos:
            return
        doc = document_of(item.id)
        for j in range(self.index.pos[item.id] - 1, max(-1, self.index.pos[item.id] - 1 - depth), -1):
            prev = self.index.items[j]
            if document_of(prev.id) != doc:
                return
            yield prev.text

    def citation(self, item: Item, terms: list[str], score: float | None = None) -> Citation:
        return citation_for_item(item, terms, score, self.before(item))


def citation_for_id(session: Session | None, pid: str, terms: list[str], lookup: _ItemLookup) -> Citation | None:
    it = lookup.get(pid)
    if it is not None:
        return lookup.citation(it, terms)
    if session is not None:
        p = session.get(Passage, pid)
        if p is not None:
            d = p.document
            return citation_for_item(Item(id=p.id, title=d.title, text=p.text, kind=d.kind, status=d.status,
                                          article=p.article, heading=p.heading), terms)
    return None


def _repeats_without_answering(result: SearchResult, entry: CuratedAnswer, earlier: Earlier | None, asked: str) -> bool:
    """A follow-up that would get a curated answer the conversation already gave or offered (not taken) again, though
    an article it points to (no mailbox reply) is not among its 依据 — the first found in context, or, when ``asked``
    (its own words) names only things the answer never mentions, the first its own words find in the topic ("浓度比
    标准低一半以上的话能少交点吗？" after the answer on the tax's data): it asked something else — the articles answer
    (in the order found: leading with the own words' article, or putting what the answer cited last, measured worse)."""
    if earlier is None or entry.id not in earlier.entries:
        return False
    top = next((h.item.id for h in result.passages.hits if not is_reply(h.item.kind) and result.shows(h)), "")
    named, unknown = not_in(asked, f"{entry.question} {to_text(entry.answer)}") if asked else ([], [])
    own = result.asked_top if named and unknown == named else ""  # it names only things the entry never mentions
    return any(t and t not in entry.citations for t in (top, own))  # with context, or its own words


def compose(result: SearchResult, thresholds: Thresholds, footer_contact: str, session: Session | None = None,
            curated_rows: dict[str, CuratedAnswer] | None = None, max_citations: int = 5, max_cards: int = 3,
            index: SearchIndex | None = None, embed: Embed | None = None, notes: CorpusNotes | None = None,
            follow_up: Earlier | None = None, asked: str = "", asked_vector: np.ndarray | None = None) -> Answer:
    """Build the answer for a search result (no generated text: curated answers and article passages only).

    ``embed`` (texts → passage vectors): with the query's vector, picks the sentence of each cited article that
    answers the question (article answers; without it, the sentence with the most query terms). ``notes``: what is
    recorded about the cited passages (changes, standards' dates; read from ``session`` when not given).

    ``follow_up``: the conversation's previous question when this one is a follow-up read with it: articles of the
    documents the previous answer showed are shown for reference, with the question passed to staff (``review``),
    rather than nothing (:func:`.context.continues_topic`). ``asked`` (``asked_vector``: their e5 vector): that
    follow-up's own words — each article card shows first the sentence they answer (:func:`.sentences.card_sentence`)."""
    terms = _query_terms(result)
    passages_by_id = _ItemLookup(index, result)
    cur = result.curated
    curated_block: dict[str, Any] | None = None
    citations: list[Citation] = []
    confidence = result.passages.confidence
    related: list[dict[str, str]] = []
    if cur is not None and cur.hits:
        target = cur.hits[0].item.target
        entry = (curated_rows or {}).get(target) or (session.get(CuratedAnswer, target) if session is not None else None)
        if entry is not None and cur.confidence >= thresholds.curated and not passage_answers_instead(result, entry) \
                and not _repeats_without_answering(result, entry, follow_up, asked) \
                and not thresholds.articles_lead(result.passages.confidence, result.query.normalized, asked):
            curated_block = {"id": entry.id, "question": entry.question, "answer": to_text(entry.answer),
                             "answer_html": to_html(entry.answer),
                             "category": entry.category, "lead_unit": entry.lead_unit, "kind": entry.kind,
                             "citations": list(entry.citations), "confidence": round(cur.confidence, 4),
                             "reviewed": entry.reviewed.isoformat() if entry.reviewed else ""}
            confidence = max(confidence, cur.confidence)
            for cid in entry.citations:
                c = citation_for_id(session, cid, terms, passages_by_id)
                if c is not None and c.status != "已废止":
                    citations.append(c)
            # its 依据 in the order retrieval found them for this question (the article that says what was asked
            # first: "年度报告几号前交" leads with the deadline article), the staff's order among the rest
            found_at = {h.item.id: i for i, h in enumerate(result.passages.hits)}
            citations.sort(key=lambda c: found_at.get(c.id, len(found_at)))
        for h in cur.hits[1 if curated_block else 0 : 4]:  # not shown: the best entry leads the related questions
            e = (curated_rows or {}).get(h.item.target) or (session.get(CuratedAnswer, h.item.target) if session else None)
            if e is not None and (not curated_block or e.id != curated_block["id"]):
                related.append({"id": e.id, "question": e.question})
    decision = thresholds.decide(confidence, long=is_long(result.query.normalized))
    if decision is Decision.ABSTAIN and not curated_block and row_names_what_was_asked(result):
        decision = Decision.CAUTION  # the row of the pollutant asked about, shown for reference (请结合原文核实)
    review = ""
    if decision is Decision.ABSTAIN and not curated_block and follow_up is not None and \
            (continues_topic(result, follow_up) or thresholds.letter_caution(confidence)):
        decision, review = Decision.CAUTION, "followup_review"
    retrieved: list[Citation] = []
    if decision is not Decision.ABSTAIN or curated_block:
        have = {c.id for c in citations}
        docs: set[str] = set()
        seen = 0
        for h in result.passages.hits:  # the first ``max_citations`` passages found, of at most ``max_cards`` documents
            if seen >= (category_rows(result) or max_citations):  # a waste category asked for: each of its rows
                break
            if h.item.id in have or not result.shows(h):
                continue
            seen += 1
            if document_of(h.item.id) not in docs and len(docs) >= max_cards:
                continue
            docs.add(document_of(h.item.id))
            retrieved.append(passages_by_id.citation(h.item, terms, h.fused))
            have.add(h.item.id)
    # a curated answer's 依据 are the articles its staff cited; what retrieval found besides is only offered apart
    related_articles = group_by_document(retrieved) if curated_block else []
    citations = group_by_document(citations if curated_block else retrieved)
    if not curated_block:  # a follow-up read in context: the sentence its own words answer (card_sentence)
        asked_terms = [t for t in prepare(asked, "both", None).tokens if not t.startswith("§")] if asked else []
        for card in citations:
            if (it := passages_by_id.get(card.id)) is not None:
                text = shown_text(it.kind, it.text)
                own = not is_reply(it.kind)  # a mailbox reply answers the letter the conversation is about
                card.answer_sentence = lead_sentence(text, category_rows(result)) if result.lookup and \
                    card is citations[0] else with_lead_in(
                    text, card_sentence(text, terms, result.query.vector, embed, asked_terms if own else None,
                                        asked_vector if own else None))
        if category_rows(result) > 1 and (head := category_heading(citations[0].answer_sentence)):
            for part in citations[0].passages:  # a category's card says its heading once, not in every row, and
                part.snippet = part.snippet.removeprefix(head).lstrip()  # marks no words: every row is the answer
                part.highlights = []
    notice = ""
    if session is not None:
        (notes or CorpusNotes.load(session)).mark(citations + related_articles)
        reviewed = str(curated_block.get("reviewed") or "") if curated_block else ""
        if curated_block and any(c.revised and c.revised.get("recorded", "") > reviewed for c in citations):
            notice = REVISED_TEXT
    if decision is Decision.ABSTAIN:
        notice = join_notices(ABSTAIN_TEXT, notice)
    elif decision is Decision.CAUTION:
        notice = join_notices(caution_text(result.query.normalized, asked), notice)
    if any(c.status == "已废止" for c in citations + related_articles):
        notice = join_notices(notice, "注意：部分引用的文件已废止，仅供对照，不得作为现行依据。")
    mode = cur.mode if (curated_block and cur is not None) else result.passages.mode  # what answered it
    return Answer(question=result.query.raw, decision=decision, confidence=confidence, mode=mode,
                  curated=curated_block, citations=citations, related=related[:3], notice=notice,
                  footer=f"{DISCLAIMER}{footer_contact}", related_articles=related_articles, review=review)


