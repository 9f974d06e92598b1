"""``assistant backup create`` / ``restore``: portable between SQLite and PostgreSQL, guarded restores."""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import fixture_paths, pg_schema
from sqlalchemy import select

from assistant.cli import main
from assistant.config import Settings
from assistant.db.models import (
    AuditLog,
    CuratedAnswer,
    Document,
    Passage,
    Question,
    QueueItem,
    QueueMember,
    StaffUser,
)
from assistant.ops.backup import BackupError, create_backup, restore_backup, row_counts
from assistant.service import AssistantService

ASKED = datetime(2026, 3, 10, 9, 30, 15, 123456, tzinfo=UTC)
LOCKED = datetime(2026, 4, 1, 23, 59, 59, 999999, tzinfo=UTC)
RESULT = {"decision": "abstain", "scores": [0.25, 0.125], "nested": {"中文": "值", "none": None}}


def _seed(settings: Settings) -> AssistantService:
    """A migrated database with the fixture corpus and one row or more in every table the test compares."""
    svc = AssistantService(settings)
    svc.migrate()
    svc.ingest(fixture_paths(settings))
    with svc.Session() as s:
        q1 = Question(token="tok-1", text="排污许可证有效期几年？", normalized="排污许可证有效期几年", channel="web",
                      client_msg_id="m-1", district="定海区", asked_at=ASKED, decision="abstain", confidence=0.3125,
                      result=RESULT)
        q2 = Question(token="tok-2", text="危废转移要联单吗", channel="wechat", asked_at=ASKED, decision="answer")
        s.add_all([q1, q2])
        s.flush()
        item = QueueItem(title=q1.text, status="assigned", count=2, first_asked=ASKED, last_asked=LOCKED,
                         district="定海区", assigned_to="expert1")
        s.add(item)
        s.flush()
        s.add_all([QueueMember(item_id=item.id, question_id=q1.id, source="abstain", channel="web", added_at=ASKED),
                   QueueMember(item_id=item.id, question_id=q2.id, source="handoff", channel="wechat")])
        s.add(StaffUser(username="admin", password_hash="argon2$x", role="admin", display_name="管理员",
                        locked_until=LOCKED, failed_logins=2))
        s.add(AuditLog(at=ASKED, username="admin", action="curated.publish", target="gf-001",
                       before={}, after={"answer": "新的答复", "n": [1, 2]}, ip="10.0.0.1"))
        s.commit()
    return svc


def _snapshot(svc: AssistantService) -> dict[str, object]:
    with svc.Session() as s:
        q = s.scalars(select(Question).where(Question.token == "tok-1")).one()
        doc = s.scalars(select(Document).where(Document.promulgated.is_not(None)).order_by(Document.id)).first()
        assert doc is not None
        passage = s.scalars(select(Passage).order_by(Passage.id)).first()
        assert passage is not None
        curated = s.scalars(select(CuratedAnswer).order_by(CuratedAnswer.id)).first()
        assert curated is not None
        user = s.scalars(select(StaffUser)).one()
        audit = s.scalars(select(AuditLog)).one()
        item = s.scalars(select(QueueItem)).one()
        members = sorted((m.question_id, m.source) for m in s.scalars(select(QueueMember)))

        def utc(d: datetime | None) -> datetime | None:
            return None if d is None else (d.replace(tzinfo=UTC) if d.tzinfo is None else d.astimezone(UTC))

        return {
            "q": (q.id, q.text, q.channel, q.client_msg_id, utc(q.asked_at), q.confidence, q.result),
            "doc": (doc.id, doc.title, doc.promulgated, doc.effective, doc.extra, utc(doc.ingested_at)),
            "passage": (passage.id, passage.document_id, passage.text, passage.article),
            "curated": (curated.id, curated.paraphrases, curated.citations, curated.reviewed, curated.answer),
            "user": (user.id, user.username, user.active, utc(user.locked_until), user.last_login),
            "audit": (audit.id, utc(audit.at), audit.before, audit.after),
            "item": (item.id, item.status, utc(item.first_asked), utc(item.last_asked), item.answered_at),
            "members": members,
        }


def _round_trip(src_url: str, dst_url: str, tmp_path: Path, settings: Settings) -> None:
    src = _seed(settings.evolve(database_url=src_url))
    archive = tmp_path / "b.tar.gz"
    info = create_backup(src.engine, settings.corpus.corpus_dir / "curated", archive)
    assert info.counts["questions"] == 2 and info.counts["queue_members"] == 2 and info.curated_files > 0
    before_counts, before = row_counts(src.engine), _snapshot(src)
    src.engine.dispose()

    dst = AssistantService(settings.evolve(database_url=dst_url))
    dst.migrate()
    try:
        restored = restore_backup(dst.engine, archive, settings.corpus.corpus_dir / "curated")
        assert restored.curated == "unchanged" and not restored.truncated
        assert row_counts(dst.engine) == before_counts
        assert all(before_counts[t] > 0 for t in ("documents", "passages", "curated_answers", "questions",
                                                   "queue_items", "queue_members", "staff_users", "audit_log"))
        after = _snapshot(dst)
        assert after == before
        assert after["q"][4] == ASKED  # type: ignore[index]
        assert after["q"][6] == RESULT  # type: ignore[index]
        # primary keys kept, and new rows get fresh ids (PostgreSQL sequences reset)
        with dst.Session() as s:
            s.add(Question(token="tok-new", text="新问题"))
            s.add(QueueItem(title="新事项"))
            s.add(StaffUser(username="new", password_hash="x", role="viewer"))
            s.commit()
            new_q = s.scalars(select(Question).where(Question.token == "tok-new")).one()
            assert new_q.id > max(int(before["q"][0]), 2)  # type: ignore[index]
    finally:
        dst.engine.dispose()


@pytest.fixture
def pg_url() -> Iterator[str]:
    yield from pg_schema()


@pytest.mark.postgres
def test_sqlite_backup_restores_into_postgresql(settings: Settings, pg_url: str, tmp_path: Path) -> None:
    _round_trip(settings.db.url, pg_url, tmp_path, settings)


@pytest.mark.postgres
def test_postgresql_backup_restores_into_sqlite(settings: Settings, pg_url: str, tmp_path: Path) -> None:
    _round_trip(pg_url, f"sqlite:///{tmp_path / 'restored.db'}", tmp_path, settings)


def test_sqlite_to_sqlite_round_trip(settings: Settings, tmp_path: Path) -> None:
    _round_trip(settings.db.url, f"sqlite:///{tmp_path / 'restored.db'}", tmp_path, settings)


def _rewrite_manifest(archive: Path, out: Path, **changes: object) -> None:
    with tarfile.open(archive, "r:gz") as src, tarfile.open(out, "w:gz") as dst:
        for m in src.getmembers():
            data = src.extractfile(m).read()  # type: ignore[union-attr]
            if m.name == "manifest.json":
                manifest = json.loads(data)
                manifest.update(changes)
                data = json.dumps(manifest).encode()
                m.size = len(data)
            dst.addfile(m, io.BytesIO(data))


def test_revision_mismatch_is_refused(settings: Settings, tmp_path: Path) -> None:
    src = _seed(settings)
    archive = tmp_path / "b.tar.gz"
    create_backup(src.engine, settings.corpus.corpus_dir / "curated", archive)
    old = tmp_path / "old.tar.gz"
    _rewrite_manifest(archive, old, alembic_revision="0004")
    dst = AssistantService(settings.evolve(database_url=f"sqlite:///{tmp_path / 'dst.db'}"))
    dst.migrate()
    with pytest.raises(BackupError) as exc:
        restore_backup(dst.engine, old, settings.corpus.corpus_dir / "curated")
    assert exc.value.code == "revision_mismatch"
    assert "0004" in exc.value.message and "不一致" in exc.value.message
    assert sum(row_counts(dst.engine).values()) == 0


def test_backup_of_an_old_schema_is_refused(settings: Settings, tmp_path: Path) -> None:
    svc = AssistantService(settings)
    from assistant.db.migrate import upgrade

    upgrade(svc.engine, "0002")
    with pytest.raises(BackupError) as exc:
        create_backup(svc.engine, settings.corpus.corpus_dir / "curated", tmp_path / "b.tar.gz")
    assert exc.value.code == "not_head" and "assistant db upgrade" in exc.value.message
    assert not (tmp_path / "b.tar.gz").exists()


def test_non_empty_target_needs_yes(settings: Settings, tmp_path: Path) -> None:
    src = _seed(settings)
    archive = tmp_path / "b.tar.gz"
    create_backup(src.engine, settings.corpus.corpus_dir / "curated", archive)
    counts = row_counts(src.engine)
    with src.Session() as s:  # a row the backup does not have
        s.add(Question(token="tok-later", text="备份之后的问题"))
        s.commit()
    with pytest.raises(BackupError) as exc:
        restore_backup(src.engine, archive, settings.corpus.corpus_dir / "curated")
    assert exc.value.code == "target_not_empty" and "--yes" in exc.value.message
    assert row_counts(src.engine)["questions"] == counts["questions"] + 1

    # a curated folder that differs is also refused, then replaced (the old one kept aside) with force
    curated = settings.corpus.corpus_dir / "curated"
    (curated / "extra.yaml").write_text("- id: x\n", encoding="utf-8")
    info = restore_backup(src.engine, archive, curated, force=True)
    assert info.truncated and info.curated == "replaced"
    assert row_counts(src.engine) == counts
    assert not (curated / "extra.yaml").exists()
    assert info.curated_backup_dir is not None and (info.curated_backup_dir / "extra.yaml").exists()
    with src.Session() as s:
        assert s.scalar(select(Question).where(Question.token == "tok-later")) is None


def test_cli_round_trip(cli_env: dict[str, str], settings: Settings, tmp_path: Path,
                        monkeypatch: pytest.MonkeyPatch) -> None:
    src = _seed(settings)
    counts = row_counts(src.engine)
    src.engine.dispose()
    archive = tmp_path / "cli.tar.gz"
    runner = CliRunner()
    res = runner.invoke(main, ["backup", "create", "--out", str(archive)])
    assert res.exit_code == 0, res.output
    assert "备份已写入" in res.output and "questions 2" in res.output

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli-restored.db'}")
    res = runner.invoke(main, ["backup", "restore", str(archive)])
    assert res.exit_code == 0, res.output
    assert "已恢复备份" in res.output and "assistant index build" in res.output
    assert "与备份一致" in res.output

    res = runner.invoke(main, ["backup", "restore", str(archive)])
    assert res.exit_code == 2
    assert "不是空的" in res.output and "--yes" in res.output
    res = runner.invoke(main, ["backup", "restore", str(archive), "--yes"])
    assert res.exit_code == 0, res.output
    assert "已先清空目标数据库" in res.output

    dst = AssistantService(settings.evolve(database_url=f"sqlite:///{tmp_path / 'cli-restored.db'}"))
    try:
        assert row_counts(dst.engine) == counts
        with dst.Session() as s:
            assert s.scalars(select(StaffUser.username)).all() == ["admin"]
            d = s.scalars(select(Document).where(Document.promulgated.is_not(None))).first()
            assert d is not None and isinstance(d.promulgated, date)
    finally:
        dst.engine.dispose()

    res = runner.invoke(main, ["backup", "restore", str(tmp_path / "missing.tar.gz")])
    assert res.exit_code == 2 and "找不到备份文件" in res.output
