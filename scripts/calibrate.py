"""Fit the confidence model and choose the decision thresholds on DEV data only; print the curve.

* passages: the mailbox records task (``queries_mee_title2record`` dev) + out-of-scope dev queries, over the
  records corpus — label 1 when the top result is relevant.
* curated: leave-one-out over the shipped curated paraphrases (each wording queried against the other wordings)
  + out-of-scope dev queries — label 1 when the top entry is the wording's own entry. The held-out paraphrase set in
  ``tests/data`` is never used here.

Writes ``assistant/answer/calibration.json`` and prints precision/coverage per threshold. These are the decisions
of score fusion (BM25 mode, and hybrid mode without the learned stage); the learned stage's decision is fitted by
``scripts/train_ranker.py`` on out-of-fold scores and stored in the model file.
Usage: .venv/bin/python scripts/calibrate.py
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from assistant.config import Settings
from assistant.evaluation import build_eval_index, corpus_items_from_jsonl, eval_setup, load_queries
from assistant.search.corpus import is_wording
from assistant.search.index import SearchIndex
from assistant.search.retriever import CALIBRATION_FILE, Retriever

ROOT = Path(__file__).resolve().parents[1]

FEATURES = {"hybrid": ["dense1", "coverage", "zgap"], "bm25": ["coverage", "zgap"]}


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1e-2, steps: int = 4000, lr: float = 0.5) -> np.ndarray:
    """Plain gradient-descent logistic regression on standardised features; returns raw-space weights+bias."""
    mu, sd = x.mean(0), x.std(0) + 1e-9
    z = (x - mu) / sd
    w = np.zeros(z.shape[1] + 1)
    zb = np.hstack([z, np.ones((len(z), 1))])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-zb @ w))
        g = zb.T @ (p - y) / len(y) + l2 * np.r_[w[:-1], 0]
        w -= lr * g
    coef = w[:-1] / sd
    bias = w[-1] - float((w[:-1] * mu / sd).sum())
    return np.r_[coef, bias]


def collect(r: Retriever, name: str, queries: list[tuple[str, set[str]]], mode: str,
            exclude: list[set[str]] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    feats, labels, answerable = [], [], []
    idx = r.curated if name == "curated" else r.passages
    assert idx is not None
    for i, (q, rel) in enumerate(queries):
        from assistant.search.query import prepare

        pq = prepare(q, r.token_field, r.encoder if mode == "hybrid" else None)
        allow = None
        if exclude is not None and exclude[i]:
            allow = np.array([it.id not in exclude[i] for it in idx.items])
        rl = r._rank(idx, pq, 10, name, allow)
        top = rl.hits[0].item.target if rl.hits else ""
        feats.append([rl.features.get(f, 0.0) for f in FEATURES[mode]])
        labels.append(1.0 if top in rel else 0.0)
        answerable.append(bool(rel))
    return np.array(feats), np.array(labels), np.array(answerable)


def curve(conf: np.ndarray, y: np.ndarray, ans: np.ndarray) -> list[dict[str, float]]:
    rows = []
    for t in np.round(np.arange(0.05, 1.0, 0.05), 2):
        a = conf >= t
        n_ans = int((a & ans).sum())
        rows.append({"threshold": float(t),
                     "answered_share": round(n_ans / max(1, ans.sum()), 3),
                     "precision": round(float(y[a & ans].mean()) if n_ans else 1.0, 3),
                     "answered_relevant_share": round(float((a & ans & (y == 1)).sum() / max(1, ans.sum())), 3),
                     "answered_wrong_share": round(float((a & ans & (y == 0)).sum() / max(1, ans.sum())), 3),
                     "oos_answered": round(float(a[~ans].mean()) if (~ans).any() else 0.0, 3)})
    return rows


def choose(rows: list[dict[str, float]], min_precision: float = 0.9, max_oos: float = 0.1) -> float:
    ok = [r for r in rows if r["precision"] >= min_precision and r["oos_answered"] <= max_oos]
    return min(r["threshold"] for r in ok) if ok else 0.9


def main() -> None:
    from assistant.service import AssistantService

    svc, enc, cache, ev, fusion = eval_setup(AssistantService(Settings.from_env()))
    s = svc.settings
    oos = [(q.query, set()) for q in load_queries(ev / "queries_out_of_scope.jsonl", "dev")]
    out: dict[str, object] = {"encoder": enc.id if enc else None}
    report: dict[str, object] = {}
    # passages ----------------------------------------------------------------------------------------------------
    items = corpus_items_from_jsonl(ev / "corpus_mee_records.jsonl")
    idx = build_eval_index(items, enc, cache, s.search.token_field, s.search.bm25_engine)
    r = Retriever(idx, None, enc, s.search.token_field, fusion, calibration={})
    qs = [(q.query, set(q.relevant)) for q in load_queries(ev / "queries_mee_title2record.jsonl", "dev")] + oos
    for mode in ("hybrid", "bm25"):
        x, y, ans = collect(r, "passages", qs, mode)
        w = fit_logistic(x, y)
        coef = {f: float(v) for f, v in zip(FEATURES[mode], w[:-1])} | {"bias": float(w[-1])}
        out[f"passages:{mode}"] = coef
        conf = 1 / (1 + np.exp(-(x @ w[:-1] + w[-1])))
        rows = curve(conf, y, ans)
        report[f"passages:{mode}"] = {"coef": coef, "curve": rows, "chosen": choose(rows)}
    # curated -----------------------------------------------------------------------------------------------------
    svc.ensure_corpus()
    with svc.Session() as sess:
        from assistant.search.corpus import curated_items

        c_items = curated_items(sess)
    cidx = SearchIndex.build(c_items, s.search.token_field, s.search.bm25_engine, enc, cache)
    rc = Retriever(idx, cidx, enc, s.search.token_field, fusion, calibration={})
    words = [it for it in c_items if is_wording(it)]
    cq = [(it.text, {it.target}) for it in words] + oos
    excl = [{it.id} | {x.id for x in c_items if not is_wording(x)} for it in words] + \
        [{x.id for x in c_items if not is_wording(x)} for _ in oos]
    for mode in ("hybrid", "bm25"):
        x, y, ans = collect(rc, "curated", cq, mode, excl)
        w = fit_logistic(x, y)
        coef = {f: float(v) for f, v in zip(FEATURES[mode], w[:-1])} | {"bias": float(w[-1])}
        out[f"curated:{mode}"] = coef
        conf = 1 / (1 + np.exp(-(x @ w[:-1] + w[-1])))
        rows = curve(conf, y, ans)
        report[f"curated:{mode}"] = {"coef": coef, "curve": rows, "chosen": choose(rows, 0.9, 0.1)}
    CALIBRATION_FILE.write_text(json.dumps(out, ensure_ascii=False, indent=1), "utf-8")
    (ROOT / "index" / "calibration_report.json").write_text(json.dumps(report, ensure_ascii=False, indent=1), "utf-8")
    for k, v in report.items():
        assert isinstance(v, dict)
        print(f"== {k}: chosen threshold {v['chosen']}  coef {json.dumps(v['coef'])}")
        for row in v["curve"]:
            print("   ", json.dumps(row))


if __name__ == "__main__":
    main()
