"""The ingest pipeline: check the size, detect the format, run its handler in a workspace, publish atomically."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from yiwang.catalog.ingest.common import IngestResult, Job, ProgressReporter, SourceFormat, check_width
from yiwang.catalog.ingest.delimited import ingest_csv
from yiwang.catalog.ingest.detect import detect_format
from yiwang.catalog.ingest.geojson import ingest_geojson
from yiwang.catalog.ingest.native import ingest_json, ingest_parquet
from yiwang.catalog.ingest.xlsx import ingest_xlsx
from yiwang.core.errors import InvalidInput
from yiwang.core.i18n import N_


def ingest_file(
    source: Path,
    target: Path,
    *,
    declared_format: str | None = None,
    max_bytes: int = 2 * 1024**3,
    memory_limit: str = "1GB",
    threads: int = 2,
    progress: Callable[[int, int], None] | None = None,
) -> IngestResult:
    """Convert `source` into the new Parquet file `target` (which must not exist), atomically.

    Raises `InvalidInput` with a code of ``ingest.*`` for a file users must fix; on any failure nothing is left at
    `target` and no temp file remains. `progress(done_bytes, total_bytes)` is called on the caller's thread.
    """
    source, target = Path(source), Path(target)
    size = source.stat().st_size
    if size > max_bytes:
        raise InvalidInput(
            "ingest.too_large",
            N_("The file is {size} bytes, over the limit of {limit} bytes"),
            size=size,
            limit=max_bytes,
        )
    source_format = detect_format(source, declared_format)
    if target.exists():
        raise FileExistsError(target)
    created = _missing_directories(target.parent)
    target.parent.mkdir(parents=True, exist_ok=True)
    workspace = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".ingest", dir=target.parent))
    job = Job(source, size, workspace, max_bytes, memory_limit, threads, ProgressReporter(progress, size))
    moved = False
    try:
        staged = workspace / "result.parquet"
        try:
            encoding, delimiter = _HANDLERS[source_format](job, staged, source_format)
        except (duckdb.InvalidInputException, duckdb.ConversionException, duckdb.BinderException) as exc:
            raise job.malformed(source_format, exc) from None  # `from None`: DuckDB's text may quote raw rows
        fields = job.describe(staged)
        check_width(len(fields))
        row_count = pq.read_metadata(staged).num_rows
        if row_count == 0:
            raise InvalidInput("ingest.empty", N_("The file has no data rows"))
        job.close()
        _fsync(staged)
        os.replace(staged, target)
        moved = True
        _fsync(target.parent)
    except BaseException:
        job.close()
        shutil.rmtree(workspace, ignore_errors=True)
        if moved:
            target.unlink(missing_ok=True)
        for directory in created:
            with contextlib.suppress(OSError):
                directory.rmdir()
        raise
    shutil.rmtree(workspace, ignore_errors=True)
    job.progress.finish()
    return IngestResult(target, row_count, fields, source_format, encoding, delimiter, size, job.sha256)


def _missing_directories(directory: Path) -> list[Path]:
    missing: list[Path] = []
    while not directory.exists() and directory != directory.parent:
        missing.append(directory)
        directory = directory.parent
    return missing


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


_HANDLERS: dict[SourceFormat, Callable[[Job, Path, str], tuple[str | None, str | None]]] = {
    "csv": ingest_csv,
    "xlsx": ingest_xlsx,
    "json": ingest_json,
    "ndjson": ingest_json,
    "parquet": ingest_parquet,
    "geojson": ingest_geojson,
}
