"""Synthetic corpora of N passages (e.g. 30 000, 100 000) generated from the real articles, for the scale benchmarks
of ``scripts/bench_api.py --corpus synthetic:N``. Deterministic (``--seed``). Needs the real full-corpus index
(``assistant index build``) and writes ``build/synth-N/``: a copy of ``instance/assistant.db`` with the synthetic
documents added, and ``index/`` built from it by the service's own ``build_indexes``.

    .venv/bin/python scripts/synth_corpus.py --passages 30000
    .venv/bin/python scripts/synth_corpus.py --passages 100000

Documents: every real document yields variants titled ``<real title>（合成N）`` (same kind, status and region as
the original, so filters behave alike) whose passages recombine real sentences: each synthetic article takes the
sentences of one real article of the source document and mixes in 1–2 sentences of a random other article of the
corpus, in a shuffled order. The BM25 side is therefore real Chinese legal text with a realistic vocabulary and
length distribution (a few percent longer than the originals).

Vectors: encoding 90 000 new passages with the real e5 model would take ~80 min at 0.054 s/passage on two cores,
so synthetic passages get no e5 encoding of their own. Each one's vector is the normalised, sentence-count-weighted
mean of the real e5 vectors of the articles its sentences came from, plus a little Gaussian noise (σ 0.02 per
dimension before normalising), written to the embedding cache under the real encoder's id; the real passages keep
their real vectors. The dense search cost does not depend on the values (exact inner product over all rows), and
the vectors lie where real ones do, so the fused scores and confidence behave plausibly — but rankings on the
synthetic part are not a quality measurement. Query vectors are always computed by the real encoder.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import time
from pathlib import Path

import numpy as np
from sqlalchemy import insert, select

from assistant.config import Settings
from assistant.db.models import Document, Passage
from assistant.evaluation import sqlite_snapshot
from assistant.search.encoders import EmbeddingCache
from assistant.search.index import SearchIndex
from assistant.service import AssistantService

ROOT = Path(__file__).resolve().parents[1]

SENT = re.compile(r"[^。；！？]+[。；！？]?")


def sentences(text: str) -> list[str]:
    return [s for s in (m.group(0).strip() for m in SENT.finditer(text)) if s]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--passages", type=int, required=True, help="total passages of the corpus (real + synthetic)")
    ap.add_argument("--seed", type=int, default=8)
    ap.add_argument("--out", type=Path, default=None, help="default build/synth-N")
    ap.add_argument("--no-build", action="store_true", help="write the database and cache, do not build the index")
    args = ap.parse_args()
    base = Settings.from_env()
    out: Path = args.out or ROOT / "build" / f"synth-{args.passages}"
    if out.exists():
        shutil.rmtree(out)
    (out / "index").mkdir(parents=True)
    t0 = time.perf_counter()

    real = SearchIndex.load(base.search.index_dir / "passages")
    if not real.has_vectors:
        raise SystemExit("the real passage index has no vectors: run `assistant index build` first")
    assert real.vectors is not None
    enc_id = str(real.manifest["encoder"])
    real_vecs = real.vectors._matrix
    sqlite_snapshot(base.db.url, out / "assistant.db")
    sqlite_snapshot(f"sqlite:///{base.search.index_dir / 'embeddings.sqlite'}", out / "index" / "embeddings.sqlite")
    s = base.evolve(database_url=f"sqlite:///{out / 'assistant.db'}", index_dir=out / "index",
                background_vectors=False)
    svc = AssistantService(s)
    svc.migrate()

    rng = random.Random(args.seed)
    nrng = np.random.default_rng(args.seed)
    pos = real.pos
    sent_of = [sentences(it.text) or [it.text] for it in real.items]
    with svc.Session() as ses:
        docs = list(ses.scalars(select(Document).order_by(Document.id)))
        doc_passages = {d.id: [p for p in d.passages if p.id in pos] for d in docs}
        docs = [d for d in docs if doc_passages[d.id]]
        need = args.passages - len(real.items)
        if need <= 0:
            raise SystemExit(f"the real corpus already has {len(real.items)} passages")
        texts: list[str] = []
        vecs: list[np.ndarray] = []
        variant = 0
        made = 0
        while made < need:
            variant += 1
            for d in docs:
                if made >= need:
                    break
                title = f"{d.title}（合成{variant}）"
                nd = Document(title=title, kind=d.kind, issuer=d.issuer, doc_number=d.doc_number,
                              promulgated=d.promulgated, effective=d.effective, status=d.status,
                              revision_note="", source_path=f"synthetic:{args.seed}:{variant}",
                              fingerprint="", extra={"synthetic": True, "source": d.title})
                ses.add(nd)
                ses.flush()
                rows = []
                for p in doc_passages[d.id][: need - made]:
                    i = pos[p.id]
                    j = rng.randrange(len(real.items))
                    own, other = sent_of[i], sent_of[j]
                    mixed = own + rng.sample(other, min(len(other), rng.choice((1, 2))))
                    rng.shuffle(mixed)
                    text = "".join(mixed)
                    w = np.array([len(own), len(mixed) - len(own)], dtype=np.float32)
                    v = w[0] * real_vecs[i] + w[1] * real_vecs[j] + nrng.normal(0, 0.02, real_vecs.shape[1])
                    vecs.append((v / np.linalg.norm(v)).astype(np.float32))
                    texts.append(text)
                    rows.append({"id": f"{title}#{p.id.split('#', 1)[-1]}", "document_id": nd.id, "key": p.key, "ordinal": p.ordinal,
                                 "article": p.article, "heading": p.heading, "text": text, "line": None})
                ses.execute(insert(Passage), rows)
                made += len(rows)
        ses.commit()
    cache = EmbeddingCache(out / "index" / "embeddings.sqlite")
    for k in range(0, len(texts), 5000):
        cache.put_many(enc_id, texts[k : k + 5000], np.stack(vecs[k : k + 5000]))
    cache.close()
    gen_s = time.perf_counter() - t0
    info: dict[str, object] = {"out": str(out.relative_to(ROOT)), "real_passages": len(real.items),
                               "synthetic_passages": made, "variants": variant, "generate_seconds": round(gen_s, 1)}
    if not args.no_build:
        info["build"] = svc.build_indexes(with_vectors=True)
    svc.engine.dispose()
    print(json.dumps(info, ensure_ascii=False))


if __name__ == "__main__":
    main()
