"""Data exchange 数据交换: a lookup by citizen ID number and a filtered rows page under a sharing grant, over HTTP from
`yiwang serve` with the consumer department's token, against the same reads on raw DuckDB in-process over the
version's Parquet file, with the same client and concurrency.

A person registry is published by one department as shared on approval (有条件共享); another department asks for
it and the owner approves with the ID number withheld (a lookup key only), the name and address masked and the
phone pseudonymised. Each exchange call is admitted (grant, rate-limit counter row), read, masked and audited: the
ratio is what all of that costs over the bare read. The issue states no target, so the figures carry none (the
ratio is reported, not judged). Before timing, both sides must return the same rows (count, total and the raw 编号
column); every timed answer is compared again afterwards, so no side is fast by answering something else.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import httpx

from bench.csvdata import DISTRICT_CODES, DISTRICTS, GIVEN, ROADS, SURNAMES, CsvFile
from bench.databases import empty_url
from bench.harness import DatabaseKind, Figure, Options, Size, Target, per_database
from bench.ingest import prepare_installation
from bench.processes import server, yiwang_serve
from bench.profiling import profile
from bench.rows import percentile
from yiwang.core.validators import citizen_id_check_digit

DESCRIPTION = "exchange API: lookup by ID number, filtered rows page under a grant — yiwang serve vs raw DuckDB"
NAME = "exchange"
DATASET = "population-registry"
OWNER = "海南省公安厅"
CONSUMER = "海南省民政厅"
HEADER = ("编号", "公民身份号码", "姓名", "性别", "民族", "出生日期", "户籍地区划代码", "联系电话", "住址")
KEY = "公民身份号码"
FILTERED = "户籍地区划代码"
CHECKED = "编号"  # raw under the grant: both sides must return the same values of it
# The grant: the ID number only as a lookup key, name and address masked (the default for personal fields), the
# phone as a keyed pseudonym, the rest raw.
MASKING = {KEY: "withheld", "姓名": "masked", "联系电话": "pseudonym"}
SHOWN = tuple(name for name in HEADER if MASKING.get(name) != "withheld")
RATE_LIMIT = 100_000  # the settings' maximum: the bench must never meet a 429
REPORTED = Target()  # no target in the issue: the ratio is shown, not judged
PAGE = 100
ETHNIC_GROUPS = ("汉族",) * 8 + ("黎族", "苗族", "回族")
BIRTH_EPOCH = date(1930, 1, 1)
BIRTH_DAYS = 27_000  # births from 1930 to early 2003
SEQUENCES = 1_000
ID_SPACE = len(DISTRICT_CODES) * BIRTH_DAYS * SEQUENCES  # 486 M distinct numbers
SCRAMBLE = 2_654_435_761  # a prime above ID_SPACE, so i ↦ i·SCRAMBLE mod ID_SPACE never repeats a number
CHUNK_ROWS = 20_000
CHECKS = 3  # values asked of both sides before timing; ID numbers apart from the timed ones, whose count is not yet
# remembered by yiwang when they are timed


@dataclass(frozen=True)
class ExchangeSize:
    rows: int
    requests: int  # per query and side
    concurrency: int


SIZES: dict[Size, ExchangeSize] = {
    "tiny": ExchangeSize(rows=3_000, requests=12, concurrency=2),
    "small": ExchangeSize(rows=1_000_000, requests=200, concurrency=2),
    "full": ExchangeSize(rows=10_000_000, requests=100, concurrency=2),
}


# --- the person registry -------------------------------------------------------------------------------------------


class _Days:
    """Birth dates made once: as in the ID number (19900101) and as written (1990-01-01)."""

    def __init__(self) -> None:
        days = [BIRTH_EPOCH + timedelta(days=n) for n in range(BIRTH_DAYS)]
        self.compact = [d.strftime("%Y%m%d") for d in days]
        self.iso = [d.isoformat() for d in days]


def _scrambled(i: int) -> tuple[int, int, int, int]:
    """Row `i`'s hash, district, birth day and sequence number (distinct for every `i` below ID_SPACE)."""
    k = i * SCRAMBLE % ID_SPACE
    rest = k // len(DISTRICT_CODES)
    return k, k % len(DISTRICT_CODES), rest // SEQUENCES, rest % SEQUENCES


def citizen_id(i: int, days: _Days) -> str:
    """Row `i`'s ID number: a current Hainan division, the birth date, a sequence number, a valid check digit."""
    _, district, day, sequence = _scrambled(i)
    first17 = f"{DISTRICT_CODES[district]}{days.compact[day]}{sequence:03d}"
    return first17 + citizen_id_check_digit(first17)


def _person(i: int, days: _Days) -> str:
    """Row `i` (0-based) as one CSV line; a pure function of `i`, so any size holds the same first rows."""
    k, district, day, sequence = _scrambled(i)
    phone = "" if i % 29 == 3 else f"1{3 + k % 7}{(k >> 3) % 10}{(i * 7_919 + k) % 100_000_000:08d}"
    return (
        f"{i + 1},{citizen_id(i, days)},{SURNAMES[(k >> 4) % len(SURNAMES)]}{GIVEN[(k >> 9) % len(GIVEN)]},"
        f"{'男' if sequence % 2 else '女'},{ETHNIC_GROUPS[(k >> 13) % len(ETHNIC_GROUPS)]},{days.iso[day]},"
        f"{DISTRICT_CODES[district]},{phone},"
        f"海南省{DISTRICTS[district]}{ROADS[(k >> 6) % len(ROADS)]}{(k >> 11) % 399 + 1}号\n"
    )


def write_registry(path: Path, rows: int) -> CsvFile:
    """The person registry 人口基础信息 of `rows` rows as UTF-8 CSV, written a chunk at a time."""
    days = _Days()
    with path.open("wb") as sink:
        sink.write((",".join(HEADER) + "\n").encode())
        for start in range(0, rows, CHUNK_ROWS):
            sink.write("".join(_person(i, days) for i in range(start, min(start + CHUNK_ROWS, rows))).encode())
    return CsvFile(path, rows, path.stat().st_size, "utf-8")


# --- the installation: data published, two departments, a grant ------------------------------------------------------


@dataclass(frozen=True)
class Installation:
    env: dict[str, str]
    data_dir: Path
    database_url: str
    parquet: Path
    tokens: dict[str, str]  # username → API token


def install(data_dir: Path, database_url: str, source: Path) -> Installation:
    """A fresh installation holding the registry as a conditionally shared dataset of the owner, and one staff
    member with a token in each department (the operator's service calls, as `yiwang` commands make them)."""
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
            for department, username in ((OWNER, "gongan"), (CONSUMER, "minzheng")):
                accounts.create_department(session, operator, department, "460000")
                accounts.create_user(session, operator, username, secrets.token_urlsafe(16), ["dept_staff"], department)
                tokens[username] = accounts.create_token(session, operator, username, "bench")[1]
            catalog.ensure_dataset(
                session,
                operator,
                catalog.DatasetInput(
                    name=DATASET, title="人口基础信息", department=OWNER, share_type="conditional", open_type="none"
                ),
            )
        version = catalog.ingest_version(
            database, operator, data_dir, DATASET, source, max_bytes=2**40, progress=lambda done, total: None
        )
        kinds = {f.name: f.kind for f in version.fields}
        if kinds.get(KEY) != "id_number":
            raise RuntimeError(f"the ingest did not take {KEY} for ID numbers: {kinds}")
        parquet = catalog.version_file(data_dir, version)
    finally:
        database.dispose()
    env = {**env, "YIWANG_SHARING_RATE_LIMIT": str(RATE_LIMIT)}
    return Installation(env, data_dir, database_url, parquet, tokens)


def granted(base: str, tokens: dict[str, str]) -> str:
    """The consumer asks for the registry over the API and the owner approves with masking; the grant's id."""
    with httpx.Client(base_url=base, timeout=60) as client:
        asked = client.post(
            "/api/v1/sharing/requests",
            headers={"Authorization": f"Bearer {tokens['minzheng']}"},
            json={
                "dataset": DATASET,
                "fields": list(HEADER),
                "purpose": "最低生活保障申请审核核验申请人户籍与身份",
                "legal_basis": "《社会救助暂行办法》；《海南省政务数据共享管理办法》",
                "days": 365,
            },
        )
        asked.raise_for_status()
        approved = client.post(
            f"/api/v1/sharing/requests/{asked.json()['id']}/approve",
            headers={"Authorization": f"Bearer {tokens['gongan']}"},
            json={"masking": MASKING, "rate_limit": RATE_LIMIT},
        )
        approved.raise_for_status()
        return str(approved.json()["grant_id"])


# --- the two sides -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """What a side answered, reduced to what must agree: the rows, the total (pages only) and the raw 编号s."""

    rows: int
    total: int | None
    checked: tuple[Any, ...]


Ask = Callable[[str], Answer]


class HttpSide:
    """The exchange API asked with the consumer's token, through one keep-alive httpx client per thread."""

    def __init__(self, base: str, grant_id: str, token: str) -> None:
        self.base, self.prefix = base, f"/api/v1/exchange/{grant_id}"
        self.headers = {"Authorization": f"Bearer {token}"}
        self.local = threading.local()
        self.clients: list[httpx.Client] = []

    def _get(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        client = getattr(self.local, "client", None)
        if client is None:
            client = self.local.client = httpx.Client(base_url=self.base, headers=self.headers, timeout=600)
            self.clients.append(client)
        response = client.get(f"{self.prefix}/{path}", params=params)
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    def lookup(self, key: str) -> Answer:
        rows = self._get("lookup", {KEY: key})["rows"]
        return Answer(len(rows), None, tuple(row[CHECKED] for row in rows))

    def page(self, value: str) -> Answer:
        body = self._get("rows", {"limit": str(PAGE), FILTERED: value})
        return Answer(len(body["rows"]), body["total"], tuple(row[CHECKED] for row in body["rows"]))

    def close(self) -> None:
        for client in self.clients:
            client.close()


class DuckDBSide:
    """The same reads as SQL on the version's Parquet file, the granted columns unmasked; a cursor a thread."""

    def __init__(self, parquet: Path) -> None:
        self.connection = duckdb.connect()
        self.connection.execute(f"CREATE VIEW t AS SELECT * FROM read_parquet('{parquet}')")
        self.columns = ", ".join(f'"{name}"' for name in SHOWN)
        self.checked = SHOWN.index(CHECKED)
        self.local = threading.local()

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        cursor = getattr(self.local, "cursor", None)
        if cursor is None:
            cursor = self.local.cursor = self.connection.cursor()
        return cursor

    def lookup(self, key: str) -> Answer:
        rows = self._cursor().execute(f'SELECT {self.columns} FROM t WHERE "{KEY}" = ?', [key]).fetchall()
        return Answer(len(rows), None, tuple(row[self.checked] for row in rows))

    def page(self, value: str) -> Answer:
        cursor = self._cursor()
        where = f'WHERE "{FILTERED}" = ?'
        # A plain scan keeps the file's order (preserve_insertion_order), as yiwang's unsorted pages do.
        rows = cursor.execute(f"SELECT {self.columns} FROM t {where} LIMIT {PAGE}", [value]).fetchall()
        ((total,),) = cursor.execute(f"SELECT count(*) FROM t {where}", [value]).fetchall()
        return Answer(len(rows), int(total), tuple(row[self.checked] for row in rows))

    def close(self) -> None:
        self.connection.close()


@dataclass(frozen=True)
class Query:
    """One exchange call and the values it is asked with: a few to check first, then the timed ones."""

    name: str
    checks: tuple[str, ...]
    timed: tuple[str, ...]


def queries(size: ExchangeSize) -> tuple[Query, ...]:
    """Lookups of distinct ID numbers spread over the file; pages filtered by each division code in turn."""
    days = _Days()
    spread = [j * size.rows // (size.requests + CHECKS) for j in range(size.requests + CHECKS)]
    keys = tuple(citizen_id(i, days) for i in spread)
    codes = tuple(DISTRICT_CODES[j % len(DISTRICT_CODES)] for j in range(size.requests))
    return (
        Query("lookup by ID", keys[:CHECKS], keys[CHECKS:]),
        Query("filtered page", codes[:CHECKS], codes),
    )


@dataclass(frozen=True)
class Sides:
    """Both sides ready: each query's ask per side, and what a profile of yiwang's path needs."""

    asks: dict[str, dict[str, Ask]]
    installation: Installation
    grant_id: str


@contextmanager
def sides(options: Options, kind: DatabaseKind, work: Path, size: ExchangeSize) -> Iterator[Sides]:
    """The registry generated and published, the grant made over the API, `yiwang serve` running, DuckDB open."""
    console = options.console
    start = time.perf_counter()
    source = write_registry(work / "registry.csv", size.rows)
    seconds = time.perf_counter() - start
    console.print(f"generated {source.rows:,} people ({source.bytes / 2**20:,.0f} MiB) in {seconds:.1f} s")
    with ExitStack() as stack:
        url = stack.enter_context(empty_url(kind, options.scratch, options.postgres_url, NAME))
        start = time.perf_counter()
        made = install(work / "yiwang-data", url, source.path)
        console.print(f"published in yiwang in {time.perf_counter() - start:.1f} s")
        source.path.unlink()
        base = stack.enter_context(server(yiwang_serve, made.env, work, "/healthz", work / "yiwang.log"))
        grant_id = granted(base, made.tokens)
        ours = HttpSide(base, grant_id, made.tokens["minzheng"])
        stack.callback(ours.close)
        duck = DuckDBSide(made.parquet)
        stack.callback(duck.close)
        asks: dict[str, dict[str, Ask]] = {
            "lookup by ID": {"yiwang": ours.lookup, "DuckDB": duck.lookup},
            "filtered page": {"yiwang": ours.page, "DuckDB": duck.page},
        }
        yield Sides(asks, made, grant_id)


# --- measuring -----------------------------------------------------------------------------------------------------


@dataclass
class Timings:
    """One side's latencies (seconds), wall seconds of its blocks, and its answers in the order asked."""

    latencies: list[float]
    seconds: float
    answers: list[Answer]

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds > 0 else float("inf")


def check_agreement(query: str, value: str, answers: dict[str, Answer]) -> None:
    """Both sides found rows, as many, with the same total and the same raw 编号s in the same order."""
    found = set(answers.values())
    if len(found) != 1 or not next(iter(found)).rows:
        raise RuntimeError(f"{query} {value}: the sides disagree or found nothing: {answers}")


def block(ask: Ask, values: Sequence[str], concurrency: int, into: Timings) -> None:
    """`values` asked `concurrency` at a time; each latency, the block's wall time and the answers kept."""

    def one(value: str) -> tuple[float, Answer]:
        start = time.perf_counter()
        answer = ask(value)
        return time.perf_counter() - start, answer

    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        done = list(pool.map(one, values))
    into.seconds += time.perf_counter() - start
    into.latencies += [seconds for seconds, _ in done]
    into.answers += [answer for _, answer in done]


def summary(query: str, timings: dict[str, Timings]) -> str:
    """One line per query: each side's p50, p95 and rate, and yiwang's ratios."""
    parts = []
    for side, t in timings.items():
        p50, p95 = percentile(t.latencies, 0.5) * 1000, percentile(t.latencies, 0.95) * 1000
        parts.append(f"{side} p50 {p50:,.1f} ms p95 {p95:,.1f} ms {t.rate:,.0f} req/s")
    ours, theirs = timings["yiwang"], timings["DuckDB"]
    ratios = [percentile(ours.latencies, s) / percentile(theirs.latencies, s) for s in (0.5, 0.95)]
    rows = sum(a.rows for a in ours.answers) / len(ours.answers)
    return (
        f"{query} ({rows:,.1f} rows a call): {', '.join(parts)} · ratio p50 {ratios[0]:.2f}, p95 {ratios[1]:.2f}, "
        f"req/s {ours.rate / theirs.rate:.2f}"
    )


def measure(options: Options, kind: DatabaseKind, size: ExchangeSize, ready: Sides) -> list[Figure]:
    console = options.console
    workload = f"{size.rows:,} people, {size.concurrency} clients, {size.requests} req"
    figures: list[Figure] = []
    for query in queries(size):
        asks = ready.asks[query.name]
        for value in query.checks:
            check_agreement(query.name, value, {side: ask(value) for side, ask in asks.items()})
        timings = {side: Timings([], 0.0, []) for side in asks}
        # The sides take turns in blocks, so that background load on the machine slows them alike.
        blocks = max(1, size.requests // (2 * size.concurrency))
        per_block = -(-size.requests // blocks)
        for number, first in enumerate(range(0, len(query.timed), per_block)):
            values = query.timed[first : first + per_block]
            for side in asks if number % 2 == 0 else reversed(asks):
                block(asks[side], values, size.concurrency, timings[side])
        for index, value in enumerate(query.timed):
            check_agreement(query.name, value, {side: t.answers[index] for side, t in timings.items()})
        console.print(summary(query.name, timings))
        ours, theirs = timings["yiwang"], timings["DuckDB"]
        label = "raw DuckDB in-process, same Parquet"
        for share in (0.5, 0.95):
            mine, reference = percentile(ours.latencies, share) * 1000, percentile(theirs.latencies, share) * 1000
            name = f"{query.name} p{round(share * 100)}"
            figures.append(Figure(NAME, name, kind, options.size, workload, "ms", mine, reference, label, REPORTED))
        name = f"{query.name} throughput"
        figures.append(
            Figure(NAME, name, kind, options.size, workload, "req/s", ours.rate, theirs.rate, label, REPORTED)
        )
    if options.profile:
        profile_lookups(options, ready, queries(size)[0].timed[:5])
    return figures


def profile_lookups(options: Options, ready: Sides, keys: Sequence[str]) -> None:
    """Where an exchange lookup's time goes, in this process: admission, read, masking, audit (no HTTP)."""
    from yiwang.catalog.rows import RowFilter, RowQuery
    from yiwang.core import accounts
    from yiwang.core.analytics import Analytics
    from yiwang.core.db import Database
    from yiwang.core.settings import Settings
    from yiwang.sharing import exchange

    made = ready.installation
    settings = Settings(data_dir=made.data_dir, database_url=made.database_url)
    database = Database(made.database_url)
    try:
        with database.read_session() as session:
            actor = accounts.actor_for(accounts.get_user(session, "minzheng"), via="api")
        with Analytics() as analytics:

            def lookups() -> None:
                for key in keys:
                    exchange.read_granted_rows(
                        database,
                        analytics,
                        actor,
                        settings.data_dir,
                        ready.grant_id,
                        RowQuery(filters=(RowFilter(KEY, "exact", key),), size=exchange.LOOKUP_LIMIT),
                        secret=settings.secret(),
                        lookup=True,
                    )

            profile(options.console, f"exchange.read_granted_rows(lookup) × {len(keys)}", lookups)
    finally:
        database.dispose()


def run(options: Options) -> list[Figure]:
    size = SIZES[options.size]

    def run_one(kind: DatabaseKind, work: Path) -> list[Figure]:
        with sides(options, kind, work, size) as ready:
            return measure(options, kind, size, ready)

    return per_database(options, NAME, run_one)
