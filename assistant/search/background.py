"""Work on the indexes that must never make a user wait: the vector build after a BM25-only start, and the repair of
index files deleted or corrupted under a running service. Both run in a background thread while the indexes in
memory keep answering, and both are done by one process of a machine at a time (a lock file)."""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from .encoders import embed_passages
from .versions import INDEX_NAMES, index_lock, index_problems

if TYPE_CHECKING:
    from .lifecycle import IndexLifecycle

log = logging.getLogger(__name__)


class VectorBuilder:
    """Embeds the passages in a background thread, then the service switches to hybrid retrieval.

    ``state``: none | building | building_elsewhere | ready | failed | disabled; ``progress`` while building.
    """

    def __init__(self, indexes: IndexLifecycle) -> None:
        self.indexes = indexes
        self.state = "none"
        self.progress: dict[str, Any] = {}
        self.stop_event = threading.Event()
        self._thread: threading.Thread | None = None

    def _advance(self, done: int, total: int) -> None:
        """Progress of the index being embedded: texts done / to do, and the time left at the rate so far."""
        elapsed = time.time() - float(self.progress.get("started") or time.time())
        eta = round(elapsed / done * (total - done), 1) if done else None
        self.progress = {**self.progress, "done": done, "total": total, "eta_s": eta}

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self.stop_event.clear()
        self._thread = threading.Thread(target=self.run, name="vector-build", daemon=True)
        self._thread.start()

    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self) -> None:
        self.stop_event.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def run(self) -> None:
        lc = self.indexes
        encoders = lc.encoders
        enc = encoders.encoder
        r = lc.current
        if enc is None or r is None:
            return
        # one builder for all the workers of a machine (a lock file): the others serve BM25 meanwhile and load the
        # builder's published index through the refresher; if the builder dies, the lock is free again and the
        # next check of another worker takes over (the embedding cache keeps what was already encoded)
        with index_lock(lc.settings.search.index_dir, "vectors", wait=False) as held:
            if not held:
                self.state = "building_elsewhere"
                return
            e5_needed = any(idx is not None and not idx.has_vectors for idx in (r.curated, r.passages))
            if e5_needed:
                self.state = "building"
            try:
                cache = encoders.cache()
                for name, idx in (("curated", r.curated), ("passages", r.passages)):
                    if idx is None or idx.has_vectors:
                        continue
                    self.progress = {"index": name, "items": len(idx.items), "done": 0, "total": None, "eta_s": None,
                                     "started": time.time()}
                    m = embed_passages(enc, [it.embed_text() for it in idx.items], cache, stop=self.stop_event,
                                       on_batch=self._advance)
                    idx.attach_vectors(m, enc)
                    if name == "curated" or encoders.encoder2 is None:
                        lc.save_and_publish(name, idx)
                passages = r.passages
                if encoders.encoder2 is not None and passages.has_vectors:
                    # the second encoder is fast (~200 passages/s): the passages are saved once, with both
                    self.progress = {"index": "passages:encoder2", "items": len(passages.items),
                                     "started": time.time()}
                    if encoders.attach_vectors2(passages, stop=self.stop_event) or e5_needed:
                        lc.save_and_publish("passages", passages)
                lc.refresh_memory()
                self.state = "ready"
            except InterruptedError:
                self.state = "none"
            except Exception:  # a failed background build leaves BM25 serving
                log.exception("vector build failed")
                self.state = "failed"


class IndexRepair:
    """Rebuilds from the database each index whose files are broken; ``health`` says what happened.

    ``health["state"]``: ok | repairing | repaired | repaired_elsewhere | failed; ``problem``: what was found (中文).
    """

    #: a broken index must still be broken this long later before it is repaired (another process's atomic save
    #: leaves the folder missing for an instant between its two renames)
    grace_seconds = 1.0

    def __init__(self, indexes: IndexLifecycle) -> None:
        self.indexes = indexes
        self.health: dict[str, Any] = {"state": "ok"}
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def problems(self) -> dict[str, str]:
        return index_problems(self.indexes.settings.search.index_dir)

    def start(self) -> bool:
        """Repair in a background thread (False if a repair already runs)."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return False
            self._thread = threading.Thread(target=self.run, name="index-repair", daemon=True)
            self._thread.start()
            return True

    def run(self) -> list[str]:
        """The indexes in memory keep serving until the rebuilt ones are swapped in (and published to the other
        processes). One process at a time (lock file); returns the names rebuilt here."""
        lc = self.indexes
        r = lc.current
        if r is None:
            return []
        with index_lock(lc.settings.search.index_dir, "repair", wait=False) as held:
            if not held:
                self.health = {**self.health, "state": "repaired_elsewhere"}
                return []  # another process repairs; its publish reaches this one through the refresher
            time.sleep(self.grace_seconds)
            problems = self.problems()
            if not problems:
                return []
            log.error("index files broken (%s): rebuilding from the database; serving the indexes in memory",
                      "; ".join(problems.values()))
            self.health = {"state": "repairing", "problem": "; ".join(problems.values()), "at": time.time()}
            try:
                p_items, c_items = lc.items()
                for name in INDEX_NAMES:
                    if name in problems:
                        lc.rebuild(name, p_items if name == "passages" else c_items)
            except Exception as exc:
                log.exception("index repair failed")
                self.health = {**self.health, "state": "failed", "error": str(exc)}
                return []
            self.health = {**self.health, "state": "repaired", "repaired_at": time.time()}
            return sorted(problems)
