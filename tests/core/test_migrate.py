"""Migrations: from empty to head gives exactly the models' schema, on SQLite and PostgreSQL, and back."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from yiwang.core import migrate
from yiwang.core.db import Database
from yiwang.schema import Base


def test_upgrade_from_empty_matches_the_models(database_url: str) -> None:
    database = Database(database_url)
    try:
        assert migrate.current_revision(database) is None
        migrate.upgrade(database)
        assert migrate.current_revision(database) == migrate.head_revision()
        with database.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
        migrate.upgrade(database)  # a second run changes nothing
        migrate.downgrade_to_empty(database)
        assert set(inspect(database.engine).get_table_names()) <= {"alembic_version"}
    finally:
        database.dispose()


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with database.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        database.dispose()
