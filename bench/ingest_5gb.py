"""Ingest of one large UTF-8 CSV (5 GB at the full size) against DuckDB: time, and peak RSS against the 1.5 GiB
budget. The SQLite loader is left out: at this size it alone would take a quarter of an hour."""

from __future__ import annotations

from bench.harness import Figure, Options, Size
from bench.ingest import IngestSize, run_sizes

DESCRIPTION = "5 GB CSV → published version: time vs DuckDB COPY, peak RSS vs the 1.5 GiB budget"
GB = 1000**3
SIZES: dict[Size, IngestSize] = {
    "tiny": IngestSize(max_bytes=2 * 1024**2, encodings=("utf-8",), loader=False, rss_budget=True),
    "small": IngestSize(max_bytes=GB // 2, encodings=("utf-8",), loader=False, rss_budget=True),
    "full": IngestSize(max_bytes=5 * GB, encodings=("utf-8",), loader=False, rss_budget=True),
}


def run(options: Options) -> list[Figure]:
    return run_sizes("ingest-5gb", options, SIZES[options.size])
