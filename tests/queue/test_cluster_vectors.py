"""An abstained question is encoded once: the clusterer takes the vector the answer path computed for the same text
with the same encoder, and its decisions do not change."""

from __future__ import annotations

import numpy as np

from assistant.queue.cluster import QuestionClusterer
from assistant.search.encoders import HashingEncoder
from assistant.text.normalize import normalize


class _Counting(HashingEncoder):
    def __init__(self) -> None:
        super().__init__(128)
        self.seen: list[str] = []

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        self.seen.extend(texts)
        return super().encode_queries(texts)


OPEN = [["我们厂的危废仓库满了能不能先堆在外面"], ["排污许可证到期了怎么延续"]]
NEW = "危废仓库满了可以暂时放在室外吗"


def test_a_remembered_vector_is_not_encoded_again_and_changes_nothing() -> None:
    counting = _Counting()
    plain, enc = QuestionClusterer(counting), _Counting()
    expected = plain.assign(NEW, OPEN)
    q = normalize(NEW)
    assert q in counting.seen  # without the answer's vector the question is encoded here
    primed = QuestionClusterer(enc)
    primed.remember_vector(q, enc.encode_queries([q])[0])  # what the answer path computed
    enc.seen.clear()
    assert primed.assign(NEW, OPEN) == expected
    assert q not in enc.seen  # the open items were encoded, the new question was not


def test_a_vector_of_another_size_is_ignored() -> None:
    enc = _Counting()
    c = QuestionClusterer(enc)
    c.remember_vector(normalize(NEW), np.ones(7, dtype=np.float32))
    c.assign(NEW, OPEN)
    assert normalize(NEW) in enc.seen
