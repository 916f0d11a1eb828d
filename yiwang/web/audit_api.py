"""JSON API of the audit trail, for auditors: page and filter it, and verify the chain."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, BeforeValidator, Field

from yiwang.core import audit
from yiwang.core.models import AuditEntry
from yiwang.web.deps import ApiActor, ReadSessionDep, SessionDep, TranslateDep

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


class AuditEntryPublic(BaseModel):
    seq: int
    occurred_at: str
    actor_name: str
    actor_role: str
    department: str
    action: str
    resource_type: str
    resource_id: str
    purpose: str
    result: str
    detail: str
    algorithm: str
    prev_hash: str
    entry_hash: str

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditEntryPublic:
        return cls.model_validate(entry, from_attributes=True)


class AuditPagePublic(BaseModel):
    entries: list[AuditEntryPublic]
    total: int
    page: int
    page_size: int
    pages: int


class VerifyPublic(BaseModel):
    ok: bool
    checked: int = Field(description="Entries found intact, from the first.")
    head_seq: int
    head_hash: str
    first_bad_seq: int | None
    problem: str | None
    message: str


def _blank_to_none(value: object) -> object:
    """An empty form field (``since=``) means no bound, not a malformed time."""
    return None if value == "" else value


OptionalTime = Annotated[datetime | None, BeforeValidator(_blank_to_none)]


def audit_filter(
    actor_name: Annotated[str | None, Query(alias="actor", max_length=100, description="操作者 Username.")] = None,
    action: Annotated[str | None, Query(max_length=64, description="动作 Action or its prefix (`user.`).")] = None,
    resource_type: Annotated[str | None, Query(max_length=64)] = None,
    resource_id: Annotated[str | None, Query(max_length=200)] = None,
    result: Annotated[str | None, Query(description="success | denied | error")] = None,
    since: Annotated[OptionalTime, Query(description="From this time (ISO 8601), inclusive.")] = None,
    until: Annotated[OptionalTime, Query(description="Up to this time (ISO 8601), exclusive.")] = None,
) -> audit.AuditFilter:
    def aware(value: datetime | None) -> datetime | None:
        return value.astimezone() if value is not None and value.tzinfo is None else value

    return audit.AuditFilter(
        actor_name or None,
        action or None,
        resource_type or None,
        resource_id or None,
        result or None,
        aware(since),
        aware(until),
    )


AuditFilterDep = Annotated[audit.AuditFilter, Depends(audit_filter)]


@router.get("", response_model=AuditPagePublic, summary="审计日志 Audit trail")
def list_audit_entries(
    actor: ApiActor,
    session: SessionDep,
    flt: AuditFilterDep,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=audit.MAX_PAGE_SIZE)] = 50,
) -> dict[str, Any]:
    """A page of the trail, newest first (auditors only; the reading itself is recorded)."""
    found = audit.search(session, actor, flt, page, page_size)
    return {
        "entries": [AuditEntryPublic.of(e) for e in found.entries],
        "total": found.total,
        "page": found.page,
        "page_size": found.page_size,
        "pages": found.pages,
    }


@router.get("/verify", response_model=VerifyPublic, summary="校验审计链 Verify the audit chain")
def verify_audit_chain(actor: ApiActor, session: ReadSessionDep, translate: TranslateDep) -> VerifyPublic:
    """Recompute every hash of the chain and name the first entry that was edited, removed or moved."""
    report = audit.verify(session, actor)
    return VerifyPublic(
        ok=report.ok,
        checked=report.checked,
        head_seq=report.head_seq,
        head_hash=report.head_hash,
        first_bad_seq=report.first_bad_seq,
        problem=report.problem,
        message=report.message(translate),
    )
