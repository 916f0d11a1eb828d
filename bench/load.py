"""Load 负载: a day on the portal under locust — visitors, searchers, downloaders, citizens applying, staff handling
their inbox — against `yiwang serve` on the demo installation, per request type against the same type with one user.

`yiwang demo --no-serve --size small` fills a temporary installation; load accounts (citizens, and staff of the
departments that handle the applied-for services) are added with the operator's service calls; `yiwang serve` runs
with production settings. locust runs twice as its own process (gevent: never imported here): first the `Alone`
user, every request type in turn with nobody else on the server (the reference), then the crowd. Its CSV statistics
give p50 and p95 per request type; its failures and exceptions give the error rate, whose target is 0. Afterwards
`yiwang audit verify` must pass, or the run fails; tracebacks in the server's log fail the tiny run (CI's smoke) and
are counted and shown at the larger sizes, whose errors are the finding to record.
"""

from __future__ import annotations

import csv
import json
import math
import secrets
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

from bench.databases import demo_installation
from bench.harness import DatabaseKind, Figure, Options, Size, Target, per_database
from bench.processes import BIN, child_env, server, yiwang_serve

DESCRIPTION = "a day on the portal under locust (browse, search, download, apply, handle): p50/p95 per type vs 1 user"
NAME = "load"
LOCUSTFILE = Path(__file__).resolve().with_name("locustfile.py")
CROWD = ("Visitor", "Searcher", "Downloader", "Citizen", "Staff")  # the locustfile's user classes under load
ALONE = "Alone"
ALONE_LABEL = "the same request type, 1 user"
NO_ERRORS = Target(min_ratio=1.0)  # every request answered as expected: error rate 0
REPORTED = Target()  # the issue asks latencies to be recorded, not judged
# Citizen items of the demo handled by one department each (the first step's), so that the staff signed in are the
# ones whose inbox the applications fill; all accept the item's example application.
SERVICES: dict[str, str] = {
    "no-criminal-record-certificate": "海南省公安厅",
    "driving-licence-renewal": "海南省公安厅",
    "id-card-renewal": "海南省公安厅",
    "pension-eligibility-check": "海南省人力资源和社会保障厅",
    "flexible-employment-enrolment": "海南省人力资源和社会保障厅",
    "social-security-card": "海南省人力资源和社会保障厅",
    "tax-payment-certificate": "海南省税务局",
    "weather-disaster-certificate": "海南省气象局",
}
# Open demo datasets (无条件开放) at size small; the first six are the ones downloaded (60 to 7,000 rows).
DATASETS = (
    "weather-daily",
    "air-quality-daily",
    "schools",
    "scenic-spots",
    "administrative-licences",
    "bus-routes-stops",
    "tourism-monthly",
    "budget-disclosure",
    "medical-institutions",
    "service-halls",
    "tax-revenue-stats",
    "job-postings",
)
DOWNLOADS = DATASETS[:6]
MATERIAL_BYTES = 32 * 1024  # each uploaded material: a small scan
LOCUST_GRACE_S = 180  # beyond the run time: locust's start, the users' last tasks, writing the CSV files
STOP_TIMEOUT_S = 10  # users finish the task they are in when the time is up, so no request is cut off


@dataclass(frozen=True)
class LoadSize:
    users: int
    spawn_rate: float  # users started per second
    seconds: int
    staff: int  # of the users, staff members (a department's team does not grow with the traffic)
    alone_seconds: int

    @property
    def citizens(self) -> int:
        """Citizen accounts: about one per simulated citizen (15 % of the users, by the locustfile's weights)."""
        return max(2, math.ceil(self.users * 0.2))


SIZES: dict[Size, LoadSize] = {
    "tiny": LoadSize(users=5, spawn_rate=5, seconds=10, staff=1, alone_seconds=6),
    "small": LoadSize(users=50, spawn_rate=5, seconds=120, staff=6, alone_seconds=30),
    "full": LoadSize(users=200, spawn_rate=10, seconds=600, staff=10, alone_seconds=60),
}


@dataclass(frozen=True)
class RequestStats:
    """One request type's line of locust's `_stats.csv`."""

    name: str
    count: int
    failures: int
    p50: float
    p95: float


@dataclass(frozen=True)
class LocustRun:
    """What one locust run measured: per request type, the totals, and the failures and exceptions as text."""

    types: dict[str, RequestStats]
    requests: int
    failures: int
    exceptions: int
    problems: list[str]
    counts: dict[str, int]

    @property
    def errors(self) -> int:
        return self.failures + self.exceptions

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else float("nan")


def read_stats(prefix: Path) -> LocustRun:
    """Parse `PREFIX_stats.csv`, `_failures.csv` and `_exceptions.csv` as locust writes them (`--csv PREFIX`)."""
    types: dict[str, RequestStats] = {}
    requests = failures = 0
    with Path(f"{prefix}_stats.csv").open(encoding="utf-8", newline="") as stats:
        for row in csv.DictReader(stats):
            count, failed = int(row["Request Count"]), int(row["Failure Count"])
            if row["Name"] == "Aggregated":
                requests, failures = count, failed
            elif count:
                types[row["Name"]] = RequestStats(row["Name"], count, failed, float(row["50%"]), float(row["95%"]))
    problems: list[str] = []
    with Path(f"{prefix}_failures.csv").open(encoding="utf-8", newline="") as listed:
        for row in csv.DictReader(listed):
            problems.append(f"{row['Occurrences']}× {row['Method']} {row['Name']}: {row['Error']}")
    exceptions = 0
    exceptions_file = Path(f"{prefix}_exceptions.csv")
    if exceptions_file.exists():
        with exceptions_file.open(encoding="utf-8", newline="") as listed:
            for row in csv.DictReader(listed):
                exceptions += int(row["Count"])
                problems.append(f"{row['Count']}× exception in the locustfile: {row['Message']}\n{row['Traceback']}")
    counts_file = Path(f"{prefix}_counts.json")
    counts = json.loads(counts_file.read_text(encoding="utf-8")) if counts_file.exists() else {}
    return LocustRun(types, requests, failures, exceptions, problems, counts)


def add_accounts(database_url: str, citizens: list[str], staff: list[tuple[str, str]], password: str) -> None:
    """The load's citizens and staff (username, department), created as the operator does (argon2 at its
    production cost: about 0.1 s an account)."""
    from yiwang.core import accounts
    from yiwang.core.db import Database
    from yiwang.core.identity import Actor

    operator = Actor.operator()
    database = Database(database_url)
    try:
        with database.session() as session:
            for number, username in enumerate(citizens, 1):
                accounts.create_user(session, operator, username, password, ["citizen"], None, f"市民 负载{number}")
            for username, department in staff:
                accounts.create_user(session, operator, username, password, ["dept_staff"], department, username)
    finally:
        database.dispose()


def plan_for(size: LoadSize, work: Path, password: str) -> tuple[Path, list[str], list[tuple[str, str]]]:
    """The plan the locustfile reads ($BENCH_LOAD_PLAN), and the accounts it names."""
    departments = list(dict.fromkeys(SERVICES.values()))
    citizens = [f"load-citizen-{i:03d}" for i in range(size.citizens)]
    # dealt round the departments, so that each has staff whenever there are as many staff as departments
    staff = [(f"load-staff-{i:03d}", departments[i % len(departments)]) for i in range(max(size.staff, 1))]
    plan = {
        "password": password,
        "citizens": citizens,
        "staff": [username for username, _ in staff],
        "staff_users": size.staff,
        "services": list(SERVICES),
        "datasets": list(DATASETS),
        "downloads": list(DOWNLOADS),
        "material_bytes": MATERIAL_BYTES,
    }
    path = work / "plan.json"
    path.write_text(json.dumps(plan, ensure_ascii=False), encoding="utf-8")
    return path, citizens, staff


@dataclass(frozen=True)
class Installation:
    """The demo installation with the load's accounts."""

    env: dict[str, str]  # its settings, for `yiwang` commands on it
    work: Path
    plan: Path

    @property
    def log(self) -> Path:
        return self.work / "yiwang.log"

    def serve(self) -> AbstractContextManager[str]:
        """`yiwang serve` on it with production settings; its base URL. Nothing is weakened (login lock-out,
        upload limit, argon2 cost as shipped); only cookies may travel over plain HTTP, as loopback has no TLS (a
        deployment ends TLS at its proxy)."""
        env = {**self.env, "YIWANG_ENVIRONMENT": "production", "YIWANG_COOKIE_SECURE": "false"}
        return server(yiwang_serve, env, self.work, "/healthz", self.log)


@contextmanager
def installed(options: Options, kind: DatabaseKind, work: Path, size: LoadSize) -> Iterator[Installation]:
    """`yiwang demo` in a new installation, plus the load's citizens and staff; on PostgreSQL its database is dropped
    when the block ends."""
    start = time.perf_counter()
    with demo_installation(kind, options.scratch, options.postgres_url, NAME, work) as env:
        data_dir = Path(env["YIWANG_DATA_DIR"])
        password = secrets.token_urlsafe(12)
        plan, citizens, staff = plan_for(size, work, password)
        database_url = env.get("YIWANG_DATABASE_URL") or f"sqlite:///{data_dir / 'yiwang.db'}"
        add_accounts(database_url, citizens, staff, password)
        options.console.print(
            f"demo portal loaded with {len(citizens)} citizens and {len(staff)} staff in "
            f"{time.perf_counter() - start:.1f} s"
        )
        yield Installation(env, work, plan)


WARM_UP = (
    "/",
    "/datasets",
    f"/datasets/{DATASETS[0]}",
    "/datasets?q=企业",
    "/api/3/action/package_search?q=企业",
    "/services",
    "/services?q=出生",
    "/api/v1/services?q=出生",
)


def warm_up(url: str) -> None:
    """One request of each kind that loads something once per process (templates, jieba's dictionary), so that
    neither run's figures carry the server's start."""
    with httpx.Client(base_url=url, timeout=120) as client:
        for path in WARM_UP:
            client.get(path).raise_for_status()


def run_locust(
    made: Installation, url: str, label: str, classes: tuple[str, ...], users: int, rate: float, seconds: int
) -> LocustRun:
    """locust in its own process, headless, `users` of `classes` against `url` for `seconds`; its statistics."""
    work = made.work
    prefix = work / label
    command = [
        str(BIN / "locust"),
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "--host",
        url,
        "-u",
        str(users),
        "-r",
        f"{rate:g}",
        "-t",
        f"{seconds}s",
        "--stop-timeout",
        str(STOP_TIMEOUT_S),
        "--csv",
        str(prefix),
        "--only-summary",
        "--loglevel",
        "WARNING",
        "--exit-code-on-error",
        "0",  # failures are the measurement, read from the CSV files
        *classes,
    ]
    plan = json.loads(made.plan.read_text(encoding="utf-8"))
    run_plan = work / f"{label}-plan.json"
    run_plan.write_text(json.dumps({**plan, "counters": f"{prefix}_counts.json"}, ensure_ascii=False), encoding="utf-8")
    env = child_env({"BENCH_LOAD_PLAN": str(run_plan)})
    output = work / f"{label}-locust.log"
    with output.open("wb") as sink:
        # cwd: the work directory, where no locust.conf or pyproject.toml can add options
        done = subprocess.run(
            command, cwd=work, env=env, stdout=sink, stderr=subprocess.STDOUT, timeout=seconds + LOCUST_GRACE_S
        )
    if done.returncode != 0 or not Path(f"{prefix}_stats.csv").exists():
        raise RuntimeError(
            f"locust ({label}) failed ({done.returncode}):\n{output.read_text(errors='replace')[-3000:]}"
        )
    measured = read_stats(prefix)
    if not measured.requests:
        raise RuntimeError(f"locust ({label}) sent no request:\n{output.read_text(errors='replace')[-3000:]}")
    return measured


def check_server(made: Installation, console: Console, *, strict: bool) -> str:
    """After the server stopped: how many tracebacks its log holds (the first is shown; with `strict`, the CI smoke,
    any fails the run) and what `yiwang audit verify` said, which must pass."""
    written = made.log.read_text(errors="replace")
    tracebacks = written.count("Traceback (most recent call last)")
    if tracebacks:
        first = written.index("Traceback")
        excerpt = written[max(0, first - 500) : first + 4000]
        if strict:
            raise RuntimeError(f"the server logged a traceback under load:\n{excerpt}")
        console.print(f"[red]the server logged {tracebacks} traceback(s) under load; by exception:[/]")
        for line, count in Counter(_raised(written)).most_common(10):
            console.print(f"[red]  {count:,}× {line[:300]}[/]")
    verify = [str(BIN / "yiwang"), "audit", "verify"]
    done = subprocess.run(verify, env=made.env, cwd=made.work, capture_output=True, text=True, timeout=600)
    said = " ".join((done.stdout + done.stderr).split())
    if done.returncode != 0:
        raise RuntimeError(f"yiwang audit verify failed after the load ({done.returncode}): {said[-3000:]}")
    return f"{tracebacks} traceback(s) in the server log; {said}"


def _raised(log: str) -> Iterator[str]:
    """The exception line of each traceback in a server log (a chained exception gives one per link)."""
    reading = False
    for line in log.splitlines():
        if line.startswith("Traceback (most recent call last)"):
            reading = True
        elif reading and line and not line[0].isspace() and not line.startswith(("The above", "During handling")):
            yield line
            reading = False


def figures_of(
    kind: DatabaseKind, options: Options, size: LoadSize, alone: LocustRun, crowd: LocustRun
) -> list[Figure]:
    """p50 and p95 of every request type both runs made, against the same with one user; and the error rate."""
    scenario = f"{size.users} users × {size.seconds} s"
    figures: list[Figure] = []
    for name, loaded in crowd.types.items():
        reference = alone.types.get(name)
        if reference is None:
            options.console.print(f"[yellow]{name}: not made by the single user, no figure[/]")
            continue
        failed = f", {loaded.failures:,} failed" if loaded.failures else ""
        workload = f"{scenario}: {loaded.count:,} requests{failed}; alone: {reference.count:,}"
        for percentile, mine, theirs in (("p50", loaded.p50, reference.p50), ("p95", loaded.p95, reference.p95)):
            # the CSV has whole milliseconds: a 0 there means under half a millisecond
            figures.append(
                Figure(
                    NAME,
                    f"{percentile} {name}",
                    kind,
                    options.size,
                    workload,
                    "ms",
                    max(mine, 1.0),
                    max(theirs, 1.0),
                    ALONE_LABEL,
                    REPORTED,
                )
            )
    answered = max(crowd.requests - crowd.errors, 0)
    workload = (
        f"{scenario}: error rate {crowd.error_rate:.3%} ({crowd.failures:,} failed, {crowd.exceptions:,} exceptions "
        f"of {crowd.requests:,} requests; target 0)"
    )
    figures.append(
        Figure(
            NAME,
            "answered as expected",
            kind,
            options.size,
            workload,
            "requests",
            answered,
            crowd.requests,
            "requests sent",
            NO_ERRORS,
        )
    )
    return figures


def show_run(options: Options, alone: LocustRun, crowd: LocustRun) -> None:
    table = Table(title="load: per request type (ms)")
    for column in ("request type", "alone n", "alone p50", "alone p95", "load n", "load p50", "load p95", "failed"):
        table.add_column(column, justify="left" if column == "request type" else "right")
    for name in sorted(set(alone.types) | set(crowd.types)):
        one, many = alone.types.get(name), crowd.types.get(name)
        alone_cells = (f"{one.count:,}", f"{one.p50:,.0f}", f"{one.p95:,.0f}") if one else ("—",) * 3
        crowd_cells = (
            (f"{many.count:,}", f"{many.p50:,.0f}", f"{many.p95:,.0f}", f"{many.failures:,}") if many else ("—",) * 4
        )
        table.add_row(name, *alone_cells, *crowd_cells)
    options.console.print(table)
    for problem in (crowd.problems + alone.problems)[:20]:
        options.console.print(f"[red]{problem}[/]")


def measure(options: Options, kind: DatabaseKind, size: LoadSize, work: Path) -> list[Figure]:
    console = options.console
    with installed(options, kind, work, size) as made:
        with made.serve() as url:
            warm_up(url)
            alone = run_locust(made, url, "alone", (ALONE,), 1, 1, size.alone_seconds)
            console.print(f"alone: {alone.requests:,} requests in {size.alone_seconds} s, {alone.errors} errors")
            crowd = run_locust(made, url, "crowd", CROWD, size.users, size.spawn_rate, size.seconds)
        rate = crowd.requests / size.seconds
        console.print(
            f"{size.users} users: {crowd.requests:,} requests in {size.seconds} s ({rate:,.0f}/s), "
            f"error rate {crowd.error_rate:.3%}; " + ", ".join(f"{k} {v:,}" for k, v in sorted(crowd.counts.items()))
        )
        show_run(options, alone, crowd)
        console.print(f"server: {check_server(made, console, strict=options.size == 'tiny')}")
    return figures_of(kind, options, size, alone, crowd)


def run(options: Options) -> list[Figure]:
    size = SIZES[options.size]
    return per_database(options, NAME, lambda kind, work: measure(options, kind, size, work))
