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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .encoders import Encoder
from .entries import EntryScorer
from .features import FEATURES, Candidates, QuerySignals, extract
from .fusion import FusionParams, apply_references, fuse
from .index import SearchIndex
from .letter import QueryParts, analyse
from .memory import AnswerMemory
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
        out = np.asarray(self._lgbm().predict(x, num_threads=1), dtype=np.float64)
        init = float(self.payload.get("init") or 0.0)
        if init:  # boosted from a baseline score: the trees hold the correction to it
            out = out + init * np.asarray(X, dtype=np.float64)[:, FEATURES.index(self.payload["init_feature"])]
        return out

    def to_dict(self) -> dict[str, Any]:
        """The ``passages`` section of the model file."""
        return {"kind": self.kind, "features": self.features, "pool": self.pool, "payload": self.payload}



@dataclass
class Ranking:
    """What the retriever needs for the learned stage: the passage model, the curated-entry model, the stage that
    computes signals, and (once built) the memory of answered questions."""

    passages: RankerModel
    entries: EntryScorer | None
    stage: RankingStage
    info: dict[str, Any] = field(default_factory=dict)
    memory: AnswerMemory | None = None
    #: sha256 of the model file
    digest: str = ""
    #: the decision's coefficients for the ranker's confidence (``passages:ranker``, ``curated:ranker``), fitted
    #: with the models on out-of-fold scores: they travel with the model they describe
    calibration: dict[str, dict[str, float]] = field(default_factory=dict)


def read_model_file(path: Path = RANKER_FILE) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(path.read_text("utf-8"))
    except FileNotFoundError as exc:
        raise RankerUnavailable(f"排序模型文件不存在：{path}") from exc
    except (OSError, ValueError) as exc:
        raise RankerUnavailable(f"排序模型文件无法读取：{exc}") from exc
    if data.get("format") != FORMAT:
        raise RankerUnavailable(f"排序模型文件格式 {data.get('format')} 与程序 {FORMAT} 不一致")
    return data


def load_ranking(encoder: Encoder | None, fusion: FusionParams, path: Path = RANKER_FILE,
                 encoder2: Encoder | None = None) -> Ranking:
    """The shipped models, if they fit the configured encoder; else :class:`RankerUnavailable` with the reason in
    Chinese — the retriever then ranks by score fusion (and the service logs a warning)."""
    if encoder is None:
        raise RankerUnavailable("未配置向量编码器（仅 BM25），排序模型不适用")
    data = read_model_file(path)
    if data.get("encoder") != encoder.id:
        raise RankerUnavailable(f"排序模型由编码器 {data.get('encoder')} 的特征训练，当前编码器为 {encoder.id}；"
                                "改用分数融合")
    if data.get("encoder2") and (encoder2 is None or encoder2.id != data.get("encoder2")):
        raise RankerUnavailable(f"排序模型需要第二编码器 {data.get('encoder2')}，当前未配置；改用分数融合")
    try:
        p = data["passages"]
        model = RankerModel(kind=p["kind"], features=list(p["features"]), encoder=data["encoder"],
                            encoder2=data.get("encoder2"), fingerprint=str(data.get("fingerprint", "")),
                            payload=p["payload"], info=data.get("info", {}), pool=int(p.get("pool", 100)))
        entries = EntryScorer.from_dict(data["entries"]) if data.get("entries") else None
    except (KeyError, TypeError, ValueError) as exc:
        raise RankerUnavailable(f"排序模型文件内容不完整：{exc}") from exc
    cal = data.get("calibration") or {}
    # the second encoder only when the model reads its features (else its query encoding would be wasted time)
    stage = RankingStage(model, fusion, encoder2 if data.get("encoder2") else None)
    return Ranking(model, entries, stage, info=data.get("info", {}),
                   digest=model_digest(path), calibration={k: dict(v) for k, v in cal.items() if isinstance(v, dict)})


def ranker_thresholds(ranking: Ranking | None) -> dict[str, float] | None:
    """The decision thresholds chosen with the model (answer, caution, curated; answer_long, caution_long for long
    letters when the file has them), if its file has them."""
    t = ranking.calibration.get("thresholds") if ranking is not None else None
    if not t or not all(k in t for k in ("answer", "caution", "curated")):
        return None
    return {k: float(t[k]) for k in ("answer", "caution", "curated", "answer_long", "caution_long") if k in t}


def model_digest(path: Path = RANKER_FILE) -> str:
    """sha256 of the model file (first 16 hex digits)."""
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


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
        return self._for_index("_resolvers", index, MentionResolver)

    def matcher(self, index: SearchIndex) -> ReferenceMatcher:
        return self._for_index("_matchers", index, ReferenceMatcher)

    def _for_index(self, attr: str, index: SearchIndex, make: Callable[[SearchIndex], Any]) -> Any:
        """One ``make(index)`` per index, kept for the four most recent indexes (``attr`` names the store)."""
        known = getattr(self, attr)
        obj = known.get(id(index))
        if obj is None or obj.index is not index:
            obj = make(index)
            with self._lock:
                setattr(self, attr, {id(index): obj, **dict(list(getattr(self, attr).items())[:3])})
        return obj

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
        cw, cg = index.bm25.coverage(words), index.bm25.coverage(grams)
        bf = df = dq = cf = None
        if parts.is_long and parts.focus != parts.normalized:
            fq = prepare(parts.focus, "both", encoder if dense is not None else None)
            bf = index.bm25.scores(fq.tokens)
            cf = index.bm25.coverage(split_tokens(fq.tokens)[0])
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
        return QuerySignals(bm25_words=bw, bm25_bigrams=bg, dense=dense, fused=fused, fused_ref=fused_ref,
                            bm25_focus=bf, cov_words=cw, cov_bigrams=cg, cov_focus=cf, dense_focus=df, dense2=d2,
                            dense_qmax=dq, named_articles=set(m.articles), named_docs=set(m.docs),
                            named_docs_in_question=set(m.docs_in_question), normalized=pq.normalized,
                            is_long=parts.is_long)

    def rank(self, index: SearchIndex, sig: QuerySignals) -> tuple[Candidates, np.ndarray]:
        """The candidates and their model scores."""
        cands = extract(index, sig, self.model.pool)
        return cands, self.model.predict(cands.X)

    def candidates(self, index: SearchIndex, pq: PreparedQuery, encoder: Encoder | None, allow: np.ndarray | None,
                   memory: AnswerMemory | None = None, exclude_group: str | None = None,
                   dense2_vectors: np.ndarray | None = None) -> tuple[QuerySignals, Candidates]:
        """Signals and the featurised candidate pool of one question (``memory`` only if built for ``index``;
        ``exclude_group`` leaves that group of answered questions out, for evaluation and training)."""
        parts = analyse(pq.raw, pq.normalized)
        sig = self.signals(index, pq, parts, encoder, allow, dense2_vectors)
        if memory is not None and memory.index is index and pq.vector is not None:
            sig.bridge_max, sig.bridge_sum = memory.votes(pq.vector, exclude_group)
        return sig, extract(index, sig, self.model.pool)

    def run(self, index: SearchIndex, pq: PreparedQuery, encoder: Encoder | None, allow: np.ndarray | None,
            memory: AnswerMemory | None = None, exclude_group: str | None = None,
            dense2_vectors: np.ndarray | None = None) -> tuple[QuerySignals, Candidates, np.ndarray]:
        """Signals, candidates and model scores of one question."""
        sig, cands = self.candidates(index, pq, encoder, allow, memory, exclude_group, dense2_vectors)
        return sig, cands, self.model.predict(cands.X)


def ranked_positions(cands: Candidates, scores: np.ndarray, k: int) -> list[tuple[int, float]]:
    """The top ``k`` (position, score) pairs, best first (ties keep the pool order)."""
    order = np.argsort(-scores, kind="stable")[:k]
    return [(int(cands.positions[i]), float(scores[i])) for i in order]


__all__ = ["RankerModel", "RankingStage", "RankerUnavailable", "Ranking", "load_ranking", "analyse",
           "ranked_positions", "write_model_file", "save_model_data"]


def write_model_file(passages: RankerModel, entries: EntryScorer | None, encoder_id: str, fingerprint: str,
                     info: dict[str, Any], path: Path = RANKER_FILE, encoder2_id: str | None = None,
                     calibration: dict[str, dict[str, float]] | None = None) -> None:
    """Write the model file (``scripts/train_ranker.py``). ``calibration``: the decision's logistic coefficients
    for ``passages:ranker`` and ``curated:ranker``, fitted on out-of-fold scores of these very models."""
    data = {"format": FORMAT, "encoder": encoder_id, "encoder2": encoder2_id, "fingerprint": fingerprint,
            "features": list(FEATURES), "calibration": calibration or {}, "passages": passages.to_dict(),
            "entries": entries.to_dict() if entries is not None else None, "info": info}
    save_model_data(data, path)


def save_model_data(data: dict[str, Any], path: Path = RANKER_FILE) -> None:
    """Write a model file's content (as :func:`write_model_file` builds it, or as read and partly refitted)."""
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", "utf-8")
