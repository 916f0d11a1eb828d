"""The one owner of SQLAlchemy engines and sessions.

SQLite (the embedded default) runs in WAL mode with two engines on the same file: readers begin deferred
transactions and run beside each other; writers begin ``BEGIN IMMEDIATE`` so they queue for the single write lock
up front instead of failing half-way when they first write (which would break the audit chain's read-then-append).
PostgreSQL uses one engine; the audit chain serialises its appends with a row lock on its head.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

WRITER = "yiwang.writer"
AUDIT_ALGORITHM = "yiwang.audit_algorithm"
SQLITE_BUSY_TIMEOUT_MS = 30_000
# Connections an engine may open: a request can hold two or three at once (its own session, a rows read's reading
# session, an audit entry's short writing one), and the web server runs up to 40 requests in threads. With
# SQLAlchemy's default of 15, the 200-user load run had every connection held by a request waiting for its second:
# pages stalled for the 30 s pool timeout, then answered 500.
POOL = {"pool_size": 20, "max_overflow": 60, "pool_timeout": 30}


def _sqlite_engine(url: str, *, immediate: bool) -> Engine:
    engine = create_engine(
        url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}, **POOL
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin (the driver's own guess defers DDL).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class Database:
    """Engines and session factories of one metadata database."""

    def __init__(self, url: str, *, audit_algorithm: str = "auto") -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            self.engine = _sqlite_engine(url, immediate=True)
            self.read_engine = _sqlite_engine(url, immediate=False)
        else:
            self.engine = create_engine(url, pool_pre_ping=True, **POOL)
            self.read_engine = self.engine
        info = {AUDIT_ALGORITHM: audit_algorithm}
        self._writer = sessionmaker(self.engine, expire_on_commit=False, info={**info, WRITER: True})
        self._reader = sessionmaker(self.read_engine, expire_on_commit=False, info={**info, WRITER: False})

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work that may write: commits when the block ends, rolls back on any error.

        A ``PermissionDenied`` raised inside is remembered in the audit chain after the rollback, so refusals are
        recorded even though the refused work is not.
        """
        from yiwang.core.audit import record_refusal
        from yiwang.core.errors import PermissionDenied

        with self._writer() as session:
            try:
                yield session
                session.commit()
            except PermissionDenied as refusal:
                session.rollback()
                record_refusal(session, refusal)
                session.commit()
                raise
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        """A read-only view; it never holds the write lock. Governed reads, which are audited, use `session()`.

        A refusal inside is still remembered, in a short writing session of its own.
        """
        from yiwang.core.audit import record_refusal
        from yiwang.core.errors import PermissionDenied

        with self._reader() as session:
            try:
                yield session
            except PermissionDenied as refusal:
                session.rollback()
                with self._writer() as writer:
                    record_refusal(writer, refusal)
                    writer.commit()
                raise
            finally:
                session.close()  # ends the read transaction; unlike rollback, keeps loaded objects readable

    def ping(self) -> None:
        """Raise if the database cannot answer a trivial query."""
        with self.read_engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()
        if self.read_engine is not self.engine:
            self.read_engine.dispose()


def is_writer(session: Session) -> bool:
    """Whether `session` came from `Database.session()` (and may append to the audit chain)."""
    return bool(session.info.get(WRITER))
