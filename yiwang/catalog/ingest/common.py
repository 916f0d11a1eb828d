"""What every format's ingest shares: the result types, staged progress, and the job's DuckDB connection."""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import duckdb

from yiwang.core.errors import InvalidInput
from yiwang.core.i18n import N_

SourceFormat = Literal["csv", "xlsx", "json", "ndjson", "parquet", "geojson"]
Progress = Callable[[int, int], None]

CHUNK_BYTES = 1 << 20
HASH_CHUNK_BYTES = 8 << 20
ROW_GROUP_BYTES = "16MB"  # caps the row group the Parquet writer holds in memory when values are wide
# Wider than any dataset a department publishes. The quality report counts columns in batches, but its duplicate-row
# hash reads every column at once: 1,024 columns ran DuckDB out of its memory limit even over three rows, and 10,000
# crashed it (a segmentation fault killed the server). tests/catalog/test_profile.py reports a version this wide.
MAX_COLUMNS = 512

_LABELS: dict[str, str] = {
    "csv": "CSV",
    "xlsx": "XLSX",
    "json": "JSON",
    "ndjson": "NDJSON",
    "parquet": "Parquet",
    "geojson": "GeoJSON",
}
_DIAGNOSES = (
    "Expected Number of Columns",
    "Error when converting column",
    "Maximum line size",
    "Value with unterminated quote",
    "It was not possible",
    "Invalid unicode",
)


@dataclass(frozen=True)
class InferredField:
    """A column of an ingested file: its name and DuckDB logical type (``VARCHAR``, ``BIGINT``, ``DATE`` …)."""

    name: str
    type: str


@dataclass(frozen=True)
class IngestResult:
    """What an ingest produced: the Parquet file, its shape, and how the source was read."""

    parquet: Path
    row_count: int
    fields: list[InferredField]
    source_format: SourceFormat
    encoding: str | None
    delimiter: str | None
    source_bytes: int
    sha256: str


class ProgressReporter:
    """Maps the fraction done of each stage onto one monotonic ``(done, total)`` stream, throttled to 0.5 % steps."""

    def __init__(self, callback: Progress | None, total: int) -> None:
        self.enabled = callback is not None
        self._callback = callback
        self._total = total
        self._last = -1
        self._start, self._end = 0.0, 1.0

    def stage(self, start: float, end: float) -> None:
        self._start, self._end = start, end
        self.update(0.0)

    def update(self, fraction: float) -> None:
        if self._callback is None:
            return
        done = int(self._total * (self._start + (self._end - self._start) * min(max(fraction, 0.0), 1.0)))
        if done > self._last and (self._last < 0 or done - self._last >= self._total // 200 or done == self._total):
            self._last = done
            self._callback(done, self._total)

    def finish(self) -> None:
        self.stage(1.0, 1.0)


class Job:
    """One ingest's source, workspace, limits and (lazily) its DuckDB connection."""

    def __init__(
        self,
        source: Path,
        size: int,
        workspace: Path,
        max_bytes: int,
        memory_limit: str,
        threads: int,
        progress: ProgressReporter,
    ) -> None:
        self.source, self.size, self.workspace, self.max_bytes = source, size, workspace, max_bytes
        self.progress = progress
        self.sha256 = ""
        self._memory_limit, self._threads = memory_limit, threads
        self._connection: duckdb.DuckDBPyConnection | None = None

    def connection(self) -> duckdb.DuckDBPyConnection:
        if self._connection is None:
            spill = self.workspace / "duckdb-tmp"
            spill.mkdir(exist_ok=True)
            config: dict[str, Any] = {
                "memory_limit": self._memory_limit,
                "threads": self._threads,
                "temp_directory": str(spill),
                "enable_external_access": True,  # the readers need the source file; nothing else is reachable
                "autoinstall_known_extensions": False,
                "autoload_known_extensions": False,
            }
            self._connection = duckdb.connect(":memory:", config=config)
            if self.progress.enabled:
                self._connection.execute("SET enable_progress_bar = true; SET enable_progress_bar_print = false")
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def hash_source(self) -> None:
        digest, done = hashlib.sha256(), 0
        with self.source.open("rb") as handle:
            while chunk := handle.read(CHUNK_BYTES):
                digest.update(chunk)
                done += len(chunk)
                self.progress.update(done / self.size)
        self.sha256 = digest.hexdigest()

    @contextmanager
    def hashing(self) -> Iterator[None]:
        """Hash the source on a thread of its own while the block runs (hashlib releases the GIL on large chunks);
        `sha256` is set when the block succeeds."""
        digest = hashlib.sha256()
        stop = threading.Event()
        failures: list[BaseException] = []

        def work() -> None:
            try:
                with self.source.open("rb") as handle:
                    while not stop.is_set() and (chunk := handle.read(HASH_CHUNK_BYTES)):
                        digest.update(chunk)
            except BaseException as exc:  # handed to the calling thread below
                failures.append(exc)

        worker = threading.Thread(target=work, name="yiwang-ingest-hash", daemon=True)
        worker.start()
        try:
            yield
        except BaseException:
            stop.set()
            raise
        finally:
            worker.join()
        if failures:
            raise failures[0]
        self.sha256 = digest.hexdigest()

    def copy(self, select: str, target: Path) -> None:
        """Write the result of `select` to `target` as zstd Parquet, reporting DuckDB's progress meanwhile."""
        options = f"FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE_BYTES '{ROW_GROUP_BYTES}'"
        self._run(f"COPY ({select}) TO {literal(target)} ({options})")

    def describe(self, parquet: Path) -> list[InferredField]:
        rows = self.connection().execute(f"DESCRIBE SELECT * FROM read_parquet({literal(parquet)})").fetchall()
        return [InferredField(str(row[0]), str(row[1])) for row in rows]

    def _run(self, sql: str) -> None:
        connection = self.connection()
        if not self.progress.enabled:
            connection.execute(sql)
            return
        failures: list[BaseException] = []

        def work() -> None:
            try:
                connection.execute(sql)
            except BaseException as exc:  # handed to the calling thread below
                failures.append(exc)

        worker = threading.Thread(target=work, name="yiwang-ingest", daemon=True)
        worker.start()
        try:
            while worker.is_alive():
                worker.join(0.2)
                percent = connection.query_progress()
                if percent >= 0:
                    self.progress.update(percent / 100)
        except BaseException:
            connection.interrupt()
            worker.join()
            raise
        if failures:
            raise failures[0]

    def malformed(self, source_format: str, exc: BaseException) -> InvalidInput:
        """`exc` (from DuckDB, pyarrow or openpyxl) as ``ingest.malformed``: its short reason, no row contents."""
        text = str(exc).replace(str(self.workspace / "source.utf8.csv"), self.source.name)
        text = text.replace(str(self.source), self.source.name).replace(str(self.workspace), "")
        lines = [line.strip() for line in text.splitlines() if line.strip()] or [type(exc).__name__]
        # the first line and DuckDB's known diagnoses only: other lines may quote rows ("Original Line: …")
        kept = [re.sub(r"^[A-Za-z ]*(Error|Exception): ", "", lines[0])]
        kept += [line for line in lines[1:] if line.startswith(_DIAGNOSES)]
        return malformed(source_format, "; ".join(kept)[:300])


def check_width(count: int) -> None:
    """Refuse a file with more than `MAX_COLUMNS` columns."""
    if count > MAX_COLUMNS:
        raise InvalidInput(
            "ingest.too_many_columns",
            N_("The file has {count} columns, more than the limit of {limit}"),
            count=count,
            limit=MAX_COLUMNS,
        )


def malformed(source_format: str, reason: str) -> InvalidInput:
    return InvalidInput(
        "ingest.malformed",
        N_("The {format} file is malformed: {reason}"),
        format=_LABELS.get(source_format, source_format),
        reason=reason,
    )


def literal(value: str | Path) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def unique_names(raw: list[str]) -> list[str]:
    """Header names trimmed; an empty one becomes ``column_3``, a repeat ``名称_2`` (case-blind, as in DuckDB)."""
    names: list[str] = []
    seen: set[str] = set()
    for position, value in enumerate(raw, start=1):
        base = value.strip() or f"column_{position}"
        name, suffix = base, 2
        while name.casefold() in seen:
            name, suffix = f"{base}_{suffix}", suffix + 1
        seen.add(name.casefold())
        names.append(name)
    return names
