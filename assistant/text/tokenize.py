"""Chinese tokenisation for BM25: jieba words with the domain dictionary, and/or character bigrams."""

from __future__ import annotations

import logging
import re
import threading
from pathlib import Path

import jieba
from jieba.posseg import POSTokenizer

from ..options import Option
from .normalize import normalize

_DICT_DIR = Path(__file__).resolve().parents[2] / "corpus" / "dictionary"
_HAN = re.compile(r"[\u4e00-\u9fff]")
_TOKEN_OK = re.compile(r"[\u4e00-\u9fffa-z0-9]")
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]+|[a-z0-9][a-z0-9.\-]*")
#: tags that name a thing as nouns do: verbal nouns (监测), abbreviations (危废), idioms, Latin words
_NOUNISH = frozenset({"vn", "j", "l", "eng"})
_SPACED = re.compile(r"(?<=[\u4e00-\u9fff]) (?=[\u4e00-\u9fff])")

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
        self._pos: POSTokenizer | None = None
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

    def join_wrapped(self, text: str) -> str:
        """A PDF table cell's line wraps read back as spaces ("感光材料生 产过程", "废变压 器油") joined: a space
        between two Han characters is dropped when a dictionary word spans it (jieba, exact mode, no HMM guesses);
        one between two cells ("重点管理的 其他") stays."""
        def join(m: re.Match[str]) -> str:
            left = re.split(r"\s", text[max(0, m.start() - 4):m.start()])[-1]
            right = re.split(r"\s", text[m.end():m.end() + 4])[0]
            at = 0
            for w in self._jieba.cut(left + right, HMM=False):
                if at < len(left) < at + len(w):
                    return ""
                at += len(w)
            return m.group(0)
        return _SPACED.sub(join, text)

    def nouns(self, text: str) -> list[str]:
        """The nouns of ``text`` (already normalised) of two or more characters, in order (jieba's part-of-speech
        tags, exact mode, no HMM guesses): the things a question is about ("饭店", "油烟", "净化器")."""
        if self._pos is None:
            self._pos = POSTokenizer(self._jieba)
        return [w for w, tag in self._pos.cut(text, HMM=False) if len(w) >= 2 and (tag[:1] == "n" or tag in _NOUNISH)]
