"""Write (or check) the vectors shipped for the bundled corpus: ``corpus/embeddings/<encoder>.npz``.

After ``assistant index build`` has encoded the bundled corpus, this takes the vectors of every text the service
encodes (the passages and the curated rows of the current database, and the questions of its memory of answered
questions — the team's letters, the mailbox letters — which a first start otherwise encodes in every worker before
it serves) from the embedding cache and writes them, float16, keyed by the sha256 of the text. A fresh installation then reads them instead of encoding for 25 minutes;
any text not in the file (changed since) is encoded as before.

    .venv/bin/python scripts/bundle_embeddings.py            # write; fails if a text has no cached vector
    .venv/bin/python scripts/bundle_embeddings.py --add NAME # only the texts the shipped files lack: <encoder>.NAME.npz
    .venv/bin/python scripts/bundle_embeddings.py --check    # how much of the current corpus the shipped files cover
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

from assistant.config import Settings
from assistant.search.bundled import BundledVectors, bundle_path, bundled_for, write_bundle
from assistant.search.encoders import EmbeddingCache
from assistant.search.memory import service_rows
from assistant.service import AssistantService


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="report the shipped files' coverage of the current corpus")
    ap.add_argument("--add", metavar="NAME", help="write a supplement with only the texts the shipped files lack "
                                                  "(a small file in git instead of a rewritten bundle)")
    args = ap.parse_args()
    settings = Settings.from_env()
    svc = AssistantService(settings)
    svc.migrate()
    enc = svc.indexes.encoders.encoder
    if enc is None:
        sys.exit("no encoder (ASSISTANT_ENCODER): nothing to bundle")
    svc.load_indexes(background=False, build_vectors=False)
    current = svc.indexes.current
    if current is None:
        sys.exit("no index: run `assistant index build` first")
    p_items, c_items = svc.indexes.items()
    memory = [r.text for r in service_rows(current.passages, current.curated)]
    texts = list(dict.fromkeys([*(it.embed_text() for it in [*p_items, *c_items]), *memory]))
    keys = [EmbeddingCache.key(t) for t in texts]
    path = bundle_path(settings.corpus.corpus_dir / "embeddings", enc.id)
    shipped = bundled_for(path.parent, enc.id)
    if args.check:
        held = len(shipped.get_many(keys)) if shipped is not None else 0
        print(json.dumps({"file": str(path), "encoder": enc.id, "texts": len(texts), "covered": held,
                          "coverage": round(held / max(len(texts), 1), 4)}, ensure_ascii=False))
        return
    t0 = time.perf_counter()
    local = EmbeddingCache(settings.search.index_dir / "embeddings.sqlite")  # the file only, not the old bundle
    found = local.get_many(enc.id, texts)
    missing = [t for t, k in zip(texts, keys) if k not in found]
    if missing:
        sys.exit(f"{len(missing)} of {len(texts)} texts have no cached vector: run `assistant index build` first")
    if args.add:
        have = shipped.get_many(keys) if shipped is not None else {}
        keys = [k for k in keys if k not in have]
        if not keys:
            sys.exit("the shipped files already hold every text: no supplement written")
        path = path.with_name(f"{path.stem}.{args.add}.npz")
    n = write_bundle(path, enc.id, {k: found[k] for k in keys})
    back = BundledVectors.read(path).get_many(keys)
    err = max(float(np.abs(back[k] - found[k]).max()) for k in keys)
    print(json.dumps({"file": str(path), "encoder": enc.id, "vectors": n, "bytes": path.stat().st_size,
                      "max_abs_error": round(err, 6), "seconds": round(time.perf_counter() - t0, 1)},
                     ensure_ascii=False))


if __name__ == "__main__":
    main()
