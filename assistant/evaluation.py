"""The evaluation protocol of ``../shared/eval/README.md``: BM25 alone, vectors alone and fused, per task and split.

Metrics per split: Recall@1/5/10 (share of a query's relevant documents found in the top k, averaged over
queries), MRR@10 and nDCG@10. Abstention: at a threshold, the share of answerable queries answered with a relevant
top result, answered with a wrong one, and the share of out-of-scope queries answered.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from .answer.context import (
    Earlier,
    carried,
    carried_turns,
    merge_rankings,
    only_courtesy,
    own_words,
    search_text,
    topic_documents,
)
from .search.corpus import regulation_items
from .search.encoders import EmbeddingCache, Encoder, embed_passages
from .search.fusion import FusionMode, FusionParams, apply_references, fuse
from .search.index import Item, SearchIndex
from .search.memory import AnswerMemory, curated_sources, letter_sources, record_group, reply_sources
from .search.query import prepare
from .search.ranker import Ranking, ranked_positions
from .search.references import ReferenceMatcher, reference_vector
from .search.retriever import REPEAL_WORDS, default_mask, within_documents

if TYPE_CHECKING:
    from .service import AssistantService


@dataclass(frozen=True)
class EvalQuery:
    id: str
    query: str
    relevant: list[str]
    split: str
    #: the group of answered questions this query belongs to (its curated entry, its mailbox record): left out of
    #: the ranker's memory when this query is evaluated
    group: str | None = None
    #: a follow-up read with its earlier question (``query``): its own words, ranked inside the topic's documents
    #: and merged as ``ask`` merges them (:func:`~assistant.answer.context.follow_up_result`)
    asked: str = ""


def load_queries(path: Path, split: str | None = None) -> list[EvalQuery]:
    """Query rows; rows without ``split`` count as split ``all``."""
    out = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                r = json.loads(line)
                q = EvalQuery(str(r["id"]), str(r["query"]), [str(x) for x in r.get("relevant", [])],
                              str(r.get("split") or "all"), r.get("group") or record_group(str(r["id"])))
                if split is None or q.split == split:
                    out.append(q)
    return out


def corpus_items_from_jsonl(path: Path) -> list[Item]:
    """Items from an eval corpus file (``id``, ``title``, ``text``, ``kind``)."""
    items = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                r = json.loads(line)
                items.append(Item(id=str(r["id"]), title=str(r.get("title") or ""), text=str(r["text"]),
                                  kind=str(r.get("kind") or ""), target=str(r["id"])))
    return items


def task_items(svc: AssistantService, eval_dir: Path, corpus: str) -> list[Item]:
    """The corpus of an evaluation task: ``regulations`` — the regulation articles in the service's database (the
    bundled corpus ingested first when the database is empty); else the corpus file of that name in ``eval_dir``."""
    if corpus != "regulations":
        return corpus_items_from_jsonl(eval_dir / corpus)
    svc.ensure_corpus()
    with svc.Session() as s:
        return regulation_items(s)


class EvalSetup(NamedTuple):
    """What the evaluation scripts measure with: the (migrated) service, its encoder and embedding cache, the eval
    folder (``../shared/eval``, next to the shared data) and the fusion settings the service uses."""

    svc: AssistantService
    encoder: Encoder | None
    cache: EmbeddingCache
    eval_dir: Path
    params: FusionParams


def eval_setup(svc: AssistantService) -> EvalSetup:
    """Migrate the service's database, then gather what an evaluation measures with (see :class:`EvalSetup`)."""
    from .search.lifecycle import fusion_params

    svc.migrate()
    s = svc.settings
    return EvalSetup(svc, svc.indexes.encoders.encoder, svc.indexes.encoders.cache(),
                     s.corpus.shared_data.parent / "eval", fusion_params(s))


def sqlite_snapshot(url: str, dst: Path) -> str:
    """A consistent copy of the SQLite database at ``url`` (``sqlite:///…``) in ``dst``, through SQLite's backup API:
    a file copy misses what still sits in the write-ahead log (a fresh ingest that was not checkpointed yet — the
    measuring scripts then ran on the corpus from before it). Returns the copy's URL."""
    import sqlite3

    src = sqlite3.connect(url.split("///", 1)[1])
    out = sqlite3.connect(dst)
    try:
        src.backup(out)
    finally:
        out.close()
        src.close()
    return f"sqlite:///{dst}"


def loaded_service(svc: AssistantService) -> AssistantService:
    """The service as ``ask`` runs it: database migrated, the bundled corpus ingested when the database is empty, the
    indexes loaded (in the foreground)."""
    svc.migrate()
    svc.ensure_corpus()
    svc.load_indexes(background=False)
    return svc


@dataclass
class Signals:
    """Per-query full score vectors of both signals (computed once, fused many ways)."""

    queries: list[EvalQuery]
    bm25: list[np.ndarray]
    dense: list[np.ndarray] | None
    chars: list[int]
    refs: list[np.ndarray | None] | None = None
    masks: list[np.ndarray | None] | None = None

    def _masks(self) -> list[np.ndarray | None]:
        return self.masks or [None] * len(self.bm25)

    def single(self, which: str) -> list[np.ndarray]:
        """One signal alone, with the same filters applied."""
        sig = self.bm25 if which == "bm25" else self.dense
        assert sig is not None
        return [s if m is None else np.where(m, s, -np.inf) for s, m in zip(sig, self._masks())]

    def fused(self, params: FusionParams) -> list[np.ndarray]:
        assert self.dense is not None
        refs = self.refs or [None] * len(self.bm25)
        return [apply_references(fuse(b, d, params, c, m), r, params)
                for b, d, c, r, m in zip(self.bm25, self.dense, self.chars, refs, self._masks())]


def compute_signals(index: SearchIndex, queries: list[EvalQuery], encoder: Encoder | None,
                    token_field: str, doc_prior: float = 0.0) -> Signals:
    """Score every query with both signals. The product's default filters apply (repealed texts and other
    cities' local rules are not shown unless asked for), exactly as :meth:`Retriever.search` does."""
    bm, de, ch, rf, masks = [], [], [], [], []
    matcher = ReferenceMatcher(index)
    use_dense = encoder is not None and index.has_vectors
    for q in queries:
        pq = prepare(q.query, token_field, encoder if use_dense else None)
        mask = default_mask(index, pq.normalized, any(w in pq.normalized for w in REPEAL_WORDS))
        masks.append(mask)
        bm.append(index.bm25.scores(pq.tokens))
        if use_dense:
            assert index.vectors is not None and pq.vector is not None
            de.append(index.vectors.scores(pq.vector))
        ch.append(pq.chars)
        rf.append(reference_vector(matcher, pq.normalized, doc_prior))
    return Signals(queries, bm, de if use_dense else None, ch, rf, masks)


def ranking(scores: np.ndarray, k: int = 10) -> np.ndarray:
    k = min(k, scores.shape[0])
    top = np.argpartition(-scores, k - 1)[:k]
    return top[np.argsort(-scores[top], kind="stable")]


def metrics_for(rankings: list[list[str]], queries: list[EvalQuery]) -> dict[str, float]:
    """Recall@1/5/10, MRR@10, nDCG@10 averaged over queries that have relevant documents."""
    acc: dict[str, float] = defaultdict(float)
    n = 0
    for ranked, q in zip(rankings, queries):
        rel = set(q.relevant)
        if not rel:
            continue
        n += 1
        for k in (1, 5, 10):
            acc[f"recall@{k}"] += len(rel & set(ranked[:k])) / len(rel)
        rr = next((1.0 / (i + 1) for i, d in enumerate(ranked[:10]) if d in rel), 0.0)
        acc["mrr@10"] += rr
        dcg = sum(1.0 / math.log2(i + 2) for i, d in enumerate(ranked[:10]) if d in rel)
        idcg = sum(1.0 / math.log2(i + 2) for i in range(min(len(rel), 10)))
        acc["ndcg@10"] += dcg / idcg if idcg else 0.0
    out = {k: round(v / n, 4) for k, v in acc.items()} if n else {}
    out["n"] = n
    return out


def rank_targets(index: SearchIndex, scores: np.ndarray, k: int = 10) -> list[str]:
    """Top ``k`` distinct targets (curated rows collapse onto their entry)."""
    out: list[str] = []
    for i in ranking(scores, min(len(index.items), k * 4)):
        if not np.isfinite(scores[i]):
            break
        t = index.items[int(i)].target or index.items[int(i)].id
        if t not in out:
            out.append(t)
        if len(out) == k:
            break
    return out


def evaluate_signals(index: SearchIndex, sig: Signals, params: FusionParams) -> dict[str, dict[str, float]]:
    """Metrics for bm25, dense and fused on the same run."""
    res: dict[str, dict[str, float]] = {}
    res["bm25"] = metrics_for([rank_targets(index, s) for s in sig.single("bm25")], sig.queries)
    if sig.dense is not None:
        res["dense"] = metrics_for([rank_targets(index, s) for s in sig.single("dense")], sig.queries)
        res["fused"] = metrics_for([rank_targets(index, f) for f in sig.fused(params)], sig.queries)
    return res


def held_out_record_ids(eval_dir: Path) -> set[str]:
    """Mailbox records whose questions are in a ``test`` split of any task: never in an evaluation's memory."""
    out: set[str] = set()
    for f in sorted(eval_dir.glob("queries_mee_*.jsonl")):
        for q in load_queries(f, "test"):
            g = record_group(q.id)
            if g:
                out.add(g)
    return out


def eval_memory(index: SearchIndex, encoder: Encoder, cache: EmbeddingCache | None, curated: list[Item],
                replies: list[Item], eval_dir: Path | None) -> AnswerMemory:
    """The memory of answered questions for an evaluation index: curated wordings, the team's labelled letters and
    the mailbox letters whose replies cite articles — without any record of a test split."""
    exclude = held_out_record_ids(eval_dir) if eval_dir is not None else set()
    rows = [*curated_sources(curated), *letter_sources(), *reply_sources(replies, index, exclude)]
    return AnswerMemory.build(rows, index, encoder, cache)


def ranker_rankings(index: SearchIndex, queries: list[EvalQuery], encoder: Encoder, token_field: str,
                    ranking: Ranking, memory: AnswerMemory | None, k: int = 10) -> list[list[str]]:
    """Top ``k`` targets per query as the shipped ``ask`` ranks them (filters, learned stage, memory without the
    query's own group)."""
    out = []
    d2 = index.vectors2.matrix if (ranking.passages.encoder2 and index.vectors2 is not None) else None

    def ranked_targets(text: str, q: EvalQuery, within: frozenset[str] | None = None, penalties: bool = False
                       ) -> list[str]:
        pq = prepare(text, token_field, encoder)
        allow = default_mask(index, pq.normalized, any(w in pq.normalized for w in REPEAL_WORDS))
        if within is not None:
            allow = within_documents(index, allow, within, penalties)
        _sig, cands, scores = ranking.stage.run(index, pq, encoder, allow, memory, exclude_group=q.group,
                                                dense2_vectors=d2)
        ranked: list[str] = []
        for p, _s in ranked_positions(cands, scores, len(cands.positions)):
            t = index.items[p].target or index.items[p].id
            if t not in ranked:
                ranked.append(t)
            if len(ranked) == k:
                break
        return ranked

    for q in queries:
        ranked = ranked_targets(q.query, q)
        if q.asked and ranked:  # a follow-up read in context: merged with its own words inside the topic
            text, penalties = own_words(q.asked, q.query)
            own = ranked_targets(text, q, topic_documents(ranked), penalties)
            ranked = [i for i, _s in merge_rankings(ranked, own)][:k]
        out.append(ranked)
    return out


def build_eval_index(items: list[Item], encoder: Encoder | None, cache: EmbeddingCache | None,
                     token_field: str, engine: str, progress: bool = False,
                     encoder2: Encoder | None = None) -> SearchIndex:
    idx = SearchIndex.build(items, token_field=token_field, engine=engine, encoder=None)
    if encoder is not None:
        idx.attach_vectors(embed_passages(encoder, [it.embed_text() for it in items], cache, progress=progress),
                           encoder)
        if encoder2 is not None:
            idx.attach_vectors2(embed_passages(encoder2, [it.embed_text() for it in items], cache,
                                               progress=progress), encoder2)
    return idx


def run_eval(index: SearchIndex, queries: list[EvalQuery], encoder: Encoder | None, token_field: str,
             params: FusionParams, ranking: Ranking | None = None, memory: AnswerMemory | None = None
             ) -> dict[str, dict[str, dict[str, float]]]:
    """``{split: {"bm25": M, "dense": M, "fused": M, "ranker": M}}`` — ``ranker`` (what ``ask`` ships) when a
    ranking model is given and vectors are available."""
    by_split: dict[str, list[EvalQuery]] = defaultdict(list)
    for q in queries:
        by_split[q.split].append(q)
    out = {}
    for split in sorted(by_split):
        sig = compute_signals(index, by_split[split], encoder, token_field, params.doc_prior)
        out[split] = evaluate_signals(index, sig, params)
        if ranking is not None and encoder is not None and index.has_vectors:
            out[split]["ranker"] = metrics_for(
                ranker_rankings(index, by_split[split], encoder, token_field, ranking, memory), by_split[split])
    return out



#: how a conversation's last turn is searched: as ``ask`` does (``product``), or the two baselines of the protocol
DIALOGUE_HANDLING = ("product", "alone", "concat")


def dialogue_queries(path: Path, split: str | None = None, handling: str = "product",
                     context_helps: Callable[[str, str], bool] = lambda _a, _c: True) -> list[EvalQuery]:
    """The last turn of each conversation of ``queries_dialogues.jsonl`` as the text that would be searched for it
    after the earlier turns in one session (``context_helps``: the service's choice for a short turn,
    :func:`~assistant.answer.answerer.context_helps`); ``split`` is ``<split>/carry`` or ``<split>/switch``."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        r = json.loads(line)
        if split is not None and r.get("split") != split:
            continue
        turns = [str(t) for t in r["turns"]]
        used: Earlier | None = None
        if handling == "alone":
            text = turns[-1]
        elif handling == "concat":
            text = "".join(t if t[-1:] in "？?。！!" else t + "。" for t in turns)
        else:
            earlier: Earlier | None = None
            for i, t in enumerate(turns):  # each turn asked in order, as the chat asks them
                if only_courtesy(t) and i < len(turns) - 1:
                    continue  # "好的，谢谢": not searched, and never the context (``ask`` passes over it)
                text, used = search_text(t, earlier, context_helps)
                hand_on = carried(t, text, earlier)
                earlier = Earlier(t, text, carries=hand_on, turns=carried_turns(t, hand_on, earlier))
        kind = "carry" if r.get("carry") else "switch"
        out.append(EvalQuery(str(r["id"]), text, [str(x) for x in r["relevant"]], f"{r.get('split') or 'all'}/{kind}",
                             asked=turns[-1] if used is not None else ""))
    return out


def run_dialogues(index: SearchIndex, path: Path, split: str | None, encoder: Encoder | None, token_field: str,
                  params: FusionParams, ranking: Ranking | None = None, memory: AnswerMemory | None = None,
                  context_helps: Callable[[str, str], bool] = lambda _a, _c: True) -> dict[str, dict[str, object]]:
    """``{split: {"carry": M, "switch": M, "baselines": {"alone": {...}, "concat": {...}}}}`` — M the metrics of what
    ``ask`` ships (the learned stage when given, else fused) for the last turn, asked after the earlier ones."""
    product: dict[str, dict[str, object]] = defaultdict(dict)
    baselines: dict[str, dict[str, dict[str, object]]] = defaultdict(lambda: defaultdict(dict))
    for handling in DIALOGUE_HANDLING:
        qs = dialogue_queries(path, split, handling, context_helps)
        res = run_eval(index, qs, encoder, token_field, params, ranking, memory)
        for key, signals in res.items():
            sp, kind = key.split("/")
            m = signals.get("ranker", signals["fused"])
            if handling == "product":
                product[sp][kind] = m
            else:
                baselines[sp][handling][kind] = m
    return {sp: {**product[sp], "baselines": {h: dict(v) for h, v in baselines[sp].items()}} for sp in sorted(product)}


__all__ = ["EvalQuery", "load_queries", "corpus_items_from_jsonl", "task_items", "EvalSetup", "eval_setup",
           "loaded_service", "compute_signals", "evaluate_signals", "run_eval", "metrics_for", "FusionMode",
           "FusionParams", "build_eval_index", "dialogue_queries", "run_dialogues"]
