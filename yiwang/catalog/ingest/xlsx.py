"""XLSX: a zip-bomb check on the archive, then openpyxl's streamed rows written to Parquet in batches."""

from __future__ import annotations

import contextlib
import datetime as dt
import warnings
import zipfile
from collections.abc import Generator, Iterator
from itertools import islice
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from yiwang.catalog.ingest.common import Job, literal, malformed, unique_names
from yiwang.core.errors import InvalidInput
from yiwang.core.i18n import N_

ZIP_BOMB_RATIO = 100
ZIP_BOMB_MEMBER_BYTES = 50 * 1024**2
ZIP_MAX_MEMBERS = 10_000
XLSX_BATCH_ROWS = 10_000
_INT64 = (-(2**63), 2**63 - 1)


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


def ingest_xlsx(job: Job, target: Path, source_format: str) -> tuple[str | None, str | None]:
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
    job.copy(f"SELECT {', '.join(selects)} FROM read_parquet({literal(sheet)})", target)
    return None, None


def _check_workbook_archive(job: Job) -> None:
    """Refuse a zip bomb from its central directory alone, before anything is decompressed."""
    try:
        with zipfile.ZipFile(job.source) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise malformed("xlsx", str(exc)[:200]) from None
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


def _sheet_rows(job: Job) -> Generator[tuple[Any, ...], None, None]:
    """Rows of the first sheet as value tuples, streamed; openpyxl's failures become ``ingest.malformed``."""
    import openpyxl  # type: ignore[import-untyped]  # only XLSX needs it

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # styles and extensions openpyxl skips do not matter for values
            book = openpyxl.load_workbook(job.source, read_only=True, data_only=True)
    except Exception as exc:
        raise malformed("xlsx", f"{type(exc).__name__}: {str(exc)[:200]}") from None
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
                raise malformed("xlsx", f"{type(exc).__name__}: {str(exc)[:200]}") from None
            if not block:
                return
            yield from block
            done += len(block)
            if expected:
                job.progress.update(done / expected)
    finally:
        book.close()


def _write_sheet(job: Job, path: Path) -> tuple[list[str], list[bool], list[_ExcelColumn]]:
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
    names = unique_names(raw_names)
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


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
