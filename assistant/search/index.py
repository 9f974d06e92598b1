"""A searchable collection: items + BM25 + (optional) vectors, saved under ``index/<name>/`` with a manifest.

The manifest records the encoder id, token field, BM25 engine, a fingerprint of the items and the counts; loading
refuses an index whose encoder differs from the configured one (vectors of two models must never be mixed).
A new index is written to a temporary folder and swapped in with an atomic rename. The manifest also records the
size and sha256 of every file it was saved with: :meth:`SearchIndex.load` refuses a deleted, truncated or altered
file (:class:`IndexCorrupt`) instead of serving or crashing on it, and :func:`file_problem` is the cheap (stat-only)
check a running service repeats to notice files deleted or truncated under it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..ingest.limits import is_table_row
from ..text.normalize import normalize
from ..text.synonyms import default_synonyms
from ..text.tokenize import TokenField, Tokenizer, text_signature
from .bm25 import BM25Engine, BM25Index
from .encoders import EmbeddingCache, Encoder, embed_passages
from .scopes import load_scopes, table_positions
from .vectors import VectorIndex

FORMAT_VERSION = 2


class IndexMismatch(Exception):
    """The saved index was built with another encoder / format than configured."""

    code = "index_mismatch"


class IndexCorrupt(IndexMismatch):
    """A saved file is missing, truncated, altered or unreadable: rebuild the index from the database."""

    code = "index_corrupt"


INDEX_FILES = ("items.jsonl", "bm25.pkl", "vectors.faiss", "vectors.npy", "vectors2.faiss", "vectors2.npy")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def file_problem(folder: Path) -> str | None:
    """Why the index saved in ``folder`` cannot be loaded, from ``stat`` alone (no hashing: cheap enough to run every
    few seconds), or None. Catches deleted and truncated files, not same-size corruption (:meth:`SearchIndex.load`
    checks the sha256 too)."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    except FileNotFoundError:
        return f"{folder.name}/manifest.json 缺失"
    except (OSError, ValueError) as exc:
        return f"{folder.name}/manifest.json 不可读：{exc}"
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, dict):
        return None  # saved before checksums were recorded: nothing to compare with
    for name, meta in files.items():
        try:
            size = (folder / name).stat().st_size
        except FileNotFoundError:
            return f"{folder.name}/{name} 缺失"
        except OSError as exc:
            return f"{folder.name}/{name} 不可读：{exc}"
        if size != meta.get("size"):
            return f"{folder.name}/{name} 大小 {size} 与清单记录 {meta.get('size')} 不符（截断或被改动）"
    return None


@dataclass
class Item:
    """One searchable row (a passage, a curated question/paraphrase, an eval document)."""

    id: str
    title: str
    text: str
    kind: str = ""
    status: str = "现行有效"
    article: int | None = None
    heading: str = ""
    #: the row's target: for curated paraphrase rows, the entry id; else the item id itself
    target: str = ""
    #: where a local regulation applies: "" (national), "浙江省", "舟山市", or another city of Zhejiang
    region: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    def bm25_text(self) -> str:
        return f"{self.title} {self.heading} {self.text}"

    def embed_text(self) -> str:
        # The text alone: measured on the dev split, prefixing the document title and 章/节 path made the encoder
        # match on titles (every article of a water regulation looks alike) — letter→article R@10 0.35 vs 0.55.
        return self.text


#: an article worded as a penalty without naming a fine ("违反本条例…的，由…责令…", "有下列行为之一的，…处罚")
_PENALTY_TEXT = re.compile(r"^(?:违反|有下列(?:行为|情形)之一)[^。]*(?:处罚|责令)")


def is_penalty(heading: str, text: str) -> bool:
    """The passage sets a penalty: in a chapter 法律责任 / 罚则 (also typeset "罚 则"), it names a 罚款, or it is worded
    as a penalty."""
    h = re.sub(r"\s+", "", heading)
    return "法律责任" in h or "罚则" in h or "罚款" in text or bool(_PENALTY_TEXT.search(text))


def document_of(pid: str) -> str:
    """The document part of a passage id (its title): what the passages of one card share."""
    return pid.rpartition("#")[0] if "#" in pid else pid


def fingerprint(items: list[Item]) -> str:
    h = hashlib.sha256()
    for it in items:
        h.update(f"{it.id}\0{it.title}\0{it.status}\0{it.text}\0".encode())
    return h.hexdigest()


def document_tokens(items: list[Item], token_field: str | TokenField = "both") -> list[list[str]]:
    """BM25 tokens of each item. Documents get the same abbreviation expansion as queries, so 排污证 in a
    paraphrase meets 排污许可证."""
    tk = Tokenizer.default()
    tf = TokenField.parse(token_field)
    syn = default_synonyms()
    return [tk.tokens(syn.expand(normalize(it.bm25_text())), tf, normalized=True) for it in items]


class SearchIndex:
    """Items with their BM25 index and, when vectors are ready, their dense vectors."""

    def __init__(self, items: list[Item], bm25: BM25Index, vectors: VectorIndex | None, manifest: dict[str, Any]):
        self.items = items
        self.bm25 = bm25
        self.vectors = vectors
        #: vectors of a second encoder (the ranker's ``dense2`` features), when configured and built
        self.vectors2: VectorIndex | None = None
        self.manifest = manifest
        self.pos = {it.id: i for i, it in enumerate(items)}
        #: limit-table rows (``…#表4·12``, ingest/limits.py) among the items
        self._rows = np.array([is_table_row(it.id.rpartition("#")[2]) for it in items], dtype=bool)
        self.has_table_rows = bool(self._rows.any())
        self._lock = threading.Lock()
        #: filter masks of this index by (repealed?, kinds, regions), filled by ``retriever.default_mask``
        self.masks: dict[Any, np.ndarray | None] = {}

    def row_prior(self, value: float) -> np.ndarray:
        """``value`` for every limit-table row, 0 elsewhere (computed once per index and value; read-only)."""
        cache = self.__dict__.setdefault("_row_prior", {})
        if value not in cache:
            prior = np.where(self._rows, value, 0.0)
            prior.setflags(write=False)
            cache[value] = prior
        return cache[value]

    def scope_positions(self) -> dict[str, np.ndarray]:
        """Positions of the scoped standards' tables and rows (``search/scopes.py``), computed once per index."""
        pos = getattr(self, "_scope_positions", None)
        if pos is None:
            pos = table_positions(self.items, {s.code for s in load_scopes()})
            self._scope_positions = pos
        return pos

    def document_codes(self) -> tuple[np.ndarray, np.ndarray]:
        """(document titles, each item's position in them) — :func:`document_of` of every item, computed once per
        index."""
        codes = getattr(self, "_doc_codes", None)
        if codes is None:
            names, inverse = np.unique(np.array([document_of(it.id) for it in self.items], dtype=object),
                                       return_inverse=True)
            codes = (names, inverse)
            self._doc_codes = codes
        return codes  # type: ignore[no-any-return]

    def columns(self) -> dict[str, np.ndarray]:
        """Per-item attribute arrays for fast filtering (computed once per index)."""
        cols = getattr(self, "_cols", None)
        if cols is None:
            cols = {"repealed": np.array([it.status == "已废止" for it in self.items], dtype=bool),
                    "kind": np.array([it.kind for it in self.items], dtype=object),
                    "region": np.array([it.region for it in self.items], dtype=object),
                    "penalty": np.array([is_penalty(it.heading or "", it.text) for it in self.items], dtype=bool)}
            self._cols = cols
        return cols

    @property
    def has_vectors(self) -> bool:
        return self.vectors is not None and self.vectors.size == len(self.items)

    def has_vectors2(self, encoder_id: str | None = None) -> bool:
        """Second-encoder vectors for every item (of ``encoder_id``, when given)."""
        return self.vectors2 is not None and self.vectors2.size == len(self.items) and \
            (encoder_id is None or self.manifest.get("encoder2") == encoder_id)

    def _vector_index(self, matrix: np.ndarray, encoder: Encoder) -> VectorIndex:
        """A vector index of ``matrix``, which must hold one row of ``encoder``'s dimension per item."""
        if matrix.shape != (len(self.items), encoder.dim):
            raise ValueError(f"vector matrix {matrix.shape} does not fit {len(self.items)} items × {encoder.dim}")
        v = VectorIndex(encoder.dim)
        if len(matrix):
            v.add(matrix)
        return v

    def attach_vectors2(self, matrix: np.ndarray, encoder: Encoder) -> None:
        """Install the second encoder's vectors for exactly these items."""
        self._attach("2", matrix, encoder)

    @classmethod
    def build(cls, items: list[Item], token_field: str = "both", engine: str = "rank_bm25",
              encoder: Encoder | None = None, cache: EmbeddingCache | None = None, progress: bool = False,
              with_vectors: bool = True) -> SearchIndex:
        """Tokenise and index ``items``; embed them when an encoder is given and ``with_vectors``."""
        tf = TokenField.parse(token_field)
        t0 = time.perf_counter()
        bm25 = BM25Index(engine).build(document_tokens(items, tf))
        t1 = time.perf_counter()
        manifest: dict[str, Any] = {
            "format": FORMAT_VERSION, "items": len(items), "fingerprint": fingerprint(items),
            "token_field": tf.value, "bm25_engine": BM25Engine.parse(engine).value, "text_signature": text_signature(),
            "encoder": encoder.id if encoder else None, "dim": encoder.dim if encoder else None,
            "vectors": False, "built_at": time.time(), "bm25_seconds": round(t1 - t0, 2),
        }
        index = cls(items, bm25, None, manifest)
        if encoder is not None and with_vectors:
            index.attach_vectors(embed_passages(encoder, [it.embed_text() for it in items], cache, progress=progress),
                                 encoder)
        return index

    def attach_vectors(self, matrix: np.ndarray, encoder: Encoder) -> None:
        """Install vectors computed for exactly these items (e.g. by a background build)."""
        self._attach("", matrix, encoder)

    def _attach(self, suffix: str, matrix: np.ndarray, encoder: Encoder) -> None:
        """``vectors`` (suffix "") or ``vectors2`` (suffix "2") and their manifest entries, swapped in at once."""
        v = self._vector_index(matrix, encoder)
        with self._lock:
            setattr(self, "vectors" + suffix, v)
            self.manifest.update({"vectors" + suffix: True, "encoder" + suffix: encoder.id, "dim" + suffix: encoder.dim})

    # -- persistence -------------------------------------------------------------------------------------------
    def save(self, folder: Path) -> None:
        """Write to ``folder`` atomically (temp folder + rename)."""
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = folder.parent / f".{folder.name}.tmp-{os.getpid()}-{threading.get_ident()}"
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir()
        with (tmp / "items.jsonl").open("w", encoding="utf-8") as fh:
            for it in self.items:
                fh.write(json.dumps(asdict(it), ensure_ascii=False) + "\n")
        self.bm25.save(tmp / "bm25.pkl")
        if self.has_vectors:
            assert self.vectors is not None
            self.vectors.save(tmp / "vectors.faiss")
        if self.has_vectors2():
            assert self.vectors2 is not None
            self.vectors2.save(tmp / "vectors2.faiss")
        else:
            self.manifest.update(vectors2=False)
        self.manifest["files"] = {name: {"size": (tmp / name).stat().st_size, "sha256": _sha256(tmp / name)}
                                  for name in INDEX_FILES if (tmp / name).exists()}
        (tmp / "manifest.json").write_text(json.dumps(self.manifest, ensure_ascii=False, indent=1), "utf-8")
        old = folder.parent / f".{folder.name}.old-{os.getpid()}-{threading.get_ident()}"
        if folder.exists():
            os.replace(folder, old)
        os.replace(tmp, folder)
        if old.exists():
            shutil.rmtree(old, ignore_errors=True)

    @classmethod
    def load(cls, folder: Path, encoder_id: str | None = None) -> SearchIndex:
        """Load a saved index; raises :class:`IndexMismatch` if it was built with another encoder or format, and
        :class:`IndexCorrupt` if a file is missing, fails its recorded size/sha256 or cannot be parsed."""
        try:
            manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
        except ValueError as exc:
            raise IndexCorrupt(f"索引清单 {folder.name}/manifest.json 损坏：{exc}") from exc
        if manifest.get("format") != FORMAT_VERSION:
            raise IndexMismatch(f"索引格式版本 {manifest.get('format')} 与程序版本 {FORMAT_VERSION} 不一致，请重建索引")
        if manifest.get("vectors") and encoder_id and manifest.get("encoder") != encoder_id:
            raise IndexMismatch(
                f"索引由编码器 {manifest.get('encoder')} 构建，当前配置为 {encoder_id}；不能混用，请运行 assistant index build")
        files = manifest.get("files")
        if isinstance(files, dict):
            problem = file_problem(folder)
            if problem:
                raise IndexCorrupt(f"索引文件损坏：{problem}")
            for name, meta in files.items():
                if _sha256(folder / name) != meta.get("sha256"):
                    raise IndexCorrupt(f"索引文件损坏：{folder.name}/{name} 校验和不符")
        try:
            items = []
            with (folder / "items.jsonl").open(encoding="utf-8") as fh:
                for line in fh:
                    items.append(Item(**json.loads(line)))
            bm25 = BM25Index.load(folder / "bm25.pkl")
            vectors = vectors2 = None
            if manifest.get("vectors"):
                vectors = VectorIndex.load(folder / "vectors.faiss", int(manifest["dim"]))
            if manifest.get("vectors2"):
                vectors2 = VectorIndex.load(folder / "vectors2.faiss", int(manifest["dim2"]))
        except FileNotFoundError:
            raise
        except Exception as exc:  # truncated pickle, faiss RuntimeError, bad JSON line: never crash a worker on it
            raise IndexCorrupt(f"索引文件无法读取（{folder.name}）：{type(exc).__name__}: {exc}") from exc
        if len(items) != manifest.get("items") or bm25.n_docs != len(items) or \
                (vectors is not None and vectors.size != len(items)):
            raise IndexMismatch("索引文件不完整（条目数不一致），请重建索引")
        index = cls(items, bm25, vectors, manifest)
        if vectors2 is not None and vectors2.size == len(items):
            index.vectors2 = vectors2
        return index


def query_text(q: str) -> str:
    """The normalised form of a user query."""
    return normalize(q)
