"""``assistant …`` commands: ingest, index, ask, eval, serve, db, user, wechat, backup, agenda, consult."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from .config import Settings
from .errors import EXIT_CODE, AppError, QuestionError


def _service(migrate: bool = True) -> Any:
    from .service import AssistantService

    svc = AssistantService(Settings.from_env())
    if migrate:
        svc.migrate()
    return svc


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=1))


class _Main(click.Group):
    """Every AppError a command lets through becomes its Chinese message and exit code 2 (no traceback)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except AppError as e:
            click.echo(f"错误（{e.code}）：{e.message}", err=True)
            sys.exit(EXIT_CODE)


@click.group(cls=_Main, help="环保咨询助手 — 舟山市生态环境局企业环保咨询助手")
def main() -> None:
    pass


@main.group(help="数据库管理")
def db() -> None:
    pass


@db.command("upgrade", help="把数据库迁移到最新结构（可重复执行）")
def db_upgrade() -> None:
    _service()
    click.echo("数据库已是最新结构")


@main.command(help="导入文件或目录（法规 Markdown、PDF、部长信箱 JSONL、精选问答 YAML），可重复执行")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--bundled", is_flag=True, help="导入随服务发布的全部语料")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出结果")
def ingest(paths: tuple[Path, ...], bundled: bool, as_json: bool) -> None:
    from .service import bundled_sources

    svc = _service()
    targets = list(paths) + (bundled_sources(svc.settings) if bundled else [])
    if not targets:
        raise click.UsageError("请给出要导入的路径，或使用 --bundled")
    report = svc.ingest(targets, progress=not as_json and sys.stderr.isatty())
    if as_json:
        _echo_json(report.as_dict())
    else:
        d = report.as_dict()
        click.echo(f"文档：新增 {report.added}，更新 {report.updated}，未变 {report.unchanged}；"
                   f"写入条文/段落 {report.passages}；精选问答：新增 {report.curated_added}，"
                   f"更新 {report.curated_updated}，未变 {report.curated_unchanged}")
        for e in d["errors"]:  # type: ignore[union-attr]
            where = f"{e['file']}:{e['line']}" if e["line"] else e["file"]
            click.echo(f"  错误 [{e['code']}] {where}: {e['message']}", err=True)
        if report.status_changed:
            click.echo("以下文件效力状态发生变化，引用它们的精选问答需要复核：" + "、".join(report.status_changed))
    if report.errors and not (report.added or report.updated or report.unchanged or report.curated_added
                              or report.curated_updated or report.curated_unchanged):
        sys.exit(1)


@main.group(help="索引管理")
def index() -> None:
    pass


@index.command("build", help="从数据库重建 BM25 与向量索引（向量有缓存，只对新文本编码）")
@click.option("--no-vectors", is_flag=True, help="只建 BM25 索引")
@click.option("--json", "as_json", is_flag=True)
def index_build(no_vectors: bool, as_json: bool) -> None:
    svc = _service()
    svc.ensure_corpus()
    info = svc.build_indexes(with_vectors=not no_vectors, progress=not as_json)
    if as_json:
        _echo_json(info)
    else:
        click.echo(f"索引完成：条文/段落 {info['passages']}，精选问答行 {info['curated_rows']}，"
                   f"向量 {'有' if info['vectors'] else '无'}（{info['encoder'] or '仅 BM25'}），用时 {info['seconds']} 秒")


@main.command(help="提问，例如：assistant ask \"排污证能用几年？\"")
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
@click.option("--include-repealed", is_flag=True, default=None, help="检索结果包含已废止文件（会标注）")
@click.option("--kind", "kinds", multiple=True, help="只检索某类文件，如 法律、地方性法规（可多次）")
def ask(question: str, as_json: bool, include_repealed: bool | None, kinds: tuple[str, ...]) -> None:
    svc = _service()
    svc.ensure_corpus()
    svc.load_indexes(background=False, build_vectors=False)
    try:
        out = svc.ask(question, channel="cli", kinds=list(kinds) or None, include_repealed=include_repealed)
    except QuestionError as exc:
        if as_json:
            _echo_json({"error_code": exc.code, "message": exc.message})
        else:
            click.echo(exc.message, err=True)
        sys.exit(EXIT_CODE)
    if as_json:
        _echo_json(out.answer.as_dict())
    else:
        click.echo(out.answer.as_text())
        if svc.indexes.vectors.state != "ready":
            click.echo("（当前仅使用关键词检索；运行 assistant index build 生成向量后启用混合检索）", err=True)


@main.command("eval", help="按 ../shared/eval 协议评测：BM25、向量、融合")
@click.option("--corpus", "corpus", required=True, help="regulations（已导入的法规库）或评测语料 JSONL 路径")
@click.option("--queries", "queries", required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--split", type=click.Choice(["dev", "test", "all"]), default=None)
@click.option("--fusion", type=click.Choice(["zscore", "rrf"]), default=None, help="覆盖配置中的融合方法")
@click.option("--token-field", type=click.Choice(["words", "bigrams", "both"]), default=None)
@click.option("--no-vectors", is_flag=True, help="只评测 BM25")
@click.option("--no-ranker", is_flag=True, help="不评测排序模型（ranker 信号）")
@click.option("--json", "as_json", is_flag=True)
def eval_cmd(corpus: str, queries: Path, split: str | None, fusion: str | None, token_field: str | None,
             no_vectors: bool, no_ranker: bool, as_json: bool) -> None:
    from .evaluation import build_eval_index, corpus_items_from_jsonl, eval_memory, load_queries, run_eval
    from .search.corpus import curated_items, passage_items, regulation_items
    from .search.lifecycle import fusion_params
    from .search.ranker import RankerUnavailable, load_ranking

    svc = _service()
    s = svc.settings
    tf = token_field or s.token_field
    if corpus == "regulations":
        svc.ensure_corpus()
        with svc.Session() as sess:
            items = regulation_items(sess)
    else:
        p = Path(corpus)
        if not p.exists():
            raise click.BadParameter(f"找不到语料文件：{corpus}", param_hint="--corpus")
        items = corpus_items_from_jsonl(p)
    enc = None if no_vectors else svc.indexes.encoders.encoder
    enc2 = svc.indexes.encoders.encoder2 if (enc is not None and not no_ranker) else None
    idx = build_eval_index(items, enc, svc.indexes.encoders.cache() if enc else None, tf, s.bm25_engine, progress=not as_json,
                           encoder2=enc2)
    params = fusion_params(s, fusion)
    # --split dev|test selects those rows; --split all selects rows without a split field; no --split: every row
    qs = load_queries(queries, split)
    ranking = memory = None
    if enc is not None and not no_ranker:
        try:
            ranking = load_ranking(enc, fusion_params(s), s.ranker_file, enc2)
        except RankerUnavailable as exc:
            click.echo(f"排序模型不可用，只评测融合：{exc}", err=True)
        if ranking is not None:
            with svc.Session() as sess:
                cur, replies = curated_items(sess), passage_items(sess, ["官方答复"])
            # the memory of answered questions never holds a test-split record; each query leaves its own group out
            memory = eval_memory(idx, enc, svc.indexes.encoders.cache(), cur, replies, queries.parent)
    result = run_eval(idx, qs, enc, tf, params, ranking, memory)
    if as_json:
        _echo_json(result)
    else:
        for sp, res in result.items():
            for sig, m in res.items():
                click.echo(f"{sp:5s} {sig:6s} " + "  ".join(f"{k}={v}" for k, v in m.items()))


@main.group(help="精选问答语料管理")
def corpus() -> None:
    pass


@corpus.command("check", help="检查精选问答：必填字段、引用是否存在且现行有效、重复问题、答案长度")
@click.option("--dir", "folder", type=click.Path(path_type=Path), default=None, help="精选问答目录（默认 corpus/curated）")
@click.option("--json", "as_json", is_flag=True)
def corpus_check(folder: Path | None, as_json: bool) -> None:
    from .corpus.check import check_corpus

    svc = _service()
    svc.ensure_corpus()
    target = folder or (svc.settings.corpus_dir / "curated")
    if not target.is_dir():
        raise click.BadParameter(f"目录不存在：{target}", param_hint="--dir")
    with svc.Session() as s:
        rep = check_corpus(s, target)
    if as_json:
        _echo_json(rep.as_dict())
    else:
        click.echo(f"条目 {rep.entries}，引用 {rep.citations}，错误 {len(rep.errors)}，提示 {len(rep.warnings)}，"
                   f"待复核 {len(rep.review)}")
        for p in rep.errors:
            where = f"{p.file}:{p.line}" if p.line else p.file
            click.echo(f"  错误 [{p.code}] {p.entry} {where}: {p.message}", err=True)
        for p in rep.warnings[:50]:
            click.echo(f"  提示 [{p.code}] {p.entry}: {p.message}")
        for r in rep.review:
            click.echo(f"  待复核 {r['entry']}: {r['citation']} 于 {r['document_updated']} 更新（条目复核于 {r['reviewed']}）")
    if not rep.ok:
        sys.exit(1)


@main.group(help="工作人员账号管理")
def user() -> None:
    pass


@user.command("create", help="创建工作人员账号（密码从标准输入或提示读取）")
@click.option("--username", required=True)
@click.option("--role", required=True, type=click.Choice(["admin", "district", "expert", "viewer"]))
@click.option("--district", default="", help="辖区（区县工作人员必填）：定海区、普陀区、岱山县、嵊泗县、新城、普陀山-朱家尖、高新区")
@click.option("--unit", default="", help="所在处室/单位")
@click.option("--name", "display_name", default="", help="显示名")
def user_create(username: str, role: str, district: str, unit: str, display_name: str) -> None:
    from .auth import create_user
    from .errors import AuthError

    if sys.stdin.isatty():
        password = click.prompt("密码", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\n")
    svc = _service()
    with svc.Session() as s:
        try:
            u = create_user(s, username, password, role, district, unit, display_name)
            s.commit()
        except AuthError as exc:
            click.echo(f"{exc.message}（{exc.code}）", err=True)
            sys.exit(EXIT_CODE)
        click.echo(f"已创建账号 {u.username}（{role}{'，' + district if district else ''}）")


@main.group(help="微信公众号：菜单、待发送消息")
def wechat() -> None:
    pass


def _wechat_channel(svc: Any) -> Any:
    from .channels.wechat.accounts import ConfigError
    from .channels.wechat.service import WechatChannel

    try:
        return WechatChannel(svc, workers=1)
    except ConfigError as exc:
        raise click.UsageError(f"微信配置有误：{exc}") from None


@wechat.group("menu", help="自定义菜单")
def wechat_menu() -> None:
    pass


@wechat_menu.command("push", help="把 corpus/wechat_menu.json 推送到公众号（未开启 WECHAT_OUTBOUND 时只打印将发送的内容）")
@click.option("--account", default="default", show_default=True, help="公众号（WECHAT_ACCOUNTS 中的名称）")
@click.option("--file", "path", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="菜单定义 JSON（默认 corpus/wechat_menu.json）")
def wechat_menu_push(account: str, path: Path | None) -> None:
    from .channels.wechat.accounts import ConfigError
    from .channels.wechat.menu import load_menu
    from .channels.wechat.protocol import OutboundError

    svc = _service(migrate=False)
    ch = _wechat_channel(svc)
    acc = ch.accounts.get(account)
    if acc is None:
        raise click.UsageError(f"未配置公众号 {account}（设置 WECHAT_TOKEN 或 WECHAT_ACCOUNTS）")
    try:
        menu = load_menu(svc.settings, path)
    except (ConfigError, ValueError) as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    try:
        sent = ch.push_menu(acc, menu)
    except OutboundError as exc:
        click.echo(f"菜单推送失败：{exc}", err=True)
        sys.exit(1)
    if sent:
        click.echo(f"菜单已推送到公众号 {account}")
    else:
        click.echo(f"未开启微信接口（WECHAT_OUTBOUND=0 或缺少 AppID/AppSecret），将发送的菜单（公众号 {account}）：")
        _echo_json(menu)


@wechat.command("deliver", help="发送待发送的微信消息（工作人员答复、超时后补发的回答）")
@click.option("--limit", default=200, show_default=True, type=int)
def wechat_deliver(limit: int) -> None:
    svc = _service()
    counts = _wechat_channel(svc).deliver_pending(limit)
    names = {"sent": "已发送", "disabled": "接口未开启（已记录）", "pending": "稍后重试", "failed": "失败",
             "busy": "其他进程处理中"}
    if not counts:
        click.echo("没有待发送的微信消息")
        return
    click.echo("；".join(f"{names.get(k, k)} {v}" for k, v in sorted(counts.items())))
    if counts.get("failed"):
        sys.exit(1)


@wechat.command("recover", help="补发因进程中断而未送出的微信回答（建议每分钟由 cron 运行）")
@click.option("--older-than", default=120.0, show_default=True, type=float, help="消息处理超过该秒数仍未完成")
@click.option("--limit", default=200, show_default=True, type=int)
def wechat_recover(older_than: float, limit: int) -> None:
    svc = _service()
    svc.load_indexes(background=False, build_vectors=False)
    counts = _wechat_channel(svc).recover_deferred(older_than, limit)
    click.echo(f"补发已有回答 {counts['answered']}；重新回答 {counts['reanswered']}；"
               f"请用户重发 {counts['asked_to_resend']}；无需回答 {counts['skipped']}")


@main.group(help="备份与恢复（与数据库无关：SQLite 的备份可恢复到 PostgreSQL，反之亦然）")
def backup() -> None:
    pass


@backup.command("create", help="把全部数据表（JSON Lines）与 corpus/curated 写入一个 .tar.gz 备份")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="备份文件路径")
def backup_create(out: Path) -> None:
    from .errors import BackupError
    from .ops.backup import create_backup

    svc = _service(migrate=False)
    try:
        info = create_backup(svc.engine, svc.settings.corpus_dir / "curated", out)
    except BackupError as exc:
        click.echo(exc.message, err=True)
        sys.exit(EXIT_CODE)
    finally:
        svc.engine.dispose()
    click.echo(f"备份已写入 {info.path}（{info.bytes} 字节，Alembic {info.revision}，{info.created_at}）")
    click.echo("数据表：" + "，".join(f"{k} {v}" for k, v in info.counts.items()))
    click.echo(f"精选问答文件：{info.curated_files}")


@backup.command("restore", help="从备份恢复到当前 DATABASE_URL（结构版本必须一致；目标非空时需 --yes）")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="目标数据库或精选问答目录非空时，先清空再恢复")
def backup_restore(file: Path, yes: bool) -> None:
    from .errors import BackupError
    from .ops.backup import restore_backup

    svc = _service()
    try:
        info = restore_backup(svc.engine, file, svc.settings.corpus_dir / "curated", force=yes)
    except BackupError as exc:
        click.echo(exc.message, err=True)
        sys.exit(EXIT_CODE)
    finally:
        svc.engine.dispose()
    m = info.manifest
    click.echo(f"已恢复备份 {file}（创建于 {m.get('created_at')}，来源 {m.get('source_dialect')}，"
               f"程序版本 {m.get('app_version')}，Alembic {info.revision}）" + ("，已先清空目标数据库" if info.truncated else ""))
    click.echo("数据表：" + "，".join(f"{k} {v}" for k, v in info.counts.items()))
    curated = {"unchanged": "与备份一致，未改动", "written": "已写入",
               "replaced": f"已替换（原目录保存在 {info.curated_backup_dir}）"}[info.curated]
    click.echo(f"精选问答目录 {svc.settings.corpus_dir / 'curated'}：{curated}")
    click.echo("索引未重建：请运行 assistant index build，然后重启服务")


# -- 企业环保咨询日 ------------------------------------------------------------------------------------------------
CLI_ACTOR_NAME = "cli"


def _cli_actor() -> Any:
    """Commands run by the bureau's IT staff on the server act as the city bureau's administrator."""
    from .domain import Actor

    return Actor(CLI_ACTOR_NAME, "admin")


def _workflow(fn: Any) -> Any:
    """Kept as a marker of the commands that run a staff workflow; their WorkflowErrors are answered by the
    group (``_Main``): the Chinese message and exit code 2."""
    return fn


def _existing_day(session: Any, month: str, district: str) -> Any:
    """The organiser's day of ``month``; a clear error when it has not been scheduled."""
    from .consult.schedule import CITY, get_day
    from .errors import WorkflowError

    day = get_day(session, month, district or CITY)
    if day is None:
        raise WorkflowError("not_found", f"{district or CITY} {month} 尚未安排咨询日")
    return day


def _print_agenda(data: dict[str, Any]) -> None:
    from .consult.schedule import DAY_STATUSES

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


_month_opt = click.option("--month", required=True, help="月份，如 2026-12")
_district_opt = click.option("--district", default="", help="区县/功能区（不填为市本级，即市局）")


@agenda.command("build", help="从问题队列生成（或刷新）某月咨询日议程；已冻结的议程不会改变")
@_month_opt
@_district_opt
@click.option("--size", default=10, show_default=True, type=int, help="议题数量")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出议题、提问人数与排序理由")
@_workflow
def agenda_build(month: str, district: str, size: int, as_json: bool) -> None:
    from .consult import agenda as ag
    from .consult.schedule import CITY, ensure_day

    svc = _service()
    try:
        svc.load_indexes(background=False, build_vectors=False)
    except Exception:  # no index yet: topics stay unclassified
        pass
    with svc.Session() as s:
        day = ensure_day(s, svc.settings, month, district or CITY, _cli_actor())
        res = ag.build(s, day, svc.indexes, size=size, actor=_cli_actor())
        data = ag.as_json(day, res)
        s.commit()
    _echo_json(data) if as_json else _print_agenda(data)


@agenda.command("show", help="显示某月咨询日议程")
@_month_opt
@_district_opt
@click.option("--json", "as_json", is_flag=True)
@_workflow
def agenda_show(month: str, district: str, as_json: bool) -> None:
    from .consult import agenda as ag

    svc = _service()
    with svc.Session() as s:
        day = _existing_day(s, month, district)
        data = ag.as_json(day)
    _echo_json(data) if as_json else _print_agenda(data)


@agenda.command("freeze", help="冻结议程（可重复执行，不会改变已冻结的议程）")
@_month_opt
@_district_opt
@_workflow
def agenda_freeze(month: str, district: str) -> None:
    from .consult import agenda as ag
    from .consult.people import registered_items

    svc = _service()
    with svc.Session() as s:
        day = _existing_day(s, month, district)
        changed = ag.freeze(s, _cli_actor(), day)
        registered_items(s, day)
        s.commit()
    click.echo("议程已冻结" if changed else "议程此前已冻结，未作改变")


@agenda.command("export", help="导出议程或咨询日记录：DOCX / XLSX")
@_month_opt
@_district_opt
@click.option("--what", type=click.Choice(["agenda", "record", "followup"]), default="agenda", show_default=True)
@click.option("--format", "fmt", type=click.Choice(["docx", "xlsx"]), default="docx", show_default=True)
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@_workflow
def agenda_export(month: str, district: str, what: str, fmt: str, out: Path) -> None:
    from .consult import exports

    svc = _service()
    with svc.Session() as s:
        day = _existing_day(s, month, district)
        data = exports.export(s, day, what, fmt)
    out.write_bytes(data)
    click.echo(f"已导出：{out}（{len(data)} 字节）")


@main.group(help="企业环保咨询日：安排日期地点、邀请、跟踪问效")
def consult() -> None:
    pass


@consult.command("schedule", help="安排（或调整）某月咨询日：默认每月10日，遇周末、节假日顺延")
@_month_opt
@_district_opt
@click.option("--date", "new_date", default="", help="改到本月的某一天，如 2026-12-11")
@click.option("--reason", default="", help="改期原因")
@click.option("--place", default=None)
@click.option("--time", "time_text", default=None, help="时间段，如 9:00—11:30")
@click.option("--topics", default=None, help="主题，用顿号或逗号分隔")
@_workflow
def consult_schedule(month: str, district: str, new_date: str, reason: str, place: str | None,
                     time_text: str | None, topics: str | None) -> None:
    from datetime import date

    from .consult.schedule import CITY, day_snapshot, ensure_day, update_day
    from .errors import WorkflowError

    svc = _service()
    with svc.Session() as s:
        day = ensure_day(s, svc.settings, month, district or CITY, _cli_actor())
        d = None
        if new_date:
            try:
                d = date.fromisoformat(new_date)
            except ValueError as e:
                raise WorkflowError("invalid_date", "日期格式应为 YYYY-MM-DD") from e
        tl = None if topics is None else [t for t in topics.replace("，", "、").replace(",", "、").split("、")]
        if d or place is not None or time_text is not None or tl is not None:
            update_day(s, _cli_actor(), day, new_date=d, place=place, time_text=time_text, topics=tl, reason=reason)
        snap = day_snapshot(day)
        s.commit()
    _echo_json(snap)


@consult.command("invite", help="向已冻结议程中各问题的提问企业发送邀请（微信/网页消息；其余列入电话通知名单）")
@_month_opt
@_district_opt
@click.option("--json", "as_json", is_flag=True)
@_workflow
def consult_invite(month: str, district: str, as_json: bool) -> None:
    from .consult.people import invite

    svc = _service()
    with svc.Session() as s:
        day = _existing_day(s, month, district)
        rep = invite(s, _cli_actor(), day)
        s.commit()
    data = {"participants": rep.participants, "messages": rep.messages, "already_invited": rep.already,
            "phone_list": rep.phone_list}
    if as_json:
        _echo_json(data)
    else:
        click.echo(f"涉及企业/提问人 {rep.participants} 个；本次发出消息 {rep.messages} 条；此前已邀请 {rep.already} 个")
        for p in rep.phone_list:
            click.echo(f"  电话通知：{p['company'] or '（未留企业名）'} {p['contact']} {p['phone']}")


@consult.command("followup", help="发出到期的跟踪问效回访（咨询日后第 N 天，默认30天；可重复执行，不会重复发送）")
@click.option("--today", default="", help="按这一天计算是否到期（默认今天），如 2027-01-10")
@click.option("--json", "as_json", is_flag=True)
@_workflow
def consult_followup(today: str, as_json: bool) -> None:
    from datetime import date

    from .consult.outcomes import issue_followups

    svc = _service()
    issued = issue_followups(svc.session, svc.settings, today=date.fromisoformat(today) if today else None)
    by_channel: dict[str, int] = {}
    for f in issued:
        by_channel[f.channel] = by_channel.get(f.channel, 0) + 1
    if as_json:
        _echo_json({"issued": len(issued), "by_channel": by_channel})
    else:
        click.echo(f"本次发出回访 {len(issued)} 份：" + "，".join(f"{k} {v}" for k, v in sorted(by_channel.items())))


@main.command(help="启动服务（内置 SQLite 与语料；向量在后台生成）")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=8000, type=int)
def serve(host: str, port: int) -> None:
    from .app import create_app

    app = create_app()
    click.echo(f"环保咨询助手已启动：http://{host}:{port}/  （健康检查 /healthz）")
    app.run(host=host, port=port, threaded=True, use_reloader=False)


if __name__ == "__main__":
    main()
