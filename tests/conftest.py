"""Shared fixtures: small hand-written corpus in ``tests/data``, tmp settings, SQLite + PostgreSQL databases.

Database-backed tests take ``db_url`` (directly or through ``db_settings`` / ``service``) and so run twice:
on a fresh SQLite file and on a fresh PostgreSQL schema (marked ``postgres``; skipped with a reason when the
server is unreachable). Each PostgreSQL run gets its own schema (``search_path`` set through the URL), dropped
afterwards, so runs never see each other's rows and nothing outside the schema is touched.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from assistant.config import Settings
from assistant.service import AssistantService

DATA = Path(__file__).resolve().parent / "data"
SHARED_FIXTURES = DATA / "shared"
CORPUS_FIXTURES = DATA / "corpus"
INVALID = DATA / "invalid"
EVAL = DATA / "eval"
REPO = Path(__file__).resolve().parents[1]
REAL_SHARED = REPO.parent / "shared" / "data"
E2E_ARTIFACTS = REPO / "build" / "e2e"  # screenshots of the browser tests

PG_URL = os.environ.get("DATABASE_URL_TEST", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

# fixture passage ids (title#article)
PWXK = "排污许可管理条例"
WFZY = "危险废物转移管理办法"
NOISE_OLD = "中华人民共和国环境噪声污染防治法"
ZS_SHIP = "舟山市船舶污染物管理条例"

#: ``params`` of a fixture that runs its tests on SQLite and on PostgreSQL
DATABASES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]

T = TypeVar("T")


def hold(resource: T, *release: Callable[[], object]) -> Iterator[T]:
    """Body of a fixture (``yield from hold(...)``): yield ``resource``, then call ``release`` in order, however
    the test ended."""
    try:
        yield resource
    finally:
        for done in release:
            done()


@lru_cache(maxsize=1)
def _pg_problem() -> str | None:
    """None when PostgreSQL answers, else why not."""
    try:
        eng = create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with eng.connect() as conn:
            conn.execute(text("select 1"))
        eng.dispose()
        return None
    except Exception as exc:  # pragma: no cover - depends on the machine
        return f"PostgreSQL not reachable at {PG_URL}: {type(exc).__name__}: {exc}"


def _schema_url(schema: str) -> str:
    url = make_url(PG_URL)
    return url.render_as_string(hide_password=False) + ("&" if url.query else "?") + \
        "options=" + quote(f"-csearch_path={schema}", safe="")


def pg_schema() -> Iterator[str]:
    """A URL on a new PostgreSQL schema, dropped afterwards (skips when the server is unreachable)."""
    problem = _pg_problem()
    if problem:
        pytest.skip(problem)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _schema_url(schema)
    finally:
        with admin.connect() as conn:
            conn.execute(text("SET lock_timeout = '20s'"))
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=DATABASES)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a tmp SQLite file, or a new PostgreSQL schema dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'db' / 'assistant.db'}"
        return
    yield from pg_schema()


# -- live servers and the browser (Playwright driving Debian's Chromium) -----------------------------------------
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve_in_thread(app: object, port: int | None = None) -> tuple[str, object]:
    """Serve a WSGI app on loopback in a daemon thread; returns (base URL, server with .shutdown())."""
    import threading

    from werkzeug.serving import make_server

    port = port or free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)  # type: ignore[arg-type]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{port}", server


def require_chromium() -> None:
    """Skip unless Debian's chromium is installed."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (scripts/test.sh installs it)")


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Headless Debian Chromium through Playwright (never `playwright install`)."""
    require_chromium()
    pw_mod = pytest.importorskip("playwright.sync_api")
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    with pw_mod.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--disable-quic"])
        yield b
        b.close()


def _copy_fixtures(root: Path) -> tuple[Path, Path]:
    shared = root / "shared"
    corpus = root / "corpus"
    shutil.copytree(SHARED_FIXTURES, shared)
    shutil.copytree(CORPUS_FIXTURES, corpus)
    return shared, corpus


def make_settings(root: Path, database_url: str) -> Settings:
    shared, corpus = _copy_fixtures(root)
    return Settings().evolve(database_url=database_url, index_dir=root / "index", corpus_dir=corpus,
                   shared_data=shared, encoder="hash", encoder2="none", background_vectors=False, ocr="off",
                   sentence_vectors=False)  # the hash encoder would pick answering sentences at random


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings on a tmp SQLite file, tmp index dir and tmp copies of the fixture corpus; hash encoder."""
    return make_settings(tmp_path / "env", f"sqlite:///{tmp_path / 'env' / 'assistant.db'}")


@pytest.fixture
def db_settings(settings: Settings, db_url: str) -> Settings:
    """``settings`` on the parametrised database (SQLite and PostgreSQL)."""
    return settings.evolve(database_url=db_url)


def fixture_paths(s: Settings) -> list[Path]:
    return [s.corpus.shared_data / "laws", s.corpus.shared_data / "zhejiang", s.corpus.shared_data / "official_replies",
            s.corpus.corpus_dir / "curated"]


def login_session(client: Any, user_id: int) -> None:
    """Log a staff user in on a Flask test client without the form (the form has a rate limit of its own, tested
    separately)."""
    with client.session_transaction() as sess:
        sess["_user_id"] = str(user_id)
        sess["_fresh"] = True
        sess.permanent = True


def build_service(s: Settings) -> AssistantService:
    svc = AssistantService(s)
    svc.migrate()
    svc.ingest(fixture_paths(s))
    svc.build_indexes()
    return svc


@pytest.fixture
def service(db_settings: Settings) -> Iterator[AssistantService]:
    """A migrated service with the fixture corpus ingested and both indexes built (hash vectors: hybrid mode)."""
    svc = build_service(db_settings)
    yield from hold(svc, svc.stop_background, svc.engine.dispose)


@pytest.fixture(scope="module")
def search_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AssistantService]:
    """Module-wide SQLite service for read-only retrieval tests (built once per module)."""
    root = tmp_path_factory.mktemp("search")
    svc = build_service(make_settings(root / "env", f"sqlite:///{root / 'env' / 'assistant.db'}"))
    try:
        yield svc
    finally:
        svc.engine.dispose()


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Environment for the CLI pointing at ``settings`` (the CLI reads ``Settings.from_env()``)."""
    env = {
        "DATABASE_URL": settings.db.url,
        "ASSISTANT_INDEX_DIR": str(settings.search.index_dir),
        "ASSISTANT_SHARED_DATA": str(settings.corpus.shared_data),
        "ASSISTANT_CORPUS_DIR": str(settings.corpus.corpus_dir),
        "ASSISTANT_ENCODER": "hash",
        "ASSISTANT_BACKGROUND_VECTORS": "0",
        "ASSISTANT_SENTENCE_VECTORS": "0",
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    return env


# -- an app with staff accounts, module-wide on both databases ---------------------------------------------------
@dataclass
class AppEnv:
    """A service (fixture corpus, indexes built) and its app (CSRF on, nothing started), with the ids of the staff
    accounts by username."""

    svc: AssistantService
    app: Flask
    user_ids: dict[str, int] = field(default_factory=dict)

    def client(self, username: str | None = None) -> FlaskClient:
        """A test client, logged in as ``username`` when given."""
        c = self.app.test_client()
        if username:
            login_session(c, self.user_ids[username])
        return c


def make_app_env(root: Path, url: str) -> AppEnv:
    from assistant.app import create_app

    svc = build_service(make_settings(root / "env", url))
    app = create_app(service=svc, start=False)
    app.config.update(TESTING=True, WTF_CSRF_ENABLED=True)
    return AppEnv(svc, app)


def app_env_per_database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, name: str,
                         setup: Callable[[AppEnv], None]) -> Iterator[AppEnv]:
    """Body of a module-wide fixture with ``params=DATABASES``: an :class:`AppEnv` on a SQLite file or on a new
    PostgreSQL schema (dropped afterwards), ``setup`` (accounts, rows) run on it first."""
    root = tmp_path_factory.mktemp(name)
    if request.param == "sqlite":
        env = make_app_env(root, f"sqlite:///{root / 'env' / 'a.db'}")
        setup(env)
        yield env
        env.svc.engine.dispose()
        return
    gen = pg_schema()
    env = make_app_env(root, next(gen))
    setup(env)
    yield from hold(env, env.svc.stop_background, env.svc.engine.dispose, gen.close)


# -- the app served on loopback for the browser tests ------------------------------------------------------------
@dataclass
class LiveApp:
    base: str  # the assistant, e.g. http://127.0.0.1:5xxxx
    svc: AssistantService
    root: Path  # the tmp folder of its settings, free for more files


#: the two screens every browser test of the chat is run on
VIEWPORTS = [("desktop", {"width": 1280, "height": 800}), ("phone", {"width": 390, "height": 844})]


def open_chat(browser: Any, base: str, viewport: dict[str, int]) -> tuple[Any, Any]:
    """A new browser context on ``/chat`` with the greeting shown: (context, page)."""
    ctx = browser.new_context(viewport=viewport, locale="zh-CN")
    page = ctx.new_page()
    page.goto(base + "/chat")
    page.locator(".msg-greeting").wait_for()
    return ctx, page


def console_login(page: Any, base: str, username: str, password: str) -> None:
    """Log in to the staff console through its form (a real browser session)."""
    page.goto(base + "/console/login")
    page.get_by_test_id("login-username").fill(username)
    page.get_by_test_id("login-password").fill(password)
    page.get_by_test_id("login-submit").click()


def ask_in_chat(page: Any, text: str) -> Any:
    """Send ``text`` in the chat (a page or the widget's frame) and return the next bot message once it is there."""
    n = page.get_by_test_id("bot-message").count()
    page.get_by_test_id("chat-input").fill(text)
    page.get_by_test_id("chat-send").click()
    page.get_by_test_id("bot-message").nth(n).wait_for(timeout=20_000)
    return page.get_by_test_id("bot-message").nth(n)


@contextmanager
def live_app(tmp_path_factory: pytest.TempPathFactory, name: str,
             setup: Callable[[AssistantService], object] | None = None, port: int | None = None, start: bool = False,
             **changes: Any) -> Iterator[LiveApp]:
    """A service on a tmp SQLite database (``changes`` to the test settings; ``setup`` run on it before the app is
    made) served in a thread; shut down and disposed afterwards. Skips when Debian's chromium is missing."""
    from assistant.app import create_app

    require_chromium()
    root = tmp_path_factory.mktemp(name)
    svc = build_service(make_settings(root / "env", f"sqlite:///{root / 'env' / 'a.db'}").evolve(**changes))
    if setup is not None:
        setup(svc)
    base, server = serve_in_thread(create_app(service=svc, start=start), port)
    E2E_ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        yield LiveApp(base, svc, root)
    finally:
        server.shutdown()  # type: ignore[attr-defined]
        svc.engine.dispose()
