"""Curated YAML entries."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from conftest import CORPUS_FIXTURES, INVALID, PWXK

from assistant.ingest.base import IngestError
from assistant.ingest.curated import CuratedEntry, parse_curated


def test_fixture_entries_parse() -> None:
    out = parse_curated(CORPUS_FIXTURES / "curated" / "pwxk.yaml")
    assert all(isinstance(e, CuratedEntry) for e in out)
    entries = {e.id: e for e in out if isinstance(e, CuratedEntry)}
    assert set(entries) == {"fx-pwxk-001", "fx-pwxk-002", "fx-wf-001", "fx-draft-001"}
    e = entries["fx-pwxk-001"]
    assert e.paraphrases == ["排污证能用几年", "排污许可证多久要续期"]
    assert e.citations == [f"{PWXK}#14"]
    assert e.reviewed == date(2026, 11, 27)
    assert e.origin == "file:pwxk.yaml" and e.line == 1
    assert entries["fx-draft-001"].status == "draft"


def test_missing_field_names_file_and_line() -> None:
    path = INVALID / "missing_field.yaml"
    out = parse_curated(path)
    assert isinstance(out[0], CuratedEntry)
    err = out[1]
    assert isinstance(err, IngestError)
    assert err.path == str(path) and err.line == 5
    assert "answer" in err.message
    assert f"{path}:5" in str(err)


def test_broken_yaml_is_one_error_with_line() -> None:
    path = INVALID / "broken.yaml"
    [err] = parse_curated(path)
    assert isinstance(err, IngestError)
    assert err.path == str(path) and err.line == 4
    assert "YAML" in err.message


@pytest.mark.parametrize(
    ("body", "message"),
    [("id: x\nquestion: q\n", "顶层应为条目列表"),
     ("- id: x\n  question: q\n  answer: a\n  category: c\n  status: 上线\n", "status"),
     ("- id: x\n  question: q\n  answer: a\n  category: c\n  reviewed: 去年\n", "reviewed"),
     ("- id: x\n  question: q\n  answer: a\n  category: c\n  citations: {a: 1}\n", "citations"),
     ("- 只是一个字符串\n", "键值表")],
)
def test_invalid_entries(tmp_path: Path, body: str, message: str) -> None:
    f = tmp_path / "c.yaml"
    f.write_text(body, encoding="utf-8")
    [err] = parse_curated(f)
    assert isinstance(err, IngestError)
    assert message in err.message and err.line == 1


def test_empty_file_is_no_entries(tmp_path: Path) -> None:
    f = tmp_path / "c.yaml"
    f.write_text("# nothing yet\n", encoding="utf-8")
    assert parse_curated(f) == []


def test_impossible_date_is_an_entry_error_not_a_file_crash() -> None:
    path = INVALID / "bad_date.yaml"
    out = parse_curated(path)
    assert isinstance(out[0], CuratedEntry) and out[0].id == "bd-001"
    assert isinstance(out[1], IngestError) and out[1].line == 5 and "reviewed" in out[1].message


def test_fingerprint_tracks_content() -> None:
    a = CuratedEntry(id="x", question="q", answer="a", category="c")
    b = CuratedEntry(id="x", question="q", answer="a", category="c", line=9, origin="file:y")
    assert a.fingerprint() == b.fingerprint()
    assert a.fingerprint() != CuratedEntry(id="x", question="q", answer="a2", category="c").fingerprint()
