"""The answering sentence by e5 (issue #15 item 4): the sentences' vectors are encoded in the background, read on the
answer path (never encoded there), and until they are all at hand the query terms choose as before."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from assistant.answer.compose import compose
from assistant.answer.decide import Thresholds
from assistant.answer.sentence_vectors import SentenceVectors, item_sentences
from assistant.answer.sentences import answering_sentence
from assistant.search.encoders import EmbeddingCache
from assistant.search.index import Item
from assistant.search.query import prepare
from assistant.search.retriever import Hit, RankedList, SearchResult
from assistant.search.versions import index_lock

ARTICLE = ("排污单位应当按照排污许可证规定的时间提交执行报告。排污许可证有效期为五年。"
           "排污许可证有效期届满，排污单位需要继续排放污染物的，应当于有效期届满六十日前向审批部门提出申请。")
TOPICS = (("执行报告",), ("五年", "几年"), ("届满", "过期", "到期"))  # words of one meaning, as e5 would see them


class TopicEncoder:
    """A vector per topic word: sentences point at the topics they contain, a question at the topic it asks."""

    id, dim = "fake:topics", 3

    def __init__(self) -> None:
        self.passages_encoded: list[str] = []

    def _vec(self, text: str) -> np.ndarray:
        v = np.array([1.0 if any(w in text for w in t) else 0.0 for t in TOPICS], dtype=np.float32) + 1e-3
        return v / np.linalg.norm(v)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return np.stack([self._vec(t) for t in texts])

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        self.passages_encoded += texts
        return np.stack([self._vec(t) for t in texts])


def _vectors(tmp_path: Path, enc: TopicEncoder) -> SentenceVectors:
    cache = EmbeddingCache(tmp_path / "embeddings.sqlite")
    return SentenceVectors(lambda: enc, lambda: cache, tmp_path)


def test_the_answer_path_only_reads_and_the_background_encodes_each_sentence_once(tmp_path: Path) -> None:
    enc = TopicEncoder()
    sv = _vectors(tmp_path, enc)
    sents = item_sentences("行政法规", ARTICLE)
    assert len(sents) == 3 and item_sentences("行政法规", "只有一句话。") == []
    assert sv.lookup(sents) is None and enc.passages_encoded == []  # missing: nothing encoded on the answer path
    assert sv.run(lambda: [("行政法规", ARTICLE), ("行政法规", "只有一句话。")]) == 3 and sv.state == "ready"
    got = sv.lookup(sents)
    assert got is not None and got.shape == (3, 3)
    assert np.allclose(got, enc.encode_passages(sents))
    enc.passages_encoded.clear()
    assert sv.run(lambda: [("行政法规", ARTICLE)]) == 0 and enc.passages_encoded == []  # cached: not again


def test_a_sentence_a_lookup_missed_is_encoded_by_the_next_background_pass(tmp_path: Path) -> None:
    enc = TopicEncoder()
    sv = _vectors(tmp_path, enc)
    sv.run(lambda: [("行政法规", ARTICLE)])
    new = ["新增条款第一句。", "新增条款第二句。"]
    assert sv.lookup(new) is None  # ready, and these are new: a background pass is started for them
    assert sv._thread is not None
    sv._thread.join(timeout=10)
    assert sv.lookup(new) is not None and set(new) <= set(enc.passages_encoded)


def test_another_process_encoding_leaves_the_cache_to_it(tmp_path: Path) -> None:
    enc = TopicEncoder()
    sv = _vectors(tmp_path, enc)
    held = threading.Event()
    release = threading.Event()

    def other() -> None:
        with index_lock(tmp_path, "sentences", wait=False):
            held.set()
            release.wait(10)

    t = threading.Thread(target=other)
    t.start()
    held.wait(5)
    try:
        assert sv.run(lambda: [("行政法规", ARTICLE)]) == 0 and sv.state == "encoding_elsewhere"
        assert enc.passages_encoded == []
    finally:
        release.set()
        t.join()


def test_the_card_shows_the_sentence_closest_to_the_question_once_encoded(tmp_path: Path) -> None:
    """"许可证快过期了怎么办": every sentence holds 许可证, so the terms take the first; e5 (here: the topic vectors)
    points at the sentence on what to do when it expires. Before the vectors are encoded, the terms choose."""
    enc = TopicEncoder()
    sv = _vectors(tmp_path, enc)
    q = "许可证快过期了怎么办"
    terms = [t for t in prepare(q, "both", None).tokens if not t.startswith("§")]
    qv = enc.encode_queries([q])[0]
    by_terms = answering_sentence(ARTICLE, terms)
    assert by_terms.startswith("排污单位应当按照排污许可证规定的时间")
    assert answering_sentence(ARTICLE, terms, qv, sv.lookup) == by_terms  # not encoded yet: the terms' choice
    sv.run(lambda: [("行政法规", ARTICLE)])
    by_e5 = answering_sentence(ARTICLE, terms, qv, sv.lookup)
    assert "届满" in by_e5 and by_e5.startswith("排污许可证有效期届满")
    item = Item(id="排污许可管理条例#14", title="排污许可管理条例", text=ARTICLE, kind="行政法规", article=14,
                target="排污许可管理条例#14")
    pq = prepare(q, "both", None)
    res = SearchResult(query=type(pq)(pq.raw, pq.normalized, pq.expanded, pq.tokens, qv),
                       passages=RankedList([Hit(item=item, fused=1.0, bm25=1.0, dense=0.9, rank=1)], {}, 0.9,
                                           "hybrid"), curated=None)
    ans = compose(res, Thresholds(answer=0.4, caution=0.3, curated=0.7), "", embed=sv.lookup)
    assert ans.citations[0].answer_sentence == by_e5
