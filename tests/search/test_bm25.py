"""BM25 engines over the fixture corpus items."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import NOISE_OLD, PWXK, SHARED_FIXTURES, WFZY, ZS_SHIP

from assistant.ingest.markdown import parse_markdown
from assistant.ingest.replies import parse_mailbox
from assistant.search.bm25 import BM25Engine, BM25Index
from assistant.search.corpus import items_from_parsed
from assistant.search.index import Item
from assistant.search.query import prepare
from assistant.text.tokenize import TokenField, Tokenizer


@pytest.fixture(scope="module")
def items() -> list[Item]:
    docs = [parse_markdown(p) for p in sorted(SHARED_FIXTURES.rglob("*.md"))]
    docs += [d for d in parse_mailbox(SHARED_FIXTURES / "official_replies" / "mee_mailbox.jsonl")
             if not isinstance(d, Exception)]
    return items_from_parsed(docs)


def _build(items: list[Item], engine: str, field: str = "both") -> BM25Index:
    tk = Tokenizer.default()
    return BM25Index(engine).build([tk.tokens(it.bm25_text(), TokenField.parse(field)) for it in items])


QUERIES = [
    ("排污许可证的有效期是几年", f"{PWXK}#14"),
    ("危险废物电子转移联单数据保存多少年", f"{WFZY}#6"),
    ("跨省转移危险废物需要向省级生态环境主管部门申请", f"{WFZY}#5"),
    ("港口船舶含油污水和船舶垃圾交给谁接收", f"{ZS_SHIP}#2"),
    ("环境噪声污染超标准排污费", f"{NOISE_OLD}#16"),
    ("未取得排污许可证排放污染物罚款", f"{PWXK}#120"),
]


@pytest.mark.parametrize("field", ["words", "bigrams", "both"])
def test_engines_agree_on_top1(items: list[Item], field: str) -> None:
    a, b = _build(items, "rank_bm25", field), _build(items, "bm25s", field)
    for query, expected in QUERIES:
        toks = prepare(query, field, None).tokens
        top_a = items[int(np.argmax(a.scores(toks)))].id
        top_b = items[int(np.argmax(b.scores(toks)))].id
        assert top_a == top_b == expected, query


@pytest.mark.parametrize("engine", ["rank_bm25", "bm25s"])
def test_empty_or_unknown_query_scores_zero(items: list[Item], engine: str) -> None:
    idx = _build(items, engine)
    for toks in ([], ["完全不存在的词"], ["§xy"]):
        s = idx.scores(toks)
        assert s.shape == (len(items),) and not s.any()


@pytest.mark.parametrize("engine", ["rank_bm25", "bm25s"])
def test_save_load_same_scores(items: list[Item], engine: str, tmp_path: Path) -> None:
    idx = _build(items, engine)
    idx.save(tmp_path / "bm25.pkl")
    back = BM25Index.load(tmp_path / "bm25.pkl")
    toks = prepare(QUERIES[0][0], "both", None).tokens
    assert back.engine is BM25Engine(engine) and back.n_docs == len(items)
    np.testing.assert_allclose(back.scores(toks), idx.scores(toks))
    assert back.idf == idx.idf


def test_empty_corpus_and_empty_document() -> None:
    assert BM25Index("bm25s").build([]).scores(["排污"]).shape == (0,)
    idx = BM25Index("rank_bm25").build([["排污", "许可"], [], ["噪声"]])
    s = idx.scores(["噪声"])
    assert s[2] > 0 and s[0] == 0 and s[1] == 0


@pytest.mark.parametrize(("kwargs", "needle"), [({"engine": "lucene"}, "lucene"), ({"k1": 0}, "0"),
                                                 ({"b": 1.5}, "1.5")])
def test_parameter_validation(kwargs: dict, needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        BM25Index(**kwargs)
