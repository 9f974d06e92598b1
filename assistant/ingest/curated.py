"""Curated Q&A entries written by the bureau (``corpus/curated/*.yaml``).

Format — a YAML list of entries::

    - id: pwxk-001                      # stable, unique
      question: 排污许可证的有效期是几年？
      paraphrases: [排污证能用几年, …]   # how enterprise staff actually type it
      answer: |                         # our own words; small allowlisted markup only
        …
      citations: [排污许可管理条例#14]   # <title>#<article>
      category: 排污许可
      lead_unit: 环评处                  # 牵头处室
      audience: 企业
      reviewed: 2026-11-27
      status: published                 # draft | published | retired
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from .base import IngestError

REQUIRED = ("id", "question", "answer", "category")
STATUSES = ("draft", "published", "retired")


@dataclass
class CuratedEntry:
    """One curated answer as read from the corpus (or created by staff)."""

    id: str
    question: str
    answer: str
    paraphrases: list[str] = field(default_factory=list)
    citations: list[str] = field(default_factory=list)
    category: str = ""
    lead_unit: str = ""
    audience: str = ""
    reviewed: date | None = None
    status: str = "published"
    kind: str = "curated"
    origin: str = ""
    line: int | None = None

    def fingerprint(self) -> str:
        payload = json.dumps([self.question, self.paraphrases, self.answer, self.citations, self.category,
                              self.lead_unit, self.audience, str(self.reviewed), self.status, self.kind],
                             ensure_ascii=False)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class _NoDatesLoader(yaml.SafeLoader):
    """SafeLoader that leaves timestamps as strings, so one bad date fails one entry, not the file."""


_NoDatesLoader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _as_list(value: Any, path: Path, line: int, name: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, (str, int)) for v in value):
        return [str(v).strip() for v in value if str(v).strip()]
    raise IngestError(str(path), f"字段 {name} 应为字符串列表", line=line)


def parse_curated(path: Path) -> list[CuratedEntry | IngestError]:
    """Parse one YAML file; every bad entry becomes an :class:`IngestError` naming file and line."""
    try:
        text = path.read_text(encoding="utf-8")
        root = yaml.compose(text)
    except UnicodeDecodeError:
        return [IngestError(str(path), "文件不是 UTF-8 编码", line=1)]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return [IngestError(str(path), f"YAML 语法错误：{getattr(exc, 'problem', exc)}",
                            line=(mark.line + 1) if mark is not None else None)]
    if root is None:
        return []
    if not isinstance(root, yaml.SequenceNode):
        return [IngestError(str(path), "文件顶层应为条目列表（每条以“- id:”开头）", line=root.start_mark.line + 1)]
    out: list[CuratedEntry | IngestError] = []
    try:
        loader_data = yaml.load(text, Loader=_NoDatesLoader)  # dates stay strings: checked per entry below
    except (yaml.YAMLError, ValueError) as exc:
        return [IngestError(str(path), f"YAML 无法解析：{exc}", line=root.start_mark.line + 1)]
    for node, raw in zip(root.value, loader_data):
        line = node.start_mark.line + 1
        if not isinstance(raw, dict):
            out.append(IngestError(str(path), "条目应为键值表", line=line))
            continue
        missing = [k for k in REQUIRED if not str(raw.get(k) or "").strip()]
        if missing:
            out.append(IngestError(str(path), f"条目缺少必填字段：{', '.join(missing)}", line=line))
            continue
        status = str(raw.get("status") or "published")
        if status not in STATUSES:
            out.append(IngestError(str(path), f"status 应为 {'/'.join(STATUSES)}，实为 {status!r}", line=line))
            continue
        reviewed = raw.get("reviewed")
        if reviewed is not None and not isinstance(reviewed, date):
            try:
                reviewed = date.fromisoformat(str(reviewed))
            except ValueError:
                out.append(IngestError(str(path), f"reviewed 日期格式应为 YYYY-MM-DD：{reviewed!r}", line=line))
                continue
        try:
            entry = CuratedEntry(
                id=str(raw["id"]).strip(), question=str(raw["question"]).strip(), answer=str(raw["answer"]).strip(),
                paraphrases=_as_list(raw.get("paraphrases"), path, line, "paraphrases"),
                citations=_as_list(raw.get("citations"), path, line, "citations"),
                category=str(raw.get("category") or ""), lead_unit=str(raw.get("lead_unit") or ""),
                audience=str(raw.get("audience") or ""), reviewed=reviewed, status=status,
                kind=str(raw.get("kind") or "curated"), origin=f"file:{path.name}", line=line,
            )
        except IngestError as exc:
            out.append(exc)
            continue
        out.append(entry)
    return out
