"""JSON API of the catalogue: find datasets, read their metadata, publish, upload versions, classify."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from pydantic import BaseModel, Field

from yiwang.catalog import service
from yiwang.catalog.models import Dataset, DatasetVersion, OpenType, SecurityLevel, ShareType
from yiwang.catalog.rows import parse_query
from yiwang.catalog.search import portal_query, search_catalogue
from yiwang.catalog.uploads import ingest_upload
from yiwang.web.deps import (
    AnalyticsDep,
    ApiActor,
    DatabaseDep,
    OptionalApiActor,
    ReadSessionDep,
    SessionDep,
    SettingsDep,
)
from yiwang.web.openapi_links import dataset_links, from_body, from_path, linked, request_data_links

router = APIRouter(prefix="/api/v1/datasets", tags=["catalogue"])


class FieldPublic(BaseModel):
    name: str
    type: str
    description: str
    unit: str
    kind: str = Field(
        description="个人信息类别 Personal-data kind: id_number, phone, name, address, credit_code, free_text or none."
    )
    kind_confirmed: bool
    kind_reason: str


class VersionPublic(BaseModel):
    number: int
    row_count: int
    source_filename: str
    source_format: str
    source_bytes: int
    encoding: str | None
    created_at: datetime
    created_by: str
    quality_score: float | None

    @classmethod
    def of(cls, version: DatasetVersion) -> VersionPublic:
        score = version.quality.get("score")
        return cls(
            number=version.number,
            row_count=version.row_count,
            source_filename=version.source_filename,
            source_format=version.source_format,
            source_bytes=version.source_bytes,
            encoding=version.encoding,
            created_at=version.created_at,
            created_by=version.created_by,
            quality_score=float(score) if isinstance(score, int | float) else None,
        )


class DatasetSummary(BaseModel):
    name: str
    title: str
    description: str
    department: str
    tags: list[str]
    themes: list[str]
    share_type: ShareType
    open_type: OpenType
    security_level: SecurityLevel
    modified_at: datetime
    row_count: int | None

    @classmethod
    def of(cls, dataset: Dataset) -> DatasetSummary:
        current = dataset.current_version
        return cls(
            name=dataset.name,
            title=dataset.title,
            description=dataset.description,
            department=dataset.department.name,
            tags=list(dataset.tags),
            themes=list(dataset.themes),
            share_type=ShareType(dataset.share_type),
            open_type=OpenType(dataset.open_type),
            security_level=SecurityLevel(dataset.security_level),
            modified_at=dataset.modified_at,
            row_count=current.row_count if current else None,
        )


class DatasetDetail(DatasetSummary):
    update_frequency: str
    licence: str
    contact: str
    spatial_coverage: str
    temporal_coverage: str
    fields: list[FieldPublic]
    versions: list[VersionPublic]
    quality: dict[str, Any] | None = Field(description="质量报告 Quality report of the current version.")

    @classmethod
    def of_dataset(cls, dataset: Dataset) -> DatasetDetail:
        current = dataset.current_version
        return cls(
            **DatasetSummary.of(dataset).model_dump(),
            update_frequency=dataset.update_frequency,
            licence=dataset.licence,
            contact=dataset.contact,
            spatial_coverage=dataset.spatial_coverage,
            temporal_coverage=dataset.temporal_coverage,
            fields=[FieldPublic.model_validate(f, from_attributes=True) for f in (current.fields if current else [])],
            versions=[VersionPublic.of(v) for v in dataset.versions],
            quality=dict(current.quality) if current else None,
        )


class FacetCount(BaseModel):
    value: str
    count: int


class DatasetPagePublic(BaseModel):
    datasets: list[DatasetSummary]
    total: int
    page: int
    page_size: int
    facets: dict[str, list[FacetCount]] = Field(description="分面 Facet values with how many datasets have each.")


class DatasetIn(BaseModel):
    name: str = Field(description="URL 名称 lowercase slug, e.g. `enterprise-registry`.")
    title: str
    department: str = Field(description="发布部门名称 Publishing department's name.")
    description: str = ""
    tags: list[str] = []
    themes: list[str] = []
    update_frequency: str = ""
    licence: str = ""
    contact: str = ""
    share_type: ShareType = ShareType.CONDITIONAL
    open_type: OpenType = OpenType.NONE
    security_level: SecurityLevel = SecurityLevel.GENERAL
    spatial_coverage: str = ""
    temporal_coverage: str = ""


class ClassificationIn(BaseModel):
    share_type: ShareType
    open_type: OpenType
    security_level: SecurityLevel


class FieldDescriptionIn(BaseModel):
    description: str | None = Field(default=None, max_length=500)
    unit: str | None = Field(default=None, max_length=32)


class FieldKindsIn(BaseModel):
    kinds: dict[str, str] = Field(description="字段名 → 类别 Field name → personal-data kind.")
    descriptions: dict[str, FieldDescriptionIn] = Field(
        default_factory=dict, description="字段名 → 说明和单位 Field name → description and unit."
    )


@router.get(
    "",
    response_model=DatasetPagePublic,
    summary="数据资源目录 Find datasets",
    responses=linked(200, **dataset_links(from_body("/datasets/0/name"))),
)
def list_datasets(
    actor: OptionalApiActor,
    session: ReadSessionDep,
    q: Annotated[str, Query(max_length=200, description="中文全文检索 Words to find (Chinese is segmented).")] = "",
    department: Annotated[list[str], Query(description="发布部门 Publishing department (repeatable).")] = [],  # noqa: B006
    theme: Annotated[list[str], Query(description="主题 Theme (repeatable).")] = [],  # noqa: B006
    tag: Annotated[list[str], Query(description="标签 Tag (repeatable).")] = [],  # noqa: B006
    format: Annotated[list[str], Query(description="格式 Upload format, e.g. CSV (repeatable).")] = [],  # noqa: B006
    open_type: Annotated[list[OpenType], Query(description="开放类型 Open type (repeatable).")] = [],  # noqa: B006
    update_frequency: Annotated[list[str], Query(description="更新频率 Update frequency (repeatable).")] = [],  # noqa: B006
    sort: Annotated[str, Query(description="relevance, modified_desc, modified_asc, name_asc, title_asc …")] = "",
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> DatasetPagePublic:
    """Datasets the caller may see (open ones for everyone; the whole catalogue for government users), ranked by
    relevance to `q`, narrowed by facets, with facet counts."""
    chosen = {
        "department": department,
        "theme": theme,
        "tag": tag,
        "format": format,
        "open_type": [o.value for o in open_type],
        "update_frequency": update_frequency,
    }
    found = search_catalogue(session, actor, portal_query(q, chosen, sort=sort, page=page, page_size=page_size))
    return DatasetPagePublic(
        datasets=[DatasetSummary.of(d) for d in found.datasets],
        total=found.total,
        page=page,
        page_size=page_size,
        facets={field: [FacetCount(value=v, count=n) for v, n in counts] for field, counts in found.facets.items()},
    )


@router.get(
    "/{name}",
    response_model=DatasetDetail,
    summary="数据资源详情 A dataset",
    responses=linked(200, **request_data_links()),
)
def read_dataset(name: str, actor: OptionalApiActor, session: ReadSessionDep, database: DatabaseDep) -> DatasetDetail:
    """Metadata, fields with their personal-data kinds, versions and the current quality report (reads of datasets
    that are not open are audited)."""
    dataset = service.get_dataset(session, actor, name)
    service.record_metadata_read(database, actor, dataset)
    return DatasetDetail.of_dataset(dataset)


@router.post(
    "",
    response_model=DatasetDetail,
    status_code=201,
    summary="发布数据资源 Publish a dataset",
    responses=linked(201, **dataset_links(from_body("/name"))),
)
def create_dataset(body: DatasetIn, actor: ApiActor, session: SessionDep) -> DatasetDetail:
    """Register a dataset for a department (admins, or staff of that department); upload its data next."""
    data = service.DatasetInput(
        **{
            **body.model_dump(),
            "share_type": body.share_type.value,
            "open_type": body.open_type.value,
            "security_level": body.security_level.value,
        }
    )
    return DatasetDetail.of_dataset(service.create_dataset(session, actor, data))


@router.post(
    "/{name}/versions",
    response_model=VersionPublic,
    status_code=201,
    summary="上传新版本 Upload a version",
    responses=linked(201, **dataset_links(from_path("name"))),
)
def upload_version(
    name: str,
    request: Request,
    actor: ApiActor,
    database: DatabaseDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description="CSV (UTF-8 or GBK), XLSX, JSON, NDJSON, Parquet or GeoJSON.")],
    format: Annotated[str | None, Form(description="Override the detected format.")] = None,
) -> VersionPublic:
    """Ingest the file as the dataset's new current version; a failure leaves the catalogue as it was."""
    return VersionPublic.of(ingest_upload(request, actor, database, settings, name, file, declared_format=format))


@router.put("/{name}/classification", response_model=DatasetDetail, summary="分类分级 Classify a dataset")
def classify_dataset(name: str, body: ClassificationIn, actor: ApiActor, session: SessionDep) -> DatasetDetail:
    """Set share type, open type and security level (data administrators only; core data can never be open)."""
    dataset = service.classify_dataset(
        session,
        actor,
        name,
        share_type=body.share_type.value,
        open_type=body.open_type.value,
        security_level=body.security_level.value,
    )
    return DatasetDetail.of_dataset(dataset)


@router.put("/{name}/field-kinds", response_model=DatasetDetail, summary="确认字段 Confirm fields")
def confirm_field_kinds(name: str, body: FieldKindsIn, actor: ApiActor, session: SessionDep) -> DatasetDetail:
    """The publisher confirms or corrects the detected personal-data kind of the current version's fields."""
    descriptions = {
        field: service.FieldDescription(described.description, described.unit)
        for field, described in body.descriptions.items()
    }
    service.confirm_field_kinds(session, actor, name, body.kinds, descriptions)
    return DatasetDetail.of_dataset(service.get_dataset(session, actor, name))


class RowPagePublic(BaseModel):
    columns: list[str]
    rows: list[dict[str, Any]]
    total: int = Field(description="Rows matching the filters, over all pages.")
    next: str | None = Field(description="Pass as `_next` for the following page; null on the last page.")
    facets: dict[str, list[tuple[Any, int]]]
    masked: list[str] = Field(description="个人信息字段（已脱敏） Personal fields shown masked.")


@router.get("/{name}/rows", response_model=RowPagePublic, summary="行数据 Rows of a dataset")
def read_dataset_rows(
    name: str,
    request: Request,
    actor: OptionalApiActor,
    database: DatabaseDep,
    settings: SettingsDep,
    analytics: AnalyticsDep,
) -> RowPagePublic:
    """Datasette-style rows of the current version: `col=v`, `col__gt|gte|lt|lte|ne|contains|startswith|in|isnull=v`,
    `_sort`/`_sort_desc`, `_fields=a,b`, `_size` (≤ 1000), `_next`, `_facet` (repeatable). Personal fields are
    masked for everyone but the publisher and cannot be filtered on by others; non-open reads are audited."""
    query = parse_query(list(request.query_params.multi_items()))
    page = service.read_dataset_rows(database, actor, settings.data_dir, name, query, analytics=analytics)
    return RowPagePublic(
        columns=page.columns, rows=page.rows, total=page.total, next=page.next, facets=page.facets, masked=page.masked
    )
