"""Every benchmark still runs at the tiny size and reports a ratio per figure (never a timing threshold)."""

from __future__ import annotations

import io
import math
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from bench import BENCHMARKS
from bench.__main__ import run
from bench.report import RESULTS_FILE

REPO = Path(__file__).resolve().parents[2]


def results_text() -> str | None:
    return RESULTS_FILE.read_text(encoding="utf-8") if RESULTS_FILE.exists() else None


@pytest.mark.parametrize("name", sorted(BENCHMARKS))
@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_each_benchmark_runs_tiny_and_reports_ratios(name: str, kind: str, _postgres_admin_url: str | None) -> None:
    if kind == "postgresql" and _postgres_admin_url is None:
        pytest.skip("no PostgreSQL server (set YIWANG_TEST_POSTGRES_URL; .ci/run does)")
    before = results_text()
    out = io.StringIO()
    argv = [name, "--size", "tiny", "--no-record", "--db", kind]
    if kind == "postgresql":
        argv += ["--postgres-url", str(_postgres_admin_url)]
    figures = run(argv, Console(file=out, width=200))
    assert figures and {f.benchmark for f in figures} == {name}
    assert all(f.database == kind and math.isfinite(f.ratio) and f.ratio > 0 for f in figures)
    assert "ratio" in out.getvalue() and f"{figures[0].ratio:.2f}" in out.getvalue()
    assert results_text() == before


def test_python_m_bench_lists_every_benchmark() -> None:
    listing = subprocess.run(
        [sys.executable, "-m", "bench", "--list"], cwd=REPO, capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert all(name in listing for name in BENCHMARKS)


def test_ingest_and_rows_benchmarks_are_registered() -> None:
    """The catalogue's benchmarks run in the smoke above (tiny CSV ingest in UTF-8 and GBK, a tiny rows API run
    against Datasette and raw DuckDB) only when they are in the registry."""
    assert {"ingest": "bench.ingest", "ingest-5gb": "bench.ingest_5gb", "rows": "bench.rows"}.items() <= (
        BENCHMARKS.items()
    )


def test_search_and_http_benchmarks_are_registered() -> None:
    """Catalogue search against the raw index (FTS5 / GIN) and the read endpoints under load against a bare
    Starlette endpoint run in the smoke above only when they are in the registry."""
    assert {"search": "bench.search", "http": "bench.http"}.items() <= BENCHMARKS.items()


def test_workflow_benchmark_is_registered() -> None:
    """一网通办's workflow (platform submissions and task completions against bare SpiffWorkflow in memory, state
    size per application) runs in the smoke above only when it is in the registry."""
    assert BENCHMARKS.get("workflow") == "bench.workflow"
