"""Retrieve and compose one answer (nothing stored): the step between the indexes and the question workflow."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..config import Settings
from ..db.models import CuratedAnswer
from ..search.index import SearchIndex, document_of
from ..search.lifecycle import IndexLifecycle
from ..search.ranker import ranker_thresholds
from ..search.retriever import SearchResult
from ..text.normalize import normalize
from .compose import Answer, compose
from .context import (
    Earlier,
    asks,
    carried,
    carried_turns,
    follow_up_result,
    gist,
    names_nothing,
    only_courtesy,
    own_topic,
    own_words,
    search_text,
    tells_situation,
    told_case,
)
from .decide import Decision, Thresholds, shares_a_word
from .notes import CorpusNotes
from .sentence_vectors import SentenceVectors

log = logging.getLogger(__name__)

#: the reply to a turn that only thanks or acknowledges ("好的", "谢谢"): nothing is searched, nothing queued
COURTESY_TEXT = "不客气。如还有其他环保方面的问题，请继续提问。"
#: the notice for a message that only tells the situation and found nothing: it invites the question (it is passed to
#: staff as well, and leaves the queue once a question read with it follows — :func:`~assistant.queue.intake.withdraw_told`)
TELLS_TEXT = ("已记下您介绍的情况。请接着说明您想咨询的问题（例如：要办什么手续、有什么要求、违规会怎样处罚），我们会结合"
              "您刚才说的情况查找依据；如不再补充，这条消息将转交工作人员答复。")


#: the reply to a message that only adds to the case and finds the curated answer just given (not given again)
NOTED_TEXT = ("已记下您补充的情况，上面的答复仍然适用。如还有具体问题（例如：要办什么手续、有什么要求、违规会怎样处罚），"
              "请接着提问。")


def context_helps(alone: SearchResult, combined: SearchResult) -> bool:
    """A short follow-up is read with the conversation's earlier question when that makes the articles found more
    certain (measured on the dev dialogues, README)."""
    return combined.passages.confidence > alone.passages.confidence


def stands_alone(alone: Callable[[], SearchResult], combined: SearchResult, earlier: Earlier,
                 curated_threshold: float, cites: Callable[[str], set[str]] = lambda _e: set()) -> bool:
    """A follow-up whose own words are a curated question — its best entry confident on its own (the curated
    threshold) and on the conversation's topic (it cites a document the previous answer showed, when that answer
    showed any: ``cites`` gives an entry's documents) — stands alone, unless read with the earlier question it finds
    that same entry: when the context would show nothing curated, or only the answer just given ("上一个回答"
    again), the user asked the other question (measured on the dev dialogues, README). ``alone``: the follow-up
    searched on its own words, only run when the context leaves the question open."""
    c = combined.curated
    context_entry = c.hits[0].item.target if c is not None and c.hits and c.confidence >= curated_threshold else None
    if context_entry is not None and context_entry != earlier.curated:
        # the context finds a new curated answer: the follow-up is read with it — unless that answer is off the
        # conversation's documents and the turn's own words find it just as surely: a new question asked in full
        # ("船厂的X光探伤机要办什么证" after a question on R22 in cold storages)
        if earlier.documents and not cites(context_entry) & set(earlier.documents):
            a = alone().curated
            return a is not None and bool(a.hits) and a.confidence >= curated_threshold and \
                a.hits[0].item.target == context_entry
        return False
    a = alone().curated
    if a is None or not a.hits or a.confidence < curated_threshold:
        return False
    own = a.hits[0].item.target
    if earlier.documents and not cites(own) & set(earlier.documents):
        return False
    return own != context_entry


class Answerer:
    """Answers with the indexes of ``indexes`` and the decision thresholds that go with the ranking serving now."""

    def __init__(self, settings: Settings, session_factory: Callable[[], Session], indexes: IndexLifecycle) -> None:
        self.settings = settings
        self.Session = session_factory
        self.indexes = indexes
        self.thresholds = Thresholds(settings.answer.answer_threshold, settings.answer.caution_threshold,
                                     settings.answer.curated_threshold,
                                     long_answers=settings.answer.long_letter_answers)
        self._curated_cache: tuple[SearchIndex | None, dict[str, CuratedAnswer]] = (None, {})
        self._notes_cache: tuple[SearchIndex | None, CorpusNotes | None] = (None, None)
        self.sentences = SentenceVectors(lambda: indexes.encoders.encoder, indexes.encoders.cache,
                                         settings.search.index_dir, settings.search.sentence_vectors)

    def answer(self, question: str, k: int = 10, kinds: list[str] | None = None,
               include_repealed: bool | None = None, earlier: Earlier | None = None) -> Answer:
        """``earlier``: the conversation's previous question; a follow-up is searched together with it
        (:mod:`.context`), and the answer says so in ``meta.context``."""
        self.indexes.refresh()
        r = self.indexes.retriever
        if only_courtesy(question):  # "好的，谢谢": not a question — not answered again, not passed to staff
            ans = Answer(question=question, decision=Decision.ANSWER, confidence=1.0, mode=r.mode,
                         curated=None, citations=[], related=[], notice=COURTESY_TEXT, footer="")
            ans.meta.update(context={"used": False}, searched="", courtesy=True)  # never a conversation's context
            return ans
        curated = r.curated
        found: dict[str, SearchResult] = {}

        def search(q: str) -> SearchResult:
            if q not in found:
                found[q] = r.search(q, k=k, kinds=kinds, include_repealed=include_repealed)
            return found[q]

        def helps(alone: str, combined: str) -> bool:  # a new question asked in full stands alone (own_topic)
            own = search(alone)
            if earlier is not None and own_topic(own, earlier, self.decision_thresholds(own).answer):
                return False
            return context_helps(own, search(combined))

        text, used = search_text(question, earlier, helps)
        res = search(text)
        with self.Session() as s:
            rows = self.curated_entries(s, curated)
            # a question right after the case was told is that case's question, whatever entry its words match
            if used is not None and not told_case(used) and not names_nothing(question) and stands_alone(
                    lambda: search(question), res, used, self.decision_thresholds(res).curated,
                    lambda e: {document_of(c) for c in rows[e].citations} if e in rows else set()):
                text, used, res = question, None, search(question)
            if used is not None:  # the topic from the conversation, the article from the follow-up's own words
                repealed = res.include_repealed
                own, penalties = own_words(question, text)
                res = follow_up_result(res, lambda docs: r.search(own, k=k, kinds=kinds, include_repealed=repealed,
                                                                  within=docs, penalties=penalties))
                res = r.numbered_first(res, question, used.documents)  # "那第十四条呢": that article of the topic
            follow_up = used if used is not None and not used.repeated_by(question) else None
            ans = compose(res, self.decision_thresholds(res), self.settings.answer.contact_text, session=s,
                          index=r.passages, curated_rows=rows, notes=self.corpus_notes(s, r.passages),
                          follow_up=follow_up, asked=question if used is not None else "",
                          asked_vector=r.encoder.encode_queries([normalize(question)])[0]
                          if used is not None and r.encoder is not None and res.query.vector is not None else None,
                          embed=self.sentences.lookup if res.query.vector is not None else None)
        ans.question = question
        if used is not None and ans.curated and ans.curated.get("id") == used.curated and not asks(question):
            # a message that only adds to the case ("厂里已经隔了一间小屋…") finds the answer just given: not given again
            ans.curated, ans.citations, ans.related_articles, ans.review = None, [], [], ""
            ans.notice, ans.meta["noted"] = NOTED_TEXT, True
            ans.meta["answered_by"] = used.curated  # still the conversation's answer: never offered again after it
        if used is None and res.query.vector is not None:
            ans.encoded = (res.query.normalized, res.query.vector)
        ans.suggestion = self.suggestion(res, ans, used.entries if used is not None else frozenset())
        if ans.suggestion is not None:  # offered once, as 您是不是想问 — not again among the related questions
            ans.related = [r for r in ans.related if r.get("id") != ans.suggestion["id"]]
        ans.meta["context"] = {"used": True, "turn": used.question, "turns": list(used.read_with()),
                               "shown": [gist(t) for t in used.read_with()]} \
            if used is not None else {"used": False}
        ans.meta["searched"] = text
        ans.meta["entries"] = list(dict.fromkeys(e for e in (*(sorted(used.entries) if used is not None else ()),
                                                             (ans.curated or {}).get("id"),
                                                             (ans.suggestion or {}).get("id")) if e))
        ans.meta["carries"] = carried(question, text, earlier)
        ans.meta["carried_turns"] = list(carried_turns(question, ans.meta["carries"], earlier))
        if ans.decision is Decision.ABSTAIN and not ans.curated and tells_situation(question):
            ans.notice, ans.meta["tells"] = TELLS_TEXT, True
        ans.meta["vectors"] = self.indexes.vectors.state
        ans.meta["ranking"] = res.ranking
        return ans

    def suggestion(self, res: SearchResult, ans: Answer, just_given: Collection[str] = ()) -> dict[str, str] | None:
        """The best curated entry when it is not shown but close: confidence in [suggest_threshold, curated threshold)
        (the band chosen on dev, ``scripts/suggest_band.py``) and sharing a word with the question
        (:func:`.decide.shares_a_word`) — offered as "您是不是想问"; never the curated answer the conversation has
        just shown or offered (``just_given``: a follow-up it did not answer)."""
        cur = res.curated
        # a question for a limit value that is answered shows the table passages found, a lookup the article it
        # named: no "did you mean" over them
        passages_answer = (res.limit or res.lookup) and ans.decision is not Decision.ABSTAIN
        if ans.curated is not None or cur is None or not cur.hits or passages_answer or \
                cur.confidence < self.settings.answer.suggest_threshold or \
                cur.hits[0].item.target in just_given:
            entry = None
        else:
            entry = self._curated_cache[1].get(cur.hits[0].item.target)
        if entry is None or not shares_a_word(res.query.expanded, [entry.question, *entry.paraphrases]):
            return None  # an entry that shares no word with the question: noise, not a suggestion
        return {"id": entry.id, "question": entry.question}

    def decision_thresholds(self, res: SearchResult | None = None) -> Thresholds:
        """The thresholds that go with the ranking that answered (``res``; default: the one serving now): those
        chosen with the learned stage (stored in its model file, fitted on out-of-fold scores), else the configured
        ones (fusion)."""
        r = self.indexes.current
        if r is not None and r.ranker_active and (res is None or res.ranking == "learned"):
            t = ranker_thresholds(r.ranking)
            if t is not None:
                return Thresholds(t["answer"], t["caution"], t["curated"], t.get("answer_long"), t.get("caution_long"),
                                  long_answers=self.settings.answer.long_letter_answers)
        return self.thresholds

    def corpus_notes(self, s: Session, index: SearchIndex | None) -> CorpusNotes:
        """Changes and standards' dates, read once per passages index (ingest, which records them, is followed by
        an index build, which replaces the index), so composing an answer does not query them."""
        cached_index, notes = self._notes_cache
        if notes is None or cached_index is not index:
            notes = CorpusNotes.load(s)
            self._notes_cache = (index, notes)
        return notes

    def curated_entries(self, s: Session, index: SearchIndex | None) -> dict[str, CuratedAnswer]:
        """The curated answers behind ``index`` (loaded once per curated index: every change of a curated answer goes
        through :meth:`IndexLifecycle.publish_curated` or a full build, which replace that index), so composing an
        answer does not query the database entry by entry."""
        cached_index, entries = self._curated_cache
        if index is None or cached_index is index:
            return entries
        ids = sorted({it.target for it in index.items})
        entries = {}
        for i in range(0, len(ids), 500):
            for e in s.scalars(select(CuratedAnswer).where(CuratedAnswer.id.in_(ids[i:i + 500]))):
                entries[e.id] = e
        s.expunge_all()  # detached, read-only copies shared by the request threads
        self._curated_cache = (index, entries)
        return entries

    def warm_up(self) -> float:
        """Answer one question without storing it, so the first enterprise is not the one who waits for the encoder,
        jieba's dictionary, the filter masks and the curated rows to load (seconds; a failure is only logged)."""
        t0 = time.perf_counter()
        try:
            self.answer("排污许可证的有效期是几年？")
        except Exception as exc:  # the service still starts: readiness and requests report real problems
            log.warning("warm-up failed: %s", exc)
        return time.perf_counter() - t0
