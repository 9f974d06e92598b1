"""Answer composition helpers."""

from __future__ import annotations

from assistant.answer.compose import Citation, snippet


def test_snippet_centres_on_first_term_and_reports_highlights() -> None:
    text = "甲" * 300 + "排污许可证的有效期为五年。" + "乙" * 300
    out, hl = snippet(text, ["有效期", "五年", "不存在", "证"])
    assert out.startswith("…") and out.endswith("…")
    assert "有效期" in out and "五年" in out
    assert hl == ["有效期", "五年"]  # one-character terms are never highlighted


def test_short_text_untouched() -> None:
    assert snippet("排污许可证有效期五年。", ["五年"]) == ("排污许可证有效期五年。", ["五年"])


def test_citation_label_uses_chinese_article_number() -> None:
    c = Citation(id="排污许可管理条例#120", title="排污许可管理条例", article=120, status="现行有效", kind="行政法规",
                 snippet="…", highlights=[])
    assert c.label == "《排污许可管理条例》第一百二十条"
    assert Citation(id="t#p1", title="t", article=None, status="", kind="", snippet="", highlights=[]).label == "《t》"
    assert c.as_dict()["label"] == c.label
