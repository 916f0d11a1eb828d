"""The `yiwang` command: set up, serve and run the platform (Typer + Rich)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from yiwang.cli import accounts as accounts_cli
from yiwang.cli import audit as audit_cli
from yiwang.cli import calendar as calendar_cli
from yiwang.cli import catalog as catalog_cli
from yiwang.cli import sharing as sharing_cli
from yiwang.cli.context import ErrorReportingGroup, console, set_data_dir, state
from yiwang.core import installation, migrate
from yiwang.core.settings import Settings
from yiwang.demo.accounts import ACCOUNTS, DEMO_PASSWORD

app = typer.Typer(
    cls=ErrorReportingGroup,
    help="一网 yiwang: 数字政府数据底座 — the data foundation of digital government.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(accounts_cli.user_app, name="user")
app.add_typer(accounts_cli.department_app, name="department")
app.add_typer(accounts_cli.token_app, name="token")
app.add_typer(audit_cli.app, name="audit")
app.add_typer(catalog_cli.dataset_app, name="dataset")
app.add_typer(sharing_cli.sharing_app, name="sharing")
app.add_typer(calendar_cli.calendar_app, name="calendar")
app.command(name="ingest")(catalog_cli.ingest)


class DemoSize(StrEnum):
    SMALL = "small"
    MEDIUM = "medium"
    LARGE = "large"


DataDirOption = Annotated[
    Path | None, typer.Option("--data-dir", help="数据目录 Data directory (overrides YIWANG_DATA_DIR).")
]


@app.callback()
def main(ctx: typer.Context, data_dir: DataDirOption = None) -> None:
    """一网 yiwang."""
    set_data_dir(ctx, data_dir)


@app.command()
def init(ctx: typer.Context) -> None:
    """初始化 Create the data directory, its secret key and the database schema."""
    settings = state(ctx).settings()
    installation.initialise(settings).dispose()
    console.print(f"[green]✓[/] 已初始化 initialised [bold]{settings.data_dir.resolve()}[/]")
    console.print("下一步 Next: yiwang user add admin --role admin --password …")


@app.command(name="migrate")
def migrate_command(ctx: typer.Context) -> None:
    """迁移 Upgrade the database schema to this version of yiwang."""
    settings = state(ctx).settings()
    installation.check_data_dir(settings)
    database = installation.database_for(settings)
    try:
        before = migrate.current_revision(database)
        migrate.upgrade(database)
        after = migrate.current_revision(database)
    finally:
        database.dispose()
    console.print(f"[green]✓[/] 数据库结构 schema: {before or '∅'} → {after}")


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="监听地址 Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="端口 Port.", min=1, max=65535)] = None,
) -> None:
    """启动服务 Serve the web portal and the API."""
    settings = state(ctx).settings()
    installation.open_installation(settings).dispose()  # fail here, clearly, before the server starts
    _serve(settings.model_copy(update={k: v for k, v in {"host": host, "port": port}.items() if v is not None}))


def _serve(settings: Settings) -> None:
    import uvicorn

    from yiwang.web.app import create_app
    from yiwang.web.logs import server_logging

    console.print(
        f"一网 yiwang → [bold link=http://{settings.host}:{settings.port}/]http://{settings.host}:{settings.port}/[/]"
    )
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level="info",
        log_config=server_logging(),
        # the client's address (sign-in limits, logs) comes from X-Forwarded-For only when a trusted proxy sent it
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=settings.trusted_proxies or None,
        server_header=False,
    )


@app.command()
def demo(
    ctx: typer.Context,
    seed: Annotated[int, typer.Option(help="随机种子 Seed: the same seed gives the same data.")] = 1,
    size: Annotated[
        DemoSize, typer.Option(help="规模 Size: small (tests), medium, large (benchmarks).")
    ] = DemoSize.SMALL,
    serve_after: Annotated[bool, typer.Option("--serve/--no-serve", help="加载后启动服务 Serve when loaded.")] = True,
    host: Annotated[str | None, typer.Option(help="监听地址 Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="端口 Port.", min=1, max=65535)] = None,
    reset: Annotated[bool, typer.Option(help="清空之前的演示数据 Empty an earlier demo directory first.")] = False,
) -> None:
    """演示 Load deterministic demo data (a Hainan-like province) and serve it."""
    from yiwang.demo.load import load_demo

    settings = state(ctx).settings()
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("生成演示数据 generating", total=None)

        def progress(name: str, done: int, total: int) -> None:
            bar.update(task, description=f"生成 generating {name}", completed=done, total=total)

        summary = load_demo(settings, seed, size.value, reset=reset, progress=progress)
    verb = "沿用已有演示数据 reusing the demo in" if summary.reused else "演示数据已载入 demo loaded into"
    console.print(f"[green]✓[/] {verb} [bold]{summary.data_dir.resolve()}[/] (seed {seed}, size {size.value})")
    for path in summary.sources:
        console.print(f"  · {path.name}")
    table = Table(title=f"演示账号 Demo accounts — 密码 password: {DEMO_PASSWORD}")
    for column in ("用户名 username", "角色 role", "部门 department", "说明 who"):
        table.add_column(column)
    for account in ACCOUNTS:
        table.add_row(account.username, ", ".join(account.roles), account.department or "—", account.display_name)
    console.print(table)
    if serve_after:
        _serve(settings.model_copy(update={k: v for k, v in {"host": host, "port": port}.items() if v is not None}))


def run() -> None:
    """Console-script entry point."""
    app()
