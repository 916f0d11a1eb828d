"""下载 Downloads of a dataset version as CSV (UTF-8 with BOM, for Excel), JSON or Parquet, streamed.

Rows flow from the version's Parquet file through a locked-down DuckDB (the SQL sandbox's masked views) in record
batches straight into the response, so a large download uses bounded memory. Only the publisher gets personal
fields raw; everyone else gets them masked, as on every other open path.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from yiwang.catalog import service
from yiwang.catalog.jsonable import json_value
from yiwang.catalog.rules import CatalogAction, is_publisher, rows_resource
from yiwang.catalog.sql import SQL_TEMP_DIR, SqlTable, open_sandbox
from yiwang.core import audit
from yiwang.core.authz import authorize
from yiwang.core.db import Database
from yiwang.core.errors import InvalidInput
from yiwang.core.i18n import N_
from yiwang.core.identity import Actor
from yiwang.core.masking import PersonalKind

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "parquet": "application/vnd.apache.parquet",
}
BATCH_ROWS = 50_000
DOWNLOAD_SECONDS = 3600.0
UTF8_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class Download:
    """A download ready to stream: iterate `chunks` once."""

    filename: str
    media_type: str
    chunks: Iterator[bytes]
    masked: list[str]


def prepare_download(
    database: Database, actor: Actor, data_dir: Path, name: str, fmt: str, *, version: int | None = None
) -> Download:
    """Check the actor may read the rows, record a non-open download in the audit chain, and stream it."""
    if fmt not in FORMATS:
        raise InvalidInput(
            "download.bad_format", N_("Download as one of: {choices}"), choices=", ".join(sorted(FORMATS))
        )
    with database.read_session() as session:
        dataset = service.get_dataset(session, actor, name)
        resource = rows_resource(dataset)
        authorize(actor, CatalogAction.READ_ROWS, resource)
        chosen = service.chosen_version(dataset, version)
        if chosen is None:
            raise InvalidInput("dataset.no_version", N_("Dataset {name} has no data yet"), name=name)
        raw = is_publisher(actor, resource)
        fields = [(f.name, PersonalKind.NONE.value if raw else f.kind) for f in chosen.fields]
        masked = [column for column, kind in fields if kind != PersonalKind.NONE.value]
        table = SqlTable(dataset.name, service.version_file(data_dir, chosen), fields)
        number, rows, public = chosen.number, chosen.row_count, resource.is_public
    if not public:
        with database.session() as session:
            audit.record(
                session,
                actor,
                "dataset.download",
                resource_type="dataset",
                resource_id=name,
                detail={"version": number, "format": fmt, "rows": rows, "masked": masked},
            )
    return Download(f"{name}-v{number}.{fmt}", FORMATS[fmt], _stream(table, fmt, data_dir), masked)


def _stream(table: SqlTable, fmt: str, data_dir: Path) -> Iterator[bytes]:
    """Open the sandbox and start the query now, so a failure is an error response rather than a cut-off file."""
    spill_root = data_dir / SQL_TEMP_DIR
    spill_root.mkdir(parents=True, exist_ok=True)
    spill = Path(tempfile.mkdtemp(prefix="download-", dir=spill_root))
    try:
        connection = open_sandbox([table], spill, DOWNLOAD_SECONDS)
        name = '"' + table.name.replace('"', '""') + '"'
        reader = connection.sql(f"SELECT * FROM {name}").to_arrow_reader(BATCH_ROWS)
    except BaseException:
        shutil.rmtree(spill, ignore_errors=True)
        raise
    writer = WRITERS[fmt]

    def chunks() -> Iterator[bytes]:
        try:
            yield from writer(reader)
        finally:
            connection.close()
            shutil.rmtree(spill, ignore_errors=True)

    return chunks()


def write_csv(reader: pa.RecordBatchReader) -> Iterator[bytes]:
    sink = io.BytesIO()
    sink.write(UTF8_BOM)  # Excel opens UTF-8 CSV with Chinese text correctly only with a BOM
    # Arrow quotes every header name; Python's csv quotes only the names that need it, as Excel writes them.
    header = io.StringIO()
    csv.writer(header, lineterminator="\n").writerow(reader.schema.names)
    sink.write(header.getvalue().encode())
    options = pacsv.WriteOptions(include_header=False)
    with pacsv.CSVWriter(sink, reader.schema, write_options=options) as writer:
        for batch in reader:
            writer.write_batch(batch)
            yield _drain(sink)
    yield _drain(sink)


def _drain(sink: io.BytesIO) -> bytes:
    data = sink.getvalue()
    sink.seek(0)
    sink.truncate()
    return data


def write_json(reader: pa.RecordBatchReader) -> Iterator[bytes]:
    first = True
    yield b"["
    for batch in reader:
        lines = []
        for row in batch.to_pylist():
            text = json.dumps({k: json_value(v) for k, v in row.items()}, ensure_ascii=False)
            lines.append(("\n" if first else ",\n") + text)
            first = False
        yield "".join(lines).encode()
    yield b"\n]\n"


class _Drain:
    """A write-only file that keeps only what was written since the last drain, but counts every byte, so the
    Parquet writer's offsets stay right while the response streams."""

    def __init__(self) -> None:
        self.pending = bytearray()
        self.position = 0
        self.closed = False

    def write(self, data: bytes) -> int:
        self.pending += data
        self.position += len(data)
        return len(data)

    def tell(self) -> int:
        return self.position

    def flush(self) -> None:
        return None

    def close(self) -> None:
        self.closed = True

    def writable(self) -> bool:
        return True

    def take(self) -> bytes:
        data = bytes(self.pending)
        self.pending.clear()
        return data


def write_parquet(reader: pa.RecordBatchReader) -> Iterator[bytes]:
    sink = _Drain()
    with pq.ParquetWriter(pa.PythonFile(sink, mode="w"), reader.schema, compression="zstd") as writer:
        for batch in reader:
            writer.write_batch(batch)
            yield sink.take()
    yield sink.take()


WRITERS: dict[str, Callable[[pa.RecordBatchReader], Iterator[bytes]]] = {
    "csv": write_csv,
    "json": write_json,
    "parquet": write_parquet,
}
