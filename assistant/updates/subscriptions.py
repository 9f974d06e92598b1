"""Topic subscriptions: an enterprise subscribes to topics (the curated categories: 危险废物, 排污许可 …) on /chat or
WeChat (``订阅 危废`` / ``退订 危废`` / ``退订``) and is notified when a change touches them. Common short names
(危废, 排污证, 环保税 …) resolve to their category."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db.models import CuratedAnswer, Subscription
from ..errors import QuestionError

#: short names enterprises use for a topic → words of the category they mean (other words are matched as they are)
ALIASES = {"危废": "危险废物", "排污证": "排污许可", "许可证": "排污许可", "环保税": "环境保护税", "废气": "大气",
           "vocs": "大气", "废水": "水污染", "污水": "水污染", "噪音": "噪声", "复议": "救济"}
MAX_TOPICS = 20


def topics(session: Session) -> list[str]:
    """The topics one can subscribe to: the categories of the published curated entries."""
    return sorted({c for c in session.scalars(select(CuratedAnswer.category).where(
        CuratedAnswer.status == "published")) if c})


def resolve(session: Session, words: str) -> list[str]:
    """The topics ``words`` names (``危废 排污证``, ``危险废物``); unknown words raise with the list of topics."""
    have = topics(session)
    out: list[str] = []
    for w in words.replace("，", " ").replace(",", " ").replace("、", " ").split():
        w = w.strip().lower()
        want = ALIASES.get(w, w)
        hit = [t for t in have if want in t.lower() or t.lower() in want]
        if not hit:
            raise QuestionError("unknown_topic", f"没有“{w}”这个主题。可订阅的主题：{'、'.join(have)}")
        out.extend(h for h in hit if h not in out)
    return out


def subscribe(session: Session, channel: str, subscriber: str, names: list[str]) -> list[str]:
    """Subscribe (again) to ``names``; returns the subscriber's active topics."""
    if not subscriber:
        raise QuestionError("no_subscriber", "无法识别订阅者，请刷新页面后重试")
    for t in names:
        row = session.scalar(select(Subscription).where(Subscription.channel == channel,
                                                        Subscription.subscriber == subscriber,
                                                        Subscription.topic == t))
        if row is None:
            session.add(Subscription(channel=channel, subscriber=subscriber, topic=t, active=True))
        else:
            row.active = True
    session.flush()
    active = subscribed(session, channel, subscriber)
    if len(active) > MAX_TOPICS:
        raise QuestionError("too_many_topics", f"最多订阅 {MAX_TOPICS} 个主题")
    session.commit()
    return active


def unsubscribe(session: Session, channel: str, subscriber: str, names: list[str] | None = None) -> list[str]:
    """退订 ``names`` (all topics when None); returns the topics still active."""
    q = select(Subscription).where(Subscription.channel == channel, Subscription.subscriber == subscriber,
                                   Subscription.active.is_(True))
    for row in session.scalars(q):
        if names is None or row.topic in names:
            row.active = False
    session.commit()
    return subscribed(session, channel, subscriber)


def subscribed(session: Session, channel: str, subscriber: str) -> list[str]:
    return sorted(session.scalars(select(Subscription.topic).where(
        Subscription.channel == channel, Subscription.subscriber == subscriber, Subscription.active.is_(True))))
