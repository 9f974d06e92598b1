"""The first minutes after a cold start (issue #16): curated answers are matched in hybrid mode as soon as the small
curated index has vectors while the passages are still on BM25; /healthz and every answer say which mode answered;
the vector build reports its progress; a changed passage text is embedded again, never served from the cache."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
from conftest import fixture_paths

from assistant.app import create_app
from assistant.config import Settings
from assistant.search.encoders import EmbeddingCache, HashingEncoder, embed_passages
from assistant.service import AssistantService


def _bm25_only(settings: Settings) -> AssistantService:
    svc = AssistantService(settings)
    svc.migrate()
    svc.ingest(fixture_paths(settings))
    svc.build_indexes(with_vectors=False)
    return svc


def test_curated_answers_are_hybrid_before_the_passages(db_settings: Settings) -> None:
    svc = _bm25_only(db_settings)
    try:
        lc = svc.indexes
        assert lc.status()["retrieval_modes"] == {"passages": "bm25", "curated": "bm25"}
        # what the background build does first: the curated index's vectors, attached in place
        cur = lc.retriever.curated
        assert cur is not None
        enc = lc.encoders.encoder
        assert enc is not None
        cur.attach_vectors(embed_passages(enc, [it.embed_text() for it in cur.items], None), enc)
        assert lc.status()["retrieval_modes"] == {"passages": "bm25", "curated": "hybrid"}
        assert lc.status()["retrieval_mode"] == "bm25"
        res = svc.retriever.search("排污许可证能用几年")
        assert res.curated is not None and res.curated.mode == "hybrid" and res.passages.mode == "bm25"
        ans = svc.answer("排污许可证能用几年")
        assert ans.curated is not None and ans.as_dict()["meta"]["retrieval_mode"] == "hybrid"
        app = create_app(service=svc, start=False)
        body = app.test_client().get("/healthz").get_json()
        assert body["retrieval_modes"] == {"passages": "bm25", "curated": "hybrid"}
    finally:
        svc.engine.dispose()


def test_the_vector_build_reports_done_total_and_time_left(db_settings: Settings) -> None:
    svc = _bm25_only(db_settings)
    try:
        vb = svc.indexes.vectors
        seen: list[dict[str, object]] = []
        real = vb._advance

        def watch(done: int, total: int) -> None:
            real(done, total)
            seen.append(dict(vb.progress))

        vb._advance = watch  # type: ignore[method-assign]
        vb.run()
        assert vb.state == "ready" and svc.status()["retrieval_modes"] == {"passages": "hybrid", "curated": "hybrid"}
        assert seen and all(p["total"] and 0 < int(p["done"]) <= int(p["total"]) for p in seen)  # type: ignore[call-overload]
        last = seen[-1]
        assert last["done"] == last["total"] and last["eta_s"] == 0.0
        assert {p["index"] for p in seen} == {"curated", "passages"}
    finally:
        svc.engine.dispose()


def test_progress_callback_counts_only_what_is_encoded(tmp_path: Path) -> None:
    enc, cache = HashingEncoder(64), EmbeddingCache(tmp_path / "e.sqlite")
    calls: list[tuple[int, int]] = []
    embed_passages(enc, ["甲条", "乙条", "丙条"], cache, batch=2, on_batch=lambda d, t: calls.append((d, t)))
    assert calls == [(2, 3), (3, 3)]
    calls.clear()
    embed_passages(enc, ["甲条", "乙条", "丙条", "丁条"], cache, batch=2, on_batch=lambda d, t: calls.append((d, t)))
    assert calls == [(1, 1)]  # three were cached


def test_a_changed_text_is_embedded_again(tmp_path: Path) -> None:
    enc, cache = HashingEncoder(64), EmbeddingCache(tmp_path / "e.sqlite")
    old = embed_passages(enc, ["第一条 排污许可证有效期为五年。"], cache)[0]
    encoded: list[list[str]] = []
    lock = threading.Lock()
    inner = enc.encode_passages

    def spy(texts: list[str]) -> np.ndarray:
        with lock:
            encoded.append(list(texts))
        return inner(texts)

    enc.encode_passages = spy  # type: ignore[method-assign]
    new = embed_passages(enc, ["第一条 排污许可证有效期为三年。"], cache)[0]
    assert encoded == [["第一条 排污许可证有效期为三年。"]] and not np.allclose(old, new)
    again = embed_passages(enc, ["第一条 排污许可证有效期为五年。"], cache)[0]
    assert encoded == [["第一条 排污许可证有效期为三年。"]] and np.allclose(old, again)  # unchanged text: from the cache
