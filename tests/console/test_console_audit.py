"""The audit log in the console reads in Chinese: every action code the service writes has a label, and before/after
are ``字段：值`` lines (statuses, roles and agenda states by their labels, ids as #n, lists joined), not raw JSON."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from console_support import ConsoleEnv, console_env  # noqa: F401

from assistant.console.audit_view import ACTIONS, FIELDS, lines, target_label, value_text
from assistant.domain import Actor, audit

PACKAGE = Path(__file__).resolve().parents[2] / "assistant"


def _written_actions() -> set[str]:
    """The action codes the package passes to domain.audit (literal, or f"agenda_{action}" with its actions)."""
    found: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "audit" and len(node.args) >= 3:
                arg = node.args[2]
                if isinstance(arg, ast.Constant):
                    found.add(arg.value)
                elif isinstance(arg, ast.IfExp):
                    found |= {arg.body.value, arg.orelse.value}  # type: ignore[attr-defined]
                elif isinstance(arg, ast.JoinedStr):
                    found |= {f"agenda_{a}" for a in ("pin", "exclude", "restore", "up", "down", "topic")}
    return found


def test_every_action_written_has_a_chinese_label() -> None:
    written = _written_actions()
    assert {"login", "assign", "publish", "agenda_freeze", "consult_invite"} <= written  # the scan found them
    assert written - set(ACTIONS) == set()
    assert all(re.search(r"[\u4e00-\u9fff]", label) for label in ACTIONS.values())


def test_values_in_words() -> None:
    assert value_text("status", "published", "queue:3") == "已发布"
    assert value_text("status", "frozen", "consult:2") == "议程已冻结"
    assert value_text("status", "retired", "curated:q-1") == "已停用"
    assert value_text("role", "district") != "district" and value_text("state", "excluded") == "已移出"
    assert value_text("items", [3, 12]) == "#3、#12" and value_text("new_item", 7) == "#7"
    assert value_text("active", False) == "停用" and value_text("attended", True) == "已到场"
    assert value_text("assigned_to", "") == "（空）" and value_text("citations", []) == "（空）"
    assert target_label("consult:4:19") == "咨询日 #4 · 问题 #19" and target_label("queue:8") == "问题 #8"
    assert [(x.label, x.value) for x in lines({"status": "new", "count": 2}, "queue:1")] == \
        [("状态", "新问题"), ("提问次数", "2")]
    assert set(FIELDS.values()) and all(re.search(r"[\u4e00-\u9fff]", v) for v in FIELDS.values())


def test_audit_page_shows_labels_and_field_lines(console_env: ConsoleEnv) -> None:  # noqa: F811
    env = console_env
    who = Actor("admin", "admin", "", "127.0.0.1")
    with env.svc.Session() as s:
        audit(s, who, "agenda_freeze", "consult:77", {"status": "planned"}, {"status": "frozen", "items": [5, 9]})
        audit(s, who, "assign", "queue:78", {"status": "new", "assigned_unit": "", "title": "<b>同一标题</b>"},
              {"status": "assigned", "assigned_unit": "水处", "title": "<b>同一标题</b>"})
        s.commit()
    html = env.client("admin").get("/console/audit?target=consult:77").get_data(as_text=True)
    row = html.split('data-testid="audit-row"', 1)[1]
    assert 'data-testid="audit-action">冻结议程<' in row and "咨询日 #77" in row
    assert "<dt>状态：</dt><dd>筹备中</dd>" in row and "<dt>状态：</dt><dd>议程已冻结</dd>" in row
    assert "<dt>议程问题：</dt><dd>#5、#9</dd>" in row
    assert "&#34;" not in row and "{" not in row.split("</tr>")[0]  # no JSON
    html = env.client("admin").get("/console/audit?target=queue:78").get_data(as_text=True)
    row = html.split('data-testid="audit-row"', 1)[1].split("</tr>")[0]
    before = row.split('data-testid="audit-before"', 1)[1].split('data-testid="audit-after"')[0]
    assert "<dt>分派处室：</dt><dd>（空）</dd>" in before and "<dt>状态：</dt><dd>新问题</dd>" in before
    assert "问题：" not in before.split("<details>")[0]  # unchanged fields only in 完整记录
    assert "&lt;b&gt;同一标题&lt;/b&gt;" in row and "<b>同一标题" not in row
    # the filter menu offers the consultation-day actions too
    assert '<option value="agenda_freeze"' in html and ">冻结议程</option>" in html
