"""Answer composition helpers."""

from __future__ import annotations

from typing import Any

from assistant.answer.compose import Citation, compose, snippet
from assistant.answer.decide import Decision, Thresholds
from assistant.search.index import Item
from assistant.search.query import prepare
from assistant.search.retriever import Hit, RankedList, SearchResult


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


def _result(question: str, confidence: float) -> SearchResult:
    item = Item(id="中华人民共和国水污染防治法#21", title="中华人民共和国水污染防治法", text="直接或者间接向水体排放污染物的企业事业单位，应当取得排污许可证。",
                kind="法律", article=21, target="中华人民共和国水污染防治法#21")
    hits = [Hit(item=item, fused=1.0, bm25=1.0, dense=0.9, rank=1)]
    return SearchResult(query=prepare(question, "both", None), passages=RankedList(hits, {}, confidence, "hybrid"),
                        curated=None)


def test_a_long_letter_is_decided_by_the_long_letter_thresholds() -> None:
    t = Thresholds(answer=0.4, caution=0.3, curated=0.7, answer_long=0.8, caution_long=0.7)
    short = "企业排放废水要办排污许可证吗"
    letter = ("尊敬的领导：您好！我们是一家位于舟山的水产品加工企业，日常生产会产生清洗废水，经自建处理设施处理后排入市政管网。"
              "近期听说相关规定有变化，想请教：我们这种情况是否需要申请排污许可证？如果需要，应当向哪个部门申请？谢谢！")
    assert len(letter) > 80 >= len(short)
    assert compose(_result(short, 0.5), t, "").decision is Decision.ANSWER
    routed = compose(_result(letter, 0.5), t, "")
    assert routed.decision is Decision.ABSTAIN and not routed.citations
    shown = compose(_result(letter, 0.75), t, "")
    assert shown.decision is Decision.CAUTION and shown.notice.startswith("您的来信涉及具体情况")  # no relevance claim
    assert compose(_result(short, 0.35), t, "").notice.startswith("以下内容与您的问题相关度一般")
    # a short follow-up read with the letter is decided as a letter: it says what it was searched with
    follow = compose(_result(letter + "是按月报还是按季报？", 0.75), t, "", asked="是按月报还是按季报？")
    assert follow.decision is Decision.CAUTION and follow.notice.startswith("以下内容为结合您前面的消息检索到的相关规定")
    assert "相关度一般" not in follow.notice
    # read with a short question, a middling confidence still says so
    assert compose(_result("排污许可证有效期是几年？那罚多少？", 0.35), t, "", asked="那罚多少？").notice.startswith(
        "以下内容与您的问题相关度一般")


def test_a_table_snippet_reads_as_cells_and_rows() -> None:
    """A standard's table passage (Markdown pipe rows) is shown as cells and rows, not pipes and rules."""
    text = "表1 现有企业水污染物排放限值\n单位：mg/L\n| 序号 | 污染物 | 直接排放 |\n|---|---|---|\n| 1 | 总铬 | 0.5 |"
    snip, hl = snippet(text, ["总铬"])
    assert snip == "表1 现有企业水污染物排放限值 单位：mg/L 序号｜污染物｜直接排放； 1｜总铬｜0.5；" and hl == ["总铬"]
    assert "|" not in snip and "---" not in snip


def test_a_low_confidence_limit_row_naming_the_pollutant_is_shown_with_caution() -> None:
    """Fusion's confidence is low for limit rows (many near-identical rows of one table); when the best passage is a
    limit row naming the pollutant asked about, the row is shown with the caution notice instead of routing only."""
    row = Item(id="GB 1-2000 示例标准#表4·14", title="GB 1-2000 示例标准", kind="标准",
               text="GB 1-2000 表4 示例排放限值｜单位：mg/L｜污染物：化学需氧量（COD）｜一级标准：60")
    t = Thresholds(answer=0.6, caution=0.4, curated=0.7)

    def result(question: str, limit: bool = True) -> SearchResult:
        pq = prepare(question, "both", None)
        return SearchResult(pq, RankedList([Hit(row, 1.0, 5.0, None, 1)], {}, 0.2, "hybrid"), None, limit=limit)

    shown = compose(result("新建企业cod一级标准是多少"), t, "")
    assert shown.decision is Decision.CAUTION and shown.citations[0].id == row.id  # cod → 化学需氧量 is named
    assert compose(result("新建企业氨氮一级标准是多少"), t, "").decision is Decision.ABSTAIN  # another pollutant
    assert compose(result("新建企业cod一级标准是多少", limit=False), t, "").decision is Decision.ABSTAIN


def test_a_low_confidence_waste_row_naming_the_waste_asked_about_is_shown_with_caution() -> None:
    """"我们厂的废切削液是危废吗，代码多少": the best passage is the catalogue row naming 切削液 — shown with the caution
    notice, like a limit row, rather than routed only; a row naming another waste, or a question that does not ask
    whether it is hazardous or for its code, is not."""
    cat = "国家危险废物名录（2021年版）"
    row = Item(id=f"{cat}#row-900-006-09", title=cat, kind="名录",
               text=f"{cat} › HW09 油/水、烃/水混合物或乳化液\n900-006-09 使用切削油或切削液进行机械加工过程中产生的油/水、"
                    "烃/水混合物或乳化液 T")
    t = Thresholds(answer=0.6, caution=0.4, curated=0.7)

    def shown(question: str) -> Any:
        res = SearchResult(prepare(question, "both", None), RankedList([Hit(row, 1.0, 5.0, None, 1)], {}, 0.2, "hybrid"),
                           None)
        return compose(res, t, "")

    out = shown("我们厂的废切削液是危废吗，代码多少")
    assert out.decision is Decision.CAUTION and out.citations[0].id == row.id
    assert shown("废乳化液属于哪类危废").decision is Decision.CAUTION
    assert shown("废活性炭的危废代码是多少").decision is Decision.ABSTAIN  # the row names another waste
    assert shown("废切削液怎么贮存").decision is Decision.ABSTAIN  # asks something else


def test_a_follow_up_on_the_law_just_cited_is_shown_for_reference_and_passed_to_staff() -> None:
    """A follow-up ("那罚多少？") read with the earlier question is rarely confident; when its best article is in a
    document the previous answer cited, the articles are shown with the caution notice and staff answer it too."""
    from assistant.answer.context import Earlier

    t = Thresholds(answer=0.6, caution=0.45, curated=0.7)
    earlier = Earlier("水污染防治法对排污许可有什么规定？", "水污染防治法对排污许可有什么规定？",
                      ("中华人民共和国水污染防治法",))
    shown = compose(_result("那没办证罚多少？", 0.2), t, "", follow_up=earlier)
    assert shown.decision is Decision.CAUTION and shown.review == "followup_review"
    assert [c.id for c in shown.citations] == ["中华人民共和国水污染防治法#21"]
    assert "review" not in shown.as_dict()  # never sent: the workflow says it in the notice
    # not a follow-up, or a follow-up whose best article is in another document: routed to staff only
    assert compose(_result("那没办证罚多少？", 0.2), t, "").decision is Decision.ABSTAIN
    other = Earlier("大气污染防治法对锅炉有什么规定？", "大气污染防治法对锅炉有什么规定？", ("中华人民共和国大气污染防治法",))
    routed = compose(_result("那没办证罚多少？", 0.2), t, "", follow_up=other)
    assert routed.decision is Decision.ABSTAIN and not routed.citations and routed.review == ""
    # a confident follow-up is simply answered
    assert compose(_result("那没办证罚多少？", 0.9), t, "", follow_up=earlier).review == ""


def test_a_follow_up_the_short_rule_would_only_route_is_decided_as_a_letter() -> None:
    """A follow-up read with its conversation is a letter told in several messages: below the short questions'
    caution threshold but at the letters' one it is shown for reference and passed to staff, in whatever document
    its best article is; below that, or asked on its own, it is routed to staff only."""
    from assistant.answer.context import Earlier

    t = Thresholds(answer=0.6, caution=0.45, curated=0.7, answer_long=0.7, caution_long=0.1)
    other = Earlier("大气污染防治法对锅炉有什么规定？", "大气污染防治法对锅炉有什么规定？", ("中华人民共和国大气污染防治法",))
    shown = compose(_result("那没办证罚多少？", 0.2), t, "", follow_up=other)
    assert shown.decision is Decision.CAUTION and shown.review == "followup_review"
    assert [c.id for c in shown.citations] == ["中华人民共和国水污染防治法#21"]
    routed = compose(_result("那没办证罚多少？", 0.05), t, "", follow_up=other)
    assert routed.decision is Decision.ABSTAIN and not routed.citations
    assert compose(_result("那没办证罚多少？", 0.2), t, "").decision is Decision.ABSTAIN  # not a follow-up
    # without a letter threshold chosen apart (fusion), only the same-document rule applies
    plain = Thresholds(answer=0.6, caution=0.45, curated=0.7)
    assert compose(_result("那没办证罚多少？", 0.2), plain, "", follow_up=other).decision is Decision.ABSTAIN


def test_an_article_answer_shows_the_first_five_passages_found_in_at_most_three_document_cards() -> None:
    """Several articles of one law found together are one card with its clauses; a fourth document among the first
    five passages is left out rather than pushing the list to more cards, and nothing past the fifth is shown."""
    def item(doc: str, n: int) -> Item:
        return Item(id=f"{doc}#{n}", title=doc, text=f"{doc}第{n}条：排污单位应当依法取得排污许可证。", kind="法律",
                    article=n, target=f"{doc}#{n}")

    order = [("甲法", 1), ("乙法", 2), ("甲法", 3), ("丙法", 4), ("丁法", 5), ("乙法", 6)]
    hits = [Hit(item=item(d, n), fused=1.0 - i / 10, bm25=1.0, dense=0.9, rank=i + 1) for i, (d, n) in enumerate(order)]
    res = SearchResult(query=prepare("排污许可证要怎么办", "both", None),
                       passages=RankedList(hits, {}, 0.9, "hybrid"), curated=None)
    ans = compose(res, Thresholds(answer=0.6, caution=0.45, curated=0.7), "")
    assert [c.id for c in ans.citations] == ["甲法#1", "乙法#2", "丙法#4"]
    assert [p.id for c in ans.citations for p in c.passages] == ["甲法#1", "甲法#3", "乙法#2", "丙法#4"]


def test_notices_join_without_a_space_after_chinese_punctuation() -> None:
    from assistant.answer.decide import join_notices

    assert join_notices("请结合原文核实。", "您的追问已同时转交工作人员。") == "请结合原文核实。您的追问已同时转交工作人员。"
    assert join_notices("", "注意") == "注意" and join_notices("注意", "") == "注意"
    assert join_notices("see GB 1", "注意") == "see GB 1 注意"


def test_a_lookup_of_a_named_article_is_answered_by_it_unless_the_curated_answer_cites_it() -> None:
    """"排污许可管理条例第十四条是什么意思" (search/lookup.py): a confident curated entry that does not cite 第十四条 is only
    offered; one that cites it answers."""
    from assistant.db.models import CuratedAnswer

    art = Item(id="排污许可管理条例#14", title="排污许可管理条例", text="排污许可证有效期为5年。", kind="行政法规", article=14,
               target="排污许可管理条例#14")
    wording = Item(id="pw-1#q", title="排污许可怎么申请", text="排污许可怎么申请", kind="精选问答", target="pw-1")
    t = Thresholds(answer=0.6, caution=0.45, curated=0.7)

    def answer(cites: list[str], lookup: bool) -> Any:
        entry = CuratedAnswer(id="pw-1", question="排污许可怎么申请？", answer="网上申请。", citations=cites,
                              category="排污许可", lead_unit="", kind="qa")
        res = SearchResult(prepare("排污许可管理条例第十四条是什么意思", "both", None),
                           RankedList([Hit(art, 1.0, 1.0, 0.9, 1)], {}, 0.99, "hybrid"),
                           RankedList([Hit(wording, 0.9, 1.0, 0.9, 1)], {}, 0.95, "hybrid"), lookup=lookup)
        return compose(res, t, "", curated_rows={"pw-1": entry})

    offered = answer(["排污许可管理条例#3"], lookup=True)
    assert offered.curated is None and offered.citations[0].id == "排污许可管理条例#14"
    assert answer(["排污许可管理条例#14"], lookup=True).curated["id"] == "pw-1"
    assert answer(["排污许可管理条例#3"], lookup=False).curated["id"] == "pw-1"  # not a lookup: as before


def test_a_waste_category_asked_for_is_one_card_with_each_of_its_rows() -> None:
    """"HW08包括哪些废物" (search/lookup.py names the category's rows): every row on one card titled by the category,
    whose first line says how many rows it lists; a lookup of one code of the same rows cites five passages, as
    every answer does, labelled by their codes."""
    cat = "国家危险废物名录（2021年版）"
    codes = [f"900-2{i:02d}-08" for i in range(10, 17)]
    rows = [Item(id=f"{cat}#row-{c}", title=cat, kind="名录", target=f"{cat}#row-{c}",
                 text=f"{cat} › HW08 废矿物油与含矿物油废物 › 国家危险废物名录\n{c} 废物之{i}，以及其他废物 T，I")
            for i, c in enumerate(codes)]
    t = Thresholds(answer=0.6, caution=0.45, curated=0.7)

    def answer(question: str) -> Any:
        hits = [Hit(r, 1.0, 1.0, 0.9, i + 1) for i, r in enumerate(rows)]
        return compose(SearchResult(prepare(question, "both", None), RankedList(hits, {}, 0.99, "hybrid"), None,
                                    lookup=len(rows)), t, "")

    out = answer("HW08包括哪些废物")
    assert len(out.citations) == 1 and out.citations[0].ids == [r.id for r in rows]
    assert out.citations[0].label == f"《{cat}》HW08类7个废物代码"
    assert out.citations[0].answer_sentence == "HW08 废矿物油与含矿物油废物：本类列出7个废物代码，见下"
    assert [p.snippet.split(" ")[0] for p in out.citations[0].passages] == codes  # the heading once, not in each row
    assert not any(p.highlights for p in out.citations[0].passages)  # "包括", "废物" are not what the rows answer
    one = answer("900-210-08是什么危废")
    assert one.citations[0].ids == [r.id for r in rows[:5]]
    assert one.citations[0].label.startswith(f"《{cat}》废物代码900-210-08、废物代码900-211-08")
    assert one.citations[0].answer_sentence.startswith("900-210-08 废物之0")
