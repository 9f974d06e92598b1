"""Candidate pool and features of the ranking stage, on a small index with the hashing encoder."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.search.encoders import HashingEncoder
from assistant.search.features import FEATURES, GROUPS, feature_mask, item_table
from assistant.search.fusion import FusionParams
from assistant.search.index import Item, SearchIndex
from assistant.search.memory import Answered, AnswerMemory
from assistant.search.query import prepare
from assistant.search.ranker import RankerModel, RankingStage

WATER = "中华人民共和国水污染防治法"
PERMIT = "排污许可管理条例"
TEXTS = {
    f"{WATER}#1": ("总则", "为了保护和改善环境，防治水污染，制定本法。"),
    f"{WATER}#39": ("第四章 水污染防治措施", "禁止利用渗井、渗坑、裂隙、溶洞，私设暗管，篡改、伪造监测数据，或者不正常运行水污染防治设施等逃避监管的方式排放水污染物。"),
    f"{WATER}#45": ("第四章 水污染防治措施", "排放工业废水的企业应当采取有效措施，收集和处理产生的全部废水，防止污染环境。含有毒有害水污染物的工业废水应当分类收集和处理，不得稀释排放。"),
    f"{WATER}#83": ("第七章 法律责任", "违反本法规定，有下列行为之一的，由县级以上人民政府环境保护主管部门责令改正或者责令限制生产、停产整治，并处十万元以上一百万元以下的罚款。"),
    f"{PERMIT}#14": ("第二章 申请与审批", "排污许可证有效期为5年。排污许可证有效期届满，排污单位需要继续排放污染物的，应当于排污许可证有效期届满60日前向审批部门提出申请。"),
    f"{PERMIT}#15": ("第二章 申请与审批", "在排污许可证有效期内，排污单位有下列情形之一的，应当重新申请取得排污许可证。"),
    f"{PERMIT}#33": ("第六章 法律责任", "违反本条例规定，排污单位有下列行为之一的，由生态环境主管部门责令改正或者限制生产、停产整治，处20万元以上100万元以下的罚款：未取得排污许可证排放污染物。"),
}


def _index() -> tuple[SearchIndex, HashingEncoder]:
    items = []
    for pid, (heading, text) in TEXTS.items():
        title, n = pid.split("#")
        items.append(Item(id=pid, title=title, text=text, kind="法律" if title == WATER else "行政法规",
                          article=int(n), heading=heading, target=pid))
    enc = HashingEncoder(64)
    return SearchIndex.build(items, engine="bm25s", encoder=enc), enc


@pytest.fixture(scope="module")
def setup() -> tuple[SearchIndex, HashingEncoder, RankingStage]:
    idx, enc = _index()
    stage = RankingStage(RankerModel("linear", ["bm25_z"], enc.id, payload={}), FusionParams(reference_weight=2.0))
    return idx, enc, stage


def _col(name: str) -> int:
    return FEATURES.index(name)


def test_named_article_and_document_features(setup: tuple[SearchIndex, HashingEncoder, RankingStage]) -> None:
    idx, enc, stage = setup
    pq = prepare("《水污染防治法》第八十三条第三款能否适用于排入渗坑的行为？", "both", enc)
    sig, c = stage.candidates(idx, pq, enc, None)
    ids = [idx.items[p].id for p in c.positions]
    assert f"{WATER}#83" in ids
    row = {i: c.X[k] for k, i in enumerate(ids)}
    assert row[f"{WATER}#83"][_col("art_named")] == 1.0
    assert row[f"{WATER}#39"][_col("art_named")] == 0.0
    assert row[f"{WATER}#39"][_col("doc_named")] == 1.0 and row[f"{PERMIT}#14"][_col("doc_named")] == 0.0
    assert row[f"{WATER}#83"][_col("doc_named_in_question")] == 1.0
    # neighbours of a named article, the penalty chapter and a penalty question
    assert row[f"{WATER}#83"][_col("chapter_penalty")] == 1.0 and row[f"{WATER}#83"][_col("q_penalty")] == 0.0
    assert row[f"{WATER}#1"][_col("chapter_general")] == 1.0
    assert np.all(c.X[:, _col("any_named")] == 1.0)
    assert c.X.shape == (len(c.positions), len(FEATURES))


def test_document_aggregates_and_ranks(setup: tuple[SearchIndex, HashingEncoder, RankingStage]) -> None:
    idx, enc, stage = setup
    pq = prepare("排污许可证有效期满了要提前多久申请延续", "both", enc)
    sig, c = stage.candidates(idx, pq, enc, None)
    ids = [idx.items[p].id for p in c.positions]
    k14 = ids.index(f"{PERMIT}#14")
    # the best article of its document has no gap to the document's best, and ranks first inside it
    assert c.X[k14, _col("gap_to_doc_best")] == pytest.approx(0.0)
    assert c.X[k14, _col("rank_in_doc")] == pytest.approx(0.0)
    # every article of a document shares the document-level maxima
    same_doc = [k for k, i in enumerate(ids) if i.startswith(PERMIT)]
    assert len({round(float(c.X[k, _col("doc_fused_max_z")]), 6) for k in same_doc}) == 1
    tab = item_table(idx)
    assert len(tab.starts) == 2 and tab.titles == [WATER, PERMIT]
    assert 0 < c.X[k14, _col("cov_words")] <= 1


def test_memory_votes_become_bridge_features(setup: tuple[SearchIndex, HashingEncoder, RankingStage]) -> None:
    idx, enc, stage = setup
    mem = AnswerMemory.build([Answered("工业废水能不能兑水稀释以后排放", (f"{WATER}#45",), "e1", "curated"),
                              Answered("排污证能用几年", (f"{PERMIT}#14",), "e2", "curated")], idx, enc, None)
    pq = prepare("工业废水可以稀释后排放吗", "both", enc)
    _sig, c = stage.candidates(idx, pq, enc, None, mem)
    ids = [idx.items[p].id for p in c.positions]
    assert c.X[ids.index(f"{WATER}#45"), _col("bridge_sum")] > 0
    # leaving the group out (evaluation) removes its vote
    _sig, c2 = stage.candidates(idx, pq, enc, None, mem, exclude_group="e1")
    ids2 = [idx.items[p].id for p in c2.positions]
    assert c2.X[ids2.index(f"{WATER}#45"), _col("bridge_sum")] == 0


def test_filtered_items_never_become_candidates(setup: tuple[SearchIndex, HashingEncoder, RankingStage]) -> None:
    idx, enc, stage = setup
    allow = np.array([not it.id.startswith(WATER) for it in idx.items])
    pq = prepare("《水污染防治法》第八十三条", "both", enc)
    _sig, c = stage.candidates(idx, pq, enc, allow)
    assert c.positions.size and all(idx.items[p].title == PERMIT for p in c.positions)


def test_feature_groups_and_ablation_mask() -> None:
    assert set(FEATURES) == {f for g in GROUPS.values() for f in g}
    m = feature_mask(("named",))
    assert not m[_col("art_named")] and m[_col("bm25_z")]
    assert m.sum() == len(FEATURES) - len(GROUPS["named"])


def test_cite_features_in_one_pass_equal_entry_by_entry_to_the_bit() -> None:
    """The entries' citation features are reduced over all entries at once (``entries._cite_features``); they must
    equal, bit for bit, what taking each entry's articles one by one gives (the ranking model reads them)."""
    import math

    from assistant.search.entries import CitedSegments, PassageView, _cite_features

    rng = np.random.default_rng(7)
    n_pass, lengths = 500, [0, 1, 3, 7, 8, 12, 2, 0, 5]
    cps = [rng.choice(n_pass, size=k, replace=False).astype(np.int64) for k in lengths]
    view = PassageView(None, rng.integers(0, 60, n_pass), rng.random(n_pass, dtype=np.float32),  # type: ignore[arg-type]
                       rng.random(n_pass) * 20)
    entries = np.array([e for e, cp in enumerate(cps) if len(cp)])
    lens = np.array([len(cps[e]) for e in entries])
    seg = CitedSegments(entries, np.concatenate([cps[e] for e in entries]),
                        np.concatenate([[0], np.cumsum(lens)[:-1]]), lens, np.flatnonzero(lens >= 8))
    col = {"cite_best": 0, "cite_top10": 1, "cite_dmax": 2, "cite_dmean": 3}
    X, bm = np.zeros((len(cps), 4)), np.zeros(len(cps))
    _cite_features(X, col, bm, seg, view)
    want, want_bm = np.zeros((len(cps), 4)), np.zeros(len(cps))
    for e, cp in enumerate(cps):
        if len(cp):
            ranks = view.rank[cp]
            want[e] = [-math.log1p(float(ranks.min())), float((ranks < 10).mean()), float(view.dense[cp].max()),
                       float(view.dense[cp].mean())]
            want_bm[e] = float(view.bm25[cp].max())
    assert np.array_equal(X, want) and np.array_equal(bm, want_bm)
