"""Throw-away databases for a benchmark: a SQLite file in the scratch directory, or a `yiwang_bench_*` database
created on the PostgreSQL server and dropped afterwards."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.harness import DatabaseKind
from yiwang.core import migrate
from yiwang.core.db import Database

PREFIX = "yiwang_bench_"


@contextmanager
def empty_url(kind: DatabaseKind, scratch: Path, postgres_url: str | None, label: str) -> Iterator[str]:
    """The URL of a new, empty database of `kind`, removed when the block ends."""
    if kind == "sqlite":
        directory = scratch / f"{label}-{secrets.token_hex(4)}"
        directory.mkdir(parents=True)
        yield f"sqlite:///{directory / 'yiwang.db'}"
        return
    if postgres_url is None:
        raise ValueError("PostgreSQL needs --postgres-url or YIWANG_BENCH_POSTGRES_URL")
    name = f"{PREFIX}{label}_{secrets.token_hex(4)}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def installation(kind: DatabaseKind, scratch: Path, postgres_url: str | None, label: str) -> Iterator[Database]:
    """A migrated yiwang metadata database, as `yiwang init` leaves it."""
    with empty_url(kind, scratch, postgres_url, label) as url:
        database = Database(url)
        try:
            migrate.upgrade(database)
            yield database
        finally:
            database.dispose()


def server_version(postgres_url: str) -> str:
    """The PostgreSQL server's version, as it reports it."""
    engine = create_engine(postgres_url)
    try:
        with engine.connect() as connection:
            return str(connection.execute(text("SHOW server_version")).scalar_one()).split()[0]
    finally:
        engine.dispose()
