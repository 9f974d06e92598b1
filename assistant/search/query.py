"""Query preparation shared by the retriever and the evaluation: normalise, expand, tokenise, embed."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..text.normalize import normalize
from ..text.synonyms import SynonymTable, default_synonyms
from ..text.tokenize import TokenField, Tokenizer
from .encoders import Encoder


@dataclass(frozen=True)
class PreparedQuery:
    raw: str
    normalized: str
    expanded: str
    tokens: list[str]
    vector: np.ndarray | None

    @property
    def chars(self) -> int:
        return len(self.normalized)


def prepare(raw: str, token_field: TokenField | str, encoder: Encoder | None,
            synonyms: SynonymTable | None = None, expand: bool = True) -> PreparedQuery:
    """Normalise (full-width, Traditional), append canonical forms of abbreviations, tokenise and embed."""
    norm = normalize(raw)
    syn = synonyms if synonyms is not None else default_synonyms()
    expanded = syn.expand(norm) if expand else norm
    tokens = Tokenizer.default().tokens(expanded, TokenField.parse(token_field), normalized=True)
    vec = encoder.encode_queries([norm])[0] if encoder is not None else None
    return PreparedQuery(raw=raw, normalized=norm, expanded=expanded, tokens=tokens, vector=vec)
