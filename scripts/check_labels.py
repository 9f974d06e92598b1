"""Check labelled question → article files (``corpus/ranker/*.jsonl``, and the conversations of
``corpus/dialogues/*.jsonl``, whose last turn is labelled): every ``relevant`` id must be an in-force
article of the regulation corpus (``../shared/data/laws`` + ``zhejiang``, as ingested into the database).

    .venv/bin/python scripts/check_labels.py corpus/ranker/letters_*.jsonl [--show]

``--show`` prints each question with the start of every article it cites, for review by eye.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from assistant.config import Settings
from assistant.search.corpus import regulation_items
from assistant.service import AssistantService


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("files", nargs="+", type=Path)
    ap.add_argument("--show", action="store_true")
    args = ap.parse_args()
    svc = AssistantService(Settings.from_env())
    svc.migrate()
    svc.ensure_corpus()
    with svc.Session() as s:
        items = {it.id: it for it in regulation_items(s)}
    bad = n = 0
    seen: set[str] = set()
    for f in args.files:
        for ln, line in enumerate(f.read_text("utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as exc:
                print(f"{f}:{ln}: JSON 无法解析：{exc}")
                bad += 1
                continue
            n += 1
            if "turns" in row:  # a conversation (corpus/dialogues/): judged on its last turn
                turns = row["turns"]
                if not isinstance(turns, list) or not turns or not all(isinstance(t, str) and t for t in turns):
                    print(f"{f}:{ln}: turns 须为非空的问句列表")
                    bad += 1
                elif "query" not in row:
                    row["query"] = " / ".join(turns)
            for key in ("id", "query", "relevant"):
                if key not in row:
                    print(f"{f}:{ln}: 缺少字段 {key}")
                    bad += 1
            if row.get("id") in seen:
                print(f"{f}:{ln}: 重复的 id {row.get('id')}")
                bad += 1
            seen.add(row.get("id"))
            for rid in row.get("relevant", []):
                it = items.get(rid)
                if it is None:
                    print(f"{f}:{ln}: {row.get('id')}: 条文 {rid} 不在法规语料中")
                    bad += 1
                elif it.status == "已废止":
                    print(f"{f}:{ln}: {row.get('id')}: 条文 {rid} 已废止")
                    bad += 1
            if args.show:
                print(f"\n[{row.get('id')}] {row.get('query')}")
                for rid in row.get("relevant", []):
                    if rid in items:
                        print(f"   → {rid}: {items[rid].text[:90]}")
    print(f"{n} rows, {bad} problems")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
