"""Tables of 一网通办: service items and their processes, halls, applications with tasks and materials, electronic
licences, ratings and the rectifications bad ratings open."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from yiwang.core.i18n import N_
from yiwang.core.models import Base, Department, UTCDateTime, utcnow


class ServiceItem(Base):
    """政务服务事项: a service with the national standard's elements, a plain-language guide and an online form."""

    __tablename__ = "service_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)  # the URL name, e.g. investment-single-window
    item_code: Mapped[str] = mapped_column(String(64), unique=True)  # 事项编码
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id", ondelete="RESTRICT"), index=True)
    category: Mapped[str] = mapped_column(String(32))
    audience: Mapped[list[str]] = mapped_column(JSON, default=list)
    life_events: Mapped[list[str]] = mapped_column(JSON, default=list)
    online_depth: Mapped[str] = mapped_column(String(16))
    legal_basis: Mapped[str] = mapped_column(Text, default="")
    conditions: Mapped[str] = mapped_column(Text, default="")
    process_text: Mapped[str] = mapped_column(Text, default="")
    legal_days: Mapped[int] = mapped_column(Integer)
    promised_days: Mapped[int] = mapped_column(Integer)
    fee: Mapped[str] = mapped_column(Text, default="")
    location: Mapped[str] = mapped_column(Text, default="")
    consultation: Mapped[str] = mapped_column(Text, default="")
    # [{"code", "name", "basis", "original", "copies", "source", "licence_type"?, "required", "formats", "max_mb",
    #   "example"}, ...]
    materials: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    guide: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # 白话版: summary, steps, bring, tips
    guide_en: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    form_schema: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    example_form: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # [{"field", "dataset", "key_field", "key_from", "value_field"}]: filled from a sharing grant with consent (免证办)
    autofill: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    clock_paused_steps: Mapped[list[str]] = mapped_column(JSON, default=list)  # steps not counted toward time limits
    issues_licence: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # {"type", "name", "name_en", "valid_years"}
    search_terms: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    department: Mapped[Department] = relationship(lazy="joined", innerjoin=True)


class ServiceProcess(Base):
    """办理流程: one version of a service item's BPMN process; applications keep the version they started on."""

    __tablename__ = "service_processes"
    __table_args__ = (UniqueConstraint("service_item_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service_item_id: Mapped[int] = mapped_column(ForeignKey("service_items.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    process_id: Mapped[str] = mapped_column(String(200))
    bpmn_xml: Mapped[str] = mapped_column(Text)
    spec_state: Mapped[dict[str, Any]] = mapped_column(JSON)  # the engine's serialised spec, stored once
    # {step id: department id} resolved from the lane names when the file was imported
    step_departments: Mapped[dict[str, int]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64))


class ServiceHall(Base):
    """政务服务大厅: a place to go, with where it is, when it opens and which services it handles."""

    __tablename__ = "service_halls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    division_code: Mapped[str] = mapped_column(String(6), index=True)
    address: Mapped[str] = mapped_column(Text)
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    opening_hours: Mapped[str] = mapped_column(Text, default="")
    opening_hours_en: Mapped[str] = mapped_column(Text, default="")
    phone: Mapped[str] = mapped_column(String(40), default="")


class HallService(Base):
    """Which hall handles which service item."""

    __tablename__ = "hall_services"

    hall_id: Mapped[int] = mapped_column(ForeignKey("service_halls.id", ondelete="CASCADE"), primary_key=True)
    service_item_id: Mapped[int] = mapped_column(ForeignKey("service_items.id", ondelete="CASCADE"), primary_key=True)


class ApplicationState(StrEnum):
    """办件状态."""

    IN_PROGRESS = "in_progress"  # 办理中
    COMPLETED = "completed"  # 已办结
    REJECTED = "rejected"  # 不予受理/不予许可


APPLICATION_STATE_LABELS = {
    ApplicationState.IN_PROGRESS: N_("In progress"),
    ApplicationState.COMPLETED: N_("Completed"),
    ApplicationState.REJECTED: N_("Rejected"),
}


class Application(Base):
    """办件: one submission of a service item's form, run through the item's process."""

    __tablename__ = "applications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    receipt: Mapped[str] = mapped_column(String(32), unique=True)  # 受理回执号
    service_item_id: Mapped[int] = mapped_column(ForeignKey("service_items.id", ondelete="RESTRICT"), index=True)
    process_id: Mapped[int] = mapped_column(ForeignKey("service_processes.id", ondelete="RESTRICT"))
    applicant_user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    applicant_name: Mapped[str] = mapped_column(String(200))
    form: Mapped[dict[str, Any]] = mapped_column(JSON)
    # [{"field", "dataset", "grant", "source_field"}]: which shared data filled which field (免证办), with consent
    autofilled: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    state: Mapped[str] = mapped_column(String(16), default=ApplicationState.IN_PROGRESS.value, index=True)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    promised_due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    legal_due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    result_note: Mapped[str] = mapped_column(Text, default="")
    instance_state: Mapped[dict[str, Any]] = mapped_column(JSON)  # the engine's instance, without its spec
    instance_bytes: Mapped[int] = mapped_column(Integer, default=0)

    service_item: Mapped[ServiceItem] = relationship(lazy="joined", innerjoin=True)
    process: Mapped[ServiceProcess] = relationship(lazy="select")
    tasks: Mapped[list[ApplicationTask]] = relationship(
        order_by="ApplicationTask.id", cascade="all, delete-orphan", lazy="selectin"
    )
    materials: Mapped[list[ApplicationMaterial]] = relationship(
        order_by="ApplicationMaterial.id", cascade="all, delete-orphan", lazy="selectin"
    )


class TaskState(StrEnum):
    OPEN = "open"  # 待办
    CLAIMED = "claimed"  # 已签收
    COMPLETED = "completed"  # 已办
    CANCELLED = "cancelled"  # 已取消 (another department rejected the application)


TASK_STATE_LABELS = {
    TaskState.OPEN: N_("Open"),
    TaskState.CLAIMED: N_("Claimed"),
    TaskState.COMPLETED: N_("Done"),
    TaskState.CANCELLED: N_("Cancelled"),
}


class ApplicationTask(Base):
    """待办任务: a user task of an application's process, waiting for one department."""

    __tablename__ = "application_tasks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    engine_task_id: Mapped[str] = mapped_column(String(36))
    step: Mapped[str] = mapped_column(String(200))
    step_name: Mapped[str] = mapped_column(String(200))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id", ondelete="RESTRICT"), index=True)
    state: Mapped[str] = mapped_column(String(16), default=TaskState.OPEN.value, index=True)
    clock_paused: Mapped[bool] = mapped_column(Boolean, default=False)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    claimed_by: Mapped[str] = mapped_column(String(64), default="")
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_by: Mapped[str] = mapped_column(String(64), default="")
    decision: Mapped[str] = mapped_column(String(16), default="")
    comment: Mapped[str] = mapped_column(Text, default="")

    department: Mapped[Department] = relationship(lazy="joined", innerjoin=True)


class ApplicationMaterial(Base):
    """申请材料: a file the applicant uploaded, or a licence the platform verified instead (免提交)."""

    __tablename__ = "application_materials"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(16))  # upload | licence
    filename: Mapped[str] = mapped_column(String(255), default="")
    content_type: Mapped[str] = mapped_column(String(100), default="")
    size: Mapped[int] = mapped_column(Integer, default=0)
    sha256: Mapped[str] = mapped_column(String(64), default="")
    stored_as: Mapped[str] = mapped_column(String(255), default="")  # path under the data directory
    licence_number: Mapped[str] = mapped_column(String(64), default="")


class Licence(Base):
    """电子证照: what a completed application issues; other services verify it instead of asking for paper."""

    __tablename__ = "licences"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)
    licence_type: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(200))
    holder_name: Mapped[str] = mapped_column(String(200))
    holder_code: Mapped[str] = mapped_column(String(32), index=True)  # citizen ID number or credit code
    holder_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    issuer_department_id: Mapped[int] = mapped_column(ForeignKey("departments.id", ondelete="RESTRICT"))
    application_id: Mapped[int | None] = mapped_column(ForeignKey("applications.id", ondelete="SET NULL"))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    issuer: Mapped[Department] = relationship(lazy="joined", innerjoin=True)


class Rating(Base):
    """好差评: the applicant's one rating of one finished application (一次一评), on the five national levels."""

    __tablename__ = "ratings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), unique=True)
    service_item_id: Mapped[int] = mapped_column(ForeignKey("service_items.id", ondelete="CASCADE"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id", ondelete="RESTRICT"), index=True)
    level: Mapped[int] = mapped_column(Integer)  # 5 非常满意 … 1 非常不满意
    comment: Mapped[str] = mapped_column(Text, default="")
    rated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    # a review upheld the department's appeal: the rating stays visible but leaves the statistics
    excluded: Mapped[bool] = mapped_column(Boolean, default=False)


class RectificationState(StrEnum):
    OPEN = "open"  # 待整改
    EXPLAINED = "explained"  # 已整改反馈
    APPEALED = "appealed"  # 申诉中
    APPEAL_UPHELD = "appeal_upheld"  # 申诉成立 (rating excluded)
    APPEAL_DISMISSED = "appeal_dismissed"  # 申诉驳回 (back to open)


RECTIFICATION_STATE_LABELS = {
    RectificationState.OPEN: N_("Awaiting rectification"),
    RectificationState.EXPLAINED: N_("Rectified and explained"),
    RectificationState.APPEALED: N_("Appeal under review"),
    RectificationState.APPEAL_UPHELD: N_("Appeal upheld"),
    RectificationState.APPEAL_DISMISSED: N_("Appeal dismissed"),
}


class Rectification(Base):
    """整改: what a bad rating (差评) opens for the department, with a deadline, an explanation and an appeal."""

    __tablename__ = "rectifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rating_id: Mapped[int] = mapped_column(ForeignKey("ratings.id", ondelete="CASCADE"), unique=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id", ondelete="RESTRICT"), index=True)
    state: Mapped[str] = mapped_column(String(20), default=RectificationState.OPEN.value, index=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    explanation: Mapped[str] = mapped_column(Text, default="")
    explained_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    appeal_reason: Mapped[str] = mapped_column(Text, default="")
    appealed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    review_note: Mapped[str] = mapped_column(Text, default="")
    reviewed_by: Mapped[str] = mapped_column(String(64), default="")
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    rating: Mapped[Rating] = relationship(lazy="joined", innerjoin=True)
    department: Mapped[Department] = relationship(lazy="joined", innerjoin=True)
