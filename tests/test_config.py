"""Settings from the environment: one way to read a boolean, every field that has a variable reads it."""

from __future__ import annotations

import pytest

from assistant.config import Settings


@pytest.mark.parametrize("off", ["0", "false", "No", "OFF", " off "])
def test_every_flag_reads_off_the_same_way(monkeypatch: pytest.MonkeyPatch, off: str) -> None:
    for name in ("ASSISTANT_RANKER", "ASSISTANT_BACKGROUND_VECTORS", "ASSISTANT_WARM_UP"):
        monkeypatch.setenv(name, off)
    monkeypatch.setenv("WECHAT_OUTBOUND", off)
    s = Settings.from_env()
    assert (s.ranker, s.background_vectors, s.warm_up, s.wechat_outbound) == (False, False, False, False)


@pytest.mark.parametrize("on", ["1", "true", "Yes", "ON"])
def test_every_flag_reads_on_the_same_way(monkeypatch: pytest.MonkeyPatch, on: str) -> None:
    for name in ("ASSISTANT_RANKER", "ASSISTANT_BACKGROUND_VECTORS", "ASSISTANT_WARM_UP", "WECHAT_OUTBOUND"):
        monkeypatch.setenv(name, on)
    s = Settings.from_env()
    assert (s.ranker, s.background_vectors, s.warm_up, s.wechat_outbound) == (True, True, True, True)


def test_unset_or_empty_flags_keep_their_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ASSISTANT_RANKER", "ASSISTANT_BACKGROUND_VECTORS", "ASSISTANT_WARM_UP", "WECHAT_OUTBOUND"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ASSISTANT_WARM_UP", "")
    s, d = Settings.from_env(), Settings()
    assert (s.ranker, s.background_vectors, s.warm_up, s.wechat_outbound) == \
        (d.ranker, d.background_vectors, d.warm_up, d.wechat_outbound)


def test_a_flag_that_means_nothing_stops_the_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WECHAT_OUTBOUND", "enabled")
    with pytest.raises(ValueError, match="WECHAT_OUTBOUND"):
        Settings.from_env()


def test_rrf_k_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_RRF_K", "30")
    assert Settings.from_env().rrf_k == 30
