"""Rows API: filter + sort + page, the next page, and facet counts, over HTTP from `yiwang serve` and from Datasette
(the same rows loaded into SQLite, indexed on every filtered, sorted and faceted column), with the same client and
concurrency; and the same queries on raw DuckDB in-process over the version's Parquet file.

Each request's latency is timed at the client. Before timing, one request per query and side checks that all three
sides agree on the total and the facet counts, so no side is fast by answering something else.
"""

from __future__ import annotations

import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import httpx

from bench.csvdata import write_csv
from bench.databases import empty_url
from bench.harness import DatabaseKind, Figure, Options, Size, Target, per_database
from bench.ingest import prepare_installation
from bench.ingest_child import SQLITE_TABLE
from bench.processes import BIN, child_env, run_measured, server, yiwang_serve

DESCRIPTION = "rows API: filter+sort+page, next page, facets — yiwang serve vs Datasette (SQLite) and raw DuckDB"
DATASET = "registrations"
INDEXED = ("注册资本", "成立日期", "所属区县", "行业")
VS_DATASETTE = Target(max_ratio=1.0)  # p50 and p95 better than Datasette's
VS_DUCKDB = Target(max_ratio=3.0)  # ≤ 3× raw DuckDB
PAGE = 100
FACET_LIMIT = 20


@dataclass(frozen=True)
class RowsSize:
    rows: int
    requests: int  # per query and side
    concurrency: int


SIZES: dict[Size, RowsSize] = {
    "tiny": RowsSize(rows=5_000, requests=6, concurrency=2),
    "small": RowsSize(rows=1_000_000, requests=40, concurrency=2),
    "full": RowsSize(rows=10_000_000, requests=20, concurrency=2),
}


@dataclass(frozen=True)
class Query:
    """One logical query: filters as (column, operator, value), a sort, facets; `page` 2 follows the first `_next`."""

    name: str
    filters: tuple[tuple[str, str, str], ...] = ()
    sort: str | None = None
    facets: tuple[str, ...] = ()
    page: int = 1

    def params(self) -> tuple[tuple[str, str], ...]:
        """The query string both HTTP APIs understand (Datasette-style names)."""
        found = [(f"{column}__{op}" if op != "exact" else column, value) for column, op, value in self.filters]
        found += [("_sort", self.sort)] if self.sort else []
        found += [("_facet", name) for name in self.facets]
        return (*found, ("_size", str(PAGE)))


QUERIES = (
    Query("filter+sort+page", filters=(("注册资本", "gt", "5000"),), sort="成立日期"),
    Query("next page", filters=(("注册资本", "gt", "5000"),), sort="成立日期", page=2),
    Query("facets", facets=("所属区县", "行业")),
    Query("filter+facet", filters=(("行业", "exact", "制造业"),), facets=("所属区县",)),
)


@dataclass(frozen=True)
class Answer:
    """What a side answered, reduced to what must agree: the total and the facet counts."""

    rows: int
    total: int | None
    facets: dict[str, dict[str, int]]
    next: str | None


Ask = Callable[[Query, str | None], Answer]


# --- the three sides -----------------------------------------------------------------------------------------------


class HttpSide:
    """An HTTP API asked through one keep-alive httpx client per thread."""

    def __init__(self, base: str, path: str, read: Callable[[dict[str, Any]], Answer]) -> None:
        self.base, self.path, self.read = base, path, read
        self.local = threading.local()
        self.clients: list[httpx.Client] = []

    def ask(self, query: Query, after: str | None) -> Answer:
        client = getattr(self.local, "client", None)
        if client is None:
            client = self.local.client = httpx.Client(base_url=self.base, timeout=600)
            self.clients.append(client)
        response = client.get(self.path, params=query.params() + ((("_next", after),) if after else ()))
        response.raise_for_status()
        return self.read(response.json())

    def close(self) -> None:
        for client in self.clients:
            client.close()


def read_yiwang(body: dict[str, Any]) -> Answer:
    facets = {name: {str(v): int(n) for v, n in pairs} for name, pairs in body["facets"].items()}
    return Answer(len(body["rows"]), body["total"], facets, body.get("next"))


def read_datasette(body: dict[str, Any]) -> Answer:
    facets: dict[str, dict[str, int]] = {}
    for name, result in body.get("facet_results", {}).items():
        if result.get("timed_out"):
            raise RuntimeError(f"Datasette's facet {name} timed out")
        ranked = sorted(result["results"], key=lambda r: (-r["count"], str(r["value"])))[:FACET_LIMIT]
        facets[name] = {str(r["value"]): int(r["count"]) for r in ranked}
    return Answer(len(body["rows"]), body.get("filtered_table_rows_count"), facets, body.get("next"))


class DuckDBSide:
    """The same queries as SQL on the Parquet file: page, total and facets, on one connection (a cursor a thread)."""

    def __init__(self, parquet: Path) -> None:
        self.connection = duckdb.connect()
        self.connection.execute(f"CREATE VIEW t AS SELECT * FROM read_parquet('{parquet}')")
        self.local = threading.local()

    def ask(self, query: Query, after: str | None) -> Answer:
        cursor = getattr(self.local, "cursor", None)
        if cursor is None:
            cursor = self.local.cursor = self.connection.cursor()
        clauses, params = [], []
        for column, op, value in query.filters:
            clauses.append(f'"{column}" {">" if op == "gt" else "="} ?')
            params.append(float(value) if op == "gt" else value)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        order = f' ORDER BY "{query.sort}"' if query.sort else ""
        offset = (query.page - 1) * PAGE
        rows = cursor.execute(f"SELECT * FROM t{where}{order} LIMIT {PAGE} OFFSET {offset}", params).fetchall()
        ((total,),) = cursor.execute(f"SELECT count(*) FROM t{where}", params).fetchall()
        facets = {
            name: {
                str(v): int(n)
                for v, n in cursor.execute(
                    f'SELECT "{name}", count(*) AS n FROM t{where} GROUP BY 1 ORDER BY n DESC, 1 LIMIT {FACET_LIMIT}',
                    params,
                ).fetchall()
            }
            for name in query.facets
        }
        return Answer(len(rows), int(total), facets, None)

    def close(self) -> None:
        self.connection.close()


# --- set-up --------------------------------------------------------------------------------------------------------


@contextmanager
def sides(options: Options, kind: Any, work: Path, size: RowsSize) -> Iterator[dict[str, Ask]]:
    """The data generated, published in yiwang and loaded into SQLite; both servers running; DuckDB open."""
    console = options.console
    start = time.perf_counter()
    source = write_csv(work / "registrations.csv", rows=size.rows)
    seconds = time.perf_counter() - start
    console.print(f"generated {source.rows:,} rows ({source.bytes / 2**20:,.0f} MiB) in {seconds:.1f} s")
    with ExitStack() as stack:
        url = stack.enter_context(empty_url(kind, options.scratch, options.postgres_url, "rows"))
        data_dir = work / "yiwang-data"
        env = prepare_installation(data_dir, url)
        child = [sys.executable, "-m", "bench.ingest_child"]
        ingest = [*child, "yiwang", str(source.path), "--dataset", DATASET, "--open-type", "unconditional"]
        done = run_measured(ingest, env, work)
        console.print(f"published in yiwang in {done.seconds:.1f} s")
        db = work / "registrations.sqlite"
        load = [*child, "sqlite", str(source.path), str(db), *(f"--index={name}" for name in INDEXED)]
        done = run_measured(load, env, work)
        console.print(f"loaded into SQLite with {len(INDEXED)} indexes in {done.seconds:.1f} s")
        source.path.unlink()
        (parquet,) = (data_dir / "datasets" / DATASET).glob("*/data.parquet")

        def datasette_cmd(port: int) -> list[str]:
            command = [str(BIN / "datasette"), "serve", "-i", str(db), "--port", str(port)]
            for setting, value in (
                ("sql_time_limit_ms", "600000"),  # let every count and facet finish, as yiwang's do
                ("facet_time_limit_ms", "600000"),
                ("suggest_facets", "off"),  # yiwang suggests none
            ):
                command += ["--setting", setting, value]
            return command

        start = time.perf_counter()
        yiwang_base = stack.enter_context(server(yiwang_serve, env, work, "/api/v1/datasets", work / "yiwang.log"))
        datasette_base = stack.enter_context(
            server(datasette_cmd, child_env(), work, "/-/versions.json", work / "datasette.log")
        )
        console.print(f"servers answering after {time.perf_counter() - start:.1f} s")
        duck = DuckDBSide(parquet)
        stack.callback(duck.close)
        ours = HttpSide(yiwang_base, f"/api/v1/datasets/{DATASET}/rows", read_yiwang)
        theirs = HttpSide(datasette_base, f"/registrations/{SQLITE_TABLE}.json", read_datasette)
        stack.callback(ours.close)
        stack.callback(theirs.close)
        yield {"yiwang": ours.ask, "Datasette": theirs.ask, "DuckDB": duck.ask}


# --- measuring -----------------------------------------------------------------------------------------------------


def first_pages(ask: Ask) -> dict[str, str | None]:
    """Each side's `_next` token after page one of each paged query (keyset tokens differ between sides)."""
    return {q.name: ask(Query(q.name, q.filters, q.sort, q.facets), None).next for q in QUERIES if q.page == 2}


def check_agreement(answers: dict[str, Answer], query: Query) -> None:
    """All sides return a full page with the same total and facet counts (else a figure would compare unlike work)."""
    totals = {side: a.total for side, a in answers.items()}
    if len(set(totals.values())) != 1:
        raise RuntimeError(f"{query.name}: the sides disagree on the total: {totals}")
    facets = {side: a.facets for side, a in answers.items()}
    if any(f != facets["DuckDB"] for f in facets.values()):
        raise RuntimeError(f"{query.name}: the sides disagree on facet counts: {facets}")
    pages = {side: a.rows for side, a in answers.items()}
    if len(set(pages.values())) != 1:
        raise RuntimeError(f"{query.name}: the sides return pages of different lengths: {pages}")


def latencies(ask: Ask, query: Query, after: str | None, count: int, concurrency: int) -> list[float]:
    """`count` requests of `query`, `concurrency` at a time; each one's seconds."""

    def one(_: int) -> float:
        start = time.perf_counter()
        ask(query, after)
        return time.perf_counter() - start

    with ThreadPoolExecutor(concurrency) as pool:
        return list(pool.map(one, range(count)))


def percentile(values: list[float], share: float) -> float:
    """The `share` quantile (inclusive method; the largest value when there are too few)."""
    if len(values) < 2:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(share * 100) - 1]


def measure(options: Options, kind: Any, size: RowsSize, asks: dict[str, Ask]) -> list[Figure]:
    console = options.console
    tokens = {side: first_pages(ask) for side, ask in asks.items()}
    timings: dict[tuple[str, str], list[float]] = {}
    for query in QUERIES:
        answers = {side: ask(query, tokens[side].get(query.name)) for side, ask in asks.items()}
        check_agreement(answers, query)
        # The sides take turns in blocks, so that background load on the machine slows them alike.
        blocks = max(1, size.requests // (2 * size.concurrency))
        per_block = -(-size.requests // blocks)
        for block in range(blocks):
            order = list(asks) if block % 2 == 0 else list(reversed(asks))
            for side in order:
                found = latencies(asks[side], query, tokens[side].get(query.name), per_block, size.concurrency)
                timings.setdefault((query.name, side), []).extend(found)
        summary = ", ".join(
            f"{side} p50 {percentile(timings[(query.name, side)], 0.5) * 1000:,.1f} ms "
            f"p95 {percentile(timings[(query.name, side)], 0.95) * 1000:,.1f} ms"
            for side in asks
        )
        console.print(f"{query.name} (total {answers['yiwang'].total:,}): {summary}")
    workload = f"{size.rows:,} rows, {size.concurrency} clients, {size.requests} req"
    figures = []
    for query in QUERIES:
        ours = timings[(query.name, "yiwang")]
        for reference, label, target in (
            ("Datasette", "Datasette 0.65, SQLite + indexes", VS_DATASETTE),
            ("DuckDB", "raw DuckDB in-process", VS_DUCKDB),
        ):
            theirs = timings[(query.name, reference)]
            for share in (0.5, 0.95):
                figures.append(
                    Figure(
                        "rows",
                        f"{query.name} p{round(share * 100)}",
                        kind,
                        options.size,
                        workload,
                        "ms",
                        percentile(ours, share) * 1000,
                        percentile(theirs, share) * 1000,
                        label,
                        target,
                    )
                )
    return figures


def run(options: Options) -> list[Figure]:
    size = SIZES[options.size]

    def run_one(kind: DatabaseKind, work: Path) -> list[Figure]:
        with sides(options, kind, work, size) as asks:
            return measure(options, kind, size, asks)

    return per_database(options, "rows", run_one)
