"""A WeChat follow-up answered in the conversation's context says which earlier question it used."""

from __future__ import annotations

from wechat_support import WxEnv, wx_db  # noqa: F401

from assistant.answer.compose import Answer
from assistant.answer.decide import Decision
from assistant.channels.wechat.format import format_answer


def _answer(meta: dict[str, object]) -> Answer:
    return Answer(question="那罚多少？", decision=Decision.ANSWER, confidence=0.9, mode="hybrid",
                  curated={"question": "无证排污怎么处罚？", "answer": "责令改正，处罚款。"}, citations=[], related=[],
                  meta=meta)


def test_the_reply_names_the_earlier_question_only_when_it_was_used() -> None:
    used = format_answer(_answer({"context": {"used": True, "turn": "排污许可证有效期是几年？"}}), "那罚多少？", "https://x")
    assert used.startswith("（结合您上一个问题：排污许可证有效期是几年？）\n【无证排污怎么处罚？】")
    alone = format_answer(_answer({"context": {"used": False}}), "那罚多少？", "https://x")
    assert "结合您上一个问题" not in alone


def test_two_messages_from_one_user_are_one_conversation(wx_db: WxEnv) -> None:  # noqa: F811
    first = wx_db.ask("排污许可证的有效期是几年", msg_id=9101)
    assert "结合您上一个问题" not in first
    assert "结合您上一个问题：排污许可证的有效期是几年" in wx_db.ask("那到期了没延续还排污，罚多少？", msg_id=9102)
    # another user's follow-up is answered on its own
    assert "结合您上一个问题" not in wx_db.ask("那到期了没延续还排污，罚多少？", msg_id=9103, openid="o-other-user")


def test_thanks_get_the_polite_reply_alone_and_the_next_follow_up_keeps_the_question(wx_db: WxEnv) -> None:  # noqa: F811
    wx_db.ask("排污许可证的有效期是几年", msg_id=9201)
    thanks = wx_db.ask("好的 谢谢", msg_id=9202)
    assert thanks.startswith("不客气") and "暂时没有找到" not in thanks and "完整答复" not in thanks
    assert "结合您上一个问题：排污许可证的有效期是几年" in wx_db.ask("那到期了没延续还排污，罚多少？", msg_id=9203)


def test_a_case_told_in_several_messages_names_each_of_them() -> None:
    ctx = {"used": True, "turn": "厂里去年又扩建了一条生产线",
           "turns": ["我们是定海一家水产加工厂，排污许可证的有效期是几年", "厂里去年又扩建了一条生产线"]}
    text = format_answer(_answer({"context": ctx}), "那罚多少？", "https://x")
    assert text.startswith("（结合您前面的消息：我们是定海一家水产加工厂，排污许可证的有… / 厂里去年又扩建了一条生产线）\n")


def test_a_letter_is_named_by_its_question_not_its_greeting() -> None:
    letter = ("您好，我们是沈家门一家做鱼干和虾干的加工厂，废水预处理以后排进城市污水管网，签了纳管协议。现在税务那边说要申报"
              "环境保护税。请问废水这块是不是就不用交了？")
    ctx = {"used": True, "turn": letter, "turns": [letter], "shown": ["请问废水这块是不是就不用交了？"]}
    text = format_answer(_answer({"context": ctx}), "是按月报还是按季报？", "https://x")
    assert text.startswith("（结合您上一个问题：请问废水这块是不是就不用交了？）\n") and "您好" not in text.split("\n")[0]


def test_a_message_that_only_tells_the_situation_is_answered_with_the_invitation() -> None:
    ans = Answer(question="我是沈家门的渔船老大", decision=Decision.ABSTAIN, confidence=0.1, mode="hybrid", curated=None,
                 citations=[], related=[], notice="已记下您介绍的情况。请接着说明您想咨询的问题。", meta={"tells": True})
    text = format_answer(ans, ans.question, "https://x")
    assert text.startswith("已记下您介绍的情况") and "暂时没有找到" not in text


def test_a_suggestion_is_offered_in_the_reply_and_taken_by_replying_1(db_settings) -> None:  # type: ignore[no-untyped-def]
    """WeChat has no buttons: "您是不是想问：…（回复“1”查看）" — "1" asks the suggested question, recorded as taken
    (suggestion_of); "1" with nothing offered is asked as it is."""
    from sqlalchemy import select
    from wechat_support import make_env, wx_settings

    from assistant.db.models import Question

    env = make_env(wx_settings(db_settings, suggest_threshold=0.0))
    wx = next(env)
    try:
        first = wx.ask("许可证到期时间", msg_id=9301)
        assert "您是不是想问：" in first and "（回复“1”查看）" in first
        suggested = first.split("您是不是想问：", 1)[1].split("（回复", 1)[0]
        taken = wx.ask("1", msg_id=9302)
        assert taken.startswith(f"【{suggested}】")
        with wx.svc.Session() as s:
            rows = s.scalars(select(Question).where(Question.channel == "wechat").order_by(Question.id)).all()
            assert [r.text for r in rows] == ["许可证到期时间", suggested]
            assert rows[1].suggestion_of == rows[0].id and rows[1].client_msg_id is not None
        again = wx.ask("1", msg_id=9303, openid="o-nothing-offered")
        assert not again.startswith(f"【{suggested}】")
        with wx.svc.Session() as s:
            assert s.scalar(select(Question.text).where(Question.session_id == "o-nothing-offered")) == "1"
    finally:
        next(env, None)


def test_an_answer_read_with_the_conversation_can_be_asked_alone_by_replying_0(wx_db: WxEnv) -> None:  # noqa: F811
    """WeChat has no buttons: under an answer read with the conversation "如不是接着上一个问题问的，回复“0”单独提问" —
    "0" asks the previous words again on their own; "0" after an answer not read in context is asked as it is."""
    from sqlalchemy import select

    from assistant.db.models import Question

    first = wx_db.ask("排污许可证的有效期是几年", msg_id=9401, openid="o-alone")
    assert "回复“0”单独提问" not in first
    follow = wx_db.ask("那到期了没延续还排污，罚多少？", msg_id=9402, openid="o-alone")
    assert "结合您上一个问题" in follow and "回复“0”单独提问" in follow
    alone = wx_db.ask("0", msg_id=9403, openid="o-alone")
    assert "结合您上一个问题" not in alone and "回复“0”单独提问" not in alone
    with wx_db.svc.Session() as s:
        rows = s.scalars(select(Question).where(Question.session_id == "o-alone").order_by(Question.id)).all()
        assert [r.text for r in rows] == ["排污许可证的有效期是几年", "那到期了没延续还排污，罚多少？",
                                          "那到期了没延续还排污，罚多少？"]
        assert rows[2].result["meta"]["context"] == {"used": False, "standalone": True}
    plain = wx_db.ask("0", msg_id=9404, openid="o-alone-none")
    with wx_db.svc.Session() as s:
        assert s.scalar(select(Question.text).where(Question.session_id == "o-alone-none")) == "0"
    assert "结合您上一个问题" not in plain


def test_a_message_that_only_adds_to_the_case_is_noted() -> None:
    from assistant.answer.answerer import NOTED_TEXT

    ans = Answer(question="厂里已经隔了一间小屋", decision=Decision.ANSWER, confidence=0.9, mode="hybrid", curated=None,
                 citations=[], related=[], notice=NOTED_TEXT,
                 meta={"noted": True, "context": {"used": True, "turn": "这些算危废吧", "turns": ["这些算危废吧"]}})
    text = format_answer(ans, ans.question, "https://x")
    assert NOTED_TEXT in text and "暂时没有找到" not in text and text.startswith("（结合您上一个问题：这些算危废吧）")
