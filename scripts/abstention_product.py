"""Decisions of the shipped service (product corpus, shipped thresholds) on dev questions: out-of-scope questions
should be routed to staff; in-scope mailbox titles should be answered with the matching reply or its articles.

    .venv/bin/python scripts/abstention_product.py [--split dev|test]
"""

from __future__ import annotations

import argparse
import collections
import json
from pathlib import Path

from assistant.config import Settings
from assistant.evaluation import load_queries, loaded_service
from assistant.service import AssistantService

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--split", default="dev")
    args = ap.parse_args()
    svc = loaded_service(AssistantService(Settings.from_env()))
    ev = svc.settings.corpus.shared_data.parent / "eval"
    out: dict[str, object] = {"retrieval_mode": svc.retriever.mode}
    oos = load_queries(ev / "queries_out_of_scope.jsonl", args.split)
    c = collections.Counter(svc.answer(q.query).decision.value for q in oos)
    out["out_of_scope"] = {"n": len(oos), **c, "answered_share": round((c["answer"] + c["caution"]) / len(oos), 3)}
    t2r = load_queries(ev / "queries_mee_title2record.jsonl", args.split)
    c2: collections.Counter[str] = collections.Counter()
    good = 0
    for q in t2r:
        a = svc.answer(q.query)
        c2[a.decision.value] += 1
        rid = q.relevant[0]
        if a.decision.value != "abstain" and a.citations and a.citations[0].id.endswith(f"（{rid}）#1"):
            good += 1
    answered = c2["answer"] + c2["caution"]
    out["title2record_on_product"] = {"n": len(t2r), **c2, "answered_share": round(answered / len(t2r), 3),
                                      "top_is_the_record_share_of_answered": round(good / max(1, answered), 3)}
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
