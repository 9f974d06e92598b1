"""Chinese numerals of article numbers."""

from __future__ import annotations

import pytest

from assistant.text.numerals import cn_to_int, int_to_cn


@pytest.mark.parametrize(
    ("cn", "n"),
    [("一", 1), ("十", 10), ("十四", 14), ("二十", 20), ("一百零五", 105), ("一百一十", 110),
     ("一百二十", 120), ("一千零二十", 1020), ("一千一百六十四", 1164), ("两百", 200), ("12", 12)],
)
def test_cn_to_int(cn: str, n: int) -> None:
    assert cn_to_int(cn) == n


@pytest.mark.parametrize(("n", "cn"), [(1, "一"), (10, "十"), (14, "十四"), (105, "一百零五"),
                                       (110, "一百一十"), (120, "一百二十"), (1005, "一千零五"), (1164, "一千一百六十四")])
def test_int_to_cn_statute_form(n: int, cn: str) -> None:
    assert int_to_cn(n) == cn


def test_round_trip_every_article_number() -> None:
    bad = [n for n in range(1, 10000) if cn_to_int(int_to_cn(n)) != n]
    assert bad == []


@pytest.mark.parametrize("text", ["", "第五", "十万", "abc"])
def test_cn_to_int_rejects_non_numerals(text: str) -> None:
    with pytest.raises(ValueError):
        cn_to_int(text)


@pytest.mark.parametrize("n", [0, -3, 10000])
def test_int_to_cn_range(n: int) -> None:
    with pytest.raises(ValueError, match=str(n)):
        int_to_cn(n)
