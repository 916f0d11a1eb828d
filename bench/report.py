"""Showing figures: a Rich table on the terminal, and dated rows appended to bench/RESULTS.md."""

from __future__ import annotations

import os
import platform
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.harness import Figure

RESULTS_FILE = Path(__file__).resolve().parent / "RESULTS.md"
RESULTS_COLUMNS = (
    "date",
    "benchmark",
    "figure",
    "db",
    "size",
    "workload",
    "yiwang",
    "reference",
    "ratio",
    "target",
    "met",
    "machine",
    "command",
)
RESULTS_HEADER = f"""# Benchmark results

Rows are appended by `python -m bench` (never by `--size tiny` or `--no-record`), one per figure: yiwang's rate and
the reference's rate measured side by side in the same run, and their ratio. bench/README.md explains each figure.

| {" | ".join(RESULTS_COLUMNS)} |
|{"---|" * len(RESULTS_COLUMNS)}
"""
MET_LABELS = {True: "yes", False: "NO", None: "n/a"}
MET_STYLES = {True: "green", False: "bold red", None: "dim"}


@dataclass(frozen=True)
class Machine:
    """The machine a run measured, as written next to its figures."""

    cores: int
    ram_gib: float
    load: float
    python: str
    sqlite: str
    cryptography: str
    postgresql: str | None

    def describe(self) -> str:
        parts = [
            f"{self.cores} cores",
            f"{self.ram_gib:.0f} GiB RAM",
            f"load {self.load:.1f}",
            f"Python {self.python}",
            f"SQLite {self.sqlite}",
            f"cryptography {self.cryptography}",
        ]
        if self.postgresql:
            parts.append(f"PostgreSQL {self.postgresql}")
        return ", ".join(parts)


def this_machine(postgresql: str | None, load: float) -> Machine:
    """This machine; `load` is the 1-minute load average when the run began (other work skews figures)."""
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return Machine(
        os.cpu_count() or 1,
        ram,
        load,
        platform.python_version(),
        sqlite3.sqlite_version,
        version("cryptography"),
        postgresql,
    )


def load_average() -> float:
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


def _value(figure: Figure, value: float) -> str:
    return f"{value:,.0f} {figure.unit}"


def show(console: Console, figures: Sequence[Figure], machine: Machine) -> None:
    table = Table(title="yiwang vs reference, side by side", caption=machine.describe())
    for column in ("benchmark", "figure", "db", "workload", "yiwang", "reference", "ratio", "target", "met"):
        table.add_column(column, justify="right" if column in ("yiwang", "ratio") else "left")
    for f in figures:
        met = f"[{MET_STYLES[f.met]}]{MET_LABELS[f.met]}[/]"
        table.add_row(
            f.benchmark,
            f.name,
            f.database,
            f.workload,
            _value(f, f.yiwang),
            f"{_value(f, f.reference)} [dim]({f.reference_label})[/dim]",
            f"{f.ratio:.2f}",
            f.target.describe(),
            met,
        )
    console.print(table)


def results_rows(figures: Sequence[Figure], machine: Machine, command: str, when: datetime) -> list[str]:
    """One Markdown table row per figure."""
    rows = []
    for f in figures:
        cells = (
            when.strftime("%Y-%m-%d"),
            f.benchmark,
            f.name,
            f.database,
            f.size,
            f.workload,
            _value(f, f.yiwang),
            f"{_value(f, f.reference)} ({f.reference_label})",
            f"{f.ratio:.2f}",
            f.target.describe(),
            MET_LABELS[f.met],
            machine.describe(),
            f"`{command}`",
        )
        rows.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return rows


def record(figures: Sequence[Figure], machine: Machine, command: str, path: Path = RESULTS_FILE) -> None:
    """Append one dated row per figure, creating the file with its header the first time."""
    text = path.read_text(encoding="utf-8") if path.exists() else RESULTS_HEADER
    if not text.endswith("\n"):
        text += "\n"
    rows = results_rows(figures, machine, command, datetime.now(UTC))
    path.write_text(text + "\n".join(rows) + "\n", encoding="utf-8")
