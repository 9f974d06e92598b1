"""The question workflow every channel shares: ask (stored exactly once), 有帮助/没帮助, 转人工, and what the asker
may see later."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .answer.compose import Answer, Citation
from .answer.context import IDLE, Earlier, asks
from .answer.decide import Decision, join_notices, letter_for_staff
from .answer.sources import part_label
from .db.models import CuratedAnswer, Feedback, Handoff, Notification, Question, QueueMember
from .errors import QuestionError
from .queue.cluster import QuestionClusterer
from .queue.intake import conversation_item, enqueue, withdraw_told
from .search.index import document_of
from .text.normalize import normalize

MAX_QUESTION_CHARS = 2000
_PASSED_ON = "已同时转交工作人员，答复后将通知您（网页可凭查询凭证查看，微信将推送消息）。"
LETTER_REVIEW_TEXT = "您的来信" + _PASSED_ON
#: what the asker is told when an answer shown for reference is also passed to staff, by queue source
REVIEW_TEXT = {"letter_review": LETTER_REVIEW_TEXT, "followup_review": "您的追问" + _PASSED_ON}
TOKEN_RE = re.compile(r"[A-Za-z0-9_\-]{1,64}")  # what secrets.token_urlsafe issues


def valid_token(token: str | None) -> bool:
    """Only a token of the issued shape is looked up (never NUL or other bytes PostgreSQL refuses)."""
    return bool(token) and TOKEN_RE.fullmatch(token or "") is not None


def checked_text(question: str | None) -> str:
    """The question without surrounding space; empty or too long → :class:`QuestionError`."""
    text = (question or "").strip()
    if not text:
        raise QuestionError("empty_question", "问题不能为空，请输入您要咨询的内容。")
    if len(text) > MAX_QUESTION_CHARS:
        raise QuestionError("question_too_long", f"问题过长（{len(text)} 字），请控制在 {MAX_QUESTION_CHARS} 字以内。")
    return text


@dataclass
class AskOutcome:
    answer: Answer
    question_id: int
    token: str


def answer_from_dict(d: dict[str, Any]) -> Answer:
    """An answer as stored with its question (``Question.result``), in the current shape or an older one: cards
    stored before grouping have no ``parts`` (one passage each) and no ``part`` (their place is read again from the
    passage id), a mailbox reply's stored title loses its record id in :class:`Citation`, and in an answer stored
    before ``related_articles`` the cards a curated answer does not cite itself are moved there."""

    def card(c: dict[str, Any]) -> Citation:
        kind = c.get("kind", "")

        def one(p: dict[str, Any]) -> Citation:
            article = p.get("article")
            return Citation(id=p["id"], title=c["title"], article=article, status=c["status"], kind=kind,
                            snippet=p.get("snippet", ""), highlights=p.get("highlights", []), score=p.get("score"),
                            part=p.get("part") or part_label(kind, p["id"], article))

        head = one(c)
        head.more = [one(p) for p in (c.get("parts") or [])[1:]]
        head.answer_sentence = str(c.get("answer_sentence") or "")
        return head

    cards = [card(c) for c in d.get("citations", [])]
    related_articles = [card(c) for c in d.get("related_articles", [])]
    if "related_articles" not in d and isinstance(d.get("curated"), dict):
        own = set(d["curated"].get("citations") or [])
        related_articles = [c for c in cards if c.id not in own]
        cards = [c for c in cards if c.id in own]
    return Answer(question=d.get("question", ""), decision=Decision(d["decision"]), confidence=d["confidence"],
                  mode=d.get("meta", {}).get("retrieval_mode", ""), curated=d.get("curated"), citations=cards,
                  related=d.get("related", []), notice=d.get("notice", ""), footer=d.get("footer", ""),
                  meta={k: v for k, v in d.get("meta", {}).items() if k != "retrieval_mode"},
                  suggestion=d.get("suggestion"), related_articles=related_articles)


class Answers(Protocol):
    """What the workflow needs to answer: retrieve and compose, nothing stored (:class:`~assistant.answer.answerer.Answerer`)."""

    def answer(self, question: str, k: int = 10, kinds: list[str] | None = None,
               include_repealed: bool | None = None, earlier: Earlier | None = None) -> Answer: ...


def read_with(s: Session, channel: str, session_id: str, qid: int, ans: Answer) -> list[Question]:
    """The stored messages of question ``qid``'s conversation its answer was read with (``meta.context.turns``)."""
    turns = (ans.meta.get("context") or {}).get("turns") or []
    if not session_id or not turns:
        return []
    return list(s.scalars(select(Question).where(
        Question.channel == channel, Question.session_id == session_id, Question.id < qid,
        Question.asked_at >= datetime.now(UTC) - IDLE, Question.text.in_(turns))))


def _told(q: Question) -> bool:
    """The message only told the situation (its answer invited the question: ``meta.tells``)."""
    return bool(((q.result or {}).get("meta") or {}).get("tells"))


class QuestionWorkflow:
    """``answers`` retrieves and composes; ``clusterer`` gives the clusterer that joins queued questions to open
    items (built on first use)."""

    def __init__(self, session_factory: Callable[[], Session], answers: Answers,
                 clusterer: Callable[[], QuestionClusterer]) -> None:
        self.Session = session_factory
        self.answers = answers
        self.clusterer = clusterer

    def ask(self, question: str, channel: str = "cli", session_id: str = "", district: str = "",
            enterprise: str = "", client_msg_id: str | None = None, suggestion_of: int | None = None,
            standalone: bool = False, **kw: Any) -> AskOutcome:
        """Store the question (exactly once), answer it, store the decision. Errors still leave the question stored.
        ``standalone``: the user asked for this question to be answered on its own ("单独提问" under an answer read
        with the conversation) — the conversation is not used."""
        text = checked_text(question)
        for _attempt in range(2):
            with self.Session() as s:
                prev = None
                if client_msg_id:
                    prev = s.scalar(select(Question).where(Question.channel == channel,
                                                           Question.client_msg_id == client_msg_id))
                    if prev is not None and prev.result:
                        return AskOutcome(answer_from_dict(prev.result), prev.id, prev.token)
                if prev is not None:  # a retry of a message whose answer failed or is under way: same row
                    qid, token = prev.id, prev.token
                    break
                q = Question(token=secrets.token_urlsafe(24), text=text, normalized=normalize(text), channel=channel,
                             client_msg_id=client_msg_id, session_id=session_id, district=district,
                             enterprise=enterprise, suggestion_of=suggestion_of)
                s.add(q)
                try:
                    s.flush()  # the id (RETURNING) before the commit: no reload of the row after it
                    qid, token = q.id, q.token
                    s.commit()
                except IntegrityError:
                    # the same client_msg_id arrived at the same moment (a client retry racing the original):
                    # that row is the question; look it up again
                    s.rollback()
                    if not client_msg_id:
                        raise
                    continue
                break
        else:  # pragma: no cover - the unique row was there, then gone
            raise RuntimeError("question row vanished while resolving a duplicate client_msg_id")
        with self.Session() as s:
            # a "您是不是想问" question taken is a curated question of its own: never read with the conversation
            earlier = self._earlier(s, channel, session_id, qid) if suggestion_of is None and not standalone else None
        try:
            ans = self.answers.answer(text, earlier=earlier, **kw)
            if standalone:  # said, so the chat does not offer it again
                ans.meta["context"] = {"used": False, "standalone": True}
        except Exception:
            with self.Session() as s:
                row = s.get(Question, qid)
                if row is not None:
                    row.decision = "error"
                    s.commit()
            raise
        top_id = (ans.curated or {}).get("id") or (ans.citations[0].id if ans.citations else "")
        # a long letter answered only "for reference" (参考（请核实）; by default every letter, see
        # ASSISTANT_LONG_LETTER_ANSWERS) is also passed to staff: what is shown — articles or a curated answer — is
        # uncertain for exactly the questions that matter most (measured: README, What a user sees)
        review = "letter_review" if letter_for_staff(ans.decision, normalize(text)) else ans.review
        if review:
            # a message that asks nothing, read with its conversation, is not a 追问: "您的消息…"
            said = REVIEW_TEXT[review] if review != "followup_review" or asks(text) else "您的消息" + _PASSED_ON
            ans.notice = join_notices(ans.notice, said)
            ans.meta["queued"] = True
        if ans.decision is not Decision.ABSTAIN and not review:  # one UPDATE, no read of the row
            with self.Session() as s:
                s.execute(update(Question).where(Question.id == qid).values(
                    decision=ans.decision.value, confidence=ans.confidence, top_id=top_id, result=ans.as_dict()))
                self._withdraw_told(s, read_with(s, channel, session_id, qid, ans))
                s.commit()
            ans.meta["question_id"] = qid
            return AskOutcome(ans, qid, token)
        with self.Session() as s:
            row = s.get(Question, qid)
            assert row is not None
            read = read_with(s, channel, session_id, qid, ans)
            if ans.decision is Decision.ABSTAIN or review:
                # before touching the row: the queue lookup (clustering, e5) reads only, so SQLite's database-wide
                # write lock is taken by the short writes that follow, not held through the clustering
                clusterer = self.clusterer()
                if ans.encoded is not None:  # the question's vector, as the answer just computed it
                    clusterer.remember_vector(*ans.encoded)
                # the assistant does not know (abstain), or only offers references for a letter: staff will answer
                enqueue(s, row, "abstain" if ans.decision is Decision.ABSTAIN else review, clusterer,
                        into=conversation_item(s, [q for q in read if not _told(q)]))
            row.decision = ans.decision.value
            row.confidence = ans.confidence
            row.top_id = top_id
            row.result = ans.as_dict()
            self._withdraw_told(s, read)
            s.commit()
        ans.meta["question_id"] = qid
        return AskOutcome(ans, qid, token)

    @staticmethod
    def _withdraw_told(s: Session, read: list[Question]) -> None:
        """A follow-up read with earlier messages (``read``: :func:`read_with`) that only told the situation (and were
        passed to staff as they stood): those leave the queue — this answer, or this question's queue item with its
        conversation, takes them up (:func:`~assistant.queue.intake.withdraw_told`)."""
        told = [q for q in read if _told(q)]
        if told:
            withdraw_told(s, told)

    @staticmethod
    def _earlier(s: Session, channel: str, session_id: str, before: int) -> Earlier | None:
        """The conversation's previous question (same channel and session, asked within :data:`IDLE`), if any; a
        turn that only thanked or acknowledged ("好的，谢谢") is passed over: the question before it is the context."""
        if not session_id:
            return None
        rows = s.scalars(select(Question).where(Question.channel == channel, Question.session_id == session_id,
                                                Question.id < before, Question.asked_at >= datetime.now(UTC) - IDLE)
                         .order_by(Question.id.desc()).limit(5))
        prev = next((q for q in rows if not ((q.result or {}).get("meta") or {}).get("courtesy")), None)
        if prev is None:
            return None
        result = prev.result or {}
        meta = result.get("meta") or {}
        searched = meta.get("searched") or prev.text
        cards = [c for c in [*(result.get("citations") or []), *(result.get("related_articles") or [])]
                 if c.get("section") != "reply"]
        ids = [str(p.get("id") or "") for c in cards for p in (c.get("parts") or [c])]
        # the curated answer shown — or, after a message only noted, the one still in force (``meta.answered_by``)
        shown = result.get("curated") or {"id": meta.get("answered_by") or ""}
        return Earlier(prev.text, str(searched), tuple(dict.fromkeys(document_of(i) for i in ids if i)),
                       str(shown.get("id") or "") if isinstance(shown, dict) else "",
                       str(meta.get("carries") or ""),
                       tuple(str(t) for t in meta.get("carried_turns") or [] if isinstance(t, str)),
                       told=bool(meta.get("tells")),
                       offered=str(sug.get("id") or "") if isinstance(sug := result.get("suggestion"), dict) else "",
                       given=tuple(str(e) for e in meta.get("entries") or [] if isinstance(e, str)))

    def _latest(self, channel: str, session_id: str) -> Question | None:
        """The conversation's latest question (asked within :data:`IDLE`), detached."""
        if not session_id:
            return None
        with self.Session() as s:
            q = s.scalars(select(Question).where(Question.channel == channel, Question.session_id == session_id,
                                                 Question.asked_at >= datetime.now(UTC) - IDLE)
                          .order_by(Question.id.desc()).limit(1)).first()
            if q is not None:
                s.expunge(q)
            return q

    def offered(self, channel: str, session_id: str) -> tuple[int, str] | None:
        """The "您是不是想问" suggestion of the conversation's latest answer (asked within :data:`IDLE`): the id of
        the question it was offered to and the suggested question — a channel without buttons (WeChat) lets the
        user take it by replying "1"."""
        q = self._latest(channel, session_id)
        sug = (q.result or {}).get("suggestion") if q is not None else None
        if q is None or not isinstance(sug, dict) or not str(sug.get("question") or "").strip():
            return None
        return q.id, str(sug["question"])

    def read_in_context(self, channel: str, session_id: str) -> str | None:
        """The question of the conversation's latest answer (asked within :data:`IDLE`) when that answer was read
        with the conversation — a channel without buttons (WeChat) lets the user ask it on its own by replying
        "0"."""
        q = self._latest(channel, session_id)
        ctx = ((q.result or {}).get("meta") or {}).get("context") if q is not None else None
        return q.text if q is not None and isinstance(ctx, dict) and ctx.get("used") is True else None

    @staticmethod
    def _by_token(s: Session, question_id: int | None, token: str) -> Question:
        q = s.scalar(select(Question).where(Question.token == token)) if valid_token(token) else None
        if q is None or (question_id is not None and q.id != question_id):
            raise QuestionError("question_not_found", "找不到该问题（编号或凭证不正确）。")
        return q

    def feedback(self, question_id: int | None, token: str, helpful: bool, reason: str = "") -> dict[str, Any]:
        """Store 有帮助/没帮助; 没帮助 puts the question in the staff queue."""
        with self.Session() as s:
            q = self._by_token(s, question_id, token)
            item = None if helpful else enqueue(s, q, "not_helpful", self.clusterer())  # clustering before any write
            s.add(Feedback(question_id=q.id, helpful=helpful, reason=reason.strip()))
            s.commit()
            return {"ok": True, "queued": item is not None, "queue_item_id": item.id if item else None}

    def handoff(self, text: str | None, question_id: int | None, token: str | None, contact: dict[str, str],
                consent: bool, channel: str = "api", session_id: str = "", district: str = "") -> dict[str, Any]:
        """转人工: leave a question (an asked one, or a new one stored exactly once) for staff, with optional
        contact data that is stored only with consent."""
        contact = {k: (v or "").strip() for k, v in contact.items() if (v or "").strip()}
        if contact and not consent:
            raise QuestionError("consent_required", "留下联系方式需要勾选同意本局保存联系方式。")
        with self.Session() as s:
            if token:
                q = self._by_token(s, question_id, token)
            else:
                body = checked_text(text)
                q = Question(token=secrets.token_urlsafe(24), text=body, normalized=normalize(body),
                             channel=channel, session_id=session_id, district=district, decision="handoff")
                s.add(q)
                s.flush()
            s.add(Handoff(question_id=q.id, consent=bool(consent and contact), **contact))
            item = enqueue(s, q, "handoff", self.clusterer())
            s.commit()
            return {"ok": True, "question_id": q.id, "token": q.token, "queue_item_id": item.id}

    def status(self, token: str) -> dict[str, Any]:
        """What the asker may see: the question and, once staff published an answer, that answer."""
        if not valid_token(token):
            raise QuestionError("question_not_found", "找不到该问题，请检查查询凭证。")
        with self.Session() as s:
            q = s.scalar(select(Question).where(Question.token == token))
            if q is None:
                raise QuestionError("question_not_found", "找不到该问题，请检查查询凭证。")
            member = s.scalar(select(QueueMember).where(QueueMember.question_id == q.id))
            item = member.item if member is not None else None
            answered = item is not None and item.status in ("answered", "published") and bool(item.answer)
            # consultation-day invitations and follow-up links addressed to this (web) asker
            notices = [{"kind": n.kind, "text": n.body, "at": n.created_at.isoformat() if n.created_at else None}
                       for n in s.scalars(select(Notification).where(Notification.channel == "web",
                                                                     Notification.recipient == q.token)
                                          .order_by(Notification.id))]
            return {
                "notices": notices,
                "question": q.text, "asked_at": q.asked_at.isoformat() if q.asked_at else None,
                "decision": q.decision, "queued": item is not None,
                "status": "answered" if answered else ("pending" if item is not None else "answered_by_assistant"),
                "answer": {"text": item.answer, "answered_at": item.answered_at.isoformat() if item.answered_at
                           else None} if answered and item is not None else None,
            }

    def suggestions(self, n: int = 4) -> list[str]:
        """Questions to offer when a chat opens: curated questions of the most common categories."""
        with self.Session() as s:
            rows = s.execute(select(CuratedAnswer.category, CuratedAnswer.question)
                             .where(CuratedAnswer.status == "published").order_by(CuratedAnswer.id)).all()
        seen: set[str] = set()
        out: list[str] = []
        for cat, q in rows:
            if cat not in seen:
                seen.add(cat)
                out.append(q)
            if len(out) == n:
                break
        return out
