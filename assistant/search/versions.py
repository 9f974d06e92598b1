"""Index versions shared by every process of a deployment, and the lock files of one machine.

Several processes (gunicorn workers) share one database and one ``index/`` folder: whoever saves an index bumps its
version in ``index_state``; the others compare it with the version they serve and reload the index whose version
changed (:class:`~assistant.search.refresh.IndexRefresher`).
"""

from __future__ import annotations

import fcntl
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from ..db.models import IndexState
from .index import SearchIndex, file_problem

log = logging.getLogger(__name__)
INDEX_NAMES = ("passages", "curated")


@contextmanager
def index_lock(index_dir: Path, name: str, wait: bool) -> Iterator[bool]:
    """An exclusive lock shared by every process of this machine on ``index/.<name>.lock``; yields whether it is
    held (``wait=False`` gives up at once when another process holds it)."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with (index_dir / f".{name}.lock").open("a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True


def index_problems(index_dir: Path) -> dict[str, str]:
    """Index folders whose files are missing or truncated (stat only), with the reason."""
    out = {}
    for name in INDEX_NAMES:
        problem = file_problem(index_dir / name)
        if problem:
            out[name] = problem
    return out


class IndexVersions:
    """The versions in ``index_state`` and the ones this process serves (``loaded``)."""

    def __init__(self, session_factory: Callable[[], Session]) -> None:
        self.Session = session_factory
        self.loaded: dict[str, int] = {}  # index name -> version in index_state this process serves
        self._lock = threading.Lock()

    def in_db(self) -> dict[str, int]:
        try:
            with self.Session() as s:
                return {n: v for n, v in s.execute(select(IndexState.name, IndexState.version)).all()}
        except SQLAlchemyError as exc:  # e.g. not migrated yet (one-shot CLI use): behave as version 0
            log.debug("index_state not readable: %s", exc)
            return {}

    def serving(self, versions: dict[str, int]) -> None:
        """This process now serves these versions (read before the index files were)."""
        with self._lock:
            self.loaded.update(versions)

    def changed(self, versions: dict[str, int]) -> list[str]:
        with self._lock:
            return [n for n in INDEX_NAMES if versions.get(n, 0) > self.loaded.get(n, 0)]

    def publish(self, name: str, index: SearchIndex) -> int:
        """Bump the version of ``name`` after saving it to disk, so the other processes reload it."""
        fp = str(index.manifest.get("fingerprint", ""))
        version = 0
        for _attempt in range(3):
            try:
                with self.Session() as s:
                    res = s.execute(update(IndexState).where(IndexState.name == name)
                                    .values(version=IndexState.version + 1, fingerprint=fp))
                    if not getattr(res, "rowcount", 0):
                        s.add(IndexState(name=name, version=1, fingerprint=fp))
                    s.flush()
                    version = int(s.scalar(select(IndexState.version).where(IndexState.name == name)) or 0)
                    s.commit()
                break
            except IntegrityError:  # another process inserted the row at the same moment: update it instead
                continue
            except SQLAlchemyError as exc:
                log.warning("could not publish index version of %s: %s", name, exc)
                return 0
        with self._lock:
            self.loaded[name] = max(version, self.loaded.get(name, 0))
        return version
