"""Tokenizer fields for BM25."""

from __future__ import annotations

import pytest

from assistant.text.tokenize import TokenField, Tokenizer

TEXT = "排污许可证的有效期是五年"


@pytest.fixture(scope="module")
def tk() -> Tokenizer:
    return Tokenizer.default()


def test_words_keep_domain_terms_and_drop_stopwords(tk: Tokenizer) -> None:
    words = tk.tokens(TEXT, TokenField.WORDS)
    assert "排污许可证" in words and "有效期" in words
    assert "的" not in words and "，" not in words
    assert not any(w.startswith("§") for w in words)


def test_bigrams_are_overlapping_pairs(tk: Tokenizer) -> None:
    bigrams = tk.tokens(TEXT, TokenField.BIGRAMS)
    assert bigrams[:3] == ["排污", "污许", "许可"]
    assert len(bigrams) == len(TEXT) - 1
    assert Tokenizer.bigrams("水 GB3838 a") == ["水", "gb3838", "a"]


def test_both_prefixes_bigrams(tk: Tokenizer) -> None:
    both = tk.tokens(TEXT, TokenField.BOTH)
    words = tk.tokens(TEXT, TokenField.WORDS)
    assert both[: len(words)] == words
    assert both[len(words):] == ["§" + b for b in tk.tokens(TEXT, TokenField.BIGRAMS)]


def test_tokens_normalise_first(tk: Tokenizer) -> None:
    assert tk.tokens("排汙許可證", TokenField.BIGRAMS) == tk.tokens("排污许可证", TokenField.BIGRAMS)


def test_field_parse() -> None:
    assert TokenField.parse("both") is TokenField.BOTH
    with pytest.raises(ValueError, match="trigrams"):
        TokenField.parse("trigrams")
