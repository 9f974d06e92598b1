"""Tune retrieval design choices on the DEV split only (token field, fusion method and weights).

Prints a table per task: BM25 / dense / fused variants. Never reads test rows (they are filtered out on load).
Usage: .venv/bin/python scripts/tune.py [--tasks title2record,letter2reply,taidi,letter2article]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from assistant.config import Settings
from assistant.evaluation import (
    build_eval_index,
    compute_signals,
    eval_setup,
    load_queries,
    metrics_for,
    rank_targets,
    task_items,
)
from assistant.search.fusion import FusionMode, FusionParams

ROOT = Path(__file__).resolve().parents[1]

TASKS = {
    "title2record": ("corpus_mee_records.jsonl", "queries_mee_title2record.jsonl"),
    "letter2reply": ("corpus_mee_replies.jsonl", "queries_mee_letter2reply.jsonl"),
    "taidi": ("corpus_taidi_replies.jsonl", "queries_taidi_title2reply.jsonl"),
    "letter2article": ("regulations", "queries_mee_letter2article.jsonl"),
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", default=",".join(TASKS))
    ap.add_argument("--fields", default="words,bigrams,both")
    ap.add_argument("--weights", default="0.2,0.3,0.4,0.5,0.6")
    ap.add_argument("--alphas", default="0,0.5,1")
    ap.add_argument("--refs", default="0", help="reference weights to try")
    ap.add_argument("--doc-prior", type=float, default=0.0)
    args = ap.parse_args()
    from assistant.service import AssistantService

    svc, enc, cache, eval_dir, _shipped = eval_setup(AssistantService(Settings.from_env()))
    out: dict[str, dict[str, object]] = {}
    for task in args.tasks.split(","):
        corpus, qfile = TASKS[task]
        items = task_items(svc, eval_dir, corpus)
        qs = load_queries(eval_dir / qfile, "dev")
        for field in args.fields.split(","):
            idx = build_eval_index(items, enc, cache, field, svc.settings.search.bm25_engine)
            sig = compute_signals(idx, qs, enc, field, args.doc_prior)
            metric = "recall@10" if task == "letter2article" else "mrr@10"
            row: dict[str, object] = {}
            row["bm25"] = metrics_for([rank_targets(idx, s) for s in sig.single("bm25")], qs)[metric]
            assert sig.dense is not None
            row["dense"] = metrics_for([rank_targets(idx, s) for s in sig.single("dense")], qs)[metric]
            for mode in ("zscore", "rrf"):
                for w in [float(x) for x in args.weights.split(",")]:
                    for a in [float(x) for x in args.alphas.split(",")]:
                        for rw in [float(x) for x in args.refs.split(",")]:
                            p = FusionParams(mode=FusionMode(mode), bm25_weight=w, length_alpha=a,
                                             reference_weight=rw, doc_prior=args.doc_prior)
                            r = [rank_targets(idx, f) for f in sig.fused(p)]
                            row[f"{mode} w={w} a={a} ref={rw}"] = metrics_for(r, qs)[metric]
            out[f"{task}/{field}"] = row
            best = max((k for k in row if k not in ("bm25", "dense")), key=lambda k: row[k])  # type: ignore
            print(f"{task:15s} {field:8s} bm25={row['bm25']} dense={row['dense']} best={best}:{row[best]}",
                  flush=True)
    (ROOT / "index" / "tune_dev.json").write_text(json.dumps(out, ensure_ascii=False, indent=1), "utf-8")


if __name__ == "__main__":
    main()
