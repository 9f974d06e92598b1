"""Alembic migrations on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest import hold
from sqlalchemy import Engine, inspect, text

from assistant.db.migrate import downgrade, upgrade
from assistant.db.session import make_engine

TABLES = {"documents", "passages", "curated_answers", "questions", "queue_items", "queue_members", "feedback",
          "handoffs"}


def _head() -> str:
    from assistant.db.migrate import head_revision

    return head_revision()


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield from hold(eng, eng.dispose)


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def _version(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return conn.execute(text("select version_num from alembic_version")).scalar()


def test_upgrade_downgrade_upgrade(engine: Engine) -> None:
    assert _tables(engine) == set()
    upgrade(engine)
    assert TABLES <= _tables(engine)
    assert _version(engine) == _head()
    upgrade(engine)  # idempotent
    downgrade(engine, "base")
    assert _tables(engine) & TABLES == set()
    upgrade(engine)
    assert TABLES <= _tables(engine)
    assert _version(engine) == _head()
    idx = {i["name"] for i in inspect(engine).get_indexes("passages")}
    assert "ix_passages_document_id" in idx


def test_schema_matches_models(engine: Engine) -> None:
    """Every model column exists in the migrated schema (no model change without a migration)."""
    from assistant.db.models import Base

    upgrade(engine)
    insp = inspect(engine)
    for table in Base.metadata.sorted_tables:
        cols = {c["name"] for c in insp.get_columns(table.name)}
        assert {c.name for c in table.columns} == cols, table.name


def test_passages_cascade_with_document(engine: Engine) -> None:
    from sqlalchemy.orm import Session

    from assistant.db.models import Document, Passage

    upgrade(engine)
    with Session(engine) as s:
        d = Document(title="t", kind="法律", fingerprint="x", extra={})
        d.passages.append(Passage(id="t#1", key="1", text="x"))
        s.add(d)
        s.commit()
        s.delete(d)
        s.commit()
        assert s.get(Passage, "t#1") is None


def test_upgrade_from_first_release_keeps_data(engine: Engine) -> None:
    """A database of the first release (0001) with questions in it upgrades to head without losing them."""
    upgrade(engine, "0001")
    with engine.begin() as conn:
        conn.execute(text("insert into questions (token, text, normalized, channel, session_id, district, enterprise,"
                          " asked_at, decision, top_id, result) values ('t1', '排污证能用几年', '', 'cli', '', '', '',"
                          " CURRENT_TIMESTAMP, 'answer', '', '{}')"))
    upgrade(engine)
    assert _version(engine) == _head()
    with engine.connect() as conn:
        assert conn.execute(text("select text from questions")).scalar() == "排污证能用几年"
