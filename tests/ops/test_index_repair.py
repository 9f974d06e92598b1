"""Index files deleted, truncated or altered: detected (manifest sizes + sha256), rebuilt from the database while the
indexes in memory keep answering, and shown in ``status()["index_health"]``. Hash encoder, fixture corpus."""

from __future__ import annotations

import fcntl
import shutil
from pathlib import Path

import pytest
from conftest import build_service

from assistant.config import Settings
from assistant.search.encoders import HashingEncoder
from assistant.search.index import IndexCorrupt, Item, SearchIndex, file_problem
from assistant.service import AssistantService

Q = "排污许可证有效期几年？"
ITEMS = [Item(id=f"甲#{i}", title="甲", text=f"第{i}条 排污许可证的有效期为五年，危险废物转移应当运行电子联单。")
         for i in range(1, 6)]


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    folder = tmp_path / "passages"
    SearchIndex.build(ITEMS, "both", "bm25s", HashingEncoder(32)).save(folder)
    return folder


def test_manifest_records_file_sizes_and_checksums(saved: Path) -> None:
    import json

    files = json.loads((saved / "manifest.json").read_text("utf-8"))["files"]
    assert sorted(files) == ["bm25.pkl", "items.jsonl", "vectors.faiss", "vectors.npy"]
    assert all(f["size"] == (saved / n).stat().st_size and len(f["sha256"]) == 64 for n, f in files.items())
    assert file_problem(saved) is None
    assert SearchIndex.load(saved, "hash:32").has_vectors


@pytest.mark.parametrize("damage", ["delete", "truncate", "flip", "manifest"])
@pytest.mark.parametrize("name", ["items.jsonl", "bm25.pkl", "vectors.faiss", "vectors.npy"])
def test_load_refuses_damaged_files(saved: Path, name: str, damage: str) -> None:
    path = saved / name
    if damage == "delete":
        path.unlink()
    elif damage == "truncate":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif damage == "flip":  # same size, different bytes: only the sha256 sees it
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))
    else:
        (saved / "manifest.json").write_text("{not json", "utf-8")
    with pytest.raises((IndexCorrupt, FileNotFoundError)):
        SearchIndex.load(saved, "hash:32")
    if damage in ("delete", "truncate", "manifest"):
        assert file_problem(saved)  # the cheap stat check a running service repeats sees these too


def _fresh(s: Settings) -> AssistantService:
    svc = build_service(s)
    svc.indexes.repair.grace_seconds = 0.0
    return svc


@pytest.mark.parametrize("damage", ["delete_folder", "truncate_vectors"])
def test_running_service_rebuilds_broken_index_and_keeps_answering(db_settings: Settings, damage: str) -> None:
    a = _fresh(db_settings)
    b = AssistantService(db_settings)  # a second worker on the same database and index folder
    b.load_indexes(background=False)
    try:
        before = a.answer(Q)
        folder = db_settings.search.index_dir / "passages"
        if damage == "delete_folder":
            shutil.rmtree(folder)
        else:
            v = folder / "vectors.faiss"
            v.write_bytes(v.read_bytes()[:100])
        assert "passages" in a.indexes.repair.problems()
        served = a.retriever.passages
        assert a.answer(Q).citations[0].id == before.citations[0].id  # memory still serves

        a.indexes.refresh(force=True)  # the periodic check notices and repairs in the background
        assert a.indexes.repair._thread is not None
        a.indexes.repair._thread.join(timeout=60)
        assert a.indexes.repair.health["state"] == "repaired" and "passages" in a.indexes.repair.health["problem"]
        assert a.status()["index_health"]["state"] == "repaired"
        assert a.indexes.repair.problems() == {}
        back = SearchIndex.load(folder, "hash:256")
        assert back.has_vectors and back.manifest["fingerprint"] == served.manifest["fingerprint"]
        assert a.retriever.passages is not served and a.retriever.mode == "hybrid"
        assert a.answer(Q).citations[0].id == before.citations[0].id

        assert b.indexes.refresh(force=True) == ["passages"]  # the rebuild was published to the other worker
        assert b.answer(Q).citations[0].id == before.citations[0].id
    finally:
        for svc in (a, b):
            svc.stop_background()
            svc.engine.dispose()


def test_only_one_process_repairs(settings: Settings) -> None:
    a = _fresh(settings)
    try:
        shutil.rmtree(settings.search.index_dir / "curated")
        with (settings.search.index_dir / ".repair.lock").open("a") as held:  # another worker is repairing
            fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
            assert a.indexes.repair.run() == []
            assert a.indexes.repair.health["state"] == "repaired_elsewhere"
        assert a.indexes.repair.run() == ["curated"]
        assert a.indexes.repair.problems() == {}
    finally:
        a.engine.dispose()


def test_restart_on_corrupt_files_rebuilds_from_database(settings: Settings) -> None:
    a = _fresh(settings)
    expected = a.answer(Q).citations[0].id
    a.engine.dispose()
    bm = settings.search.index_dir / "passages" / "bm25.pkl"
    bm.write_bytes(bm.read_bytes()[:50])
    b = AssistantService(settings)
    try:
        b.load_indexes(background=False)  # must not crash the worker: rebuilt from the database
        assert b.indexes.repair.health["state"] == "repaired" and "bm25.pkl" in b.indexes.repair.health["problem"]
        assert b.retriever.mode == "hybrid" and b.answer(Q).citations[0].id == expected
        assert SearchIndex.load(settings.search.index_dir / "passages", "hash:256").has_vectors
    finally:
        b.stop_background()
        b.engine.dispose()
