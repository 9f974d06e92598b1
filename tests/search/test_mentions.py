"""Quoted-law extraction mapped to documents: 《…》 with or without 第N条, bare titles, abbreviations, standard
codes and back-references (《条例》, 该法)."""

from __future__ import annotations

import pytest

from assistant.search.index import Item, SearchIndex
from assistant.search.letter import analyse
from assistant.search.references import MentionResolver

WATER = "中华人民共和国水污染防治法"
AIR = "中华人民共和国大气污染防治法"
EIA_RULE = "建设项目环境保护管理条例"
ZJ_WATER = "浙江省水污染防治条例"
STD = "GB 8978-1996 污水综合排放标准"


def _articles(title: str, n: int, kind: str = "法律") -> list[Item]:
    return [Item(id=f"{title}#{i}", title=title, text=f"{title} 第{i}条 的内容", kind=kind, article=i,
                 target=f"{title}#{i}") for i in range(1, n + 1)]


@pytest.fixture(scope="module")
def resolver() -> MentionResolver:
    items = [*_articles(WATER, 100), *_articles(AIR, 130), *_articles(EIA_RULE, 30, "行政法规"),
             *_articles(ZJ_WATER, 60, "地方性法规"),
             Item(id=f"{STD}#4.1", title=STD, text="标准分级", kind="标准", target=f"{STD}#4.1")]
    return MentionResolver(SearchIndex.build(items, engine="bm25s"))


def _ids(r: MentionResolver, positions: frozenset[int]) -> set[str]:
    return {r.index.items[p].id for p in positions}


def test_bracketed_title_with_article(resolver: MentionResolver) -> None:
    m = resolver.mentions(analyse("根据《中华人民共和国水污染防治法》第八十三条第三款，企业应当……请问如何处理？"))
    assert m.docs == {WATER}
    assert _ids(resolver, m.articles) == {f"{WATER}#83"}


def test_short_title_bare_title_and_abbreviation(resolver: MentionResolver) -> None:
    m = resolver.mentions(analyse("《水污染防治法》第六十三条规定了保护区。大气法第一百二十条能否适用？"))
    assert m.docs == {WATER, AIR}
    assert _ids(resolver, m.articles) == {f"{WATER}#63", f"{AIR}#120"}
    # named inside a question sentence
    assert AIR in m.docs_in_question and WATER not in m.docs_in_question


def test_versioned_title_still_maps_to_the_document(resolver: MentionResolver) -> None:
    m = resolver.mentions(analyse("是否可以套用《中华人民共和国水污染防治法》（2008 年6 月 1 日）第六十一条？"))
    assert m.docs == {WATER}


def test_back_reference_to_the_last_named_regulation(resolver: MentionResolver) -> None:
    m = resolver.mentions(analyse("《建设项目环境保护管理条例》第十九条规定要验收。《条例》第二十三条能否适用于登记表项目？"))
    assert _ids(resolver, m.articles) == {f"{EIA_RULE}#19", f"{EIA_RULE}#23"}
    assert EIA_RULE in m.docs_in_question


def test_national_law_preferred_over_local_rule_with_the_same_core(resolver: MentionResolver) -> None:
    assert resolver.resolve("水污染防治法") == WATER
    assert resolver.resolve("浙江省水污染防治条例") == ZJ_WATER


def test_standard_code(resolver: MentionResolver) -> None:
    m = resolver.mentions(analyse("污水排放执行 GB 8978-1996 还是行业标准？"))
    assert m.docs == {STD}


def test_unknown_documents_and_plain_questions_name_nothing(resolver: MentionResolver) -> None:
    m = resolver.mentions(analyse("《畜禽养殖禁养区划定技术指南》怎么理解？"))
    assert not m.docs and not m.articles
    m = resolver.mentions(analyse("排污许可证能用几年"))
    assert not m.docs and not m.articles
