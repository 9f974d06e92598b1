"""Who needs to know about a change: the askers whose questions in the last 24 months were answered with an article
the change touched (changed, renumbered or removed), or belong to a queue item whose published answer cites one, and
the subscribers of the change's topics.

One row per asker, on the channel that reaches them: a WeChat follower by a WeChat message; a web asker who left a
phone number with consent (转人工) on the phone list; any other web asker by a notice under their question's token.
An asker who unfollowed the Official Account is listed but not sendable (no consent to message them any more).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Text, cast, or_, select
from sqlalchemy.orm import Session

from ..db.models import (
    ChangeNotice,
    CuratedAnswer,
    Handoff,
    PolicyChange,
    Question,
    QueueItem,
    QueueMember,
    Subscription,
    WechatUser,
)

#: how far back an answered question makes its asker someone who needs to know
LOOKBACK = timedelta(days=730)
#: up to this many touched articles the stored answers are searched article by article, beyond it by document
MAX_ID_PATTERNS = 200
REASONS = {"answered": "曾据此条文作答", "queue": "所在待办的答复引用此条文", "subscription": "订阅了相关主题"}


@dataclass
class Recipient:
    """One asker a change concerns."""

    channel: str  # wechat | web | phone
    recipient: str  # openid | session id (or question token) | phone
    enterprise: str = ""
    name: str = ""
    question_id: int | None = None
    question: str = ""
    token: str = ""
    asked_at: datetime | None = None
    reason: str = "answered"
    articles: list[str] = field(default_factory=list)
    sendable: bool = True
    why_not: str = ""
    notice: dict[str, Any] | None = None  # the notice already sent for this change, if any

    @property
    def reason_label(self) -> str:
        return REASONS.get(self.reason, self.reason)

    def as_dict(self) -> dict[str, Any]:
        return {"channel": self.channel, "recipient": self.recipient, "enterprise": self.enterprise,
                "name": self.name, "question_id": self.question_id, "question": self.question,
                "asked_at": self.asked_at.isoformat() if self.asked_at else None, "reason": self.reason,
                "reason_label": self.reason_label, "articles": self.articles, "sendable": self.sendable,
                "why_not": self.why_not, "notice": self.notice}


def cited_ids(result: dict[str, Any] | None) -> set[str]:
    """Every passage id an answer showed as its basis (依据): its cards' passages and its curated entry's citations."""
    if not result:
        return set()
    ids: set[str] = set()
    for card in result.get("citations") or []:
        ids.add(str(card.get("id") or ""))
        for part in card.get("parts") or []:
            ids.add(str(part.get("id") or ""))
    cur = result.get("curated") or {}
    ids.update(str(c) for c in (cur.get("citations") or []))
    ids.discard("")
    return ids


def _like(text: str) -> str:
    """``text`` as a literal inside a LIKE pattern with escape character ``!``."""
    return text.replace("!", "!!").replace("%", "!%").replace("_", "!_")


def _asker_key(q: Question) -> tuple[str, str]:
    if q.channel == "wechat" and q.session_id:
        return "wechat", q.session_id
    return "web", q.session_id or q.token


def who_needs_to_know(session: Session, change: PolicyChange, now: datetime | None = None) -> list[Recipient]:
    """The askers ``change`` concerns, one per asker (the latest of their questions), with the notice already sent."""
    touched = set(change.touched)
    since = (now or datetime.now(UTC)) - LOOKBACK
    found: dict[tuple[str, str], Recipient] = {}

    def add(q: Question, reason: str, articles: set[str]) -> None:
        key = _asker_key(q)
        r = found.get(key)
        asked = q.asked_at if q.asked_at.tzinfo else q.asked_at.replace(tzinfo=UTC)
        if r is None or (r.asked_at is not None and asked > r.asked_at):
            prev = r.articles if r is not None else []
            found[key] = Recipient(channel=key[0], recipient=key[1], enterprise=q.enterprise, question_id=q.id,
                                   question=q.text, token=q.token, asked_at=asked, reason=reason,
                                   articles=sorted(set(prev) | articles))
        else:
            r.articles = sorted(set(r.articles) | articles)

    if touched:
        # only the questions whose stored answer mentions a touched document are read (the JSON text, as stored:
        # non-ASCII escaped), then checked exactly: the question log grows to hundreds of thousands of rows
        # (by id, the JSON string with its quotes, when the change touches a few articles; else by document)
        needles = sorted(json.dumps(t) for t in touched) if len(touched) <= MAX_ID_PATTERNS else \
            sorted({json.dumps(t.split("#", 1)[0])[:-1] + "#" for t in touched})
        mentions = or_(*[cast(Question.result, Text).like(f"%{_like(n)}%", escape="!") for n in needles])
        rows = session.execute(select(Question).where(Question.asked_at >= since,
                                                      Question.decision.in_(("answer", "caution")), mentions))
        for (q,) in rows:
            hit = cited_ids(q.result) & touched
            if hit:
                add(q, "answered", hit)
        entries = {cid: set(c or []) & touched for cid, c in session.execute(
            select(CuratedAnswer.id, CuratedAnswer.citations))}
        entries = {k: v for k, v in entries.items() if v}
        if entries:
            items = session.execute(select(QueueItem.id, QueueItem.curated_id)
                                    .where(QueueItem.curated_id.in_(list(entries))))
            for item_id, cid in items:
                if cid is None:
                    continue
                for (q,) in session.execute(select(Question).join(QueueMember, QueueMember.question_id == Question.id)
                                            .where(QueueMember.item_id == item_id, Question.asked_at >= since)):
                    if _asker_key(q) not in found:
                        add(q, "queue", entries[cid])
    out = list(found.values())
    _resolve_channels(session, out)
    _subscribers(session, change, out)
    _mark_sent(session, change, out)
    out.sort(key=lambda r: (r.notice is not None, not r.sendable, r.channel, -(r.asked_at.timestamp()
                                                                                if r.asked_at else 0)))
    return out


def _resolve_channels(session: Session, out: list[Recipient]) -> None:
    """WeChat askers: still following (consent to be messaged) and their bound enterprise; web askers who left a
    phone number with consent go on the phone list (handoffs are few: read in one query per 500 askers)."""
    for r in out:
        if r.channel == "wechat":
            user = session.scalar(select(WechatUser).where(WechatUser.openid == r.recipient))
            if user is not None:
                r.enterprise = r.enterprise or user.enterprise
                if not user.subscribed:
                    r.sendable, r.why_not = False, "已取消关注公众号"
    web = [r for r in out if r.channel == "web" and r.question_id is not None]
    for i in range(0, len(web), 500):
        part = web[i:i + 500]
        sessions = [r.recipient for r in part if r.recipient != r.token]
        qids = [r.question_id for r in part if r.recipient == r.token]
        latest: dict[tuple[str, object], Handoff] = {}
        for h, sid, qid in session.execute(select(Handoff, Question.session_id, Question.id)
                                           .join(Question, Question.id == Handoff.question_id)
                                           .where(or_(Question.session_id.in_(sessions), Question.id.in_(qids)))
                                           .order_by(Handoff.id)):
            latest[("s", sid)] = h
            latest[("q", qid)] = h
        for r in part:
            found = latest.get(("s", r.recipient) if r.recipient != r.token else ("q", r.question_id))
            if found is None:
                continue
            r.enterprise = r.enterprise or found.company
            r.name = found.name
            if found.consent and found.phone:
                r.channel, r.recipient = "phone", found.phone


def _subscribers(session: Session, change: PolicyChange, out: list[Recipient]) -> None:
    if not change.topics:
        return
    have = {(r.channel, r.recipient) for r in out}
    for sub in session.scalars(select(Subscription).where(Subscription.topic.in_(change.topics),
                                                          Subscription.active.is_(True))):
        key = (sub.channel, sub.subscriber)
        if key in have:
            continue
        have.add(key)
        r = Recipient(channel=sub.channel, recipient=sub.subscriber, reason="subscription",
                      articles=[], question=f"订阅主题：{sub.topic}")
        if sub.channel == "wechat":
            user = session.scalar(select(WechatUser).where(WechatUser.openid == sub.subscriber))
            if user is not None:
                r.enterprise = user.enterprise
                if not user.subscribed:
                    r.sendable, r.why_not = False, "已取消关注公众号"
        out.append(r)


def _mark_sent(session: Session, change: PolicyChange, out: list[Recipient]) -> None:
    sent = {(n.channel, n.recipient): n for n in session.scalars(select(ChangeNotice)
                                                                   .where(ChangeNotice.change_id == change.id))}
    for r in out:
        n = sent.get((r.channel, r.recipient))
        if n is not None:
            r.notice = {"id": n.id, "status": n.status, "sent_at": n.sent_at.isoformat(),
                        "opened": n.opened_at is not None, "sent_by": n.sent_by}
