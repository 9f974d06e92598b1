"""Fit the confidence model and choose the decision thresholds on DEV data only; print the curve.

* passages: the mailbox records task (``queries_mee_title2record`` dev) + out-of-scope dev queries, over the
  records corpus — label 1 when the top result is relevant.
* curated: leave-one-out over the shipped curated paraphrases (each wording queried against the other wordings)
  + out-of-scope dev queries — label 1 when the top entry is the wording's own entry. The held-out paraphrase set in
  ``tests/data`` is never used here.

Writes ``assistant/answer/calibration.json`` and prints precision/coverage per threshold.
Usage: .venv/bin/python scripts/calibrate.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assistant.config import Settings  # noqa: E402
from assistant.evaluation import build_eval_index, corpus_items_from_jsonl, load_queries  # noqa: E402
from assistant.search.corpus import is_wording  # noqa: E402
from assistant.search.index import SearchIndex  # noqa: E402
from assistant.search.retriever import CALIBRATION_FILE, Retriever  # noqa: E402

FEATURES = {"hybrid": ["dense1", "coverage", "zgap"], "bm25": ["coverage", "zgap"],
            "ranker": ["score1", "margin", "gap10", "dense1", "coverage"]}
ENTRY_CAL_FEATURES = ["score1", "margin", "dense1"]


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


def ranker_section(svc: object, s: Settings, enc: object, cache: object, fusion: object, records: SearchIndex,
                   cidx: SearchIndex, oos: list[tuple[str, set[str]]], out: dict[str, object],
                   report: dict[str, object]) -> None:
    """The learned stage's confidence (when the model file fits the encoder):

    * passages — short questions: mailbox titles (dev) on the records corpus, label = the top result is relevant;
      long letters: the mailbox letters (dev) and the team's labelled letters on the regulation corpus, label = a
      relevant article among the three shown; out-of-scope petitions (dev) on both corpora, label 0;
    * curated — leave-one-out over the shipped wordings + out-of-scope (dev), label = the top entry is the wording's
      own entry.
    Coefficients are tied to the model file's digest (``"ranker"``)."""
    from assistant.evaluation import eval_memory
    from assistant.search.corpus import curated_items, passage_items, regulation_items
    from assistant.search.entries import passage_view
    from assistant.search.memory import AnswerMemory, letter_sources
    from assistant.search.query import prepare
    from assistant.search.ranker import RankerUnavailable, load_ranking

    try:
        ranking = load_ranking(enc, fusion, s.ranker_file)  # type: ignore[arg-type]
    except RankerUnavailable as exc:
        print(f"ranker not calibrated: {exc}")
        return
    out["ranker"] = ranking.digest
    ev = s.shared_data.parent / "eval"
    with svc.Session() as sess:  # type: ignore[attr-defined]
        reg_items = regulation_items(sess)
        cur_items = curated_items(sess)
        replies = passage_items(sess, ["官方答复"])
    reg = build_eval_index(reg_items, enc, cache, s.token_field, s.bm25_engine)  # type: ignore[arg-type]
    rows: list[tuple[list[float], float, bool]] = []
    # short: titles → records (empty memory: no articles in that corpus)
    ranking.memory = AnswerMemory.build([], records, enc, cache)  # type: ignore[arg-type]
    rr = Retriever(records, None, enc, s.token_field, fusion, calibration={}, ranking=ranking)  # type: ignore[arg-type]
    for q in load_queries(ev / "queries_mee_title2record.jsonl", "dev"):
        res = rr.search(q.query).passages
        top = res.hits[0].item.target if res.hits else ""
        rows.append(([res.features.get(f, 0.0) for f in FEATURES["ranker"]], float(top in q.relevant), True))
    for text, _ in oos:
        res = rr.search(text).passages
        rows.append(([res.features.get(f, 0.0) for f in FEATURES["ranker"]], 0.0, False))
    # long: letters on the regulation corpus, memory without the letter's own group
    ranking.memory = eval_memory(reg, enc, cache, cur_items, replies, ev)  # type: ignore[arg-type]
    rg = Retriever(reg, None, enc, s.token_field, fusion, calibration={}, ranking=ranking)  # type: ignore[arg-type]
    letters = [(q.query, set(q.relevant), q.group) for q in load_queries(ev / "queries_mee_letter2article.jsonl", "dev")]
    letters += [(a.text, set(a.cites), a.group) for a in letter_sources() if len(a.text) > 80]
    for text, rel, group in letters:
        res = rg.search(text, exclude_group=group).passages
        shown = {h.item.id for h in res.hits[:3]}
        rows.append(([res.features.get(f, 0.0) for f in FEATURES["ranker"]], float(bool(shown & rel)), True))
    for text, _ in oos:
        res = rg.search(text).passages
        rows.append(([res.features.get(f, 0.0) for f in FEATURES["ranker"]], 0.0, False))
    x = np.array([r[0] for r in rows])
    y = np.array([r[1] for r in rows])
    ans = np.array([r[2] for r in rows])
    w = fit_logistic(x, y)
    coef = {f: float(v) for f, v in zip(FEATURES["ranker"], w[:-1])} | {"bias": float(w[-1])}
    out["passages:ranker"] = coef
    conf = 1 / (1 + np.exp(-(x @ w[:-1] + w[-1])))
    crv = curve(conf, y, ans)
    report["passages:ranker"] = {"coef": coef, "curve": crv, "chosen": choose(crv)}
    # curated entries, leave-one-out
    if ranking.entries is None:
        return
    pas = svc.retriever.passages  # type: ignore[attr-defined]
    rc = Retriever(pas, cidx, enc, s.token_field, fusion, calibration={}, ranking=ranking)  # type: ignore[arg-type]
    ranking.memory = None
    stage = ranking.stage
    from assistant.search.letter import analyse
    from assistant.search.retriever import REPEAL_WORDS, default_mask

    erows: list[tuple[list[float], float, bool]] = []
    qs = [(j, it.text, it.target) for j, it in enumerate(cidx.items) if is_wording(it)] + \
        [(None, t, "") for t, _ in oos]
    for j, text, target in qs:
        pq = prepare(text, s.token_field, enc)  # type: ignore[arg-type]
        allow = default_mask(pas, pq.normalized, any(w_ in pq.normalized for w_ in REPEAL_WORDS))
        sig = stage.signals(pas, pq, analyse(pq.raw, pq.normalized), enc, allow)  # type: ignore[arg-type]
        view = passage_view(pas, sig.fused_ref, sig.dense, sig.bm25_words + sig.bm25_bigrams)
        rl = rc._rank_entries(ranking.entries, cidx, pq, 10, view, exclude_row=j)
        top = rl.hits[0].item.target if rl.hits else ""
        erows.append(([rl.features.get(f, 0.0) for f in ENTRY_CAL_FEATURES], float(bool(target) and top == target),
                      bool(target)))
    x = np.array([r[0] for r in erows])
    y = np.array([r[1] for r in erows])
    ans = np.array([r[2] for r in erows])
    w = fit_logistic(x, y)
    coef = {f: float(v) for f, v in zip(ENTRY_CAL_FEATURES, w[:-1])} | {"bias": float(w[-1])}
    out["curated:ranker"] = coef
    conf = 1 / (1 + np.exp(-(x @ w[:-1] + w[-1])))
    crv = curve(conf, y, ans)
    report["curated:ranker"] = {"coef": coef, "curve": crv, "chosen": choose(crv, 0.9, 0.1)}


def main() -> None:
    from assistant.service import AssistantService

    s = Settings.from_env()
    svc = AssistantService(s)
    svc.migrate()
    enc = svc.encoder
    cache = svc.cache()
    ev = s.shared_data.parent / "eval"
    from assistant.service import fusion_params

    fusion = fusion_params(s)
    oos = [(q.query, set()) for q in load_queries(ev / "queries_out_of_scope.jsonl", "dev")]
    out: dict[str, object] = {"encoder": enc.id if enc else None}
    report: dict[str, object] = {}
    # passages ----------------------------------------------------------------------------------------------------
    items = corpus_items_from_jsonl(ev / "corpus_mee_records.jsonl")
    idx = build_eval_index(items, enc, cache, s.token_field, s.bm25_engine)
    r = Retriever(idx, None, enc, s.token_field, fusion, calibration={})
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
    cidx = SearchIndex.build(c_items, s.token_field, s.bm25_engine, enc, cache)
    rc = Retriever(idx, cidx, enc, s.token_field, fusion, calibration={})
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
    ranker_section(svc, s, enc, cache, fusion, idx, cidx, oos, out, report)
    CALIBRATION_FILE.write_text(json.dumps(out, ensure_ascii=False, indent=1), "utf-8")
    (ROOT / "index" / "calibration_report.json").write_text(json.dumps(report, ensure_ascii=False, indent=1), "utf-8")
    for k, v in report.items():
        assert isinstance(v, dict)
        print(f"== {k}: chosen threshold {v['chosen']}  coef {json.dumps(v['coef'])}")
        for row in v["curve"]:
            print("   ", json.dumps(row))


if __name__ == "__main__":
    main()
