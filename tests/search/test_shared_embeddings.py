"""A second machine of a deployment finds the passage vectors the first one computed (issue #16.4): the cache file
is backed by the database's ``embeddings`` table; question vectors stay on the machine; a changed text is new."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from conftest import fixture_paths
from sqlalchemy import func, select

from assistant.config import Settings
from assistant.db.models import Embedding
from assistant.search.encoders import HashingEncoder, embed_passages
from assistant.search.shared_cache import SharedEmbeddingCache
from assistant.service import AssistantService


class _Counting(HashingEncoder):
    def __init__(self) -> None:
        super().__init__(256)
        self.encoded = 0

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        self.encoded += len(texts)
        return super().encode_passages(texts)


def test_a_second_machine_builds_its_vectors_from_the_database(db_settings: Settings, tmp_path: Path) -> None:
    first = AssistantService(db_settings.evolve(shared_embeddings="on"))
    first.migrate()
    first.ingest(fixture_paths(db_settings))
    first.build_indexes()
    with first.Session() as s:
        shared = s.scalar(select(func.count()).select_from(Embedding)) or 0
    n = len(first.retriever.passages.items)
    assert shared >= n > 0  # every passage vector (and the curated rows') is in the database
    # the second machine: same database, an empty index folder (no cache file), an encoder that counts its work
    second = AssistantService(db_settings.evolve(shared_embeddings="on", index_dir=tmp_path / "machine-2"))
    counting = _Counting()
    second.indexes.encoders._encoder = counting
    info = second.build_indexes()
    assert info["vectors"] and counting.encoded == 0
    a, b = first.retriever.passages.vectors, second.retriever.passages.vectors
    assert a is not None and b is not None and np.allclose(a._matrix, b._matrix)
    first.engine.dispose()
    second.engine.dispose()


def test_only_passage_vectors_are_shared_and_a_changed_text_is_new(service: AssistantService, tmp_path: Path) -> None:
    cache = SharedEmbeddingCache(tmp_path / "a.sqlite", service.session)
    enc = HashingEncoder(64)
    embed_passages(enc, ["第一条 排污许可证有效期为五年。"], cache)
    cache.put_many(f"{enc.id}:query", ["排污证几年"], enc.encode_queries(["排污证几年"]))
    with service.Session() as s:
        encoders = sorted(set(s.scalars(select(Embedding.encoder))))
    assert f"{enc.id}:query" not in encoders and enc.id in encoders
    other = SharedEmbeddingCache(tmp_path / "b.sqlite", service.session)  # another machine
    assert len(other.get_many(enc.id, ["第一条 排污许可证有效期为五年。"])) == 1
    assert other.get_many(enc.id, ["第一条 排污许可证有效期为三年。"]) == {}
    assert other.get_many(f"{enc.id}:query", ["排污证几年"]) == {}


def test_sqlite_deployments_keep_vectors_in_the_file_only(settings: Settings) -> None:
    svc = AssistantService(settings)  # auto: the embedded SQLite default is one machine
    assert type(svc.indexes.encoders.cache()).__name__ == "EmbeddingCache"
    pg = AssistantService(settings.evolve(database_url="postgresql+psycopg://x@127.0.0.1:1/none"))
    assert isinstance(pg.indexes.encoders.cache(), SharedEmbeddingCache)
