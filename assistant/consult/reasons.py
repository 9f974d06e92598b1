"""Why an item stands on the agenda, in words that agree with its numbers (askers, enterprises, questions)."""

from __future__ import annotations

from typing import Any


def _days_ago(days: float) -> str:
    return "今天" if days < 0.5 else f"{days:.0f} 天前"


def reason_lines(questions: int, askers: int, enterprises: int, recent: int, last_days: float, age_days: float,
                 typicality: float, top_share: float) -> list[str]:
    """The explanation of an item's rank. An asker is an enterprise (信用代码 or name) or, without one, a chat
    session: so "N 家企业" is said only of the askers that are enterprises, and spread or concentration is told of
    enterprises only when every asker is one (3 anonymous askers are 3 位提问者, never "多家企业")."""
    if enterprises == askers:
        who = f"{askers} 位提问者（{enterprises} 家企业）"
    elif enterprises == 0:
        who = f"{askers} 位提问者（均未留企业信息）"
    else:
        who = f"{askers} 位提问者（其中 {enterprises} 家企业）"
    out = [f"{who}共提问 {questions} 次"]
    if recent:
        out.append(f"近 30 天提问 {recent} 次，最近一次在{_days_ago(last_days)}")
    else:
        out.append(f"最近一次提问在{_days_ago(last_days)}")
    unit = "企业" if enterprises == askers else "提问者"
    if askers >= 2 and typicality >= 0.5:
        spread = "多家企业" if unit == "企业" else f" {askers} 位不同提问者"
        out.append(f"分布在{spread}（普遍性 {typicality:.2f}），属共性问题")
    elif askers <= 1 and questions > 1:
        out.append(f"同一提问者重复提问 {questions} 次，偏个案，建议单独沟通")
    elif questions > 1:
        most = "一家" if unit == "企业" else "一位"
        out.append(f"提问集中于少数{unit}（最多{most}占 {top_share:.0%}），普遍性 {typicality:.2f}")
    out.append(f"已等待 {age_days:.0f} 天未解决")
    return out


def stored_reasons(reasons: dict[str, Any] | None) -> list[str]:
    """The explanation of a stored agenda item, worded from its stored numbers (so items stored with an older
    wording read the same as new ones); the stored text when the numbers are missing."""
    r = reasons or {}
    try:
        return reason_lines(int(r["questions"]), int(r["askers"]), int(r["enterprises"]), int(r["recent_30d"]),
                            float(r["last_asked_days"]), float(r["age_days"]), float(r["typicality"]),
                            float(r["top_asker_share"]))
    except (KeyError, TypeError, ValueError):
        text = r.get("text") or []
        return [str(t) for t in text] if isinstance(text, list) else [str(text)]


__all__ = ["reason_lines", "stored_reasons"]
