"""What every benchmark shares: run options, the figures it reports, and timing helpers."""

from __future__ import annotations

import importlib
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol, TypeVar, cast

from rich.console import Console

from bench import BENCHMARKS

Size = Literal["tiny", "small", "full"]
DatabaseKind = Literal["sqlite", "postgresql"]
T = TypeVar("T")
SIZES: tuple[Size, ...] = ("tiny", "small", "full")
DATABASE_KINDS: tuple[DatabaseKind, ...] = ("sqlite", "postgresql")


@dataclass(frozen=True)
class Options:
    """How to run: at which size, on which databases, where scratch files go, whether to profile."""

    size: Size
    databases: tuple[DatabaseKind, ...]
    postgres_url: str | None
    scratch: Path
    console: Console
    profile: bool = False


@dataclass(frozen=True)
class Target:
    """What a figure must reach: a ratio to the reference (at least for rates, at most for latencies), or a
    yiwang rate that only the full size can show."""

    min_ratio: float | None = None
    max_ratio: float | None = None
    min_rate: float | None = None
    rate_size: Size = "full"

    def describe(self) -> str:
        if self.min_ratio is not None:
            return f"ratio ≥ {self.min_ratio:.2f}"
        if self.max_ratio is not None:
            return f"ratio ≤ {self.max_ratio:.2f}"
        if self.min_rate is not None:
            return f"≥ {self.min_rate:,.0f}/s at {self.rate_size}"
        return "—"

    def is_met(self, figure: Figure) -> bool | None:
        """Met, missed, or None when there is no target or this run cannot tell (a rate at a smaller size)."""
        if self.min_ratio is not None:
            return figure.ratio >= self.min_ratio
        if self.max_ratio is not None:
            return figure.ratio <= self.max_ratio
        if self.min_rate is not None:
            return figure.yiwang >= self.min_rate if figure.size == self.rate_size else None
        return None


@dataclass(frozen=True)
class Figure:
    """One measured comparison: yiwang's rate and the reference's rate on the same workload and database."""

    benchmark: str
    name: str
    database: DatabaseKind
    size: Size
    workload: str
    unit: str
    yiwang: float
    reference: float
    reference_label: str
    target: Target = field(default_factory=Target)

    @property
    def ratio(self) -> float:
        """yiwang's figure divided by the reference's (for rates, higher is better)."""
        return self.yiwang / self.reference if self.reference else float("nan")

    @property
    def met(self) -> bool | None:
        return self.target.is_met(self)


class Benchmark(Protocol):
    DESCRIPTION: str

    def run(self, options: Options) -> list[Figure]: ...


def load(name: str) -> Benchmark:
    """The benchmark module registered under `name`."""
    return cast(Benchmark, importlib.import_module(BENCHMARKS[name]))


@dataclass(frozen=True)
class Timed:
    seconds: float
    count: int

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds > 0 else float("inf")


def timed(count: int, work: Callable[[], object]) -> Timed:
    """Run `work` once and time it; `count` is how many items it handled."""
    start = time.perf_counter()
    work()
    return Timed(time.perf_counter() - start, count)


def split_round_robin(items: Sequence[T], parts: int) -> list[list[T]]:
    """`items` dealt into `parts` lists, as evenly as possible."""
    return [list(items[i::parts]) for i in range(parts)]


def chunked(items: range, parts: int) -> list[range]:
    """`items` cut into `parts` consecutive ranges of nearly equal length."""
    step = -(-len(items) // max(1, parts))
    return [items[i : i + step] for i in range(0, len(items), step)]


def per_database(options: Options, name: str, run_one: Callable[[DatabaseKind, Path], list[Figure]]) -> list[Figure]:
    """`run_one(kind, work)` for each database asked for, in a scratch directory of its own removed afterwards."""
    figures: list[Figure] = []
    for kind in options.databases:
        work = options.scratch / f"{name}-{kind}"
        work.mkdir(parents=True)
        try:
            figures += run_one(kind, work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return figures
