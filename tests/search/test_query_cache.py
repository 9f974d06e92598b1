"""The query-vector cache: a repeated question skips the encoder, in one worker (LRU) and across workers and
restarts (the on-disk store); a broken store never fails an answer."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from assistant.search.encoders import EmbeddingCache, HashingEncoder, QueryVectorCache


class Counting(HashingEncoder):
    def __init__(self) -> None:
        super().__init__(64)
        self.calls: list[str] = []

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        self.calls += texts
        return super().encode_queries(texts)


def test_lru_then_store_shared_by_workers(tmp_path: Path) -> None:
    store_path = tmp_path / "embeddings.sqlite"
    enc_a, enc_b = Counting(), Counting()
    a = QueryVectorCache(enc_a, 16, EmbeddingCache(store_path))  # worker A
    b = QueryVectorCache(enc_b, 16, EmbeddingCache(store_path))  # worker B, same machine
    va = a.encode_queries(["排污许可证有效期几年", "危废转移联单保存几年"])
    a.encode_queries(["排污许可证有效期几年"])
    assert enc_a.calls == ["排污许可证有效期几年", "危废转移联单保存几年"]  # the repeat came from the LRU
    vb = b.encode_queries(["危废转移联单保存几年", "排污许可证有效期几年", "噪声排放标准是多少"])
    assert enc_b.calls == ["噪声排放标准是多少"]  # the two known ones came from A's store
    assert np.allclose(vb[0], va[1]) and np.allclose(vb[1], va[0])
    assert np.allclose(vb[2], HashingEncoder(64).encode_queries(["噪声排放标准是多少"])[0])
    assert a.id == enc_a.id and a.dim == 64


def test_broken_store_is_skipped(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    store = EmbeddingCache(tmp_path / "embeddings.sqlite")
    store._conn.execute("DROP TABLE emb")  # the file was replaced or damaged under the running service
    enc = Counting()
    q = QueryVectorCache(enc, 16, store)
    v = q.encode_queries(["排污许可证有效期几年"])
    assert v.shape == (1, 64) and enc.calls == ["排污许可证有效期几年"]
    assert "query vector store" in caplog.text
    with pytest.raises(sqlite3.Error):
        store.get_many("x", ["y"])
