"""Shared helpers for the console tests: a module-wide app on SQLite and PostgreSQL, staff accounts, queue items
made directly in the database, session log-in and CSRF tokens taken from rendered forms.

Import the fixtures into a test module (``from console_support import console_env``) to use them.
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from conftest import DATABASES, AppEnv, app_env_per_database, login_session  # noqa: F401 (login_session: for the tests)
from flask.testing import FlaskClient
from sqlalchemy import select

from assistant.auth import create_user
from assistant.db.models import Question, QueueItem, QueueMember, StaffUser
from assistant.service import AssistantService
from assistant.text.normalize import normalize

PASSWORD = "correct-horse-42"
USERS = {  # username: (role, district)
    "admin": ("admin", ""),
    "viewer": ("viewer", ""),
    "putuo": ("district", "普陀区"),
    "dinghai": ("district", "定海区"),
    "expert": ("expert", ""),
    "expert2": ("expert", ""),
}
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


ConsoleEnv = AppEnv  # a service and its app, with the ids of the accounts of ``USERS``


def csrf_token(client: FlaskClient, path: str = "/console/login") -> str:
    """The CSRF token of a form rendered for this client's session."""
    r = client.get(path)
    m = CSRF_RE.search(r.get_data(as_text=True))
    assert m, f"no csrf token in {path} ({r.status_code})"
    return m.group(1)


def flashes(client: FlaskClient) -> list[tuple[str, str]]:
    with client.session_transaction() as sess:
        return list(sess.get("_flashes", []))


def make_item(svc: AssistantService, district: str = "", assigned_to: str = "", members: int = 2,
              title: str = "", channel: str = "widget", age_days: float = 0.0, session_id: str = "") -> dict[str, Any]:
    """A queue item with ``members`` member questions, straight in the database (no clustering)."""
    title = title or f"测试问题 {uuid.uuid4().hex[:8]}：码头油污水如何处置"
    asked = datetime.now(UTC) - timedelta(days=age_days)
    with svc.Session() as s:
        item = QueueItem(title=title, normalized=normalize(title), status="assigned" if assigned_to else "new",
                         count=members, district=district, assigned_to=assigned_to, first_asked=asked,
                         last_asked=asked)
        s.add(item)
        s.flush()
        qids, tokens = [], []
        for i in range(members):
            q = Question(token=secrets.token_urlsafe(24), text=title if i == 0 else f"{title}（追问{i}）",
                         normalized=normalize(title), channel=channel, district=district, decision="handoff",
                         session_id=session_id, asked_at=asked)
            s.add(q)
            s.flush()
            s.add(QueueMember(item_id=item.id, question_id=q.id, source="handoff", channel=channel))
            qids.append(q.id)
            tokens.append(q.token)
        s.commit()
        return {"id": item.id, "qids": qids, "tokens": tokens, "title": title}


def add_users(svc: AssistantService) -> dict[str, int]:
    ids = {}
    with svc.Session() as s:
        for name, (role, district) in USERS.items():
            u = s.scalar(select(StaffUser).where(StaffUser.username == name))
            if u is None:
                u = create_user(s, name, PASSWORD, role, district=district, display_name=f"{name}-显示名")
            ids[name] = u.id
        s.commit()
    return ids


def _add_users(env: ConsoleEnv) -> None:
    env.user_ids.update(add_users(env.svc))


@pytest.fixture(scope="module", params=DATABASES)
def console_env(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleEnv]:
    """One app per module and database (SQLite, PostgreSQL), with the fixture corpus and the staff accounts."""
    yield from app_env_per_database(request, tmp_path_factory, "console", _add_users)
