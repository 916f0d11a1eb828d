"""Tables of the catalogue: datasets, their immutable versions, and each version's fields."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, inspect
from sqlalchemy.orm import Mapped, mapped_column, object_session, relationship

from yiwang.core.i18n import N_
from yiwang.core.models import Base, Department, UTCDateTime, utcnow


class ShareType(StrEnum):
    """共享类型: who among departments may use the data."""

    UNCONDITIONAL = "unconditional"  # 无条件共享
    CONDITIONAL = "conditional"  # 有条件共享
    NONE = "none"  # 不予共享


class OpenType(StrEnum):
    """开放类型: what the public and enterprises may get."""

    UNCONDITIONAL = "unconditional"  # 无条件开放
    CONDITIONAL = "conditional"  # 有条件开放 (through a track and the sandbox)
    NONE = "none"  # 不予开放


class SecurityLevel(StrEnum):
    """分级: general / important / core; core data never leaves through open or sandbox paths."""

    GENERAL = "general"  # 一般
    IMPORTANT = "important"  # 重要
    CORE = "core"  # 核心


SHARE_LABELS = {
    ShareType.UNCONDITIONAL: N_("Shared unconditionally"),
    ShareType.CONDITIONAL: N_("Shared on approval"),
    ShareType.NONE: N_("Not shared"),
}
OPEN_LABELS = {
    OpenType.UNCONDITIONAL: N_("Open to everyone"),
    OpenType.CONDITIONAL: N_("Open on conditions"),
    OpenType.NONE: N_("Not open"),
}
SECURITY_LABELS = {
    SecurityLevel.GENERAL: N_("General"),
    SecurityLevel.IMPORTANT: N_("Important"),
    SecurityLevel.CORE: N_("Core"),
}


def _new_uuid() -> str:
    return str(uuid.uuid4())


UPDATE_FREQUENCIES = {
    "daily": N_("Daily"),
    "weekly": N_("Weekly"),
    "monthly": N_("Monthly"),
    "quarterly": N_("Quarterly"),
    "yearly": N_("Yearly"),
    "irregular": N_("Irregularly"),
}


class Dataset(Base):
    """数据资源: a governed dataset published by a department; points at its current version."""

    __tablename__ = "datasets"
    # counts of the datasets a visitor may see (search's BM25 needs one per query) read this index alone
    __table_args__ = (Index("ix_datasets_visibility", "open_type", "deleted_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=_new_uuid)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id", ondelete="RESTRICT"), index=True)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    themes: Mapped[list[str]] = mapped_column(JSON, default=list)
    update_frequency: Mapped[str] = mapped_column(String(32), default="")
    licence: Mapped[str] = mapped_column(String(100), default="")
    contact: Mapped[str] = mapped_column(String(200), default="")
    share_type: Mapped[str] = mapped_column(String(16), default=ShareType.CONDITIONAL.value)
    open_type: Mapped[str] = mapped_column(String(16), default=OpenType.NONE.value)
    security_level: Mapped[str] = mapped_column(String(16), default=SecurityLevel.GENERAL.value)
    spatial_coverage: Mapped[str] = mapped_column(String(200), default="")
    temporal_coverage: Mapped[str] = mapped_column(String(200), default="")
    current_version_id: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    modified_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    # jieba tokens of title, description, tags, themes and department, kept up to date by yiwang.catalog.search;
    # indexed by migration 0008 (FTS5 kept by triggers on SQLite, GIN on PostgreSQL), outside these models
    search_terms: Mapped[str] = mapped_column(Text, default="", server_default="")
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # when the data administrator last decided share type, open type and security level (None: awaiting review)
    classified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    classified_by: Mapped[str] = mapped_column(String(64), default="", server_default="")

    department: Mapped[Department] = relationship(lazy="joined", innerjoin=True)
    versions: Mapped[list[DatasetVersion]] = relationship(
        back_populates="dataset", order_by="DatasetVersion.number", cascade="all, delete-orphan"
    )

    @property
    def current_version(self) -> DatasetVersion | None:
        """The version `current_version_id` names: among the versions if they are loaded, else fetched alone (not
        every version with all its fields, as loading `versions` would)."""
        if self.current_version_id is None:
            return None
        session = object_session(self)
        if session is None or "versions" not in inspect(self).unloaded:
            return next((v for v in self.versions if v.id == self.current_version_id), None)
        return session.get(DatasetVersion, self.current_version_id)


class DatasetVersion(Base):
    """版本: one immutable upload, stored as Parquet under ``<data_dir>/datasets/<dataset>/<directory>/``."""

    __tablename__ = "dataset_versions"
    __table_args__ = (UniqueConstraint("dataset_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=_new_uuid)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    directory: Mapped[str] = mapped_column(String(64))
    source_filename: Mapped[str] = mapped_column(String(255), default="")
    # what the publisher calls this upload (a CKAN resource's name and description)
    title: Mapped[str] = mapped_column(String(200), default="", server_default="")
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    source_format: Mapped[str] = mapped_column(String(16))
    source_bytes: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    source_sha256: Mapped[str] = mapped_column(String(64))
    encoding: Mapped[str | None] = mapped_column(String(32))
    row_count: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    quality: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    dataset: Mapped[Dataset] = relationship(back_populates="versions")
    fields: Mapped[list[DatasetField]] = relationship(
        order_by="DatasetField.position", cascade="all, delete-orphan", lazy="selectin"
    )


class DatasetField(Base):
    """字段: a column of a version, with its personal-data kind (detected, then confirmed by the publisher)."""

    __tablename__ = "dataset_fields"
    __table_args__ = (UniqueConstraint("version_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("dataset_versions.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(String(500), default="")
    unit: Mapped[str] = mapped_column(String(32), default="")
    kind: Mapped[str] = mapped_column(String(16), default="none")
    kind_reason: Mapped[str] = mapped_column(String(200), default="")
    kind_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
