"""Services (一网通办): service items and processes, halls, applications, tasks, materials, licences, ratings.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from yiwang.core.models import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "service_halls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("opening_hours", sa.Text(), nullable=False),
        sa.Column("opening_hours_en", sa.Text(), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_halls")),
        sa.UniqueConstraint("code", name=op.f("uq_service_halls_code")),
    )
    with op.batch_alter_table("service_halls", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_service_halls_division_code"), ["division_code"], unique=False)

    op.create_table(
        "service_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("item_code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("audience", sa.JSON(), nullable=False),
        sa.Column("life_events", sa.JSON(), nullable=False),
        sa.Column("online_depth", sa.String(length=16), nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=False),
        sa.Column("conditions", sa.Text(), nullable=False),
        sa.Column("process_text", sa.Text(), nullable=False),
        sa.Column("legal_days", sa.Integer(), nullable=False),
        sa.Column("promised_days", sa.Integer(), nullable=False),
        sa.Column("fee", sa.Text(), nullable=False),
        sa.Column("location", sa.Text(), nullable=False),
        sa.Column("consultation", sa.Text(), nullable=False),
        sa.Column("materials", sa.JSON(), nullable=False),
        sa.Column("guide", sa.JSON(), nullable=False),
        sa.Column("guide_en", sa.JSON(), nullable=False),
        sa.Column("form_schema", sa.JSON(), nullable=False),
        sa.Column("example_form", sa.JSON(), nullable=False),
        sa.Column("autofill", sa.JSON(), nullable=False),
        sa.Column("clock_paused_steps", sa.JSON(), nullable=False),
        sa.Column("issues_licence", sa.JSON(), nullable=True),
        sa.Column("search_terms", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_service_items_department_id_departments"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_items")),
        sa.UniqueConstraint("code", name=op.f("uq_service_items_code")),
        sa.UniqueConstraint("item_code", name=op.f("uq_service_items_item_code")),
    )
    with op.batch_alter_table("service_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_service_items_department_id"), ["department_id"], unique=False)

    op.create_table(
        "hall_services",
        sa.Column("hall_id", sa.Integer(), nullable=False),
        sa.Column("service_item_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["hall_id"], ["service_halls.id"], name=op.f("fk_hall_services_hall_id_service_halls"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["service_item_id"],
            ["service_items.id"],
            name=op.f("fk_hall_services_service_item_id_service_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("hall_id", "service_item_id", name=op.f("pk_hall_services")),
    )
    op.create_table(
        "service_processes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service_item_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("process_id", sa.String(length=200), nullable=False),
        sa.Column("bpmn_xml", sa.Text(), nullable=False),
        sa.Column("spec_state", sa.JSON(), nullable=False),
        sa.Column("step_departments", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_item_id"],
            ["service_items.id"],
            name=op.f("fk_service_processes_service_item_id_service_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_processes")),
        sa.UniqueConstraint("service_item_id", "version", name=op.f("uq_service_processes_service_item_id")),
    )
    with op.batch_alter_table("service_processes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_service_processes_service_item_id"), ["service_item_id"], unique=False)

    op.create_table(
        "applications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("receipt", sa.String(length=32), nullable=False),
        sa.Column("service_item_id", sa.Integer(), nullable=False),
        sa.Column("process_id", sa.Integer(), nullable=False),
        sa.Column("applicant_user_id", sa.Integer(), nullable=False),
        sa.Column("applicant_name", sa.String(length=200), nullable=False),
        sa.Column("form", sa.JSON(), nullable=False),
        sa.Column("autofilled", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("submitted_at", UTCDateTime(), nullable=False),
        sa.Column("promised_due_at", UTCDateTime(), nullable=False),
        sa.Column("legal_due_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("result_note", sa.Text(), nullable=False),
        sa.Column("instance_state", sa.JSON(), nullable=False),
        sa.Column("instance_bytes", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["applicant_user_id"],
            ["users.id"],
            name=op.f("fk_applications_applicant_user_id_users"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["process_id"],
            ["service_processes.id"],
            name=op.f("fk_applications_process_id_service_processes"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["service_item_id"],
            ["service_items.id"],
            name=op.f("fk_applications_service_item_id_service_items"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_applications")),
        sa.UniqueConstraint("receipt", name=op.f("uq_applications_receipt")),
    )
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_applications_applicant_user_id"), ["applicant_user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_applications_service_item_id"), ["service_item_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_applications_state"), ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_applications_submitted_at"), ["submitted_at"], unique=False)

    op.create_table(
        "application_materials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("stored_as", sa.String(length=255), nullable=False),
        sa.Column("licence_number", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_application_materials_application_id_applications"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_application_materials")),
    )
    with op.batch_alter_table("application_materials", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_application_materials_application_id"), ["application_id"], unique=False)

    op.create_table(
        "application_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("engine_task_id", sa.String(length=36), nullable=False),
        sa.Column("step", sa.String(length=200), nullable=False),
        sa.Column("step_name", sa.String(length=200), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("clock_paused", sa.Boolean(), nullable=False),
        sa.Column("opened_at", UTCDateTime(), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=False),
        sa.Column("completed_at", UTCDateTime(), nullable=True),
        sa.Column("completed_by", sa.String(length=64), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_application_tasks_application_id_applications"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_application_tasks_department_id_departments"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_application_tasks")),
    )
    with op.batch_alter_table("application_tasks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_application_tasks_application_id"), ["application_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_application_tasks_department_id"), ["department_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_application_tasks_state"), ["state"], unique=False)

    op.create_table(
        "licences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("licence_type", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("holder_name", sa.String(length=200), nullable=False),
        sa.Column("holder_code", sa.String(length=32), nullable=False),
        sa.Column("holder_user_id", sa.Integer(), nullable=True),
        sa.Column("issuer_department_id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("issued_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_licences_application_id_applications"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["holder_user_id"], ["users.id"], name=op.f("fk_licences_holder_user_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["issuer_department_id"],
            ["departments.id"],
            name=op.f("fk_licences_issuer_department_id_departments"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_licences")),
        sa.UniqueConstraint("number", name=op.f("uq_licences_number")),
    )
    with op.batch_alter_table("licences", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_licences_holder_code"), ["holder_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_licences_holder_user_id"), ["holder_user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_licences_licence_type"), ["licence_type"], unique=False)

    op.create_table(
        "ratings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("service_item_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("rated_at", UTCDateTime(), nullable=False),
        sa.Column("excluded", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_ratings_application_id_applications"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_ratings_department_id_departments"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["service_item_id"],
            ["service_items.id"],
            name=op.f("fk_ratings_service_item_id_service_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ratings")),
        sa.UniqueConstraint("application_id", name=op.f("uq_ratings_application_id")),
    )
    with op.batch_alter_table("ratings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ratings_department_id"), ["department_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_ratings_rated_at"), ["rated_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_ratings_service_item_id"), ["service_item_id"], unique=False)

    op.create_table(
        "rectifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rating_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("explained_at", UTCDateTime(), nullable=True),
        sa.Column("appeal_reason", sa.Text(), nullable=False),
        sa.Column("appealed_at", UTCDateTime(), nullable=True),
        sa.Column("review_note", sa.Text(), nullable=False),
        sa.Column("reviewed_by", sa.String(length=64), nullable=False),
        sa.Column("reviewed_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_rectifications_department_id_departments"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["rating_id"], ["ratings.id"], name=op.f("fk_rectifications_rating_id_ratings"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rectifications")),
        sa.UniqueConstraint("rating_id", name=op.f("uq_rectifications_rating_id")),
    )
    with op.batch_alter_table("rectifications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rectifications_department_id"), ["department_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_rectifications_state"), ["state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("rectifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rectifications_state"))
        batch_op.drop_index(batch_op.f("ix_rectifications_department_id"))

    op.drop_table("rectifications")
    with op.batch_alter_table("ratings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ratings_service_item_id"))
        batch_op.drop_index(batch_op.f("ix_ratings_rated_at"))
        batch_op.drop_index(batch_op.f("ix_ratings_department_id"))

    op.drop_table("ratings")
    with op.batch_alter_table("licences", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_licences_licence_type"))
        batch_op.drop_index(batch_op.f("ix_licences_holder_user_id"))
        batch_op.drop_index(batch_op.f("ix_licences_holder_code"))

    op.drop_table("licences")
    with op.batch_alter_table("application_tasks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_application_tasks_state"))
        batch_op.drop_index(batch_op.f("ix_application_tasks_department_id"))
        batch_op.drop_index(batch_op.f("ix_application_tasks_application_id"))

    op.drop_table("application_tasks")
    with op.batch_alter_table("application_materials", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_application_materials_application_id"))

    op.drop_table("application_materials")
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_applications_submitted_at"))
        batch_op.drop_index(batch_op.f("ix_applications_state"))
        batch_op.drop_index(batch_op.f("ix_applications_service_item_id"))
        batch_op.drop_index(batch_op.f("ix_applications_applicant_user_id"))

    op.drop_table("applications")
    with op.batch_alter_table("service_processes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_processes_service_item_id"))

    op.drop_table("service_processes")
    op.drop_table("hall_services")
    with op.batch_alter_table("service_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_items_department_id"))

    op.drop_table("service_items")
    with op.batch_alter_table("service_halls", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_halls_division_code"))

    op.drop_table("service_halls")
