"""Effect of the domain dictionary (jieba user words + stopwords + synonym expansion) on the DEV split.

Runs every task with the shipped settings twice — with an empty dictionary and with ``corpus/dictionary`` — and
the curated leave-one-out paraphrase task (each wording of a curated entry queried against the other wordings).

    .venv/bin/python scripts/dictionary_effect.py
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np

from assistant.config import Settings
from assistant.evaluation import (
    EvalSetup,
    build_eval_index,
    compute_signals,
    eval_setup,
    evaluate_signals,
    load_queries,
    task_items,
)
from assistant.search.index import SearchIndex
from assistant.service import AssistantService
from assistant.text import synonyms as syn_mod
from assistant.text import tokenize as tok_mod

ROOT = Path(__file__).resolve().parents[1]

TASKS = [("title2record", "corpus_mee_records.jsonl", "queries_mee_title2record.jsonl", "mrr@10"),
         ("letter2reply", "corpus_mee_replies.jsonl", "queries_mee_letter2reply.jsonl", "mrr@10"),
         ("letter2article", "regulations", "queries_mee_letter2article.jsonl", "recall@10"),
         ("taidi", "corpus_taidi_replies.jsonl", "queries_taidi_title2reply.jsonl", "mrr@10")]


def use_dictionary(folder: Path) -> None:
    tok_mod.Tokenizer._instance = tok_mod.Tokenizer(folder)
    if hasattr(syn_mod.default_synonyms, "cache_clear"):
        syn_mod.default_synonyms.cache_clear()
    table = syn_mod.SynonymTable.load(folder / "synonyms.tsv")
    syn_mod.default_synonyms = lambda: table  # type: ignore[assignment]
    import assistant.search.index as idx_mod
    import assistant.search.query as q_mod
    import assistant.search.retriever as r_mod

    for m in (idx_mod, q_mod, r_mod):
        if hasattr(m, "default_synonyms"):
            m.default_synonyms = lambda: table  # type: ignore[attr-defined]


def run(setup: EvalSetup) -> dict[str, object]:
    svc, enc, cache, ev, params = setup
    s = svc.settings
    out: dict[str, object] = {}
    for name, corpus, qfile, metric in TASKS:
        items = task_items(svc, ev, corpus)
        idx = build_eval_index(items, enc, cache, s.search.token_field, s.search.bm25_engine)
        qs = load_queries(ev / qfile, "dev")
        res = evaluate_signals(idx, compute_signals(idx, qs, enc, s.search.token_field, params.doc_prior), params)
        out[name] = {"bm25": res["bm25"][metric], "fused": res["fused"][metric]}
    # curated leave-one-out
    from assistant.search.corpus import curated_items
    from assistant.search.retriever import Retriever

    with svc.Session() as sess:
        c_items = curated_items(sess)
    cidx = SearchIndex.build(c_items, s.search.token_field, s.search.bm25_engine, enc, cache)
    r = Retriever(cidx, cidx, enc, s.search.token_field, params)
    hits1 = hits3 = 0
    from assistant.search.query import prepare

    for it in c_items:
        pq = prepare(it.text, r.token_field, enc)
        allow = np.array([x.id != it.id for x in cidx.items])
        rl = r._rank(cidx, pq, 30, "curated", allow)
        tops: list[str] = []
        for h in rl.hits:
            if h.item.target not in tops:
                tops.append(h.item.target)
        hits1 += tops[:1] == [it.target]
        hits3 += it.target in tops[:3]
    out["curated_loo"] = {"recall@1": round(hits1 / len(c_items), 4), "recall@3": round(hits3 / len(c_items), 4),
                          "n": len(c_items)}
    return out


def main() -> None:
    setup = eval_setup(AssistantService(Settings.from_env()))
    setup.svc.ensure_corpus()
    with tempfile.TemporaryDirectory() as empty:
        use_dictionary(Path(empty))
        before = run(setup)
    use_dictionary(ROOT / "corpus" / "dictionary")
    after = run(setup)
    print(json.dumps({"without_dictionary": before, "with_dictionary": after}, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
