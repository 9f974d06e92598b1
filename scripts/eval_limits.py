"""Limit questions → the row of the limit table that answers them (issue #17): the team's own questions in
enterprise wording (``corpus/limits/questions.jsonl``: pollutant × source type × standard, with the expected row ids,
half ``dev`` for choosing, half ``test`` only reported), on the shipped corpus and retrieval. Rows whose ``source`` is
``pdf`` expect a row read from a PDF's table (``ingest/pdf/tables.py``); the others rows of the Markdown standards —
each split is reported whole and per source.

Reports, per split: Recall@1/@3/@10 of the shipped ranking (what ``ask`` ranks; a question counts when any of its
expected rows is in the top k) and what a user sees — the answer's decision and whether a cited passage (any card,
grouped passages included) is an expected row.

    .venv/bin/python scripts/eval_limits.py [--json] [--split dev|test|all]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from assistant.config import Settings
from assistant.service import AssistantService

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = ROOT / "corpus" / "limits" / "questions.jsonl"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--split", default="all")
    ap.add_argument("--verbose", action="store_true", help="print each question's top 3")
    args = ap.parse_args()
    svc = AssistantService(Settings.from_env())
    svc.migrate()
    svc.ensure_corpus()
    svc.load_indexes(background=False)
    rows = [json.loads(x) for x in QUESTIONS.read_text(encoding="utf-8").splitlines() if x.strip()]
    out: dict[str, dict[str, float]] = {}
    groups = [(split, split, None) for split in ("dev", "test")]
    groups += [(f"{split} · {name}", split, src) for split in ("dev", "test")
               for name, src in (("Markdown standards", "md"), ("PDF tables", "pdf"))]
    for label, split, source in groups:
        if args.split not in ("all", split):
            continue
        qs = [r for r in rows if r["split"] == split and source in (None, r.get("source", "md"))]
        at = {1: 0, 3: 0, 10: 0}
        shown = answered = 0
        for r in qs:
            rel = set(r["relevant"])
            ids = [h.item.id for h in svc.retriever.search(r["question"], k=10).passages.hits]
            for k in at:
                at[k] += bool(rel & set(ids[:k]))
            ans = svc.answerer.answer(r["question"])
            cited = {i for c in ans.citations for i in c.ids}
            answered += ans.decision.value != "abstain"
            shown += bool(rel & cited) and ans.decision.value != "abstain"
            if args.verbose:
                print(("OK " if rel & set(ids[:3]) else "-- ") + r["question"], "→", ids[:3])
        n = len(qs)
        out[label] = {"n": n, **{f"recall@{k}": round(v / n, 3) for k, v in at.items()},
                      "answered": round(answered / n, 3), "answered_with_the_row": round(shown / n, 3)}
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
    else:
        print("| split | n | R@1 | R@3 | R@10 | answered | answered citing the row |\n|---|---|---|---|---|---|---|")
        for split, m in out.items():
            print(f"| {split} | {m['n']} | {m['recall@1']:.3f} | {m['recall@3']:.3f} | {m['recall@10']:.3f} | "
                  f"{m['answered']:.3f} | {m['answered_with_the_row']:.3f} |")


if __name__ == "__main__":
    main()
