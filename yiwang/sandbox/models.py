"""Tables of the sandbox: scenario tracks, enterprises' applications, the privacy-budget ledger of releases, exports
and data products."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from yiwang.catalog.models import Dataset
from yiwang.core.i18n import N_
from yiwang.core.models import Base, Department, UTCDateTime, utcnow


class ApplicationState(StrEnum):
    """赛道申请状态."""

    PENDING = "pending"  # 待审核
    APPROVED = "approved"  # 已通过
    REFUSED = "refused"  # 未通过


APPLICATION_LABELS = {
    ApplicationState.PENDING: N_("Pending review"),
    ApplicationState.APPROVED: N_("Approved"),
    ApplicationState.REFUSED: N_("Refused"),
}


class Track(Base):
    """赛道: a scenario in which approved enterprises compute on conditionally open data without seeing records."""

    __tablename__ = "tracks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    host_department_id: Mapped[int] = mapped_column(ForeignKey("departments.id", ondelete="RESTRICT"))
    datasets: Mapped[list[str]] = mapped_column(JSON)  # dataset names in scope
    # privacy budget of each approved applicant: ε in total, δ (0 for the Laplace releases offered today)
    epsilon: Mapped[float] = mapped_column(Float)
    delta: Mapped[float] = mapped_column(Float, default=0.0)
    min_group_size: Mapped[int] = mapped_column(Integer, default=10)
    # {column: [low, high]}: values are clamped into the bounds before summing, so one person moves a sum by at most
    # max(|low|, |high|)
    bounds: Mapped[dict[str, list[float]]] = mapped_column(JSON, default=dict)
    # {column: [value, ...]}: the only columns a query may group by, with every group known before the query runs
    public_domains: Mapped[dict[str, list[Any]]] = mapped_column(JSON, default=dict)
    # de-identified export: None when the track does not allow it, else {"k", "quasi_identifiers", "sensitive"}
    export: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    valid_to: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    host: Mapped[Department] = relationship(lazy="joined", innerjoin=True)


class TrackApplication(Base):
    """赛道申请: an enterprise (by its unified social credit code) asks to compute in a track for a project."""

    __tablename__ = "track_applications"
    __table_args__ = (UniqueConstraint("track_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    track_id: Mapped[int] = mapped_column(ForeignKey("tracks.id", ondelete="RESTRICT"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    username: Mapped[str] = mapped_column(String(64))
    organisation: Mapped[str] = mapped_column(String(200), default="")
    credit_code: Mapped[str] = mapped_column(String(18))
    project: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default=ApplicationState.PENDING.value, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by: Mapped[str] = mapped_column(String(64), default="")
    decision_note: Mapped[str] = mapped_column(Text, default="")

    track: Mapped[Track] = relationship(lazy="joined", innerjoin=True)


class Release(Base):
    """发布记录 / 隐私预算台账: one differentially private answer and the ε it charged to the applicant's budget.

    A row is written before the query runs (the budget is reserved) and completed or removed after, so concurrent
    queries can never together spend more than the budget.
    """

    __tablename__ = "privacy_releases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("track_applications.id", ondelete="RESTRICT"), index=True)
    sql: Mapped[str] = mapped_column(Text)  # the query as regenerated from the checked tree
    epsilon: Mapped[float] = mapped_column(Float)
    delta: Mapped[float] = mapped_column(Float, default=0.0)
    completed: Mapped[bool] = mapped_column(Boolean, default=False)
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # columns, rows, noise, suppressed
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    application: Mapped[TrackApplication] = relationship(lazy="joined", innerjoin=True)


class DeidentifiedExport(Base):
    """脱敏导出: a dataset generalised to k-anonymity for an approved applicant, with what it reached."""

    __tablename__ = "deidentified_exports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("track_applications.id", ondelete="RESTRICT"), index=True)
    dataset: Mapped[str] = mapped_column(String(100))
    directory: Mapped[str] = mapped_column(String(64))  # under <data_dir>/exports/
    report: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # k and l reached, levels, loss, suppression
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    application: Mapped[TrackApplication] = relationship(lazy="joined", innerjoin=True)


class DataProduct(Base):
    """数据产品: a released result or export an enterprise published in the catalogue, with its provenance."""

    __tablename__ = "data_products"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id", ondelete="RESTRICT"), unique=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("track_applications.id", ondelete="RESTRICT"))
    release_id: Mapped[int | None] = mapped_column(ForeignKey("privacy_releases.id", ondelete="RESTRICT"))
    export_id: Mapped[int | None] = mapped_column(ForeignKey("deidentified_exports.id", ondelete="RESTRICT"))
    source: Mapped[str] = mapped_column(String(16))  # "release" or "export"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    application: Mapped[TrackApplication] = relationship(lazy="joined", innerjoin=True)
    dataset: Mapped[Dataset] = relationship(lazy="joined", innerjoin=True)
