"""rank-bm25 vs bm25s behind the same :class:`~assistant.search.index.BM25Index` interface: ranking quality on the
eval sets (BM25 alone, the product's filters, the ``dev`` split unless ``--split`` says otherwise), how far the two
rankings agree, and the cost of one query at the full corpus and at a corpus repeated to ``--scale`` passages.

    .venv/bin/python scripts/bm25_engines.py [--split dev] [--scale 100000] [--json]

The two engines share the tokens (jieba words + bigrams, the dictionary's abbreviation expansion), k1 = 1.2 and
b = 0.75; they differ in the idf (rank-bm25: Okapi ``log((N-n+.5)/(n+.5))`` with a floor for very common terms;
bm25s ``lucene``: ``log(1 + (N-n+.5)/(n+.5))``) and in a constant factor (k1 + 1) that does not change a ranking.
Agreement per query: the same top-1, and the overlap of the two top-10 lists (|A ∩ B| / 10).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
EVAL = ROOT.parent / "shared" / "eval"
TASKS = {  # query file -> corpus (a JSONL of the eval set, or the ingested regulations)
    "mee_title2record": "corpus_mee_records.jsonl",
    "mee_letter2reply": "corpus_mee_replies.jsonl",
    "mee_letter2article": "regulations",
    "taidi_title2reply": "corpus_taidi_replies.jsonl",
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--split", choices=["dev", "test"], default="dev")
    ap.add_argument("--scale", type=int, default=100000, help="passages for the per-query timing at scale")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    from assistant.evaluation import corpus_items_from_jsonl, load_queries, metrics_for, rank_targets
    from assistant.search.bm25 import BM25Index
    from assistant.search.corpus import regulation_items
    from assistant.search.index import SearchIndex, document_tokens
    from assistant.search.query import prepare
    from assistant.search.retriever import REPEAL_WORDS, default_mask
    from assistant.service import AssistantService

    svc = AssistantService()
    svc.migrate()
    svc.ensure_corpus()
    tf = svc.settings.search.token_field
    out: dict[str, object] = {"split": args.split, "token_field": tf, "tasks": {}}
    full_tokens: list[list[str]] = []
    timing_queries: list[list[str]] = []
    for task, corpus in TASKS.items():
        if corpus == "regulations":
            with svc.Session() as s:
                items = regulation_items(s)
        else:
            items = corpus_items_from_jsonl(EVAL / corpus)
        tokens = document_tokens(items, tf)
        queries = load_queries(EVAL / f"queries_{task}.jsonl", args.split)
        engines = {name: BM25Index(name).build(tokens) for name in ("rank_bm25", "bm25s")}
        ranked: dict[str, list[list[str]]] = {name: [] for name in engines}
        seconds: dict[str, list[float]] = {name: [] for name in engines}
        index = SearchIndex(items, engines["bm25s"], None, {})  # only for the filter columns and the targets
        for q in queries:
            pq = prepare(q.query, tf, None)
            mask = default_mask(index, pq.normalized, any(w in pq.normalized for w in REPEAL_WORDS))
            for name, eng in engines.items():
                t0 = time.perf_counter()
                sc = eng.scores(pq.tokens)
                seconds[name].append(time.perf_counter() - t0)
                if mask is not None:
                    sc = np.where(mask, sc, -np.inf)
                ranked[name].append(rank_targets(index, sc))
        top1 = [a[:1] == b[:1] for a, b in zip(ranked["rank_bm25"], ranked["bm25s"])]
        overlap = [len(set(a) & set(b)) / max(1, min(10, len(a), len(b)))
                   for a, b in zip(ranked["rank_bm25"], ranked["bm25s"])]
        out["tasks"][task] = {  # type: ignore[index]
            "queries": len(queries), "passages": len(items),
            **{f"{name}": metrics_for(ranked[name], queries) for name in engines},
            "same_top1": round(sum(top1) / max(1, len(top1)), 4),
            "top10_overlap": round(statistics.fmean(overlap) if overlap else 0.0, 4),
            "ms_per_query": {name: round(1000 * statistics.fmean(v), 3) for name, v in seconds.items()},
        }
        if corpus == "regulations":
            full_tokens = tokens
            timing_queries = [prepare(q.query, tf, None).tokens for q in queries[:30]]
    # at scale: the regulation corpus repeated to --scale passages (the loop of rank-bm25 grows with the passages)
    reps = max(1, -(-args.scale // max(1, len(full_tokens))))
    big = (full_tokens * reps)[: args.scale]
    scale: dict[str, object] = {"passages": len(big)}
    for name in ("rank_bm25", "bm25s"):
        t0 = time.perf_counter()
        eng = BM25Index(name).build(big)
        build_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        for toks in timing_queries:
            eng.scores(toks)
        scale[name] = {"build_s": round(build_s, 1),
                       "ms_per_query": round(1000 * (time.perf_counter() - t0) / max(1, len(timing_queries)), 2)}
    out["at_scale"] = scale
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
        return
    print(f"split={args.split} token_field={tf}")
    for task, r in out["tasks"].items():  # type: ignore[attr-defined]
        print(f"{task}: {r['queries']} queries, {r['passages']} passages; same top-1 {r['same_top1']:.1%}, "
              f"top-10 overlap {r['top10_overlap']:.1%}; ms/query {r['ms_per_query']}")
        for name in ("rank_bm25", "bm25s"):
            m = r[name]
            print(f"  {name:9s} " + "  ".join(f"{k}={v}" for k, v in m.items()))
    print(f"at {scale['passages']} passages: {scale}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
