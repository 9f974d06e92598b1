"""SQLAlchemy 2.0 typed models, grouped by area and all importable from here: ``corpus`` (documents, passages,
curated answers and their versions), ``questions`` (asked questions, feedback, 转人工 handoffs, the staff queue,
notifications), ``consult`` (consultation days, agendas, participants, follow-ups), ``staff`` (accounts, audit log),
``wechat`` (messages, followers, API tokens), ``index_state`` (saved index versions, shared passage vectors), ``updates`` (政策速递: document versions, changes,
notices, subscriptions); ``base`` holds :class:`Base`.

Importing this package registers every table on ``Base.metadata`` (Alembic's ``env.py`` takes its target metadata
from here).
"""

from __future__ import annotations

from .base import Base, utcnow
from .consult import AgendaItem, ConsultationDay, FollowUp, Participant
from .corpus import CuratedAnswer, CuratedVersion, Document, Passage
from .index_state import Embedding, IndexState
from .questions import Feedback, Handoff, Notification, Question, QueueItem, QueueMember
from .staff import AuditLog, StaffUser
from .updates import ChangeNotice, DocumentVersion, PolicyChange, Subscription
from .wechat import WechatMessage, WechatToken, WechatUser

__all__ = [
    "Base",
    "utcnow",
    "Document",
    "Passage",
    "CuratedAnswer",
    "CuratedVersion",
    "Question",
    "QueueItem",
    "QueueMember",
    "Feedback",
    "Handoff",
    "Notification",
    "StaffUser",
    "AuditLog",
    "WechatMessage",
    "WechatUser",
    "WechatToken",
    "IndexState",
    "Embedding",
    "ConsultationDay",
    "AgendaItem",
    "Participant",
    "FollowUp",
    "DocumentVersion",
    "PolicyChange",
    "ChangeNotice",
    "Subscription",
]
