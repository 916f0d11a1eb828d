"""Ingest: a generated CSV (12 columns, Chinese text, UTF-8 and GBK) to a published version with its quality report,
against DuckDB's own CSV → Parquet copy and sqlite-utils' load into SQLite, each side in its own process (time and
peak RSS).

The yiwang side runs `yiwang ingest`'s service calls in a real installation (`bench/ingest_child.py`); DuckDB
runs ``COPY (FROM read_csv(…)) TO 'x.parquet'`` with its defaults; the loader reference is
``sqlite-utils insert DB TABLE FILE --csv``, how Datasette users load a CSV (sqlite-utils 4 detects column types,
as yiwang's Parquet has them).
"""

from __future__ import annotations

import shutil
import sqlite3
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.csvdata import CsvFile, write_csv
from bench.databases import empty_url
from bench.harness import DatabaseKind, Figure, Options, Size, Target
from bench.processes import BIN, Measured, child_env, run_measured

DESCRIPTION = "CSV (UTF-8, GBK) → published version + quality report, vs DuckDB COPY to Parquet and sqlite-utils insert"
DEPARTMENT = "基准测试局"
VS_DUCKDB = Target(max_ratio=1.5)  # ≤ 1.5× DuckDB's time
VS_LOADER = Target(max_ratio=0.2)  # ≥ 5× faster than the SQLite loader
RSS_BUDGET_MIB = 1536.0
WITHIN_BUDGET = Target(max_ratio=1.0)
ENCODINGS = {"utf-8": "UTF-8", "gbk": "GBK"}


@dataclass(frozen=True)
class IngestSize:
    """One file per encoding: `rows` rows, or as many rows as fill `max_bytes`."""

    rows: int | None = None
    max_bytes: int | None = None
    encodings: tuple[str, ...] = ("utf-8", "gbk")
    loader: bool = True
    rss_budget: bool = False


SIZES: dict[Size, IngestSize] = {
    "tiny": IngestSize(rows=3_000),
    "small": IngestSize(rows=1_000_000),
    "full": IngestSize(rows=10_000_000),
}


@dataclass(frozen=True)
class Sides:
    """The three runs on one file."""

    source: CsvFile
    yiwang: Measured
    duckdb: Measured
    loader: Measured | None


def prepare_installation(data_dir: Path, database_url: str) -> dict[str, str]:
    """A fresh installation (as `yiwang init` + `yiwang department add`) and the environment that points at it."""
    from yiwang.core import accounts, installation
    from yiwang.core.identity import Actor
    from yiwang.core.settings import Settings

    settings = Settings(data_dir=data_dir, database_url=database_url)
    database = installation.initialise(settings)
    try:
        with database.session() as session:
            accounts.create_department(session, Actor.operator(), DEPARTMENT)
    finally:
        database.dispose()
    return child_env(
        {
            "YIWANG_DATA_DIR": str(data_dir),
            "YIWANG_DATABASE_URL": database_url,
            "YIWANG_MAX_UPLOAD_MB": str(1024 * 1024),  # the 5 GB file is over the 2 GiB default
        }
    )


def child(*args: str) -> list[str]:
    return [sys.executable, "-m", "bench.ingest_child", *args]


def measure_file(source: CsvFile, env: dict[str, str], work: Path, dataset: str, loader: bool) -> Sides:
    """yiwang, DuckDB and the loader on `source`, one after another, each in a fresh process."""
    python_encoding = "gb18030" if source.encoding == "gbk" else "utf-8"
    ours = child("yiwang", str(source.path), "--dataset", dataset, "--department", DEPARTMENT)
    yiwang = run_measured(ours, env, work)
    parquet = work / f"{dataset}.duckdb.parquet"
    duck = run_measured(child("duckdb", str(source.path), str(parquet), "--encoding", python_encoding), env, work)
    parquet.unlink()
    sqlite = None
    if loader:
        db = work / f"{dataset}.sqlite"
        load = [str(BIN / "sqlite-utils"), "insert", str(db), "rows", str(source.path), "--csv"]
        sqlite = run_measured([*load, "--encoding", python_encoding], env, work)
        with sqlite3.connect(db) as connection:
            (rows,) = connection.execute("SELECT count(*) FROM rows").fetchone()
        sqlite = Measured(sqlite.seconds, sqlite.peak_rss_mib, {"rows": rows})
        db.unlink()
    for name, side in (("yiwang", yiwang), ("DuckDB", duck), ("sqlite-utils", sqlite)):
        if side is not None and side.output.get("rows") != source.rows:
            raise RuntimeError(f"{name} loaded {side.output.get('rows')} rows of {source.rows}")
    return Sides(source, yiwang, duck, sqlite)


def show_stages(console: Console, sides: Sides) -> None:
    """Where yiwang's time and memory went, stage by stage, beside the references."""
    table = Table(title=f"ingest {sides.source.path.name}: {sides.source.rows:,} rows, {mib(sides.source.bytes)}")
    for column in ("side / stage", "seconds", "peak RSS after (MiB)"):
        table.add_column(column, justify="left" if column == "side / stage" else "right")
    out = sides.yiwang.output
    table.add_row("yiwang (process)", f"{sides.yiwang.seconds:.2f}", f"{sides.yiwang.peak_rss_mib:,.0f}")
    for stage, figures in out.get("stages", {}).items():
        table.add_row(f"  {stage}", f"{figures['seconds']:.2f}", f"{figures['peak_rss_mib']:,.0f}")
    inside = float(out.get("seconds", 0.0))
    other = inside - sum(figures["seconds"] for figures in out.get("stages", {}).values())
    table.add_row("  open installation, create dataset, audit", f"{other:.2f}", "")
    table.add_row("  interpreter start-up and imports", f"{sides.yiwang.seconds - inside:.2f}", "")
    table.add_row("DuckDB COPY (process)", f"{sides.duckdb.seconds:.2f}", f"{sides.duckdb.peak_rss_mib:,.0f}")
    if sides.loader is not None:
        loader = sides.loader
        table.add_row("sqlite-utils insert (process)", f"{loader.seconds:.2f}", f"{loader.peak_rss_mib:,.0f}")
    console.print(table)
    console.print(
        f"yiwang/DuckDB time {sides.yiwang.seconds / sides.duckdb.seconds:.2f}"
        + (f" · sqlite-utils/yiwang time {sides.loader.seconds / sides.yiwang.seconds:.2f}" if sides.loader else "")
        + f" · quality score {out.get('score')} · personal fields {', '.join(out.get('personal', []))}"
    )


def mib(size: float) -> str:
    return f"{size / 2**20:,.0f} MiB"


def figures_of(benchmark: str, kind: DatabaseKind, size: Size, sides: Sides, budget: bool) -> list[Figure]:
    source = sides.source
    label = ENCODINGS[source.encoding]
    workload = f"{source.rows:,} rows, {mib(source.bytes)} {label}"
    duck_label = "DuckDB COPY" if source.encoding == "utf-8" else "iconv + DuckDB COPY"

    def figure(name: str, unit: str, mine: float, theirs: float, reference: str, target: Target) -> Figure:
        return Figure(benchmark, name, kind, size, workload, unit, mine, theirs, reference, target)

    found = [
        figure(f"time {label}", "ms", sides.yiwang.seconds * 1000, sides.duckdb.seconds * 1000, duck_label, VS_DUCKDB),
        figure(f"peak RSS {label}", "MiB", sides.yiwang.peak_rss_mib, sides.duckdb.peak_rss_mib, duck_label, Target()),
    ]
    if sides.loader is not None:
        loader_label = "sqlite-utils insert --csv"
        found.insert(
            1,
            figure(
                f"time {label}", "ms", sides.yiwang.seconds * 1000, sides.loader.seconds * 1000, loader_label, VS_LOADER
            ),
        )
    if budget:
        peak = sides.yiwang.peak_rss_mib
        found.append(figure(f"peak RSS {label}", "MiB", peak, RSS_BUDGET_MIB, "budget 1.5 GiB", WITHIN_BUDGET))
    return found


def run_sizes(benchmark: str, options: Options, size: IngestSize) -> list[Figure]:
    """Every encoding of `size` on every database kind: generate, measure, show, clean up."""
    figures: list[Figure] = []
    for kind in options.databases:
        for encoding in size.encodings:
            work = options.scratch / f"{benchmark}-{kind}-{encoding}"
            work.mkdir(parents=True)
            try:
                start = time.perf_counter()
                source = write_csv(
                    work / f"registrations-{encoding}.csv", rows=size.rows, max_bytes=size.max_bytes, encoding=encoding
                )
                options.console.print(
                    f"generated {source.path.name}: {source.rows:,} rows, {mib(source.bytes)} "
                    f"in {time.perf_counter() - start:.1f} s"
                )
                with empty_url(kind, options.scratch, options.postgres_url, benchmark.replace("-", "_")) as url:
                    env = prepare_installation(work / "yiwang-data", url)
                    dataset = f"registrations-{encoding}"
                    sides = measure_file(source, env, work, dataset, size.loader)
                show_stages(options.console, sides)
                figures += figures_of(benchmark, kind, options.size, sides, size.rss_budget)
            finally:
                shutil.rmtree(work, ignore_errors=True)  # a 5 GB file must not outlive its measurement
    return figures


def run(options: Options) -> list[Figure]:
    return run_sizes("ingest", options, SIZES[options.size])
