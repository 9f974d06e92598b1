"""Commands of the bureau's IT staff: staff accounts, the WeChat account, backups."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from ..errors import EXIT_CODE
from .base import echo_json, load_service, main


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
    from ..auth import create_user
    from ..errors import AuthError

    if sys.stdin.isatty():
        password = click.prompt("密码", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\n")
    svc = load_service()
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
    from ..channels.wechat.accounts import ConfigError
    from ..channels.wechat.service import WechatChannel

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
    from ..channels.wechat.accounts import ConfigError
    from ..channels.wechat.menu import load_menu
    from ..channels.wechat.protocol import OutboundError

    svc = load_service(migrate=False)
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
        echo_json(menu)


@wechat.command("deliver", help="发送待发送的微信消息（工作人员答复、超时后补发的回答）")
@click.option("--limit", default=200, show_default=True, type=int)
def wechat_deliver(limit: int) -> None:
    svc = load_service()
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
    svc = load_service()
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
    from ..errors import BackupError
    from ..ops.backup import create_backup

    svc = load_service(migrate=False)
    try:
        info = create_backup(svc.engine, svc.settings.corpus.corpus_dir / "curated", out)
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
    from ..errors import BackupError
    from ..ops.backup import restore_backup

    svc = load_service()
    try:
        info = restore_backup(svc.engine, file, svc.settings.corpus.corpus_dir / "curated", force=yes)
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
    click.echo(f"精选问答目录 {svc.settings.corpus.corpus_dir / 'curated'}：{curated}")
    click.echo("索引未重建：请运行 assistant index build，然后重启服务")


# -- 企业环保咨询日 ------------------------------------------------------------------------------------------------
