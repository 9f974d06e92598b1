"""Put this machine's passage vectors in the deployment's database (table ``embeddings``), so a machine that joins
builds its vectors from there instead of encoding the corpus again (``ASSISTANT_SHARED_EMBEDDINGS``). Machines that
share already write every new passage vector there; this seeds the table from a cache file built before.

    DATABASE_URL=postgresql+psycopg://… .venv/bin/python scripts/share_embeddings.py [--cache index/embeddings.sqlite]
"""

from __future__ import annotations

import argparse
import sqlite3
import time
from pathlib import Path

from sqlalchemy import select

from assistant.config import Settings
from assistant.db.models import Embedding
from assistant.service import AssistantService


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache", type=Path, default=None, help="the cache file (default: the index folder's)")
    args = ap.parse_args()
    svc = AssistantService(Settings.from_env())
    svc.migrate()
    path = args.cache or svc.settings.search.index_dir / "embeddings.sqlite"
    t0 = time.perf_counter()
    added = 0
    with sqlite3.connect(str(path)) as conn:
        encoders = [e for (e,) in conn.execute("SELECT DISTINCT enc FROM emb") if not e.endswith(":query")]
        for enc in encoders:
            with svc.Session() as s:
                known = set(s.scalars(select(Embedding.key).where(Embedding.encoder == enc)))
            rows = [(h, v) for h, v in conn.execute("SELECT h, v FROM emb WHERE enc=?", (enc,)) if h not in known]
            for i in range(0, len(rows), 1000):
                with svc.Session() as s:
                    s.add_all(Embedding(encoder=enc, key=h, vector=bytes(v)) for h, v in rows[i:i + 1000])
                    s.commit()
            added += len(rows)
            print(f"{enc}: {len(rows)} added, {len(known)} already shared")
    print(f"{added} vectors in {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
