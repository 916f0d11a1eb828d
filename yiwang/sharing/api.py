"""JSON API of sharing (一网协同): requests, decisions, grants, the data-exchange calls and usage figures."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import StreamingResponse

from yiwang.core.masking import Disclosure
from yiwang.sharing import exchange, service, usage
from yiwang.sharing.models import Grant, RequestState, SharingRequest
from yiwang.web.deps import AnalyticsDep, ApiActor, DatabaseDep, ReadSessionDep, SessionDep, SettingsDep
from yiwang.web.openapi_links import from_body, grant_links, linked, sharing_request_links

router = APIRouter(tags=["sharing"])


class RequestIn(BaseModel):
    dataset: str = Field(description="数据资源 Name of the dataset asked for.")
    fields: list[str] = Field(description="字段 Fields asked for (at least one).")
    purpose: str = Field(description="用途 What the data will be used for.")
    legal_basis: str = Field(description="依据 The law, regulation or document that allows the use.")
    days: int = Field(description="期限 Days the grant should last (1 … 1095).")
    row_filter: dict[str, str] = Field(
        default_factory=dict,
        description='行范围 Only rows matching all conditions, in the row API\'s syntax: `{"division": "460106"}`, '
        '`{"age__gte": "18"}`.',
    )
    expected_calls_per_day: int | None = Field(None, description="预计调用量 Expected calls a day.")


class RequestCreated(BaseModel):
    id: int
    state: RequestState = Field(description="`granted` at once for data shared unconditionally, else `pending`.")
    grant_id: str | None = None


class ApproveIn(BaseModel):
    fields: list[str] | None = Field(None, description="批准字段 Fields approved (default: all asked for).")
    masking: dict[str, Disclosure] = Field(
        default_factory=dict,
        description="披露方式 Per field: raw, masked, pseudonym or withheld (default: personal fields masked, others "
        "raw).",
    )
    days: int | None = Field(None, description="Days approved, at most those asked for.")
    row_filter: dict[str, str] = Field(default_factory=dict, description="Row conditions added to those asked for.")
    rate_limit: int | None = Field(None, description="Calls a minute allowed (default: the platform's limit).")
    raw_id_number: bool = Field(False, description="Explicitly approve raw citizen ID numbers.")
    note: str = ""


class ApproveOut(BaseModel):
    grant_id: str


class ReasonIn(BaseModel):
    reason: str = ""


class EventPublic(BaseModel):
    occurred_at: datetime
    actor: str
    department: str
    event: str
    note: str


class GrantedField(BaseModel):
    name: str
    disclosure: Disclosure


class GrantPublic(BaseModel):
    id: str
    request_id: int
    dataset: str
    owner: str
    consumer: str
    fields: list[GrantedField]
    row_filter: list[list[str]]
    purpose: str
    legal_basis: str
    valid_from: datetime
    valid_to: datetime
    rate_limit_per_minute: int
    raw_id_number: bool
    live: bool
    revoked_at: datetime | None
    revoked_by: str
    revoke_reason: str

    @classmethod
    def of(cls, grant: Grant) -> GrantPublic:
        return cls(
            id=grant.id,
            request_id=grant.request_id,
            dataset=grant.dataset.name,
            owner=grant.dataset.department.name,
            consumer=grant.consumer.name,
            fields=[GrantedField.model_validate(f) for f in grant.fields],
            row_filter=grant.row_filter,
            purpose=grant.purpose,
            legal_basis=grant.legal_basis,
            valid_from=grant.valid_from,
            valid_to=grant.valid_to,
            rate_limit_per_minute=grant.rate_limit_per_minute,
            raw_id_number=grant.raw_id_number,
            live=service.is_live(grant),
            revoked_at=grant.revoked_at,
            revoked_by=grant.revoked_by,
            revoke_reason=grant.revoke_reason,
        )


class RequestPublic(BaseModel):
    id: int
    dataset: str
    dataset_title: str
    owner: str
    consumer: str
    requested_by: str
    fields: list[str]
    row_filter: list[list[str]]
    purpose: str
    legal_basis: str
    days: int
    expected_calls_per_day: int | None
    state: RequestState
    overdue: bool = Field(description="逾期 Still pending after the review time limit.")
    created_at: datetime
    review_due_at: datetime
    decided_at: datetime | None
    decided_by: str
    decision_note: str
    grant: GrantPublic | None
    history: list[EventPublic]

    @classmethod
    def of(cls, request: SharingRequest) -> RequestPublic:
        return cls(
            id=request.id,
            dataset=request.dataset.name,
            dataset_title=request.dataset.title,
            owner=request.dataset.department.name,
            consumer=request.consumer.name,
            requested_by=request.requested_by,
            fields=request.fields,
            row_filter=request.row_filter,
            purpose=request.purpose,
            legal_basis=request.legal_basis,
            days=request.days,
            expected_calls_per_day=request.expected_calls_per_day,
            state=service.effective_state(request),
            overdue=service.is_overdue(request),
            created_at=request.created_at,
            review_due_at=request.review_due_at,
            decided_at=request.decided_at,
            decided_by=request.decided_by,
            decision_note=request.decision_note,
            grant=GrantPublic.of(request.grant) if request.grant else None,
            history=[
                EventPublic(
                    occurred_at=e.occurred_at, actor=e.actor_name, department=e.department, event=e.event, note=e.note
                )
                for e in request.events
            ],
        )


@router.post(
    "/api/v1/sharing/requests",
    response_model=RequestCreated,
    status_code=201,
    summary="提交共享申请 Request data",
    responses=linked(201, **sharing_request_links(from_body("/id")), **grant_links(from_body("/grant_id"))),
)
def create_request(body: RequestIn, actor: ApiActor, session: SessionDep, settings: SettingsDep) -> RequestCreated:
    """Ask another department for fields of its dataset (department staff); unconditionally shared data is granted
    at once, data shared on approval waits for the owner, data not shared cannot be asked for (409)."""
    data = service.RequestInput(
        dataset=body.dataset,
        fields=body.fields,
        purpose=body.purpose,
        legal_basis=body.legal_basis,
        days=body.days,
        row_filter=body.row_filter,
        expected_calls_per_day=body.expected_calls_per_day,
    )
    request = service.create_request(session, actor, data, service.SharingPolicy.of(settings))
    return RequestCreated(
        id=request.id, state=RequestState(request.state), grant_id=request.grant.id if request.grant else None
    )


@router.get("/api/v1/sharing/requests", response_model=list[RequestPublic], summary="共享申请列表 Sharing requests")
def list_requests(
    actor: ApiActor,
    session: ReadSessionDep,
    direction: Annotated[str, Query(description="outgoing (asked by us), incoming (asked of us) or all.")] = "all",
    state: Annotated[RequestState | None, Query(description="Only requests in this state.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[RequestPublic]:
    """Requests of the caller's department either way (every request for administrators and auditors), newest first."""
    found = service.list_requests(
        session, actor, direction=direction, state=state.value if state else None, limit=limit, offset=offset
    )
    return [RequestPublic.of(r) for r in found]


@router.get(
    "/api/v1/sharing/review",
    response_model=list[RequestPublic],
    summary="待审核 Review queue",
    responses=linked(200, **sharing_request_links(from_body("/0/id"))),
)
def review_queue(actor: ApiActor, session: ReadSessionDep) -> list[RequestPublic]:
    """Pending requests for the caller's department's data, earliest deadline first, overdue ones flagged."""
    return [RequestPublic.of(r) for r in service.review_queue(session, actor)]


@router.get("/api/v1/sharing/requests/{request_id}", response_model=RequestPublic, summary="共享申请 A request")
def read_request(request_id: int, actor: ApiActor, session: ReadSessionDep) -> RequestPublic:
    """A request with its grant and history (consumer, owner, administrators and auditors)."""
    return RequestPublic.of(service.get_request(session, actor, request_id))


@router.post(
    "/api/v1/sharing/requests/{request_id}/approve",
    response_model=ApproveOut,
    summary="批准 Approve a request",
    responses=linked(200, **grant_links(from_body("/grant_id"))),
)
def approve_request(
    request_id: int, body: ApproveIn, actor: ApiActor, session: SessionDep, settings: SettingsDep
) -> ApproveOut:
    """The owner department approves as asked or narrower: fewer fields, a disclosure per field, fewer days, more
    row conditions, a lower rate limit. Raw ID numbers need `raw_id_number: true`."""
    decision = service.Decision(
        fields=body.fields,
        disclosures={name: d.value for name, d in body.masking.items()},
        days=body.days,
        row_filter=body.row_filter,
        rate_limit=body.rate_limit,
        raw_id_number=body.raw_id_number,
        note=body.note,
    )
    grant = service.approve_request(session, actor, request_id, decision, service.SharingPolicy.of(settings))
    return ApproveOut(grant_id=grant.id)


@router.post(
    "/api/v1/sharing/requests/{request_id}/refuse", response_model=RequestPublic, summary="驳回 Refuse a request"
)
def refuse_request(
    request_id: int, actor: ApiActor, session: SessionDep, body: ReasonIn | None = None
) -> RequestPublic:
    """The owner department refuses, with a reason the consumer sees (required)."""
    return RequestPublic.of(service.refuse_request(session, actor, request_id, body.reason if body else ""))


@router.post(
    "/api/v1/sharing/requests/{request_id}/withdraw", response_model=RequestPublic, summary="撤回 Withdraw a request"
)
def withdraw_request(
    request_id: int, actor: ApiActor, session: SessionDep, body: ReasonIn | None = None
) -> RequestPublic:
    """The consumer takes back a pending request, or gives up a granted one (its grant stops at once)."""
    return RequestPublic.of(service.withdraw_request(session, actor, request_id, body.reason if body else ""))


@router.get(
    "/api/v1/grants",
    response_model=list[GrantPublic],
    summary="授权列表 Grants",
    responses=linked(200, **grant_links(from_body("/0/id"))),
)
def list_grants(
    actor: ApiActor,
    session: ReadSessionDep,
    direction: Annotated[str, Query(description="held (by us), given (on our data) or all.")] = "all",
    live: Annotated[bool, Query(description="Only grants usable now.")] = False,
) -> list[GrantPublic]:
    """Grants the caller's department holds or gave (all for administrators and auditors), newest first."""
    return [GrantPublic.of(g) for g in service.list_grants(session, actor, direction=direction, live_only=live)]


@router.get("/api/v1/grants/{grant_id}", response_model=GrantPublic, summary="授权 A grant")
def read_grant(grant_id: str, actor: ApiActor, session: ReadSessionDep) -> GrantPublic:
    """Fields and disclosures, row filter, period, rate limit and state of a grant."""
    return GrantPublic.of(service.get_grant(session, actor, grant_id))


@router.post("/api/v1/grants/{grant_id}/revoke", response_model=GrantPublic, summary="撤销授权 Revoke a grant")
def revoke_grant(grant_id: str, actor: ApiActor, session: SessionDep, body: ReasonIn | None = None) -> GrantPublic:
    """The owner department or an administrator ends a grant; the next exchange call under it gets 403."""
    return GrantPublic.of(service.revoke_grant(session, actor, grant_id, body.reason if body else ""))


class DailyUsePublic(BaseModel):
    day: date
    calls: int
    rows: int


@router.get("/api/v1/grants/{grant_id}/usage", response_model=list[DailyUsePublic], summary="调用统计 Grant usage")
def read_grant_usage(
    grant_id: str, actor: ApiActor, session: ReadSessionDep, days: Annotated[int, Query(ge=1, le=366)] = 30
) -> list[DailyUsePublic]:
    """Exchange calls and rows returned per day under one grant."""
    return [
        DailyUsePublic(day=u.day, calls=u.calls, rows=u.rows)
        for u in usage.grant_daily_use(session, actor, grant_id, days)
    ]


class GrantUsePublic(BaseModel):
    grant_id: str
    dataset: str
    owner: str
    consumer: str
    purpose: str
    calls: int
    rows: int
    last_call: datetime | None
    live: bool


@router.get("/api/v1/sharing/usage", response_model=list[GrantUsePublic], summary="用数统计 Who used our data")
def read_usage(
    actor: ApiActor, session: ReadSessionDep, days: Annotated[int, Query(ge=1, le=366)] = 30
) -> list[GrantUsePublic]:
    """Each grant on the caller's department's data or held by it: who, for what, how many calls and rows."""
    return [
        GrantUsePublic(**{k: v for k, v in u.__dict__.items() if k != "dataset_title"})
        for u in usage.grant_uses(session, actor, days=days)
    ]


class NetworkEdgePublic(BaseModel):
    owner: str
    consumer: str
    grants: int = Field(description="Live grants from owner to consumer.")
    calls: int
    rows: int


@router.get("/api/v1/sharing/network", response_model=list[NetworkEdgePublic], summary="共享网络 Sharing network")
def read_network(
    actor: ApiActor, session: ReadSessionDep, days: Annotated[int, Query(ge=1, le=366)] = 30
) -> list[NetworkEdgePublic]:
    """Which departments share with which, with volumes (administrators and auditors)."""
    return [NetworkEdgePublic(**e.__dict__) for e in usage.sharing_network(session, actor, days=days)]


class ExchangeRows(BaseModel):
    rows: list[dict[str, Any]]
    next: str | None = Field(description="Pass as `cursor` for the following page; null on the last page.")
    total: int = Field(description="Rows of the granted view matching the filters.")
    fields: list[GrantedField] = Field(description="The granted fields and how each is disclosed.")


@router.get("/api/v1/exchange/{grant_id}/rows", response_model=ExchangeRows, summary="交换：行数据 Granted rows")
def read_exchange_rows(
    grant_id: str,
    request: Request,
    actor: ApiActor,
    database: DatabaseDep,
    analytics: AnalyticsDep,
    settings: SettingsDep,
) -> ExchangeRows:
    """Rows of the granted view with the consumer department's token: `limit` (≤ 1000), `cursor`, `fields=a,b`,
    `sort=f` or `sort=-f`, filters `f=v` / `f__op=v` on raw fields (protected fields match exactly only). The
    grant's row filter always applies. 429 with `Retry-After` over the grant's rate limit."""
    query = exchange.parse_exchange_query(list(request.query_params.multi_items()))
    page = exchange.read_granted_rows(
        database, analytics, actor, settings.data_dir, grant_id, query, secret=settings.secret()
    )
    return ExchangeRows(
        rows=page.rows, next=page.next, total=page.total, fields=[GrantedField.model_validate(f) for f in page.fields]
    )


class ExchangeLookup(BaseModel):
    rows: list[dict[str, Any]]
    fields: list[GrantedField]


@router.get("/api/v1/exchange/{grant_id}/lookup", response_model=ExchangeLookup, summary="交换：核验 Look up a record")
def lookup_exchange_rows(
    grant_id: str,
    request: Request,
    actor: ApiActor,
    database: DatabaseDep,
    analytics: AnalyticsDep,
    settings: SettingsDep,
) -> ExchangeLookup:
    """The rows whose granted fields equal the keys given (`?person_id=...`; masked, pseudonymised and withheld
    fields may be keys too), at most `limit` (≤ 100): verify a record without downloading the table."""
    query = exchange.parse_exchange_query(list(request.query_params.multi_items()), lookup=True)
    page = exchange.read_granted_rows(
        database, analytics, actor, settings.data_dir, grant_id, query, secret=settings.secret(), lookup=True
    )
    return ExchangeLookup(rows=page.rows, fields=[GrantedField.model_validate(f) for f in page.fields])


@router.get(
    "/api/v1/exchange/{grant_id}/export.{fmt}",
    response_class=StreamingResponse,
    summary="交换：批量导出 Export the granted view",
    responses={200: {"content": {"text/csv": {}, "application/vnd.apache.parquet": {}}}},
)
def export_exchange_rows(
    grant_id: str,
    fmt: str,
    actor: ApiActor,
    database: DatabaseDep,
    analytics: AnalyticsDep,
    settings: SettingsDep,
) -> StreamingResponse:
    """The whole granted view as `csv` (UTF-8 with BOM) or `parquet`, streamed; counts as one call."""
    export = exchange.export_granted_rows(
        database, analytics, actor, settings.data_dir, grant_id, fmt, secret=settings.secret()
    )
    return StreamingResponse(
        export.chunks,
        media_type=export.media_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{export.filename}",
            "X-Row-Count": str(export.rows),
        },
    )
