"""The dialogue set through ``ask`` as a user meets it: each conversation asked turn by turn in one session, the
last turn's answer scored by its citations (first 5) — Recall@5 per split for carry / switch, beside the last turn
asked alone in a fresh session — and what the user sees for the last turn asked in its session: answered with a
relevant citation among the first five, answered with none relevant, routed to staff only (no citations), and passed
to staff besides the answer shown (参考 for a letter or a follow-up). Runs on a throw-away copy of the database (the questions are stored as usual).

    .venv/bin/python scripts/dialogues_ask.py [--split dev|test] [--file FILE…] [--show]

``--file``: other conversation files of the same form (default: ``../shared/eval/queries_dialogues.jsonl``), e.g. the
team's own (``corpus/dialogues/``); a row without ``split`` counts under the file's name. ``--show``: every
conversation's last turn with the ids cited first and whether the context was used.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from assistant.config import Settings
from assistant.evaluation import loaded_service, sqlite_snapshot
from assistant.service import AssistantService


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--split", default=None, help="only rows of this split (dev, test, or a file's name)")
    ap.add_argument("--file", type=Path, nargs="+", default=None)
    ap.add_argument("--show", action="store_true")
    args = ap.parse_args()
    base = Settings.from_env()
    if not base.db.url.startswith("sqlite:///"):
        raise SystemExit("runs on a copy of the embedded SQLite database")
    with tempfile.TemporaryDirectory(prefix="dialogues-") as tmp:
        db = Path(tmp) / "assistant.db"
        svc = loaded_service(AssistantService(base.evolve(database_url=sqlite_snapshot(base.db.url, db), warm_up=False)))
        files = args.file or [base.corpus.shared_data.parent / "eval" / "queries_dialogues.jsonl"]
        rows = [{"split": f.stem, **json.loads(x)} for f in files
                for x in f.read_text(encoding="utf-8").splitlines() if x.strip()]
        acc: dict[tuple[str, str, str], list[float]] = {}
        seen: dict[tuple[str, str], list[str]] = {}
        for r in rows:
            if args.split and r["split"] != args.split:
                continue
            rel = set(r["relevant"])
            kind = "carry" if r["carry"] else "switch"
            for t in r["turns"][:-1]:
                svc.ask(t, channel="api", session_id=f"eval-{r['id']}")
            for how, session in (("ask in session", f"eval-{r['id']}"), ("last turn alone", f"alone-{r['id']}")):
                ans = svc.ask(r["turns"][-1], channel="api", session_id=session).answer
                got = [i for c in ans.citations for i in c.ids][:5]  # every passage of the cards, in order
                acc.setdefault((r["split"], kind, how), []).append(len(rel & set(got)) / len(rel))
                if how == "ask in session":
                    outcome = "routed" if not got else ("right" if rel & set(got) else "wrong")
                    seen.setdefault((r["split"], kind), []).append(outcome + ("+staff" if ans.meta.get("queued") else ""))
                    if args.show:
                        ctx = "ctx" if ans.meta.get("context", {}).get("used") else "alone"
                        shown = "curated" if ans.curated is not None else ans.decision.value
                        print(f"{outcome} {r['id']} {kind} {ctx} {shown} | {' / '.join(r['turns'])}\n"
                              f"    got: {got}\n    want: {sorted(rel)}")
        print("| split | last turn | n | Recall@5, asked in its session | Recall@5, asked alone |")
        print("|---|---|---|---|---|")
        for split in sorted({k[0] for k in acc}):
            for kind in ("carry", "switch"):
                a, b = acc.get((split, kind, "ask in session")), acc.get((split, kind, "last turn alone"))
                if a and b:
                    print(f"| {split} | {kind} | {len(a)} | {sum(a) / len(a):.3f} | {sum(b) / len(b):.3f} |")
        print()
        print("| split | last turn | n | relevant citation | none relevant | routed to staff only | also passed to staff |")
        print("|---|---|---|---|---|---|---|")
        for (split, kind), outs in sorted(seen.items()):
            n = len(outs)
            share = [sum(o.startswith(w) for o in outs) / n for w in ("right", "wrong", "routed")]
            print(f"| {split} | {kind} | {n} | " + " | ".join(f"{v:.3f}" for v in share)
                  + f" | {sum(o.endswith('+staff') for o in outs) / n:.3f} |")


if __name__ == "__main__":
    main()
