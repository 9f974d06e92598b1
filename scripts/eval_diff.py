"""The article matcher of 政策速递 on real revision pairs, against hand-checked lists.

Each pair is ingested as the service ingests it (older text first, then the current one, on a fresh SQLite
database; the current text's "《…》同时废止" makes ingest record the older text as replaced); the change recorded
for the current document is compared with ``tests/data/revisions/<pair>.tsv``,
written by reading both texts article by article (one row per old article and per added new article:
old, new, relation = unchanged | changed | removed | added).

Reported per pair: precision/recall of the matched pairs (old → new), and of each class — added (new articles),
removed (old articles), changed (old articles whose text changed), renumbered (matched pairs whose number moved).

    .venv/bin/python scripts/eval_diff.py [--json] [--shared ../shared]
"""

from __future__ import annotations

import argparse
import csv
import json
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import select

from assistant.db.migrate import upgrade
from assistant.db.models import PolicyChange
from assistant.db.session import make_engine, make_sessionmaker
from assistant.ingest.pipeline import ingest_paths

ROOT = Path(__file__).resolve().parents[1]
GOLD = ROOT / "tests" / "data" / "revisions"

#: (gold list, older text, current text) — both texts are in ../shared
PAIRS = [
    ("noise_1996_2021", "data/laws/中华人民共和国环境噪声污染防治法(已废止2018修正).md",
     "data/laws/中华人民共和国噪声污染防治法.md"),
    ("zj_water_2017_2020", "data/zhejiang/浙江省水资源管理条例(2017-11-30).md",
     "data/zhejiang/浙江省水资源条例(2020-09-24).md"),
]


def read_gold(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def classes(rows: list[dict[str, Any]]) -> dict[str, set[Any]]:
    """The sets compared: matched pairs, added new keys, removed old keys, changed old keys, renumbered pairs."""
    out: dict[str, set[Any]] = {k: set() for k in ("pairs", "added", "removed", "changed", "renumbered")}
    for r in rows:
        old, new, op = (r.get("old") or None), (r.get("new") or None), r["op"]
        if old and new:
            out["pairs"].add((str(old), str(new)))
            if str(old) != str(new):
                out["renumbered"].add((str(old), str(new)))
        if op == "added":
            out["added"].add(str(new))
        elif op == "removed":
            out["removed"].add(str(old))
        elif op == "changed":
            out["changed"].add(str(old))
    return out


def pr(pred: set[Any], gold: set[Any]) -> dict[str, float | int]:
    tp = len(pred & gold)
    return {"gold": len(gold), "predicted": len(pred),
            "precision": round(tp / len(pred), 3) if pred else 1.0,
            "recall": round(tp / len(gold), 3) if gold else 1.0}


def run_pair(shared: Path, name: str, old_rel: str, new_rel: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/diff.db")
        upgrade(engine)
        Session = make_sessionmaker(engine)
        with Session() as s:
            ingest_paths(s, [shared / old_rel])
            report = ingest_paths(s, [shared / new_rel])
            # the current text says "《…》同时废止": ingest itself records the older text as replaced (替代)
            assert [c["kind"] for c in report.changes] == ["替代"], report.changes
            pc = s.scalar(select(PolicyChange))
            assert pc is not None
            pred = classes(pc.diff)
            counts = dict(pc.counts)
        engine.dispose()
    gold_rows = [{"old": r["old"], "new": r["new"], "op": r["relation"]} for r in read_gold(GOLD / f"{name}.tsv")]
    gold = classes(gold_rows)
    return {"pair": name, "old": Path(old_rel).name, "new": Path(new_rel).name, "counts": counts,
            **{k: pr(pred[k], gold[k]) for k in ("pairs", "added", "removed", "changed", "renumbered")}}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    args = ap.parse_args()
    res = [run_pair(args.shared, *p) for p in PAIRS]
    if args.json:
        print(json.dumps(res, ensure_ascii=False, indent=1))
        return
    print("| pair | class | gold | predicted | precision | recall |")
    print("|---|---|---|---|---|---|")
    for r in res:
        for k in ("pairs", "added", "removed", "changed", "renumbered"):
            m = r[k]
            print(f"| {r['pair']} | {k} | {m['gold']} | {m['predicted']} | {m['precision']:.3f} | {m['recall']:.3f} |")


if __name__ == "__main__":
    main()
