"""Normalisation: full-width → half-width, Traditional → Simplified, whitespace, case."""

from __future__ import annotations

import pytest

from assistant.text.normalize import normalize, to_simplified


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ＧＢ１２３４８－２００８", "gb12348-2008"),  # full-width letters, digits and hyphen
        ("排污许可证（２０２１年版）", "排污许可证(2021年版)"),  # full-width parentheses become ASCII
        ("　排污  许可\t证　", "排污 许可 证"),  # ideographic / repeated spaces collapse, ends stripped
        ("COD", "cod"),
    ],
)
def test_fullwidth_and_whitespace(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


@pytest.mark.parametrize(
    ("traditional", "simplified"),
    [
        ("排汙許可證", "排污许可证"),
        ("環境影響評價", "环境影响评价"),
        ("危險廢物轉移聯單", "危险废物转移联单"),
    ],
)
def test_traditional_to_simplified(traditional: str, simplified: str) -> None:
    assert to_simplified(traditional) == simplified
    assert normalize(traditional) == simplified


def test_mixed_traditional_and_fullwidth() -> None:
    assert normalize("排汙許可證　ＧＢ１２３４８") == "排污许可证 gb12348"


def test_simplified_text_is_unchanged() -> None:
    s = "排污单位应当依法申请取得排污许可证"
    assert normalize(s) == s
