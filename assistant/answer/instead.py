"""When retrieved passages answer instead of the curated answer, or instead of nothing: a limit-table row that
states the value asked for, an article, clause or waste row (or a waste category) the question named
(search/lookup.py)."""

from __future__ import annotations

import re

from ..db.models import CuratedAnswer
from ..ingest.limits import is_table_row
from ..search.index import Item
from ..search.lookup import asks_category
from ..search.references import WASTE_ROW_ID
from ..search.retriever import SearchResult
from .sources import limit_row


def _top_row(result: SearchResult) -> Item | None:
    """The best passage of a question for a limit value when it is a row of a limit table."""
    if not result.limit or not result.passages.hits:
        return None
    top = result.passages.hits[0].item
    return top if is_table_row(top.id.rpartition("#")[2]) else None


def passage_answers_instead(result: SearchResult, entry: CuratedAnswer) -> bool:
    """A question for a limit value whose best passage is a row of a limit table is answered by that row (with the
    curated entry offered as a related question) unless the entry itself cites that standard: a general curated
    answer ("锅炉要注意哪些环保要求") does not state the number asked for. Likewise a lookup of a named article
    (search/lookup.py) is answered by that article unless the entry cites it."""
    if result.lookup and result.passages.hits:
        return result.passages.hits[0].item.id not in entry.citations
    top = _top_row(result)
    return top is not None and not any(c.rpartition("#")[0] == top.title for c in entry.citations)


#: a question whether something is hazardous waste, or for its code or category ("…是危废吗，代码多少", "…属于哪类危废")
_ASKS_WASTE_CODE = re.compile(r"代码|编码|哪一?类|什么类|是不是危|是危[险废]|算不算危|算危[险废]|属于危")
#: words of such a question that name no waste: what it asks, not what it is about
_GENERIC = re.compile(r"危险|危废|废物|代码|编码|类别|属于|我们|哪类|多少|什么|名录")


def waste_row_names_what_was_asked(result: SearchResult) -> bool:
    """A short question whether a waste is hazardous, or for its code ("我们厂的废切削液是危废吗，代码多少"), whose best
    passage is a row of the hazardous-waste catalogue naming that waste (a word of two or more characters of the
    question, other than 危废/代码…, in the row: "切削液" in 900-006-09): the ranking's confidence is low for rows, as for
    limit rows (many similar rows), yet the row answers — shown with the caution notice, not routed to staff only."""
    hits = [h for h in result.passages.hits if result.shows(h)]
    if not hits or len(result.query.normalized) > 40 or not _ASKS_WASTE_CODE.search(result.query.normalized):
        return False
    top = hits[0].item
    words = [t for t in result.query.tokens if len(t) >= 2 and not t.startswith("§") and not _GENERIC.search(t)]
    # the row's own cells, lines joined (the PDF wraps them), not its title, category and table header
    row = "".join(ln for ln in top.text.split("\n") if " › " not in ln and not ln.startswith("［表头"))
    return bool(WASTE_ROW_ID.search(top.id)) and any(w in row for w in words)


def row_names_what_was_asked(result: SearchResult) -> bool:
    """A limit question whose best passage is a limit row naming the pollutant or item the question names: fusion's
    confidence, fitted on other questions, is low for rows (many near-identical rows of one table), yet the row states
    the value asked for — it is shown with the caution notice rather than routed to staff only. Likewise a waste's
    catalogue row (:func:`waste_row_names_what_was_asked`)."""
    if waste_row_names_what_was_asked(result):
        return True
    top = _top_row(result)
    row = limit_row(top.id, top.text) if top is not None else None
    if row is None or not row["cells"]:
        return False
    item = re.sub(r"[（(][^）)]*[）)]|[①-⑩*]", "", str(row["cells"][0][1])).strip().lower()
    return len(item) >= 2 and item in result.query.expanded


def category_rows(result: SearchResult) -> int:
    """How many rows of the hazardous-waste category a lookup named ("HW08包括哪些废物": all of them, each cited,
    on one card that says how many); 0 for any other question."""
    return result.lookup if result.lookup and asks_category(result.query.normalized) else 0
