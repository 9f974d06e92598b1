"""The agenda's reasons say what the counts say: "N 家企业" only of askers that are enterprises, spread "across many
enterprises" only when every asker is one (an asker without an enterprise is a chat session), and the stored
reasons of older agenda items are reworded from their stored numbers."""

from __future__ import annotations

import itertools
import re

import pytest

from assistant.consult.agenda import Features, reason_lines, stored_reasons


def _enterprises_said(lines: list[str]) -> int | None:
    m = re.search(r"（(\d+) 家企业）|（其中 (\d+) 家企业）", lines[0])
    if m:
        return int(m.group(1) or m.group(2))
    return 0 if "均未留企业信息" in lines[0] else None


def test_the_walkthrough_contradiction_is_gone() -> None:
    # 3 chat askers, no enterprise, each asking once: was "3 位提问者（0 家企业）… 分布在多家企业，属共性问题"
    lines = reason_lines(questions=3, askers=3, enterprises=0, recent=3, last_days=2, age_days=5, typicality=1.0,
                         top_share=1 / 3)
    text = "；".join(lines)
    assert lines[0] == "3 位提问者（均未留企业信息）共提问 3 次"
    assert "分布在 3 位不同提问者（普遍性 1.00），属共性问题" in lines
    assert "0 家企业" not in text and "多家企业" not in text


@pytest.mark.parametrize(("askers", "enterprises", "questions"),
                         [(a, e, q) for a, e, q in itertools.product(range(1, 6), range(0, 6), range(1, 9))
                          if e <= a <= q])
def test_no_line_contradicts_the_counts(askers: int, enterprises: int, questions: int) -> None:
    typicality = askers / questions
    lines = reason_lines(questions, askers, enterprises, recent=questions, last_days=0.2, age_days=40,
                         typicality=typicality, top_share=(questions - askers + 1) / questions)
    text = "；".join(lines)
    assert lines[0].startswith(f"{askers} 位提问者") and lines[0].endswith(f"共提问 {questions} 次")
    assert _enterprises_said(lines) == enterprises
    if "多家企业" in text or "少数企业" in text or "最多一家" in text:
        assert enterprises == askers >= 2  # spread or concentration "among enterprises": every asker is one
    if "同一提问者" in text:
        assert askers == 1
    if "属共性问题" in text:
        assert askers >= 2
    assert "最近一次在今天" in text and "0 天前" not in text


def test_features_explain_with_the_same_wording() -> None:
    f = Features(1, questions=4, askers=2, enterprises=1, recent=1, last_days=12.4, age_days=20.2, typicality=0.5,
                 top_asker_share=0.75)
    assert f.explain() == reason_lines(4, 2, 1, 1, 12.4, 20.2, 0.5, 0.75)
    assert f.explain()[0] == "2 位提问者（其中 1 家企业）共提问 4 次"
    assert "分布在 2 位不同提问者（普遍性 0.50），属共性问题" in f.explain()
    assert f.as_dict()["text"] == f.explain()


def test_stored_reasons_are_reworded_from_the_stored_numbers() -> None:
    old = {"questions": 3, "askers": 3, "enterprises": 0, "recent_30d": 3, "last_asked_days": 1.0, "age_days": 9.0,
           "typicality": 1.0, "top_asker_share": 0.333,
           "text": ["3 位提问者（0 家企业）共提问 3 次", "分布在多家企业（普遍性 1.00），属共性问题"]}
    assert stored_reasons(old) == reason_lines(3, 3, 0, 3, 1.0, 9.0, 1.0, 0.333)
    assert "多家企业" not in "".join(stored_reasons(old))
    # without the numbers: the stored text as it is
    assert stored_reasons({"text": ["人工添加"]}) == ["人工添加"]
    assert stored_reasons({}) == [] and stored_reasons(None) == []


def test_a_case_told_in_several_messages_counts_once_and_a_case_asked_again_counts_again() -> None:
    """An item holding a case told and asked in three messages of one conversation is one 提问 of one asker (not
    "同一提问者重复提问 3 次，偏个案"); the same session asking again days later is asked again."""
    from datetime import UTC, datetime, timedelta

    from assistant.consult.agenda import cases
    from assistant.db.models import Question

    t0 = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)

    def q(i: int, session: str, minutes: float, channel: str = "wechat") -> Question:
        return Question(id=i, text=f"m{i}", channel=channel, session_id=session, asked_at=t0 + timedelta(minutes=minutes))

    told = [q(1, "o-a", 0), q(2, "o-a", 3), q(3, "o-a", 5)]
    assert [x.id for x in cases(told)] == [3]  # one case, kept as its latest message
    again = [*told, q(4, "o-a", 60 * 24 * 3)]  # three days later: asked again
    assert [x.id for x in cases(again)] == [3, 4]
    others = [q(5, "o-b", 1), q(6, "", 2, "chat"), q(7, "", 3, "chat"), q(8, "o-a", 4, "chat")]
    assert sorted(x.id for x in cases(told + others)) == [3, 5, 6, 7, 8]  # no session, or another channel: apart
