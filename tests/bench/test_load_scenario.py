"""The load benchmark's parts that need no crowd: reading locust's CSV files into figures, starting a server on a
port of its own when another process took the first one, and locust staying out of every process but its own.

The scenario itself runs at `--size tiny` in tests/bench/test_bench_runs.py."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import httpx
import pytest
from rich.console import Console

from bench.harness import Options
from bench.load import SIZES, LocustRun, RequestStats, _raised, figures_of, read_stats
from bench.processes import free_port, server

REPO = Path(__file__).resolve().parents[2]
STATS_HEADER = (
    "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,"
    "Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%"
)


def write_locust_csv(
    prefix: Path, stats: list[str], failures: tuple[str, ...] = (), exceptions: tuple[str, ...] = ()
) -> None:
    """Files as `locust --csv PREFIX` writes them (locust 2.47's columns)."""
    Path(f"{prefix}_stats.csv").write_text("\n".join([STATS_HEADER, *stats]) + "\n", encoding="utf-8")
    failures_header = "Method,Name,Error,Occurrences,First Seen,Last Seen"
    Path(f"{prefix}_failures.csv").write_text("\n".join([failures_header, *failures]) + "\n", encoding="utf-8")
    exceptions_header = "Count,Message,Traceback,Nodes"
    Path(f"{prefix}_exceptions.csv").write_text("\n".join([exceptions_header, *exceptions]) + "\n", encoding="utf-8")


def stats_row(method: str, name: str, count: int, failures: int, p50: int, p95: int) -> str:
    return f"{method},{name},{count},{failures},{p50},1.0,1.0,1.0,10.0,1.0,0.0,{p50},1,1,1,1,{p95},1,1,1,1,1"


def options(tmp_path: Path) -> Options:
    return Options("small", ("sqlite",), None, tmp_path, Console(file=None, quiet=True))


def test_stats_are_read_per_request_type_with_failures_and_exceptions(tmp_path: Path) -> None:
    write_locust_csv(
        tmp_path / "crowd",
        [
            stats_row("GET", "home", 900, 0, 12, 40),
            stats_row("POST", "submit application", 100, 3, 80, 450),
            "GET,never answered,0,0,0,0,0,0,0,0.0,0.0,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A",
            stats_row("", "Aggregated", 1000, 3, 14, 300),
        ],
        failures=("POST,submit application,\"CatchResponseError('500 (expected 201): oops')\",3,1,2",),
        exceptions=('2,"KeyError(\'id\')","Traceback (most recent call last): ...",vm',),
    )
    run = read_stats(tmp_path / "crowd")
    assert set(run.types) == {"home", "submit application"}
    assert (run.types["submit application"].p50, run.types["submit application"].p95) == (80, 450)
    assert (run.requests, run.failures, run.exceptions, run.errors) == (1000, 3, 2, 5)
    assert run.error_rate == pytest.approx(0.005)
    assert any("500 (expected 201)" in problem for problem in run.problems)
    assert any("KeyError" in problem for problem in run.problems)


def test_figures_compare_each_type_with_the_single_user_and_judge_only_the_errors(tmp_path: Path) -> None:
    alone = LocustRun(
        {
            "home": read_one(tmp_path, "alone-home", "home", 20, 10, 20),
            "inbox": read_one(tmp_path, "alone-inbox", "inbox", 20, 25, 30),
        },
        40,
        0,
        0,
        [],
        {},
    )
    crowd = read_stats(write_run(tmp_path / "crowd", [("GET", "home", 900, 2, 30, 90), ("GET", "search", 50, 0, 9, 9)]))
    figures = figures_of("sqlite", options(tmp_path), SIZES["small"], alone, crowd)
    by_name = {f.name: f for f in figures}
    assert set(by_name) == {"p50 home", "p95 home", "answered as expected"}  # `search`: no single-user reference
    assert by_name["p50 home"].ratio == pytest.approx(3.0)
    assert by_name["p95 home"].ratio == pytest.approx(4.5)
    assert by_name["p50 home"].met is None  # latencies are recorded, not judged
    errors = by_name["answered as expected"]
    assert (errors.yiwang, errors.reference, errors.met) == (948, 950, False)
    assert "0.211%" in errors.workload


def test_a_run_without_errors_meets_the_target(tmp_path: Path) -> None:
    crowd = read_stats(write_run(tmp_path / "crowd", [("GET", "home", 10, 0, 0, 3)]))
    alone = read_stats(write_run(tmp_path / "alone", [("GET", "home", 5, 0, 0, 2)]))
    by_name = {f.name: f for f in figures_of("sqlite", options(tmp_path), SIZES["small"], alone, crowd)}
    assert by_name["answered as expected"].met is True
    # the CSV's whole milliseconds: 0 means under half a millisecond, shown as 1 so that the ratio stays finite
    assert by_name["p50 home"].ratio == 1.0


def write_run(prefix: Path, rows: list[tuple[str, str, int, int, int, int]]) -> Path:
    total, failed = sum(r[2] for r in rows), sum(r[3] for r in rows)
    write_locust_csv(prefix, [*(stats_row(*row) for row in rows), stats_row("", "Aggregated", total, failed, 1, 1)])
    return prefix


def read_one(tmp_path: Path, label: str, name: str, count: int, p50: int, p95: int) -> RequestStats:
    return read_stats(write_run(tmp_path / label, [("GET", name, count, 0, p50, p95)])).types[name]


def bare_server(port: int) -> list[str]:
    return [sys.executable, "-m", "bench.http_bare", "--host", "127.0.0.1", "--port", str(port)]


def test_server_moves_to_another_port_when_its_first_one_is_taken(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        ports = iter([busy, free_port()])
        log = tmp_path / "bare.log"
        with server(bare_server, {"PYTHONPATH": str(REPO)}, REPO, "/", log, choose_port=lambda: next(ports)) as url:
            assert not url.endswith(f":{busy}")
            assert httpx.get(f"{url}/", timeout=10).status_code == 200
        assert "address already in use" in log.read_text(errors="replace").lower()


def test_server_that_fails_for_another_reason_says_why(tmp_path: Path) -> None:
    def failing(port: int) -> list[str]:
        return [sys.executable, "-c", "import sys; print('no configuration found'); sys.exit(3)"]

    with (
        pytest.raises(RuntimeError, match="no configuration found"),
        server(failing, {}, tmp_path, "/", tmp_path / "exits.log"),
    ):
        pass


def test_only_the_locustfile_imports_locust() -> None:
    """locust's gevent patches the standard library of whatever process imports it: bench and the tests start it
    as a process of its own instead."""
    importing = [
        path.relative_to(REPO).as_posix()
        for folder in ("bench", "tests", "yiwang")
        for path in (REPO / folder).rglob("*.py")
        if any(line.strip().startswith(("import locust", "from locust ")) for line in path.read_text().splitlines())
    ]
    assert importing == ["bench/locustfile.py"]


def test_a_server_logs_exceptions_are_counted_by_their_line() -> None:
    log = (
        "INFO: GET / 200\nunexpected error 1a2b on GET /\nTraceback (most recent call last):\n"
        '  File "x.py", line 1, in f\n    raise TimeoutError\n'
        "sqlalchemy.exc.TimeoutError: QueuePool limit of size 5 overflow 10 reached\nINFO: GET / 200\n"
    )
    assert list(_raised(log * 2)) == ["sqlalchemy.exc.TimeoutError: QueuePool limit of size 5 overflow 10 reached"] * 2
