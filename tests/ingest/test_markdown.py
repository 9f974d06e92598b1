"""Regulation Markdown: the LawRefBook format and the VuePress format, on the fixtures in tests/data."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from conftest import NOISE_OLD, PWXK, SHARED_FIXTURES, WFZY, ZS_SHIP

from assistant.ingest.base import IngestError
from assistant.ingest.markdown import infer_kind, parse_markdown

LAWS = SHARED_FIXTURES / "laws"


@pytest.fixture(scope="module")
def lawref():
    return parse_markdown(LAWS / f"{PWXK}.md")


@pytest.fixture(scope="module")
def vuepress():
    return parse_markdown(LAWS / f"{WFZY}.md")


# -- LawRefBook ---------------------------------------------------------------------------------------------------
def test_lawref_metadata(lawref) -> None:
    assert lawref.title == PWXK
    assert lawref.kind == "行政法规"
    assert lawref.status == "现行有效"
    assert lawref.promulgated == date(2020, 12, 9)
    assert lawref.effective == date(2021, 3, 1)
    assert "国务院令公布" in lawref.revision_note
    assert "<!--" not in lawref.revision_note


def test_lawref_article_numbers_and_ids(lawref) -> None:
    assert [p.key for p in lawref.passages] == ["1", "2", "3", "4", "5", "14", "120", "121"]
    by_key = {p.key: p for p in lawref.passages}
    assert by_key["120"].article == 120  # 第一百二十条
    assert lawref.passage_id(by_key["120"]) == f"{PWXK}#120"
    assert by_key["120"].text.startswith("排污单位未取得排污许可证")
    assert not any(p.text.startswith("第") and "条" in p.text[:6] for p in lawref.passages)


def test_lawref_heading_path(lawref) -> None:
    by_key = {p.key: p for p in lawref.passages}
    assert by_key["1"].heading == "第一章 总 则"
    assert by_key["3"].heading == "第二章 申请与审批 / 第一节 一般规定"
    assert by_key["14"].heading == "第二章 申请与审批 / 第二节 审批程序"
    assert by_key["120"].heading == "第三章 法律责任"  # a new chapter resets the section


def test_lawref_multi_paragraph_article(lawref) -> None:
    art = {p.key: p for p in lawref.passages}["14"]
    paras = art.text.split("\n")
    assert paras == ["排污许可证的有效期为五年。",
                     "排污许可证有效期届满，需要继续排放污染物的，应当在届满六十日前向审批部门提出延续申请。"]
    assert art.line == 33  # 1-based line of "第十四条" in the fixture


def test_lawref_title_required(tmp_path: Path) -> None:
    f = tmp_path / "无标题.md"
    f.write_text("2020年1月1日 施行\n\n<!-- INFO END -->\n\n第一条 内容。\n", encoding="utf-8")
    with pytest.raises(IngestError) as info:
        parse_markdown(f)
    assert info.value.path == str(f) and info.value.line == 1


# -- VuePress -----------------------------------------------------------------------------------------------------
def test_vuepress_metadata_and_revision(vuepress) -> None:
    assert vuepress.title == WFZY
    assert vuepress.kind == "部门规章"
    assert vuepress.issuer == "生态环境部等"
    assert vuepress.revision_note.startswith("（2021年11月30日生态环境部令第23号公布")
    assert "&emsp;" not in vuepress.revision_note
    assert vuepress.promulgated == date(2021, 11, 30)
    assert vuepress.effective == date(2022, 1, 1)


def test_vuepress_toc_block_is_not_a_passage(vuepress) -> None:
    # the TOC inside ::: details / ::: tabs mentions 第一条/第二条/第七条; none of it may become a passage
    assert [p.key for p in vuepress.passages] == ["1", "2", "3", "4", "5", "6"]
    joined = "\n".join(p.text for p in vuepress.passages)
    assert "#t1" not in joined and "@tab" not in joined and "[[toc]]" not in joined


def test_vuepress_caption_dropped_and_breaks_kept(vuepress) -> None:
    by_key = {p.key: p for p in vuepress.passages}
    assert by_key["1"].text.startswith("为了加强危险废物转移活动")
    assert not any("【" in p.text for p in vuepress.passages)
    assert by_key["2"].text.split("\n") == ["在中华人民共和国境内转移危险废物的活动，适用本办法。",
                                            "符合豁免条件的危险废物，按照国家有关规定实行豁免管理。"]
    assert not any("<" in p.text or "&emsp;" in p.text for p in vuepress.passages)


def test_vuepress_headings_without_attributes(vuepress) -> None:
    by_key = {p.key: p for p in vuepress.passages}
    assert by_key["1"].heading == "第一章 总 则"
    assert by_key["6"].heading == "第二章 转移联单"


def test_vuepress_bad_front_matter_names_line(tmp_path: Path) -> None:
    f = tmp_path / "坏头信息.md"
    f.write_text("---\ntitle: 测试办法\ndate: [2022\n---\n\n<p id=\"t1\"><b>第一条</b>内容。</p>\n", encoding="utf-8")
    with pytest.raises(IngestError) as info:
        parse_markdown(f)
    assert info.value.path == str(f) and info.value.line is not None and info.value.line >= 2


# -- status / kinds -------------------------------------------------------------------------------------------------
def test_repealed_file_name_sets_status() -> None:
    doc = parse_markdown(LAWS / f"{NOISE_OLD}(已废止2018修正).md")
    assert doc.status == "已废止"
    assert doc.title == NOISE_OLD
    assert doc.kind == "法律"
    assert doc.passage_id(doc.passages[1]) == f"{NOISE_OLD}#16"


def test_repealed_suffix_removed_from_title(tmp_path: Path) -> None:
    f = tmp_path / "某某污染防治条例(已废止2010修订).md"
    f.write_text("# 某某污染防治条例(已废止2010修订)\n\n<!-- INFO END -->\n\n第一条 内容。\n", encoding="utf-8")
    doc = parse_markdown(f)
    assert doc.title == "某某污染防治条例"
    assert doc.status == "已废止"


def test_local_regulation_kind() -> None:
    doc = parse_markdown(SHARED_FIXTURES / "zhejiang" / f"{ZS_SHIP}(2021-04-30).md")
    assert doc.title == ZS_SHIP
    assert doc.kind == "地方性法规"
    assert doc.effective == date(2021, 7, 1)


@pytest.mark.parametrize(
    ("title", "kind"),
    [("中华人民共和国环境保护法", "法律"), ("排污许可管理条例", "行政法规"), ("环境行政处罚办法", "部门规章"),
     ("关于恶臭气体超标排放法律适用有关问题的复函", "规范性文件"),
     ("最高人民法院关于审理环境民事公益诉讼案件适用法律若干问题的解释", "司法解释"),
     ("浙江省大气污染防治条例", "地方性法规")],
)
def test_infer_kind(title: str, kind: str) -> None:
    assert infer_kind(title) == kind


def test_document_without_articles_is_split_into_paragraphs(tmp_path: Path) -> None:
    f = tmp_path / "关于某问题的复函.md"
    f.write_text("# 关于某问题的复函\n\n<!-- INFO END -->\n\n## 一、问题\n\n来函收悉。\n\n## 二、意见\n\n应当依法处理。\n",
                 encoding="utf-8")
    doc = parse_markdown(f)
    assert [(p.key, p.heading, p.text) for p in doc.passages] == [("p1", "一、问题", "来函收悉。"),
                                                                   ("p2", "二、意见", "应当依法处理。")]


@pytest.mark.parametrize(("content", "message"), [("", "文件为空"), ("# 标题\n\n<!-- INFO END -->\n", "未找到")])
def test_empty_or_articleless_file_is_an_error(tmp_path: Path, content: str, message: str) -> None:
    f = tmp_path / "x.md"
    f.write_text(content, encoding="utf-8")
    with pytest.raises(IngestError, match=message):
        parse_markdown(f)


def test_non_utf8_names_line(tmp_path: Path) -> None:
    f = tmp_path / "gbk.md"
    f.write_bytes("# 标题\n\n第一条 内容。\n".encode() + "第二条 国标编码。\n".encode("gbk"))
    with pytest.raises(IngestError) as info:
        parse_markdown(f)
    assert info.value.line == 4
