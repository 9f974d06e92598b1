"""When retrieved passages answer instead of the curated answer, or instead of nothing: a limit-table row that
states the value asked for, an article, clause or waste row (or a waste category) the question named
(search/lookup.py)."""

from __future__ import annotations

import re

from ..db.models import CuratedAnswer
from ..ingest.limits import is_table_row
from ..search.index import Item
from ..search.lookup import asks_category
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


def row_names_what_was_asked(result: SearchResult) -> bool:
    """A limit question whose best passage is a limit row naming the pollutant or item the question names: fusion's
    confidence, fitted on other questions, is low for rows (many near-identical rows of one table), yet the row states
    the value asked for — it is shown with the caution notice rather than routed to staff only."""
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
