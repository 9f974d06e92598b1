"""``assistant corpus check``: the shipped corpus passes; dangling, repealed and duplicate entries fail clearly."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import DATA, REAL_SHARED, REPO

from assistant.cli import main
from assistant.config import Settings
from assistant.corpus.check import check_corpus
from assistant.service import AssistantService

BAD = DATA / "curated_bad"


def test_faulty_corpus_is_reported(service: AssistantService) -> None:
    with service.Session() as s:
        rep = check_corpus(s, BAD)
    codes = {(p.code, p.entry) for p in rep.errors}
    assert ("dangling_citation", "bad-001") in codes
    assert ("repealed_citation", "bad-002") in codes
    assert any(code == "duplicate_question" for code, _ in codes)
    assert not rep.ok
    dangling = next(p for p in rep.errors if p.code == "dangling_citation")
    assert "排污许可管理条例#999" in dangling.message and dangling.line == 3 and dangling.file.endswith("bad.yaml")
    # the valid citation of the same entry is not reported
    assert not any("排污许可管理条例#14" in p.message for p in rep.errors)


def test_fixture_corpus_citations_resolve_and_short_answers_are_flagged(service: AssistantService) -> None:
    with service.Session() as s:
        rep = check_corpus(s, service.settings.corpus.corpus_dir / "curated")
    # every fixture citation resolves to an in-force article; the two deliberately terse answers break the bound
    assert {p.code for p in rep.errors} == {"answer_length"}
    assert len(rep.errors) == 2 and all("40–1200" in p.message for p in rep.errors)
    assert rep.entries >= 3 and rep.citations >= 3


def test_cli_fails_with_message_and_json(cli_env: dict[str, str], settings: Settings) -> None:
    runner = CliRunner()
    runner.invoke(main, ["ingest", str(settings.corpus.shared_data / "laws"), "--json"])
    res = runner.invoke(main, ["corpus", "check", "--dir", str(BAD), "--json"])
    assert res.exit_code == 1
    body = json.loads(res.stdout)
    assert {"entries", "citations", "errors"} <= set(body)
    assert body["entries"] == 3 and body["citations"] == 4
    assert {e["code"] for e in body["errors"]} >= {"dangling_citation", "repealed_citation", "duplicate_question"}
    text = runner.invoke(main, ["corpus", "check", "--dir", str(BAD)])
    assert text.exit_code == 1 and "引用了已废止的文件" in text.output


def _one_entry(folder: Path, entry: str, citations: list[str], extra: str = "") -> Path:
    """A curated folder holding one permit-validity entry with ``citations`` (``extra``: further YAML fields)."""
    folder.mkdir()
    (folder / "a.yaml").write_text(
        f"- id: {entry}\n  question: 排污许可证有效期多久？\n  paraphrases: [排污证几年, 排污证有效期, 排污证多久过期]\n"
        "  answer: 排污许可证有效期为五年，届满需要继续排污的，应当在届满前六十日申请延续，逾期按无证排污处理。\n"
        f"  citations: {citations!r}\n  category: 排污许可\n{extra}", "utf-8")
    return folder


def test_amended_document_lists_entries_for_review(service: AssistantService, tmp_path: Path) -> None:
    folder = _one_entry(tmp_path / "cur", "rv-001", ["排污许可管理条例#14"], "  reviewed: 2020-01-01\n")
    with service.Session() as s:
        assert check_corpus(s, folder).review == []
    law = service.settings.corpus.shared_data / "laws" / "排污许可管理条例.md"
    law.write_text(law.read_text("utf-8").replace("有效期为五年", "有效期为五年（修订）"), "utf-8")
    import time

    time.sleep(1.1)
    report = service.ingest([law])
    assert report.updated == 1
    with service.Session() as s:
        rep = check_corpus(s, folder)
    assert [r["entry"] for r in rep.review] == ["rv-001"]


@pytest.mark.skipif(not REAL_SHARED.exists(), reason="../shared/data not present")
def test_shipped_corpus_passes_against_real_regulations(tmp_path: Path) -> None:
    s = Settings().evolve(database_url=f"sqlite:///{tmp_path / 'a.db'}", index_dir=tmp_path / "ix",
                corpus_dir=REPO / "corpus", shared_data=REAL_SHARED, encoder="none")
    svc = AssistantService(s)
    svc.migrate()
    # what the service ships besides the standards: a curated answer may cite a ministry reply (部长信箱答复)
    svc.ingest([REAL_SHARED / "laws", REAL_SHARED / "zhejiang", REAL_SHARED / "catalogs",
                REAL_SHARED / "official_replies"])
    with svc.Session() as sess:
        rep = check_corpus(sess, REPO / "corpus" / "curated")
    svc.engine.dispose()
    assert rep.ok, [p.as_dict() for p in rep.errors][:5]
    assert rep.entries >= 150 and rep.citations >= 300
    shutil.rmtree(tmp_path / "ix", ignore_errors=True)


def test_held_out_paraphrases_stay_apart_from_their_entries_wordings() -> None:
    """The held-out questions (the curated "test" of scripts/eval_curated.py) are new words: none equals, contains or
    is contained in a wording of its own entry, and none is a wording of any entry — so adding wordings to the
    corpus can never copy a held-out question into it."""
    from assistant.corpus.check import load_entries
    from assistant.text.normalize import normalize

    def norm(t: str) -> str:
        return "".join(ch for ch in normalize(t) if ch.isalnum())

    entries, errors = load_entries(REPO / "corpus" / "curated")
    assert not errors
    wordings = {e.id: [norm(w) for w in (e.question, *e.paraphrases)] for e in entries}
    everything = {w for ws in wordings.values() for w in ws}
    rows = [json.loads(line) for line in (DATA / "curated_heldout.jsonl").read_text("utf-8").splitlines() if line]
    assert len(rows) >= 90
    for r in rows:
        q = norm(r["query"])
        assert r["entry_id"] in wordings, r
        assert q not in everything, r
        clash = [w for w in wordings[r["entry_id"]] if q in w or w in q]
        assert not clash, (r, clash)


def test_the_same_article_cited_twice_in_one_entry_is_a_warning(service: AssistantService, tmp_path: Path) -> None:
    """Under 依据 it would show twice; an editor adding an article the entry already cites is told so."""
    folder = _one_entry(tmp_path / "dup", "dc-001", ["排污许可管理条例#14", "排污许可管理条例#14"])
    with service.Session() as s:
        rep = check_corpus(s, folder)
    dup = [p for p in rep.warnings if p.code == "duplicate_citation"]
    assert [(p.entry, p.message) for p in dup] == [("dc-001", "同一条文引用了多次：排污许可管理条例#14")]
    assert rep.ok  # a warning, not an error
