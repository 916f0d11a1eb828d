"""Tables of sharing: requests with their history, the grants approvals create, and per-minute call counters."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from yiwang.catalog.models import Dataset
from yiwang.core.i18n import N_
from yiwang.core.models import Base, Department, UTCDateTime, utcnow


class RequestState(StrEnum):
    """共享申请状态. `expired` is not stored: a granted request whose grant ran out reads as expired."""

    PENDING = "pending"  # 待审核
    GRANTED = "granted"  # 已授权
    REFUSED = "refused"  # 已驳回
    WITHDRAWN = "withdrawn"  # 已撤回
    REVOKED = "revoked"  # 已撤销授权
    EXPIRED = "expired"  # 已到期


STATE_LABELS = {
    RequestState.PENDING: N_("Pending review"),
    RequestState.GRANTED: N_("Granted"),
    RequestState.REFUSED: N_("Refused"),
    RequestState.WITHDRAWN: N_("Withdrawn"),
    RequestState.REVOKED: N_("Revoked"),
    RequestState.EXPIRED: N_("Expired"),
}


def _grant_id() -> str:
    return uuid.uuid4().hex


class SharingRequest(Base):
    """共享申请: a department asks for fields of another department's dataset, for a purpose, on a legal basis."""

    __tablename__ = "sharing_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id", ondelete="RESTRICT"), index=True)
    consumer_department_id: Mapped[int] = mapped_column(ForeignKey("departments.id", ondelete="RESTRICT"), index=True)
    requested_by: Mapped[str] = mapped_column(String(64))
    fields: Mapped[list[str]] = mapped_column(JSON)
    # [[field, operator, value], ...] in the row API's operators; every condition must hold (AND)
    row_filter: Mapped[list[list[str]]] = mapped_column(JSON, default=list)
    purpose: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str] = mapped_column(Text)
    days: Mapped[int] = mapped_column(Integer)
    expected_calls_per_day: Mapped[int | None] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), default=RequestState.PENDING.value, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    review_due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by: Mapped[str] = mapped_column(String(64), default="")
    decision_note: Mapped[str] = mapped_column(Text, default="")

    dataset: Mapped[Dataset] = relationship(lazy="joined", innerjoin=True)
    consumer: Mapped[Department] = relationship(lazy="joined", innerjoin=True)
    events: Mapped[list[RequestEvent]] = relationship(
        order_by="RequestEvent.id", cascade="all, delete-orphan", lazy="selectin"
    )
    grant: Mapped[Grant | None] = relationship(back_populates="request", lazy="selectin")


class RequestEvent(Base):
    """申请记录: one step in a request's history (submitted, approved, refused, withdrawn, revoked)."""

    __tablename__ = "sharing_request_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("sharing_requests.id", ondelete="CASCADE"), index=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor_name: Mapped[str] = mapped_column(String(64))
    department: Mapped[str] = mapped_column(String(100), default="")
    event: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")


class Grant(Base):
    """授权: what an approval creates; checked on every exchange call, useless once revoked or past `valid_to`."""

    __tablename__ = "grants"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=_grant_id)
    request_id: Mapped[int] = mapped_column(ForeignKey("sharing_requests.id", ondelete="RESTRICT"), unique=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id", ondelete="RESTRICT"), index=True)
    consumer_department_id: Mapped[int] = mapped_column(ForeignKey("departments.id", ondelete="RESTRICT"), index=True)
    # [{"name": field, "disclosure": raw|masked|pseudonym|withheld}, ...] in the dataset's field order
    fields: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    row_filter: Mapped[list[list[str]]] = mapped_column(JSON, default=list)
    purpose: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str] = mapped_column(Text)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime())
    valid_to: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    rate_limit_per_minute: Mapped[int] = mapped_column(Integer)
    # raw citizen ID numbers were approved explicitly; every call under this grant is flagged in the audit trail
    raw_id_number: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by: Mapped[str] = mapped_column(String(64), default="")
    revoke_reason: Mapped[str] = mapped_column(Text, default="")

    request: Mapped[SharingRequest] = relationship(back_populates="grant")
    dataset: Mapped[Dataset] = relationship(lazy="joined", innerjoin=True)
    consumer: Mapped[Department] = relationship(lazy="joined", innerjoin=True)


class GrantCalls(Base):
    """调用计数: exchange calls and rows returned under a grant in one minute; rate limits and usage read it."""

    __tablename__ = "grant_calls"

    grant_id: Mapped[str] = mapped_column(ForeignKey("grants.id", ondelete="CASCADE"), primary_key=True)
    minute: Mapped[int] = mapped_column(Integer, primary_key=True)  # minutes since the Unix epoch, UTC
    calls: Mapped[int] = mapped_column(Integer, default=0)
    rows: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), default=0)
