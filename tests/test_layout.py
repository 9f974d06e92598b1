"""One room per job: no module of the package over 400 lines, no class over 250 (generated migrations excepted)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "assistant"
MAX_MODULE, MAX_CLASS = 400, 250


def _modules() -> list[Path]:
    return [p for p in sorted(PACKAGE.rglob("*.py")) if "migrations" not in p.parts]


def test_the_package_is_read() -> None:
    names = {p.relative_to(PACKAGE).as_posix() for p in _modules()}
    assert {"service.py", "search/lifecycle.py", "questions.py", "channels/wechat/service.py"} <= names


def test_no_module_over_400_lines() -> None:
    long = {p.relative_to(PACKAGE).as_posix(): n for p in _modules()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE}
    assert not long, f"modules over {MAX_MODULE} lines: {long}"


def test_no_class_over_250_lines() -> None:
    big = {}
    for p in _modules():
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and node.end_lineno is not None:
                n = node.end_lineno - node.lineno + 1
                if n > MAX_CLASS:
                    big[f"{p.relative_to(PACKAGE).as_posix()}:{node.name}"] = n
    assert not big, f"classes over {MAX_CLASS} lines: {big}"
