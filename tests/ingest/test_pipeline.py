"""``ingest_paths`` against a real database (SQLite and PostgreSQL): storage, idempotency, updates, errors."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import INVALID, PWXK, REAL_SHARED, WFZY, fixture_paths
from sqlalchemy import func, select

from assistant.config import Settings
from assistant.db.models import CuratedAnswer, Document, Passage
from assistant.ingest.pipeline import IngestReport, iter_files
from assistant.service import AssistantService

N_DOCS = 7  # 3 laws + 1 local regulation + 3 mailbox letters
N_PASSAGES = 8 + 6 + 3 + 4 + 3
N_CURATED = 4


@pytest.fixture
def svc(db_settings: Settings) -> Iterator[AssistantService]:
    s = AssistantService(db_settings)
    s.migrate()
    try:
        yield s
    finally:
        s.engine.dispose()


def _count(svc: AssistantService, model: type) -> int:
    with svc.Session() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def _passages(svc: AssistantService, title: str) -> dict[str, str]:
    with svc.Session() as s:
        doc = s.scalar(select(Document).where(Document.title == title))
        assert doc is not None
        return {p.id: p.text for p in doc.passages}


def test_first_ingest_stores_everything(svc: AssistantService, db_settings: Settings) -> None:
    report = svc.ingest(fixture_paths(db_settings))
    assert (report.added, report.updated, report.unchanged) == (N_DOCS, 0, 0)
    assert report.passages == N_PASSAGES
    assert report.curated_added == N_CURATED
    assert report.changed
    assert _count(svc, Document) == N_DOCS
    assert _count(svc, Passage) == N_PASSAGES
    assert _count(svc, CuratedAnswer) == N_CURATED
    assert set(_passages(svc, PWXK)) == {f"{PWXK}#{n}" for n in (1, 2, 3, 4, 5, 14, 120, 121)}
    assert f"{WFZY}#6" in _passages(svc, WFZY)
    with svc.Session() as s:
        kinds = dict(s.execute(select(Document.title, Document.kind)).all())
        statuses = dict(s.execute(select(Document.title, Document.status)).all())
    assert kinds[PWXK] == "行政法规" and kinds[WFZY] == "部门规章"
    assert sum(1 for k in kinds.values() if k == "官方答复") == 3
    assert statuses["中华人民共和国环境噪声污染防治法"] == "已废止"


def test_mailbox_bad_line_reported_with_file_and_line(svc: AssistantService, db_settings: Settings) -> None:
    mailbox = db_settings.corpus.shared_data / "official_replies" / "mee_mailbox.jsonl"
    report = svc.ingest([mailbox])
    assert report.added == 3
    [err] = report.errors
    assert err.path == str(mailbox) and err.line == 4
    d = report.as_dict()
    assert d["errors"] == [{"code": "ingest_error", "file": str(mailbox), "line": 4, "message": err.message}]


def test_reingest_is_idempotent(svc: AssistantService, db_settings: Settings) -> None:
    svc.ingest(fixture_paths(db_settings))
    with svc.Session() as s:
        ids_before = sorted(s.scalars(select(Passage.id)))
        doc_ids_before = sorted(s.scalars(select(Document.id)))
    second = svc.ingest(fixture_paths(db_settings))
    assert (second.added, second.updated, second.unchanged) == (0, 0, N_DOCS)
    assert second.passages == 0
    assert (second.curated_added, second.curated_updated, second.curated_unchanged) == (0, 0, N_CURATED)
    assert not second.changed and second.status_changed == []
    assert _count(svc, Document) == N_DOCS
    assert _count(svc, Passage) == N_PASSAGES
    with svc.Session() as s:
        assert sorted(s.scalars(select(Passage.id))) == ids_before
        assert sorted(s.scalars(select(Document.id))) == doc_ids_before
        assert s.scalar(select(func.count(func.distinct(Document.title)))) == N_DOCS
        assert set(s.scalars(select(CuratedAnswer.version))) == {1}


def test_changed_file_replaces_its_passages(svc: AssistantService, db_settings: Settings) -> None:
    svc.ingest(fixture_paths(db_settings))
    law = db_settings.corpus.shared_data / "laws" / f"{PWXK}.md"
    text = law.read_text(encoding="utf-8")
    text = text.replace("排污许可证的有效期为五年。", "排污许可证的有效期为三年。")
    text = text[: text.index("第一百二十一条")]  # drop the last article
    law.write_text(text, encoding="utf-8")
    report = svc.ingest(fixture_paths(db_settings))
    assert (report.added, report.updated, report.unchanged) == (0, 1, N_DOCS - 1)
    assert report.passages == 7
    assert report.status_changed == []
    passages = _passages(svc, PWXK)
    assert f"{PWXK}#121" not in passages
    assert passages[f"{PWXK}#14"].startswith("排污许可证的有效期为三年。")
    assert _count(svc, Passage) == N_PASSAGES - 1
    assert _count(svc, Document) == N_DOCS


def test_status_change_is_reported(svc: AssistantService, db_settings: Settings) -> None:
    svc.ingest(fixture_paths(db_settings))
    laws = db_settings.corpus.shared_data / "laws"
    (laws / f"{PWXK}.md").rename(laws / f"{PWXK}(已废止2030修订).md")
    report = svc.ingest(fixture_paths(db_settings))
    assert report.status_changed == [PWXK]
    assert report.updated == 1
    with svc.Session() as s:
        doc = s.scalar(select(Document).where(Document.title == PWXK))
        assert doc is not None and doc.status == "已废止"
    assert _count(svc, Document) == N_DOCS
    assert report.as_dict()["status_changed"] == [PWXK]


def test_curated_change_bumps_version(svc: AssistantService, db_settings: Settings) -> None:
    svc.ingest(fixture_paths(db_settings))
    f = db_settings.corpus.corpus_dir / "curated" / "pwxk.yaml"
    f.write_text(f.read_text(encoding="utf-8").replace("至少保存十年", "至少保存十五年"), encoding="utf-8")
    report = svc.ingest([f])
    assert (report.curated_added, report.curated_updated, report.curated_unchanged) == (0, 1, N_CURATED - 1)
    with svc.Session() as s:
        row = s.get(CuratedAnswer, "fx-wf-001")
        assert row is not None and row.version == 2 and "十五年" in row.answer


def test_curated_missing_field_reported_rest_stored(svc: AssistantService) -> None:
    path = INVALID / "missing_field.yaml"
    report = svc.ingest([path])
    assert report.curated_added == 1
    [err] = report.errors
    assert err.path == str(path) and err.line == 5 and "answer" in err.message
    with svc.Session() as s:
        assert s.get(CuratedAnswer, "mf-001") is not None
        assert s.get(CuratedAnswer, "mf-002") is None


def test_broken_yaml_reported(svc: AssistantService, db_settings: Settings) -> None:
    report = svc.ingest([INVALID / "broken.yaml", db_settings.corpus.corpus_dir / "curated"])
    assert report.curated_added == N_CURATED
    assert [(e.path, e.line) for e in report.errors] == [(str(INVALID / "broken.yaml"), 4)]


def test_duplicate_curated_id_across_files(svc: AssistantService, db_settings: Settings) -> None:
    first = db_settings.corpus.corpus_dir / "curated" / "pwxk.yaml"
    dup = INVALID / "duplicate_id.yaml"
    report = svc.ingest([first, dup])
    [err] = report.errors
    assert err.path == str(dup) and err.line == 1
    assert "fx-pwxk-001" in err.message and str(first) in err.message
    with svc.Session() as s:
        row = s.get(CuratedAnswer, "fx-pwxk-001")
        assert row is not None and row.question == "排污许可证的有效期是几年？"  # the first file's entry kept


def test_duplicate_curated_id_within_one_file(svc: AssistantService, tmp_path: Path) -> None:
    f = tmp_path / "dup.yaml"
    f.write_text("- id: d-1\n  question: 第一问\n  answer: 甲\n  category: c\n"
                 "- id: d-1\n  question: 第二问\n  answer: 乙\n  category: c\n", encoding="utf-8")
    first = svc.ingest([f])
    second = svc.ingest([f])
    assert [e.line for e in first.errors] == [5]
    assert second.curated_updated == 0


def test_missing_and_unsupported_files(svc: AssistantService, tmp_path: Path) -> None:
    other = tmp_path / "notes.txt"
    other.write_text("x", encoding="utf-8")
    report = svc.ingest([tmp_path / "nope.md", other])
    assert [e.message for e in report.errors] == ["文件不存在", "不支持的文件类型：.txt"]
    assert not report.changed


def test_iter_files_skips_indexes_and_unsupported(tmp_path: Path) -> None:
    for name in ("a.md", "README.md", "INDEX.tsv", "b.txt", "sub/c.jsonl", "sub/d.yml", "e.pdf"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x", encoding="utf-8")
    assert [p.relative_to(tmp_path).as_posix() for p in iter_files([tmp_path])] == [
        "a.md", "e.pdf", "sub/c.jsonl", "sub/d.yml"]


def test_scanned_pdf_in_ingest_path(settings: Settings, tmp_path: Path) -> None:
    """SQLite only: a scan among regulation files yields a ``no_text_layer`` error; the rest still ingests."""
    scan = REAL_SHARED / "standards" / "GB-8978-1996.pdf"
    if not scan.is_file():
        pytest.skip(f"{scan} missing")
    folder = tmp_path / "mixed"
    shutil.copytree(settings.corpus.shared_data / "laws", folder)
    shutil.copy(scan, folder / scan.name)
    svc = AssistantService(settings)
    svc.migrate()
    report: IngestReport = svc.ingest([folder])
    assert report.added == 3
    [err] = report.as_dict()["errors"]  # type: ignore[misc]
    assert err["code"] == "no_text_layer"
    assert err["file"] == str(folder / scan.name)
    assert _count(svc, Document) == 3
    svc.engine.dispose()
