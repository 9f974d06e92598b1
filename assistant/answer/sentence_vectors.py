"""e5 vectors of the passages' sentences, for choosing the sentence of a cited article that answers the question.

Measured on material of our own (``scripts/key_sentence.py``): the sentence closest to the question by e5 is the key
sentence of the cited article more often than the sentence with the most query terms (README, *The answering
sentence first*). Encoding the sentences of each newly cited article on the answer path halved the throughput of a
fresh installation, so the answer path only *reads* sentence vectors (:meth:`SentenceVectors.lookup`: the embedding
cache, no encoding); a background thread encodes every sentence of the passages index once per machine (lock file,
≈ 30 000 sentences, minutes) and later the sentences a lookup missed (a document ingested since). Until a card's
sentences are all cached, the card's sentence is chosen by the query terms as before.

``state``: none | encoding | encoding_elsewhere | ready | failed | disabled; ``progress`` while encoding.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ..search.encoders import EmbeddingCache, Encoder, embed_passages
from ..search.versions import index_lock
from .sentences import split_sentences
from .sources import shown_text

log = logging.getLogger(__name__)

#: sentences a lookup missed, remembered for the next background pass (bounded: a flood of new text waits)
MAX_PENDING = 5000


def _nothing() -> list[tuple[str, str]]:
    return []


def item_sentences(kind: str, text: str) -> list[str]:
    """The sentences an answer chooses among for one passage (one-sentence passages have no choice to make)."""
    sents = split_sentences(shown_text(kind, text))
    return sents if len(sents) >= 2 else []


class SentenceVectors:
    def __init__(self, encoder: Callable[[], Encoder | None], cache: Callable[[], EmbeddingCache | None],
                 lock_dir: Any, enabled: bool = True) -> None:
        self._encoder, self._make_cache, self.lock_dir = encoder, cache, lock_dir
        self._cache_obj: EmbeddingCache | None = None
        self.enabled = enabled
        self.state = "none" if enabled else "disabled"
        self.progress: dict[str, Any] = {}
        self.stop_event = threading.Event()
        self._pending: dict[str, None] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def _cache(self) -> EmbeddingCache | None:
        """One connection to the machine's embedding cache for this process's lookups and encoding."""
        if self._cache_obj is None:
            self._cache_obj = self._make_cache()
        return self._cache_obj

    def lookup(self, texts: list[str]) -> np.ndarray | None:
        """The cached vectors of ``texts`` (one row each), or None when any is missing (remembered for the next
        background pass) — never encodes on the caller's thread."""
        enc, cache = self._encoder(), self._cache()
        if not self.enabled or enc is None or cache is None or not texts:
            return None
        known = cache.get_many(enc.id, texts)
        rows = [known.get(EmbeddingCache.key(t)) for t in texts]
        missing = [t for t, v in zip(texts, rows) if v is None or v.shape[0] != enc.dim]
        if missing:
            with self._lock:
                for t in missing:
                    if len(self._pending) < MAX_PENDING:
                        self._pending[t] = None
            if self.state == "ready":
                self.start(_nothing)  # the sentences missed: encoded in the background
            return None
        return np.stack([np.asarray(v, dtype=np.float32) for v in rows])

    def start(self, items: Callable[[], Iterable[tuple[str, str]]],
              before: Callable[[], None] | None = None) -> threading.Thread | None:
        """Encode (in a background thread) the sentences of ``items()`` — (kind, text) pairs — not yet cached, then
        those lookups missed meanwhile; ``before``: what to wait for first (the passages' vectors, the scans)."""
        if not self.enabled or self._encoder() is None:
            return None
        if self._thread is not None and self._thread.is_alive():
            return None
        self.stop_event.clear()

        def work() -> None:
            if before is not None:
                before()
            if not self.stop_event.is_set():
                self.run(items)

        self._thread = threading.Thread(target=work, name="sentence-vectors", daemon=True)
        self._thread.start()
        return self._thread

    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self) -> None:
        self.stop_event.set()
        if self._thread is not None:
            self._thread.join(timeout=5)  # a batch ends within a second or two; a thread still waiting is a daemon

    def _advance(self, done: int, total: int) -> None:
        elapsed = time.time() - float(self.progress.get("started") or time.time())
        eta = round(elapsed / done * (total - done), 1) if done else None
        self.progress = {**self.progress, "done": done, "total": total, "eta_s": eta}

    def run(self, items: Callable[[], Iterable[tuple[str, str]]]) -> int:
        """Encode what is missing (one process of a machine at a time); returns the number of sentences encoded."""
        enc, cache = self._encoder(), self._cache()
        if enc is None or cache is None:
            return 0
        with index_lock(self.lock_dir, "sentences", wait=False) as held:
            if not held:
                self.state = "encoding_elsewhere"  # that process fills the machine's cache, which lookups read
                return 0
            try:
                done, source = 0, items
                while True:  # the passages once; then what lookups missed meanwhile, until nothing is left
                    found = dict.fromkeys(s for kind, text in source() for s in item_sentences(kind, text))
                    source = _nothing
                    with self._lock:
                        found.update(self._pending)
                        self._pending.clear()
                    texts = list(found)
                    known = cache.get_many(enc.id, texts) if texts else {}
                    todo = [t for t in texts if EmbeddingCache.key(t) not in known]
                    if not todo:
                        break
                    self.state = "encoding"
                    self.progress = {"sentences": len(texts), "done": 0, "total": len(todo), "eta_s": None,
                                     "started": time.time()}
                    embed_passages(enc, todo, cache, batch=32, stop=self.stop_event, on_batch=self._advance)
                    done += len(todo)
                self.state = "ready"
                if done:
                    log.info("sentence vectors: %d sentences encoded", done)
                return done
            except InterruptedError:
                self.state = "none"
                return 0
            except Exception:  # the terms rule keeps choosing the sentences
                log.exception("encoding the sentences failed")
                self.state = "failed"
                return 0

    def status(self) -> dict[str, Any]:
        return {"state": self.state, **({"progress": self.progress} if self.state == "encoding" else {})}
