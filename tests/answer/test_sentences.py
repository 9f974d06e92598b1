"""The sentence of a cited article shown first: the one that answers the question."""

from __future__ import annotations

from conftest import WFZY

from assistant.answer.decide import Thresholds
from assistant.answer.sentences import answering_sentence
from assistant.service import AssistantService


def test_the_answering_sentence_is_the_one_that_answers() -> None:
    article = ("第六条 转移危险废物的，应当执行危险废物转移联单制度。移出人应当如实填写联单。"
               "联单保存期限为五年；贮存危险废物的，其联单保存期限与危险废物贮存期限相同。"
               "生态环境主管部门应当加强监督管理。")
    terms = ["联单", "保存", "期限", "多久"]
    assert answering_sentence(article, terms).startswith("联单保存期限为五年")
    assert answering_sentence("只有一句话。", terms) == ""  # the whole article is the answer


def test_an_article_answer_carries_its_answering_sentence(service: AssistantService) -> None:
    service.answerer.thresholds = Thresholds(answer=0.05, caution=0.01, curated=0.6)
    ans = service.answer("危险废物转移联单保存期限")
    top = ans.citations[0]
    # the fixture's article is one sentence: the whole article is the answer, nothing is singled out
    assert top.id == f"{WFZY}#6" and top.answer_sentence == ""
    assert ans.as_dict()["citations"][0]["answer_sentence"] == ""


def test_an_enumerated_item_is_shown_with_the_sentence_that_introduces_its_list() -> None:
    """"员工培训有啥要求" picks item （四） of a penalty article; alone it does not say what happens — the lead-in
    (who is punished, by whom, how much) comes first, in the article's own words."""
    from assistant.answer.sentences import with_lead_in

    article = ("企业事业单位有下列情形之一的，由县级以上环境保护主管部门责令改正，可以处一万元以上三万元以下罚款：\n"
               "（一）未按规定开展突发环境事件风险评估工作，确定风险等级的；\n（二）未按规定将突发环境事件应急预案备案的；\n"
               "（三）未按规定开展突发环境事件应急培训，如实记录培训情况的。")
    lead = "企业事业单位有下列情形之一的，由县级以上环境保护主管部门责令改正，可以处一万元以上三万元以下罚款："
    assert with_lead_in(article, "（一）未按规定开展突发环境事件风险评估工作，确定风险等级的；") == \
        lead + "（一）未按规定开展突发环境事件风险评估工作，确定风险等级的；"
    assert with_lead_in(article, "（三）未按规定开展突发环境事件应急培训，如实记录培训情况的。") == \
        lead + "……（三）未按规定开展突发环境事件应急培训，如实记录培训情况的。"
    assert with_lead_in(article, lead) == lead  # not an item: as chosen
    assert with_lead_in("第一句。\n（一）没有引导句的列举项；", "（一）没有引导句的列举项；") == "（一）没有引导句的列举项；"
    assert with_lead_in(article, "") == ""
    # through compose: the card's bold sentence carries its lead-in
    from assistant.answer.compose import compose
    from assistant.answer.decide import Thresholds
    from assistant.search.index import Item
    from assistant.search.query import prepare
    from assistant.search.retriever import Hit, RankedList, SearchResult

    it = Item(id="突发环境事件应急管理办法#38", title="突发环境事件应急管理办法", text=article, kind="部门规章", article=38,
              target="突发环境事件应急管理办法#38")
    res = SearchResult(prepare("应急培训没记录会怎样", "both", None),
                       RankedList([Hit(it, 1.0, 1.0, 0.9, 1)], {}, 0.9, "hybrid"), None)
    card = compose(res, Thresholds(answer=0.6, caution=0.45, curated=0.7), "").citations[0]
    assert card.answer_sentence == lead + "……（三）未按规定开展突发环境事件应急培训，如实记录培训情况的。"


def test_a_sentence_that_introduces_a_list_is_shown_with_its_item_that_answers() -> None:
    """"罚多少" picks the sentence with the amount — it ends with a colon and says nothing alone about what is
    punished: the item the question's words match follows it ("……" when items are skipped); no item matched, the
    sentence alone."""
    from assistant.answer.sentences import card_sentence, with_lead_in

    def shown(terms: list[str], asked: list[str] | None = None) -> str:  # as compose shows it
        return with_lead_in(article, card_sentence(article, terms, asked_terms=asked))

    article = ("违反本法规定，有下列行为之一的，由生态环境主管部门责令改正，处一万元以上十万元以下的罚款：\n"
               "（一）未按照规定设置危险废物识别标志的；\n（二）未按照规定制定危险废物管理计划的；\n"
               "（三）擅自倾倒、堆放危险废物的。")
    lead = "违反本法规定，有下列行为之一的，由生态环境主管部门责令改正，处一万元以上十万元以下的罚款："
    assert shown(["罚款", "识别标志"]) == lead + "（一）未按照规定设置危险废物识别标志的；"  # the item chosen
    assert shown(["罚款", "多少", "一万元"]) == lead  # the lead chosen, no item matched: alone
    # the lead chosen (the amount), then the item its words match
    assert shown(["十万元以下", "管理计划"]) == lead + "……（二）未按照规定制定危险废物管理计划的；"
    # a follow-up's own words choose the item as they chose the sentence
    assert shown(["管理计划"], asked=["十万元以下", "倾倒"]) == lead + "……（三）擅自倾倒、堆放危险废物的。"


def test_a_list_announced_a_sentence_before_its_colon_keeps_both_sentences() -> None:
    """排污许可管理条例第三十六条: "…有下列行为之一的，…处2万元以上20万元以下的罚款；" then "拒不改正的，责令停产整治："
    then the items — an item shown with only the second sentence loses the fine; the first sentence shown alone loses
    what is punished."""
    from assistant.answer.sentences import split_sentences, with_item, with_lead_in

    first = "违反本条例规定，排污单位有下列行为之一的，由生态环境主管部门责令改正，处2万元以上20万元以下的罚款；"
    second = "拒不改正的，责令停产整治："
    item2 = "（二）未按照排污许可证规定安装、使用污染物排放自动监测设备并与生态环境主管部门的监控设备联网。"
    article = first + second + "\n（一）未按照规定对所排放的水污染物进行监测，或者未保存原始监测记录；\n" + item2
    assert split_sentences(article)[:2] == [first, second]
    assert with_lead_in(article, item2) == first + second + "……" + item2
    assert with_item(article, first, ["自动监测设备"]) == first + second + "……" + item2
    assert with_item(article, first, ["无关"]) == first  # no item matches: as before
    # a sentence that announces no list is left alone
    plain = "排污许可证有效期为5年；有效期届满需要延续的：\n（一）提前申请；"
    assert with_item(plain, "排污许可证有效期为5年；", ["申请"]) == "排污许可证有效期为5年；"


def test_a_card_asked_for_by_name_shows_its_own_first_sentence() -> None:
    """A lookup ("固废法第一百一十二条讲的什么", search/lookup.py) names the article, not what in it is asked: its card
    leads with the article's first sentence, clause headings passed over."""
    from assistant.answer.sentences import lead_sentence

    art = "违反本法规定，有下列行为之一，由生态环境主管部门责令改正，处以罚款；\n（一）未按照规定设置危险废物识别标志的；\n（二）擅自倾倒危险废物的。"
    assert lead_sentence(art) == "违反本法规定，有下列行为之一，由生态环境主管部门责令改正，处以罚款；"
    clause = "5.2 挥发性有机液体储罐\n5.2.1 储罐控制要求\n3\n5.2.1.1 储存真实蒸气压大于76.6 kPa的储罐，应采用低压罐。其他的应采用浮顶罐。"
    assert lead_sentence(clause) == "5.2.1.1 储存真实蒸气压大于76.6 kPa的储罐，应采用低压罐。"
    assert lead_sentence("排污许可证的有效期为五年。") == ""  # one sentence: its own answer
    assert lead_sentence("HW11 精（蒸）馏残渣\n261-019-11 苯胺生产过程中产生的蒸馏残渣（危险特性：T）") == (
        "261-019-11 苯胺生产过程中产生的蒸馏残渣（危险特性：T）")  # a catalogue row under its category
