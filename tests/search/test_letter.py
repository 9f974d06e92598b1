"""Reading letters: sentences, question sentences, the focus text, named documents and standard codes."""

from __future__ import annotations

from assistant.search.letter import LONG_QUERY_CHARS, analyse, split_sentences

LETTER = (
    "尊敬的领导：您好！我公司位于普陀区，主要从事水产品加工，现有废水处理站一座。"
    "《排污许可管理条例》第十四条规定“排污许可证有效期为5年”。"
    "我公司排污许可证将于明年3月到期，但今年公司名称和法定代表人都变了。"
    "请问：1、名称变更是否需要重新申请排污许可证？2、延续申请最晚什么时候提交？谢谢！"
)


def test_sentences_and_questions_of_a_letter() -> None:
    p = analyse(LETTER)
    assert p.is_long and len(p.normalized) > LONG_QUERY_CHARS
    questions = [s.text for s in p.questions]
    assert any("重新申请排污许可证" in q for q in questions)
    assert any("延续申请最晚" in q for q in questions)
    # background and the quoted rule are not questions; greetings and thanks are dropped
    assert not any("水产品加工" in q for q in questions)
    assert not any(s.text.startswith(("尊敬的", "谢谢")) for s in p.sentences)
    # the focus of a long letter is its questions, not its background
    assert "延续申请" in p.focus and "水产品加工" not in p.focus
    assert 0 < p.question_share < 1


def test_named_documents_and_standards() -> None:
    p = analyse("执行《污水综合排放标准》GB 8978-1996 还是《污水排入城镇下水道水质标准》CJ 343-2010？")
    assert p.titles == ["污水综合排放标准", "污水排入城镇下水道水质标准"]
    assert p.standards == ["gb 8978-1996", "cj 343-2010"]


def test_short_question_is_its_own_focus_and_traditional_input_works() -> None:
    p = analyse("排汙許可證能用幾年？")
    assert not p.is_long
    assert p.focus == "排污许可证能用几年?"
    assert [s.question for s in p.sentences] == [True]


def test_a_cue_inside_a_quoted_rule_is_not_a_question() -> None:
    p = analyse("条例规定“是否属于重点管理由名录确定”。我们厂已经办了登记。")
    assert p.questions == []


def test_enumerations_split() -> None:
    parts = [s for _, s in split_sentences("有两个问题 1、能不能先投产 2、要不要验收")]
    assert parts == ["有两个问题", "1、能不能先投产", "2、要不要验收"]
