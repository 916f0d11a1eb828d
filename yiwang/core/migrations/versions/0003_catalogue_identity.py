"""Catalogue: stable public ids (CKAN/DCAT), search terms, soft deletion, classification review, version names.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from __future__ import annotations

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
