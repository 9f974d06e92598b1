"""The ministry mailbox (生态环境部部长信箱) letters with replies, as 官方答复 documents."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

from .base import IngestError, ParsedDocument, ParsedPassage

MAILBOX_PREFIX = "部长信箱"
#: a record's passage is "来信：<letter>\n答复：<reply>" (:func:`record_text`)
_REPLY_MARK = re.compile(r"\n答复[:：]")


def record_text(letter: str, reply: str) -> str:
    """The passage of one mailbox record: the letter, then the ministry's reply."""
    return f"来信：{letter.strip()}\n答复：{reply.strip()}"


def split_record(text: str) -> tuple[str, str] | None:
    """(letter, reply) of a record's passage (:func:`record_text`); None when it has no reply mark."""
    parts = _REPLY_MARK.split(text, maxsplit=1)
    if len(parts) != 2:
        return None
    return parts[0].removeprefix("来信：").removeprefix("来信:").strip(), parts[1]


def parse_mailbox(path: Path) -> Iterator[ParsedDocument | IngestError]:
    """One document per letter: title ``部长信箱·<title>``, one passage holding the letter and the reply.

    Bad lines are yielded as :class:`IngestError` (file and line) so the rest still ingests.
    """
    with path.open(encoding="utf-8") as fh:
        for n, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                row = json.loads(raw)
                rid, title, question, reply = row["id"], row["title"], row["question"], row["answer"]
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                yield IngestError(str(path), f"无法解析该行（{type(exc).__name__}: {exc}）", line=n)
                continue
            if not str(reply).strip():
                yield IngestError(str(path), f"{rid} 缺少答复正文", line=n)
                continue
            doc = ParsedDocument(
                title=f"{MAILBOX_PREFIX}·{title}（{rid}）", kind="官方答复", source_path=str(path),
                issuer="生态环境部", extra={"record_id": rid, "chapter": row.get("chapter", ""),
                                            "date": row.get("date", "")},
            )
            text = record_text(str(question), str(reply))
            doc.passages.append(ParsedPassage(key="1", text=text, heading=str(row.get("chapter", "")), line=n))
            yield doc
