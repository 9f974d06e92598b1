"""Encoders and the embedding cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.search.encoders import EmbeddingCache, EncoderError, HashingEncoder, embed_passages, get_encoder
from assistant.search.index import Item, SearchIndex


class CountingEncoder:
    """Wraps an encoder and counts the passages it is asked to embed."""

    def __init__(self, inner: HashingEncoder) -> None:
        self.inner = inner
        self.id, self.dim = inner.id, inner.dim
        self.passages = 0

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self.inner.encode_queries(texts)

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        self.passages += len(texts)
        return self.inner.encode_passages(texts)


ITEMS = [Item(id=f"d#{i}", title="文件", text=t) for i, t in
         enumerate(["排污许可证有效期五年。", "危险废物转移联单。", "船舶污水接收。", "夜间施工噪声。"])]


def test_second_build_reembeds_nothing(tmp_path: Path) -> None:
    enc = CountingEncoder(HashingEncoder(64))
    cache = EmbeddingCache(tmp_path / "emb.sqlite")
    first = SearchIndex.build(ITEMS, encoder=enc, cache=cache)  # type: ignore[arg-type]
    assert enc.passages == len(ITEMS)
    cache.close()
    cache = EmbeddingCache(tmp_path / "emb.sqlite")  # reopened from disk
    second = SearchIndex.build(ITEMS, encoder=enc, cache=cache)  # type: ignore[arg-type]
    assert enc.passages == len(ITEMS), "cached vectors must be reused"
    np.testing.assert_allclose(second.vectors._matrix, first.vectors._matrix)  # type: ignore[union-attr]
    more = [*ITEMS, Item(id="d#9", title="文件", text="新增的一条。")]
    SearchIndex.build(more, encoder=enc, cache=cache)  # type: ignore[arg-type]
    assert enc.passages == len(ITEMS) + 1, "only the new text is embedded"
    cache.close()


def test_cache_is_per_encoder(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path / "emb.sqlite")
    a, b = CountingEncoder(HashingEncoder(32)), CountingEncoder(HashingEncoder(64))
    texts = [it.text for it in ITEMS]
    embed_passages(a, texts, cache)  # type: ignore[arg-type]
    out = embed_passages(b, texts, cache)  # type: ignore[arg-type]
    assert b.passages == len(texts) and out.shape == (len(texts), 64)
    cache.close()


def test_hashing_encoder_is_deterministic_and_normalised() -> None:
    enc = HashingEncoder(128)
    v1, v2 = enc.encode_queries(["排汙許可證"]), HashingEncoder(128).encode_passages(["排污许可证"])
    np.testing.assert_allclose(v1, v2)  # normalised text: Traditional == Simplified
    assert np.linalg.norm(v1[0]) == pytest.approx(1.0)
    assert enc.encode_queries([]).shape == (0, 128)


def test_get_encoder() -> None:
    assert get_encoder("hash:48").dim == 48
    assert get_encoder("hash") is get_encoder("hash")
    with pytest.raises(EncoderError, match="word2vec"):
        get_encoder("word2vec")
