"""Abbreviation and synonym expansion for queries (环评 → 环境影响评价, 排污证 → 排污许可证 …).

The table lives in ``corpus/dictionary/synonyms.tsv``: one line per group, the canonical term first,
then its variants, tab-separated. A query that contains a variant gets the canonical term appended
(never replaced, so the user's own words still match).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from .normalize import normalize

_DEFAULT = Path(__file__).resolve().parents[2] / "corpus" / "dictionary" / "synonyms.tsv"


class SynonymTable:
    """Variant → canonical mapping, matched as substrings of the normalised query (longest first)."""

    def __init__(self, groups: list[list[str]]) -> None:
        self.to_canonical: dict[str, str] = {}
        for group in groups:
            canon = normalize(group[0])
            for variant in group[1:]:
                v = normalize(variant)
                if v and v != canon:
                    self.to_canonical[v] = canon
        self._variants = sorted(self.to_canonical, key=len, reverse=True)

    @classmethod
    def load(cls, path: Path = _DEFAULT) -> SynonymTable:
        groups: list[list[str]] = []
        if path.exists():
            for raw in path.read_text(encoding="utf-8").splitlines():
                if not raw.strip() or raw.startswith("#"):
                    continue
                parts = [p.strip() for p in raw.split("\t") if p.strip()]
                if len(parts) >= 2:
                    groups.append(parts)
        return cls(groups)

    def expansions(self, text: str) -> list[str]:
        """Canonical terms for the variants found in ``text`` (already normalised), without repeats."""
        found: list[str] = []
        covered = text
        for v in self._variants:
            if v in covered:
                canon = self.to_canonical[v]
                if canon not in text and canon not in found:
                    found.append(canon)
                covered = covered.replace(v, " ")
        return found

    def expand(self, text: str) -> str:
        """The query with canonical forms of its abbreviations appended."""
        extra = self.expansions(text)
        return text if not extra else text + " " + " ".join(extra)


@lru_cache(maxsize=1)
def default_synonyms() -> SynonymTable:
    """The shipped synonym table, loaded once."""
    return SynonymTable.load()
