"""What choosing the answering sentence by e5 costs: (1) per answer — the same article answers (the first letters
of the team's held-out set: a letter leads with its articles) with the sentence vectors off (query terms) and on
(read from the embedding cache the background pass filled); (2) the background pass itself — every sentence of the
passages index encoded into an empty cache (``--encode``; minutes). Prints medians and maxima.

    .venv/bin/python scripts/bench_sentences.py [--encode]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from assistant.answer.sentence_vectors import SentenceVectors
from assistant.config import ROOT, Settings
from assistant.evaluation import loaded_service
from assistant.search.encoders import EmbeddingCache
from assistant.service import AssistantService


def letters(n: int = 12) -> list[str]:
    out = []
    for f in sorted((ROOT / "corpus" / "ranker" / "heldout").glob("letters_*.jsonl")):
        out += [json.loads(x)["query"] for x in f.read_text("utf-8").splitlines() if x.strip()]
    return out[:n]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--encode", action="store_true", help="also time the background pass into an empty cache")
    args = ap.parse_args()
    base = Settings.from_env()
    svc = loaded_service(AssistantService(base.evolve(warm_up=False)))
    qs = letters()
    for q in qs:  # the questions' vectors cached: only the sentence choice differs between the runs
        svc.answer(q)
    sv = svc.answerer.sentences
    for label, on in (("terms (sentence vectors off)", False), ("e5 (read from the cache)", True),
                      ("terms (sentence vectors off)", False), ("e5 (read from the cache)", True)):
        sv.enabled = on
        ms, found = [], 0
        for q in qs:
            t0 = time.perf_counter()
            ans = svc.answer(q)
            ms.append((time.perf_counter() - t0) * 1000)
            found += sum(1 for c in ans.citations if c.answer_sentence)
        print(f"{label}: median {statistics.median(ms):.1f} ms, max {max(ms):.1f} ms over {len(ms)} answers "
              f"({found} cards with a sentence)")
    if args.encode:
        with tempfile.TemporaryDirectory(prefix="bench-sentences-") as tmp:
            cache_dir = Path(tmp)
            fresh = SentenceVectors(lambda: svc.indexes.encoders.encoder,
                                    lambda: EmbeddingCache(cache_dir / "embeddings.sqlite"),
                                    cache_dir)
            items = [(it.kind, it.text) for it in svc.retriever.passages.items]
            t0 = time.perf_counter()
            n = fresh.run(lambda: items)
            dt = time.perf_counter() - t0
            print(f"background pass: {n} sentences in {dt:.0f} s ({n / dt:.0f} sentences/s)")
            shutil.rmtree(cache_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
