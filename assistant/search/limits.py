"""Questions for a limit value, and the order of limit-table rows for them: which wordings ask for a value, a table
after its own row, and the rows of tables for another kind of source after the others (the standards' scope is in
``scopes.py``). Used by the retriever for the questions it ranks by fusion because they ask for a limit."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..ingest.limits import ROW_SEP, is_table, is_table_row

if TYPE_CHECKING:
    from .retriever import Hit

#: added to the fused score of every limit-table row for a question that asks for a limit value: the row states the
#: value, an article only says that limits exist (chosen on the dev half of corpus/limits/questions.jsonl: 0 / 0.1 /
#: 0.2 / 0.3 / 0.5 / 0.8 → R@3 0.853 / 0.882 / 0.912 / 0.912 / 0.912 / 0.912, R@10 0.941 → 1.0 from 0.5; the
#: mailbox titles on the product corpus unchanged up to 0.8)
LIMIT_ROW_PRIOR = 0.5

#: words of a question for a limit value (浓度限值, 一级标准, 去除效率 …)
LIMIT_CUES = ("限值", "浓度", "排放标准", "一级标准", "二级标准", "三级标准", "去除效率", "标准值", "最高允许", "毫克",
              "mg")


#: ways of asking for a value: "一级A标准", "要达到多少", "不能超过多少", "控制在多少以下", "林格曼几级", "按多少折算"
LIMIT_ASKS = re.compile(r"[一二三]级[a-z]?标准|(?:达到|超过|控制在|低于|按)多少|多少(?:毫克|以下|以内|级)|几级(?!标准)|排放要求")


#: a question on what exceeding a limit leads to ("超过排放标准三倍以上会不会构成污染环境罪", "超标排放罚多少") asks for the
#: penalty, not for the value: it is ranked like any other question
CONSEQUENCE = re.compile(r"罚|罪|刑事|拘留|后果")


def asks_for_limit(normalized: str) -> bool:
    """The question asks for a limit value (and not for what exceeding it leads to)."""
    return (any(c in normalized for c in LIMIT_CUES) or LIMIT_ASKS.search(normalized) is not None) and \
        not CONSEQUENCE.search(normalized)


def rows_before_their_table(hits: list[Hit]) -> list[Hit]:
    """For a limit question the row states the value with its column context, the table passage only repeats it
    flattened: a table ranked above one of its own rows is moved to just after that row (ranks renumbered)."""
    out = list(hits)
    for h in hits:
        title, _, key = h.item.id.rpartition("#")
        if is_table_row(key) or not is_table(key):
            continue
        prefix = f"{h.item.id}{ROW_SEP}"
        i = out.index(h)
        j = next((j for j in range(i + 1, len(out)) if out[j].item.id.startswith(prefix)), None)
        if j is not None:
            out.insert(j, out.pop(i))
    for r, h in enumerate(out):
        h.rank = r + 1
    return out


#: which sources a limit table is for, as its caption says, and how a question says which it means: new sources
#: (建成 after the standard) and existing ones have separate tables (GB 13271 表1/表2, GB 16297 表1/表2); the special
#: limits (特别排放限值) bind key regions only, so they are for questions that name them
_NEW = re.compile(r"新建|新上|新改扩建|新污染源|新项目|新装|新增")
_OLD = re.compile(r"现有|在用|老厂|已建|已有|老的|旧的")
_SPECIAL = re.compile(r"特别排放|重点地区|重点区域|特别限值")


def _period_rank(caption: str, question: str) -> int:
    """0 when the table's caption fits what the question says of its source, 1 when it names another kind."""
    new_q, old_q = bool(_NEW.search(question)), bool(_OLD.search(question))
    miss = 0
    if new_q != old_q:  # the question names one kind of source
        miss += bool((_OLD if new_q else _NEW).search(caption)) and not (_NEW if new_q else _OLD).search(caption)
    if _SPECIAL.search(caption) and not _SPECIAL.search(question):
        miss += 1
    return int(miss > 0)


def tables_for_the_source(hits: list[Hit], question: str) -> list[Hit]:
    """For a limit question, the rows of tables for another kind of source (现有 vs 新建, 特别排放限值 when no key
    region is named) go after the other rows (stable: the order within each group is kept; ranks renumbered)."""
    keyed = [(_period_rank(h.item.heading, question) if is_table_row(h.item.id.rpartition("#")[2]) else 0, i, h)
             for i, h in enumerate(hits)]
    out = [h for _m, _i, h in sorted(keyed, key=lambda x: (x[0], x[1]))]
    for r, h in enumerate(out):
        h.rank = r + 1
    return out
