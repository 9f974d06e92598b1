"""Whom a standard's limits apply to, for questions that ask for a limit value.

A sector standard (城镇污水处理厂, 锅炉, 铸造, 饮食业) binds only its sector, and a topic standard (噪声, 电磁,
无组织 VOCs) only its topic; the comprehensive standards (GB 8978, GB 16297) apply where no sector standard does — the
two are not applied to the same source (综合标准与行业标准不交叉执行). So "新建企业 COD 一级标准" is answered from
GB 8978, not from the municipal sewage plants' table, unless the question names a sewage plant. The team's table
``corpus/limits/scopes.tsv`` lists each scoped standard with the words that name its sector or topic; when a limit
question names none of them, the standard's tables and their rows are left out of that question's ranking (its
clauses stay). The comprehensive standards are listed by medium (水 / 气): they stay unless the question names the
other medium and not theirs ("甲苯 废水" is not answered from the air standard's table).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..ingest.limits import is_table

#: a comprehensive standard's kind in the table: it applies anywhere, unless the question names only another medium
MEDIUM = "介质"
SCOPES_FILE = Path(__file__).resolve().parents[2] / "corpus" / "limits" / "scopes.tsv"


@dataclass(frozen=True)
class Scope:
    code: str  # "GB 18918-2002"
    kind: str  # 行业 / 专项 / 介质 (a comprehensive standard, by the medium it covers)
    words: tuple[str, ...]

    def applies(self, text: str) -> bool:
        low = text.lower()
        return any(w.lower() in low for w in self.words)


def parse_scopes(text: str) -> tuple[Scope, ...]:
    out: list[Scope] = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        code, kind, words = (line.split("\t") + ["", ""])[:3]
        if code.strip() and words.split():
            out.append(Scope(code.strip(), kind.strip(), tuple(words.split())))
    return tuple(out)


@functools.lru_cache(maxsize=4)
def load_scopes(path: Path = SCOPES_FILE) -> tuple[Scope, ...]:
    return parse_scopes(path.read_text(encoding="utf-8")) if path.exists() else ()


def table_positions(items: list[Any], codes: set[str]) -> dict[str, np.ndarray]:
    """Positions of the table and row passages of each standard in ``codes`` (computed once per index)."""
    found: dict[str, list[int]] = {}
    for i, it in enumerate(items):
        title, _, key = it.id.rpartition("#")
        code = " ".join(title.split()[:2])
        if code in codes and is_table(key):
            found.setdefault(code, []).append(i)
    return {c: np.asarray(v, dtype=np.int64) for c, v in found.items()}


def restrict(allow: np.ndarray | None, n: int, positions: dict[str, np.ndarray], scopes: tuple[Scope, ...],
             text: str) -> np.ndarray | None:
    """``allow`` without the tables and rows of the sector and topic standards that ``text`` does not name, and of
    the comprehensive standards whose medium it does not name when it names another's."""
    named_media = {s.code for s in scopes if s.kind == MEDIUM and s.applies(text)}
    drop = [positions[s.code] for s in scopes if s.code in positions and not s.applies(text)
            and (s.kind != MEDIUM or named_media)]
    if not drop:
        return allow
    out = np.ones(n, dtype=bool) if allow is None else allow.copy()
    out[np.concatenate(drop)] = False
    return out
