"""A short question that names an article (or a waste code) and asks what it says gets that article first
(assistant/search/lookup.py); one that asks something else about it, and a letter quoting it, are left to the
ranking."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import PWXK

from assistant.search.index import Item, SearchIndex
from assistant.search.lookup import LOOKUP_CONFIDENCE, named_lookup
from assistant.search.references import MentionResolver
from assistant.service import AssistantService
from assistant.text.normalize import normalize

AIR = "中华人民共和国大气污染防治法"
CATALOGUE = "国家危险废物名录（2021年版）"
STD = "GB 8978-1996 污水综合排放标准"


@pytest.fixture(scope="module")
def resolver() -> MentionResolver:
    items = [Item(id=f"{AIR}#{i}", title=AIR, text=f"第{i}条 的内容", kind="法律", article=i, target=f"{AIR}#{i}")
             for i in range(1, 130)]
    items += [Item(id=f"{CATALOGUE}#row-{c}", title=CATALOGUE, text=f"{CATALOGUE} › {hw} › 国家危险废物名录\n{c} 废物",
                   kind="名录", target=f"{CATALOGUE}#row-{c}")
              for c, hw in (("261-018-11", "HW11 精（蒸）馏残渣"), ("261-019-11", "HW11 精（蒸）馏残渣"),
                            ("900-214-08", "HW08 废矿物油与含矿物油废物"))]
    items += [Item(id=f"{STD}#{k}", title=STD, text=f"{k} 的内容", kind="标准", target=f"{STD}#{k}")
              for k in ("4.1", "5.2.1.2", "5.2.1.1", "5.2.10", "表4", "表4·1")]
    return MentionResolver(SearchIndex.build(items, engine="bm25s"))


def _lookup(r: MentionResolver, q: str, allow: np.ndarray | None = None) -> list[str]:
    return [r.index.items[p].id for p in named_lookup(r.index, r, normalize(q), allow)]


@pytest.mark.parametrize(("question", "expected"), [
    ("大气污染防治法第四十六条是什么意思", [f"{AIR}#46"]),
    ("《大气污染防治法》第四十六条", [f"{AIR}#46"]),
    ("大气法第46条讲的什么？", [f"{AIR}#46"]),
    ("大气法46条讲的啥", [f"{AIR}#46"]),  # typed without 第
    ("请问中华人民共和国大气污染防治法第一百条的内容是什么", [f"{AIR}#100"]),
    ("大气污染防治法第十二条和第十三条分别讲什么", [f"{AIR}#12", f"{AIR}#13"]),
    ("261-019-11是什么危废", [f"{CATALOGUE}#row-261-019-11"]),
    ("危废代码900-214-08指的是什么", [f"{CATALOGUE}#row-900-214-08"]),
    ("请问废物代码261-018-11属于哪类危废", [f"{CATALOGUE}#row-261-018-11"]),
    # a standard's clause or table, the code written with or without spaces
    ("GB 8978-1996 4.1是什么规定", [f"{STD}#4.1"]),
    ("GB8978-1996表4", [f"{STD}#表4"]),
    ("gb 8978—1996中的表4是什么", [f"{STD}#表4"]),
    ("GB 8978-1996 5.2.1讲的什么", [f"{STD}#5.2.1.1", f"{STD}#5.2.1.2"]),  # no passage of its own: those under it
    # a hazardous-waste category: its rows, in the catalogue's order
    ("HW11包括哪些废物", [f"{CATALOGUE}#row-261-018-11", f"{CATALOGUE}#row-261-019-11"]),
    ("hw11精（蒸）馏残渣都有哪些？", [f"{CATALOGUE}#row-261-018-11", f"{CATALOGUE}#row-261-019-11"]),
    ("HW08类的危废有哪些", [f"{CATALOGUE}#row-900-214-08"]),
    ("危废名录里HW08是什么", [f"{CATALOGUE}#row-900-214-08"]),
    ("ＨＷ０８包括哪些廢物", [f"{CATALOGUE}#row-900-214-08"]),  # full-width, Traditional
])
def test_a_question_that_asks_what_a_named_article_says_is_a_lookup(resolver: MentionResolver, question: str,
                                                                     expected: list[str]) -> None:
    assert _lookup(resolver, question) == expected


@pytest.mark.parametrize("question", [
    "违反大气污染防治法第四十六条罚多少",  # asks for the penalty: the ranking decides
    "大气污染防治法第四十六条规定的台账要保存多久",
    "我们厂的废物代码是900-214-08，贮存有什么要求",
    "大气污染防治法是什么时候施行的",  # no article named
    "第四十六条是什么意思",  # no document named
    "大气法有2条规定我们不清楚",  # a count, not an article
    "执行GB 8978-1996表4的企业COD限值是多少",  # asks for a value: the ranking (limit rows) decides
    "HW08的废物怎么贮存",  # asks how to store a category's waste
    "HW08和HW11有什么区别",  # two categories
    "HW99是什么",  # no such category
    "我们的废物是HW08，代码900-214-08要怎么处置",  # a code and how to dispose of it
    "我司为一家船舶修造企业，依据《大气污染防治法》第四十六条的规定，工业涂装企业应当使用低挥发性有机物含量的涂料，"
    "并建立台账。请问我司外包给涂装队的作业是否也在此列？",  # a letter: the rules it quotes are its background
])
def test_other_questions_naming_an_article_are_not_lookups(resolver: MentionResolver, question: str) -> None:
    assert _lookup(resolver, question) == []


def test_a_named_article_outside_what_may_be_shown_is_not_looked_up(resolver: MentionResolver) -> None:
    allow = np.ones(len(resolver.index.items), dtype=bool)
    allow[[i for i, it in enumerate(resolver.index.items) if it.id == f"{AIR}#46"]] = False  # e.g. a repealed text
    assert _lookup(resolver, "大气污染防治法第四十六条是什么意思", allow) == []


def test_a_waste_code_names_its_row(resolver: MentionResolver) -> None:
    from assistant.search.letter import analyse
    m = resolver.mentions(analyse("我们的废物是261-019-11，也有900-214-08，另外999-999-99不存在"))
    assert {resolver.index.items[p].id for p in m.articles} == {f"{CATALOGUE}#row-261-019-11",
                                                               f"{CATALOGUE}#row-900-214-08"}
    assert m.docs == {CATALOGUE}


def test_asked_through_the_service_the_named_article_is_shown_first(service: AssistantService) -> None:
    """On the fixture corpus: the article named is the first citation and the question is answered, whatever else
    the search finds; the same question about the penalty is not a lookup."""
    for q in ("排污许可管理条例第五条是什么意思", "排污许可管理條例第五條講的什麼"):
        r = service.indexes.search(q)
        assert r.passages.hits[0].item.id == f"{PWXK}#5" and r.passages.confidence >= LOOKUP_CONFIDENCE
        out = service.ask(q).answer
        assert out.decision.value == "answer"
        assert [i for c in out.citations for i in c.ids][0] == f"{PWXK}#5"
    assert service.indexes.search("违反排污许可管理条例第五条罚多少").passages.confidence < LOOKUP_CONFIDENCE
    # a curated answer may answer a lookup only when it cites the article named
    named = service.ask("排污许可管理条例第一百二十条是什么意思").answer
    assert [i for c in named.citations for i in c.ids][0] == f"{PWXK}#120"
    assert named.curated is None or f"{PWXK}#120" in named.curated["citations"]


@pytest.mark.parametrize(("question", "expected"), [
    ("那第十二条呢", [12]),
    ("第四十六条是什么意思", [46]),
    ("那第12条和第13条分别讲什么", [12, 13]),
    ("第四十六条罚多少", []),  # asks something else: the ranking decides
    ("大气污染防治法第四十六条呢", []),  # names its document: an ordinary lookup
    ("第二百条呢", []),  # no such article in the conversation's documents
])
def test_a_follow_up_naming_an_article_by_number_looks_it_up_in_the_conversations_documents(
        resolver: MentionResolver, question: str, expected: list[int]) -> None:
    from assistant.search.lookup import numbered_in
    found = numbered_in(resolver, normalize(question), (CATALOGUE, AIR))
    assert [resolver.index.items[p].article for p in found] == expected


def test_a_follow_up_naming_an_article_by_number_gets_it_first(service: AssistantService) -> None:
    """"排污许可证能用几年" → "那第五条是什么意思": 第五条 of the document the conversation showed, answered."""
    first = service.ask("排污许可证能用几年", session_id="s-num").answer
    assert any(c.id.startswith(PWXK) for c in first.citations)
    out = service.ask("那第五条是什么意思", session_id="s-num").answer
    assert out.meta["context"]["used"] and out.decision.value == "answer"
    assert [i for c in out.citations for i in c.ids][0] == f"{PWXK}#5"
