"""Ingest: one uploaded file (CSV, XLSX, JSON, NDJSON, Parquet, GeoJSON) becomes one Parquet file.

A pure module: no database, no web. Memory stays bounded for every format:

- CSV, JSON, NDJSON and Parquet stream through DuckDB under `memory_limit`, spilling to a temp directory next to
  the target. GB18030 (GBK) and UTF-16 CSV are first transcoded to a temp UTF-8 file in fixed-size chunks.
- XLSX streams rows from openpyxl's read-only reader into Parquet batches of 10,000 rows; only the workbook's
  shared-strings table is held whole, and that is bounded by `max_bytes` of uncompressed size.
- GeoJSON streams one feature at a time (a chunk of text plus the current feature; one feature may be up to 256 MiB).

The result appears at `target` by an atomic rename, or not at all; temp files never outlive the call.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import hashlib
import io
import json
import os
import re
import shutil
import tempfile
import threading
import warnings
import zipfile
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any, BinaryIO, Literal, cast

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from yiwang.core.errors import InvalidInput
from yiwang.core.i18n import N_

SourceFormat = Literal["csv", "xlsx", "json", "ndjson", "parquet", "geojson"]
Progress = Callable[[int, int], None]

CHUNK_BYTES = 1 << 20
SAMPLE_BYTES = 1 << 20  # the head of a CSV that its delimiter and header are read from
CSV_SAMPLE_ROWS = 20_480  # rows DuckDB reads to infer column types; a type clash later triggers a full-file retry
DELIMITERS = (",", ";", "\t", "|")
ZIP_BOMB_RATIO = 100
ZIP_BOMB_MEMBER_BYTES = 50 * 1024**2
ZIP_MAX_MEMBERS = 10_000
XLSX_BATCH_ROWS = 10_000
MAX_VALUE_CHARS = 256 * 1024**2
JSON_OBJECT_BYTES = 16 * 1024**2
ROW_GROUP_BYTES = "16MB"  # caps the row group the Parquet writer holds in memory when values are wide

_LABELS: dict[str, str] = {
    "csv": "CSV",
    "xlsx": "XLSX",
    "json": "JSON",
    "ndjson": "NDJSON",
    "parquet": "Parquet",
    "geojson": "GeoJSON",
}
_HINTS: dict[str, SourceFormat] = {  # declared formats, MIME types and extensions, lower-case
    name: cast(SourceFormat, source_format)
    for source_format, names in (
        ("csv", "csv tsv txt text/csv text/tab-separated-values"),
        ("xlsx", "xlsx xlsm application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("json", "json application/json"),
        ("ndjson", "ndjson jsonl jsonlines json-lines application/x-ndjson application/jsonl"),
        ("parquet", "parquet pq application/vnd.apache.parquet application/x-parquet"),
        ("geojson", "geojson application/geo+json"),
    )
    for name in names.split()
}
_UNSUPPORTED_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\xd0\xcf\x11\xe0", "XLS/OLE2"),
    (b"%PDF", "PDF"),
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bzip2"),
    (b"7z\xbc\xaf", "7z"),
    (b"Rar!", "RAR"),
    (b"\x89PNG", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"SQLite format 3", "SQLite"),
)
_FEATURE_COLLECTION = re.compile(rb'"type"\s*:\s*"FeatureCollection"|"features"\s*:\s*\[')
_WHITESPACE = re.compile(r"[ \t\r\n]*")
_LEADING_BLANK_LINES = re.compile(r"(?:[ \t\r\f\v]*\n)*")
_INT64 = (-(2**63), 2**63 - 1)
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


def detect_format(path: Path, declared: str | None = None) -> SourceFormat:
    """The format of `path`, by its content first; the declared format, then the extension, only break ties."""
    with Path(path).open("rb") as handle:
        head = handle.read(64 * 1024)
    hint = _hint(declared) or _hint(Path(path).suffix)
    if not head:
        raise InvalidInput("ingest.empty", N_("The file is empty"))
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _zip_format(Path(path))
    if head.startswith(b"PAR1"):
        return "parquet"
    for magic, kind in _UNSUPPORTED_MAGIC:
        if head.startswith(magic):
            raise _unknown_format(kind)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "csv"
    if b"\x00" in head:
        raise _unknown_format("binary")
    text = head.removeprefix(codecs.BOM_UTF8).lstrip()
    if text.startswith(b"["):
        after = text[1:].lstrip()[:1]
        return "json" if after in (b"{", b"]") or (hint == "json" and after in (b"", b"[")) else "csv"
    if text.startswith(b"{"):
        try:
            first = json.loads(text.split(b"\n", 1)[0])
        except ValueError:  # an object over several lines, or a first line longer than the head
            return "geojson" if hint == "geojson" or _FEATURE_COLLECTION.search(head) else "json"
        if isinstance(first, dict) and (
            first.get("type") == "FeatureCollection" or (hint == "geojson" and "type" in first)
        ):
            return "geojson"
        return "ndjson"
    return "csv"


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
    job = _Job(source, size, workspace, max_bytes, memory_limit, threads, _Progress(progress, size))
    moved = False
    try:
        staged = workspace / "result.parquet"
        try:
            encoding, delimiter = _HANDLERS[source_format](job, staged, source_format)
        except (duckdb.InvalidInputException, duckdb.ConversionException, duckdb.BinderException) as exc:
            raise job.malformed(source_format, exc) from None  # `from None`: DuckDB's text may quote raw rows
        fields = job.describe(staged)
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


class _Progress:
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


class _Job:
    """One ingest's source, workspace, limits and (lazily) its DuckDB connection."""

    def __init__(
        self,
        source: Path,
        size: int,
        workspace: Path,
        max_bytes: int,
        memory_limit: str,
        threads: int,
        progress: _Progress,
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

    def copy(self, select: str, target: Path) -> None:
        """Write the result of `select` to `target` as zstd Parquet, reporting DuckDB's progress meanwhile."""
        options = f"FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE_BYTES '{ROW_GROUP_BYTES}'"
        self._run(f"COPY ({select}) TO {_literal(target)} ({options})")

    def describe(self, parquet: Path) -> list[InferredField]:
        rows = self.connection().execute(f"DESCRIBE SELECT * FROM read_parquet({_literal(parquet)})").fetchall()
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
        return _malformed(source_format, "; ".join(kept)[:300])


def _malformed(source_format: str, reason: str) -> InvalidInput:
    return InvalidInput(
        "ingest.malformed",
        N_("The {format} file is malformed: {reason}"),
        format=_LABELS.get(source_format, source_format),
        reason=reason,
    )


def _unknown_format(kind: str) -> InvalidInput:
    return InvalidInput(
        "ingest.unknown_format",
        N_("Unsupported file type ({kind}): upload CSV, XLSX, JSON, NDJSON, Parquet or GeoJSON"),
        kind=kind,
    )


def _hint(value: str | None) -> SourceFormat | None:
    if not value:
        return None
    return _HINTS.get(value.strip().lower().removeprefix("."))


def _zip_format(path: Path) -> SourceFormat:
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return "xlsx"  # a damaged workbook: reading it reports what is wrong
    if any(name.startswith("xl/") for name in names):
        return "xlsx"
    raise _unknown_format("ZIP")


def _literal(value: str | Path) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _unique_names(raw: list[str]) -> list[str]:
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


# --- CSV -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _DecodeFailure:
    encoding: str
    offset: int
    line: int


def _ingest_csv(job: _Job, target: Path, source_format: str) -> tuple[str | None, str | None]:
    job.progress.stage(0.0, 0.35)
    path, encoding = _utf8_source(job)
    text, truncated = _text_sample(path)
    skip = _LEADING_BLANK_LINES.match(text)
    blank_lines = skip.group().count("\n") if skip else 0
    text = text[skip.end() if skip else 0 :]
    if not text.strip():
        raise InvalidInput("ingest.empty", N_("The file has no header row"))
    delimiter = _sniff_delimiter(text, truncated)
    header = next(csv.reader(io.StringIO(text), delimiter=delimiter), [])
    names = _unique_names(header)
    job.progress.stage(0.35, 1.0)
    options = [
        f"delim = {_literal(delimiter)}",
        "header = true",
        f"skip = {blank_lines}",
        "quote = '\"'",
        "escape = '\"'",
        "comment = ''",
        "encoding = 'utf-8'",
        "strict_mode = true",
        f"names = [{', '.join(_literal(name) for name in names)}]",
    ]
    reader = f"read_csv({_literal(path)}, {', '.join(options)}"
    try:
        try:
            job.copy(f"SELECT * FROM {reader}, sample_size = {CSV_SAMPLE_ROWS})", target)
        except duckdb.ConversionException:
            job.copy(f"SELECT * FROM {reader}, sample_size = -1)", target)  # a value past the sample broke a type
    except duckdb.InvalidInputException as exc:
        ragged = _first_ragged_record(text, delimiter, truncated)
        if ragged is None:
            raise job.malformed(source_format, exc) from None
        line, found, expected = ragged
        raise InvalidInput(
            "ingest.malformed",
            N_("Line {line} has {found} fields but the header has {expected}"),
            line=line + blank_lines,
            found=found,
            expected=expected,
        ) from None
    found_names = [field.name for field in job.describe(target)]
    if found_names != names:
        raise InvalidInput(
            "ingest.malformed",
            N_("The header has {expected} fields but the rows have {found}"),
            expected=len(names),
            found=len(found_names),
        )
    return encoding, delimiter


def _utf8_source(job: _Job) -> tuple[Path, str]:
    """The source as UTF-8 (itself, or a transcoded temp copy) and its encoding; also hashes the source."""
    with job.source.open("rb") as handle:
        head = handle.read(4)
    candidates: list[tuple[str, bool]]
    if head.startswith(codecs.BOM_UTF8):
        candidates = [("utf-8-sig", False)]
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = [("utf-16", True)]
    else:
        candidates = [("utf-8", False), ("gb18030", True)]
    failures: list[_DecodeFailure] = []
    for encoding, transcode in candidates:
        output = job.workspace / "source.utf8.csv" if transcode else None
        digest, failure = _decode_pass(job, encoding, output)
        if failure is None:
            job.sha256 = digest
            return output or job.source, encoding
        failures.append(failure)
    furthest = max(failures, key=lambda failure: failure.offset)
    raise InvalidInput(
        "ingest.encoding",
        N_("The file is neither UTF-8 nor GB18030 (GBK) text: {encoding} fails at line {line}, byte {offset}"),
        encoding=furthest.encoding.upper().removesuffix("-SIG"),
        line=furthest.line,
        offset=furthest.offset,
    )


def _decode_pass(job: _Job, encoding: str, output: Path | None) -> tuple[str, _DecodeFailure | None]:
    """Decode the whole source in fixed-size chunks (writing UTF-8 to `output` if given), hashing it on the way."""
    decoder = codecs.getincrementaldecoder(encoding)()
    digest = hashlib.sha256()
    offset = lines = 0
    started = False
    with job.source.open("rb") as handle, output.open("wb") if output else contextlib.nullcontext() as sink:
        while True:
            chunk = handle.read(CHUNK_BYTES)
            try:
                text = decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                local = exc.start - (len(exc.object) - len(chunk))  # the decoder may hold bytes of the last chunk
                line = lines + chunk[: max(local, 0)].count(b"\n") + 1
                return "", _DecodeFailure(encoding, offset + local, line)
            if sink is not None and text:
                if not started:
                    text, started = text.removeprefix("\ufeff"), True
                sink.write(text.encode("utf-8"))
            if not chunk:
                return digest.hexdigest(), None
            digest.update(chunk)
            offset += len(chunk)
            lines += chunk.count(b"\n")
            job.progress.update(offset / job.size)


def _text_sample(path: Path) -> tuple[str, bool]:
    """The first MiB of a UTF-8 file as whole lines, and whether the file goes on."""
    with path.open("rb") as handle:
        raw = handle.read(SAMPLE_BYTES + 1)
    truncated = len(raw) > SAMPLE_BYTES
    text = codecs.getincrementaldecoder("utf-8")("replace").decode(raw[:SAMPLE_BYTES], final=not truncated)
    text = text.removeprefix("\ufeff")
    if truncated and "\n" in text:
        text = text[: text.rfind("\n") + 1]
    return text, truncated


def _records(text: str, delimiter: str, truncated: bool, limit: int = 200) -> list[tuple[int, list[str]]]:
    """Up to `limit` non-blank records of the sample, each with the line it starts on."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    records: list[tuple[int, list[str]]] = []
    try:
        for row in islice(reader, limit + 1):
            records.append((reader.line_num - sum(field.count("\n") for field in row), row))
    except csv.Error:
        return []
    if truncated and len(records) <= limit:
        records = records[:-1]  # the sample may end inside a quoted field
    return [(line, row) for line, row in records[:limit] if row]


def _sniff_delimiter(text: str, truncated: bool) -> str:
    """The candidate delimiter that splits the sample's records most consistently into the most fields."""
    best, best_score = ",", (0.0, 1)
    for delimiter in DELIMITERS:
        rows = [row for _line, row in _records(text, delimiter, truncated)]
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        score = (sum(len(row) == width for row in rows) / len(rows), width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _first_ragged_record(text: str, delimiter: str, truncated: bool) -> tuple[int, int, int] | None:
    records = _records(text, delimiter, truncated, limit=100_000)
    for line, row in records[1:]:
        if len(row) != len(records[0][1]):
            return line, len(row), len(records[0][1])
    return None


# --- XLSX ------------------------------------------------------------------------------------------------------


class _ExcelColumn:
    """Kinds of value seen in one column, and each value as the text a DuckDB CAST reads back exactly."""

    def __init__(self) -> None:
        self.kinds: set[str] = set()

    def text(self, value: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, bool):
            self.kinds.add("bool")
            return "true" if value else "false"
        if isinstance(value, int):
            self.kinds.add("int" if _INT64[0] <= value <= _INT64[1] else "str")
            return str(value)
        if isinstance(value, float):
            self.kinds.add("float")
            return repr(value)
        if isinstance(value, dt.datetime) and value.tzinfo is None:
            if value.time() == dt.time(0):  # Excel keeps dates as datetimes at midnight
                self.kinds.add("date")
                return value.date().isoformat()
            self.kinds.add("datetime")
            return value.isoformat(sep=" ")
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            self.kinds.add("date")
            return value.isoformat()
        if isinstance(value, dt.time) and value.tzinfo is None:
            self.kinds.add("time")
            return value.isoformat()
        self.kinds.add("str")
        return str(value)

    def duckdb_type(self) -> str:
        for allowed, name in (
            ({"bool"}, "BOOLEAN"),
            ({"int"}, "BIGINT"),
            ({"int", "float"}, "DOUBLE"),
            ({"date"}, "DATE"),
            ({"date", "datetime"}, "TIMESTAMP"),
            ({"time"}, "TIME"),
        ):
            if self.kinds and self.kinds <= allowed:
                return name
        return "VARCHAR"


def _ingest_xlsx(job: _Job, target: Path, source_format: str) -> tuple[str | None, str | None]:
    _check_workbook_archive(job)
    job.progress.stage(0.0, 0.1)
    job.hash_source()
    job.progress.stage(0.1, 0.85)
    sheet = job.workspace / "sheet.parquet"
    names, headed, columns = _write_sheet(job, sheet)
    selects: list[str] = []
    for j, (name, column) in enumerate(zip(names, columns, strict=True)):
        if headed[j] or column.kinds:  # a column with neither header nor values is only Excel's formatting
            kind = column.duckdb_type()
            selects.append(f"{f'c{j}' if kind == 'VARCHAR' else f'CAST(c{j} AS {kind})'} AS {_identifier(name)}")
    job.progress.stage(0.85, 1.0)
    job.copy(f"SELECT {', '.join(selects)} FROM read_parquet({_literal(sheet)})", target)
    return None, None


def _check_workbook_archive(job: _Job) -> None:
    """Refuse a zip bomb from its central directory alone, before anything is decompressed."""
    try:
        with zipfile.ZipFile(job.source) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise _malformed("xlsx", str(exc)[:200]) from None
    if len(members) > ZIP_MAX_MEMBERS:
        raise InvalidInput(
            "ingest.zip_bomb", N_("The workbook holds {count} parts, more than a workbook needs"), count=len(members)
        )
    total = sum(member.file_size for member in members)
    if total > job.max_bytes:
        raise InvalidInput(
            "ingest.too_large",
            N_("The workbook unpacks to {size} bytes, over the limit of {limit} bytes"),
            size=total,
            limit=job.max_bytes,
        )
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > ZIP_BOMB_MEMBER_BYTES and ratio > ZIP_BOMB_RATIO:
            raise InvalidInput(
                "ingest.zip_bomb",
                N_("The workbook looks like a zip bomb: {member} unpacks to {size} bytes, {ratio}× its packed size"),
                member=member.filename[:100],
                size=member.file_size,
                ratio=int(ratio),
            )


def _sheet_rows(job: _Job) -> Generator[tuple[Any, ...], None, None]:
    """Rows of the first sheet as value tuples, streamed; openpyxl's failures become ``ingest.malformed``."""
    import openpyxl  # type: ignore[import-untyped]  # only XLSX needs it

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # styles and extensions openpyxl skips do not matter for values
            book = openpyxl.load_workbook(job.source, read_only=True, data_only=True)
    except Exception as exc:
        raise _malformed("xlsx", f"{type(exc).__name__}: {str(exc)[:200]}") from None
    try:
        if not book.worksheets or not hasattr(book.worksheets[0], "iter_rows"):
            raise InvalidInput("ingest.empty", N_("The workbook has no worksheet"))
        sheet = book.worksheets[0]
        expected = sheet.max_row if isinstance(sheet.max_row, int) and sheet.max_row > 0 else 0
        rows = sheet.iter_rows(values_only=True)
        done = 0
        while True:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    block = list(islice(rows, 1000))
            except Exception as exc:
                raise _malformed("xlsx", f"{type(exc).__name__}: {str(exc)[:200]}") from None
            if not block:
                return
            yield from block
            done += len(block)
            if expected:
                job.progress.update(done / expected)
    finally:
        book.close()


def _write_sheet(job: _Job, path: Path) -> tuple[list[str], list[bool], list[_ExcelColumn]]:
    """Stream the first sheet into a Parquet file of text columns ``c0, c1 …``.

    Returns the column names, whether each had a header, and the kinds of value seen in each.
    """
    with contextlib.closing(_sheet_rows(job)) as rows:
        return _write_rows(rows, path)


def _write_rows(rows: Iterator[tuple[Any, ...]], path: Path) -> tuple[list[str], list[bool], list[_ExcelColumn]]:
    header: tuple[Any, ...] | None = None
    row_number = 0
    for row in rows:
        row_number += 1
        if any(value is not None for value in row):
            header = row
            break
    if header is None:
        raise InvalidInput("ingest.empty", N_("The file has no header row"))
    width = len(header)
    raw_names = ["" if value is None else str(value) for value in header]
    names = _unique_names(raw_names)
    columns = [_ExcelColumn() for _ in range(width)]
    schema = pa.schema([pa.field(f"c{j}", pa.string()) for j in range(width)])
    count = 0
    with pq.ParquetWriter(path, schema) as writer:
        batch: list[list[str | None]] = [[] for _ in range(width)]
        for row in rows:
            row_number += 1
            if all(value is None for value in row):
                continue
            if len(row) > width and any(value is not None for value in row[width:]):
                raise InvalidInput(
                    "ingest.malformed",
                    N_("Row {row} has values beyond the last header column: give every column a header"),
                    row=row_number,
                )
            for j, column in enumerate(columns):
                batch[j].append(column.text(row[j] if j < len(row) else None))
            count += 1
            if count % XLSX_BATCH_ROWS == 0:
                writer.write_batch(pa.record_batch([pa.array(values, pa.string()) for values in batch], schema=schema))
                batch = [[] for _ in range(width)]
        if batch and batch[0]:
            writer.write_batch(pa.record_batch([pa.array(values, pa.string()) for values in batch], schema=schema))
    if count == 0:
        raise InvalidInput("ingest.empty", N_("The file has no data rows"))
    return names, [bool(name.strip()) for name in raw_names], columns


# --- JSON, NDJSON, Parquet -------------------------------------------------------------------------------------


def _ingest_json(job: _Job, target: Path, source_format: str) -> tuple[str | None, str | None]:
    job.progress.stage(0.0, 0.2)
    job.hash_source()
    layout = "newline_delimited"
    if source_format == "json":
        with job.source.open("rb") as handle:
            head = handle.read(CHUNK_BYTES).removeprefix(codecs.BOM_UTF8).lstrip()
        layout = "array" if head.startswith(b"[") else "unstructured"
        if head[:1] == b"[" and head[1:].lstrip()[:1] == b"]":
            raise InvalidInput("ingest.empty", N_("The file has no data rows"))
    job.progress.stage(0.2, 1.0)
    # sample_size=-1: DuckDB silently drops keys first seen after its sample, so the schema comes from every record
    select = f"SELECT * FROM read_json({_literal(job.source)}, format = '{layout}', records = true, sample_size = -1)"
    job.copy(select, target)
    return None, None


def _ingest_parquet(job: _Job, target: Path, source_format: str) -> tuple[str | None, str | None]:
    try:
        metadata = pq.read_metadata(job.source)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise job.malformed(source_format, exc) from None
    if metadata.num_columns == 0 or metadata.num_rows == 0:
        raise InvalidInput("ingest.empty", N_("The file has no data rows"))
    job.progress.stage(0.0, 0.2)
    job.hash_source()
    job.progress.stage(0.2, 1.0)
    job.copy(f"SELECT * FROM read_parquet({_literal(job.source)})", target)
    return None, None


# --- GeoJSON ---------------------------------------------------------------------------------------------------


class _JsonStream:
    """Reads a UTF-8 JSON text one value at a time, holding only a chunk and the value being decoded."""

    def __init__(self, handle: BinaryIO, on_read: Callable[[int], None]) -> None:
        self._handle, self._on_read = handle, on_read
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self._json = json.JSONDecoder()
        self._buffer, self._pos, self._dropped, self._eof = "", 0, 0, False

    def _fill(self, at_least: int) -> bool:
        if self._eof:
            return False
        raw = self._handle.read(max(at_least, CHUNK_BYTES))
        try:
            text = self._decoder.decode(raw, final=not raw)
        except UnicodeDecodeError:
            raise InvalidInput("ingest.encoding", N_("The {format} file is not UTF-8 text"), format="GeoJSON") from None
        self._eof = not raw
        self._dropped += self._pos
        self._buffer, self._pos = self._buffer[self._pos :] + text, 0
        self._on_read(len(raw))
        return True

    def peek(self) -> str:
        while True:
            self._pos = cast(re.Match[str], _WHITESPACE.match(self._buffer, self._pos)).end()
            if self._pos < len(self._buffer):
                return self._buffer[self._pos]
            if not self._fill(CHUNK_BYTES):
                return ""

    def take(self) -> str:
        char = self.peek()
        self._pos += len(char)
        return char

    def value(self) -> Any:
        self.peek()
        while True:
            try:
                value, end = self._json.raw_decode(self._buffer, self._pos)
                if end < len(self._buffer) or self._eof:  # a number at the buffer's end may go on in the next chunk
                    self._pos = end
                    return value
            except json.JSONDecodeError as exc:
                if self._eof:
                    raise _malformed("geojson", f"{exc.msg} at character {self._dropped + exc.pos}") from None
            pending = len(self._buffer) - self._pos
            if pending > MAX_VALUE_CHARS:
                raise _malformed("geojson", f"a value longer than {MAX_VALUE_CHARS} characters")
            self._fill(pending)


def _feature_row(feature: Any) -> dict[str, Any]:
    """A Feature as one flat record: its properties, its ``id`` and its geometry as GeoJSON text."""
    if not isinstance(feature, dict) or feature.get("type", "Feature") != "Feature":
        raise _malformed("geojson", "a member of features is not a Feature")
    properties = feature.get("properties") or {}
    geometry = feature.get("geometry")
    if not isinstance(properties, dict) or not (geometry is None or isinstance(geometry, dict)):
        raise _malformed("geojson", "a Feature has invalid properties or geometry")
    row: dict[str, Any] = {}
    if "id" in feature and "id" not in properties:
        row["id"] = feature["id"]
    for key, value in properties.items():
        row["geometry_2" if key == "geometry" else key] = value
    row["geometry"] = None if geometry is None else json.dumps(geometry, ensure_ascii=False, separators=(",", ":"))
    return row


def _ingest_geojson(job: _Job, target: Path, source_format: str) -> tuple[str | None, str | None]:
    job.progress.stage(0.0, 0.1)
    job.hash_source()
    job.progress.stage(0.1, 0.6)
    features = job.workspace / "features.ndjson"
    count, longest = _write_features(job, features)
    if count == 0:
        raise InvalidInput("ingest.empty", N_("The file has no data rows"))
    job.progress.stage(0.6, 1.0)
    options = f"format = 'newline_delimited', records = true, sample_size = -1, maximum_object_size = {longest}"
    job.copy(
        f'SELECT * EXCLUDE ("geometry"), CAST("geometry" AS VARCHAR) AS "geometry" '
        f"FROM read_json({_literal(features)}, {options})",
        target,
    )
    return None, None


def _write_features(job: _Job, path: Path) -> tuple[int, int]:
    """Stream the FeatureCollection's features into NDJSON records; return their count and the longest's bytes."""
    done = 0

    def on_read(size: int) -> None:
        nonlocal done
        done += size
        job.progress.update(done / job.size)

    count, longest, kind, has_features = 0, JSON_OBJECT_BYTES, None, False
    with job.source.open("rb") as handle, path.open("wb") as sink:
        stream = _JsonStream(handle, on_read)
        if stream.take() != "{":
            raise _not_a_feature_collection()
        separator = stream.take() if stream.peek() == "}" else ","
        while separator == ",":
            key = stream.value()
            if not isinstance(key, str) or stream.take() != ":":
                raise _malformed("geojson", "expected a member name and ':'")
            if key == "features" and stream.take() == "[":
                has_features = True
                item = stream.take() if stream.peek() == "]" else ","
                while item == ",":
                    line = (json.dumps(_feature_row(stream.value()), ensure_ascii=False) + "\n").encode("utf-8")
                    sink.write(line)
                    count, longest = count + 1, max(longest, len(line) + 1)
                    item = stream.take()
                if item != "]":
                    raise _malformed("geojson", "expected ',' or ']' between features")
            elif key == "features":
                raise _malformed("geojson", "features is not an array")
            else:
                value = stream.value()
                kind = value if key == "type" else kind
            separator = stream.take()
        if separator != "}" or stream.peek() != "":
            raise _malformed("geojson", "expected ',' or '}' to end the FeatureCollection")
    if kind != "FeatureCollection" or not has_features:
        raise _not_a_feature_collection()
    return count, longest


def _not_a_feature_collection() -> InvalidInput:
    return InvalidInput("ingest.malformed", N_("A GeoJSON file must hold one FeatureCollection"))


_HANDLERS: dict[SourceFormat, Callable[[_Job, Path, str], tuple[str | None, str | None]]] = {
    "csv": _ingest_csv,
    "xlsx": _ingest_xlsx,
    "json": _ingest_json,
    "ndjson": _ingest_json,
    "parquet": _ingest_parquet,
    "geojson": _ingest_geojson,
}
