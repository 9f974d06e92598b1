"""The ranking on team letters it never saw: ``corpus/ranker/heldout/letters_*.jsonl`` — 100 letters and 20 short
questions written by the team (2026-12-03, without ``../shared/eval`` or the mailbox replies in view), labelled with
the in-force articles that answer them (``scripts/check_labels.py``). They are not read by the memory of answered
questions or by ``scripts/train_ranker.py`` (both read ``corpus/ranker/letters_*.jsonl`` only), so they measure how
the shipped ranking carries to letters unlike the mailbox's. BM25, vectors, fused and the shipped ranker on the same
run, on the regulation corpus of the evaluation protocol.

    .venv/bin/python scripts/eval_team_letters.py [--json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from assistant.config import ROOT, Settings
from assistant.evaluation import EvalQuery, build_eval_index, eval_memory, eval_setup, run_eval, task_items
from assistant.search.corpus import curated_items, passage_items
from assistant.search.ranker import load_ranking
from assistant.service import AssistantService

HELDOUT = ROOT / "corpus" / "ranker" / "heldout"


def heldout_queries(folder: Path = HELDOUT) -> list[EvalQuery]:
    out = []
    for f in sorted(folder.glob("letters_*.jsonl")):
        for line in f.read_text(encoding="utf-8").splitlines():
            if line.strip():
                r = json.loads(line)
                out.append(EvalQuery(str(r["id"]), str(r["query"]), [str(x) for x in r["relevant"]],
                                     "team letters" if r.get("style") == "letter" else "team short", str(r["id"])))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    svc, enc, cache, ev, params = eval_setup(AssistantService(Settings.from_env()))
    assert enc is not None, "compares the vectors and the ranker: needs the encoder"
    s = svc.settings
    svc.ensure_corpus()
    enc2 = svc.indexes.encoders.encoder2
    ranking = load_ranking(enc, params, s.search.ranker_file, enc2)
    with svc.Session() as sess:
        cur, replies = curated_items(sess), passage_items(sess, ["官方答复"])
    idx = build_eval_index(task_items(svc, ev, "regulations"), enc, cache, s.search.token_field, s.search.bm25_engine,
                           encoder2=enc2)
    res = run_eval(idx, heldout_queries(), enc, s.search.token_field, params, ranking,
                   eval_memory(idx, enc, cache, cur, replies, ev))
    if args.json:
        print(json.dumps(res, ensure_ascii=False, indent=1))
        return
    print("| questions | n | signal | Recall@1 | Recall@5 | Recall@10 | MRR@10 |")
    print("|---|---|---|---|---|---|---|")
    for split, signals in res.items():
        for name, m in signals.items():
            print(f"| {split} | {m['n']} | {name} | {m['recall@1']:.3f} | {m['recall@5']:.3f} | {m['recall@10']:.3f} "
                  f"| {m['mrr@10']:.3f} |")


if __name__ == "__main__":
    main()
