"""Conversation context: which turns follow on, what is searched, and how the service finds the earlier turn."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.answer.context import (
    MAX_CARRY_CHARS,
    Earlier,
    asks,
    asks_about_something_else,
    asks_after_telling,
    carried,
    carried_turns,
    gist,
    names_nothing,
    new_subjects,
    only_courtesy,
    own_topic,
    search_text,
    tells_situation,
    told_case,
)
from assistant.search.retriever import SearchResult

#: team-written turns (not from ../shared/eval): follow-ups that cannot stand alone …
FOLLOW_UPS = ["那罚多少？", "个体户也要吗？", "要多久？", "去哪办？", "要是拉到上海去呢", "这个要备案吗", "那有效期呢",
              "超标了一般罚多少钱？", "最晚什么时候之前要提？", "交给养殖户拿去做饲料的话，要签合同吗？",
              "要是我们在定海新城的门店也这样，同样适用这些规定吗？需要另外申请吗？", "还要交什么材料？"]
#: … and turns that open a new topic (with or without saying so)
NEW_TOPICS = ["另外问下，我们准备新上一条小生产线，只要填环境影响登记表，这个备案是网上办还是要跑窗口？",
              "换个话题，车间的边角料这种工业固体废物，可以直接扔进小区的生活垃圾桶吗？",
              "对了，危废仓库的标识牌有统一样式吗？", "还有，排污许可证延续要提前多久申请？", "再问一下，环保税按月报还是按季报？",
              "问个噪声的问题，法律上的夜间是指几点到几点？", "顺便咨询一下，油烟净化器多久要清洗一次？",
              "我们公司在普陀新建一个冷库项目，使用氨制冷，占地约两千平方米，请问需要编制环境影响报告表还是登记表？",
              "还有一个问题：工业用地改成住宅用地，变更前必须做土壤污染状况调查吗？", "其他问题：危废转移联单怎么填？"]


EARLIER = Earlier("我们在沈家门开海鲜大排档，后厨污水接到市政管网，要办什么证吗？",
                  "我们在沈家门开海鲜大排档，后厨污水接到市政管网，要办什么证吗？")


@pytest.mark.parametrize("turn", FOLLOW_UPS)
def test_follow_ups_that_cannot_be_answered_alone_follow_on(turn: str) -> None:
    assert search_text(turn, EARLIER, lambda _a, _c: True)[1] is EARLIER


@pytest.mark.parametrize("turn", NEW_TOPICS)
def test_new_topics_stand_alone_even_when_unanswerable_alone(turn: str) -> None:
    assert search_text(turn, EARLIER, lambda _a, _c: True) == (turn, None)


def test_a_short_question_that_context_does_not_help_is_its_own_topic() -> None:
    assert search_text("排污许可证能用几年", EARLIER, lambda _a, _c: False) == ("排污许可证能用几年", None)
    # … unless it points back to what was said
    assert search_text("那排污许可证能用几年", EARLIER, lambda _a, _c: False)[1] is EARLIER


@pytest.mark.parametrize("turn", ["我们这边会被怎么处理", "那要多久？", "需要什么材料", "要去哪个部门办？", "這樣要辦證吧"])
def test_a_short_turn_that_names_nothing_is_read_with_the_conversation(turn: str) -> None:
    """"我们这边会被怎么处理" after a case on waste oil sold to an unlicensed collector was read alone — its own words
    found the homestay-sewage curated answer at 0.915 — because the search with the case was not more certain. A
    turn that names no thing can only be about what was said before."""
    assert names_nothing(turn)
    assert search_text(turn, EARLIER, lambda _a, _c: False)[1] is EARLIER
    assert not names_nothing("排污许可证能用几年") and not names_nothing("个体户也要吗？")


def test_a_question_after_the_case_was_told_is_read_with_it() -> None:
    """"门口和桶上要贴啥吗" after "厂里已经隔了一间小屋专门放这些东西 上了锁": the case was told to be asked about — read
    with it even when the search with the case is less certain than the question's own (few) words."""
    told = Earlier("厂里已经隔了一间小屋专门放这些东西 上了锁", "我们是普陀一家水产品加工厂，化验室有些废试剂瓶……厂里已经隔了"
                   "一间小屋专门放这些东西 上了锁")
    assert asks_after_telling("门口和桶上要贴啥吗", told)
    assert search_text("门口和桶上要贴啥吗", told, lambda _a, _c: False)[1] is told
    # a message that asks nothing is not itself a question read with it; a question before it, or thanks, do not count
    assert not asks_after_telling("桶是铁皮的", told)
    assert not asks_after_telling("门口要贴啥吗", Earlier("危废仓库要建在哪里？", "危废仓库要建在哪里？"))
    assert not asks_after_telling("门口要贴啥吗", Earlier("好的，谢谢", "好的，谢谢"))
    assert search_text("排污许可证能用几年", EARLIER, lambda _a, _c: False) == ("排污许可证能用几年", None)
    # a new topic announced still stands alone
    q = "另外问下，危废转移联单要保存几年？"
    assert search_text(q, told, lambda _a, _c: True) == (q, None)
    # an answer that only took note of the case and invited the question promised to read the next one with it,
    # long or short
    invited = Earlier("我是沈家门的渔船老大", "我是沈家门的渔船老大", told=True)
    long_q = "请问我们船上换下来的废机油和油污水应该交给谁处理，需要签什么合同，码头接收要收费吗？"
    assert len(long_q) > 30 and search_text(long_q, invited, lambda _a, _c: False)[1] is invited
    assert search_text(long_q, Earlier(invited.question, invited.query), lambda _a, _c: False)[1] is None
    # what follows a case told is that case's question: the service does not let a curated match of its own words
    # ("那要记啥台账吗 留多久" → the discharge permit's ledger) take it out of the case (``stands_alone`` is not asked)
    assert told_case(told) and told_case(invited) and told_case(Earlier("环保的人说我们算工业涂装", "…"))
    assert not told_case(EARLIER) and not told_case(Earlier("好的，谢谢", "好的，谢谢"))


def test_a_letter_is_named_by_its_question_sentences_in_its_own_words() -> None:
    letter = ("您好，我们是沈家门一家做鱼干和虾干的加工厂，废水预处理以后排进城市污水管网，最后进污水处理厂，签了纳管协议。"
              "现在税务那边说要申报环境保护税。我看《环境保护税法》说向污水集中处理场所排放的不属于直接向环境排放，那废水这块"
              "是不是就不用交了？锅炉废气要交的话，是按监测数据算还是按排污系数算？谢谢！")
    assert gist(letter) == ("我看《环境保护税法》说向污水集中处理场所排放的不属于直接向环境排放，那废水这块是不是就不用交了？"
                            "锅炉废气要交的话，是按监测数据算还是按排污系数算？")
    traditional = "您好，本公司位於定海區白泉鎮，從事冷凍水產品加工，每天約產生廢水120噸，經預處理後接入市政污水管網。" \
                  "今年稅務機關通知我們辦理環境保護稅申報。請問我們的廢水是否仍需申報繳納環保稅？懇請撥冗答覆。"
    assert gist(traditional) == "請問我們的廢水是否仍需申報繳納環保稅？"  # the writer's own characters
    assert gist("排污许可证有效期是几年？") == "排污许可证有效期是几年？"
    background = "我们是岱山的一家船厂，" * 10  # a long message without a question sentence: itself
    assert gist(background) == background.strip()


def test_a_follow_up_is_searched_with_the_question_before_it() -> None:
    first = Earlier("排污许可证有效期是几年？", "排污许可证有效期是几年？")
    text, used = search_text("那没办证就排污罚多少？", first)
    assert used is first and text == "排污许可证有效期是几年？那没办证就排污罚多少？"
    # a short follow-up brings its own context to the next one
    second = Earlier("个体户也要吗？", "后厨污水接到市政管网要办什么证？个体户也要吗？")
    text, used = search_text("那罚多少？", second)
    assert text.startswith("后厨污水接到市政管网") and text.endswith("那罚多少？")


def test_no_earlier_turn_or_a_new_topic_is_searched_alone() -> None:
    assert search_text("那罚多少？", None) == ("那罚多少？", None)
    first = Earlier("危废仓库门口要贴什么标志？", "危废仓库门口要贴什么标志？")
    q = "换个话题，车间的边角料可以直接扔进生活垃圾桶吗？"
    assert search_text(q, first) == (q, None)



def _found(entry: str | None, confidence: float) -> SearchResult:
    from assistant.search.index import Item
    from assistant.search.query import prepare
    from assistant.search.retriever import Hit, RankedList

    hits = [] if entry is None else [Hit(Item(id=f"{entry}#q1", title="", text="", kind="精选问答", target=entry),
                                         1.0, 1.0, 0.9, 1)]
    return SearchResult(prepare("x", "both", None), RankedList([], {}, 0.5, "hybrid"),
                        RankedList(hits, {}, confidence, "hybrid"))


def test_a_follow_up_that_is_a_curated_question_of_its_own_stands_alone() -> None:
    """"那没办证就排污罚多少？" after "排污许可证有效期是几年？": read with the earlier question it finds the validity
    answer just shown again; on its own words it is the curated question on operating without a permit."""
    from assistant.answer.answerer import stands_alone

    shown = Earlier("排污许可证有效期是几年？", "排污许可证有效期是几年？", curated="validity")
    assert stands_alone(lambda: _found("no-permit", 0.87), _found("validity", 0.97), shown, 0.7)
    # read with the context nothing curated is certain enough: the follow-up's own curated question answers it
    assert stands_alone(lambda: _found("approval-time", 0.92), _found("needs-eia", 0.64), shown, 0.7)
    # the same entry either way, a new entry found with the context, or an uncertain match alone: context as usual
    assert not stands_alone(lambda: _found("fodder", 0.97), _found("fodder", 0.99), shown, 0.7)
    assert not stands_alone(lambda: _found("no-permit", 0.87), _found("deadline", 0.95), shown, 0.7)
    assert not stands_alone(lambda: _found("tax-relief", 0.32), _found("validity", 0.81), shown, 0.7)
    assert not stands_alone(lambda: _found(None, 0.0), _found("validity", 0.81), shown, 0.7)
    # the entry must stay on the conversation's topic: a document the previous answer showed
    on_topic = Earlier(shown.question, shown.query, ("排污许可管理条例",), "validity")
    cites = {"no-permit": {"排污许可管理条例"}, "school-noise": {"中华人民共和国噪声污染防治法"}}.get
    assert stands_alone(lambda: _found("no-permit", 0.87), _found("validity", 0.97), on_topic, 0.7, lambda e: cites(e, set()))
    assert not stands_alone(lambda: _found("school-noise", 0.9), _found("validity", 0.97), on_topic, 0.7,
                            lambda e: cites(e, set()))
    # a new question asked in full: read with the context it finds a new answer off the conversation's documents,
    # and its own words find that same answer — it stands alone (no "结合您上一个问题：…" pointing at R22)
    r22 = Earlier("我们冷库用的R22，要不要办配额许可证", "我们冷库用的R22，要不要办配额许可证", ("消耗臭氧层物质管理条例",),
                  "ods-001")
    docs = {"fushe-001": {"放射性同位素与射线装置安全和防护条例"}, "ods-002": {"消耗臭氧层物质管理条例"}}.get
    assert stands_alone(lambda: _found("fushe-001", 0.95), _found("fushe-001", 0.97), r22, 0.7,
                        lambda e: docs(e, set()))
    # … but not when its own words are unsure, or find another answer, or the answer stays on the conversation's law
    assert not stands_alone(lambda: _found("fushe-001", 0.6), _found("fushe-001", 0.97), r22, 0.7,
                            lambda e: docs(e, set()))
    assert not stands_alone(lambda: _found("wf-001", 0.9), _found("fushe-001", 0.97), r22, 0.7, lambda e: docs(e, set()))
    assert not stands_alone(lambda: _found("ods-002", 0.95), _found("ods-002", 0.97), r22, 0.7, lambda e: docs(e, set()))


# -- a follow-up's articles: the conversation's documents, ranked by the follow-up's own words as well ----------------

def _passages(ids: list[str], kind: str = "部门规章", limit: bool = False) -> SearchResult:
    from assistant.search.index import Item
    from assistant.search.query import prepare
    from assistant.search.retriever import Hit, RankedList

    hits = [Hit(Item(id=i, title=i.partition("#")[0], text="", kind="官方答复" if i.startswith("部长信箱") else kind),
                1.0 - r / 100, 1.0, 0.9, r + 1) for r, i in enumerate(ids)]
    return SearchResult(prepare("x", "both", None), RankedList(hits, {"score1": 1.0}, 0.42, "hybrid"), None,
                        limit=limit)


def _confident(ids: list[str], confidence: float) -> SearchResult:
    from dataclasses import replace

    res = _passages(ids)
    return replace(res, passages=replace(res.passages, confidence=confidence))


def test_a_new_question_asked_in_full_after_a_letter_is_its_own_topic() -> None:
    """After a letter on a discharge permit, "船厂用的X射线探伤机要办什么证" finds the radiation rules confidently on
    its own words: it is a new question, not a follow-up (the letter's rich text made any search read with it look
    more certain, so the short-turn rule read it with the letter)."""
    letter = Earlier("您好，我司是岱山的一家鱼粉厂……请问重新申请排污许可证要多久？", "…",
                     documents=("排污许可管理条例", "固定污染源排污许可分类管理名录"))
    xray = ["放射性同位素与射线装置安全许可管理办法#16", "放射性同位素与射线装置安全和防护条例#5"]
    assert own_topic(_confident(xray, 0.91), letter, 0.7)
    # unsure on its own words ("是按月报还是按季报？"), or on the letter's documents, or no topic known: not decided here
    assert not own_topic(_confident(xray, 0.35), letter, 0.7)
    assert not own_topic(_confident(["排污许可管理条例#14", *xray], 0.91), letter, 0.7)
    assert not own_topic(_confident(xray, 0.91), Earlier(letter.question, letter.query), 0.7)
    # a mailbox reply on top is not the topic; the articles behind it are
    assert own_topic(_confident(["部长信箱·关于排污许可的回复（mee-001）#1", *xray], 0.91), letter, 0.7)
    assert not own_topic(_confident([], 0.91), letter, 0.7)


PERMIT_LETTER = ("您好！我们是普陀区一家冷冻水产品加工厂，去年新上了一条鱼粉生产线，环评报告表已经批了，验收也做完了。现在要在"
                 "全国排污许可证管理信息平台上变更排污许可证，但不清楚鱼粉生产属于重点管理还是简化管理。请问变更要交哪些"
                 "材料？提交以后一般多久能批下来？")


@pytest.mark.parametrize("turn", ["审批一般要多少个工作日？", "要去哪个部门办？", "逾期不变更会怎么处罚", "鱼粉线要单独申请吗",
                                  "简化管理的话要交执行报告吗"])
def test_a_follow_up_to_a_letter_names_nothing_the_letter_did_not(turn: str) -> None:
    letter = Earlier(PERMIT_LETTER, PERMIT_LETTER)
    assert not asks_about_something_else(turn, letter)
    assert search_text(turn, letter, lambda _a, _c: True)[1] is letter


@pytest.mark.parametrize("turn", ["饭店的油烟净化器必须装吗", "船厂用的X射线探伤机要办什么证", "诊所的医疗废物能存几天",
                                  "航道疏浚挖出来的淤泥能倒进海里吗", "酒吧音乐太响扰民怎么处罚"])
def test_a_short_question_on_other_things_after_a_letter_is_a_new_question(turn: str) -> None:
    """The letter's rich text makes any search read with it look more certain ("more certain" read every short
    question after a letter with it); a question naming two or more things the letter never mentioned is new."""
    letter = Earlier(PERMIT_LETTER, PERMIT_LETTER)
    assert len(new_subjects(turn, letter)) >= 2
    assert search_text(turn, letter, lambda _a, _c: True) == (turn, None)
    # … but not after a short question (whose follow-ups may well name new things: "个体户也要吗"), not when it
    # points back, and not after a case told to be asked about (a letter that asked nothing)
    short = Earlier("排污许可证变更要多久", "排污许可证变更要多久")
    assert search_text(turn, short, lambda _a, _c: True)[1] is short
    assert search_text("那" + turn, letter, lambda _a, _c: True)[1] is letter
    told = PERMIT_LETTER.replace("请问变更要交哪些材料？提交以后一般多久能批下来？", "")
    assert search_text(turn, Earlier(told, told), lambda _a, _c: True)[1] is not None


def test_new_subjects_know_abbreviations_and_words_every_question_uses() -> None:
    letter = Earlier("我们厂产生的危险废物有废机油和废活性炭，" * 5 + "请问暂存间怎么建？",
                     "我们厂产生的危险废物有废机油和废活性炭，请问暂存间怎么建？")
    assert new_subjects("危废标签有啥要求", letter) == ["标签"]  # 危废 = 危险废物; 要求 names nothing
    assert new_subjects("危废转移联单怎么填", letter) == ["转移联单"]


def test_merge_rankings_puts_what_both_find_first_and_lets_the_own_words_article_in() -> None:
    from assistant.answer.context import merge_rankings

    with_context = ["应急办法#38", "环保法#47", "应急办法#13", "应急办法#6", "应急办法#20", "应急办法#19"]
    own_words = ["应急办法#19", "应急办法#38", "应急办法#20"]
    order = [i for i, _ in merge_rankings(with_context, own_words)]
    assert order[:2] == ["应急办法#38", "应急办法#19"]  # found by both, then the training article the follow-up asks
    assert set(order) == set(with_context) | set(own_words)
    assert order.index("环保法#47") < order.index("应急办法#13")  # context-only articles keep their order
    # equal scores keep the order found with the context
    assert [i for i, _ in merge_rankings(["a", "b"], ["b", "a"])] == ["a", "b"]
    assert merge_rankings([], []) == []


def test_the_topic_is_the_documents_of_the_first_five_passages_without_mailbox_replies() -> None:
    from assistant.answer.context import topic_documents

    ids = ["甲#1", "部长信箱·回复#1", "乙#3", "甲#2", "丙#1", "丁#4", "戊#1"]
    assert topic_documents(ids, {"部长信箱·回复#1"}) == {"甲", "乙", "丙", "丁"}
    assert topic_documents([], set()) == frozenset()


def test_a_follow_up_is_ranked_inside_its_topic_with_its_own_words() -> None:
    from assistant.answer.context import follow_up_result

    combined = _passages(["应急办法#38", "部长信箱·回复#1", "环保法#47", "应急办法#13", "应急办法#6", "应急办法#20",
                          "固废法#85", "应急办法#2"])
    asked: list[frozenset[str]] = []

    def own(docs: frozenset[str]) -> SearchResult:
        asked.append(docs)
        return _passages(["应急办法#19", "应急办法#38"])

    out = follow_up_result(combined, own)
    assert asked == [frozenset({"应急办法", "环保法"})]  # the documents of the first five, not the mailbox reply
    ids = [h.item.id for h in out.passages.hits]
    assert ids[:2] == ["应急办法#38", "应急办法#19"] and len(ids) == len(combined.passages.hits)
    assert [h.rank for h in out.passages.hits] == list(range(1, len(ids) + 1))
    # the decision stays the one made with the context
    assert out.passages.confidence == combined.passages.confidence and out.passages.features == {"score1": 1.0}
    assert out.asked_top == "应急办法#19" and combined.asked_top == ""  # what its own words found first
    # a question for a limit value keeps its table rows first; nothing found: nothing to merge
    limit = _passages(["GB 1#表1·3", "GB 1#4.1"], limit=True)
    assert follow_up_result(limit, own) is limit
    empty = _passages([])
    assert follow_up_result(empty, own) is empty and len(asked) == 1
    # … but a "limit" question that found no table first ("浓度比标准低一半以上的话能少交点吗？" on the tax) is merged
    taxed = follow_up_result(_passages(["税法#10", "税法#13", "税法实施条例#9"], limit=True), own)
    assert taxed.asked_top == "应急办法#19" and len(asked) == 2


def test_search_within_documents_only_ranks_their_passages() -> None:
    from assistant.search.encoders import HashingEncoder
    from assistant.search.index import Item, SearchIndex
    from assistant.search.retriever import Retriever, within_documents

    items = [Item(id="应急办法#19", title="应急办法", text="企业应当开展突发环境事件应急培训，如实记录培训情况。", kind="部门规章"),
             Item(id="应急办法#13", title="应急办法", text="企业应当编制突发环境事件应急预案并备案。", kind="部门规章"),
             Item(id="培训办法#3", title="培训办法", text="员工培训应当每年开展，培训记录保存三年。", kind="部门规章"),
             Item(id="旧办法#1", title="旧办法", text="应急培训每年一次。", kind="部门规章", status="已废止")]
    idx = SearchIndex.build(items, "both", "bm25s", HashingEncoder(64))
    mask = within_documents(idx, None, {"应急办法"})
    assert mask.tolist() == [True, True, False, False]
    repealed_out = np.array([True, True, True, False])
    assert within_documents(idx, repealed_out, {"应急办法", "旧办法"}).tolist() == [True, True, False, False]
    r = Retriever(idx, None, HashingEncoder(64))
    everywhere = [h.item.id for h in r.search("员工培训有什么要求").passages.hits]
    inside = [h.item.id for h in r.search("员工培训有什么要求", within=frozenset({"应急办法"})).passages.hits]
    assert "培训办法#3" in everywhere and inside and set(inside) <= {"应急办法#19", "应急办法#13"}


@pytest.mark.parametrize("turn", ["那罚多少？", "不备案会被罚吗", "我们这边会被怎么处理", "如果不做预处理继续这么排，会有什么后果",
                                  "會罰多少錢"])
def test_a_follow_up_on_the_penalty_ranks_the_penalty_articles_by_the_case(turn: str) -> None:
    from assistant.answer.context import asks_penalty, own_words

    searched = "我们把废机油卖给了没有资质的个人。" + turn
    assert asks_penalty(turn) and own_words(turn, searched) == (searched, True)


@pytest.mark.parametrize("turn", ["那要多久？", "这样要办证吧？办的话找市里还是区里", "那这个源怎么处理？", "我们钱都付过了 也要跟着担责吗",
                                  "员工培训方面有啥要求？"])
def test_other_follow_ups_are_ranked_by_their_own_words(turn: str) -> None:
    from assistant.answer.context import asks_penalty, own_words

    assert not asks_penalty(turn) and own_words(turn, "之前的问题。" + turn) == (turn, False)


def test_search_within_documents_can_keep_only_their_penalty_articles() -> None:
    from assistant.search.encoders import HashingEncoder
    from assistant.search.index import Item, SearchIndex, is_penalty
    from assistant.search.retriever import Retriever, within_documents

    items = [Item(id="固废法#80", title="固废法", text="从事收集危险废物经营活动的单位，应当申请取得许可证。", kind="法律",
                  heading="第六章 危险废物"),
             Item(id="固废法#112", title="固废法", text="违反本法规定，将危险废物提供或者委托给无许可证的单位的，处以罚款。",
                  kind="法律", heading="第八章 法律责任"),
             Item(id="水法#49", title="水法", text="城镇污水应当集中处理。", kind="法律", heading="第四章"),
             Item(id="水法#85", title="水法", text="有下列行为之一的，责令停止违法行为，处以罚款：向水体排放油类。", kind="法律",
                  heading="第七章"),
             Item(id="应急办法#38", title="应急办法", text="企业事业单位未按规定将应急预案备案的，可以处一万元以上三万元以下罚款。",
                  kind="部门规章", heading="第七章 罚 则")]
    assert [is_penalty(it.heading or "", it.text) for it in items] == [False, True, False, True, True]
    idx = SearchIndex.build(items, "both", "bm25s", HashingEncoder(64))
    assert within_documents(idx, None, {"固废法", "水法"}, penalties=True).tolist() == [False, True, False, True, False]
    r = Retriever(idx, None, HashingEncoder(64))
    case = "把危险废物交给了没有许可证的单位，我们这边会被怎么处理"
    inside = [h.item.id for h in r.search(case, within=frozenset({"固废法", "水法"}), penalties=True).passages.hits]
    assert inside and set(inside) <= {"固废法#112", "水法#85"} and inside[0] == "固废法#112"


# ---- a case told in several messages (team-written turns, not from ../shared/eval) ----
#: turns that ask nothing: the enterprise tells its situation and asks in a later message
STATEMENTS = ["我们在六横有个修船厂", "我們廠在岱山", "厂里已经隔了一间小屋专门放这些东西 上了锁", "環評公司說要做報告書，大概下個月能交上去",
              "想顺便把周边几家小修理厂的废机油也收过来", "后来听说他啥资质都没有", "最近听说燃煤的都要淘汰",
              "当年的环评批文不知道弄哪去了", "原来那本登记表找不到了 不知道放哪儿去了",
              "之前一直有个收废油的老板上门收 还给我们钱的 也没签什么合同", "我们厂里没啥危废"]
#: turns that ask (a question mark, or a question word without one — as typed on a phone)
ASKING = ["门口和桶上要贴啥吗", "这样要办证吧", "那罚多少", "能放多久", "交给谁", "要不要报备", "這種歸誰管",
          "我们这边会被怎么处理", "交上去以后你们那边多久能给个结果", "有没有期限", "过了期限怎么办", "需不需要辦證",
          # a letter's request forms, typed without a question mark
          "请问排污许可证延续的办理流程", "我们厂想咨询一下危废转移联单的填写", "我司想了解环保税的申报", "請問環評審批時限",
          "批文不知道弄哪里去了 去哪补"]


@pytest.mark.parametrize("turn", STATEMENTS)
def test_a_turn_that_tells_the_situation_asks_nothing(turn: str) -> None:
    assert not asks(turn)


@pytest.mark.parametrize("turn", ASKING)
def test_a_turn_with_a_question_word_asks_even_without_a_question_mark(turn: str) -> None:
    assert asks(turn)


def test_a_statement_hands_on_the_situation_told_before_it() -> None:
    """"…化验室的废试剂瓶算危废吧" / "厂里已经隔了一间小屋…上了锁" / "门口和桶上要贴啥吗": the last question is read
    with both earlier messages, not only with the one before it."""
    first_q = "我们是普陀一家水产品加工厂，化验室的废试剂瓶算危废吧"
    first = Earlier(first_q, first_q, carries=carried(first_q, first_q, None))
    assert first.carries == first_q  # a question hands on what it searched
    stmt = "厂里已经隔了一间小屋专门放这些东西 上了锁"
    second = Earlier(stmt, stmt, carries=carried(stmt, stmt, first))  # read alone, it still carries the first
    assert second.carries == first_q + "。" + stmt
    text, used = search_text("门口和桶上要贴啥吗", second)
    assert used is second and text == first_q + "。" + stmt + "。门口和桶上要贴啥吗"
    # read with its context already, a statement is not repeated
    combined = first_q + "。" + stmt
    assert carried(stmt, combined, first) == combined


def test_a_question_read_in_context_hands_on_the_whole_conversation() -> None:
    first = Earlier("排污许可证有效期是几年？", "排污许可证有效期是几年？")
    text, used = search_text("那没办证就排污罚多少？", first)
    second = Earlier("那没办证就排污罚多少？", text, carries=carried("那没办证就排污罚多少？", text, first))
    assert search_text("个体户也要吗？", second)[0] == "排污许可证有效期是几年？那没办证就排污罚多少？个体户也要吗？"


def test_a_new_topic_hands_on_only_itself_and_what_is_handed_on_is_bounded() -> None:
    first = Earlier("危废仓库门口要贴什么标志？", "危废仓库门口要贴什么标志？")
    switch = "另外，我们还有个冷库项目在普陀"
    assert carried(switch, switch, first) == switch
    long_case = Earlier("x", "x", carries="我们是一家船厂。" * 60)
    out = carried("现在又新建了一个涂装车间", "现在又新建了一个涂装车间", long_case)
    assert len(out) <= MAX_CARRY_CHARS and out.endswith("现在又新建了一个涂装车间") and out.startswith("我们")


@pytest.mark.parametrize("turn", ["好的", "谢谢", "好的，谢谢", "明白了，谢谢！", "OK", "收到", "嗯嗯", "谢谢您", "好的，謝謝您！"])
def test_an_acknowledgement_is_only_courtesy(turn: str) -> None:
    assert only_courtesy(turn)


@pytest.mark.parametrize("turn", ["好的，那罚多少？", "谢谢，请问危废能放多久", "可以申请复议吗", "好的排污许可证怎么延续"])
def test_a_question_after_thanks_is_not_only_courtesy(turn: str) -> None:
    assert not only_courtesy(turn)


def test_the_messages_handed_on_are_named_oldest_first_and_drop_out_with_the_text() -> None:
    first_q = "化验室的废试剂瓶算危废吧"
    first = Earlier(first_q, first_q, carries=first_q, turns=carried_turns(first_q, first_q, None))
    assert first.read_with() == (first_q,)
    stmt = "厂里已经隔了一间小屋"
    hand_on = carried(stmt, stmt, first)
    second = Earlier(stmt, stmt, carries=hand_on, turns=carried_turns(stmt, hand_on, first))
    assert second.read_with() == (first_q, stmt)
    # a new topic hands on only itself
    switch = "另外，冷库项目要做环评吗？"
    assert carried_turns(switch, carried(switch, switch, second), second) == (switch,)
    # a message cut out of what is handed on is no longer named
    long_first = Earlier("很早的问题", "很早的问题", carries="很早的问题。" + "我们是一家船厂。" * 40, turns=("很早的问题",))
    out = carried("现在又新建了一个涂装车间", "现在又新建了一个涂装车间", long_first)
    assert carried_turns("现在又新建了一个涂装车间", out, long_first) == ("现在又新建了一个涂装车间",)


def test_the_protocol_reads_a_conversation_as_ask_does(tmp_path) -> None:
    """``assistant eval --dialogues``: the last turn is searched with what the earlier turns hand on — a case told
    in several messages, thanks passed over — and a new topic alone."""
    import json

    from assistant.evaluation import dialogue_queries

    rows = [{"id": "c1", "split": "dev", "carry": True, "relevant": ["x#1"],
             "turns": ["化验室的废试剂瓶算危废吧", "厂里已经隔了一间小屋", "好的 谢谢", "门口要贴啥吗"]},
            {"id": "c2", "split": "dev", "carry": False, "relevant": ["x#2"],
             "turns": ["排污许可证有效期是几年？", "另外问下，噪声法里的夜间是几点到几点？"]}]
    f = tmp_path / "d.jsonl"
    f.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    case, switch = dialogue_queries(f, "dev")
    assert case.query == "化验室的废试剂瓶算危废吧。厂里已经隔了一间小屋。门口要贴啥吗" and case.asked == "门口要贴啥吗"
    assert case.split == "dev/carry"
    assert switch.query == rows[1]["turns"][-1] and switch.asked == "" and switch.split == "dev/switch"
    alone = dialogue_queries(f, "dev", handling="alone")
    assert [q.query for q in alone] == [r["turns"][-1] for r in rows]


@pytest.mark.parametrize("turn", ["我们在六横有个修船厂", "厂里已经隔了一间小屋专门放这些东西 上了锁", "我是沈家门的渔船老大",
                                  "我們廠在岱山"])
def test_a_message_about_the_own_enterprise_that_asks_nothing_tells_the_situation(turn: str) -> None:
    assert tells_situation(turn)


@pytest.mark.parametrize("turn", ["危废贮存期限", "我们厂要做环评吗", "好的，谢谢", "附近工厂晚上噪声很大",
                                  "我们厂想咨询一下危废转移联单的填写"])
def test_keywords_questions_thanks_and_reports_about_others_do_not(turn: str) -> None:
    assert not tells_situation(turn)
