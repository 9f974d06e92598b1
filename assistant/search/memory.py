"""Answered questions as a signal for ranking articles: "what did we cite when somebody asked something like this?"

The bureau's curated answers, the ministry's mailbox replies and the team's labelled letters each pair a question
with the articles that answer it. For a new question, the most similar of those questions (e5 cosine) vote for the
articles they cite: :meth:`AnswerMemory.votes` gives, per cited passage, the best and the summed similarity of the
top ``k`` similar questions. The ranker reads these as features (``bridge_*`` in :mod:`.features`).

Sources (:func:`curated_sources`, :func:`letter_sources`, :func:`reply_sources`) yield :class:`Answered` rows with a
``group`` (entry id, letter id, mailbox record id) so that an evaluation can leave a question's own group out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..ingest.replies import split_record
from .encoders import EmbeddingCache, Encoder, embed_passages
from .index import Item, SearchIndex
from .letter import analyse
from .references import MentionResolver

LETTERS_DIR = Path(__file__).resolve().parents[2] / "corpus" / "ranker"


@dataclass(frozen=True)
class Answered:
    """A question and the passage ids that answered it."""

    text: str
    cites: tuple[str, ...]
    group: str
    source: str  # curated | letter | reply


def curated_sources(curated: SearchIndex | Iterable[Item] | None) -> Iterator[Answered]:
    """Every wording of every curated entry, with the entry's citations (``Item.meta["citations"]``)."""
    if curated is None:
        return
    for it in (curated.items if isinstance(curated, SearchIndex) else curated):
        if it.meta.get("role", "wording") != "wording":
            continue
        cites = tuple(it.meta.get("citations") or ())
        if cites:
            yield Answered(it.text, cites, it.target, "curated")


def letter_sources(folder: Path = LETTERS_DIR) -> Iterator[Answered]:
    """The team's labelled letters and short questions (``corpus/ranker/letters_*.jsonl``)."""
    for f in sorted(folder.glob("letters_*.jsonl")):
        for line in f.read_text("utf-8").splitlines():
            if line.strip():
                r = json.loads(line)
                yield Answered(str(r["query"]), tuple(r["relevant"]), str(r["id"]), "letter")


def reply_sources(replies: Iterable[Item], articles: SearchIndex, exclude: set[str] | None = None
                  ) -> Iterator[Answered]:
    """Mailbox records (官方答复 passages ``来信：…\\n答复：…``): the letter, with the articles its reply names
    (resolved in ``articles``). ``exclude``: record ids to leave out (an evaluation's test split)."""
    resolver = MentionResolver(articles)
    for it in replies:
        if it.kind != "官方答复":
            continue
        rid = str(it.meta.get("record_id") or _record_id(it.title))
        if exclude and rid in exclude:
            continue
        record = split_record(it.text)
        if record is None:
            continue
        letter, reply = record
        named = resolver.mentions(analyse(reply)).articles
        cites = tuple(articles.items[p].id for p in sorted(named))
        if letter and cites:
            yield Answered(letter, cites, rid, "reply")


def service_rows(passages: SearchIndex, curated: SearchIndex | None,
                 replies: list[Answered] | None = None) -> list[Answered]:
    """What the service's memory holds for these indexes: every curated wording, the team's letters and the
    mailbox letters (``replies``: those of ``passages``, when already read). Their vectors are shipped with the
    bundled corpus (``scripts/bundle_embeddings.py``), so a new machine does not encode them at its first start."""
    if replies is None:
        replies = list(reply_sources(passages.items, passages))
    return [*curated_sources(curated), *letter_sources(), *replies]


def _record_id(title: str) -> str:
    m = re.search(r"[（(](mee-\d+)[）)]$", title)
    return m.group(1) if m else title


def record_group(query_id: str) -> str | None:
    """The mailbox record a query of ``../shared/eval`` comes from (``t3-mee-003`` → ``mee-003``), if any."""
    m = re.search(r"mee-\d+", query_id)
    return m.group(0) if m else None


class AnswerMemory:
    """Answered questions with their vectors, mapped onto the passages of one index."""

    def __init__(self, rows: list[Answered], vectors: np.ndarray, index: SearchIndex, k: int = 10) -> None:
        self.rows = rows
        self.vectors = vectors
        self.index = index
        self.k = k
        pos = index.pos
        self.cited = [np.array([pos[c] for c in r.cites if c in pos], dtype=np.int64) for r in rows]
        self.groups = np.array([r.group for r in rows], dtype=object)
        #: the curated index the curated rows were read from (the service rebuilds the memory when it changes)
        self.curated: SearchIndex | None = None

    @classmethod
    def build(cls, rows: Iterable[Answered], index: SearchIndex, encoder: Encoder, cache: EmbeddingCache | None,
              k: int = 10) -> AnswerMemory:
        """Embed the rows' questions (as passages, like the curated wordings: cached by text) for ``index``."""
        pos = index.pos
        kept = [r for r in rows if any(c in pos for c in r.cites)]
        vecs = embed_passages(encoder, [r.text for r in kept], cache) if kept else \
            np.zeros((0, encoder.dim), dtype=np.float32)
        return cls(kept, vecs, index, k)

    def __len__(self) -> int:
        return len(self.rows)

    def votes(self, query_vector: np.ndarray, exclude_group: str | None = None) -> tuple[dict[int, float],
                                                                                          dict[int, float]]:
        """({passage position: best similarity}, {position: summed similarity}) over the ``k`` most similar
        answered questions (``exclude_group``: leave that group out, for evaluation)."""
        if not self.rows:
            return {}, {}
        sims = self.vectors @ np.asarray(query_vector, dtype=np.float32)
        if exclude_group is not None:
            sims = np.where(self.groups == exclude_group, -1.0, sims)
        k = min(self.k, len(sims))
        top = np.argpartition(-sims, k - 1)[:k]
        best: dict[int, float] = {}
        total: dict[int, float] = {}
        for i in top[np.argsort(-sims[top], kind="stable")]:
            s = float(sims[i])
            if s <= 0:
                continue
            for p in self.cited[i].tolist():
                best[p] = max(best.get(p, 0.0), s)
                total[p] = total.get(p, 0.0) + s
        return best, total
