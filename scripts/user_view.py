"""What a user sees, for short questions and for long letters separately: answered with a relevant citation,
answered wrong, routed to staff — with the shipped thresholds, before (score fusion) and after (learned ranker).

The answer is composed exactly as ``ask`` composes it (curated answer above its threshold, up to three cited
articles, or "routed to staff"), over the regulation corpus of the evaluation protocol plus the shipped curated
answers. "Relevant" = a shown citation (the curated answer's or an article card) is one of the question's relevant
articles, or the curated answer shown is the question's intended entry (held-out paraphrases). The ranker's memory of answered questions holds no test-split record and leaves the question's own group
(its mailbox record, its curated entry) out.

* short questions: the curated held-out paraphrases (relevant = their entry's citations);
* long letters: the ministry mailbox letters → the articles cited in the reply (``queries_mee_letter2article``);
* out of scope: petitions about schools, traffic … (should be routed to staff).

    .venv/bin/python scripts/user_view.py [--json] [--file FILE…]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from assistant.answer.compose import compose
from assistant.answer.decide import Decision, Thresholds, letter_for_staff
from assistant.config import Settings
from assistant.evaluation import EvalQuery, build_eval_index, eval_memory, load_queries, loaded_service
from assistant.search.corpus import curated_items, passage_items, regulation_items, wording_rows
from assistant.search.ranker import ranker_thresholds
from assistant.search.retriever import Retriever
from assistant.service import AssistantService

ROOT = Path(__file__).resolve().parents[1]

HELDOUT = ROOT / "tests" / "data" / "curated_heldout.jsonl"
LONG_GRID = [round(0.1 * i, 1) for i in range(1, 10)]


def outcome(svc: AssistantService, r: Retriever, q: EvalQuery, entries: dict[str, Any],
            long_caution: float | None = None, res: Any = None) -> str:
    """What the user sees for ``q``; ``long_caution``: try another long-letter threshold (``--sweep-long``)."""
    res = res if res is not None else r.search(q.query, exclude_group=q.group)
    t = ranker_thresholds(r.ranking) if r.ranker_active else None
    thresholds = Thresholds(t["answer"], t["caution"], t["curated"], t.get("answer_long"), t.get("caution_long"),
                            long_answers=svc.settings.answer.long_letter_answers) if t else svc.answerer.thresholds
    if long_caution is not None:
        thresholds = Thresholds(thresholds.answer, thresholds.caution, thresholds.curated,
                                round(min(1.0, max(long_caution + 0.1, thresholds.answer)), 2), long_caution,
                                long_answers=thresholds.long_answers)
    with svc.Session() as s:
        ans = compose(res, thresholds, "", session=s, curated_rows=entries, index=r.passages)
    shown = {i for c in ans.citations for i in c.ids}  # every passage of every card (one card per document)
    if ans.decision is Decision.ABSTAIN and not ans.curated:
        return "routed"
    # the intended curated entry shown counts as right even when its citations are not articles of the regulation
    # corpus (a catalogue row, a service entry with none): before 2026-12-04 those counted as wrong
    intended = bool(ans.curated) and q.group is not None and ans.curated["id"] == q.group
    seen = "relevant" if shown & set(q.relevant) or intended else "wrong"
    # as ``ask`` does: a long letter answered only for reference is also passed to staff (questions.py)
    if letter_for_staff(ans.decision, res.query.normalized):
        return seen + "+staff"
    return seen


def share(outs: list[str]) -> dict[str, float]:
    """Shares of relevant / wrong (whether or not also passed to staff) / routed, and of those also passed to staff."""
    n = len(outs) or 1
    base = [o.split("+")[0] for o in outs]
    return {"n": len(outs), **{k: round(base.count(k) / n, 3) for k in ("relevant", "wrong", "routed")},
            "also_to_staff": round(sum(o.endswith("+staff") for o in outs) / n, 3)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--sweep-long", action="store_true",
                    help="also print the long letters and out-of-scope outcomes at each long-letter threshold")
    ap.add_argument("--file", type=Path, nargs="*", default=[],
                    help="more labelled questions (JSONL: id, query, relevant, style short|letter), reported apart")
    args = ap.parse_args()
    s = Settings.from_env()
    svc = loaded_service(AssistantService(s))
    prod = svc.retriever
    enc = prod.encoder
    ev = s.corpus.shared_data.parent / "eval"
    with svc.Session() as sess:
        reg_items, cur_items = regulation_items(sess), curated_items(sess)
        replies = passage_items(sess, ["官方答复"])
        entries = svc.answerer.curated_entries(sess, prod.curated)
    reg = build_eval_index(reg_items, svc.indexes.encoders.encoder, svc.indexes.encoders.cache(), s.search.token_field, s.search.bm25_engine,
                           encoder2=svc.indexes.encoders.encoder2)
    cites = {it.target: [c for c in it.meta.get("citations") or [] if c in reg.pos] for it in wording_rows(cur_items)}
    rows = [json.loads(x) for x in HELDOUT.read_text("utf-8").splitlines() if x.strip()]
    sets: dict[str, list[EvalQuery]] = {
        "short (curated held-out)": [EvalQuery(f"h{i}", r["query"], cites.get(r["entry_id"], []), "test",
                                               r["entry_id"]) for i, r in enumerate(rows)],
    }
    for split in ("dev", "test"):
        sets[f"long letters ({split})"] = load_queries(ev / "queries_mee_letter2article.jsonl", split)
        sets[f"out of scope ({split})"] = load_queries(ev / "queries_out_of_scope.jsonl", split)
    for f in args.file:
        rows_f = [json.loads(x) for x in f.read_text("utf-8").splitlines() if x.strip()]
        for style in ("short", "letter"):
            qs = [EvalQuery(str(r["id"]), str(r["query"]), [str(x) for x in r["relevant"]], f.stem, str(r["id"]))
                  for r in rows_f if r.get("style", "short") == style]
            if qs:
                sets[f"{f.stem} ({style})"] = qs
    report: dict[str, Any] = {}
    for mode in ("fusion", "ranker"):
        ranking = prod.ranking if mode == "ranker" else None
        if mode == "ranker":
            if ranking is None:
                continue
            ranking.memory = eval_memory(reg, enc, svc.indexes.encoders.cache(), cur_items, replies, ev)  # type: ignore[arg-type]
        r = Retriever(reg, prod.curated, enc, s.search.token_field, svc.indexes.fusion, ranking=ranking)
        outs = {name: [outcome(svc, r, q, entries) for q in qs] for name, qs in sets.items()}
        report[mode] = {name: share(o) for name, o in outs.items()}
        for name, o in outs.items():  # answered letters not passed to staff, by outcome
            report[mode][name]["not_to_staff"] = {k: sum(1 for x in o if x == k) for k in ("relevant", "wrong")}
    if args.sweep_long and prod.ranking is not None:
        # the long-letter threshold on the real letters: dev chooses, test is only reported
        r = Retriever(reg, prod.curated, enc, s.search.token_field, svc.indexes.fusion, ranking=prod.ranking)
        for split in ("dev", "test"):
            letters = [(q, r.search(q.query, exclude_group=q.group)) for q in sets[f"long letters ({split})"]]
            oos = [(q, r.search(q.query, exclude_group=q.group)) for q in sets[f"out of scope ({split})"]]
            for low in LONG_GRID:
                lo = share([outcome(svc, r, q, entries, low, res) for q, res in letters])
                oo = share([outcome(svc, r, q, entries, low, res) for q, res in oos])  # wrong = answered
                answered = lo["relevant"] + lo["wrong"]
                print(f"sweep {split} caution_long={low:.2f} letters relevant={lo['relevant']:.3f} "
                      f"wrong={lo['wrong']:.3f} routed={lo['routed']:.3f} "
                      f"precision={(lo['relevant'] / answered if answered else 1.0):.3f} "
                      f"out_of_scope_answered={oo['relevant'] + oo['wrong']:.3f}")
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=1))
        return
    print("| questions | n | ranking | answered, relevant citation | answered, wrong | routed to staff "
          "| answered and also passed to staff |")
    print("|---|---|---|---|---|---|---|")
    for name in sets:
        for mode, res in report.items():
            x = res[name]
            print(f"| {name} | {x['n']} | {mode} | {x['relevant']:.3f} | {x['wrong']:.3f} | {x['routed']:.3f} "
                  f"| {x['also_to_staff']:.3f} |")


if __name__ == "__main__":
    main()
