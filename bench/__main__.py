"""`python -m bench [NAME ...] [--size tiny|small|full] [--db sqlite|postgresql] [--no-record] [--profile]`."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from bench import BENCHMARKS
from bench.databases import server_version
from bench.harness import DATABASE_KINDS, SIZES, DatabaseKind, Figure, Options, Size, load
from bench.report import load_average, record, show, this_machine

POSTGRES_ENV = "YIWANG_BENCH_POSTGRES_URL"
WIDE = 160


def parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description="yiwang benchmarks, side by side.")
    parser.add_argument(
        "names", nargs="*", metavar="NAME", help=f"benchmarks to run (default all: {', '.join(BENCHMARKS)})"
    )
    parser.add_argument("--size", choices=SIZES, default="small", help="tiny proves it runs (CI); full is the target")
    parser.add_argument(
        "--db",
        choices=DATABASE_KINDS,
        action="append",
        dest="databases",
        help=f"database kinds, repeatable (default sqlite, and postgresql when ${POSTGRES_ENV} is set)",
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(POSTGRES_ENV),
        help=f"server to create yiwang_bench_* databases on (default ${POSTGRES_ENV})",
    )
    parser.add_argument("--no-record", action="store_true", help="do not append to bench/RESULTS.md")
    parser.add_argument("--profile", action="store_true", help="also profile each benchmark's slowest path")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
    if args.databases and "postgresql" in args.databases and not args.postgres_url:
        parser.error(f"--db postgresql needs --postgres-url or ${POSTGRES_ENV}")
    return args


def databases(args: argparse.Namespace) -> tuple[DatabaseKind, ...]:
    if args.databases:
        return tuple(dict.fromkeys(args.databases))
    return ("sqlite", "postgresql") if args.postgres_url else ("sqlite",)


def run(argv: Sequence[str], console: Console) -> list[Figure]:
    args = parse(argv)
    if args.list:
        for name, module in BENCHMARKS.items():
            console.print(f"{name}: {load(name).DESCRIPTION}  [dim]({module})[/dim]")
        return []
    size: Size = args.size
    kinds = databases(args)
    load_at_start = load_average()
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="yiwang-bench-") as scratch:
        options = Options(size, kinds, args.postgres_url, Path(scratch), console, profile=args.profile)
        for name in args.names or BENCHMARKS:
            console.rule(f"{name} · size {size} · {', '.join(kinds)}")
            figures.extend(load(name).run(options))
    machine = this_machine(server_version(args.postgres_url) if "postgresql" in kinds else None, load_at_start)
    show(console, figures, machine)
    if size != "tiny" and not args.no_record:
        record(figures, machine, shlex.join(["python", "-m", "bench", *argv]))
        console.print("[dim]appended to bench/RESULTS.md[/dim]")
    return figures


def console() -> Console:
    """The terminal's console; a wide one when output goes to a file or pipe (unless $COLUMNS says otherwise)."""
    terminal = Console()
    return terminal if terminal.is_terminal or "COLUMNS" in os.environ else Console(width=WIDE)


def main(argv: Sequence[str] | None = None) -> int:
    run(sys.argv[1:] if argv is None else argv, console())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
