"""The queue item page shows what staff need to understand a member question: the reason the asker gave with 没帮助
(Feedback.reason), and the conversation before the question — the same session's earlier questions on the same
channel within 30 minutes, oldest first, as text (escaped)."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, timedelta

from console_support import ConsoleEnv, console_env  # noqa: F401
from sqlalchemy.orm import Session

from assistant.db.models import Feedback, Question, QueueItem, QueueMember
from assistant.text.normalize import normalize


def _q(s: Session, text: str, at: datetime, session_id: str = "sess-1", channel: str = "chat",
       decision: str = "answer") -> Question:
    q = Question(token=secrets.token_urlsafe(24), text=text, normalized=normalize(text), channel=channel,
                 session_id=session_id, decision=decision, asked_at=at)
    s.add(q)
    s.flush()
    return q


def _item(s: Session, q: Question, source: str) -> QueueItem:
    """A new queue item holding ``q`` alone, queued by ``source``."""
    item = QueueItem(title=q.text, normalized=q.normalized, status="new", count=1, first_asked=q.asked_at,
                     last_asked=q.asked_at)
    s.add(item)
    s.flush()
    s.add(QueueMember(item_id=item.id, question_id=q.id, source=source, channel=q.channel))
    return item


def _section(html: str, testid: str) -> list[str]:
    return re.findall(rf'data-testid="{testid}">(.*?)</div>', html, re.S)


def test_item_page_shows_unhelpful_reason_and_the_conversation_before(console_env: ConsoleEnv) -> None:  # noqa: F811
    env = console_env
    sid = f"sess-{secrets.token_hex(4)}"
    now = datetime.now(UTC).replace(microsecond=0)
    with env.svc.Session() as s:
        _q(s, "一小时前的问题不算上文", now - timedelta(minutes=65), sid)
        _q(s, "排污许可证能用几年？", now - timedelta(minutes=20), sid)
        _q(s, "<b>到期</b>怎么延续？", now - timedelta(minutes=5), sid)
        _q(s, "别的会话的问题", now - timedelta(minutes=3), f"{sid}-other")
        _q(s, "同一会话、微信渠道", now - timedelta(minutes=2), sid, channel="wechat")
        q = _q(s, "那要提前多久申请？", now, sid)
        _q(s, "之后的问题不算上文", now + timedelta(minutes=1), sid)
        item = _item(s, q, "not_helpful")
        s.add(Feedback(question_id=q.id, helpful=False, reason="没有说<i>提前</i>几天"))
        s.add(Feedback(question_id=q.id, helpful=False, reason=""))
        s.commit()
        item_id = item.id
    html = env.client("admin").get(f"/console/items/{item_id}").get_data(as_text=True)
    reasons = _section(html, "member-reason")
    assert len(reasons) == 1 and "没帮助原因：" in reasons[0]
    assert "没有说&lt;i&gt;提前&lt;/i&gt;几天" in reasons[0] and "<i>" not in html
    (context,) = _section(html, "member-context")
    shown = [re.sub(r"<[^>]+>", "", li).split(" ", 1)[1].strip() for li in re.findall(r"<li>(.*?)</li>", context)]
    assert shown == ["排污许可证能用几年？", "&lt;b&gt;到期&lt;/b&gt;怎么延续？"]  # oldest first, as text


def test_no_context_without_a_session_and_no_reason_without_feedback(console_env: ConsoleEnv) -> None:  # noqa: F811
    env = console_env
    now = datetime.now(UTC)
    with env.svc.Session() as s:
        _q(s, "无会话的早先问题", now - timedelta(minutes=5), session_id="")
        q = _q(s, "无会话的问题", now, session_id="", decision="abstain")
        item = QueueItem(title=q.text, normalized=q.normalized, status="new", count=1, first_asked=now,
                         last_asked=now)
        s.add(item)
        s.flush()
        s.add(QueueMember(item_id=item.id, question_id=q.id, source="abstain", channel="chat"))
        s.commit()
        item_id = item.id
    html = env.client("admin").get(f"/console/items/{item_id}").get_data(as_text=True)
    assert 'data-testid="member-context"' not in html and 'data-testid="member-reason"' not in html


def test_a_follow_up_answered_for_reference_is_labelled_as_such(console_env: ConsoleEnv) -> None:  # noqa: F811
    """A follow-up shown only articles for reference is queued as followup_review: the item page names it in Chinese,
    beside the conversation it came from."""
    env = console_env
    sid = f"sess-{secrets.token_hex(4)}"
    now = datetime.now(UTC).replace(microsecond=0)
    with env.svc.Session() as s:
        _q(s, "如果是登记管理，是不是就不用申请证了？", now - timedelta(minutes=2), sid)
        q = _q(s, "那要是一直没填报，会被罚吗？", now, sid, decision="caution")
        item = _item(s, q, "followup_review")
        s.commit()
        item_id = item.id
    html = env.client("admin").get(f"/console/items/{item_id}").get_data(as_text=True)
    assert "追问仅给出参考条文" in html and "followup_review" not in html
    (context,) = _section(html, "member-context")
    assert "如果是登记管理，是不是就不用申请证了？" in context


def test_a_letter_passed_on_with_references_shows_what_the_asker_was_given(console_env: ConsoleEnv) -> None:  # noqa: F811
    """Staff confirm or correct what a letter was shown: the cards' labels and the 您是不是想问 offered, as text."""
    env = console_env
    now = datetime.now(UTC).replace(microsecond=0)
    with env.svc.Session() as s:
        q = _q(s, "我们是普陀一家水产加工厂……请问排污许可证到期前要提前多久申请延续？", now, decision="caution")
        q.result = {"curated": None, "suggestion": {"id": "fx-pwxk-001", "question": "排污许可证<b>有效期</b>是几年？"},
                    "citations": [{"label": "《排污许可管理条例》第十四条、第三十三条"}, {"label": "《排污许可管理条例》第二十二条"}]}
        shown_item = _item(s, q, "letter_review")
        bare = _q(s, "无结果的问题", now, session_id="", decision="abstain")
        bare_item = _item(s, bare, "abstain")
        s.commit()
        item_id, bare_id = shown_item.id, bare_item.id
    html = env.client("admin").get(f"/console/items/{item_id}").get_data(as_text=True)
    (shown,) = _section(html, "member-shown")
    assert "助手已给出：" in shown and "《排污许可管理条例》第十四条、第三十三条、《排污许可管理条例》第二十二条" in shown
    assert "建议问题“排污许可证&lt;b&gt;有效期&lt;/b&gt;是几年？”" in shown and "<b>有效期" not in html
    assert 'data-testid="member-shown"' not in env.client("admin").get(f"/console/items/{bare_id}").get_data(as_text=True)
