"""AssistantService end to end on both databases: answers, the question log, curated answers, index reuse."""

from __future__ import annotations

import pytest
from conftest import NOISE_OLD, PWXK, WFZY, build_service
from sqlalchemy import func, select

from assistant.answer.decide import Decision, Thresholds
from assistant.config import Settings
from assistant.db.models import Question
from assistant.errors import QuestionError
from assistant.ingest.curated import CuratedEntry
from assistant.questions import MAX_QUESTION_CHARS
from assistant.search.index import SearchIndex
from assistant.service import AssistantService

# The hash encoder is not semantic and the shipped confidence model is fitted for e5, so tests about which
# articles are *cited* lower the thresholds; tests about decisions use the defaults.
LOW = Thresholds(answer=0.05, caution=0.01, curated=0.6)


def _questions(svc: AssistantService) -> list[Question]:
    with svc.Session() as s:
        return list(s.scalars(select(Question).order_by(Question.id)))


def test_right_article_is_cited(service: AssistantService) -> None:
    service.answerer.thresholds = LOW
    ans = service.answer("危险废物转移联单保存期限")
    assert ans.decision is Decision.ANSWER
    assert ans.citations[0].id == f"{WFZY}#6"
    # the passages of one document make one card (issue #15): its label lists them, best first
    assert ans.citations[0].label.startswith("《危险废物转移管理办法》第六条")
    assert ans.citations[0].as_dict()["parts"][0]["label"] == "《危险废物转移管理办法》第六条"
    assert "十年" in ans.citations[0].snippet
    assert len(ans.citations) <= 3
    assert ans.as_dict()["meta"]["retrieval_mode"] == "hybrid"


def test_curated_answer_first_for_paraphrase(service: AssistantService) -> None:
    ans = service.answer("排污许可证能用几年")  # not literally in the YAML
    assert ans.curated is not None and ans.curated["id"] == "fx-pwxk-001"
    assert ans.decision is Decision.ANSWER
    assert ans.citations[0].id == f"{PWXK}#14"  # the entry's own citation comes first
    assert "五年" in ans.curated["answer"]
    text = ans.as_text()
    assert text.index("■ 排污许可证的有效期是几年？") < text.index("依据：")


def test_repealed_excluded_by_default_and_flagged_when_included(service: AssistantService) -> None:
    service.answerer.thresholds = LOW
    q = "环境噪声污染超标准排污费"
    default = service.answer(q)
    assert all(c.status != "已废止" for c in default.citations)
    assert "已废止" not in default.notice
    incl = service.answer(q, include_repealed=True)
    assert incl.citations[0].id == f"{NOISE_OLD}#16" and incl.citations[0].status == "已废止"
    assert "已废止" in incl.notice
    assert "（已废止）" in incl.as_text()


def test_kinds_filter_in_answers(service: AssistantService) -> None:
    service.answerer.thresholds = LOW
    ans = service.answer("排污许可证怎么申请", kinds=["官方答复"])
    assert ans.citations and {c.kind for c in ans.citations} == {"官方答复"}


def test_out_of_scope_abstains(service: AssistantService) -> None:
    out = service.answer("孩子上小学的学费怎么交")
    inside = service.answer("排污许可证能用几年")
    assert out.decision is Decision.ABSTAIN
    assert out.confidence < inside.confidence
    assert out.citations == [] and out.curated is None
    assert out.notice.startswith("抱歉")


def test_ask_stores_question_once(service: AssistantService) -> None:
    out = service.ask("排污许可证能用几年", channel="api", district="定海区")
    rows = _questions(service)
    assert len(rows) == 1
    row = rows[0]
    assert row.id == out.question_id and row.token == out.token
    assert row.text == "排污许可证能用几年" and row.channel == "api" and row.district == "定海区"
    assert row.decision == out.answer.decision.value == "answer"
    assert row.confidence == pytest.approx(out.answer.confidence)
    assert row.top_id == "fx-pwxk-001"
    assert row.result["curated"]["id"] == "fx-pwxk-001"
    service.ask("危险废物转移联单保存期限")
    assert len(_questions(service)) == 2


def test_ask_stores_question_when_answering_fails(service: AssistantService,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*_a: object, **_k: object) -> None:
        raise RuntimeError("retrieval exploded")

    monkeypatch.setattr(service.answerer, "answer", boom)
    with pytest.raises(RuntimeError, match="exploded"):
        service.ask("排污许可证能用几年")
    [row] = _questions(service)
    assert row.decision == "error" and row.text == "排污许可证能用几年"


@pytest.mark.parametrize(("question", "code"), [("", "empty_question"), ("  \n\t ", "empty_question"),
                                                ("排" * (MAX_QUESTION_CHARS + 1), "question_too_long")])
def test_invalid_questions_rejected(service: AssistantService, question: str, code: str) -> None:
    with pytest.raises(QuestionError) as info:
        service.ask(question)
    assert info.value.code == code and info.value.message
    assert _questions(service) == []


def test_question_at_length_limit_accepted(service: AssistantService) -> None:
    service.ask("排" * MAX_QUESTION_CHARS)
    assert len(_questions(service)) == 1


def test_client_message_id_deduplicates(service: AssistantService) -> None:
    a = service.ask("排污许可证能用几年", channel="wechat", client_msg_id="m-1")
    b = service.ask("排污许可证能用几年", channel="wechat", client_msg_id="m-1")
    assert a.question_id == b.question_id and a.token == b.token
    assert b.answer.curated == a.answer.curated and b.answer.decision is a.answer.decision
    assert len(_questions(service)) == 1


def test_retry_after_error_with_same_client_message_id(service: AssistantService,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    real = service.answerer.answer

    def boom(*_a: object, **_k: object) -> None:
        raise RuntimeError("temporary failure")

    monkeypatch.setattr(service.answerer, "answer", boom)
    with pytest.raises(RuntimeError):
        service.ask("排污许可证能用几年", channel="wechat", client_msg_id="m-2")
    monkeypatch.setattr(service.answerer, "answer", real)
    out = service.ask("排污许可证能用几年", channel="wechat", client_msg_id="m-2")
    assert out.answer.curated is not None
    assert len(_questions(service)) == 1


def test_add_curated_is_findable_without_touching_passages(service: AssistantService) -> None:
    r = service.retriever
    passages_before = r.passages
    q = "船舶垃圾接收记录要保存几年？"
    assert "fx-ship-001" not in [h.item.target for h in r.search(q).curated.hits]  # type: ignore[union-attr]
    service.indexes.publish_curated(CuratedEntry(id="fx-ship-001", question=q, paraphrases=["船舶污染物接收台账保存多久"],
                                     answer="接收单位应如实记录，记录保存不少于两年。",
                                     citations=["舟山市船舶污染物管理条例#3"], category="海洋", origin="console"))
    assert service.retriever.passages is passages_before
    res = service.retriever.search("船舶污染物接收台账保存多久")
    assert res.curated is not None and res.curated.hits[0].item.target == "fx-ship-001"
    assert res.curated.mode == "hybrid"
    ans = service.answer("船舶污染物接收台账保存多久")
    assert ans.curated is not None and ans.curated["id"] == "fx-ship-001"
    assert ans.citations[0].id == "舟山市船舶污染物管理条例#3"
    saved = SearchIndex.load(service.settings.search.index_dir / "curated", service.indexes.encoders.encoder.id)  # type: ignore[union-attr]
    assert "fx-ship-001" in {it.target for it in saved.items}


def test_add_curated_draft_not_searchable(service: AssistantService) -> None:
    n = len(service.retriever.curated.items)  # type: ignore[union-attr]
    service.indexes.publish_curated(CuratedEntry(id="fx-d-2", question="草稿问题", answer="草稿", category="x", status="draft"))
    assert len(service.retriever.curated.items) == n  # type: ignore[union-attr]


def test_status_and_saved_index_reused(service: AssistantService, db_settings: Settings) -> None:
    st = service.status()
    assert st["retrieval_mode"] == "hybrid" and st["vectors"] == "ready" and st["encoder"] == "hash"
    assert st["passages"] == 24 and st["curated_rows"] == 7
    again = AssistantService(db_settings)
    try:
        again.load_indexes()
        assert again.status()["retrieval_mode"] == "hybrid" and again.indexes.vectors.state == "ready"
        assert [it.id for it in again.retriever.passages.items] == [it.id for it in service.retriever.passages.items]
    finally:
        again.engine.dispose()


def test_index_of_another_encoder_is_rebuilt(service: AssistantService, db_settings: Settings) -> None:
    other = AssistantService(db_settings.evolve(encoder="hash:32"))
    try:
        other.load_indexes(background=False)
        assert other.retriever.passages.manifest["encoder"] == "hash:32"
        assert other.status()["retrieval_mode"] == "hybrid"
        assert f"{WFZY}#6" in [h.item.id for h in other.retriever.search("危险废物转移联单保存期限").passages.hits[:3]]
    finally:
        other.engine.dispose()


def test_bm25_only_service(settings: Settings) -> None:
    svc = build_service(settings.evolve(encoder="none"))
    try:
        assert svc.status()["retrieval_mode"] == "bm25" and svc.indexes.vectors.state != "ready"
        res = svc.retriever.search("危险废物转移联单保存期限")
        assert res.passages.mode == "bm25" and res.passages.hits[0].dense is None
        assert res.passages.hits[0].item.id == f"{WFZY}#6"
        with svc.Session() as s:
            assert s.scalar(select(func.count()).select_from(Question)) == 0
    finally:
        svc.engine.dispose()
