"""The ``assistant`` command line, through click's CliRunner with the environment pointing at tmp copies."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from conftest import EVAL, INVALID, NOISE_OLD, PWXK

from assistant.cli import main
from assistant.config import Settings


@pytest.fixture
def runner(cli_env: dict[str, str]) -> CliRunner:
    return CliRunner()


def _json(result) -> dict:  # type: ignore[no-untyped-def]
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_ingest_index_ask(runner: CliRunner, settings: Settings) -> None:
    paths = [str(settings.corpus.shared_data / "laws"), str(settings.corpus.shared_data / "zhejiang"),
             str(settings.corpus.corpus_dir / "curated")]
    first = _json(runner.invoke(main, ["ingest", *paths, "--json"]))
    assert first["documents"] == {"added": 4, "updated": 0, "unchanged": 0}
    assert first["passages_written"] == 21 and first["curated"]["added"] == 4 and first["errors"] == []
    again = _json(runner.invoke(main, ["ingest", *paths, "--json"]))
    assert again["documents"] == {"added": 0, "updated": 0, "unchanged": 4}

    built = _json(runner.invoke(main, ["index", "build", "--json"]))
    assert built["passages"] == 21 and built["vectors"] is True and built["encoder"] == "hash:256"

    ans = _json(runner.invoke(main, ["ask", "排污许可证能用几年", "--json"]))
    assert {"decision", "confidence", "curated", "citations"} <= set(ans)
    assert ans["decision"] == "answer" and ans["curated"]["id"] == "fx-pwxk-001"
    assert f"{PWXK}#14" in [c["id"] for c in ans["citations"]]
    assert ans["meta"]["retrieval_mode"] == "hybrid"


def test_ask_ingests_bundled_corpus_when_empty(runner: CliRunner) -> None:
    ans = _json(runner.invoke(main, ["ask", "排污许可证能用几年", "--json"]))
    assert ans["curated"]["id"] == "fx-pwxk-001"
    text = runner.invoke(main, ["ask", "排污许可证能用几年"])
    assert text.exit_code == 0 and "《排污许可管理条例》第十四条" in text.stdout


def test_ask_with_kind_and_repealed_flags(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    # hash vectors give low confidences: lower the thresholds so that passage citations are shown
    monkeypatch.setenv("ASSISTANT_ANSWER_THRESHOLD", "0")
    monkeypatch.setenv("ASSISTANT_CAUTION_THRESHOLD", "0")
    q = "环境噪声污染超标准排污费"
    default = _json(runner.invoke(main, ["ask", q, "--json"]))
    assert default["citations"] and all(c["status"] != "已废止" for c in default["citations"])
    ans = _json(runner.invoke(main, ["ask", q, "--include-repealed", "--json"]))
    assert ans["citations"][0]["id"] == f"{NOISE_OLD}#16" and ans["citations"][0]["status"] == "已废止"
    assert "已废止" in ans["notice"]
    only = _json(runner.invoke(main, ["ask", "船舶含油污水", "--kind", "地方性法规", "--json"]))
    assert only["citations"] and {c["kind"] for c in only["citations"]} == {"地方性法规"}


@pytest.mark.parametrize(("question", "code"), [("", "empty_question"), ("   ", "empty_question"),
                                                ("问" * 2001, "question_too_long")])
def test_ask_invalid_question_exit_2(runner: CliRunner, question: str, code: str) -> None:
    result = runner.invoke(main, ["ask", question, "--json"])
    assert result.exit_code == 2
    body = json.loads(result.stdout)
    assert body["error_code"] == code and body["message"]


def test_ingest_reports_errors(runner: CliRunner) -> None:
    result = runner.invoke(main, ["ingest", str(INVALID / "broken.yaml"), "--json"])
    assert result.exit_code == 1  # nothing ingested at all
    body = json.loads(result.stdout)
    assert body["errors"][0]["file"] == str(INVALID / "broken.yaml") and body["errors"][0]["line"] == 4
    text = runner.invoke(main, ["ingest", str(INVALID / "missing_field.yaml")])
    assert text.exit_code == 0 and "missing_field.yaml:5" in text.stderr
    usage = runner.invoke(main, ["ingest"])
    assert usage.exit_code == 2


def test_eval(runner: CliRunner) -> None:
    out = _json(runner.invoke(main, ["eval", "--corpus", str(EVAL / "corpus.jsonl"),
                                     "--queries", str(EVAL / "queries.jsonl"), "--json"]))
    assert set(out) == {"all", "dev", "test"}
    assert {"all": 2, "dev": 2, "test": 1} == {k: v["bm25"]["n"] for k, v in out.items()}
    for split in out.values():
        assert set(split) == {"bm25", "dense", "fused"}
        for m in split.values():
            assert {"mrr@10", "recall@1", "recall@5", "recall@10", "n"} <= set(m)
            assert 0 <= m["recall@1"] <= m["recall@5"] <= m["recall@10"] <= 1
    assert out["dev"]["bm25"]["recall@1"] == 1.0 and out["dev"]["bm25"]["mrr@10"] == 1.0
    assert out["all"]["fused"]["recall@10"] == 1.0


def test_eval_split_and_bm25_only(runner: CliRunner) -> None:
    out = _json(runner.invoke(main, ["eval", "--corpus", str(EVAL / "corpus.jsonl"), "--queries",
                                     str(EVAL / "queries.jsonl"), "--split", "dev", "--no-vectors", "--json"]))
    assert set(out) == {"dev"} and set(out["dev"]) == {"bm25"}
    missing = runner.invoke(main, ["eval", "--corpus", "nope.jsonl", "--queries", str(EVAL / "queries.jsonl")])
    assert missing.exit_code == 2 and "nope.jsonl" in missing.output


def test_db_upgrade(runner: CliRunner) -> None:
    result = runner.invoke(main, ["db", "upgrade"])
    assert result.exit_code == 0 and "最新" in result.stdout


def test_ingest_of_a_revised_text_reports_the_change(runner: CliRunner, settings: Settings) -> None:
    law = settings.corpus.shared_data / "laws" / f"{PWXK}.md"
    assert runner.invoke(main, ["ingest", str(law)]).exit_code == 0
    law.write_text(law.read_text(encoding="utf-8").replace("有效期为五年", "有效期为三年"), encoding="utf-8")
    out = runner.invoke(main, ["ingest", str(law)])
    assert out.exit_code == 0, out.output
    assert f"政策速递：《{PWXK}》文本更正" in out.stdout and "修改 1 条" in out.stdout
    assert "assistant index build" in out.stdout
    law.write_text(law.read_text(encoding="utf-8").replace("有效期为三年", "有效期为四年"), encoding="utf-8")
    js = _json(runner.invoke(main, ["ingest", str(law), "--json"]))
    assert [(c["document"], c["kind"], c["changed"]) for c in js["changes"]] == [(PWXK, "文本更正", 1)]
