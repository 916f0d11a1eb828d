"""`yiwang calendar …`: the working-day calendar's public holidays and make-up working days (调休)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer
from rich.table import Table

from yiwang.cli.context import ErrorReportingGroup, console, state
from yiwang.core import workdays
from yiwang.core.errors import InvalidInput
from yiwang.core.i18n import N_
from yiwang.core.identity import Actor

calendar_app = typer.Typer(
    cls=ErrorReportingGroup, help="工作日历 Public holidays and make-up working days.", no_args_is_help=True
)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput("calendar.bad_date", N_("Write the date as YYYY-MM-DD, not {value}"), value=text) from None


@calendar_app.command("add")
def add_day(
    ctx: typer.Context,
    day: Annotated[str, typer.Argument(help="日期 YYYY-MM-DD.")],
    kind: Annotated[workdays.DayKind, typer.Option(help="holiday 放假, or workday 调休上班 (a weekend day).")],
    name: Annotated[str, typer.Option(help="名称, e.g. 春节.")] = "",
) -> None:
    """登记 Enter a public holiday or a make-up working day (from the State Council's notice for the year)."""
    with state(ctx).database() as database, database.session() as session:
        row = workdays.set_day(session, Actor.operator(), _day(day), kind.value, name)
        console.print(f"[green]✓[/] {row.day.isoformat()} {row.kind} {row.name}")


@calendar_app.command("remove")
def remove_day(ctx: typer.Context, day: Annotated[str, typer.Argument(help="日期 YYYY-MM-DD.")]) -> None:
    """移除 Make a day an ordinary day again."""
    with state(ctx).database() as database, database.session() as session:
        workdays.remove_day(session, Actor.operator(), _day(day))
    console.print(f"[green]✓[/] {day}")


@calendar_app.command("list")
def list_days(
    ctx: typer.Context, year: Annotated[int | None, typer.Option(help="年份 Year (default: the years held).")] = None
) -> None:
    """列出 The holidays and make-up working days of a year, or which years the calendar holds."""
    with state(ctx).database() as database, database.read_session() as session:
        if year is None:
            held = list(workdays.years(session))
            console.print(f"{held[0]}–{held[-1]}" if held else "—")
            return
        table = Table("日期 day", "类型 kind", "名称 name", "来源 source")
        for row in workdays.days_of_year(session, year):
            table.add_row(row.day.isoformat(), row.kind, row.name, row.source)
        console.print(table)
