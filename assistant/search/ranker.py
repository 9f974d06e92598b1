"""The learned ranking stage: reorders the candidate pool of a question with a model trained on labelled pairs.

``scripts/train_ranker.py`` trains it on the team's labelled question → article pairs (the curated entries'
wordings with their citations, the mailbox dev letters with the articles the ministry cited) and writes
``assistant/search/ranker.json``: the model, the feature names it reads, the encoder (and second encoder) it was
trained with and the fingerprint of the corpus. :func:`load_ranker` refuses a model trained with another encoder —
the retriever then falls back to score fusion and logs a warning — and reports (without refusing) a corpus that
changed since training.

Models: a LightGBM ``lambdarank`` booster (stored as its text dump inside the JSON) or a linear model (weights
over standardised features). Both score a pool of ~300 candidates in well under a millisecond.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .encoders import Encoder
from .features import FEATURES, Candidates, QuerySignals, extract
from .fusion import FusionParams, apply_references, fuse
from .index import SearchIndex
from .letter import QueryParts, analyse
from .query import PreparedQuery, prepare
from .references import MentionResolver, ReferenceMatcher, reference_vector

log = logging.getLogger(__name__)

RANKER_FILE = Path(__file__).resolve().parent / "ranker.json"
FORMAT = 1


class RankerUnavailable(Exception):
    """The model file is missing, unreadable, or was trained with another encoder."""

    code = "ranker_unavailable"


@dataclass
class RankerModel:
    """A trained ranking model and what it was trained with."""

    kind: str                      # "lgbm" | "linear"
    features: list[str]            # names, a subset of FEATURES, in the model's column order
    encoder: str | None            # encoder id the dense features came from
    encoder2: str | None = None    # second encoder id (dense2 features), if used
    fingerprint: str = ""          # corpus fingerprint of the training index
    payload: dict[str, Any] = field(default_factory=dict)  # lgbm: {"model": text}; linear: {"w", "b", "mu", "sd"}
    info: dict[str, Any] = field(default_factory=dict)     # training data, metrics, parameters
    pool: int = 100

    def __post_init__(self) -> None:
        unknown = [f for f in self.features if f not in FEATURES]
        if unknown:
            raise RankerUnavailable(f"排序模型使用了未知特征：{unknown}")
        if self.kind not in ("lgbm", "linear"):
            raise RankerUnavailable(f"未知的排序模型类型：{self.kind!r}")
        self._cols = np.array([FEATURES.index(f) for f in self.features], dtype=np.int64)
        self._booster: Any = None
        self._lock = threading.Lock()

    def _lgbm(self) -> Any:
        with self._lock:
            if self._booster is None:
                import lightgbm as lgb

                self._booster = lgb.Booster(model_str=self.payload["model"])
            return self._booster

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Scores for the rows of a full feature matrix (columns = :data:`FEATURES`)."""
        x = np.asarray(X, dtype=np.float64)[:, self._cols]
        if len(x) == 0:
            return np.zeros(0)
        if self.kind == "linear":
            mu, sd = np.asarray(self.payload["mu"]), np.asarray(self.payload["sd"])
            return ((x - mu) / sd) @ np.asarray(self.payload["w"]) + float(self.payload["b"])
        return np.asarray(self._lgbm().predict(x, num_threads=1), dtype=np.float64)

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "kind": self.kind, "features": self.features, "encoder": self.encoder,
                "encoder2": self.encoder2, "fingerprint": self.fingerprint, "pool": self.pool, "info": self.info,
                "payload": self.payload}

    def save(self, path: Path = RANKER_FILE) -> None:
        path.write_text(json.dumps(self.to_dict(), ensure_ascii=False, indent=1) + "\n", "utf-8")

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RankerModel:
        if d.get("format") != FORMAT:
            raise RankerUnavailable(f"排序模型文件格式 {d.get('format')} 与程序 {FORMAT} 不一致")
        return cls(kind=d["kind"], features=list(d["features"]), encoder=d.get("encoder"),
                   encoder2=d.get("encoder2"), fingerprint=d.get("fingerprint", ""), payload=d["payload"],
                   info=d.get("info", {}), pool=int(d.get("pool", 100)))


def load_ranker(encoder: Encoder | None, path: Path = RANKER_FILE, encoder2: Encoder | None = None) -> RankerModel:
    """The shipped model, if it fits the configured encoder(s); else :class:`RankerUnavailable` (with a reason
    in Chinese) — callers fall back to fusion."""
    if encoder is None:
        raise RankerUnavailable("未配置向量编码器（仅 BM25），排序模型不适用")
    try:
        model = RankerModel.from_dict(json.loads(path.read_text("utf-8")))
    except FileNotFoundError as exc:
        raise RankerUnavailable(f"排序模型文件不存在：{path}") from exc
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise RankerUnavailable(f"排序模型文件无法读取：{exc}") from exc
    if model.encoder != encoder.id:
        raise RankerUnavailable(f"排序模型由编码器 {model.encoder} 的特征训练，当前编码器为 {encoder.id}；改用分数融合")
    if model.encoder2 and (encoder2 is None or encoder2.id != model.encoder2):
        raise RankerUnavailable(f"排序模型需要第二编码器 {model.encoder2}，当前未配置；改用分数融合")
    return model


def split_tokens(tokens: list[str]) -> tuple[list[str], list[str]]:
    """(jieba words, ``§``-prefixed bigrams) of a ``both`` token list."""
    return [t for t in tokens if not t.startswith("§")], [t for t in tokens if t.startswith("§")]


class RankingStage:
    """Computes a question's signals over one index and reorders its candidates with a :class:`RankerModel`."""

    def __init__(self, model: RankerModel, fusion: FusionParams, encoder2: Encoder | None = None) -> None:
        self.model = model
        self.fusion = fusion
        self.encoder2 = encoder2
        self._resolvers: dict[int, MentionResolver] = {}
        self._matchers: dict[int, ReferenceMatcher] = {}
        self._lock = threading.Lock()

    def resolver(self, index: SearchIndex) -> MentionResolver:
        r = self._resolvers.get(id(index))
        if r is None or r.index is not index:
            r = MentionResolver(index)
            with self._lock:
                self._resolvers = {id(index): r, **dict(list(self._resolvers.items())[:3])}
        return r

    def matcher(self, index: SearchIndex) -> ReferenceMatcher:
        m = self._matchers.get(id(index))
        if m is None or m.index is not index:
            m = ReferenceMatcher(index)
            with self._lock:
                self._matchers = {id(index): m, **dict(list(self._matchers.items())[:3])}
        return m

    def signals(self, index: SearchIndex, pq: PreparedQuery, parts: QueryParts, encoder: Encoder | None,
                allow: np.ndarray | None, dense2_vectors: np.ndarray | None = None) -> QuerySignals:
        words, grams = split_tokens(pq.tokens)
        bw, bg = index.bm25.scores(words), index.bm25.scores(grams)
        dense = None
        if pq.vector is not None and index.has_vectors:
            assert index.vectors is not None
            dense = index.vectors.scores(pq.vector)
        fused = fuse(bw + bg, dense, self.fusion, pq.chars, allow)
        refs = reference_vector(self.matcher(index), pq.normalized, self.fusion.doc_prior)
        fused_ref = apply_references(fused, refs, self.fusion)
        bf = df = dq = None
        if parts.is_long and parts.focus != parts.normalized:
            fq = prepare(parts.focus, "both", encoder if dense is not None else None)
            bf = index.bm25.scores(fq.tokens)
            if fq.vector is not None and index.vectors is not None and encoder is not None:
                df = index.vectors.scores(fq.vector)
                qs = [s.text for s in parts.questions if len(s.text) >= 8][:4]
                if len(qs) > 1:
                    vecs = encoder.encode_queries(qs)
                    dq = np.max(np.stack([index.vectors.scores(v) for v in vecs]), axis=0)
        d2 = None
        if self.encoder2 is not None and dense2_vectors is not None:
            d2 = dense2_vectors @ self.encoder2.encode_queries([pq.normalized])[0]
        m = self.resolver(index).mentions(parts)
        return QuerySignals(bw, bg, dense, fused, fused_ref, bf, df, d2, dq, set(m.articles), set(m.docs),
                            set(m.docs_in_question), pq.normalized, parts.is_long)

    def rank(self, index: SearchIndex, sig: QuerySignals) -> tuple[Candidates, np.ndarray]:
        """The candidates and their model scores."""
        cands = extract(index, sig, self.model.pool)
        return cands, self.model.predict(cands.X)


def ranked_positions(cands: Candidates, scores: np.ndarray, k: int) -> list[tuple[int, float]]:
    """The top ``k`` (position, score) pairs, best first (ties keep the pool order)."""
    order = np.argsort(-scores, kind="stable")[:k]
    return [(int(cands.positions[i]), float(scores[i])) for i in order]


__all__ = ["RankerModel", "RankingStage", "RankerUnavailable", "load_ranker", "analyse", "ranked_positions"]
