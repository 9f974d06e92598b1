"""Markdown pipe-table lines, read one way by ingestion, snippets and the document page."""

from __future__ import annotations

from assistant.text.pipes import is_pipe_rule, pipe_cells


def test_rows_rules_and_other_lines() -> None:
    assert pipe_cells("| 2 | 总铬 | 电镀车间 | 0.5 | — |") == ["2", "总铬", "电镀车间", "0.5", "—"]
    assert pipe_cells("| 序号 | 行业类别 | | 最高允许排水量 |") == ["序号", "行业类别", "", "最高允许排水量"]
    assert is_pipe_rule("|---|:---:|---|") and is_pipe_rule(" |---|---| ")
    assert pipe_cells("|---|---|") is None and pipe_cells("表1 现有企业排放限值") is None and pipe_cells("|") is None
    assert not is_pipe_rule("| 1 | 2 |") and not is_pipe_rule("4.1 自本标准实施之日起")
