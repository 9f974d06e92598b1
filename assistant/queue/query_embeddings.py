"""e5 query vectors of the clusterer's prepared texts: an in-memory memo, then the on-disk embedding cache, then the
encoder; and the rescaling of e5 cosines (raw cosines of Chinese texts are all high, ≈0.75–1.0)."""

from __future__ import annotations

import logging
import sqlite3
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from ..search.encoders import EmbeddingCache, Encoder

log = logging.getLogger(__name__)


def rescale(cos: np.ndarray, floor: float) -> np.ndarray:
    """``(cos - floor) / (1 - floor)`` clipped to [0, 1], float32."""
    return np.clip((cos - floor) / (1.0 - floor), 0.0, 1.0).astype(np.float32)


class QueryEmbedder:
    """Vectors of texts as queries (``encode_queries``), memoised (``memo_size`` entries, LRU) and cached on disk.

    The on-disk cache is an optimisation: when it cannot be read or written the vectors come from the encoder and
    the queue goes on (a warning is logged).
    """

    def __init__(self, encoder: Encoder, cache: EmbeddingCache | None = None, memo_size: int = 20000) -> None:
        self.encoder = encoder
        self.cache = cache
        self._memo: OrderedDict[str, np.ndarray] = OrderedDict()
        self._memo_size = memo_size

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """(n, dim) float32 vectors of ``texts`` (memo, then disk cache, then the encoder)."""
        enc_id = f"{self.encoder.id}:query"
        out: list[np.ndarray | None] = [self._memo.get(t) for t in texts]
        todo = sorted({t for t, v in zip(texts, out, strict=True) if v is None})
        found: dict[str, np.ndarray] = {}
        if todo and self.cache is not None:
            try:
                cached = self.cache.get_many(enc_id, todo)
            except sqlite3.Error as exc:  # the on-disk cache is an optimisation: never fail the queue on it
                log.warning("embedding cache not readable: %s", exc)
                cached = {}
            for t in todo:
                v = cached.get(EmbeddingCache.key(t))
                if v is not None and v.shape[0] == self.encoder.dim:
                    found[t] = v
        missing = [t for t in todo if t not in found]
        if missing:
            vecs = np.asarray(self.encoder.encode_queries(missing), dtype=np.float32)
            found.update(zip(missing, vecs, strict=True))
            if self.cache is not None:
                try:
                    self.cache.put_many(enc_id, missing, vecs)
                except sqlite3.Error as exc:
                    log.warning("embedding cache not writable: %s", exc)
        for t, v in found.items():
            self._remember(t, v)
        rows = [v if v is not None else found[t] for t, v in zip(texts, out, strict=True)]
        return np.stack(rows).astype(np.float32) if rows else np.zeros((0, self.encoder.dim), np.float32)

    def remember(self, text: str, vec: np.ndarray) -> None:
        """Keep a vector computed elsewhere with the same encoder for ``text``: in memory, and in the on-disk cache
        when it is not there yet (the other worker processes compare this question with theirs too)."""
        if vec.shape[0] != self.encoder.dim or text in self._memo:
            return
        self._remember(text, vec)
        if self.cache is not None:
            enc_id = f"{self.encoder.id}:query"
            try:
                if not self.cache.get_many(enc_id, [text]):
                    self.cache.put_many(enc_id, [text], vec[None, :])
            except sqlite3.Error as exc:
                log.warning("embedding cache not writable: %s", exc)

    def _remember(self, text: str, vec: np.ndarray) -> None:
        if self._memo_size == 0:
            return
        self._memo[text] = vec
        self._memo.move_to_end(text)
        while len(self._memo) > self._memo_size:
            self._memo.popitem(last=False)
