"""Throw-away databases for a benchmark: a SQLite file in the scratch directory, or a `yiwang_bench_*` database
created on the PostgreSQL server and dropped afterwards."""

from __future__ import annotations

import secrets
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.harness import DatabaseKind
from bench.processes import BIN, child_env
from yiwang.core import migrate
from yiwang.core.db import Database

PREFIX = "yiwang_bench_"
DEMO_TIMEOUT_S = 600


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


@contextmanager
def demo_installation(
    kind: DatabaseKind, scratch: Path, postgres_url: str | None, label: str, work: Path
) -> Iterator[dict[str, str]]:
    """`yiwang demo --no-serve --size small --seed 1` into a new installation under `work`; the environment that
    points at it (on PostgreSQL its database is dropped when the block ends)."""
    with ExitStack() as stack:
        settings = {"YIWANG_DATA_DIR": str(work / "data"), "YIWANG_SECRET_KEY": secrets.token_urlsafe(48)}
        if kind == "postgresql":
            settings["YIWANG_DATABASE_URL"] = stack.enter_context(empty_url(kind, scratch, postgres_url, label))
        env = child_env({**settings, "NO_COLOR": "1"})
        demo = [str(BIN / "yiwang"), "demo", "--no-serve", "--size", "small", "--seed", "1"]
        done = subprocess.run(demo, env=env, cwd=work, capture_output=True, text=True, timeout=DEMO_TIMEOUT_S)
        if done.returncode != 0:
            raise RuntimeError(f"yiwang demo failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
        yield env


def server_version(postgres_url: str) -> str:
    """The PostgreSQL server's version, as it reports it."""
    engine = create_engine(postgres_url)
    try:
        with engine.connect() as connection:
            return str(connection.execute(text("SHOW server_version")).scalar_one()).split()[0]
    finally:
        engine.dispose()
