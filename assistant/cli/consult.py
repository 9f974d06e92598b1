"""The consultation day from the command line: agenda build/show/freeze/export, schedule, invite, follow-up."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click

from .base import cli_actor, echo_json, load_service, main

F = TypeVar("F", bound=Any)


@contextmanager
def _existing_day(month: str, district: str) -> Iterator[tuple[Any, Any]]:
    """A session and the organiser's day of ``month``; a clear error when it has not been scheduled."""
    from ..consult.schedule import CITY, get_day
    from ..errors import WorkflowError

    with load_service().Session() as s:
        day = get_day(s, month, district or CITY)
        if day is None:
            raise WorkflowError("not_found", f"{district or CITY} {month} 尚未安排咨询日")
        yield s, day


def _print_agenda(data: dict[str, Any]) -> None:
    from ..consult.schedule import DAY_STATUSES

    click.echo(f"{data['organiser']}企业环保咨询日 {data['date']} {data['time']}  地点：{data['place']}  "
               f"状态：{DAY_STATUSES.get(data['status'], data['status'])}")
    if data.get("moved_reason"):
        click.echo(f"  （{data['moved_reason']}）")
    if data.get("candidates") is not None:
        click.echo(f"  候选问题 {data['candidates']} 个；{'议程已更新' if data['changed'] else '议程未变化'}")
    for g in data["groups"]:
        click.echo(f"\n【{g['topic']}】牵头：{g['lead_unit'] or '待定'}")
        for it in (i for i in data["items"] if i["queue_item_id"] in g["items"]):
            click.echo(f"  {it['position']:>2}. #{it['queue_item_id']} {it['title'][:60]}  （得分 {it['score']:.2f}）")
            for r in it["reasons"]:
                click.echo(f"        · {r}")


@main.group(help="企业环保咨询日议程：从问题队列生成、冻结、导出")
def agenda() -> None:
    pass


def _one_day(fn: F) -> F:
    """The options that name one consultation day: --month and --district."""
    fn = click.option("--district", default="", help="区县/功能区（不填为市本级，即市局）")(fn)
    return click.option("--month", required=True, help="月份，如 2026-12")(fn)


@agenda.command("build", help="从问题队列生成（或刷新）某月咨询日议程；已冻结的议程不会改变")
@_one_day
@click.option("--size", default=10, show_default=True, type=int, help="议题数量")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出议题、提问人数与排序理由")
def agenda_build(month: str, district: str, size: int, as_json: bool) -> None:
    from ..consult import agenda as ag
    from ..consult.schedule import CITY, ensure_day

    svc = load_service()
    try:
        svc.load_indexes(background=False, build_vectors=False)
    except Exception:  # no index yet: topics stay unclassified
        pass
    with svc.Session() as s:
        day = ensure_day(s, svc.settings, month, district or CITY, cli_actor())
        res = ag.build(s, day, svc.indexes, size=size, actor=cli_actor())
        data = ag.as_json(day, res)
        s.commit()
    echo_json(data) if as_json else _print_agenda(data)


@agenda.command("show", help="显示某月咨询日议程")
@_one_day
@click.option("--json", "as_json", is_flag=True)
def agenda_show(month: str, district: str, as_json: bool) -> None:
    from ..consult import agenda as ag

    with _existing_day(month, district) as (s, day):
        data = ag.as_json(day)
    echo_json(data) if as_json else _print_agenda(data)


@agenda.command("freeze", help="冻结议程（可重复执行，不会改变已冻结的议程）")
@_one_day
def agenda_freeze(month: str, district: str) -> None:
    from ..consult import agenda as ag
    from ..consult.people import registered_items

    with _existing_day(month, district) as (s, day):
        changed = ag.freeze(s, cli_actor(), day)
        registered_items(s, day)
        s.commit()
    click.echo("议程已冻结" if changed else "议程此前已冻结，未作改变")


@agenda.command("export", help="导出议程或咨询日记录：DOCX / XLSX")
@_one_day
@click.option("--what", type=click.Choice(["agenda", "record", "followup"]), default="agenda", show_default=True)
@click.option("--format", "fmt", type=click.Choice(["docx", "xlsx"]), default="docx", show_default=True)
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
def agenda_export(month: str, district: str, what: str, fmt: str, out: Path) -> None:
    from ..consult import exports

    with _existing_day(month, district) as (s, day):
        data = exports.export(s, day, what, fmt)
    out.write_bytes(data)
    click.echo(f"已导出：{out}（{len(data)} 字节）")


@main.group(help="企业环保咨询日：安排日期地点、邀请、跟踪问效")
def consult() -> None:
    pass


@consult.command("schedule", help="安排（或调整）某月咨询日：默认每月10日，遇周末、节假日顺延")
@_one_day
@click.option("--date", "new_date", default="", help="改到本月的某一天，如 2026-12-11")
@click.option("--reason", default="", help="改期原因")
@click.option("--place", default=None)
@click.option("--time", "time_text", default=None, help="时间段，如 9:00—11:30")
@click.option("--topics", default=None, help="主题，用顿号或逗号分隔")
def consult_schedule(month: str, district: str, new_date: str, reason: str, place: str | None,
                     time_text: str | None, topics: str | None) -> None:
    from datetime import date

    from ..consult.schedule import CITY, day_snapshot, ensure_day, update_day
    from ..errors import WorkflowError

    svc = load_service()
    with svc.Session() as s:
        day = ensure_day(s, svc.settings, month, district or CITY, cli_actor())
        d = None
        if new_date:
            try:
                d = date.fromisoformat(new_date)
            except ValueError as e:
                raise WorkflowError("invalid_date", "日期格式应为 YYYY-MM-DD") from e
        tl = None if topics is None else [t for t in topics.replace("，", "、").replace(",", "、").split("、")]
        if d or place is not None or time_text is not None or tl is not None:
            update_day(s, cli_actor(), day, new_date=d, place=place, time_text=time_text, topics=tl, reason=reason)
        snap = day_snapshot(day)
        s.commit()
    echo_json(snap)


@consult.command("invite", help="向已冻结议程中各问题的提问企业发送邀请（微信/网页消息；其余列入电话通知名单）")
@_one_day
@click.option("--json", "as_json", is_flag=True)
def consult_invite(month: str, district: str, as_json: bool) -> None:
    from ..consult.people import invite

    with _existing_day(month, district) as (s, day):
        rep = invite(s, cli_actor(), day)
        s.commit()
    data = {"participants": rep.participants, "messages": rep.messages, "already_invited": rep.already,
            "phone_list": rep.phone_list}
    if as_json:
        echo_json(data)
    else:
        click.echo(f"涉及企业/提问人 {rep.participants} 个；本次发出消息 {rep.messages} 条；此前已邀请 {rep.already} 个")
        for p in rep.phone_list:
            click.echo(f"  电话通知：{p['company'] or '（未留企业名）'} {p['contact']} {p['phone']}")


@consult.command("followup", help="发出到期的跟踪问效回访（咨询日后第 N 天，默认30天；可重复执行，不会重复发送）")
@click.option("--today", default="", help="按这一天计算是否到期（默认今天），如 2027-01-10")
@click.option("--json", "as_json", is_flag=True)
def consult_followup(today: str, as_json: bool) -> None:
    from datetime import date

    from ..consult.outcomes import issue_followups

    svc = load_service()
    issued = issue_followups(svc.session, svc.settings, today=date.fromisoformat(today) if today else None)
    by_channel: dict[str, int] = {}
    for f in issued:
        by_channel[f.channel] = by_channel.get(f.channel, 0) + 1
    if as_json:
        echo_json({"issued": len(issued), "by_channel": by_channel})
    else:
        click.echo(f"本次发出回访 {len(issued)} 份：" + "，".join(f"{k} {v}" for k, v in sorted(by_channel.items())))
