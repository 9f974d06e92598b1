"""The question workflow's conversation context on both databases: a follow-up in one session is answered with
the question before it (and says so); other sessions, other channels and stale conversations are not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from conftest import PWXK, WFZY
from sqlalchemy import update

from assistant.db.models import Question
from assistant.service import AssistantService
from assistant.text.normalize import normalize

FIRST = "排污许可证的有效期是几年"
FOLLOW = "那到期了没延续还排污，罚多少？"


def test_a_follow_up_uses_the_previous_question_of_its_session(service: AssistantService) -> None:
    service.ask(FIRST, channel="widget", session_id="s-1")
    out = service.ask(FOLLOW, channel="widget", session_id="s-1")
    meta = out.answer.as_dict()["meta"]
    assert meta["context"] == {"used": True, "turn": FIRST, "turns": [FIRST], "shown": [FIRST]}
    assert meta["searched"].startswith(FIRST) and meta["searched"].endswith(FOLLOW)
    assert out.answer.question == FOLLOW  # the answer is to the user's words
    with service.Session() as s:
        row = s.get(Question, out.question_id)
        assert row is not None and row.text == FOLLOW and row.result["meta"]["context"]["used"] is True


def test_context_never_crosses_sessions_or_channels(service: AssistantService) -> None:
    service.ask(FIRST, channel="widget", session_id="s-a")
    assert service.ask(FOLLOW, channel="widget", session_id="s-b").answer.meta["context"] == {"used": False}
    assert service.ask(FOLLOW, channel="wechat", session_id="s-a").answer.meta["context"] == {"used": False}
    assert service.ask(FOLLOW, channel="cli").answer.meta["context"] == {"used": False}  # no session at all


def test_a_new_topic_or_a_stale_conversation_stands_alone(service: AssistantService) -> None:
    first = service.ask(FIRST, channel="chat", session_id="s-2")
    switch = service.ask("另外问一下，危险废物转移联单要保存几年？", channel="chat", session_id="s-2")
    assert switch.answer.meta["context"] == {"used": False}
    with service.Session() as s:  # the conversation went quiet for more than 30 minutes
        s.execute(update(Question).where(Question.session_id == "s-2")
                  .values(asked_at=datetime.now(UTC) - timedelta(minutes=31)))
        s.commit()
    assert service.ask(FOLLOW, channel="chat", session_id="s-2").answer.meta["context"] == {"used": False}
    assert first.question_id < switch.question_id


def test_a_chain_of_follow_ups_keeps_the_topic(service: AssistantService) -> None:
    service.ask(FIRST, channel="api", session_id="s-3")
    service.ask("个体户也要吗？", channel="api", session_id="s-3")
    third = service.ask("那罚多少？", channel="api", session_id="s-3")
    assert third.answer.meta["context"]["turn"] == "个体户也要吗？"
    assert FIRST in third.answer.meta["searched"]  # the short follow-up brought its own context along


def test_a_follow_up_on_the_same_law_is_shown_for_reference_and_passed_to_staff(service: AssistantService) -> None:
    """A follow-up too uncertain to answer, whose best article is in a document the previous answer cited, shows
    those articles as 参考 and goes to the staff queue as well ("追问仅给出参考条文"); asked alone it is only routed."""
    from assistant.answer.decide import Decision, Thresholds
    from assistant.db.models import QueueMember
    from assistant.search.index import document_of

    first = service.ask(FIRST, channel="chat", session_id="s-ref")
    cited = {document_of(i) for c in first.answer.citations for i in c.ids}
    assert first.answer.decision is not Decision.ABSTAIN and cited
    service.answerer.thresholds = Thresholds(answer=1.0, caution=1.0, curated=1.0)  # nothing is confident now
    out = service.ask(FOLLOW, channel="chat", session_id="s-ref")
    ans = out.answer.as_dict()
    assert ans["meta"]["context"]["used"] is True and ans["decision"] == "caution" and not ans["curated"]
    assert document_of(ans["citations"][0]["id"]) in cited
    assert ans["meta"]["queued"] is True and "您的追问已同时转交工作人员" in ans["notice"]
    alone = service.ask(FOLLOW, channel="chat", session_id="s-alone").answer.as_dict()
    assert alone["decision"] == "abstain" and not alone["citations"]
    # a message that asks nothing, read with the conversation the same way, is not called a 追问
    service.answerer.thresholds = Thresholds()
    service.ask(FIRST, channel="chat", session_id="s-ref-told")
    service.answerer.thresholds = Thresholds(answer=1.0, caution=1.0, curated=1.0)
    told = service.ask("那我们厂的许可证去年到期了还在排污", channel="chat", session_id="s-ref-told").answer
    assert told.meta["context"]["used"] is True and told.meta.get("queued") is True
    assert "您的消息已同时转交工作人员" in told.notice and "追问" not in told.notice
    with service.Session() as s:
        members = s.query(QueueMember).filter(QueueMember.question_id == out.question_id).all()
        assert [m.source for m in members] == ["followup_review"]
        assert s.query(Question).filter(Question.session_id == "s-ref", Question.text == FOLLOW).count() == 1
    assert service.questions.status(out.token)["status"] == "pending"


def test_a_close_curated_entry_is_offered_and_taking_it_is_recorded(service: AssistantService) -> None:
    # the fixture entry on the permit's validity, asked in words far enough from its wordings not to be shown
    service.answerer.settings = service.settings.evolve(suggest_threshold=0.0)
    out = service.ask("许可证到期时间", channel="widget", session_id="s-4")
    sug = out.answer.suggestion
    assert out.answer.curated is None and sug is not None and sug["id"] == "fx-pwxk-001"
    assert out.answer.as_dict()["suggestion"] == sug
    taken = service.ask(sug["question"], channel="widget", session_id="s-4", suggestion_of=out.question_id)
    assert taken.answer.curated is not None and taken.answer.curated["id"] == "fx-pwxk-001"
    assert taken.answer.suggestion is None  # shown, so not offered again
    with service.Session() as s:
        row = s.get(Question, taken.question_id)
        assert row is not None and row.suggestion_of == out.question_id


def test_the_curated_answer_just_given_is_never_offered_again(service: AssistantService) -> None:
    """A follow-up the previous curated answer did not answer is not offered that answer as "您是不是想问"."""
    service.answerer.settings = service.settings.evolve(suggest_threshold=0.0)
    out = service.ask("许可证到期时间", channel="widget", session_id="s-again")
    assert out.answer.suggestion is not None and out.answer.suggestion["id"] == "fx-pwxk-001"
    res = service.retriever.search("许可证到期时间")
    assert service.answerer.suggestion(res, out.answer, just_given={"fx-pwxk-001"}) is None
    assert service.answerer.suggestion(res, out.answer, just_given={"fx-other"}) == out.answer.suggestion


def test_a_long_letter_is_shown_the_articles_and_offered_the_curated_entry(service: AssistantService) -> None:
    """A letter whose best curated entry would be shown to a short question leads with the articles found; the entry
    is offered as 您是不是想问 and one tap shows it."""
    service.answerer.settings = service.settings.evolve(suggest_threshold=0.0)
    from assistant.answer.decide import Thresholds

    service.answerer.thresholds = Thresholds(answer=0.0, caution=0.0, curated=0.0)  # every entry would be shown
    letter = ("您好！我们是普陀区一家水产冷冻加工厂，三年前领取了排污许可证，最近在整理台账时发现许可证的有效期"
              "好像快到了，但是不清楚具体到期以后要怎么处理。请问排污许可证到期之前需要提前多久申请延续？"
              "如果来不及办理会不会影响正常生产？谢谢！")
    assert len(letter) > 80
    out = service.ask(letter, channel="widget", session_id="s-letter-sug")
    ans = out.answer.as_dict()
    assert not ans["curated"] and ans["citations"] and not ans["related_articles"]
    assert ans["suggestion"] is not None and ans["suggestion"]["id"] == "fx-pwxk-001"
    assert "fx-pwxk-001" not in [r["id"] for r in ans["related"]]  # offered once, not again as a chip
    with service.Session() as s:  # the next turn knows what was offered (a follow-up it does not answer: not again)
        earlier = service.questions._earlier(s, "widget", "s-letter-sug", out.question_id + 1)
        assert earlier is not None and earlier.offered == "fx-pwxk-001" and earlier.entries == {"fx-pwxk-001"}
        # … and so does every later turn read with the conversation (``meta.entries``, Earlier.given)
        assert out.answer.meta["entries"] == ["fx-pwxk-001"] and earlier.given == ("fx-pwxk-001",)
    short = service.ask("许可证到期时间", channel="widget", session_id="s-short-sug").answer
    assert short.curated is not None and short.curated["id"] == "fx-pwxk-001" and short.suggestion is None
    taken = service.ask(ans["suggestion"]["question"], channel="widget", session_id="s-letter-sug",
                        suggestion_of=out.question_id)
    assert taken.answer.curated is not None and taken.answer.curated["id"] == "fx-pwxk-001"
    assert taken.answer.meta["context"] == {"used": False}  # a curated question of its own, not read with the letter


def test_no_suggestion_below_the_band(service: AssistantService) -> None:
    service.answerer.settings = service.settings.evolve(suggest_threshold=1.0)
    assert service.ask("许可证到期时间", channel="widget", session_id="s-5").answer.suggestion is None


def test_an_entry_that_shares_no_word_with_the_question_is_not_offered(service: AssistantService) -> None:
    """Even at the lowest band, a petition about something else ("咨询A市买房资格有关问题") is offered no curated entry
    of ours: it shares no word with any of its wordings (decide.shares_a_word)."""
    from assistant.answer.decide import shares_a_word

    service.answerer.settings = service.settings.evolve(suggest_threshold=0.0)
    for q in ("咨询A市买房资格有关问题", "女儿经常抱怨小学饭菜做得不好"):
        out = service.ask(q, channel="widget", session_id="s-noise").answer
        assert out.curated is None and out.suggestion is None
    assert service.ask("许可证到期时间", channel="widget", session_id="s-6").answer.suggestion is not None
    assert shares_a_word("排污证 排污许可证 到期", ["排污许可证有效期多久？"])
    assert shares_a_word(normalize("排汙許可證到期"), ["排污许可证有效期多久？"])  # Traditional input
    assert not shares_a_word("咨询a市买房资格有关问题", ["企业环保咨询日怎么参加？", "咨询日在哪"])


LETTER = ("尊敬的领导：我公司是一家位于舟山的水产品加工企业，去年取得了排污许可证，今年扩大了生产规模，"
          "新增了一条加工线，废水排放量比原来增加了约三成，船舶含油污水也由我们代为接收。请问我公司是否需要重新申请"
          "排污许可证，还是办理变更即可？逾期不办理会有什么后果？")


def test_a_long_letter_answered_for_reference_also_goes_to_staff(db_settings) -> None:  # type: ignore[no-untyped-def]
    """A letter answered only with caution (参考（请核实）) is shown its articles and queued for staff, once."""
    from conftest import build_service

    from assistant.db.models import QueueMember

    # every confidence passes the answer threshold: a long letter is still only "参考", a short question answered
    svc = build_service(db_settings.evolve(answer_threshold=0.0, caution_threshold=0.0))
    try:
        out = svc.ask(LETTER, channel="chat", session_id="sess-letter-1")
        ans = out.answer.as_dict()
        assert ans["decision"] == "caution" and ans["citations"] and not ans["curated"]
        assert ans["meta"]["queued"] is True and "已同时转交工作人员" in ans["notice"]
        with svc.Session() as s:
            members = s.query(QueueMember).filter(QueueMember.question_id == out.question_id).all()
            assert [m.source for m in members] == ["letter_review"]
            q = s.get(Question, out.question_id)
            assert q is not None and q.decision == "caution" and q.result["meta"]["queued"] is True
        assert svc.questions.status(out.token)["status"] == "pending"
        short = svc.ask("船舶含油污水", channel="chat", session_id="sess-letter-2").answer.as_dict()
        assert short["decision"] == "answer" and "queued" not in short["meta"]  # a short question: answered
    finally:
        svc.stop_background()
        svc.engine.dispose()
    svc = build_service(db_settings.evolve(answer_threshold=0.0, caution_threshold=0.0, long_letter_answers=True))
    try:  # ASSISTANT_LONG_LETTER_ANSWERS=1: the letter is answered outright, not queued
        ans = svc.ask(LETTER, channel="chat", session_id="sess-letter-3").answer.as_dict()
        assert ans["decision"] == "answer" and "queued" not in ans["meta"]
    finally:
        svc.stop_background()
        svc.engine.dispose()


def test_the_conversation_topic_is_what_the_previous_answer_showed(service: AssistantService) -> None:
    """The documents of the previous answer — its citations and the articles offered apart under a curated answer
    (其他可能相关的条文), never a mailbox reply — are the topic a follow-up is held to."""
    import secrets

    from assistant.questions import QuestionWorkflow

    card = {"id": "排污许可管理条例#24", "section": "regulation",
            "parts": [{"id": "排污许可管理条例#24"}, {"id": "排污许可管理条例#43"}]}
    related = {"id": "固定污染源排污许可分类管理名录（2019年版）#2", "section": "regulation"}
    reply = {"id": "部长信箱·关于排污登记的回复（mee-001）#1", "section": "reply"}
    with service.Session() as s:
        q = Question(token=secrets.token_urlsafe(24), text="登记管理要申请证吗", normalized=normalize("登记管理要申请证吗"),
                     channel="chat", session_id="s-topic",
                     result={"citations": [card, reply], "related_articles": [related], "meta": {}})
        s.add(q)
        s.commit()
        earlier = QuestionWorkflow._earlier(s, "chat", "s-topic", q.id + 1)
    assert earlier is not None and earlier.question == "登记管理要申请证吗"
    assert earlier.documents == ("排污许可管理条例", "固定污染源排污许可分类管理名录（2019年版）")


def test_the_earlier_turn_carries_the_curated_answer_it_showed(service: AssistantService) -> None:
    """What the context rules read of the previous question: its words, what was searched, and the curated entry its
    answer showed (a follow-up that only finds that entry again asks something else: ``stands_alone``)."""
    from assistant.questions import QuestionWorkflow

    first = service.ask(FIRST, channel="widget", session_id="s-5")
    shown = (first.answer.curated or {}).get("id", "")
    with service.Session() as s:
        earlier = QuestionWorkflow._earlier(s, "widget", "s-5", first.question_id + 1)
    assert earlier is not None and earlier.question == FIRST and earlier.curated == shown
    assert shown  # the bundled test corpus answers it with its curated entry


def test_a_follow_up_is_ranked_inside_its_topic_with_its_own_words(service: AssistantService, monkeypatch) -> None:
    """Read with its earlier question a follow-up finds the conversation's law; its own words are searched again
    inside that law's documents and the two rankings are merged (``context.follow_up_result``)."""
    from assistant.answer.context import merge_rankings, own_words, topic_documents
    from assistant.answer.sources import is_reply
    from assistant.search.retriever import Retriever

    calls: list[tuple[str, frozenset[str] | None, list[str]]] = []
    search = Retriever.search

    def spy(self, query, *args, within=None, **kw):  # type: ignore[no-untyped-def]
        res = search(self, query, *args, within=within, **kw)
        calls.append((query, within, [h.item.id for h in res.passages.hits]))
        return res

    monkeypatch.setattr(Retriever, "search", spy)
    service.ask(FIRST, channel="api", session_id="s-topic")
    calls.clear()
    out = service.ask(FOLLOW, channel="api", session_id="s-topic")
    assert out.answer.meta["context"]["used"] is True
    combined = next(ids for q, w, ids in calls if q == out.answer.meta["searched"] and w is None)
    # a question on the penalty ("…罚多少？") ranks the topic's penalty articles by the case told with it
    own_text, penalties = own_words(FOLLOW, out.answer.meta["searched"])
    assert penalties and own_text == out.answer.meta["searched"]
    own = [(w, ids) for q, w, ids in calls if q == own_text and w is not None]
    assert len(own) == 1, calls
    topic, own_ids = own[0]
    idx = service.indexes.retriever.passages
    replies = {i for i in combined if is_reply(idx.items[idx.pos[i]].kind)}
    assert topic == topic_documents(combined, replies) and own_ids
    assert all(i.rpartition("#")[0] in topic for i in own_ids)
    assert all(idx.columns()["penalty"][idx.pos[i]] for i in own_ids)  # only articles that set a penalty
    merged = [i for i, _ in merge_rankings(combined, own_ids)][:len(combined)]
    shown = [i for c in out.answer.citations for i in c.ids]
    if out.answer.curated is None:  # article answer: its cards follow the merged order
        assert shown == [i for i in merged if i in shown]
    # a question asked alone is searched once, never inside a topic
    calls.clear()
    service.ask(FIRST, channel="api", session_id="s-topic-2")
    assert all(w is None for _q, w, _ids in calls)


def test_a_case_told_in_several_messages_is_the_context_of_the_question_asked_last(service: AssistantService) -> None:
    """WeChat users tell their case in several messages and ask in the last one: the question is searched with all
    of them, and a message that asks nothing still hands on what was told before it."""
    turns = ["我们是定海一家水产加工厂，排污许可证的有效期是几年", "厂里去年又扩建了一条生产线",
             "那没延续还在排污，罚多少？"]
    for t in turns[:-1]:
        service.ask(t, channel="wechat", session_id="oOPENID-case")
    last = service.ask(turns[-1], channel="wechat", session_id="oOPENID-case").answer.meta
    assert last["context"] == {"used": True, "turn": turns[1], "turns": turns[:2], "shown": turns[:2]}
    assert last["searched"] == turns[0] + "。" + turns[1] + "。" + turns[2]
    with service.Session() as s:  # every message stored once, in its own words
        rows = s.query(Question).filter(Question.session_id == "oOPENID-case").order_by(Question.id).all()
        assert [r.text for r in rows] == turns


def test_thanks_get_a_polite_reply_are_not_queued_and_are_never_the_context(service: AssistantService) -> None:
    from assistant.db.models import QueueMember

    service.ask(FIRST, channel="widget", session_id="s-thanks")
    thanks = service.ask("好的，谢谢！", channel="widget", session_id="s-thanks")
    ans = thanks.answer.as_dict()
    assert ans["notice"].startswith("不客气") and not ans["citations"] and not ans["curated"] and not ans["footer"]
    assert ans["meta"]["context"] == {"used": False} and ans["meta"]["courtesy"] is True
    follow = service.ask(FOLLOW, channel="widget", session_id="s-thanks").answer.meta
    assert follow["context"] == {"used": True, "turn": FIRST, "turns": [FIRST], "shown": [FIRST]}  # the question before the thanks
    with service.Session() as s:
        row = s.get(Question, thanks.question_id)
        assert row is not None and row.text == "好的，谢谢！" and row.decision == "answer"
        assert s.query(QueueMember).filter(QueueMember.question_id == thanks.question_id).count() == 0


def test_a_message_that_only_tells_the_situation_invites_the_question_and_leaves_the_queue_after_it(
        service: AssistantService) -> None:
    """"我们在六横有个修船厂" found nothing: the user is asked to go on (and staff have it, in case nothing follows);
    once the question that follows is read with it, the message leaves the queue — the follow-up's answer, or the
    follow-up's own queue item with its conversation, takes it up. Every message is still stored once."""
    from assistant.answer.decide import Decision, Thresholds
    from assistant.db.models import QueueItem, QueueMember

    service.answerer.thresholds = Thresholds(answer=1.0, caution=1.0, curated=1.0)  # nothing is confident
    told = service.ask("我们在六横有个修船厂", channel="wechat", session_id="oOPENID-told")
    assert told.answer.decision is Decision.ABSTAIN and told.answer.meta["tells"] is True
    assert told.answer.notice.startswith("已记下您介绍的情况") and "转交工作人员" in told.answer.notice
    with service.Session() as s:
        member = s.query(QueueMember).filter(QueueMember.question_id == told.question_id).one()
        item_id = member.item_id
    follow = service.ask("那修船时抽出来的含油污水交给谁？", channel="wechat", session_id="oOPENID-told")
    assert follow.answer.meta["context"]["turns"] == ["我们在六横有个修船厂"]
    with service.Session() as s:
        assert s.query(QueueMember).filter(QueueMember.question_id == told.question_id).count() == 0
        item = s.get(QueueItem, item_id)
        assert item is not None and item.status == "closed" and item.count == 0
        assert s.query(QueueMember).filter(QueueMember.question_id == follow.question_id).count() == 1
        assert s.query(Question).filter(Question.session_id == "oOPENID-told").count() == 2
    # a keyword query asks nothing but tells nothing either: it keeps the usual notice
    plain = service.ask("含油污水接收", channel="wechat", session_id="oOPENID-kw").answer
    assert "tells" not in plain.meta and plain.notice.startswith("抱歉")


def test_a_told_message_staff_already_took_up_stays_in_the_queue(service: AssistantService) -> None:
    from assistant.answer.decide import Thresholds
    from assistant.db.models import QueueItem, QueueMember

    service.answerer.thresholds = Thresholds(answer=1.0, caution=1.0, curated=1.0)
    told = service.ask("我们厂在岱山，做鱼粉的", channel="chat", session_id="s-told-2")
    with service.Session() as s:
        m = s.query(QueueMember).filter(QueueMember.question_id == told.question_id).one()
        s.get(QueueItem, m.item_id).status = "assigned"
        s.commit()
    service.ask("那废气要怎么处理？", channel="chat", session_id="s-told-2")
    with service.Session() as s:
        assert s.query(QueueMember).filter(QueueMember.question_id == told.question_id).count() == 1


def test_a_new_question_asked_in_full_after_a_letter_stands_alone(service: AssistantService, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A short question after a long letter, on other documents and confident on its own words, is a new question:
    not read with the letter (whose rich text makes any search read with it look more certain), no
    "结合您上一个问题：尊敬的领导：…" line; a follow-up that points back is still read with the letter."""
    from assistant.answer import answerer, context
    from assistant.answer.decide import Thresholds

    # on the real corpus a letter's text makes the search read with it more certain than almost any short turn alone
    monkeypatch.setattr(answerer, "context_helps", lambda _alone, _combined: True)
    new = "危险废物转移联单要保存几年？"
    # (it names two things the letter never mentions: that rule alone would decide it — tested apart, here off)
    assert context.new_subjects(new, context.Earlier(LETTER, LETTER)) == ["危险废物", "转移联单"]
    monkeypatch.setattr(context, "asks_about_something_else", lambda _q, _e: False)
    service.answerer.thresholds = Thresholds(answer=1.0, caution=0.0, curated=1.0)  # nothing counts as confident
    service.ask(LETTER, channel="wechat", session_id="s-letter-new-1")
    before = service.ask(new, channel="wechat", session_id="s-letter-new-1").answer
    assert before.meta["context"]["used"] is True  # the short-turn rule alone reads it with the letter
    service.answerer.thresholds = Thresholds(answer=0.0, caution=0.0, curated=1.0)  # its own articles are certain
    letter = service.ask(LETTER, channel="wechat", session_id="s-letter-new-2").answer
    assert {c.title for c in letter.citations} & {PWXK}
    out = service.ask(new, channel="wechat", session_id="s-letter-new-2").answer
    assert out.meta["context"] == {"used": False} and out.meta["searched"] == new
    assert out.citations and out.citations[0].title == WFZY
    follow = service.ask("那逾期了罚多少？", channel="wechat", session_id="s-letter-new-2").answer
    assert follow.meta["context"]["used"] is True


def test_the_question_after_an_invitation_is_read_with_the_case_told(service: AssistantService) -> None:
    """The answer to "我们在六横有个修船厂" invited the question and promised to read it with the case: the next
    message — long and self-contained, which would otherwise stand alone — is read with it."""
    from assistant.answer.decide import Thresholds

    service.answerer.thresholds = Thresholds(answer=1.0, caution=1.0, curated=1.0)  # nothing is confident
    case = "我们在六横有个修船厂"
    q = "请问修船时从船舱里抽出来的含油污水和油泥，应该交给什么样的单位接收处理，要不要签合同？"
    assert len(q) > 30
    assert service.ask(case, channel="wechat", session_id="oOPENID-inv").answer.meta["tells"] is True
    out = service.ask(q, channel="wechat", session_id="oOPENID-inv").answer
    assert out.meta["context"]["used"] is True and out.meta["context"]["turns"] == [case]
    assert out.meta["searched"].startswith(case)
    # the same question after a question of its own stands alone
    service.ask("含油污水接收要什么资质？", channel="wechat", session_id="oOPENID-inv2")
    assert service.ask(q, channel="wechat", session_id="oOPENID-inv2").answer.meta["context"] == {"used": False}


def test_a_question_after_a_case_told_is_never_taken_out_of_it(service: AssistantService, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """After a message that told the case and asked nothing, the question that follows is that case's question:
    a curated match of its own words does not make it stand alone (``stands_alone`` is not consulted); after a
    question it is."""
    from assistant.answer import answerer

    asked: list[str] = []

    def spy(alone, combined, earlier, threshold, cites=lambda _e: set()):  # type: ignore[no-untyped-def]
        asked.append(earlier.question)
        return False

    monkeypatch.setattr(answerer, "stands_alone", spy)
    service.ask("我们在沈家门有个渔船翻新的小厂，主要就是刷漆", channel="chat", session_id="s-case")
    out = service.ask("那要记啥台账吗", channel="chat", session_id="s-case").answer
    assert out.meta["context"]["used"] is True and asked == []
    service.ask("渔船翻新刷漆要办排污许可吗？", channel="chat", session_id="s-case-q")
    service.ask("那要记啥台账吗", channel="chat", session_id="s-case-q")
    assert asked == ["渔船翻新刷漆要办排污许可吗？"]


def test_a_case_asked_in_several_messages_is_one_queue_item(service: AssistantService) -> None:
    """"这些算危废吧" went to staff; the question that follows, read with it and passed to staff as well, joins that
    item (staff answer the case once, with every message of it) instead of making an item of its own; another
    conversation's same words still make or join an item by similarity as before."""
    from assistant.answer.decide import Thresholds
    from assistant.db.models import QueueMember

    service.answerer.thresholds = Thresholds(answer=1.0, caution=1.0, curated=1.0)  # nothing is confident
    first = service.ask("化验室的废试剂瓶和过期药剂算危险废物吗？", channel="wechat", session_id="oOPENID-case-q")
    follow = service.ask("那门口和桶上要贴什么？", channel="wechat", session_id="oOPENID-case-q")
    assert follow.answer.meta["context"]["used"] is True
    with service.Session() as s:
        a = s.query(QueueMember).filter(QueueMember.question_id == first.question_id).one()
        b = s.query(QueueMember).filter(QueueMember.question_id == follow.question_id).one()
        assert a.item_id == b.item_id and a.item.count == 2 and a.item.title == "化验室的废试剂瓶和过期药剂算危险废物吗？"
    # the item in hand (assigned) is not added to: the follow-up gets an item of its own
    with service.Session() as s:
        s.get(QueueMember, a.id).item.status = "assigned"
        s.commit()
    later = service.ask("那要放多久？", channel="wechat", session_id="oOPENID-case-q")
    with service.Session() as s:
        c = s.query(QueueMember).filter(QueueMember.question_id == later.question_id).one()
        assert c.item_id != a.item_id


def test_a_message_that_only_adds_to_the_case_is_not_given_the_same_answer_again(service: AssistantService,
                                                                                monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """"那我们厂的证是前年办的" after the answer on the permit's validity asks nothing and finds that same curated answer:
    it is noted ("已记下您补充的情况，上面的答复仍然适用…"), not answered again word for word, and not queued; it stays part
    of the conversation for the question that follows."""
    from assistant.answer import answerer
    from assistant.answer.answerer import NOTED_TEXT
    from assistant.answer.decide import Decision
    from assistant.db.models import QueueMember

    real = answerer.compose
    entry = {"id": "fx-pwxk-001", "question": "排污许可证的有效期是几年？", "answer": "5年。", "citations": []}

    def same_entry(*a, **kw):  # type: ignore[no-untyped-def]  # every search finds the validity entry, confidently
        ans = real(*a, **kw)
        ans.curated, ans.decision = dict(entry), Decision.ANSWER
        return ans

    monkeypatch.setattr(answerer, "compose", same_entry)
    first = service.ask(FIRST, channel="wechat", session_id="oOPENID-noted").answer
    assert first.curated is not None and first.meta.get("noted") is None
    added = service.ask("那我们厂的证是前年办的", channel="wechat", session_id="oOPENID-noted")
    ans = added.answer
    assert ans.meta["context"]["used"] is True and ans.meta.get("noted") is True
    assert ans.curated is None and not ans.citations and ans.notice == NOTED_TEXT
    with service.Session() as s:
        assert s.query(QueueMember).filter(QueueMember.question_id == added.question_id).count() == 0
        # the answer still in force is the conversation's: a follow-up it does not answer never gets it offered again
        earlier = service.questions._earlier(s, "wechat", "oOPENID-noted", added.question_id + 1)
        assert earlier is not None and earlier.curated == "fx-pwxk-001"
    follow = service.ask("那现在要办延续吗？", channel="wechat", session_id="oOPENID-noted").answer
    assert follow.meta["context"]["used"] is True and "前年办的" in follow.meta["searched"]
    assert follow.curated is not None and follow.meta.get("noted") is None  # a question: answered (again) as before
