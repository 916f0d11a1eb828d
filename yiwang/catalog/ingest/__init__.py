"""Ingest: one uploaded file (CSV, XLSX, JSON, NDJSON, Parquet, GeoJSON) becomes one Parquet file.

A pure module: no database, no web. Memory stays bounded for every format:

- CSV, JSON, NDJSON and Parquet stream through DuckDB under `memory_limit`, spilling to a temp directory next to
  the target. GB18030 (GBK) and UTF-16 CSV are first transcoded to a temp UTF-8 file in fixed-size chunks; a UTF-8
  CSV is decoded in Python for its first MiB only (DuckDB rejects invalid UTF-8 past it, and then Python decodes the
  whole file to name the line and byte) and hashed on a thread while DuckDB reads it.
- XLSX streams rows from openpyxl's read-only reader into Parquet batches of 10,000 rows; only the workbook's
  shared-strings table is held whole, and that is bounded by `max_bytes` of uncompressed size.
- GeoJSON streams one feature at a time (a chunk of text plus the current feature; one feature may be up to 256 MiB).

The result appears at `target` by an atomic rename, or not at all; temp files never outlive the call.
"""

from yiwang.catalog.ingest.common import InferredField, IngestResult, Progress, SourceFormat
from yiwang.catalog.ingest.convert import ingest_file
from yiwang.catalog.ingest.detect import detect_format

__all__ = ["InferredField", "IngestResult", "Progress", "SourceFormat", "detect_format", "ingest_file"]
