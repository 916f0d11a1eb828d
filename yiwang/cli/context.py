"""What every sub-command shares: settings, the console, opening the installation, and error output."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from typer.core import TyperGroup

from yiwang.core.db import Database
from yiwang.core.errors import DomainError
from yiwang.core.i18n import translator
from yiwang.core.installation import open_installation
from yiwang.core.settings import Settings, load_settings

# Exit codes: 1 = a check found a problem (audit verify); 2 = the request cannot be carried out as given.
EXIT_CHECK_FAILED = 1
EXIT_REFUSED = 2

console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)


def bilingual(message: str) -> str:
    """A message in Chinese first and English alongside, as every CLI line the user must read."""
    chinese = translator("zh_CN")(message)
    return chinese if chinese == message else f"{chinese} ({message})"


def report_error(error: DomainError) -> None:
    zh = error.render(translator("zh_CN"))
    en = error.render()
    text = zh if zh == en else f"{zh}\n  {en}"
    err_console.print(f"[bold red]错误 Error[/] [dim]\\[{error.code}][/]: {text}", highlight=False)


class ErrorReportingGroup(TyperGroup):
    """Turns domain errors raised by any sub-command into a clear two-language message and exit code 2."""

    def invoke(self, ctx: Any) -> Any:  # typer vendors click; its Context type is private
        try:
            return super().invoke(ctx)
        except DomainError as error:
            report_error(error)
            raise typer.Exit(EXIT_REFUSED) from None


@dataclass
class CliState:
    overrides: dict[str, Any] = field(default_factory=dict)
    _settings: Settings | None = None

    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(**self.overrides)
        return self._settings

    @contextmanager
    def database(self) -> Iterator[Database]:
        database = open_installation(self.settings())
        try:
            yield database
        finally:
            database.dispose()


def state(ctx: typer.Context) -> CliState:
    root = ctx.find_root()
    if not isinstance(root.obj, CliState):
        root.obj = CliState()
    return root.obj


def set_data_dir(ctx: typer.Context, data_dir: Path | None) -> None:
    if data_dir is not None:
        state(ctx).overrides["data_dir"] = data_dir
