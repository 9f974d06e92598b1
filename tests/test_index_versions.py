"""Several worker processes on one database and one index folder: a curated answer published in one is answered
by the others within 2 s, without a full rebuild (two AssistantService instances stand in for two gunicorn workers)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest
from conftest import build_service
from sqlalchemy import create_engine, select

from assistant.app import create_app
from assistant.config import Settings
from assistant.db.models import IndexState
from assistant.ingest.curated import CuratedEntry
from assistant.search.index import SearchIndex
from assistant.service import AssistantService

Q = "船舶垃圾接收记录要保存几年？"
PARA = "船舶污染物接收台账保存多久"


@pytest.fixture
def workers(db_settings: Settings) -> Iterator[tuple[AssistantService, AssistantService]]:
    a = build_service(db_settings)
    b = AssistantService(db_settings)
    b.load_indexes()
    try:
        yield a, b
    finally:
        for svc in (a, b):
            svc.stop_background()
            svc.engine.dispose()


def _versions(svc: AssistantService) -> dict[str, int]:
    with svc.Session() as s:
        return {n: v for n, v in s.execute(select(IndexState.name, IndexState.version)).all()}


def test_publish_in_one_worker_is_answered_by_another_within_2s(
        workers: tuple[AssistantService, AssistantService]) -> None:
    a, b = workers
    assert _versions(a) == {"passages": 1, "curated": 1}  # build_indexes published both
    b.answer(PARA)  # B is serving, with its own copy of the indexes
    before = b.retriever.curated
    passages_b = b.retriever.passages
    assert "fx-ship-001" not in {it.target for it in before.items}  # type: ignore[union-attr]

    a.indexes.publish_curated(CuratedEntry(id="fx-ship-001", question=Q, paraphrases=[PARA],
                               answer="接收单位应如实记录，记录保存不少于两年。",
                               citations=["舟山市船舶污染物管理条例#3"], category="海洋", origin="console"))
    t0 = time.monotonic()
    assert _versions(a) == {"passages": 1, "curated": 2}
    while True:
        ans = b.answer(PARA)
        if ans.curated is not None and ans.curated["id"] == "fx-ship-001":
            break
        assert time.monotonic() - t0 < 2.0, "worker B did not see the published answer within 2 s"
        time.sleep(0.05)
    elapsed = time.monotonic() - t0
    print(f"published answer visible in worker B after {elapsed:.2f} s")
    assert elapsed < 2.0
    assert b.retriever.passages is passages_b  # only the curated index was reloaded, no rebuild
    assert b.retriever.curated is not before
    assert ans.citations[0].id == "舟山市船舶污染物管理条例#3"
    # checks are throttled: a second answer right away does not query the versions again
    assert b.indexes.refresh() == []


def test_full_build_in_one_worker_reloads_passages_in_another(
        workers: tuple[AssistantService, AssistantService]) -> None:
    a, b = workers
    b.answer(PARA)
    p_before, c_before = b.retriever.passages, b.retriever.curated
    a.build_indexes()
    assert _versions(a) == {"passages": 2, "curated": 2}
    assert sorted(b.indexes.refresh(force=True)) == ["curated", "passages"]
    assert b.retriever.passages is not p_before and b.retriever.curated is not c_before
    assert b.indexes.refresh(force=True) == []  # nothing new
    assert b.answer("排污许可证能用几年").curated is not None


def test_unreadable_index_keeps_serving(workers: tuple[AssistantService, AssistantService]) -> None:
    """A version bump whose files are not (yet) on disk leaves the old index serving and is retried."""
    a, b = workers
    b.answer(PARA)
    before = b.retriever.curated
    a.indexes.versions.publish("curated", before)  # type: ignore[arg-type]
    import shutil

    shutil.rmtree(b.settings.search.index_dir / "curated")
    assert b.indexes.refresh(force=True) == []
    assert b.retriever.curated is before
    assert b.answer("排污许可证能用几年").curated is not None


def test_readyz(settings: Settings) -> None:
    app = create_app(settings)
    svc = app.extensions["assistant"]
    client = app.test_client()
    try:
        r = client.get("/readyz")
        assert r.status_code == 200 and r.get_json()["status"] == "ready"
        good = svc.engine
        svc.engine.dispose()
        svc.engine = create_engine(f"sqlite:///{settings.search.index_dir / 'no' / 'such' / 'dir' / 'x.db'}")
        r = client.get("/readyz")
        assert r.status_code == 503
        body = r.get_json()
        assert body["status"] == "not_ready" and body["error_code"] == "not_ready"
        assert "数据库" in body["message"]
        assert client.get("/healthz").status_code == 200  # liveness is not readiness
        svc.engine.dispose()
        svc.engine = good
    finally:
        svc.engine.dispose()


def test_readyz_before_index_loaded(settings: Settings) -> None:
    app = create_app(settings.evolve(), start=False)
    svc = app.extensions["assistant"]
    try:
        r = app.test_client().get("/readyz")
        assert r.status_code == 503
        assert "索引" in r.get_json()["message"]
    finally:
        svc.engine.dispose()


@pytest.mark.postgres
def test_readyz_postgres_down(db_settings: Settings) -> None:
    app = create_app(db_settings)
    svc = app.extensions["assistant"]
    client = app.test_client()
    try:
        assert client.get("/readyz").status_code == 200
        good = svc.engine
        svc.engine = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none", connect_args={"connect_timeout": 2})
        r = client.get("/readyz")
        assert r.status_code == 503 and "数据库" in r.get_json()["message"]
        svc.engine.dispose()
        svc.engine = good
    finally:
        svc.engine.dispose()


def test_gunicorn_conf(monkeypatch: pytest.MonkeyPatch) -> None:
    """The shipped gunicorn settings: workers from WEB_CONCURRENCY (2 per core), 2 threads, no preload, one OpenMP
    thread per worker, key=value access log."""
    import runpy
    from pathlib import Path

    conf = Path(__file__).resolve().parents[1] / "gunicorn.conf.py"
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    c = runpy.run_path(str(conf))
    assert c["workers"] == 2 * (os.cpu_count() or 1) and c["threads"] == 2 and c["preload_app"] is False
    assert os.environ["OMP_NUM_THREADS"] == "1"
    assert c["timeout"] == 60 and c["graceful_timeout"] > 0 and c["accesslog"] == "-"
    assert "status=%(s)s" in c["access_log_format"] and "duration_ms=" in c["access_log_format"]
    monkeypatch.setenv("WEB_CONCURRENCY", "5")
    assert runpy.run_path(str(conf))["workers"] == 5


def test_gunicorn_app_log_lines_are_key_value(capsys: pytest.CaptureFixture[str]) -> None:
    """The application's own log records (index repairs, outages, WeChat) leave as one key=value line each."""
    import logging
    import logging.config
    import runpy
    from pathlib import Path

    conf = runpy.run_path(str(Path(__file__).resolve().parents[1] / "gunicorn.conf.py"))
    logging.config.dictConfig(conf["logconfig_dict"])
    try:
        logging.getLogger("assistant.service").error('索引 "passages" 损坏\n正在重建')
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1
        assert err[0].startswith("ts=") and " level=ERROR logger=assistant.service pid=" in err[0]
        assert "msg='索引 \"passages\" 损坏\\n正在重建'" in err[0]
    finally:
        logging.config.dictConfig({"version": 1, "disable_existing_loggers": False})
        logging.getLogger().handlers.clear()
        logging.getLogger().setLevel(logging.WARNING)


def test_one_vector_builder_for_all_workers(db_settings: Settings) -> None:
    """Two workers starting without vectors: only the one holding the lock embeds; the other serves BM25, then
    loads the builder's published index (hybrid) without encoding anything itself; if the builder goes away, the
    other takes over."""
    setup = AssistantService(db_settings)
    setup.migrate()
    from conftest import fixture_paths

    setup.ingest(fixture_paths(db_settings))
    setup.build_indexes(with_vectors=False)
    setup.engine.dispose()
    a = AssistantService(db_settings)
    b = AssistantService(db_settings)
    b.indexes.refresher.check_seconds = 0.0
    b.indexes.refresher.verify_seconds = 0.0
    encoded = [0]
    enc = a.indexes.encoders.encoder
    assert enc is not None and b.indexes.encoders.encoder is enc  # one encoder object per process
    orig = enc.encode_passages

    def counting(texts: list[str]) -> object:
        encoded[0] += len(texts)
        return orig(texts)

    try:
        enc.encode_passages = counting  # type: ignore[method-assign]
        import fcntl

        lock = (db_settings.search.index_dir / ".vectors.lock").open("a")
        fcntl.flock(lock, fcntl.LOCK_EX)  # a third process (another worker) is embedding right now
        a.load_indexes(background=False)
        b.load_indexes(background=False)
        for svc in (a, b):
            assert svc.indexes.vectors.state == "building_elsewhere" and svc.status()["retrieval_mode"] == "bm25"
        assert encoded[0] == 0
        lock.close()  # that builder died before finishing: the next check of A takes over
        a.indexes.refresher.check_seconds = a.indexes.refresher.verify_seconds = 0.0
        a.indexes.refresh()
        assert a.indexes.vectors._thread is not None
        a.indexes.vectors._thread.join(60)
        assert a.indexes.vectors.state == "ready" and a.status()["retrieval_mode"] == "hybrid" and encoded[0] > 0
        done = encoded[0]
        b._next_check = b._next_verify = 0.0
        assert b.indexes.refresh() == ["curated", "passages"]  # A published its vectors: B loads them from disk
        assert b.indexes.vectors.state == "ready" and b.status()["retrieval_mode"] == "hybrid"
        assert b.retriever.search("危险废物转移联单保存期限").passages.mode == "hybrid"
        assert encoded[0] == done
    finally:
        enc.encode_passages = orig  # type: ignore[method-assign]
        for svc in (a, b):
            svc.stop_background()
            svc.engine.dispose()


def test_concurrent_publications_in_two_workers_keep_every_answer(
        workers: tuple[AssistantService, AssistantService]) -> None:
    """Staff in two workers publish at the same moment: the saved curated index (and every worker after its next
    check) holds every answer — none is lost to a save of an index read before the other commit."""
    import threading

    a, b = workers
    ids = {svc: [f"fx-par-{name}-{i}" for i in range(6)] for svc, name in ((a, "a"), (b, "b"))}
    errors: list[BaseException] = []

    def publish(svc: AssistantService) -> None:
        try:
            for i, entry_id in enumerate(ids[svc]):
                svc.indexes.publish_curated(CuratedEntry(id=entry_id, question=f"并发发布测试问题{entry_id}第{i}条", answer="测试答复。",
                                             category="测试", origin="console"))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=publish, args=(svc,)) for svc in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    want = set(ids[a]) | set(ids[b])
    enc_id = a.indexes.encoders.encoder.id  # type: ignore[union-attr]
    saved = {it.target for it in SearchIndex.load(a.settings.search.index_dir / "curated", enc_id).items}
    assert want <= saved
    for svc in (a, b):
        svc.indexes.refresh(force=True)
        assert want <= {it.target for it in svc.retriever.curated.items}  # type: ignore[union-attr]
