"""Held-out paraphrases → curated entries (Recall@1/@3) and → the articles their entries cite (Recall@5/@10, MRR@10),
with BM25, vectors, fused and the learned ranker, and what the service shows.

The held-out set ``tests/data/curated_heldout.jsonl`` was written together with the entries, before any tuning,
by rephrasing each entry's question in new words (no row contains, or is contained in, any of its entry's
wordings). It is used only here, for reporting (the "test" of the curated tasks): the ranker, the dictionary,
weights and thresholds were chosen on the mailbox dev split and on the entries' own wordings (leave-one-out /
grouped cross-validation in ``scripts/train_ranker.py``). The article task runs on the regulation corpus of the
evaluation protocol; the ranker's memory of answered questions leaves the row's own entry out.

    .venv/bin/python scripts/eval_curated.py [--json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from assistant.config import Settings
from assistant.evaluation import (
    EvalQuery,
    build_eval_index,
    compute_signals,
    eval_memory,
    evaluate_signals,
    metrics_for,
    ranker_rankings,
)
from assistant.search.corpus import curated_items, passage_items, regulation_items, wording_rows
from assistant.search.entries import wording_mask
from assistant.search.fusion import FusionMode, FusionParams
from assistant.search.query import prepare
from assistant.service import AssistantService

ROOT = Path(__file__).resolve().parents[1]

HELDOUT = ROOT / "tests" / "data" / "curated_heldout.jsonl"


def top_entries(hits: list[Any], k: int = 3) -> list[str]:
    out: list[str] = []
    for h in hits:
        if h.item.target not in out:
            out.append(h.item.target)
    return out[:k]


def entry_task(svc: AssistantService, rows: list[dict[str, str]]) -> dict[str, Any]:
    r = svc.retriever
    cur = r.curated
    assert cur is not None
    res: dict[str, Any] = {"n": len(rows)}
    allow = wording_mask(cur)
    for name, mode in (("bm25", FusionMode.BM25), ("dense", FusionMode.DENSE), ("fused", None)):
        saved = r.fusion
        if mode is not None:
            r.fusion = FusionParams(mode=mode)
        h1 = h3 = 0
        for row in rows:
            pq = prepare(row["query"], r.token_field, r.encoder)
            tops = top_entries(r._rank(cur, pq, 60, "curated", allow).hits)
            h1 += tops[:1] == [row["entry_id"]]
            h3 += row["entry_id"] in tops
        r.fusion = saved
        res[name] = {"recall@1": round(h1 / len(rows), 3), "recall@3": round(h3 / len(rows), 3)}
    if r.ranker_active:
        h1 = h3 = 0
        for row in rows:
            cr = r.search(row["query"]).curated
            tops = top_entries(cr.hits if cr else [])
            h1 += tops[:1] == [row["entry_id"]]
            h3 += row["entry_id"] in tops
        res["ranker"] = {"recall@1": round(h1 / len(rows), 3), "recall@3": round(h3 / len(rows), 3)}
    shown = right = 0
    for row in rows:
        a = svc.answer(row["query"])
        if a.curated:
            shown += 1
            right += a.curated["id"] == row["entry_id"]
    res["service"] = {"curated_shown_share": round(shown / len(rows), 3),
                      "shown_and_right_share_of_shown": round(right / max(1, shown), 3),
                      "curated_threshold": svc.answerer.decision_thresholds().curated,
                      "ranking": "learned" if r.ranker_active else "fusion"}
    return res


def article_task(svc: AssistantService, rows: list[dict[str, str]]) -> dict[str, Any]:
    s = svc.settings
    r = svc.retriever
    enc = r.encoder
    with svc.Session() as sess:
        reg_items = regulation_items(sess)
        cur_items = curated_items(sess)
        replies = passage_items(sess, ["官方答复"])
    reg = build_eval_index(reg_items, svc.indexes.encoders.encoder, svc.indexes.encoders.cache(), s.search.token_field, s.search.bm25_engine,
                           encoder2=svc.indexes.encoders.encoder2)
    cites = {it.target: [c for c in it.meta.get("citations") or [] if c in reg.pos] for it in wording_rows(cur_items)}
    qs = [EvalQuery(f"heldout-{i}", row["query"], cites.get(row["entry_id"], []), "test", row["entry_id"])
          for i, row in enumerate(rows)]
    qs = [q for q in qs if q.relevant]
    sig = compute_signals(reg, qs, enc, s.search.token_field, svc.indexes.fusion.doc_prior)
    out: dict[str, Any] = {"n": len(qs), **evaluate_signals(reg, sig, svc.indexes.fusion)}
    if r.ranking is not None and enc is not None:
        memory = eval_memory(reg, enc, svc.indexes.encoders.cache(), cur_items, replies, s.corpus.shared_data.parent / "eval")
        out["ranker"] = metrics_for(ranker_rankings(reg, qs, enc, s.search.token_field, r.ranking, memory), qs)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    svc = AssistantService(Settings.from_env())
    svc.migrate()
    svc.ensure_corpus()
    svc.load_indexes(background=False)
    rows = [json.loads(line) for line in HELDOUT.read_text("utf-8").splitlines() if line.strip()]
    res = {"entries": entry_task(svc, rows), "articles": article_task(svc, rows)}
    if args.json:
        print(json.dumps(res, ensure_ascii=False, indent=1))
        return
    e = res["entries"]
    print("| held-out paraphrases → entry | Recall@1 | Recall@3 |\n|---|---|---|")
    for k in ("bm25", "dense", "fused", "ranker"):
        if k in e:
            print(f"| {k} | {e[k]['recall@1']:.3f} | {e[k]['recall@3']:.3f} |")
    print(f"\nservice: {json.dumps(e['service'], ensure_ascii=False)}")
    a = res["articles"]
    print(f"\n| held-out paraphrases → article (n={a['n']}) | Recall@5 | Recall@10 | MRR@10 |\n|---|---|---|---|")
    for k in ("bm25", "dense", "fused", "ranker"):
        if k in a:
            print(f"| {k} | {a[k]['recall@5']:.3f} | {a[k]['recall@10']:.3f} | {a[k]['mrr@10']:.3f} |")


if __name__ == "__main__":
    main()
