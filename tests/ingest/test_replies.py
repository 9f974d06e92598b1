"""The ministry mailbox JSONL (官方答复)."""

from __future__ import annotations

from pathlib import Path

from conftest import SHARED_FIXTURES

from assistant.ingest.base import IngestError, ParsedDocument
from assistant.ingest.replies import parse_mailbox

MAILBOX = SHARED_FIXTURES / "official_replies" / "mee_mailbox.jsonl"


def test_good_lines_become_documents_and_bad_line_is_reported() -> None:
    out = list(parse_mailbox(MAILBOX))
    docs = [x for x in out if isinstance(x, ParsedDocument)]
    errors = [x for x in out if isinstance(x, IngestError)]
    assert len(docs) == 3
    assert len(errors) == 1
    assert errors[0].path == str(MAILBOX) and errors[0].line == 4
    assert f"{MAILBOX}:4" in str(errors[0])


def test_document_shape() -> None:
    doc = next(x for x in parse_mailbox(MAILBOX) if isinstance(x, ParsedDocument))
    assert doc.title == "部长信箱·关于排污登记是否需要领证的回复（fx-001）"
    assert doc.kind == "官方答复"
    assert doc.extra["record_id"] == "fx-001"
    [p] = doc.passages
    assert p.key == "1" and p.line == 1 and p.heading == "一、排污许可"
    assert p.text.startswith("来信：我公司只做简单组装") and "\n答复：实行登记管理" in p.text


def test_missing_reply_and_missing_key(tmp_path: Path) -> None:
    f = tmp_path / "m.jsonl"
    f.write_text('{"id": "a", "title": "t", "question": "q", "answer": " "}\n\n'
                 '{"id": "b", "title": "t", "question": "q"}\n'
                 '[1, 2]\n'
                 '{"id": "c", "title": "t", "question": "q", "answer": "好"}\n', encoding="utf-8")
    out = list(parse_mailbox(f))
    assert [(type(x).__name__, getattr(x, "line", None)) for x in out] == [
        ("IngestError", 1), ("IngestError", 3), ("IngestError", 4), ("ParsedDocument", None)]
