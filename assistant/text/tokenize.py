"""Chinese tokenisation for BM25: jieba words with the domain dictionary, and/or character bigrams."""

from __future__ import annotations

import logging
import re
import threading
from pathlib import Path

import jieba

from ..options import Option
from .normalize import normalize

_DICT_DIR = Path(__file__).resolve().parents[2] / "corpus" / "dictionary"
_HAN = re.compile(r"[\u4e00-\u9fff]")
_TOKEN_OK = re.compile(r"[\u4e00-\u9fffa-z0-9]")
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]+|[a-z0-9][a-z0-9.\-]*")

jieba.setLogLevel(logging.WARNING)


#: bump when tokenisation or expansion logic changes, so saved indexes are rebuilt
TOKENIZER_VERSION = 2


def text_signature(dict_dir: Path = _DICT_DIR) -> str:
    """Fingerprint of everything that shapes BM25 tokens: code version and the dictionary files."""
    import hashlib

    h = hashlib.sha256(str(TOKENIZER_VERSION).encode())
    for name in ("userdict.txt", "stopwords.txt", "synonyms.tsv"):
        f = dict_dir / name
        h.update(name.encode() + b"\0" + (f.read_bytes() if f.exists() else b""))
    return h.hexdigest()[:16]


class TokenField(Option):
    """Which tokens feed BM25."""

    WORDS = "words"
    BIGRAMS = "bigrams"
    BOTH = "both"

    @classmethod
    def label(cls) -> str:
        return "token field"


class Tokenizer:
    """jieba with the domain user dictionary and stopwords, loaded once per process."""

    _lock = threading.Lock()
    _instance: Tokenizer | None = None

    def __init__(self, dict_dir: Path = _DICT_DIR) -> None:
        self._jieba = jieba.Tokenizer()
        self._jieba.initialize()
        userdict = dict_dir / "userdict.txt"
        if userdict.exists():
            self._jieba.load_userdict(str(userdict))
        stop = dict_dir / "stopwords.txt"
        self.stopwords: frozenset[str] = frozenset(
            w.strip() for w in stop.read_text(encoding="utf-8").splitlines() if w.strip() and not w.startswith("#")
        ) if stop.exists() else frozenset()

    @classmethod
    def default(cls) -> Tokenizer:
        """The process-wide tokenizer (jieba's dictionary takes about a second to load)."""
        with cls._lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def words(self, text: str, normalized: bool = False) -> list[str]:
        """jieba words (search mode: long words also yield their parts), stopwords and punctuation removed."""
        if not normalized:
            text = normalize(text)
        out = []
        for w in self._jieba.cut_for_search(text, HMM=True):
            w = w.strip()
            if not w or w in self.stopwords or not _TOKEN_OK.search(w):
                continue
            out.append(w)
        return out

    @staticmethod
    def bigrams(text: str, normalized: bool = False) -> list[str]:
        """Overlapping character bigrams of each Han run (single chars for runs of one), ASCII words whole."""
        if not normalized:
            text = normalize(text)
        out: list[str] = []
        for run in _CJK_RUN.findall(text):
            if _HAN.match(run):
                if len(run) == 1:
                    out.append(run)
                else:
                    out.extend(run[i : i + 2] for i in range(len(run) - 1))
            else:
                out.append(run)
        return out

    def tokens(self, text: str, field: TokenField = TokenField.WORDS, normalized: bool = False) -> list[str]:
        """Tokens for the chosen field; with BOTH, bigrams are prefixed ``§`` so they never collide with words."""
        if not normalized:
            text = normalize(text)
        if field is TokenField.WORDS:
            return self.words(text, normalized=True)
        if field is TokenField.BIGRAMS:
            return self.bigrams(text, normalized=True)
        return self.words(text, normalized=True) + ["§" + b for b in self.bigrams(text, normalized=True)]
