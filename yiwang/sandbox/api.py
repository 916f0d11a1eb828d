"""JSON API of the sandbox: tracks, applications, private queries with their budget, releases."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

import pyarrow as pa
import pyarrow.parquet as pq
from fastapi import APIRouter
from pydantic import BaseModel, Field
from starlette.responses import StreamingResponse

from yiwang.catalog.downloads import BATCH_ROWS, WRITERS
from yiwang.core import audit
from yiwang.core.errors import InvalidInput
from yiwang.core.i18n import N_
from yiwang.sandbox import service
from yiwang.sandbox.models import ApplicationState, DataProduct, Release, Track, TrackApplication
from yiwang.web.deps import ApiActor, DatabaseDep, ReadSessionDep, SessionDep, SettingsDep
from yiwang.web.openapi_links import (
    dataset_links,
    export_links,
    from_body,
    from_path,
    linked,
    release_links,
    track_application_links,
    track_links,
    track_work_links,
)

router = APIRouter(prefix="/api/v1/sandbox", tags=["sandbox"])


class TrackIn(BaseModel):
    name: str = Field(description="赛道名称 Name of the track.")
    description: str = Field("", description="场景 The scenario, in plain words.")
    datasets: list[str] = Field(description="Datasets in scope (open on conditions, never core data).")
    epsilon: float = Field(description="Privacy budget ε of each approved applicant.")
    delta: float = 0.0
    min_group_size: int = Field(10, description="Groups with fewer (noisy) rows are suppressed.")
    bounds: dict[str, list[float]] = Field(default_factory=dict, description="{column: [low, high]} for SUM and AVG.")
    public_domains: dict[str, list[Any]] = Field(
        default_factory=dict, description="{column: [value, …]}: the only columns a query may GROUP BY, every group."
    )
    host_department: str | None = Field(
        None, description="Department that reviews applications (default: the first dataset's)."
    )
    export: dict[str, Any] | None = Field(
        None,
        description='De-identified export: {"dataset", "k", "quasi_identifiers", "sensitive"}; omit to disallow.',
    )
    valid_to: datetime | None = None


class Created(BaseModel):
    id: int


class TrackPublic(BaseModel):
    id: int
    name: str
    description: str
    host_department: str
    datasets: list[str]
    epsilon: float
    delta: float
    min_group_size: int
    bounds: dict[str, list[float]]
    public_domains: dict[str, list[Any]]
    export: dict[str, Any] | None
    valid_to: datetime | None

    @classmethod
    def of(cls, track: Track) -> TrackPublic:
        return cls(
            id=track.id,
            name=track.name,
            description=track.description,
            host_department=track.host.name,
            datasets=track.datasets,
            epsilon=track.epsilon,
            delta=track.delta,
            min_group_size=track.min_group_size,
            bounds=track.bounds,
            public_domains=track.public_domains,
            export=track.export,
            valid_to=track.valid_to,
        )


class ApplicationIn(BaseModel):
    credit_code: str = Field(description="统一社会信用代码 The enterprise's unified social credit code (GB 32100).")
    project: str = Field(description="项目 What the enterprise will compute, for whom.")
    organisation: str = ""


class ApplicationCreated(BaseModel):
    id: int
    state: ApplicationState


class ApplicationPublic(BaseModel):
    id: int
    track_id: int
    track: str
    applicant: str
    organisation: str
    credit_code: str
    project: str
    state: ApplicationState
    created_at: datetime
    decided_at: datetime | None
    decided_by: str
    decision_note: str
    budget: float
    budget_left: float | None = None

    @classmethod
    def of(cls, application: TrackApplication, left: float | None = None) -> ApplicationPublic:
        return cls(
            id=application.id,
            track_id=application.track_id,
            track=application.track.name,
            applicant=application.username,
            organisation=application.organisation,
            credit_code=application.credit_code,
            project=application.project,
            state=ApplicationState(application.state),
            created_at=application.created_at,
            decided_at=application.decided_at,
            decided_by=application.decided_by,
            decision_note=application.decision_note,
            budget=application.track.epsilon,
            budget_left=left,
        )


class DecisionIn(BaseModel):
    note: str = ""
    reason: str = ""


class QueryIn(BaseModel):
    sql: str = Field(description="One aggregating SELECT over one of the track's datasets.")
    epsilon: float = Field(description="ε to spend on this query (charged to your budget on the track).")


class QueryOut(BaseModel):
    release_id: int
    columns: list[str]
    rows: list[list[Any]]
    intervals: list[list[list[float] | None]] = Field(description="95 % interval of each released figure.")
    noise: dict[str, dict[str, Any]] = Field(description="Per noisy column: mechanism, scale, ε, sensitivity, ci95.")
    suppressed: int = Field(description="Groups withheld for having fewer rows than the track's minimum.")
    epsilon_spent: float
    budget_left: float


class ReleasePublic(BaseModel):
    id: int
    sql: str
    epsilon: float
    created_at: datetime
    result: dict[str, Any]

    @classmethod
    def of(cls, row: Release) -> ReleasePublic:
        return cls(id=row.id, sql=row.sql, epsilon=row.epsilon, created_at=row.created_at, result=row.result)


@router.post(
    "/tracks",
    response_model=Created,
    status_code=201,
    summary="创建赛道 Create a track",
    responses=linked(201, **track_links(from_body("/id"))),
)
def create_track(body: TrackIn, actor: ApiActor, session: SessionDep) -> Created:
    """Data administrators define a track: datasets, budget, bounds and public domains, optional export."""
    data = service.TrackInput(**body.model_dump())
    return Created(id=service.create_track(session, actor, data).id)


@router.get(
    "/tracks",
    response_model=list[TrackPublic],
    summary="赛道列表 Tracks",
    responses=linked(200, **track_links(from_body("/0/id"))),
)
def list_tracks(session: ReadSessionDep) -> list[TrackPublic]:
    """Every track and what it offers (public: enterprises choose where to apply)."""
    return [TrackPublic.of(t) for t in service.list_tracks(session)]


@router.get("/tracks/{track_id}", response_model=TrackPublic, summary="赛道 A track")
def read_track(track_id: int, session: ReadSessionDep) -> TrackPublic:
    """A track's datasets, budget, bounds and public-domain columns."""
    return TrackPublic.of(service.get_track(session, track_id))


@router.post(
    "/tracks/{track_id}/applications",
    response_model=ApplicationCreated,
    status_code=201,
    summary="申请赛道 Apply to a track",
    responses=linked(201, **track_application_links(from_body("/id")), **track_work_links(from_path("track_id"))),
)
def apply_to_track(track_id: int, body: ApplicationIn, actor: ApiActor, session: SessionDep) -> ApplicationCreated:
    """An enterprise applies with its unified social credit code and a project description."""
    application = service.apply_to_track(
        session, actor, track_id, body.credit_code, body.project, organisation=body.organisation
    )
    return ApplicationCreated(id=application.id, state=ApplicationState(application.state))


@router.get(
    "/applications",
    response_model=list[ApplicationPublic],
    summary="赛道申请 Applications",
    responses=linked(200, **track_application_links(from_body("/0/id"))),
)
def list_applications(actor: ApiActor, session: ReadSessionDep) -> list[ApplicationPublic]:
    """Your own applications; reviewers see those of their tracks, administrators and auditors all."""
    return [ApplicationPublic.of(a) for a in service.list_applications(session, actor)]


@router.get("/applications/{application_id}", response_model=ApplicationPublic, summary="赛道申请 An application")
def read_application(application_id: int, actor: ApiActor, session: ReadSessionDep) -> ApplicationPublic:
    """An application with the budget left."""
    application = service.get_application(session, actor, application_id)
    return ApplicationPublic.of(application, service.budget_left(session, application))


@router.post(
    "/applications/{application_id}/approve",
    response_model=ApplicationPublic,
    summary="批准 Approve an application",
    responses=linked(200, **track_work_links(from_body("/track_id"))),
)
def approve_application(
    application_id: int, actor: ApiActor, session: SessionDep, body: DecisionIn | None = None
) -> ApplicationPublic:
    """The track's host department or an administrator approves: the applicant may query the track's datasets."""
    note = body.note if body else ""
    return ApplicationPublic.of(service.decide_application(session, actor, application_id, approve=True, note=note))


@router.post(
    "/applications/{application_id}/refuse", response_model=ApplicationPublic, summary="驳回 Refuse an application"
)
def refuse_application(
    application_id: int, actor: ApiActor, session: SessionDep, body: DecisionIn | None = None
) -> ApplicationPublic:
    """Refuse with a reason the applicant sees."""
    reason = (body.reason or body.note) if body else ""
    return ApplicationPublic.of(service.decide_application(session, actor, application_id, approve=False, note=reason))


@router.post(
    "/tracks/{track_id}/queries",
    response_model=QueryOut,
    summary="隐私查询 Run a private query",
    responses=linked(200, **release_links(from_body("/release_id"))),
)
def run_query(track_id: int, body: QueryIn, actor: ApiActor, database: DatabaseDep, settings: SettingsDep) -> QueryOut:
    """Run an aggregate SQL query with differential privacy: noisy figures with their 95 % intervals, ε charged to
    your budget. Refused (`sql.refused`, with the rule broken) unless one SELECT over one track dataset grouping only
    by public-domain columns; `budget.exhausted` when ε exceeds what is left."""
    released = service.run_private_query(database, actor, settings.data_dir, track_id, body.sql, body.epsilon)
    return QueryOut(
        release_id=released.release_id,
        **released.result,
        epsilon_spent=released.epsilon_spent,
        budget_left=released.budget_left,
    )


@router.get("/tracks/{track_id}/releases", response_model=list[ReleasePublic], summary="发布记录 My releases")
def list_releases(track_id: int, actor: ApiActor, session: ReadSessionDep) -> list[ReleasePublic]:
    """Your releases on the track, newest first."""
    # an unknown track is a 404; its lookup also refuses ids beyond the database's integers (a 500 before)
    track = service.get_track(session, track_id)
    application = service.my_application(session, actor, track.id)
    if application is None:
        return []
    return [ReleasePublic.of(r) for r in service.list_releases(session, actor, application.id)]


class ExportOut(BaseModel):
    id: int
    dataset: str
    created_at: datetime
    report: dict[str, Any] = Field(description="k and l reached, generalisation levels, suppressed rows, loss.")


@router.post(
    "/tracks/{track_id}/exports",
    response_model=ExportOut,
    status_code=201,
    summary="脱敏导出 Export",
    responses=linked(201, **export_links(from_body("/id"))),
)
def create_export(track_id: int, actor: ApiActor, database: DatabaseDep, settings: SettingsDep) -> ExportOut:
    """Generalise the track's export dataset to k-anonymity (direct identifiers pseudonymised or removed)."""
    export = service.export_deidentified(database, actor, settings.data_dir, track_id, settings.secret())
    return ExportOut(id=export.id, dataset=export.dataset, created_at=export.created_at, report=export.report)


@router.get(
    "/exports/{export_id}.{fmt}",
    response_class=StreamingResponse,
    summary="下载脱敏数据 Download an export",
    responses={200: {"content": {"text/csv": {}, "application/vnd.apache.parquet": {}}}},
)
def download_export(
    export_id: int, fmt: str, actor: ApiActor, session: SessionDep, settings: SettingsDep
) -> StreamingResponse:
    """The k-anonymous rows as `parquet` or `csv` (UTF-8 with BOM), for the applicant who made the export."""
    export, path = service.export_file(session, actor, settings.data_dir, export_id)
    if fmt not in ("csv", "parquet"):
        raise InvalidInput("export.bad_format", N_("Export as one of: {choices}"), choices="csv, parquet")
    audit.record(
        session,
        actor,
        "sandbox.export_download",
        resource_type="dataset",
        resource_id=export.dataset,
        detail={"export": export.id, "format": fmt},
    )
    reader = pq.ParquetFile(path)
    batches = pa.RecordBatchReader.from_batches(reader.schema_arrow, reader.iter_batches(batch_size=BATCH_ROWS))
    return StreamingResponse(
        WRITERS[fmt](batches),
        media_type="text/csv; charset=utf-8" if fmt == "csv" else "application/vnd.apache.parquet",
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(f'{export.dataset}-k{export.id}.{fmt}')}"
        },
    )


class ProductIn(BaseModel):
    source: str = Field(description="`release` (a private query's figures) or `export` (a de-identified export).")
    id: int = Field(description="The release's or export's id.")
    name: str = Field(description="URL name of the new catalogue dataset, e.g. `tourism-credit-index`.")
    title: str
    description: str = ""


class ProductPublic(BaseModel):
    id: int
    dataset: str
    title: str
    track: str
    source: str
    source_id: int | None
    enterprise: str
    credit_code: str
    created_at: datetime


@router.post(
    "/products",
    response_model=ProductPublic,
    status_code=201,
    summary="发布数据产品 Publish a product",
    responses=linked(201, **dataset_links(from_body("/dataset"))),
)
def publish_product(body: ProductIn, actor: ApiActor, database: DatabaseDep, settings: SettingsDep) -> ProductPublic:
    """The applicant publishes a release or an export as a named dataset in the catalogue, with its provenance."""
    data = service.ProductInput(body.source, body.id, body.name, body.title, body.description)
    product = service.publish_product(database, actor, settings.data_dir, data)
    with database.read_session() as session:
        return _product(session.merge(product))


@router.get("/products", response_model=list[ProductPublic], summary="数据产品 Data products")
def list_products(session: ReadSessionDep) -> list[ProductPublic]:
    """Published data products and where each came from."""
    return [_product(p) for p in service.list_products(session)]


def _product(product: DataProduct) -> ProductPublic:
    application = product.application
    return ProductPublic(
        id=product.id,
        dataset=product.dataset.name,
        title=product.dataset.title,
        track=application.track.name,
        source=product.source,
        source_id=product.release_id if product.source == "release" else product.export_id,
        enterprise=application.organisation or application.username,
        credit_code=application.credit_code,
        created_at=product.created_at,
    )
