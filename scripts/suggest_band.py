"""The "您是不是想问" band: below the curated threshold, how close must the best curated entry be to be offered?

Chosen on dev material, reported on the rest: the held-out paraphrases (``tests/data/curated_heldout.jsonl``) are
split by entry into two halves (a stable hash of the entry id: dev and test), the out-of-scope questions of
``../shared/eval`` by their own split. For each lower bound L: the share of held-out paraphrases whose intended
entry is answered (shown, confidence ≥ the curated threshold) or offered first (top entry, L ≤ confidence <
threshold), and the share of out-of-scope questions that get a suggestion. The bound shipped is the highest L whose
dev coverage reaches the target with the out-of-scope rate within its limit (else the one with the best coverage
within the limit). An entry that shares no word with the question is never offered (``decide.shares_a_word``;
``--no-gate`` measures without that rule).

    .venv/bin/python scripts/suggest_band.py [--json] [--no-gate]
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

from assistant.answer.decide import shares_a_word
from assistant.config import ROOT, Settings
from assistant.db.models import CuratedAnswer
from assistant.evaluation import loaded_service
from assistant.service import AssistantService

HELDOUT = ROOT / "tests" / "data" / "curated_heldout.jsonl"
TARGET, OOS_LIMIT = 0.90, 0.10
GRID = [round(0.05 * i, 2) for i in range(0, 20)]


def half(entry_id: str) -> str:
    return "dev" if hashlib.sha1(entry_id.encode()).digest()[0] % 2 == 0 else "test"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--no-gate", action="store_true", help="offer entries that share no word with the question too")
    args = ap.parse_args()
    svc = loaded_service(AssistantService(Settings.from_env()))
    thr = svc.answerer.decision_thresholds().curated
    with svc.Session() as s:
        wordings = {e.id: [e.question, *e.paraphrases] for e in s.query(CuratedAnswer)}

    def searched(query: str) -> tuple[float, str, bool]:
        """The best entry's confidence, its id, and whether it may be offered (shares a word with the question)."""
        res = svc.retriever.search(query)
        cur = res.curated
        top = cur.hits[0].item.target if cur is not None and cur.hits else ""
        gate = args.no_gate or shares_a_word(res.query.expanded, wordings.get(top, []))
        return (cur.confidence if cur is not None and cur.hits else 0.0), top, gate

    rows: dict[str, list[tuple[float, bool, bool]]] = {"dev": [], "test": []}
    for line in HELDOUT.read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        conf, top, gate = searched(r["query"])
        rows[half(r["entry_id"])].append((conf, top == r["entry_id"], gate))
    oos: dict[str, list[tuple[float, bool]]] = {"dev": [], "test": []}
    oos_path = Settings.from_env().corpus.shared_data.parent / "eval" / "queries_out_of_scope.jsonl"
    for line in Path(oos_path).read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        conf, _top, gate = searched(r["query"])
        oos[r["split"]].append((conf, gate))

    def cells(split: str, low: float) -> tuple[float, float, float]:
        rs, os_ = rows[split], oos[split]
        answered = sum(1 for c, ok, _g in rs if ok and c >= thr) / len(rs)
        covered = sum(1 for c, ok, g in rs if ok and (c >= thr or (c >= low and g))) / len(rs)
        offered_oos = sum(1 for c, g in os_ if low <= c < thr and g) / len(os_)
        return answered, covered, offered_oos

    table = {split: {low: cells(split, low) for low in GRID if low < thr} for split in ("dev", "test")}
    ok = [low for low, (_a, cov, o) in table["dev"].items() if cov >= TARGET and o <= OOS_LIMIT]
    within = [low for low, (_a, _c, o) in table["dev"].items() if o <= OOS_LIMIT]
    chosen = max(ok) if ok else max(within, key=lambda lo: (table["dev"][lo][1], lo))
    out = {"curated_threshold": thr, "chosen_low": chosen, "n": {s: len(rows[s]) for s in rows},
           "n_oos": {s: len(oos[s]) for s in oos},
           "dev": {str(lo): v for lo, v in table["dev"].items()}, "test_at_chosen": table["test"][chosen],
           "dev_at_chosen": table["dev"][chosen]}
    if args.json:
        print(json.dumps(out, ensure_ascii=False, indent=1))
        return
    print(f"curated threshold {thr:.2f}; held-out paraphrases dev {len(rows['dev'])} / test {len(rows['test'])}; "
          f"out-of-scope dev {len(oos['dev'])} / test {len(oos['test'])}")
    print("| L | dev: answered | dev: answered or offered first | dev: out-of-scope offered |")
    print("|---|---|---|---|")
    for lo, (a, c, o) in table["dev"].items():
        print(f"| {lo:.2f} | {a:.3f} | {c:.3f} | {o:.3f} |")
    for split in ("dev", "test"):
        a, c, o = table[split][chosen]
        print(f"chosen L={chosen:.2f} — {split}: answered {a:.3f}, answered or offered first {c:.3f}, "
              f"out-of-scope offered {o:.3f}")


if __name__ == "__main__":
    main()
