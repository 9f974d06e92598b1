"""The ``assistant`` command group and what its commands share (the service, JSON output, the CLI actor)."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

import click

from ..config import Settings
from ..errors import EXIT_CODE, AppError

if TYPE_CHECKING:
    from ..service import AssistantService


def load_service(migrate: bool = True) -> AssistantService:
    from ..service import AssistantService

    svc = AssistantService(Settings.from_env())
    if migrate:
        svc.migrate()
    return svc


def echo_json(data: Any) -> None:
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


CLI_ACTOR_NAME = "cli"


def cli_actor() -> Any:
    """Commands run by the bureau's IT staff on the server act as the city bureau's administrator."""
    from ..domain import Actor

    return Actor(CLI_ACTOR_NAME, "admin")


@main.command(help="启动服务（内置 SQLite 与语料；向量在后台生成）")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=8000, type=int)
def serve(host: str, port: int) -> None:
    from ..app import create_app

    app = create_app()
    click.echo(f"环保咨询助手已启动：http://{host}:{port}/  （健康检查 /healthz）")
    app.run(host=host, port=port, threaded=True, use_reloader=False)
