"""The memory of answered questions: sources (curated wordings, labelled letters, mailbox replies), evaluation
exclusions, and votes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from assistant.evaluation import held_out_record_ids, load_queries
from assistant.search.encoders import HashingEncoder
from assistant.search.index import Item, SearchIndex
from assistant.search.memory import AnswerMemory, curated_sources, letter_sources, record_group, reply_sources

PERMIT = "排污许可管理条例"


def _articles() -> SearchIndex:
    items = [Item(id=f"{PERMIT}#{n}", title=PERMIT, text=t, kind="行政法规", article=n, target=f"{PERMIT}#{n}")
             for n, t in ((14, "排污许可证有效期为5年。"), (33, "未取得排污许可证排放污染物的，处20万元以上100万元以下的罚款。"))]
    return SearchIndex.build(items, engine="bm25s")


def test_reply_sources_take_the_letter_and_the_articles_its_reply_names() -> None:
    idx = _articles()
    replies = [Item(id="部长信箱·关于排污证有效期的回复（mee-007）#1", title="部长信箱·关于排污证有效期的回复（mee-007）",
                    text="来信：请问排污许可证有效期是几年？\n答复：根据《排污许可管理条例》第十四条，有效期为5年。",
                    kind="官方答复"),
               Item(id="部长信箱·关于别的事情的回复（mee-008）#1", title="部长信箱·关于别的事情的回复（mee-008）",
                    text="来信：别的事情\n答复：请咨询当地。", kind="官方答复")]
    rows = list(reply_sources(replies, idx))
    assert [(r.group, r.cites, r.text) for r in rows] == [("mee-007", (f"{PERMIT}#14",), "请问排污许可证有效期是几年？")]
    assert list(reply_sources(replies, idx, exclude={"mee-007"})) == []


def test_curated_sources_are_wordings_with_citations() -> None:
    rows = [Item(id="e~0", title="", text="排污证能用几年", target="e", meta={"role": "wording",
                                                                          "citations": [f"{PERMIT}#14"]}),
            Item(id="e~a", title="", text="排污许可证有效期为五年。", target="e", meta={"role": "answer"})]
    out = list(curated_sources(rows))
    assert [(a.text, a.cites, a.group) for a in out] == [("排污证能用几年", (f"{PERMIT}#14",), "e")]


def test_team_letters_are_labelled_with_existing_ids() -> None:
    rows = list(letter_sources())
    assert len(rows) >= 100
    assert all(r.cites and r.group.startswith("tl-") for r in rows)
    assert len({r.group for r in rows}) == len(rows)


def test_held_out_team_letters_stay_out_of_the_memory_and_the_training_files() -> None:
    """``corpus/ranker/heldout/`` measures the ranking on letters it never saw (scripts/eval_team_letters.py): the
    memory and scripts/train_ranker.py read ``corpus/ranker/letters_*.jsonl`` only, so moving a held-out file up a
    folder (or copying its questions into a training file) fails here."""
    import json

    from assistant.search.memory import LETTERS_DIR

    held = [json.loads(x) for f in sorted((LETTERS_DIR / "heldout").glob("letters_*.jsonl"))
            for x in f.read_text(encoding="utf-8").splitlines() if x.strip()]
    assert len(held) >= 100 and len({r["id"] for r in held}) == len(held)
    assert all(r["relevant"] and r["style"] in ("letter", "short") and r["id"].startswith("tl-") for r in held)
    training = list(letter_sources())
    assert not {r["id"] for r in held} & {r.group for r in training}
    assert not {r["query"] for r in held} & {r.text for r in training}


def test_votes_follow_similar_questions() -> None:
    idx = _articles()
    enc = HashingEncoder(64)
    idx.attach_vectors(enc.encode_passages([it.text for it in idx.items]), enc)
    mem = AnswerMemory.build(list(curated_sources([
        Item(id="a~0", title="", text="排污证能用几年", target="a", meta={"citations": [f"{PERMIT}#14"]}),
        Item(id="b~0", title="", text="没办排污证就排污罚多少", target="b", meta={"citations": [f"{PERMIT}#33"]}),
        Item(id="c~0", title="", text="别的法规", target="c", meta={"citations": ["不在索引#1"]}),
    ])), idx, enc, None, k=1)
    assert len(mem) == 2  # a row citing nothing of this index is dropped
    best, total = mem.votes(enc.encode_queries(["排污证能用几年？"])[0])
    assert set(best) == {idx.pos[f"{PERMIT}#14"]} and np.isclose(best[idx.pos[f"{PERMIT}#14"]], total[idx.pos[f"{PERMIT}#14"]])


def test_evaluation_memory_never_holds_a_test_record(tmp_path: Path) -> None:
    for name, rows in (("queries_mee_title2record.jsonl", [("t1-mee-001", "dev"), ("t1-mee-002", "test")]),
                       ("queries_mee_letter2article.jsonl", [("t3-mee-003", "test")])):
        (tmp_path / name).write_text("\n".join(json.dumps({"id": i, "query": "q", "relevant": ["x"], "split": sp})
                                               for i, sp in rows), "utf-8")
    assert held_out_record_ids(tmp_path) == {"mee-002", "mee-003"}
    q = load_queries(tmp_path / "queries_mee_letter2article.jsonl")[0]
    assert q.group == "mee-003" == record_group("t3-mee-003")
