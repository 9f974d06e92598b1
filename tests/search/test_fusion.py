"""Score fusion: parameter validation, behaviour with one strong signal, long-query weight, fallbacks."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.search.fusion import FusionMode, FusionParams, fuse

N = 50


def _noise(seed: int, scale: float = 0.05, loc: float = 0.0) -> np.ndarray:
    return np.random.default_rng(seed).normal(loc, scale, N).astype(np.float32)


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [({"bm25_weight": 1.5}, "1.5"), ({"bm25_weight": -0.1}, "-0.1"), ({"rrf_k": 0}, "0"), ({"rrf_k": -5}, "-5"),
     ({"pool": 0}, "pool")],
)
def test_params_validation(kwargs: dict, needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        FusionParams(**kwargs)


def test_mode_parse() -> None:
    assert FusionMode.parse("rrf") is FusionMode.RRF
    with pytest.raises(ValueError, match="'comb'"):
        FusionMode.parse("comb")


def test_length_params_validated() -> None:
    with pytest.raises(ValueError, match="-1"):
        FusionParams(length_alpha=-1)


def test_zscore_strong_bm25_signal_keeps_top_over_flat_dense() -> None:
    bm = np.abs(_noise(1, 0.3))
    bm[12] = 9.0
    dense = _noise(2, 0.005, 0.3)  # near-constant: no real preference
    dense[12] = float(np.median(dense))
    fused = fuse(bm, dense, FusionParams(mode=FusionMode.ZSCORE), query_chars=10)
    assert int(np.argmax(fused)) == 12
    assert int(np.argmax(dense)) != 12


@pytest.mark.parametrize("mode", ["zscore", "rrf"])
def test_document_first_in_both_signals_stays_first(mode: str) -> None:
    bm, dense = np.abs(_noise(4, 1.0)), _noise(5)
    bm[20], dense[20] = bm.max() + 1.0, dense.max() + 0.2
    assert int(np.argmax(fuse(bm, dense, FusionParams(mode=FusionMode(mode)), 10))) == 20


def test_zscore_strong_dense_signal_keeps_top_when_bm25_matches_nothing() -> None:
    dense = _noise(3)
    dense[37] = 0.9
    fused = fuse(np.zeros(N, np.float32), dense, FusionParams(mode=FusionMode.ZSCORE), query_chars=10)
    assert int(np.argmax(fused)) == 37
    assert list(np.argsort(-fused)[:10]) == list(np.argsort(-dense)[:10])


def test_rrf_flat_bm25_does_not_reorder_dense() -> None:
    dense = _noise(3)
    dense[37] = 0.9
    fused = fuse(np.zeros(N, np.float32), dense, FusionParams(mode=FusionMode.RRF), query_chars=10)
    assert int(np.argmax(fused)) == 37


def test_long_query_shrinks_bm25_weight() -> None:
    p = FusionParams(bm25_weight=0.4, long_query_chars=60, length_alpha=0.5)
    assert p.weight_for(20) == p.weight_for(60) == 0.4
    assert p.weight_for(240) == pytest.approx(0.2)
    assert p.weight_for(600) < p.weight_for(240) < 0.4
    assert FusionParams(length_alpha=0).weight_for(600) == 0.4


def test_long_query_changes_fused_winner() -> None:
    """Doc 0 is BM25's favourite, doc 1 dense's; a short query follows BM25 (w=0.9), a letter follows dense."""
    bm = np.zeros(N, np.float32)
    bm[0], bm[1] = 10.0, 2.0
    dense = np.zeros(N, np.float32)
    dense[0], dense[1] = 0.5, 0.9
    p = FusionParams(bm25_weight=0.9, long_query_chars=60, length_alpha=1.0)
    assert int(np.argmax(fuse(bm, dense, p, 30))) == 0
    assert int(np.argmax(fuse(bm, dense, p, 3000))) == 1


def test_fallbacks() -> None:
    bm = np.array([0.0, 3.0, 1.0], np.float32)
    dense = np.array([0.9, 0.1, 0.2], np.float32)
    np.testing.assert_array_equal(fuse(bm, None, FusionParams(), 10), bm)
    np.testing.assert_array_equal(fuse(None, dense, FusionParams(), 10), dense)
    np.testing.assert_array_equal(fuse(bm, dense, FusionParams(mode=FusionMode.BM25), 10), bm)
    np.testing.assert_array_equal(fuse(bm, dense, FusionParams(mode=FusionMode.DENSE), 10), dense)
    with pytest.raises(ValueError, match="no signal"):
        fuse(None, None, FusionParams(), 10)


def test_rrf_formula() -> None:
    bm = np.array([3.0, 2.0, 1.0], np.float32)
    dense = np.array([0.1, 0.3, 0.2], np.float32)
    out = fuse(bm, dense, FusionParams(mode=FusionMode.RRF, bm25_weight=0.5, rrf_k=1), 5)
    expected = [0.5 / 2 + 0.5 / 4, 0.5 / 3 + 0.5 / 2, 0.5 / 4 + 0.5 / 3]
    np.testing.assert_allclose(out, expected, rtol=1e-6)


def test_zscore_constant_signal_contributes_nothing() -> None:
    dense = np.array([0.2, 0.8, 0.5], np.float32)
    out = fuse(np.full(3, 2.0, np.float32), dense, FusionParams(bm25_weight=0.4), 5)
    assert list(np.argsort(-out)) == [1, 2, 0]
