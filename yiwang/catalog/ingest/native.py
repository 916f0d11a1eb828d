"""JSON, NDJSON and Parquet: formats DuckDB reads itself, copied straight to the result."""

from __future__ import annotations

import codecs
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from yiwang.catalog.ingest.common import CHUNK_BYTES, Job, literal
from yiwang.core.errors import InvalidInput
from yiwang.core.i18n import N_


def ingest_json(job: Job, target: Path, source_format: str) -> tuple[str | None, str | None]:
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
    select = f"SELECT * FROM read_json({literal(job.source)}, format = '{layout}', records = true, sample_size = -1)"
    job.copy(select, target)
    return None, None


def ingest_parquet(job: Job, target: Path, source_format: str) -> tuple[str | None, str | None]:
    try:
        metadata = pq.read_metadata(job.source)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise job.malformed(source_format, exc) from None
    if metadata.num_columns == 0 or metadata.num_rows == 0:
        raise InvalidInput("ingest.empty", N_("The file has no data rows"))
    job.progress.stage(0.0, 0.2)
    job.hash_source()
    job.progress.stage(0.2, 1.0)
    job.copy(f"SELECT * FROM read_parquet({literal(job.source)})", target)
    return None, None
