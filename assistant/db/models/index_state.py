"""The version of each saved search index, for reloading it in every worker process; passage vectors shared by
the machines of a deployment."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class IndexState(Base):
    """One row per saved index (``passages``, ``curated``): a version bumped every time the index is saved to
    ``index/<name>/`` and the fingerprint of its items. Every worker process compares the version with the one it
    has loaded (at most once a second) and reloads that index from disk when it changed."""

    __tablename__ = "index_state"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    fingerprint: Mapped[str] = mapped_column(String(64), default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class Embedding(Base):
    """A passage vector shared by the machines of a deployment (:mod:`assistant.search.shared_cache`): keyed by
    encoder id and the sha256 of the text, like each machine's cache file."""

    __tablename__ = "embeddings"

    encoder: Mapped[str] = mapped_column(String(80), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    vector: Mapped[bytes] = mapped_column(LargeBinary)
