"""Held-out paraphrases → curated entries (Recall@1/@3), with BM25, vectors and fused, and what the service shows.

The held-out set ``tests/data/curated_heldout.jsonl`` was written together with the entries, before any tuning,
by rephrasing each entry's question in new words (no row contains, or is contained in, any of its entry's
wordings). It is used only here, for reporting: the dictionary, synonyms, weights and thresholds were chosen on
the mailbox dev split and on leave-one-out over the entries' own paraphrases (scripts/dictionary_effect.py).

    .venv/bin/python scripts/eval_curated.py [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assistant.config import Settings  # noqa: E402
from assistant.search.fusion import FusionMode, FusionParams  # noqa: E402
from assistant.service import AssistantService  # noqa: E402

HELDOUT = ROOT / "tests" / "data" / "curated_heldout.jsonl"


def top_entries(hits: list, k: int = 3) -> list[str]:  # type: ignore[type-arg]
    out: list[str] = []
    for h in hits:
        if h.item.target not in out:
            out.append(h.item.target)
    return out[:k]


def evaluate(svc: AssistantService, rows: list[dict[str, str]]) -> dict[str, object]:
    r = svc.retriever
    cur = r.curated
    assert cur is not None
    res: dict[str, object] = {"n": len(rows)}
    from assistant.search.query import prepare

    for name, mode in (("bm25", FusionMode.BM25), ("dense", FusionMode.DENSE), ("fused", None)):
        saved = r.fusion
        if mode is not None:
            r.fusion = FusionParams(mode=mode)
        h1 = h3 = 0
        for row in rows:
            pq = prepare(row["query"], r.token_field, r.encoder)
            tops = top_entries(r._rank(cur, pq, 30, "curated").hits)
            h1 += tops[:1] == [row["entry_id"]]
            h3 += row["entry_id"] in tops
        r.fusion = saved
        res[name] = {"recall@1": round(h1 / len(rows), 3), "recall@3": round(h3 / len(rows), 3)}
    shown = right = 0
    for row in rows:
        a = svc.answer(row["query"])
        if a.curated:
            shown += 1
            right += a.curated["id"] == row["entry_id"]
    res["service"] = {"curated_shown_share": round(shown / len(rows), 3),
                      "shown_and_right_share_of_shown": round(right / max(1, shown), 3),
                      "curated_threshold": svc.settings.curated_threshold}
    return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", action="store_true")
    ap.parse_args()
    svc = AssistantService(Settings.from_env())
    svc.migrate()
    svc.ensure_corpus()
    svc.load_indexes(background=False)
    rows = [json.loads(line) for line in HELDOUT.read_text("utf-8").splitlines() if line.strip()]
    print(json.dumps(evaluate(svc, rows), ensure_ascii=False))


if __name__ == "__main__":
    main()
