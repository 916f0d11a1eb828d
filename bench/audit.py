"""Audit chain 审计链: concurrent appends against plain INSERTs, and `verify` against a bare read of the same rows.

Append: N entries, one per transaction (each governed call is one unit of work), from K writer threads, through
`Database.session()` and `audit.record`. The references insert the same stored rows into a table of the same shape
(no hashing, no head row), one row per transaction, from as many threads: with the bare driver (the target's
reference), and through `Database.session()` (so the platform's unit-of-work cost shows apart from the chain's).
The sides take turns in rounds, so a busy machine slows them alike.

Verify: a chain of M valid entries is bulk-loaded, then `audit.verify` walks it; the reference reads the same rows,
every column, in order, with the driver.
"""

from __future__ import annotations

import functools
import itertools
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from sqlalchemy import Table, insert, select

from bench.audit_workload import COLUMNS, Event, chain_rows, make_events, plain_rows, row_values
from bench.databases import empty_url, installation
from bench.harness import DatabaseKind, Figure, Options, Size, Target, chunked, split_round_robin, timed
from bench.profiling import profile
from yiwang.core import audit, hashing
from yiwang.core.db import Database
from yiwang.core.identity import Actor
from yiwang.core.models import AuditEntry, AuditHead

DESCRIPTION = "audit chain: concurrent appends vs plain INSERTs; verify vs a bare read"
NAME = "audit"
APPEND_TARGET = Target(min_ratio=0.5)
VERIFY_TARGET = Target(min_rate=200_000)
LOAD_BATCH = 10_000
READ_BATCH = 20_000
PROFILED_APPENDS = 500
T = TypeVar("T")
ENTRIES = cast(Table, AuditEntry.__table__)


@dataclass(frozen=True)
class AuditSize:
    appends: int
    writers: int
    rounds: int
    chain: int
    repeats: int


SIZES: dict[Size, AuditSize] = {
    "tiny": AuditSize(appends=200, writers=2, rounds=1, chain=2_000, repeats=1),
    "small": AuditSize(appends=4_000, writers=4, rounds=4, chain=100_000, repeats=2),
    "full": AuditSize(appends=20_000, writers=8, rounds=5, chain=1_000_000, repeats=1),
}


def _insert_sql(database: Database) -> str:
    mark = "?" if database.engine.dialect.paramstyle == "qmark" else "%s"
    return f"INSERT INTO audit_entries ({', '.join(COLUMNS)}) VALUES ({', '.join(mark for _ in COLUMNS)})"


# --- append --------------------------------------------------------------------------------------------------------


def run_writers(slices: list[list[T]], handle: Callable[[T], None]) -> None:
    """One thread per slice, all released together; any writer's error is raised here."""
    start = threading.Barrier(len(slices))
    errors: list[BaseException] = []

    def work(items: list[T]) -> None:
        try:
            start.wait()
            for item in items:
                handle(item)
        except BaseException as exc:  # re-raised in the calling thread below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(items,)) for items in slices]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def record_one(database: Database, event: Event) -> None:
    """One governed call's unit of work: a writing session holding one audit entry."""
    with database.session() as session:
        audit.record(
            session,
            event.actor,
            event.action,
            resource_type=event.resource_type,
            resource_id=event.resource_id,
            purpose=event.purpose,
            detail=event.detail,
        )


def append_chain(database: Database, events: Sequence[Event], writers: int) -> None:
    run_writers(split_round_robin(events, writers), lambda event: record_one(database, event))


def append_serially(database: Database, events: Sequence[Event]) -> None:
    """Appends in the calling thread (profilers follow one thread)."""
    for event in events:
        record_one(database, event)


def append_driver(database: Database, rows: Sequence[dict[str, Any]], writers: int) -> None:
    """Each thread on its own driver connection: BEGIN, one INSERT, COMMIT per row."""
    sql = _insert_sql(database)

    def insert_rows(batch: list[dict[str, Any]]) -> None:
        connection = database.engine.raw_connection()
        try:
            cursor = connection.cursor()
            for row in batch:
                if database.is_sqlite:
                    cursor.execute("BEGIN IMMEDIATE")  # as yiwang's writers do, so both queue for the lock alike
                cursor.execute(sql, row_values(row))
                connection.commit()
        finally:
            connection.close()

    run_writers([[part] for part in split_round_robin(rows, writers)], insert_rows)


def append_session(database: Database, rows: Sequence[dict[str, Any]], writers: int) -> None:
    """One `Database.session()` per row holding one Core INSERT: the platform's unit of work, without the chain."""
    statement = insert(ENTRIES)

    def insert_row(row: dict[str, Any]) -> None:
        with database.session() as session:
            session.connection().execute(statement, row)

    run_writers(split_round_robin(rows, writers), insert_row)


@contextmanager
def plain_table(options: Options, kind: DatabaseKind, label: str) -> Iterator[Database]:
    """A database holding only an empty table shaped like `audit_entries` (same columns, indexes, constraints)."""
    with empty_url(kind, options.scratch, options.postgres_url, label) as url:
        database = Database(url)
        try:
            ENTRIES.create(database.engine)
            yield database
        finally:
            database.dispose()


def measure_append(options: Options, kind: DatabaseKind, size: AuditSize) -> list[Figure]:
    events = make_events(size.appends)
    rows = plain_rows(events)
    with (
        installation(kind, options.scratch, options.postgres_url, "chain") as chain_db,
        plain_table(options, kind, "driver") as driver_db,
        plain_table(options, kind, "session") as session_db,
    ):
        sides: dict[str, Callable[[range], None]] = {
            "chain": lambda part: append_chain(chain_db, events[part.start : part.stop], size.writers),
            "driver": lambda part: append_driver(driver_db, rows[part.start : part.stop], size.writers),
            "session": lambda part: append_session(session_db, rows[part.start : part.stop], size.writers),
        }
        seconds = dict.fromkeys(sides, 0.0)
        for part in chunked(range(size.appends), size.rounds):  # taking turns, so a busy machine slows all alike
            for side, work in sides.items():
                seconds[side] += timed(len(part), functools.partial(work, part)).seconds
        check_chain(chain_db, size.appends)
        if options.profile:
            profile(
                options.console,
                f"{PROFILED_APPENDS} audit appends on {kind}, one after another in this thread",
                functools.partial(append_serially, chain_db, make_events(PROFILED_APPENDS, seed=8)),
            )
    rate = {side: size.appends / s for side, s in seconds.items()}
    workload = f"N={size.appends:,} K={size.writers} 1 entry/txn"
    return [
        Figure(
            NAME,
            "append",
            kind,
            options.size,
            workload,
            "entries/s",
            rate["chain"],
            rate["driver"],
            "plain INSERT, driver",
            APPEND_TARGET,
        ),
        Figure(
            NAME,
            "append",
            kind,
            options.size,
            workload,
            "entries/s",
            rate["chain"],
            rate["session"],
            "plain INSERT, Database.session()",
        ),
    ]


# --- verify --------------------------------------------------------------------------------------------------------


def load_chain(database: Database, count: int) -> None:
    """Bulk-load `count` valid entries in one transaction and point the head at the last one."""
    rows = (row_values(row) for row in chain_rows(make_events(1_000), count))
    connection = database.engine.raw_connection()
    try:
        cursor = connection.cursor()
        last = _insert_rows(cursor, _insert_sql(database), rows) if database.is_sqlite else _copy_rows(cursor, rows)
        mark = "?" if database.is_sqlite else "%s"
        cursor.execute(f"UPDATE audit_head SET seq = {mark}, entry_hash = {mark} WHERE id = 1", (count, last))
        connection.commit()
    finally:
        connection.close()


def _insert_rows(cursor: Any, sql: str, rows: Iterator[tuple[Any, ...]]) -> str:
    """executemany in batches (SQLite); returns the last entry's hash."""
    cursor.execute("BEGIN")  # the driver is in autocommit mode: one transaction, not one per row
    last = audit.GENESIS_HASH
    while batch := list(itertools.islice(rows, LOAD_BATCH)):
        cursor.executemany(sql, batch)
        last = batch[-1][-1]
    return str(last)


def _copy_rows(cursor: Any, rows: Iterator[tuple[Any, ...]]) -> str:
    """COPY FROM STDIN (PostgreSQL: executemany would take minutes for a million rows)."""
    last = audit.GENESIS_HASH
    with cursor.copy(f"COPY audit_entries ({', '.join(COLUMNS)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            last = row[-1]
    return str(last)


def verify_chain(database: Database, count: int) -> None:
    with database.read_session() as session:
        report = audit.verify(session, Actor.operator())
    if not (report.ok and report.checked == count):
        raise AssertionError(f"the benchmark chain does not verify: {report}")


def check_chain(database: Database, count: int) -> None:
    """The appended chain verifies and holds exactly `count` entries."""
    verify_chain(database, count)
    with database.read_session() as session:
        head = session.execute(select(AuditHead.seq)).scalar_one()
    if head != count:
        raise AssertionError(f"expected {count} entries, the head says {head}")


def read_bare(database: Database) -> int:
    """Every row, every column, in chain order, through the driver (streamed from the server on PostgreSQL)."""
    connection = database.read_engine.raw_connection()
    try:
        driver: Any = connection.driver_connection
        cursor = driver.cursor() if database.is_sqlite else driver.cursor(name="bench_read")
        cursor.execute(f"SELECT {', '.join(COLUMNS)} FROM audit_entries ORDER BY seq")
        count = 0
        while rows := cursor.fetchmany(READ_BATCH):
            for _row in rows:
                count += 1
        cursor.close()
        return count
    finally:
        connection.rollback()
        connection.close()


def measure_verify(options: Options, kind: DatabaseKind, size: AuditSize) -> Figure:
    with installation(kind, options.scratch, options.postgres_url, "verify") as database:
        load_chain(database, size.chain)
        read_bare(database)  # warm the page cache for both sides
        reads, walks = [], []
        for _ in range(size.repeats):  # taking turns, so a busy machine slows both alike
            reads.append(timed(size.chain, lambda: read_bare(database)))
            walks.append(timed(size.chain, lambda: verify_chain(database, size.chain)))
        if options.profile:
            profile(
                options.console,
                f"audit.verify of {size.chain:,} entries on {kind}",
                lambda: verify_chain(database, size.chain),
            )
    fastest = min(walks, key=lambda t: t.seconds).rate
    reference = min(reads, key=lambda t: t.seconds).rate
    return Figure(
        NAME,
        "verify",
        kind,
        options.size,
        f"M={size.chain:,} ({hashing.preferred('auto')})",
        "entries/s",
        fastest,
        reference,
        "bare read, driver",
        VERIFY_TARGET,
    )


def run(options: Options) -> list[Figure]:
    size = SIZES[options.size]
    figures = []
    for kind in options.databases:
        with options.console.status(f"audit append on {kind}: {size.appends:,} entries, {size.writers} writers"):
            figures.extend(measure_append(options, kind, size))
        with options.console.status(f"audit verify on {kind}: loading and walking {size.chain:,} entries"):
            figures.append(measure_verify(options, kind, size))
    return figures
