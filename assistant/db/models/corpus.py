"""The corpus: source documents, their passages, and the curated answers with their version history."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow


class Document(Base):
    """A source document: a law, 条例, 规章, local regulation, standard, catalogue, official reply, curated set."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(300), unique=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    issuer: Mapped[str] = mapped_column(String(200), default="")
    doc_number: Mapped[str] = mapped_column(String(200), default="")
    promulgated: Mapped[date | None] = mapped_column(Date, nullable=True)
    effective: Mapped[date | None] = mapped_column(Date, nullable=True)
    status: Mapped[str] = mapped_column(String(10), default="现行有效", index=True)
    revision_note: Mapped[str] = mapped_column(Text, default="")
    source_path: Mapped[str] = mapped_column(String(1000), default="")
    fingerprint: Mapped[str] = mapped_column(String(64), default="")
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    ingested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    passages: Mapped[list[Passage]] = relationship(
        back_populates="document", cascade="all, delete-orphan", order_by="Passage.ordinal"
    )


class Passage(Base):
    """One retrievable unit. Regulation articles have id ``<title>#<n>``."""

    __tablename__ = "passages"

    id: Mapped[str] = mapped_column(String(400), primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(60))
    ordinal: Mapped[int] = mapped_column(Integer, default=0)
    article: Mapped[int | None] = mapped_column(Integer, nullable=True)
    heading: Mapped[str] = mapped_column(String(500), default="")
    text: Mapped[str] = mapped_column(Text)
    line: Mapped[int | None] = mapped_column(Integer, nullable=True)

    document: Mapped[Document] = relationship(back_populates="passages")


class CuratedAnswer(Base):
    """A question answered by the bureau in plain Chinese, citing the articles behind it."""

    __tablename__ = "curated_answers"

    id: Mapped[str] = mapped_column(String(60), primary_key=True)
    question: Mapped[str] = mapped_column(Text)
    paraphrases: Mapped[list[str]] = mapped_column(JSON, default=list)
    answer: Mapped[str] = mapped_column(Text)
    citations: Mapped[list[str]] = mapped_column(JSON, default=list)
    category: Mapped[str] = mapped_column(String(50), default="", index=True)
    lead_unit: Mapped[str] = mapped_column(String(50), default="")
    audience: Mapped[str] = mapped_column(String(50), default="")
    reviewed: Mapped[date | None] = mapped_column(Date, nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="published", index=True)
    #: where the entry came from: ``file:<path>`` (shipped corpus) or ``console`` (published by staff)
    origin: Mapped[str] = mapped_column(String(500), default="")
    kind: Mapped[str] = mapped_column(String(20), default="curated")  # curated | 咨询日答复
    version: Mapped[int] = mapped_column(Integer, default=1)
    fingerprint: Mapped[str] = mapped_column(String(64), default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class CuratedVersion(Base):
    """Version history of curated entries (one row per saved version)."""

    __tablename__ = "curated_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    curated_id: Mapped[str] = mapped_column(String(60), index=True)
    version: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    editor: Mapped[str] = mapped_column(String(50), default="")
    saved_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
