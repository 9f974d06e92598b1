"""Every task of ../shared/eval with the shipped settings: BM25 / vectors / fused on dev and test, and the
abstention figures at the shipped threshold. Prints Markdown (for the README) and writes index/eval_report.json.

    .venv/bin/python scripts/eval_report.py

Settings are never chosen here: this only reports (tuning is scripts/tune.py and scripts/calibrate.py, dev only).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from assistant.answer.decide import Decision, Thresholds
from assistant.config import Settings
from assistant.evaluation import build_eval_index, eval_memory, eval_setup, load_queries, run_eval, task_items
from assistant.search.corpus import curated_items, passage_items
from assistant.search.letter import is_long
from assistant.search.memory import AnswerMemory
from assistant.search.ranker import RankerUnavailable, load_ranking, ranker_thresholds
from assistant.search.retriever import Retriever, SearchResult
from assistant.service import AssistantService

ROOT = Path(__file__).resolve().parents[1]

TASKS = [
    ("mee title → record", "corpus_mee_records.jsonl", "queries_mee_title2record.jsonl", "mrr@10"),
    ("mee letter → reply", "corpus_mee_replies.jsonl", "queries_mee_letter2reply.jsonl", "mrr@10"),
    ("mee letter → article (regulations)", "regulations", "queries_mee_letter2article.jsonl", "recall@10"),
    ("taidi title → reply", "corpus_taidi_replies.jsonl", "queries_taidi_title2reply.jsonl", "mrr@10"),
]


def main() -> None:
    svc, enc, cache, ev, params = eval_setup(AssistantService(Settings.from_env()))
    s = svc.settings
    report: dict[str, object] = {"settings": {"token_field": s.search.token_field, "fusion": s.search.fusion,
                                              "bm25_weight": s.search.bm25_weight, "reference_weight": s.search.reference_weight,
                                              "encoder": enc.id if enc else None, "bm25_engine": s.search.bm25_engine}}
    try:
        ranking = load_ranking(enc, params, s.search.ranker_file, svc.indexes.encoders.encoder2) if enc is not None else None
    except RankerUnavailable as exc:
        print(f"排序模型不可用：{exc}", file=sys.stderr)
        ranking = None
    svc.ensure_corpus()
    with svc.Session() as sess:
        cur_items, replies = curated_items(sess), passage_items(sess, ["官方答复"])
    lines = ["| task | split | n | BM25 | vectors | fused | **ranker** | ranker R@1 | ranker R@5 | ranker R@10 | "
             "ranker nDCG@10 |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    records_index = None
    for name, corpus, qfile, metric in TASKS:
        items = task_items(svc, ev, corpus)
        idx = build_eval_index(items, enc, cache, s.search.token_field, s.search.bm25_engine, encoder2=svc.indexes.encoders.encoder2)
        if corpus == "corpus_mee_records.jsonl":
            records_index = idx
        memory = eval_memory(idx, enc, cache, cur_items, replies, ev) if (ranking and enc) else None
        res = run_eval(idx, load_queries(ev / qfile), enc, s.search.token_field, params, ranking, memory)
        report[name] = res
        for split in ("dev", "test", "all"):
            if split not in res:
                continue
            r = res[split]
            f = r.get("ranker", r["fused"])
            lines.append(f"| {name} ({metric}) | {split} | {f['n']} | {r['bm25'][metric]:.3f} | "
                         f"{r['dense'][metric]:.3f} | {r['fused'][metric]:.3f} | **{f[metric]:.3f}** | "
                         f"{f['recall@1']:.3f} | {f['recall@5']:.3f} | {f['recall@10']:.3f} | {f['ndcg@10']:.3f} |")
    print("\n".join(lines))
    # abstention at the shipped thresholds (records corpus, like the calibration) ------------------------------
    assert records_index is not None
    if ranking is not None and enc is not None:
        ranking.memory = AnswerMemory.build([], records_index, enc, cache)  # no articles in this corpus
    r = Retriever(records_index, None, enc, s.search.token_field, params, ranking=ranking)
    thr = Thresholds(s.answer.answer_threshold, s.answer.caution_threshold, s.answer.curated_threshold)
    t = ranker_thresholds(ranking) if r.ranker_active else None
    if t is not None:  # the thresholds chosen with the learned stage (what ask uses with it)
        thr = Thresholds(t["answer"], t["caution"], t["curated"], t.get("answer_long"), t.get("caution_long"))
    thr_ans, thr_cau = thr.answer, thr.caution

    def answered(res: SearchResult) -> bool:
        """As ``ask`` decides (a long petition is held to the long-letter threshold, when there is one)."""
        return thr.decide(res.passages.confidence, long=is_long(res.query.normalized)) is not Decision.ABSTAIN

    print("\n| split | answerable n | answered, relevant top | answered, wrong top | routed to staff | "
          "precision of answered | out-of-scope n | out-of-scope answered |")
    print("|---|---|---|---|---|---|---|---|")
    abst: dict[str, object] = {}
    for split in ("dev", "test"):
        qs = load_queries(ev / "queries_mee_title2record.jsonl", split)
        oos = load_queries(ev / "queries_out_of_scope.jsonl", split)
        rel = wrong = 0
        confs = []
        for q in qs:
            res = r.search(q.query)
            confs.append(res.passages.confidence)
            if answered(res):
                top = res.passages.hits[0].item.target if res.passages.hits else ""
                if top in q.relevant:
                    rel += 1
                else:
                    wrong += 1
        oos_res = [r.search(q.query) for q in oos]
        oos_conf = [x.passages.confidence for x in oos_res]
        oos_ans = sum(answered(x) for x in oos_res)
        n = len(qs)
        row = {"n": n, "answered_relevant": rel / n, "answered_wrong": wrong / n, "routed": 1 - (rel + wrong) / n,
               "precision": rel / max(1, rel + wrong), "oos_n": len(oos), "oos_answered": oos_ans / len(oos),
               "curve": [{"threshold": float(t), "coverage": float(np.mean(np.array(confs) >= t)),
                          "oos_answered": float(np.mean(np.array(oos_conf) >= t))}
                         for t in np.round(np.arange(0.1, 1.0, 0.1), 1)]}
        abst[split] = row
        print(f"| {split} | {n} | {rel / n:.3f} | {wrong / n:.3f} | {row['routed']:.3f} | {row['precision']:.3f} | "
              f"{len(oos)} | {oos_ans / len(oos):.3f} |")
    report["abstention"] = {"answer_threshold": thr_ans, "caution_threshold": thr_cau,
                            "answer_long_threshold": thr.answer_long, "caution_long_threshold": thr.caution_long,
                            **abst}
    (ROOT / "index" / "eval_report.json").write_text(json.dumps(report, ensure_ascii=False, indent=1), "utf-8")


if __name__ == "__main__":
    main()
