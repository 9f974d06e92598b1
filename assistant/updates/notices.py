"""Notices about a change, one per asker and never twice: staff review :func:`~.audience.who_needs_to_know` in the
console and send. A WeChat asker gets a message (queued as a WeChat notification, delivered by the outbox); a web
asker a notice under their question's token (``GET /api/v1/questions/<token>`` → ``notices``); an asker with a
consented phone number goes on the phone list. Each notice carries a link ``/updates/<id>?n=<key>``: opening it
counts the notice as opened (the dashboard counts sent and opened)."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..db.models import ChangeNotice, Notification, PolicyChange, Question
from ..domain import Actor, audit
from ..errors import WorkflowError
from ..text.numerals import int_to_cn
from .audience import Recipient, who_needs_to_know

KIND_WORDS = {"修订": "修订", "文本更正": "更正", "废止": "废止", "替代": "由新法规替代"}


def article_label(passage_id: str) -> str:
    """``《X》第十二条`` for ``X#12`` (other keys as they are)."""
    title, _, key = passage_id.partition("#")
    return f"《{title}》" + (f"第{int_to_cn(int(key))}条" if re.fullmatch(r"\d+", key) else key)


def notice_text(change: PolicyChange, r: Recipient, link: str) -> str:
    word = KIND_WORDS.get(change.kind, change.kind)
    when = f"（{change.new_label}）" if change.new_label else ""
    head = f"【政策速递】《{change.title}》已{word}{when}。"
    if r.reason == "subscription":
        body = f"该变化涉及您订阅的主题（{'、'.join(change.topics)}）。"
    else:
        q = r.question[:40] + ("…" if len(r.question) > 40 else "")
        arts = "、".join(article_label(a) for a in r.articles[:3]) or "条文"
        body = f"您此前咨询的“{q}”所依据的{arts}有变化，请以新规定为准。"
    return f"{head}{body}修改内容及解读：{link}"


def send(session: Session, actor: Actor, change_id: int, base_url: str,
         only: set[tuple[str, str]] | None = None) -> dict[str, int]:
    """Send the notices of ``change_id`` to every sendable asker not yet notified (or to those in ``only``, as
    ``(channel, recipient)``); returns counts: sent (by channel), already (had one), skipped (not sendable)."""
    change = session.get(PolicyChange, change_id)
    if change is None:
        raise WorkflowError("not_found", "没有这条政策变化", status=404)
    counts: dict[str, int] = {"wechat": 0, "web": 0, "phone": 0, "already": 0, "skipped": 0}
    for r in who_needs_to_know(session, change):
        if only is not None and (r.channel, r.recipient) not in only:
            continue
        if r.notice is not None:
            counts["already"] += 1
            continue
        if not r.sendable:
            counts["skipped"] += 1
            continue
        key = secrets.token_urlsafe(12)
        link = f"{base_url.rstrip('/')}/updates/{change.id}?n={key}"
        text = notice_text(change, r, link)
        try:
            with session.begin_nested():
                session.add(ChangeNotice(change_id=change.id, channel=r.channel, recipient=r.recipient,
                                         enterprise=r.enterprise, question_id=r.question_id, reason=r.reason,
                                         key=key, status="phone_list" if r.channel == "phone" else "sent",
                                         sent_by=actor.username))
                if r.channel == "wechat":
                    session.add(Notification(question_id=r.question_id, channel="wechat", recipient=r.recipient,
                                             kind="policy_change", body=text, status="pending"))
                elif r.channel == "web" and r.token:  # shown with the question's status (GET /questions/<token>)
                    session.add(Notification(question_id=r.question_id, channel="web", recipient=r.token,
                                             kind="policy_change", body=text, status="sent",
                                             sent_at=datetime.now(UTC)))
        except IntegrityError:  # sent meanwhile by someone else: never twice
            counts["already"] += 1
            continue
        counts[r.channel] += 1
    audit(session, actor, "notify_change", f"change:{change.id}", {}, counts)
    session.commit()
    return counts


def mark_opened(session: Session, change_id: int, key: str) -> bool:
    """The notice's link was opened: counted once (the first time)."""
    n = session.scalar(select(ChangeNotice).where(ChangeNotice.key == key, ChangeNotice.change_id == change_id))
    if n is None:
        return False
    if n.opened_at is None:
        n.opened_at = datetime.now(UTC)
        session.commit()
    return True


def notices_for_session(session: Session, session_id: str, limit: int = 20) -> list[dict[str, Any]]:
    """The 政策速递 notices sent to a web conversation (by its session id), newest first: shown when the chat opens."""
    out = []
    rows = session.execute(select(ChangeNotice, PolicyChange).join(PolicyChange,
                                                                   PolicyChange.id == ChangeNotice.change_id)
                           .where(ChangeNotice.channel == "web", ChangeNotice.recipient == session_id)
                           .order_by(ChangeNotice.sent_at.desc(), ChangeNotice.id.desc()).limit(limit))
    for n, c in rows:
        q = session.get(Question, n.question_id) if n.question_id is not None else None
        r = Recipient(channel="web", recipient=n.recipient, question=q.text if q is not None else "",
                      reason=n.reason, articles=[t for t in c.touched if t.startswith(c.title + "#")][:3])
        link = f"/updates/{c.id}?n={n.key}"
        out.append({"id": n.id, "change_id": c.id, "title": c.title, "kind": c.kind, "url": link,
                    "text": notice_text(c, r, link), "sent_at": n.sent_at.isoformat()})
    return out


def stats(session: Session) -> dict[str, int]:
    """Notices sent (by channel) and opened, for the dashboard."""
    out = {"sent": 0, "opened": 0, "wechat": 0, "web": 0, "phone": 0}
    for channel, n, opened in session.execute(select(ChangeNotice.channel, func.count(ChangeNotice.id),
                                                     func.count(ChangeNotice.opened_at))
                                              .group_by(ChangeNotice.channel)):
        out[channel] = out.get(channel, 0) + int(n)
        out["sent"] += int(n)
        out["opened"] += int(opened)
    return out
