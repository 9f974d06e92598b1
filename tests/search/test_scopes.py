"""Whom a standard's limits apply to (issue #17): a sector's or topic's tables and rows rank for a limit question
only when the question names the sector or topic; a table ranked above its own row goes after it."""

from __future__ import annotations

import numpy as np

from assistant.ingest.versions import diff_rows
from assistant.search.index import Item
from assistant.search.limits import asks_for_limit, rows_before_their_table
from assistant.search.retriever import Hit
from assistant.search.scopes import load_scopes, parse_scopes, restrict, table_positions
from assistant.text.diff import summarize

SCOPES = parse_scopes("# 注释\nGB 18918-2002\t行业\t污水处理厂 污泥 一级A\nGB 8702-2014\t专项\t电磁 工频\n")
ITEMS = [Item(id=i, title=i.split("#")[0], text="") for i in (
    "GB 8978-1996 污水综合排放标准#表4·14",
    "GB 18918-2002 城镇污水处理厂污染物排放标准#表1",
    "GB 18918-2002 城镇污水处理厂污染物排放标准#表1·1",
    "GB 18918-2002 城镇污水处理厂污染物排放标准#4.1.2",
    "GB 8702-2014 电磁环境控制限值#表1·3",
)]


def test_a_sector_standard_needs_its_sector_named() -> None:
    pos = table_positions(ITEMS, {s.code for s in SCOPES})
    allowed = restrict(None, len(ITEMS), pos, SCOPES, "新建企业cod一级标准是多少")
    assert allowed is not None
    # the comprehensive standard stays; the sewage plants' table and row go; their clause stays; the EM row goes
    assert allowed.tolist() == [True, False, False, True, False]
    named = restrict(None, len(ITEMS), pos, SCOPES, "城镇污水处理厂出水cod一级a是多少")
    assert named is not None and named.tolist() == [True, True, True, True, False]
    base = np.array([False, True, True, True, True])
    assert restrict(base, len(ITEMS), pos, SCOPES, "工频电场强度限值").tolist() == [False, False, False, True, True]


def test_the_shipped_scope_table_reads() -> None:
    codes = {s.code: s for s in load_scopes()}
    assert {"GB 18918-2002", "GB 13271-2014", "GB 8702-2014"} <= set(codes)
    # the comprehensive standards are listed by medium only: they apply to any sector
    assert codes["GB 8978-1996"].kind == codes["GB 16297-1996"].kind == "介质"
    assert codes["GB 13271-2014"].applies("燃气锅炉氮氧化物") and not codes["GB 13271-2014"].applies("电镀废水总铬")


def test_a_table_goes_after_its_own_row() -> None:
    hits = [Hit(ITEMS[i], 1.0 - i / 10, 0.0, None, r + 1) for r, i in enumerate([1, 0, 2, 3])]
    out = rows_before_their_table(hits)
    assert [h.item.id.rpartition("#")[2] for h in out] == ["表4·14", "表1·1", "表1", "4.1.2"]
    assert [h.rank for h in out] == [1, 2, 3, 4]
    alone = [Hit(ITEMS[1], 1.0, 0.0, None, 1), Hit(ITEMS[0], 0.5, 0.0, None, 2)]  # no row of it listed: stays first
    assert [h.item.id for h in rows_before_their_table(alone)] == [ITEMS[1].id, ITEMS[0].id]


def test_ways_of_asking_for_a_value() -> None:
    assert asks_for_limit("城镇污水处理厂一级a标准cod是多少") and asks_for_limit("蓄电池厂废水总铅要达到多少")
    assert asks_for_limit("新上的燃油锅炉颗粒物要控制在多少以下") and asks_for_limit("锅炉烟气黑度林格曼几级")
    assert asks_for_limit("燃气锅炉的基准含氧量按多少折算")
    assert not asks_for_limit("罚款标准是多少") and not asks_for_limit("环评批了以后换了个厂址要重新做吗")
    # what exceeding a limit leads to is asked, not the value
    assert not asks_for_limit("电镀废水总铬超过排放标准三倍以上的话 会不会构成污染环境罪")
    assert not asks_for_limit("废气浓度超标了一般罚多少") and asks_for_limit("废气浓度超标了怎么算")


def test_rows_read_from_a_table_are_not_a_change_of_the_text() -> None:
    old = [{"key": "表1", "article": None, "text": "表1 示例 总汞 0.001"}, {"key": "4.1", "article": None, "text": "要求"}]
    new = old + [{"key": "表1·1", "article": None, "text": "GB 1 表1 示例｜项目：总汞｜值：0.001"}]
    counts = summarize(diff_rows(old, new))
    assert not any(counts[k] for k in ("added", "removed", "changed", "renumbered"))
    changed = [dict(old[0], text="表1 示例 总汞 0.002")] + old[1:] + new[2:]
    assert summarize(diff_rows(old, changed))["changed"] == 1


def test_comprehensive_standards_by_medium() -> None:
    scopes = parse_scopes("GB 8978-1996\t介质\t废水 污水\nGB 16297-1996\t介质\t废气 排气筒\n")
    items = [Item(id=i, title=i.split("#")[0], text="") for i in (
        "GB 8978-1996 污水综合排放标准#表4·30", "GB 16297-1996 大气污染物综合排放标准#表2·22")]
    pos = table_positions(items, {s.code for s in scopes})
    assert restrict(None, 2, pos, scopes, "甲苯废水排放限值").tolist() == [True, False]  # water named: no air rows
    assert restrict(None, 2, pos, scopes, "排气筒甲苯浓度限值").tolist() == [False, True]
    assert restrict(None, 2, pos, scopes, "甲苯排放限值是多少") is None  # no medium named: both stay


def test_rows_of_the_tables_for_the_source_the_question_names() -> None:
    from assistant.search.limits import tables_for_the_source

    def row(key: str, caption: str) -> Item:
        return Item(id=f"GB 1-2000 示例标准#{key}", title="GB 1-2000 示例标准", text="", heading=caption)

    old, new, special = row("表1·3", "表1 现有污染源排放限值"), row("表2·3", "表2 新污染源排放限值"), \
        row("表3·3", "表3 大气污染物特别排放限值")
    hits = [Hit(it, 1.0, 0.0, None, r + 1) for r, it in enumerate([old, special, new])]
    ids = [h.item.id.rpartition("#")[2] for h in tables_for_the_source(hits, "新建企业甲苯排放浓度限值")]
    assert ids == ["表2·3", "表1·3", "表3·3"]  # the new sources' row first; the special limits only when asked
    ids = [h.item.id.rpartition("#")[2] for h in tables_for_the_source(hits, "重点地区现有企业甲苯特别排放限值")]
    assert ids == ["表1·3", "表3·3", "表2·3"]
    assert [h.item.id for h in tables_for_the_source(hits[:1] + hits[2:], "甲苯排放浓度限值")] == [old.id, new.id]


def test_the_row_prior_marks_limit_rows_only() -> None:
    from assistant.search.index import SearchIndex

    idx = SearchIndex.build([Item(id=it.id, title=it.title, text="排放限值") for it in ITEMS], engine="bm25s")
    prior = idx.row_prior(0.5)
    assert prior.tolist() == [0.5, 0.0, 0.5, 0.0, 0.5]  # rows of tables; not the table passage, not a clause
    assert idx.row_prior(0.5) is prior and not prior.flags.writeable  # once per index, shared


def test_which_grade_applies_is_not_a_value_question() -> None:
    assert not asks_for_limit("直排河道的废水执行几级标准")  # which grade applies: a curated answer's question
