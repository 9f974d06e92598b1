"""Abbreviation expansion (the shipped table and a hand-made one)."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.search.query import prepare
from assistant.text.synonyms import SynonymTable, default_synonyms


@pytest.mark.parametrize(
    ("query", "canonical"),
    [("环评要多久才能批下来", "环境影响评价"), ("排污证有效期几年", "排污许可证"), ("危废怎么贮存", "危险废物"),
     # how a review period is asked for, and how the rules state one ("20个工作日内完成审查", "作出审批决定")
     ("辐射安全许可证交上去多久能办下来", "审批期限 工作日内完成审查 作出审批决定"),
     # a hazardous-waste category by its code is hazardous waste (the catalogue's 46 categories)
     ("hw08的废物怎么贮存", "危险废物"), ("hw49的废活性炭能交给一般公司吗", "危险废物"),
     # how long a bad credit record stays ("不良信息的保存和披露期限为五年")
     ("信用平台上的不良记录会挂几年", "保存和披露期限"),
     # livestock farms and the zone that forbids them
     ("我们有个养猪场 说划进禁养区了", "畜禽养殖场 禁止养殖区域")],
)
def test_shipped_table_appends_canonical(query: str, canonical: str) -> None:
    out = default_synonyms().expand(query)
    assert out.startswith(query), "the user's own words are kept"
    assert out.endswith(" " + canonical)


@pytest.mark.parametrize(("query", "canonical"), [
    ("向环保局申请公开别家的环评批复", "政府信息公开申请"), ("总铬超标三倍会不会构成污染环境罪", "严重污染环境"),
    ("会不会判刑", "严重污染环境")])
def test_shipped_table_adds_the_statutory_words_next_to_others(query: str, canonical: str) -> None:
    """A request to disclose and the crime of polluting, in the words the rules use (other groups may add theirs)."""
    out = default_synonyms().expand(query)
    assert out.startswith(query) and canonical in out[len(query):].split()


def test_no_expansion_when_canonical_already_present() -> None:
    syn = default_synonyms()
    assert syn.expand("排污许可证有效期") == "排污许可证有效期"
    assert syn.expansions("今天天气不错") == []


def test_table_from_file_longest_variant_first(tmp_path: Path) -> None:
    f = tmp_path / "syn.tsv"
    f.write_text("# comment\n排污许可证\t排污证\t排污许可正\n危险废物\t危废\n\n单独一项\n", encoding="utf-8")
    syn = SynonymTable.load(f)
    assert syn.to_canonical == {"排污证": "排污许可证", "排污许可正": "排污许可证", "危废": "危险废物"}
    assert syn.expansions("排污证和危废") == ["排污许可证", "危险废物"]
    assert syn.expansions("排污证排污证") == ["排污许可证"]  # no repeats


def test_table_missing_file_is_empty(tmp_path: Path) -> None:
    assert SynonymTable.load(tmp_path / "none.tsv").expand("环评") == "环评"


def test_prepare_expands_normalises_and_tokenises() -> None:
    pq = prepare("環評ＧＢ", "words", None)
    assert pq.normalized == "环评gb"
    assert "环境影响评价" in pq.expanded
    assert "环境影响评价" in pq.tokens or {"环境", "影响", "评价"} <= set(pq.tokens)
    assert pq.vector is None
    assert prepare("环评", "words", None, expand=False).expanded == "环评"


def test_every_category_of_the_catalogue_is_hazardous_waste() -> None:
    syn = default_synonyms()
    codes = [*range(1, 41), *range(45, 51)]  # HW41–HW44 are not used by the 2021 catalogue
    assert all(syn.to_canonical.get(f"hw{n:02d}") == "危险废物" for n in codes)
