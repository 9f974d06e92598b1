"""Passage vectors shared by every machine of a deployment through its database.

A machine that joins a deployment (a new server, a rebuilt container) finds the passages' vectors another machine
already computed: its cache file is backed by the ``embeddings`` table, keyed like the file by encoder id and the
sha256 of the text (a changed text has another key: it is embedded again, never served stale). Question vectors
(``…:query``) stay on the machine: sharing them would put a database write on the answer path.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ..db.models import Embedding
from .encoders import EmbeddingCache

log = logging.getLogger(__name__)
_CHUNK = 500


class SharedEmbeddingCache(EmbeddingCache):
    """The machine's cache file first, then the deployment's ``embeddings`` table (read through to the file);
    new passage vectors go to both. A database that cannot be read or written only costs encoding time."""

    def __init__(self, path: Path, sessions: Callable[[], Session], bundled: Path | None = None) -> None:
        super().__init__(path, bundled)
        self.sessions = sessions

    @staticmethod
    def _shared(enc: str) -> bool:
        return not enc.endswith(":query")

    def get_many(self, enc: str, texts: list[str]) -> dict[str, np.ndarray]:
        out = super().get_many(enc, texts)
        if not self._shared(enc):
            return out
        missing = sorted({self.key(t) for t in texts} - set(out))
        if not missing:
            return out
        found: dict[str, np.ndarray] = {}
        try:
            with self.sessions() as s:
                for i in range(0, len(missing), _CHUNK):
                    rows = s.execute(select(Embedding.key, Embedding.vector)
                                     .where(Embedding.encoder == enc, Embedding.key.in_(missing[i:i + _CHUNK])))
                    for key, vec in rows:
                        found[key] = np.frombuffer(vec, dtype=np.float32)
        except SQLAlchemyError as exc:
            log.warning("shared embeddings not readable: %s", exc)
            return out
        if found:
            self._store_local(enc, found)
        return {**out, **found}

    def put_many(self, enc: str, texts: list[str], vecs: np.ndarray) -> None:
        super().put_many(enc, texts, vecs)
        if not self._shared(enc) or not texts:
            return
        rows = {self.key(t): np.asarray(v, np.float32).tobytes() for t, v in zip(texts, vecs)}
        try:
            with self.sessions() as s:
                known = set(s.scalars(select(Embedding.key).where(Embedding.encoder == enc,
                                                                  Embedding.key.in_(list(rows)))))
                s.add_all(Embedding(encoder=enc, key=k, vector=v) for k, v in rows.items() if k not in known)
                s.commit()
        except SQLAlchemyError as exc:  # e.g. another machine stored the same text at the same moment
            log.warning("shared embeddings not written: %s", exc)
