"""Benchmarks run side by side: each one times yiwang's path and a reference in the same run, and reports the ratio.

`python -m bench` runs them all; `python -m bench NAME` runs one. See bench/README.md.
"""

from __future__ import annotations

# Name → module exposing `DESCRIPTION` and `run(options) -> list[Figure]`; imported only when it runs.
BENCHMARKS: dict[str, str] = {
    "audit": "bench.audit",
    "ingest": "bench.ingest",
    "ingest-5gb": "bench.ingest_5gb",
    "http": "bench.http",
    "rows": "bench.rows",
    "search": "bench.search",
    "exchange": "bench.exchange",
    "dp": "bench.dp",
    "workflow": "bench.workflow",
    "load": "bench.load",
}
