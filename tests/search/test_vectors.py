"""faiss vector index."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.search.vectors import VectorIndex


def _unit(n: int, dim: int, seed: int = 0) -> np.ndarray:
    m = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return m / np.linalg.norm(m, axis=1, keepdims=True)


@pytest.mark.parametrize("n", [7, 1200])  # below and above the 1000-row bulk-reconstruct path
def test_save_load_round_trip(tmp_path: Path, n: int) -> None:
    m = _unit(n, 16)
    v = VectorIndex(16)
    v.add(m[: n // 2])
    v.add(m[n // 2 :])  # ids continue
    v.save(tmp_path / "v.faiss")
    back = VectorIndex.load(tmp_path / "v.faiss", 16)
    assert back.size == n
    q = m[5]
    np.testing.assert_allclose(back.scores(q), v.scores(q), atol=1e-6)
    assert int(np.argmax(back.scores(q))) == 5
    scores, ids = back.search(q, 3)
    assert ids[0] == 5 and scores[0] == pytest.approx(1.0, abs=1e-5)


def test_scores_are_cosine() -> None:
    m = _unit(4, 8, seed=1)
    v = VectorIndex(8)
    v.add(m)
    np.testing.assert_allclose(v.scores(m[2]), m @ m[2], atol=1e-6)


def test_shape_validation() -> None:
    with pytest.raises(ValueError, match="0"):
        VectorIndex(0)
    v = VectorIndex(8)
    with pytest.raises(ValueError, match=r"\(3, 5\)"):
        v.add(np.zeros((3, 5), np.float32))
