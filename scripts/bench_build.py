"""Index build times, printed (run by hand, not a test): a full rebuild with a warm embedding cache (what
``assistant index build`` costs after a corpus change), the incremental path (publishing one curated answer: the
curated index alone is rebuilt, the passages stay), and with ``--cold`` a full build with an empty embedding cache
(every passage encoded by e5: the first start of a new installation).

    .venv/bin/python scripts/bench_build.py [--corpus full|synthetic:N] [--cold] [--json]

Works on throw-away copies of the database and ``index/`` (the full corpus: ``instance/assistant.db`` and ``index/``
after ``assistant index build``; ``synthetic:N``: ``build/synth-N/`` of ``scripts/synth_corpus.py``); the cold run
copies no embedding cache. Peak RSS of this process is printed too.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

from assistant.ops.bench import copy_sqlite

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", default="full")
    ap.add_argument("--cold", action="store_true", help="also a full build with an empty embedding cache (slow)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    from assistant.config import Settings
    from assistant.ingest.curated import CuratedEntry
    from assistant.service import AssistantService

    if args.corpus == "full":
        src_db, src_index = ROOT / "instance" / "assistant.db", ROOT / "index"
    else:
        n = int(args.corpus.split(":", 1)[1])
        src_db, src_index = ROOT / "build" / f"synth-{n}" / "assistant.db", ROOT / "build" / f"synth-{n}" / "index"
    if not (src_index / "embeddings.sqlite").exists():
        sys.exit(f"no warm index at {src_index}: run `assistant index build` (or scripts/synth_corpus.py) first")
    tmp = Path(tempfile.mkdtemp(prefix="bench_build_"))
    out: dict[str, object] = {"corpus": args.corpus}
    try:
        copy_sqlite(src_db, tmp / "assistant.db")
        (tmp / "index").mkdir()
        copy_sqlite(src_index / "embeddings.sqlite", tmp / "index" / "embeddings.sqlite")
        settings = Settings.from_env().evolve(database_url=f"sqlite:///{tmp / 'assistant.db'}",
                           index_dir=tmp / "index", background_vectors=False, warm_up=False)
        svc = AssistantService(settings)
        svc.migrate()
        warm = svc.build_indexes()
        out.update(passages=warm["passages"], curated_rows=warm["curated_rows"], warm_full_build_s=warm["seconds"])

        times = []
        for i in range(5):
            t0 = time.perf_counter()
            svc.indexes.publish_curated(CuratedEntry(id=f"bench-build-{i}", question=f"基准测试问题{i}：排污许可证延续要提前多久申请？",
                                         answer="应在有效期届满前申请延续。", citations=["排污许可管理条例#14"],
                                         category="排污许可", origin="bench"))
            times.append(time.perf_counter() - t0)
        out["publish_curated_s"] = {"median": round(sorted(times)[2], 3), "max": round(max(times), 3)}
        svc.engine.dispose()
        if args.cold:
            (tmp / "index").rename(tmp / "index-warm")
            cold_settings = settings.evolve(index_dir=tmp / "index-cold")
            cold = AssistantService(cold_settings)
            res = cold.build_indexes(progress=not args.json)
            out["cold_full_build_s"] = res["seconds"]
            cold.engine.dispose()
        out["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
    else:
        for k, v in out.items():
            print(f"{k}: {v}")


if __name__ == "__main__":
    main()
