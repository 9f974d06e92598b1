"""How often the sentence shown first (``assistant.answer.sentences``) is the key sentence of the cited article.

Material of our own: every curated entry with citations. The key sentence of a cited article is the sentence the
entry's staff-written answer restates (the most character bigrams in common with the answer, kept when it shares
at least a third of its bigrams). Questions: the entry's question and paraphrases (dev, what the rule was designed
on), and the held-out paraphrases of ``tests/data/curated_heldout.jsonl`` (report). Compared with the first sentence
of the article, with the sentence holding the first matched query term (what the snippet window showed before) and
with the most query terms (the rule without vectors).

    .venv/bin/python scripts/key_sentence.py [--json]
"""

from __future__ import annotations

import argparse
import json

from assistant.answer.sentences import answering_sentence, split_sentences
from assistant.config import ROOT, Settings
from assistant.db.models import CuratedAnswer, Passage
from assistant.search.encoders import embed_passages
from assistant.search.query import prepare
from assistant.service import AssistantService
from assistant.text.markup import to_text
from assistant.text.normalize import normalize

MIN_SHARE = 1 / 3


def bigrams(text: str) -> set[str]:
    t = normalize(text)
    return {t[i:i + 2] for i in range(len(t) - 1)}


def key_sentence(article: str, answer: str) -> str:
    ans = bigrams(answer)
    best, share = "", 0.0
    for s in split_sentences(article):
        b = bigrams(s)
        if len(b) >= 6:
            sh = len(b & ans) / len(b)
            if sh > share:
                best, share = s, sh
    return best if share >= MIN_SHARE else ""


def first_term_sentence(article: str, terms: list[str]) -> str:
    sents = split_sentences(article)
    for s in sents:
        low = normalize(s)
        if any(len(t) >= 2 and t in low for t in terms):
            return s
    return sents[0] if sents else ""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    svc = AssistantService(Settings.from_env())
    svc.migrate()
    tf = svc.settings.search.token_field
    enc, cache = svc.indexes.encoders.encoder, svc.indexes.encoders.cache()
    assert enc is not None, "measures the e5 rule: needs the encoder"

    def embed(texts: list[str]) -> object:
        return embed_passages(enc, texts, cache)
    heldout: dict[str, list[str]] = {}
    for line in (ROOT / "tests" / "data" / "curated_heldout.jsonl").read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        heldout.setdefault(r["entry_id"], []).append(r["query"])
    counts = {s: {"n": 0, "rule": 0, "terms": 0, "first": 0, "first_term": 0} for s in ("dev", "held-out")}
    with svc.Session() as s:
        for e in s.query(CuratedAnswer).filter(CuratedAnswer.status == "published"):
            answer = to_text(e.answer)
            for cid in e.citations:
                p = s.get(Passage, cid)
                if p is None or len(split_sentences(p.text)) < 2:
                    continue
                key = key_sentence(p.text, answer)
                if not key:
                    continue
                for split, qs in (("dev", [e.question, *e.paraphrases]), ("held-out", heldout.get(e.id, []))):
                    for q in qs:
                        pq = prepare(q, tf, enc)
                        terms = [t for t in pq.tokens if not t.startswith("§")]
                        first = split_sentences(p.text)[0]
                        c = counts[split]
                        c["n"] += 1
                        c["rule"] += (answering_sentence(p.text, terms, pq.vector, embed) or first) == key  # type: ignore[arg-type]
                        c["terms"] += (answering_sentence(p.text, terms) or first) == key
                        c["first"] += split_sentences(p.text)[0] == key
                        c["first_term"] += first_term_sentence(p.text, terms) == key
    if args.json:
        print(json.dumps(counts, ensure_ascii=False, indent=1))
        return
    print("| questions | n (question, cited article) | e5 (shipped) | most query terms (BM25 mode) | first sentence | "
          "first matched term |")
    print("|---|---|---|---|---|---|")
    for split, c in counts.items():
        n = max(c["n"], 1)
        print(f"| {split} | {c['n']} | {c['rule'] / n:.3f} | {c['terms'] / n:.3f} | {c['first'] / n:.3f} | "
              f"{c['first_term'] / n:.3f} |")


if __name__ == "__main__":
    main()
