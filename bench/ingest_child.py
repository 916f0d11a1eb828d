"""One side of the ingest benchmark, run as its own process so its peak memory is its own.

`python -m bench.ingest_child yiwang SOURCE --dataset NAME --department DEPT` (installation from ``YIWANG_*``),
`… duckdb SOURCE TARGET [--encoding gb18030]`, `… sqlite SOURCE TARGET [--encoding gb18030]`. Each prints one JSON
line: what it produced, and for yiwang the seconds and peak RSS after each stage.
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from itertools import islice
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
SQLITE_BATCH_ROWS = 10_000
SQLITE_TABLE = "registrations"
# Declared column types for the SQLite reference (affinity converts the CSV's text as sqlite-utils --detect-types).
SQLITE_TYPES = {"编号": "INTEGER", "注册资本": "REAL", "从业人数": "INTEGER"}


def peak_rss_mib() -> float:
    """This process's peak resident set so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def ingest_yiwang(source: Path, dataset: str, department: str, open_type: str) -> dict[str, Any]:
    """What `yiwang ingest FILE --dataset NAME --department DEPT` does, with `max_upload_mb` as the size limit and
    each stage timed (the service's own functions, wrapped to time them; results unchanged)."""
    from yiwang.catalog import service
    from yiwang.cli.context import CliState
    from yiwang.core.identity import Actor

    stages: dict[str, dict[str, float]] = {}

    def timing(name: str, work: Callable[..., T]) -> Callable[..., T]:
        def timed(*args: Any, **kwargs: Any) -> T:
            start = time.perf_counter()
            try:
                return work(*args, **kwargs)
            finally:
                stages[name] = {"seconds": time.perf_counter() - start, "peak_rss_mib": peak_rss_mib()}

        return timed

    for name in ("ingest_file", "detect_personal_kinds", "quality_report", "publish_version"):
        if hasattr(service, name):
            setattr(service, name, timing(name, getattr(service, name)))
    state = CliState()
    settings = state.settings()
    actor = Actor.operator()
    start = time.perf_counter()
    with state.database() as database:
        with database.session() as session:
            service.ensure_dataset(
                session,
                actor,
                service.DatasetInput(
                    name=dataset,
                    title=dataset,
                    department=department,
                    share_type=open_type,
                    open_type=open_type,
                    security_level="general",
                ),
            )
        version = service.ingest_version(
            database,
            actor,
            settings.data_dir,
            dataset,
            source,
            max_bytes=settings.max_upload_mb * 1024 * 1024,
            progress=lambda done, total: None,  # as the CLI: a progress callback makes DuckDB report progress
        )
        result = {
            "rows": version.row_count,
            "version": version.number,
            "score": version.quality.get("score"),
            "encoding": version.encoding,
            "personal": sorted(f.name for f in version.fields if f.kind != "none"),
        }
    return {**result, "seconds": time.perf_counter() - start, "stages": stages, "peak_rss_mib": peak_rss_mib()}


def copy_duckdb(source: Path, target: Path, encoding: str) -> dict[str, Any]:
    """DuckDB's own CSV → Parquet, defaults throughout; a GBK file is first transcoded by iconv (DuckDB cannot read
    GB18030 without its `encodings` extension, which is not installed here)."""
    import duckdb

    with tempfile.TemporaryDirectory(prefix="bench-iconv-", dir=target.parent) as scratch:
        if encoding != "utf-8":
            utf8 = Path(scratch) / "source.csv"
            subprocess.run(["iconv", "-f", encoding.upper(), "-t", "UTF-8", "-o", str(utf8), str(source)], check=True)
            source = utf8
        connection = duckdb.connect()
        connection.execute(f"COPY (FROM read_csv('{source}')) TO '{target}' (FORMAT parquet)")
        (rows,) = connection.execute(f"SELECT count(*) FROM read_parquet('{target}')").fetchall()[0]
    return {"rows": rows, "peak_rss_mib": peak_rss_mib()}


def _batches(rows: Any, size: int) -> Any:
    while batch := list(islice(rows, size)):
        yield batch


def load_sqlite(source: Path, target: Path, encoding: str, indexes: Sequence[str] = ()) -> dict[str, Any]:
    """The CSV into one SQLite table `SQLITE_TABLE` with the csv module and `executemany` in one transaction (what
    `sqlite-utils insert --csv` does underneath, without its per-row Python work), then optional indexes."""
    with source.open(encoding=encoding, newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        connection = sqlite3.connect(target)
        columns = ", ".join(f'"{name}" {SQLITE_TYPES.get(name, "TEXT")}' for name in header)
        connection.execute(f"CREATE TABLE {SQLITE_TABLE} ({columns})")
        insert = f"INSERT INTO {SQLITE_TABLE} VALUES ({', '.join('?' * len(header))})"
        with connection:
            for batch in _batches(([value or None for value in row] for row in reader), SQLITE_BATCH_ROWS):
                connection.executemany(insert, batch)
        with connection:
            for name in indexes:
                connection.execute(f'CREATE INDEX "idx_{name}" ON {SQLITE_TABLE} ("{name}")')
        (rows,) = connection.execute(f"SELECT count(*) FROM {SQLITE_TABLE}").fetchone()
        connection.close()
    return {"rows": rows, "peak_rss_mib": peak_rss_mib()}


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest_child")
    parser.add_argument("side", choices=("yiwang", "duckdb", "sqlite"))
    parser.add_argument("source", type=Path)
    parser.add_argument("target", type=Path, nargs="?")
    parser.add_argument("--encoding", default="utf-8")
    parser.add_argument("--dataset", default="bench")
    parser.add_argument("--department", default="基准测试局")
    parser.add_argument("--open-type", default="conditional")
    parser.add_argument("--index", action="append", default=[])
    args = parser.parse_args(argv)
    if args.side == "yiwang":
        result = ingest_yiwang(args.source, args.dataset, args.department, args.open_type)
    elif args.side == "duckdb":
        result = copy_duckdb(args.source, args.target, args.encoding)
    else:
        result = load_sqlite(args.source, args.target, args.encoding, args.index)
    sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
