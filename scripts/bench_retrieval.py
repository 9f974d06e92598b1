"""Retrieval benchmark: p50/p95/p99 of an in-process ``ask`` (retrieve + compose, no HTTP) on the full shipped
corpus, plus the cold build times. Prints JSON. Run by hand (not a test):

    .venv/bin/python scripts/bench_retrieval.py [--queries 200] [--cold]

``--cold`` also times a full index build from an empty embedding cache for a sample of passages and extrapolates
(the full cold encode of ~10k passages takes over ten minutes on two cores).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import tempfile
import time
from pathlib import Path

from assistant.config import Settings
from assistant.evaluation import load_queries
from assistant.service import AssistantService

ROOT = Path(__file__).resolve().parents[1]


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def _letters(svc: AssistantService) -> dict[str, float]:
    """Latency of long letters (100–600 characters), each asked twice: the second time is warm (query vectors
    of the letter and of its question sentences are cached)."""
    rows = []
    for f in sorted((ROOT / "corpus" / "ranker").glob("letters_*.jsonl")):
        rows += [json.loads(x) for x in f.read_text("utf-8").splitlines() if x.strip()]
    letters = [r["query"] for r in rows if r.get("style") == "letter"]
    cold, warm = [], []
    for q in letters:
        t = time.perf_counter()
        svc.answer(q)
        cold.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        svc.answer(q)
        warm.append((time.perf_counter() - t) * 1000)
    return {"letters": len(letters), "letters_first_p50_ms": round(statistics.median(cold), 1),
            "letters_first_p95_ms": round(pct(cold, 95), 1), "letters_warm_p50_ms": round(statistics.median(warm), 1),
            "letters_warm_p95_ms": round(pct(warm, 95), 1)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--cold", action="store_true")
    ap.add_argument("--letters", action="store_true",
                    help="also time the team's long labelled letters (corpus/ranker/letters_*.jsonl, style letter)")
    ap.add_argument("--no-ranker", action="store_true", help="rank by score fusion (the pipeline before the ranker)")
    args = ap.parse_args()
    s = Settings.from_env()
    if args.no_ranker:

        s = s.evolve(ranker=False)
    svc = AssistantService(s)
    svc.migrate()
    svc.ensure_corpus()
    t0 = time.perf_counter()
    svc.load_indexes(background=False)
    load_s = time.perf_counter() - t0
    ev = s.corpus.shared_data.parent / "eval"
    qs = [q.query for q in load_queries(ev / "queries_mee_title2record.jsonl", "dev")]
    qs += [q.query for q in load_queries(ev / "queries_out_of_scope.jsonl", "dev")]
    qs = (qs * (args.queries // len(qs) + 1))[: args.queries]
    for q in qs[:10]:
        svc.answer(q)  # warm-up
    lat = []
    for q in qs:
        t = time.perf_counter()
        svc.answer(q)
        lat.append((time.perf_counter() - t) * 1000)
    out = {
        "ranking": svc.status()["ranking"],
        "passages": len(svc.retriever.passages.items),
        "curated_rows": len(svc.retriever.curated.items) if svc.retriever.curated else 0,
        "mode": svc.retriever.mode,
        "queries": len(lat),
        "p50_ms": round(statistics.median(lat), 1),
        "p95_ms": round(pct(lat, 95), 1),
        "p99_ms": round(pct(lat, 99), 1),
        "index_load_s": round(load_s, 2),
        **(_letters(svc) if args.letters else {}),
        "rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    # BM25-only full rebuild (what a fresh start does before vectors exist)
    from assistant.search.corpus import passage_items
    from assistant.search.index import SearchIndex

    with svc.Session() as sess:
        items = passage_items(sess)
    t = time.perf_counter()
    SearchIndex.build(items, s.search.token_field, s.search.bm25_engine)
    out["bm25_build_s"] = round(time.perf_counter() - t, 2)
    if args.cold:
        from assistant.search.encoders import EmbeddingCache, embed_passages

        sample = items[:: max(1, len(items) // 300)][:300]
        with tempfile.TemporaryDirectory() as d:
            cache = EmbeddingCache(Path(d) / "e.sqlite")
            assert svc.indexes.encoders.encoder is not None
            t = time.perf_counter()
            embed_passages(svc.indexes.encoders.encoder, [it.embed_text() for it in sample], cache)
            per = (time.perf_counter() - t) / len(sample)
        out["cold_embed_per_passage_s"] = round(per, 4)
        out["cold_full_build_estimate_s"] = round(per * len(items) + out["bm25_build_s"], 0)
        out["cpu_count"] = os.cpu_count()
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
