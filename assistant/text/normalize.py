"""Text normalisation applied to every text before tokenising or embedding.

Full-width → half-width (NFKC), Traditional → Simplified (OpenCC ``t2s``), unified whitespace.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import opencc

_WS = re.compile(r"[ \t\u3000\xa0]+")


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Convert Traditional Chinese characters to Simplified ones (other text unchanged)."""
    return str(_t2s().convert(text))


def normalize(text: str) -> str:
    """Normalise user or document text for matching.

    >>> normalize("排汙許可證　ＧＢ１２３４８")
    '排污许可证 gb12348'
    """
    text = unicodedata.normalize("NFKC", text)
    text = to_simplified(text)
    text = _WS.sub(" ", text)
    return text.strip().lower()
