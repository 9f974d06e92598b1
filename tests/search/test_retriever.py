"""Hybrid retrieval over the fixture corpus (hash vectors; read-only, one SQLite service per module)."""

from __future__ import annotations

import pytest
from conftest import NOISE_OLD, PWXK, WFZY

from assistant.search.retriever import confidence_from
from assistant.service import AssistantService


def _top(svc: AssistantService, q: str, **kw) -> list[str]:
    return [h.item.id for h in svc.retriever.search(q, **kw).passages.hits]


def test_traditional_input_finds_same_article(search_service: AssistantService) -> None:
    simp = search_service.retriever.search("排污许可证有效期多久")
    trad = search_service.retriever.search("排汙許可證有效期多久")
    assert [h.item.id for h in trad.passages.hits] == [h.item.id for h in simp.passages.hits]
    assert trad.passages.hits[0].item.id == f"{PWXK}#14"
    assert trad.passages.confidence == pytest.approx(simp.passages.confidence)


def test_abbreviation_is_expanded(search_service: AssistantService) -> None:
    res = search_service.retriever.search("危废联单要保存几年")
    assert "危险废物" in res.query.expanded
    assert res.passages.hits[0].item.id == f"{WFZY}#6"


def test_repealed_excluded_by_default(search_service: AssistantService) -> None:
    res = search_service.retriever.search("环境噪声污染超标准排污费")
    assert not res.include_repealed
    assert all(h.item.status != "已废止" for h in res.passages.hits)
    assert f"{NOISE_OLD}#16" not in [h.item.id for h in res.passages.hits]


def test_repealed_included_on_request(search_service: AssistantService) -> None:
    res = search_service.retriever.search("环境噪声污染超标准排污费", include_repealed=True)
    top = res.passages.hits[0].item
    assert top.id == f"{NOISE_OLD}#16" and top.status == "已废止"
    assert res.include_repealed


def test_query_about_repealed_law_includes_it(search_service: AssistantService) -> None:
    res = search_service.retriever.search("已废止的噪声法怎么规定超标准排污费")
    assert res.include_repealed
    assert res.passages.hits[0].item.id == f"{NOISE_OLD}#16"
    assert search_service.retriever.search("已废止的噪声法超标准排污费", include_repealed=False) \
        .passages.hits[0].item.status != "已废止"


@pytest.mark.parametrize(("kinds", "question"), [(["地方性法规"], "排污许可证有效期"), (["官方答复"], "排污许可证"),
                                                 (["部门规章", "地方性法规"], "污染物接收")])
def test_kinds_filter(search_service: AssistantService, kinds: list[str], question: str) -> None:
    hits = search_service.retriever.search(question, kinds=kinds).passages.hits
    assert hits, "the filter must still return matching kinds"
    assert {h.item.kind for h in hits} <= set(kinds)


def test_curated_rows_collapse_onto_entries(search_service: AssistantService) -> None:
    res = search_service.retriever.search("排污许可证能用几年")
    assert res.curated is not None
    targets = [h.item.target for h in res.curated.hits]
    assert targets[0] == "fx-pwxk-001"
    assert len(targets) == len(set(targets))
    assert "fx-draft-001" not in targets  # drafts are never searchable


def test_out_of_scope_has_lower_confidence(search_service: AssistantService) -> None:
    r = search_service.retriever
    inside = r.search("危险废物转移联单保存期限").passages
    outside = r.search("孩子上小学的学费怎么交").passages
    assert outside.confidence < inside.confidence
    assert outside.features["coverage"] < inside.features["coverage"]


def test_k_limits_hits(search_service: AssistantService) -> None:
    assert len(_top(search_service, "排污许可", k=3)) == 3
    hits = search_service.retriever.search("排污许可", k=50).passages.hits
    assert len(hits) == len({h.item.id for h in hits}) <= len(search_service.retriever.passages.items)
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))


def test_confidence_from_is_a_bounded_logistic() -> None:
    assert confidence_from({}, {"bias": 0.0}) == pytest.approx(0.5)
    assert confidence_from({"coverage": 1.0}, {"bias": -3.0, "coverage": 4.0}) == pytest.approx(1 / (1 + 2.718281828 ** -1))
    assert 0.0 < confidence_from({"x": -1e9}, {"x": 1.0}) < 1e-12
