"""Differentially private grouped count 隐私查询: yiwang's private path for ``SELECT 区划代码, count(*) … GROUP BY
区划代码`` over a person table, against the same GROUP BY on plain DuckDB in-process over the same Parquet file.

yiwang's side is timed twice. In-process: `dpsql.plan_query` checks the SQL and regenerates the exact query, the
sandbox's locked DuckDB runs it over the version's Parquet file (`service._run_exact`), and `privacy.release` adds
OpenDP's Laplace noise to every division of the declared public domain. Over HTTP: the same query sent by an
approved enterprise to `yiwang serve` (track, application, budget reservation and ledger, audit chain included).
The issue states no target (its earlier measurement was about 13 ms at 1 M rows, 3.6× the plain GROUP BY), so the
figures carry none (`Target()`): the ratio is reported, not judged. Before timing, and for every timed answer
afterwards, the sandbox's exact counts must equal DuckDB's and every released count must lie within 10 × its 95 %
half-width of the exact one, so no side is fast by answering something else.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import httpx

from bench.csvdata import DISTRICT_CODES, CsvFile
from bench.databases import empty_url
from bench.harness import DatabaseKind, Figure, Options, Size, Target, per_database
from bench.ingest import prepare_installation
from bench.processes import server, yiwang_serve
from bench.profiling import profile
from bench.rows import percentile

DESCRIPTION = "private GROUP BY count: plan + sandbox + OpenDP noise (in-process and over HTTP) vs plain DuckDB"
NAME = "dp"
DATASET = "population"
OWNER = "海南省公安厅"
HEADER = ("编号", "区划代码", "性别", "年龄", "月收入")
GROUP = "区划代码"
# Population weights (about 10,000s of residents) of Hainan's county-level divisions: the 18 of bench/csvdata.py, six
# more counties, and 三沙市 with nobody in the table, whose group must still be released as noise (or suppressed).
WEIGHTS = dict(
    zip(
        (*DISTRICT_CODES, "469025", "469026", "469027", "469028", "469029", "469030", "460300"),
        (40, 70, 50, 60, 40, 35, 10, 20, 95, 11, 53, 56, 55, 44, 28, 25, 50, 42, 16, 23, 46, 36, 15, 17, 0),
        strict=True,
    )
)
DOMAIN = tuple(WEIGHTS)  # the track's public domain of 区划代码: 25 codes
SLOTS = tuple(code for code, weight in WEIGHTS.items() for _ in range(weight))
SQL = f'SELECT "{GROUP}", count(*) FROM "{DATASET}" GROUP BY "{GROUP}"'
PLAIN_SQL = f'SELECT "{GROUP}", count(*) FROM t GROUP BY "{GROUP}"'
EPSILON = 1.0  # per query; the count is the plan's only component, so the noise scale is 1/ε
MIN_GROUP = 10
BOUNDS = {"年龄": [0.0, 100.0], "月收入": [0.0, 50_000.0]}
TOLERANCE = 10.0  # a released count farther than 10 × its 95 % half-width from the exact one is an error, not noise
CHECKS = 1  # queries per side before timing; over HTTP they spend ε too
CREDIT_CODE = "91350100M000100Y43"
SCRAMBLE = 2_654_435_761  # Knuth's multiplicative hash: spreads consecutive rows over divisions, sexes and ages
CHUNK_ROWS = 20_000
REPORTED = Target()  # no target in the issue: the ratio is shown, not judged
REFERENCE = "plain DuckDB GROUP BY in-process, same Parquet"


@dataclass(frozen=True)
class DpSize:
    rows: int
    repeats: int  # in-process runs per side
    requests: int  # over HTTP: each spends ε of the track's budget (at most 100)


SIZES: dict[Size, DpSize] = {
    "tiny": DpSize(rows=3_000, repeats=12, requests=4),
    "small": DpSize(rows=1_000_000, repeats=100, requests=30),
    "full": DpSize(rows=10_000_000, repeats=50, requests=20),
}


# --- the person table ----------------------------------------------------------------------------------------------


def _person(i: int) -> str:
    """Row `i` (0-based) as one CSV line; a pure function of `i`, so any size holds the same first rows."""
    k = i * SCRAMBLE % 4_294_967_296
    income = 1_800 + (k >> 9) % 12_000 + ((k >> 21) % 40) ** 2 * 20  # a long right tail, up to about 48,000
    return f"{i + 1},{SLOTS[k % len(SLOTS)]},{'男' if (k >> 3) % 2 else '女'},{(k >> 4) % 100},{income}\n"


def write_people(path: Path, rows: int) -> CsvFile:
    """The person table 人口 of `rows` rows as UTF-8 CSV, written a chunk at a time."""
    with path.open("wb") as sink:
        sink.write((",".join(HEADER) + "\n").encode())
        for start in range(0, rows, CHUNK_ROWS):
            sink.write("".join(_person(i) for i in range(start, min(start + CHUNK_ROWS, rows))).encode())
    return CsvFile(path, rows, path.stat().st_size, "utf-8")


# --- the installation: the table published open on conditions, three users --------------------------------------


@dataclass(frozen=True)
class Installation:
    env: dict[str, str]
    data_dir: Path
    parquet: Path
    fields: list[str]
    tokens: dict[str, str]  # username → API token


def install(data_dir: Path, database_url: str, source: Path) -> Installation:
    """A fresh installation holding the table as a dataset of the owner open on conditions, a publisher in the owner,
    an administrator and an enterprise, each with a token (the operator's service calls, as `yiwang` commands)."""
    from yiwang.catalog import service as catalog
    from yiwang.core import accounts
    from yiwang.core.db import Database
    from yiwang.core.identity import Actor

    env = prepare_installation(data_dir, database_url)
    operator = Actor.operator()
    database = Database(database_url)
    tokens: dict[str, str] = {}
    try:
        with database.session() as session:
            accounts.create_department(session, operator, OWNER, "460000")
            for username, role, department in (
                ("gongan", "dept_staff", OWNER),
                ("admin", "admin", None),
                ("qiye", "enterprise", None),
            ):
                accounts.create_user(session, operator, username, secrets.token_urlsafe(16), [role], department)
                tokens[username] = accounts.create_token(session, operator, username, "bench")[1]
            catalog.ensure_dataset(
                session,
                operator,
                catalog.DatasetInput(
                    name=DATASET, title="人口基础信息（统计）", department=OWNER, open_type="conditional"
                ),
            )
        version = catalog.ingest_version(
            database, operator, data_dir, DATASET, source, max_bytes=2**40, progress=lambda done, total: None
        )
        fields = [f.name for f in version.fields]
        parquet = catalog.version_file(data_dir, version)
    finally:
        database.dispose()
    return Installation(env, data_dir, parquet, fields, tokens)


def approved_track(base: str, tokens: dict[str, str], budget: float) -> int:
    """The administrator defines a track over the table, the enterprise applies, the publisher approves; its id."""
    with httpx.Client(base_url=base, timeout=60) as client:

        def post(path: str, who: str, body: dict[str, Any]) -> dict[str, Any]:
            response = client.post(path, headers={"Authorization": f"Bearer {tokens[who]}"}, json=body)
            if response.status_code >= 400:
                raise RuntimeError(f"POST {path} as {who}: {response.status_code} {response.text[:500]}")
            answer: dict[str, Any] = response.json()
            return answer

        track = post(
            "/api/v1/sandbox/tracks",
            "admin",
            {
                "name": "普惠金融人口结构",
                "description": "以各区县人口结构评估小微信贷需求",
                "datasets": [DATASET],
                "epsilon": budget,
                "min_group_size": MIN_GROUP,
                "bounds": BOUNDS,
                "public_domains": {GROUP: list(DOMAIN)},
            },
        )["id"]
        application = post(
            f"/api/v1/sandbox/tracks/{track}/applications",
            "qiye",
            {"credit_code": CREDIT_CODE, "project": "小微企业主信贷需求测算"},
        )["id"]
        post(f"/api/v1/sandbox/applications/{application}/approve", "gongan", {})
        return int(track)


# --- the three sides -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """What a side answered: exact counts per division where it computed them (never over HTTP), and the released
    counts with their 95 % half-width and the number of divisions suppressed (the private sides only)."""

    exact: dict[str, int] | None = None
    released: dict[str, float] | None = None
    ci95: float = 0.0
    suppressed: int = 0


Ask = Callable[[], Answer]


class PrivateSide:
    """yiwang's private path in this process: plan the query, run the plan's SQL in the sandbox, release with noise."""

    def __init__(self, made: Installation) -> None:
        from yiwang.catalog.sql import SqlTable

        self.data_dir = made.data_dir
        self.fields = {DATASET: made.fields}
        # What `service._tables` gives the sandbox: the raw columns inside, only noisy aggregates leave.
        self.tables = [SqlTable(DATASET, made.parquet, [(name, "none") for name in made.fields])]

    def ask(self) -> Answer:
        from yiwang.sandbox import service
        from yiwang.sandbox.dpsql import plan_query
        from yiwang.sandbox.privacy import release

        domains = {GROUP: list(DOMAIN)}
        plan = plan_query(SQL, [DATASET], self.fields, BOUNDS, domains)
        exact = service._run_exact(plan, self.tables, self.data_dir)
        result = release(plan, exact, domains, EPSILON, MIN_GROUP)
        noisy = result.columns[1]
        return Answer(
            {str(row[0]): int(row[1]) for row in exact},
            {str(row[0]): float(row[1]) for row in result.rows},
            result.noise[noisy].ci95,
            result.suppressed,
        )


class HttpSide:
    """The enterprise's private query to `yiwang serve`, through one keep-alive httpx client."""

    def __init__(self, base: str, track: int, token: str) -> None:
        self.client = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=600)
        self.path = f"/api/v1/sandbox/tracks/{track}/queries"

    def ask(self) -> Answer:
        response = self.client.post(self.path, json={"sql": SQL, "epsilon": EPSILON})
        response.raise_for_status()
        body = response.json()
        noisy = body["columns"][1]
        released = {str(row[0]): float(row[1]) for row in body["rows"]}
        return Answer(None, released, float(body["noise"][noisy]["ci95"]), int(body["suppressed"]))

    def close(self) -> None:
        self.client.close()


class DuckDBSide:
    """The plain GROUP BY on the version's Parquet file, on one connection kept open."""

    def __init__(self, parquet: Path) -> None:
        self.connection = duckdb.connect()
        self.connection.execute(f"CREATE VIEW t AS SELECT * FROM read_parquet('{parquet}')")

    def ask(self) -> Answer:
        return Answer({str(code): int(n) for code, n in self.connection.execute(PLAIN_SQL).fetchall()})

    def close(self) -> None:
        self.connection.close()


@contextmanager
def sides(options: Options, kind: DatabaseKind, work: Path, size: DpSize) -> Iterator[dict[str, Ask]]:
    """The table generated and published, a track approved over the API, `yiwang serve` running, DuckDB open."""
    console = options.console
    start = time.perf_counter()
    source = write_people(work / "people.csv", size.rows)
    seconds = time.perf_counter() - start
    console.print(f"generated {source.rows:,} people ({source.bytes / 2**20:,.0f} MiB) in {seconds:.1f} s")
    with ExitStack() as stack:
        url = stack.enter_context(empty_url(kind, options.scratch, options.postgres_url, NAME))
        start = time.perf_counter()
        made = install(work / "yiwang-data", url, source.path)
        console.print(f"published in yiwang in {time.perf_counter() - start:.1f} s")
        source.path.unlink()
        base = stack.enter_context(server(yiwang_serve, made.env, work, "/healthz", work / "yiwang.log"))
        track = approved_track(base, made.tokens, (size.requests + CHECKS) * EPSILON)
        over_http = HttpSide(base, track, made.tokens["qiye"])
        stack.callback(over_http.close)
        duck = DuckDBSide(made.parquet)
        stack.callback(duck.close)
        yield {"yiwang": PrivateSide(made).ask, "yiwang HTTP": over_http.ask, "DuckDB": duck.ask}


# --- measuring -----------------------------------------------------------------------------------------------------


def check_answer(side: str, answer: Answer, truth: dict[str, int]) -> None:
    """Exact counts equal to DuckDB's; every released division in the domain and within TOLERANCE × its 95 %
    half-width of the exact count; every division suppressed or released; the populated ones all released."""
    if answer.exact is not None and answer.exact != truth:
        raise RuntimeError(f"{side}: exact counts differ from DuckDB's: {answer.exact} != {truth}")
    if answer.released is None:
        return
    if not set(answer.released) <= set(DOMAIN) or len(answer.released) + answer.suppressed != len(DOMAIN):
        raise RuntimeError(f"{side}: released {sorted(answer.released)}, {answer.suppressed} suppressed")
    off = {
        code: (count, truth.get(code, 0))
        for code, count in answer.released.items()
        if abs(count - truth.get(code, 0)) > TOLERANCE * answer.ci95
    }
    certain = MIN_GROUP + TOLERANCE * answer.ci95  # a division this large cannot be suppressed by noise
    missing = [code for code, n in truth.items() if n >= certain and code not in answer.released]
    if off or missing:
        raise RuntimeError(f"{side}: released counts far from the exact ones {off}, or missing {missing}")


@dataclass
class Timings:
    """One side's latencies (seconds) and its answers in the order asked."""

    latencies: list[float] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)


def take_turns(asks: dict[str, Ask], counts: dict[str, int], blocks: int) -> dict[str, Timings]:
    """Each side asked `counts[side]` times, the sides taking turns in `blocks` blocks (the order rotating), so that
    background load on the machine slows them alike."""
    timings = {side: Timings() for side in asks}
    order = list(asks)
    for number in range(blocks):
        turn = order[number % len(order) :] + order[: number % len(order)]
        for side in turn:
            share = counts[side] * (number + 1) // blocks - counts[side] * number // blocks
            for _ in range(share):
                start = time.perf_counter()
                answer = asks[side]()
                timings[side].latencies.append(time.perf_counter() - start)
                timings[side].answers.append(answer)
    return timings


def summary(timings: dict[str, Timings]) -> str:
    """Each side's p50 and p95, and yiwang's ratios to the plain GROUP BY."""
    reference = timings["DuckDB"].latencies
    parts = []
    for side, t in timings.items():
        p50, p95 = percentile(t.latencies, 0.5), percentile(t.latencies, 0.95)
        ratio = (
            ""
            if side == "DuckDB"
            else f" · ratio p50 {p50 / percentile(reference, 0.5):.2f}, p95 {p95 / percentile(reference, 0.95):.2f}"
        )
        parts.append(f"{side} p50 {p50 * 1000:,.1f} ms p95 {p95 * 1000:,.1f} ms{ratio}")
    return "; ".join(parts)


def measure(options: Options, kind: DatabaseKind, size: DpSize, asks: dict[str, Ask]) -> list[Figure]:
    console = options.console
    truth = asks["DuckDB"]().exact
    assert truth is not None
    if sum(truth.values()) != size.rows:
        raise RuntimeError(f"DuckDB counts {sum(truth.values()):,} people, not {size.rows:,}")
    for side, ask in asks.items():
        for _ in range(CHECKS):
            check_answer(side, ask(), truth)
    counts = {"yiwang": size.repeats, "yiwang HTTP": size.requests, "DuckDB": size.repeats}
    timings = take_turns(asks, counts, blocks=min(10, size.requests))
    for side, t in timings.items():
        for answer in t.answers:
            check_answer(side, answer, truth)
        # A private side that skipped the noise would be faster for it: some released count must differ.
        exact = [a.released == {code: float(n) for code, n in truth.items()} for a in t.answers if a.released]
        if exact and all(exact):
            raise RuntimeError(f"{side}: every released count equals the exact one, as if no noise were added")
    released = timings["yiwang"].answers[0]
    console.print(
        f"{len(truth)} divisions with people, {len(DOMAIN)} in the domain, ε {EPSILON:g} a query, "
        f"95 % half-width {released.ci95:.1f} people, {released.suppressed} suppressed · " + summary(timings)
    )
    ours, theirs, over_http = (timings[side].latencies for side in ("yiwang", "DuckDB", "yiwang HTTP"))
    people = f"{size.rows:,} people, {len(DOMAIN)} divisions, ε {EPSILON:g}"
    figures = []
    for share in (0.5, 0.95):
        figures.append(
            Figure(
                NAME,
                f"private count p{round(share * 100)}",
                kind,
                options.size,
                f"{people}, {size.repeats} runs in-process",
                "ms",
                percentile(ours, share) * 1000,
                percentile(theirs, share) * 1000,
                REFERENCE,
                REPORTED,
            )
        )
    figures.append(
        Figure(
            NAME,
            "private count over HTTP p50",
            kind,
            options.size,
            f"{people}, {size.requests} req over HTTP",
            "ms",
            percentile(over_http, 0.5) * 1000,
            percentile(theirs, 0.5) * 1000,
            REFERENCE,
            REPORTED,
        )
    )
    if options.profile:
        private = asks["yiwang"]
        profile(console, "plan_query + sandbox run + release × 5", lambda: [private() for _ in range(5)])
    return figures


def run(options: Options) -> list[Figure]:
    size = SIZES[options.size]

    def run_one(kind: DatabaseKind, work: Path) -> list[Figure]:
        with sides(options, kind, work, size) as asks:
            return measure(options, kind, size, asks)

    return per_database(options, NAME, run_one)
