"""Citation hygiene (issue #15): a curated answer cites only its own articles, the other hits are offered apart;
standards and catalogues are cited by clause, table or row; passages of one document make one card; ministry
mailbox replies are named by their topic, without the mailbox's record id; answers stored in the old shape load."""

from __future__ import annotations

from typing import Any

from assistant.answer.compose import Citation, compose
from assistant.answer.decide import Decision, Thresholds
from assistant.db.models import CuratedAnswer
from assistant.questions import answer_from_dict
from assistant.search.index import Item, SearchIndex
from assistant.search.query import prepare
from assistant.search.retriever import Hit, RankedList, SearchResult

T = Thresholds(answer=0.4, caution=0.3, curated=0.7)
FUYI = "中华人民共和国行政复议法"
LUYUAN = "中华人民共和国防治陆源污染物污染损害海洋环境管理条例"
VOCS = "GB 37822-2019 挥发性有机物无组织排放控制标准"
HW = "国家危险废物名录（2021年版）"
EIA = "建设项目环境影响评价分类管理名录（2021年版）"
WASTEWATER = "GB 8978-1996 污水综合排放标准"
REPLY = "部长信箱·关于VOCs无组织排放监测的回复（mee-141）"


def _item(title: str, key: str, text: str, kind: str = "法律", article: int | None = None) -> Item:
    pid = f"{title}#{key}"
    return Item(id=pid, title=title, text=text, kind=kind, article=article, target=pid)


def _hits(items: list[Item]) -> list[Hit]:
    return [Hit(item=it, fused=1.0 - i / 10, bm25=1.0, dense=0.9, rank=i + 1) for i, it in enumerate(items)]


def _result(question: str, items: list[Item], confidence: float = 0.8,
            curated: list[Item] | None = None, curated_confidence: float = 0.9) -> SearchResult:
    cur = RankedList(_hits(curated), {}, curated_confidence, "hybrid") if curated else None
    return SearchResult(query=prepare(question, "both", None), passages=RankedList(_hits(items), {}, confidence, "hybrid"),
                        curated=cur)


FUYI_9 = _item(FUYI, "20", "公民、法人或者其他组织认为行政行为侵犯其合法权益的，可以自知道该行政行为之日起六十日内提出行政复议申请。",
               article=20)
LUYUAN_15 = _item(LUYUAN, "15", "发生污染事故的单位，应当在十五日内向当地环境保护行政主管部门作出书面报告。", kind="行政法规",
                  article=15)
FUYI_OTHER = _item(FUYI, "21", "因不可抗力或者其他正当理由耽误法定申请期限的，申请期限自障碍消除之日起继续计算。", article=21)


def _curated_entry() -> CuratedAnswer:
    return CuratedAnswer(id="fx-fuyi-001", question="对环保处罚不服，申请复议和起诉的期限是多久？",
                         answer="可以自知道处罚决定之日起六十日内申请行政复议，或者六个月内提起行政诉讼。",
                         citations=[FUYI_9.id], category="执法", lead_unit="法规处", kind="curated")


def _curated_answer() -> Any:
    entry = _curated_entry()
    wording = Item(id="fx-fuyi-001~0", title="", text=entry.question, kind="curated", target=entry.id)
    res = _result("不服处罚复议期限多久", [LUYUAN_15, FUYI_9, FUYI_OTHER], confidence=0.5, curated=[wording])
    return compose(res, T, "", curated_rows={entry.id: entry})


def test_curated_answer_cites_only_its_own_articles_and_offers_the_rest_apart() -> None:
    ans = _curated_answer()
    assert ans.curated is not None and ans.curated["id"] == "fx-fuyi-001"
    assert [c.ids for c in ans.citations] == [[FUYI_9.id]]  # exactly the staff-verified citation, nothing appended
    related = [i for c in ans.related_articles for i in c.ids]
    assert LUYUAN_15.id in related and FUYI_OTHER.id in related and FUYI_9.id not in related
    d = ans.as_dict()
    assert [c["id"] for c in d["citations"]] == [FUYI_9.id]
    assert LUYUAN_15.id in [c["id"] for c in d["related_articles"]]
    assert "十五日内" not in " ".join(c["snippet"] for c in d["citations"])
    text = ans.as_text()
    assert text.index("依据：") < text.index("其他可能相关的条文") and text.index("十五日内") > text.index("其他可能相关的条文")


def test_without_a_curated_answer_the_retrieved_articles_stay_citations() -> None:
    ans = compose(_result("污染事故报告期限", [LUYUAN_15, FUYI_9]), T, "")
    assert ans.decision is Decision.ANSWER and ans.curated is None
    assert [c.id for c in ans.citations] == [LUYUAN_15.id, FUYI_9.id]
    assert ans.related_articles == [] and ans.as_dict()["related_articles"] == []


def test_standard_and_catalogue_hits_are_labelled_with_clause_table_and_row() -> None:
    items = [_item(VOCS, "5.2.1.1", "储存真实蒸气压≥76.6 kPa的挥发性有机液体应采用低压罐、压力罐或其他等效措施。", "标准"),
             _item(HW, "row-900-041-49", "含有或沾染毒性、感染性危险废物的废弃的包装物、容器、过滤吸附介质。", "名录"),
             _item(EIA, "row-12", "12 土砂石开采 101 | 报告表 | 其他", "名录")]
    ans = compose(_result("挥发性有机液体储罐", items), T, "")
    assert [c.label for c in ans.citations] == [f"《{VOCS}》5.2.1.1", f"《{HW}》废物代码900-041-49", f"《{EIA}》第12项"]
    assert [c.as_dict()["part"] for c in ans.citations] == ["5.2.1.1", "废物代码900-041-49", "第12项"]
    assert all(c.as_dict()["article"] is None for c in ans.citations)
    table = compose(_result("VOCs 无组织排放", [_item(VOCS, "表1", "表1 厂区内VOCs无组织排放限值", "标准")]), T, "")
    assert table.citations[0].label == f"《{VOCS}》表1"


def test_a_markdown_standard_passage_is_located_by_its_text() -> None:
    """The Markdown standards have running keys (#p12): the passage's first line, or the last table caption before
    its rows, names the place."""
    doc = [_item(WASTEWATER, "p14", "4.2.1.1 第一类污染物：一律在车间或车间处理设施排放口采样。", "标准"),
           _item(WASTEWATER, "p15", "表1 第一类污染物最高允许排放浓度\n| 序号 | 污染物 | 最高允许排放浓度 |\n| 1 | 总汞 | 0.05 |", "标准"),
           _item(WASTEWATER, "p16", "| 10 | 总铍 | 0.005 |\n| 11 | 总银 | 0.5 |", "标准")]
    index = SearchIndex(doc, None, None, {})  # type: ignore[arg-type]
    ans = compose(_result("总铍 排放浓度", [doc[2], doc[0]]), T, "", index=index)
    assert ans.citations[0].label == f"《{WASTEWATER}》表1、4.2.1.1"
    assert [p["part"] for p in ans.citations[0].as_dict()["parts"]] == ["表1", "4.2.1.1"]


def test_several_hits_of_one_document_make_one_grouped_card() -> None:
    items = [_item(VOCS, "5.2.1.1", "挥发性有机液体储罐应采用低压罐。", "标准"),
             _item(VOCS, "表1", "表1 厂区内VOCs无组织排放限值", "标准"),
             _item(VOCS, "10.2.1", "企业边界及周边VOCs监控要求执行有关排放标准的规定。", "标准")]
    ans = compose(_result("VOCs 无组织排放", items), T, "")
    assert len(ans.citations) == 1
    card = ans.citations[0].as_dict()
    assert card["label"] == f"《{VOCS}》5.2.1.1、表1、10.2.1"
    # the fields clients read are those of the best passage, as before grouping
    assert card["id"] == items[0].id and card["title"] == VOCS and card["kind"] == "标准" and card["article"] is None
    assert card["snippet"] == "挥发性有机液体储罐应采用低压罐。" and card["url"] == card["parts"][0]["url"]
    assert [p["id"] for p in card["parts"]] == [it.id for it in items]
    assert [p["label"] for p in card["parts"]] == [f"《{VOCS}》5.2.1.1", f"《{VOCS}》表1", f"《{VOCS}》10.2.1"]
    assert all(p["url"].startswith("/doc/GB%2037822-2019") for p in card["parts"])
    laws = compose(_result("复议期限", [FUYI_9, LUYUAN_15, FUYI_OTHER]), T, "")
    assert [c.label for c in laws.citations] == [f"《{FUYI}》第二十条、第二十一条", f"《{LUYUAN}》第十五条"]


def test_a_mailbox_reply_is_labelled_by_its_topic_without_the_record_id() -> None:
    reply = _item(REPLY, "1", "来信：VOCs无组织排放怎么监测？\n答复：按GB 37822-2019执行。", "官方答复")
    ans = compose(_result("VOCs 无组织排放 监测", [_item(VOCS, "表1", "表1 厂区内VOCs无组织排放限值", "标准"), reply]), T, "")
    c = ans.citations[1]
    assert c.label == "部长信箱答复：关于VOCs无组织排放监测的回复"
    d = c.as_dict()
    assert "mee-141" not in d["label"] + d["title"] + d["parts"][0]["label"]
    assert d["kind"] == "官方答复" and d["section"] == "reply" and ans.citations[0].as_dict()["section"] == "regulation"
    assert d["url"].startswith("/doc/")  # the document page still opens by the passage id
    assert "mee-141" not in ans.as_text()


def test_a_mailbox_reply_is_quoted_from_the_ministrys_answer_never_from_the_letter() -> None:
    """Under 部长信箱答复 the snippet and the answering sentence are the ministry's words: a sentence of the letter
    (the asker's own view, "所以希望部里领导…") would read as the ministry's answer."""
    reply = _item(REPLY, "1", "来信：我们认为VOCs无组织排放不用监测。请问VOCs无组织排放监测怎么开展？谢谢。\n"
                              "答复：VOCs无组织排放监测按GB 37822-2019执行。厂区内监控点的浓度执行表A.1。", "官方答复")
    ans = compose(_result("VOCs无组织排放监测怎么开展", [reply]), T, "")
    card = ans.citations[0].as_dict()
    assert card["snippet"].startswith("VOCs无组织排放监测按GB 37822-2019执行")
    assert "来信" not in card["snippet"] and "我们认为" not in card["snippet"]
    assert card["answer_sentence"] == "VOCs无组织排放监测按GB 37822-2019执行。"
    # a passage without the marker (a regulation, or a record stored without one) is quoted whole
    from assistant.answer.sources import shown_text

    assert shown_text("法律", "来信：x\n答复：y") == "来信：x\n答复：y"
    assert shown_text("官方答复", "只有正文。") == "只有正文。"


def test_old_stored_answers_still_load() -> None:
    old: dict[str, Any] = {  # Question.result as stored before issue #15: no parts/part/section/related_articles
        "question": "不服处罚复议期限多久", "decision": "answer", "confidence": 0.91,
        "curated": {"id": "fx-fuyi-001", "question": "复议和起诉的期限？", "answer": "六十日内；六个月内。",
                    "citations": [FUYI_9.id]},
        "citations": [
            {"id": FUYI_9.id, "title": FUYI, "article": 20, "label": f"《{FUYI}》第二十条", "url": "/doc/x",
             "status": "现行有效", "kind": "法律", "snippet": "六十日内", "highlights": ["六十日"], "score": None},
            {"id": LUYUAN_15.id, "title": LUYUAN, "article": 15, "label": f"《{LUYUAN}》第十五条", "url": "/doc/y",
             "status": "现行有效", "kind": "行政法规", "snippet": "十五日内", "highlights": [], "score": 0.5},
            {"id": f"{VOCS}#表1", "title": VOCS, "article": None, "label": f"《{VOCS}》", "status": "现行有效",
             "kind": "标准", "snippet": "表1", "highlights": []},
            {"id": f"{REPLY}#1", "title": REPLY, "article": None, "label": f"《{REPLY}》", "status": "现行有效",
             "kind": "官方答复", "snippet": "来信", "highlights": []}],
        "related": [], "notice": "", "footer": "f", "meta": {"retrieval_mode": "hybrid", "question_id": 3}}
    ans = answer_from_dict(old)
    assert ans.decision is Decision.ANSWER and ans.mode == "hybrid" and ans.meta == {"question_id": 3}
    assert [c.id for c in ans.citations] == [FUYI_9.id]  # the curated answer's own; what was appended moves apart
    assert [c.label for c in ans.related_articles] == [f"《{LUYUAN}》第十五条", f"《{VOCS}》表1",
                                                       "部长信箱答复：关于VOCs无组织排放监测的回复"]
    d = ans.as_dict()
    assert d["citations"][0]["parts"][0]["id"] == FUYI_9.id
    # an old answer without a curated block keeps every card as a citation
    bare = answer_from_dict({**old, "curated": None})
    assert [c.id for c in bare.citations] == [c["id"] for c in old["citations"]] and bare.related_articles == []


def test_the_new_shape_round_trips() -> None:
    ans = _curated_answer()
    ans.citations.append(Citation(id=f"{VOCS}#表1", title=VOCS, article=None, status="现行有效", kind="标准",
                                  snippet="s", highlights=[], part="表1",
                                  more=[Citation(id=f"{VOCS}#5.2.1", title=VOCS, article=None, status="现行有效",
                                                 kind="标准", snippet="t", highlights=["t"], part="5.2.1")]))
    d = ans.as_dict()
    again = answer_from_dict(d)
    assert again.as_dict() == d


def test_a_follow_up_is_not_given_the_curated_answer_just_given_unless_it_cites_what_is_asked() -> None:
    """"那要是错过了期限呢？" after the answer on the deadlines: read with the earlier question it finds the same entry,
    but the article its words point to (found first) is not among that entry's 依据 — the articles answer instead and
    the entry stays offered as a related question. When the first article found is one the entry cites, or the
    entry was not the previous answer, the curated answer is shown as usual."""
    from assistant.answer.context import Earlier

    entry = _curated_entry()
    wording = Item(id="fx-fuyi-001~0", title="", text=entry.question, kind="curated", target=entry.id)
    just_given = Earlier(entry.question, entry.question, (FUYI,), entry.id)
    follow = _result("对环保处罚不服，申请复议和起诉的期限是多久？那要是错过了期限呢？", [FUYI_OTHER, FUYI_9],
                     confidence=0.5, curated=[wording])
    ans = compose(follow, T, "", curated_rows={entry.id: entry}, follow_up=just_given)
    assert ans.curated is None and ans.decision is Decision.ANSWER
    assert [i for c in ans.citations for i in c.ids][0] == FUYI_OTHER.id
    assert [r["id"] for r in ans.related] == [entry.id]
    # the first article found is one the entry cites: it answers the follow-up again
    cited_first = _result("对环保处罚不服…那复议要多少天内提？", [FUYI_9, FUYI_OTHER], confidence=0.5, curated=[wording])
    again = compose(cited_first, T, "", curated_rows={entry.id: entry}, follow_up=just_given)
    assert again.curated is not None and again.curated["id"] == entry.id
    # the same when the entry was only offered ("您是不是想问", a letter's best entry) and the user asked on
    letter = "您好！我们是定海一家水产加工厂，上个月收到了行政处罚决定书……请问不服的话应该怎么办？"
    offered = Earlier(letter, letter, (FUYI,), offered=entry.id)
    assert compose(follow, T, "", curated_rows={entry.id: entry}, follow_up=offered).curated is None
    assert compose(cited_first, T, "", curated_rows={entry.id: entry}, follow_up=offered).curated is not None
    # the article the follow-up's own words find first inside the topic is not one the entry cites: the articles
    # answer even though the search read with the conversation found a cited one first …
    from dataclasses import replace

    # (when those words name only things the entry never mentions: "那听证会在哪开" — not "那复议要多少天内提？",
    # which names nothing, nor "行政复议期间要停产吗", whose 行政复议 the entry speaks of)
    rows = {entry.id: entry}
    own_words_elsewhere = replace(cited_first, asked_top=FUYI_OTHER.id)
    elsewhere = compose(own_words_elsewhere, T, "", curated_rows=rows, follow_up=just_given, asked="那听证会在哪开")
    assert elsewhere.curated is None
    assert [i for c in elsewhere.citations for i in c.ids][:2] == [FUYI_9.id, FUYI_OTHER.id]  # in the order found
    for words in ("那复议要多少天内提？", "行政复议期间要停产吗", ""):
        assert compose(own_words_elsewhere, T, "", curated_rows=rows, follow_up=just_given, asked=words).curated
    assert compose(replace(cited_first, asked_top=FUYI_9.id), T, "", curated_rows=rows, follow_up=just_given,
                   asked="那听证会在哪开").curated is not None
    # … and an answer given earlier in the conversation (not the previous one) counts like the one just given
    two_back = Earlier("拉到宁波的处置单位去要走什么手续？", "…", (FUYI,), "", given=(entry.id,))
    assert compose(follow, T, "", curated_rows={entry.id: entry}, follow_up=two_back).curated is None
    assert compose(cited_first, T, "", curated_rows={entry.id: entry}, follow_up=two_back).curated is not None
    # another previous answer, or no conversation: the curated answer as usual
    other = Earlier("排污许可证能用几年？", "排污许可证能用几年？", ("排污许可管理条例",), "fx-pwxk-001")
    for earlier in (other, None):
        shown = compose(follow, T, "", curated_rows={entry.id: entry}, follow_up=earlier)
        assert shown.curated is not None and shown.curated["id"] == entry.id


def test_a_follow_up_article_card_shows_first_the_sentence_the_follow_up_asks_about() -> None:
    """Read with its earlier question ("…预案编完要备案吗？那员工培训方面有什么要求？") the article found first is the one
    on penalties; of its clauses, the one the follow-up's own words match (training) is shown first, not the one the
    earlier question's words match (filing). Without a follow-up the words searched decide as before."""
    law = "突发环境事件应急管理办法"
    penalties = _item(law, "38", "企业事业单位有下列情形之一的，由县级以上环境保护主管部门责令改正，可以处一万元以上三万元以下罚款：\n"
                      "（一）未按规定将突发环境事件应急预案备案的；\n（二）未按规定开展突发环境事件应急培训，如实记录培训情况的。",
                      kind="部门规章", article=38)
    res = _result("我们要编制突发环境事件应急预案，预案编完要备案吗？那员工培训方面有什么要求？", [penalties], confidence=0.8)
    asked = compose(res, T, "", asked="那员工培训方面有什么要求？")
    assert "培训" in asked.citations[0].answer_sentence and "备案的" not in asked.citations[0].answer_sentence
    plain = compose(res, T, "")
    assert "备案的" in plain.citations[0].answer_sentence
    # words of the follow-up that match nothing: the words searched decide
    assert compose(res, T, "", asked="那罚多少？").citations[0].answer_sentence == plain.citations[0].answer_sentence


def test_a_long_letter_leads_with_the_articles_found_and_only_offers_the_curated_entry() -> None:
    """The asker's own message is a long letter: the articles the ranking found lead, the curated entry that matched
    is offered first among the related questions (and, by the answerer, as 您是不是想问) — a curated entry's
    confidence is fitted on short wordings and its 依据 often miss what a letter asks. A short question, or a short
    follow-up whose searched text (read with the conversation) is long, still gets the curated answer."""
    entry = _curated_entry()
    wording = Item(id="fx-fuyi-001~0", title="", text=entry.question, kind="curated", target=entry.id)
    letter = ("尊敬的领导：您好！我公司是岱山县一家船舶修造企业，上个月因为喷漆车间废气收集设施未正常运行被区分局立案，"
              "上周收到了行政处罚决定书，罚款五万元。我们对事实认定有不同意见，想请问：对这个处罚不服的话，"
              "申请行政复议要在多少天以内提出？如果因为疫情耽误了期限还能不能申请？谢谢！")
    assert len(letter) > 80
    ans = compose(_result(letter, [FUYI_OTHER, FUYI_9], confidence=0.5, curated=[wording]), T, "",
                  curated_rows={entry.id: entry})
    assert ans.curated is None and ans.related_articles == []
    assert [i for c in ans.citations for i in c.ids] == [FUYI_OTHER.id, FUYI_9.id]  # in the order found
    assert [r["id"] for r in ans.related][0] == entry.id
    # no article confident enough to be shown: the curated answer (for reference) rather than nothing
    weak = compose(_result(letter, [FUYI_OTHER, FUYI_9], confidence=0.2, curated=[wording]), T, "",
                   curated_rows={entry.id: entry})
    assert weak.curated is not None and weak.curated["id"] == entry.id
    short = compose(_result("不服处罚复议期限多久", [FUYI_OTHER, FUYI_9], confidence=0.5, curated=[wording]), T, "",
                    curated_rows={entry.id: entry})
    assert short.curated is not None and short.curated["id"] == entry.id
    # a follow-up read with a long earlier message: its own words decide, not the text searched
    searched = letter + "那要是错过了期限呢？"
    follow = compose(_result(searched, [FUYI_9, FUYI_OTHER], confidence=0.5, curated=[wording]), T, "",
                     curated_rows={entry.id: entry}, asked="那复议要多少天内提？")
    assert follow.curated is not None and follow.curated["id"] == entry.id
    long_own = compose(_result(searched, [FUYI_9, FUYI_OTHER], confidence=0.5, curated=[wording]), T, "",
                       curated_rows={entry.id: entry}, asked=letter)
    assert long_own.curated is None


def test_a_catalogue_row_is_quoted_without_the_lines_kept_for_the_search() -> None:
    """The hazardous-waste catalogue's row showed "［表头：废物类别 | …］", the document's title twice, the PDF's wrapped
    lines ("实验\\n室") and the hazard column run into the description ("…介质等T/C/I/R")."""
    from assistant.answer.sources import shown_text

    row = ("国家危险废物名录（2021年版） › HW49 其他废物 › 国家危险废物名录\n［表头：废物类别 | 行业来源 | 废物代码 | 危险废物 | "
           "危险特性］\n900-047-49\n化学和生物实验\n室产生的废液、过滤吸附介质等T/C/I/R")
    assert shown_text("名录", row) == "HW49 其他废物\n900-047-49\n化学和生物实验室产生的废液、过滤吸附介质等（危险特性：T/C/I/R）"
    assert shown_text("名录", "900-041-49\n含有或沾染毒性、感染性危险废物的废弃包装物、容器 T/In").endswith(
        "容器（危险特性：T/In）")
    article = "第六条 属于本名录第 1 至 107 类行业的排污单位，按照锅炉、水处理等通\n用工序实施重点管理或者简化管理的，……"
    assert "通用工序" in shown_text("名录", article)
    assert shown_text("名录", article).startswith("属于本名录")  # the card names 第六条; not "第六条 第六条 属于…"
    assert shown_text("部门规章", "第一条 通\n用") == "第一条 通\n用"  # other documents whole, as ingested
    # a cell's line wrap read back as a space inside a word is joined; the space between two cells stays
    waste = "266-009-16 显（定）影剂、正负胶片、像纸、感光材料生 产过程中产生的不合格产品和过期产品 T"
    assert "感光材料生产过程中" in shown_text("名录", waste)
    assert shown_text("名录", "900-220-08 废变压 器油 T，I").endswith("废变压器油（危险特性：T，I）")  # several hazards
    assert shown_text("名录", "900-404-06\n…的混合/调和溶剂T，I，R").endswith("调和溶剂（危险特性：T，I，R）")
    # a waste row's description is one cell: every space between two Chinese characters in it is a wrap
    assert shown_text("名录", "267-003-15 生产过程中产生的 废水处理污泥 R，T 炸药制造") == (
        "267-003-15 生产过程中产生的废水处理污泥（危险特性：R，T）")  # the next row's 行业来源 cell is not this row's
    assert shown_text("名录", "271-004-02 化学合成原料药生产过程中产生的废吸附剂 T化学药品原料药制造").endswith("废吸附剂（危险特性：T）")
    permit = "97 燃气生产和供应业 451，生物质燃气生 产和供应业 452 涉及通用工序重点管理的 涉及通用工序简化管理的 其他"
    assert shown_text("名录", permit) == ("97 燃气生产和供应业 451，生物质燃气生产和供应业 452 涉及通用工序重点管理的 "
                                         "涉及通用工序简化管理的 其他")
    assert shown_text("法律", "感光材料生 产") == "感光材料生 产"  # only a catalogue's PDF cells
    # the next category's cell read into a row's passage is not the row's; the row's heading stays a line of its own
    head = "国家危险废物名录（2021年版） › HW11 精（蒸）馏残渣 › 国家危险废物名录\n"
    assert shown_text("名录", head + "261-012-11 异丙苯生产过程中精馏塔产生的重馏分 T\nHW11\n精（蒸）\n馏残渣\n基础化学原料\n"
                      "制造") == "HW11 精（蒸）馏残渣\n261-012-11 异丙苯生产过程中精馏塔产生的重馏分（危险特性：T）"
    assert shown_text("名录", "261-046-27 锑金属生产过程中收集的粉尘 T HW27含锑废物基础化学原料") == (
        "261-046-27 锑金属生产过程中收集的粉尘（危险特性：T）")
    assert shown_text("名录", head.replace("HW11 精（蒸）馏残渣", "HW05 木材防腐剂废物") + "非特定行业 900-004-05 失效的木材防腐"
                      "化学药品 T").startswith("HW05 木材防腐剂废物\n非特定行业")
    assert "（不包括上述 HW06、HW39类别的废物）（危险特性：T）" in shown_text(  # a category named in the text stays
        "名录", "261-085-45\n其他有机卤化物的不合格产品（不包括上述 HW06、HW39类别的废物）T")
