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
