"""Keeping one process's indexes current: reload what another process published, notice broken index files."""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

from .index import IndexMismatch, SearchIndex

if TYPE_CHECKING:
    from .lifecycle import IndexLifecycle

log = logging.getLogger(__name__)


class IndexRefresher:
    """Reloads from disk each index another process published since this one loaded it.

    Cheap and throttled: at most one small query every ``check_seconds`` per process. Index files deleted, truncated
    or altered under a running service are noticed within ``verify_seconds``
    (:func:`~assistant.search.index.file_problem`) and repaired in the background
    (:class:`~assistant.search.background.IndexRepair`) while the indexes in memory keep answering.
    """

    check_seconds = 1.0
    verify_seconds = 5.0

    def __init__(self, indexes: IndexLifecycle) -> None:
        self.indexes = indexes
        self._next_check = 0.0
        self._next_verify = 0.0
        self._lock = threading.Lock()

    def refresh(self, force: bool = False) -> list[str]:
        """Returns the names of the reloaded indexes. Never raises: a failing check leaves the current indexes
        serving."""
        lc = self.indexes
        now = time.monotonic()
        if lc.current is None or (not force and now < self._next_check):
            return []
        if not self._lock.acquire(blocking=False):
            return []  # another thread of this process is checking right now
        try:
            self._next_check = now + self.check_seconds
            if force or now >= self._next_verify:
                self._next_verify = now + self.verify_seconds
                if lc.repair.problems():
                    lc.repair.start()
                takeover = lc.vectors.state == "building_elsewhere"
            else:
                takeover = False
            versions = lc.versions.in_db()
            changed = lc.versions.changed(versions)
            if not changed:
                if takeover:  # the builder may have died: try its lock (returns at once while it is held)
                    lc.vectors.start()
                return []
            loaded = self._load(changed, versions, now)
            if not loaded:
                return []
            lc.swap(**loaded)
            lc.versions.serving({name: versions[name] for name in loaded})
            r = lc.retriever
            if lc.vectors.state in ("building_elsewhere", "none") and r.encoder is not None and \
                    r.passages.has_vectors and (r.curated is None or r.curated.has_vectors or not r.curated.items):
                lc.vectors.state = "ready"
            lc.refresh_memory()
            log.info("reloaded index %s (versions %s)", ", ".join(loaded), versions)
            return sorted(loaded)
        except Exception:  # never let a version check break an answer
            log.exception("index version check failed")
            return []
        finally:
            self._lock.release()

    def _load(self, names: list[str], versions: dict[str, int], now: float) -> dict[str, SearchIndex]:
        lc = self.indexes
        enc = lc.encoders.encoder
        loaded: dict[str, SearchIndex] = {}
        for name in names:
            try:
                loaded[name] = SearchIndex.load(lc.settings.search.index_dir / name, enc.id if enc else None)
            except FileNotFoundError as exc:
                log.warning("index %s v%s not loadable yet (%s); retrying", name, versions[name], exc)
                self._next_check = now  # e.g. caught between the two renames of a save: retry next request
            except (IndexMismatch, ValueError, OSError, EOFError) as exc:
                log.error("index %s v%s not loadable (%s); keeping the one in memory", name, versions[name], exc)
                lc.repair.start()
        return loaded
