"""Property-based fuzzing of the public API and pages (bounded: ~300 derandomised examples per endpoint).

The properties live in ``tests/api_fuzz.py``; ``tests/fuzz_api_long.py --examples 10000`` runs them at length.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from api_fuzz import Checker, fuzz_app, properties
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings

from assistant.config import Settings

EXAMPLES = {"ask": 300, "feedback": 300, "handoff": 300, "questions": 300, "pages": 300, "doc": 300}


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def checker(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Checker]:
    """One app per database for the whole module (PostgreSQL matters: it refuses NUL in text, SQLite does not)."""
    from conftest import make_settings, pg_schema

    root = tmp_path_factory.mktemp("fuzz")
    schemas = pg_schema() if request.param == "postgresql" else None
    url = next(schemas) if schemas is not None else f"sqlite:///{root / 'env' / 'assistant.db'}"
    s: Settings = make_settings(root / "env", url)
    app = fuzz_app(s)
    try:
        yield Checker(app)
    finally:
        app.extensions["assistant"].engine.dispose()
        if schemas is not None:
            schemas.close()


@pytest.mark.parametrize("endpoint", list(EXAMPLES))
def test_fuzz_endpoint_never_5xx(checker: Checker, endpoint: str) -> None:
    strategy, send = properties(checker)[endpoint]

    @hsettings(max_examples=EXAMPLES[endpoint], deadline=None, derandomize=True, database=None,
               suppress_health_check=list(HealthCheck))
    @given(strategy)
    def run(arg: Any) -> None:
        send(arg)

    run()
    assert sum(n for (ep, _), n in checker.counts.items() if ep.strip("/") == endpoint or
               (endpoint == "pages" and ep.startswith("/") and ep != "/doc")) > 0
