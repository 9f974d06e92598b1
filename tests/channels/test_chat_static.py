"""The chat page's static files: every file under web/static stays at most 400 lines; the chat script is a set of
native ES modules (web/static/chat/, no bundler) loaded by chat.html with a nonce'd <script type="module"> and
preloaded, served with a JavaScript type (browsers refuse a module otherwise) and allowed by the CSP ('self' covers
the imports)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from assistant.app import create_app
from assistant.config import Settings

STATIC = Path(__file__).resolve().parents[2] / "web" / "static"
CHAT = STATIC / "chat"
MAX_LINES = 400
IMPORT = re.compile(r'^import \{([^}]*)\} from "\./([A-Za-z0-9_-]+\.js)";$', re.M)
EXPORT = re.compile(r"^export (?:var|function) (\w+)", re.M)


def _lines(path: Path) -> int:
    data = path.read_bytes()
    return data.count(b"\n") + (0 if not data or data.endswith(b"\n") else 1)


def test_no_static_file_is_over_400_lines() -> None:
    files = [p for p in STATIC.rglob("*") if p.is_file()]
    assert len(files) >= 10 and CHAT / "main.js" in files  # the real tree, not an empty folder
    long = {str(p.relative_to(STATIC)): n for p in files if (n := _lines(p)) > MAX_LINES}
    assert long == {}, f"files under web/static over {MAX_LINES} lines: {long}"


def test_chat_modules_import_only_names_their_siblings_export() -> None:
    modules = {p.name: p.read_text("utf-8") for p in CHAT.glob("*.js")}
    assert "main.js" in modules and not (STATIC / "chat.js").exists()
    exports = {name: set(EXPORT.findall(text)) for name, text in modules.items()}
    reached, todo = set(), ["main.js"]
    while todo:
        name = todo.pop()
        if name in reached:
            continue
        reached.add(name)
        for names, target in IMPORT.findall(modules[name]):
            assert target in modules, f"{name} imports a missing module {target}"
            for imported in (n.strip() for n in names.split(",")):
                assert imported in exports[target], f"{name} imports {imported}, which {target} does not export"
            todo.append(target)
        # only the static, relative, braced form above: no other import statement or dynamic import()
        assert len(re.findall(r"^import ", modules[name], re.M)) == len(IMPORT.findall(modules[name])), name
        assert "import(" not in modules[name], name
    assert reached == set(modules), f"modules never imported from main.js: {set(modules) - reached}"


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    app = create_app(settings, start=False)  # the pages and static files need no index
    yield app
    app.extensions["assistant"].engine.dispose()


@pytest.mark.parametrize("path", ["/chat", "/widget/frame"])
def test_page_loads_the_entry_module_with_the_csp_nonce(app: Flask, path: str) -> None:
    client: FlaskClient = app.test_client()
    r = client.get(path)
    assert r.status_code == 200
    csp = r.headers["Content-Security-Policy"]
    script_src = re.search(r"script-src ([^;]*)", csp)
    assert script_src is not None and "'self'" in script_src.group(1).split()
    nonce = re.search(r"'nonce-([^']+)'", script_src.group(1))
    assert nonce is not None
    html = r.get_data(as_text=True)
    tags = re.findall(r"<script\b[^>]*>", html)
    assert tags == [f'<script type="module" src="/static/chat/main.js" nonce="{nonce.group(1)}">']
    assert "chat.js" not in html
    # every module is preloaded (fetched in parallel, not one import level at a time), the entry first
    preloads = re.findall(r'<link rel="modulepreload" href="/static/chat/([^"]+)">', html)
    assert preloads[0] == "main.js" and sorted(preloads) == sorted(p.name for p in CHAT.glob("*.js"))


def test_chat_modules_are_served_as_javascript(app: Flask) -> None:
    client: FlaskClient = app.test_client()
    for module in sorted(CHAT.glob("*.js")):
        r = client.get(f"/static/chat/{module.name}")
        assert r.status_code == 200, module.name
        assert r.mimetype in ("text/javascript", "application/javascript"), (module.name, r.mimetype)
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.get_data() == module.read_bytes()
        r.close()
