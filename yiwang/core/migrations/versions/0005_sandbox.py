"""Sandbox: scenario tracks, applications, the privacy-budget ledger of releases, data products.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from yiwang.core.models import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _fk(table: str, column: str, target: str, ondelete: str = "RESTRICT") -> sa.ForeignKeyConstraint:
    referred = target.split(".")[0]
    return sa.ForeignKeyConstraint([column], [target], name=op.f(f"fk_{table}_{column}_{referred}"), ondelete=ondelete)


def upgrade() -> None:
    op.create_table(
        "tracks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("host_department_id", sa.Integer(), nullable=False),
        sa.Column("datasets", sa.JSON(), nullable=False),
        sa.Column("epsilon", sa.Float(), nullable=False),
        sa.Column("delta", sa.Float(), nullable=False),
        sa.Column("min_group_size", sa.Integer(), nullable=False),
        sa.Column("bounds", sa.JSON(), nullable=False),
        sa.Column("public_domains", sa.JSON(), nullable=False),
        sa.Column("export", sa.JSON(), nullable=True),
        sa.Column("valid_to", UTCDateTime(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        _fk("tracks", "host_department_id", "departments.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracks")),
        sa.UniqueConstraint("name", name=op.f("uq_tracks_name")),
    )
    op.create_table(
        "track_applications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("track_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("organisation", sa.String(length=200), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.Column("project", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=False),
        sa.Column("decision_note", sa.Text(), nullable=False),
        _fk("track_applications", "track_id", "tracks.id"),
        _fk("track_applications", "user_id", "users.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_track_applications")),
        sa.UniqueConstraint("track_id", "user_id", name=op.f("uq_track_applications_track_id")),
    )
    with op.batch_alter_table("track_applications") as batch:
        for column in ("state", "track_id", "user_id"):
            batch.create_index(batch.f(f"ix_track_applications_{column}"), [column], unique=False)
    op.create_table(
        "privacy_releases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("sql", sa.Text(), nullable=False),
        sa.Column("epsilon", sa.Float(), nullable=False),
        sa.Column("delta", sa.Float(), nullable=False),
        sa.Column("completed", sa.Boolean(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        _fk("privacy_releases", "application_id", "track_applications.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_releases")),
    )
    with op.batch_alter_table("privacy_releases") as batch:
        batch.create_index(batch.f("ix_privacy_releases_application_id"), ["application_id"], unique=False)
    op.create_table(
        "deidentified_exports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("dataset", sa.String(length=100), nullable=False),
        sa.Column("directory", sa.String(length=64), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        _fk("deidentified_exports", "application_id", "track_applications.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deidentified_exports")),
    )
    with op.batch_alter_table("deidentified_exports") as batch:
        batch.create_index(batch.f("ix_deidentified_exports_application_id"), ["application_id"], unique=False)
    op.create_table(
        "data_products",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("release_id", sa.Integer(), nullable=True),
        sa.Column("export_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        _fk("data_products", "dataset_id", "datasets.id"),
        _fk("data_products", "application_id", "track_applications.id"),
        _fk("data_products", "release_id", "privacy_releases.id"),
        _fk("data_products", "export_id", "deidentified_exports.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_products")),
        sa.UniqueConstraint("dataset_id", name=op.f("uq_data_products_dataset_id")),
    )


def downgrade() -> None:
    op.drop_table("data_products")
    op.drop_table("deidentified_exports")
    op.drop_table("privacy_releases")
    op.drop_table("track_applications")
    op.drop_table("tracks")
