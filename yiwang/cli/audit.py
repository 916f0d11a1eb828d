"""`yiwang audit …`: check the tamper-evident audit chain."""

from __future__ import annotations

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from yiwang.cli.context import EXIT_CHECK_FAILED, ErrorReportingGroup, bilingual, console, err_console, state
from yiwang.core import audit
from yiwang.core.i18n import N_, translator
from yiwang.core.identity import Actor

app = typer.Typer(cls=ErrorReportingGroup, help="审计 The audit chain.", no_args_is_help=True)


@app.command()
def verify(ctx: typer.Context) -> None:
    """校验审计链 Recompute every hash; exit 1 and name the first bad entry if anything was altered."""
    with (
        state(ctx).database() as database,
        database.read_session() as session,
        Progress(
            TextColumn("校验 verifying"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as bar,
    ):
        task = bar.add_task("verify", total=None)
        report = audit.verify(
            session, Actor.operator(), progress=lambda done, total: bar.update(task, completed=done, total=total)
        )
    if report.ok:
        console.print(f"[green]✓[/] 审计链完整 audit chain intact: {report.checked} 条 entries")
        return
    zh, en = report.message(translator("zh_CN")), report.message()
    err_console.print(f"[bold red]✗ 审计链已被篡改 audit chain broken[/] [dim]\\[{report.problem}][/]: {zh}\n  {en}")
    err_console.print(
        f"  首个异常条目 first bad entry: {report.first_bad_seq}; "
        f"之前 {report.checked} 条完好 entries before it are intact"
    )
    raise typer.Exit(EXIT_CHECK_FAILED)


@app.command()
def head(ctx: typer.Context) -> None:
    """链头 Print the chain head (sequence and hash) to record outside the platform."""
    with state(ctx).database() as database, database.read_session() as session:
        report = audit.verify(session, Actor.operator())
    if not report.ok:
        err_console.print(bilingual(N_("The audit chain is broken: run `yiwang audit verify`")))
        raise typer.Exit(EXIT_CHECK_FAILED)
    console.print(f"{report.head_seq} {report.head_hash}")
