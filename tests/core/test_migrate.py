"""Migrations: from empty to head gives exactly the models' schema, on SQLite and PostgreSQL, and back."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from yiwang.core import migrate
from yiwang.core.db import Database
from yiwang.schema import Base

NOW = datetime(2026, 1, 1, tzinfo=UTC)
# The catalogue's term index (migration 0008) is dialect-specific SQL outside the models: FTS5 and its shadow tables
# on SQLite, a GIN expression index on PostgreSQL.
TERM_INDEX = ("dataset_search_index", "ix_datasets_search_tokens")


def _in_models(name: str | None, type_: str, parent_names: object) -> bool:
    return not (name or "").startswith(TERM_INDEX)


def test_upgrade_from_empty_matches_the_models(database_url: str) -> None:
    database = Database(database_url)
    try:
        assert migrate.current_revision(database) is None
        migrate.upgrade(database)
        assert migrate.current_revision(database) == migrate.head_revision()
        with database.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True, "include_name": _in_models})
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


def test_catalogue_identity_upgrade_keeps_and_indexes_published_datasets(database_url: str) -> None:
    """A catalogue published at revision 0002 gets public ids and search terms when it upgrades."""
    database = Database(database_url)
    try:
        migrate.upgrade(database, "0002")
        with database.engine.begin() as connection:
            connection.execute(
                text("INSERT INTO departments (id, name, created_at) VALUES (1, '海南省市场监督管理局', :t)"),
                {"t": NOW},
            )
            for row_id, name, title in ((1, "enterprise-registry", "市场主体登记信息"), (2, "halls", "政务服务场所")):
                connection.execute(
                    text(
                        "INSERT INTO datasets (id, name, title, description, department_id, tags, themes, "
                        "update_frequency, licence, contact, share_type, open_type, security_level, "
                        "spatial_coverage, temporal_coverage, created_by, created_at, modified_at) VALUES "
                        "(:id, :name, :title, '', 1, :tags, '[]', '', '', '', 'conditional', 'none', 'general', '', "
                        "'', 'x', :t, :t)"
                    ),
                    {"id": row_id, "name": name, "title": title, "tags": json.dumps(["注册资本"]), "t": NOW},
                )
        migrate.upgrade(database)
        with database.engine.connect() as connection:
            rows = connection.execute(text("SELECT name, uuid, search_terms FROM datasets ORDER BY id")).all()
        assert len({uuid for _name, uuid, _terms in rows}) == 2
        assert " 注册资本 " in rows[0][2] and " 市场 " in rows[0][2] and " 政务 " in rows[1][2]
    finally:
        migrate.downgrade_to_empty(database)
        database.dispose()
