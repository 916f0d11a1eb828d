"""Catalogue: stable public ids (CKAN/DCAT), search terms, soft deletion, classification review, version names.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from __future__ import annotations

import json
import uuid

import sqlalchemy as sa
from alembic import op

from yiwang.core.models import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _backfill_uuids(table: str) -> None:
    connection = op.get_bind()
    ids = connection.execute(sa.text(f"SELECT id FROM {table}")).scalars().all()
    for row_id in ids:
        connection.execute(
            sa.text(f"UPDATE {table} SET uuid = :uuid WHERE id = :id"), {"uuid": str(uuid.uuid4()), "id": row_id}
        )


def _index_existing_datasets() -> None:
    """Datasets published before this revision get their search terms (plain SQL: the models may be newer)."""
    from yiwang.catalog.search import search_terms

    connection = op.get_bind()
    datasets = connection.execute(
        sa.text(
            "SELECT d.id, d.title, d.name, d.description, d.tags, d.themes, p.name, d.current_version_id "
            "FROM datasets d JOIN departments p ON p.id = d.department_id"
        )
    ).all()
    for row_id, title, name, description, tags, themes, department, version_id in datasets:
        fields = connection.execute(
            sa.text("SELECT name, description FROM dataset_fields WHERE version_id = :v ORDER BY position"),
            {"v": version_id},
        ).all()
        terms = search_terms(
            title=title,
            name=name,
            description=description,
            tags=_json_list(tags),
            themes=_json_list(themes),
            department=department,
            fields=[text for field in fields for text in field],
        )
        connection.execute(sa.text("UPDATE datasets SET search_terms = :t WHERE id = :id"), {"t": terms, "id": row_id})


def _json_list(value: object) -> list[str]:
    loaded = json.loads(value) if isinstance(value, str) else value
    return [str(item) for item in loaded] if isinstance(loaded, list) else []


def upgrade() -> None:
    for table in ("datasets", "dataset_versions"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("uuid", sa.String(length=36), nullable=True))
        _backfill_uuids(table)
        with op.batch_alter_table(table) as batch:
            batch.alter_column("uuid", existing_type=sa.String(length=36), nullable=False)
            batch.create_unique_constraint(f"uq_{table}_uuid", ["uuid"])
    with op.batch_alter_table("datasets") as batch:
        batch.add_column(sa.Column("search_terms", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("deleted_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("classified_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("classified_by", sa.String(length=64), nullable=False, server_default=""))
    with op.batch_alter_table("dataset_versions") as batch:
        batch.add_column(sa.Column("title", sa.String(length=200), nullable=False, server_default=""))
        batch.add_column(sa.Column("description", sa.Text(), nullable=False, server_default=""))
    _index_existing_datasets()


def downgrade() -> None:
    with op.batch_alter_table("dataset_versions") as batch:
        batch.drop_column("description")
        batch.drop_column("title")
    with op.batch_alter_table("datasets") as batch:
        batch.drop_column("classified_by")
        batch.drop_column("classified_at")
        batch.drop_column("deleted_at")
        batch.drop_column("search_terms")
    for table in ("dataset_versions", "datasets"):
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(f"uq_{table}_uuid", type_="unique")
            batch.drop_column("uuid")
