"""The catalogue's domain logic: publish datasets, ingest versions, classify, confirm field kinds, find and read.

Every function takes a session and an actor, authorizes first, records governed changes in the audit chain and
raises domain errors. Dataset files live under ``<data_dir>/datasets/<name>/<directory>/data.parquet``.
"""

from __future__ import annotations

import re
import secrets
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from yiwang.catalog.ingest import IngestResult, ingest_file
from yiwang.catalog.models import Dataset, DatasetField, DatasetVersion, OpenType, SecurityLevel, ShareType
from yiwang.catalog.profile import KindGuess, QualityReport, detect_personal_kinds, quality_report
from yiwang.catalog.rows import RowPage, RowQuery, read_rows
from yiwang.core import audit
from yiwang.core.accounts import get_department
from yiwang.core.authz import Resource, authorize, can, register
from yiwang.core.db import Database
from yiwang.core.errors import Conflict, InvalidInput, NotFound
from yiwang.core.i18n import N_
from yiwang.core.identity import Actor, Role
from yiwang.core.masking import PersonalKind

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{1,99}$")
DATASETS_DIR = "datasets"
DATA_FILE = "data.parquet"
PUBLIC_OPEN_TYPES = (OpenType.UNCONDITIONAL.value, OpenType.CONDITIONAL.value)
IngestProgress = Callable[[int, int], None]
DEFAULT_MAX_BYTES = 2 * 1024**3


class CatalogAction:
    """Protected actions of the catalogue."""

    CREATE = "dataset.create"
    INGEST = "dataset.ingest"
    CLASSIFY = "dataset.classify"
    CONFIRM_FIELDS = "dataset.confirm_fields"
    VIEW = "dataset.view"
    READ_ROWS = "dataset.read_rows"


def _is_publisher(actor: Actor, resource: Resource | None) -> bool:
    """The data administrator, or staff of the department that owns the dataset."""
    if actor.has_role(Role.ADMIN):
        return True
    return (
        actor.has_role(Role.DEPT_STAFF)
        and resource is not None
        and actor.department_id is not None
        and actor.department_id == resource.owner_department_id
    )


def _may_view(actor: Actor, resource: Resource | None) -> bool:
    """Government users see the whole catalogue; everyone sees open datasets (conditional ones as metadata)."""
    if actor.has_role(Role.ADMIN, Role.DEPT_STAFF, Role.AUDITOR):
        return True
    return resource is not None and resource.is_public


def _may_read_rows(actor: Actor, resource: Resource | None) -> bool:
    """Open data for everyone; the publisher's own data; unconditionally shared data for any department's staff.

    Conditionally shared data reaches other departments only through a sharing grant (一网协同), not here.
    """
    if resource is None:
        return False
    if resource.is_public or _is_publisher(actor, resource):
        return True
    return actor.has_role(Role.DEPT_STAFF) and resource.type == "dataset:shared"


register(CatalogAction.CREATE, _is_publisher)
register(CatalogAction.INGEST, _is_publisher)
register(CatalogAction.CONFIRM_FIELDS, _is_publisher)
register(CatalogAction.CLASSIFY, lambda actor, _resource: actor.has_role(Role.ADMIN))
register(CatalogAction.VIEW, _may_view)
register(CatalogAction.READ_ROWS, _may_read_rows)


def _resource(dataset: Dataset) -> Resource:
    return Resource("dataset", dataset.name, owner_department_id=dataset.department_id)


def _view_resource(dataset: Dataset) -> Resource:
    return Resource(
        "dataset",
        dataset.name,
        owner_department_id=dataset.department_id,
        is_public=dataset.open_type in PUBLIC_OPEN_TYPES,
    )


@dataclass(frozen=True)
class DatasetInput:
    """What a publisher says about a new dataset (everything but the name can change later)."""

    name: str
    title: str
    department: str
    description: str = ""
    tags: list[str] = field(default_factory=list)
    themes: list[str] = field(default_factory=list)
    update_frequency: str = ""
    licence: str = ""
    contact: str = ""
    share_type: str = ShareType.CONDITIONAL.value
    open_type: str = OpenType.NONE.value
    security_level: str = SecurityLevel.GENERAL.value
    spatial_coverage: str = ""
    temporal_coverage: str = ""


def _check_classification(share_type: str, open_type: str, security_level: str) -> None:
    for value, allowed, code in (
        (share_type, ShareType, "dataset.bad_share_type"),
        (open_type, OpenType, "dataset.bad_open_type"),
        (security_level, SecurityLevel, "dataset.bad_security_level"),
    ):
        if value not in {member.value for member in allowed}:
            raise InvalidInput(
                code, N_("{value} is not one of: {choices}"), value=value, choices=", ".join(m.value for m in allowed)
            )
    if security_level == SecurityLevel.CORE.value and open_type != OpenType.NONE.value:
        raise InvalidInput("dataset.core_not_open", N_("Core data can never be opened: set the open type to none"))


def create_dataset(session: Session, actor: Actor, data: DatasetInput) -> Dataset:
    """Register a dataset for a department; its data arrives with the first `ingest_version`."""
    department = get_department(session, data.department)
    authorize(actor, CatalogAction.CREATE, Resource("dataset", data.name, owner_department_id=department.id))
    if not NAME_PATTERN.match(data.name):
        raise InvalidInput(
            "dataset.bad_name",
            N_("A dataset name has 2 to 100 lowercase letters, digits, - or _, starting with a letter or digit"),
        )
    if not 1 <= len(data.title.strip()) <= 200:
        raise InvalidInput("dataset.bad_title", N_("A dataset title needs 1 to 200 characters"))
    _check_classification(data.share_type, data.open_type, data.security_level)
    if session.scalar(select(Dataset.id).where(Dataset.name == data.name)) is not None:
        raise Conflict("dataset.exists", N_("Dataset {name} already exists"), name=data.name)
    dataset = Dataset(
        name=data.name,
        title=data.title.strip(),
        description=data.description.strip(),
        department=department,
        tags=sorted({t.strip() for t in data.tags if t.strip()}),
        themes=sorted({t.strip() for t in data.themes if t.strip()}),
        update_frequency=data.update_frequency,
        licence=data.licence,
        contact=data.contact,
        share_type=data.share_type,
        open_type=data.open_type,
        security_level=data.security_level,
        spatial_coverage=data.spatial_coverage,
        temporal_coverage=data.temporal_coverage,
        created_by=actor.username,
    )
    session.add(dataset)
    session.flush()
    audit.record(
        session,
        actor,
        CatalogAction.CREATE,
        resource_type="dataset",
        resource_id=dataset.name,
        detail={
            "department": department.name,
            "share_type": data.share_type,
            "open_type": data.open_type,
            "security_level": data.security_level,
        },
    )
    return dataset


def ensure_dataset(session: Session, actor: Actor, data: DatasetInput) -> Dataset:
    """The dataset called `data.name`, created from `data` if there is none yet."""
    existing = session.scalar(select(Dataset).where(Dataset.name == data.name))
    return existing if existing is not None else create_dataset(session, actor, data)


def get_dataset(session: Session, actor: Actor, name: str) -> Dataset:
    """A dataset the actor may see; one they may not see is reported as not found (its existence is not told)."""
    dataset = session.scalar(select(Dataset).where(Dataset.name == name))
    if dataset is None or not can(actor, CatalogAction.VIEW, _view_resource(dataset)):
        raise NotFound("dataset.not_found", N_("No dataset is called {name}"), name=name)
    return dataset


def dataset_dir(data_dir: Path, dataset: Dataset) -> Path:
    return data_dir / DATASETS_DIR / dataset.name


def version_file(data_dir: Path, version: DatasetVersion) -> Path:
    return data_dir / DATASETS_DIR / version.dataset.name / version.directory / DATA_FILE


@dataclass(frozen=True)
class StagedVersion:
    """An upload turned into Parquet and profiled, waiting to become a version (not yet in the catalogue)."""

    dataset_name: str
    directory: str
    staging: Path
    final: Path
    result: IngestResult
    guesses: list[KindGuess]
    report: QualityReport
    filename: str

    def discard(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)
        shutil.rmtree(self.final, ignore_errors=True)


def stage_version(
    session: Session,
    actor: Actor,
    data_dir: Path,
    name: str,
    source: Path,
    *,
    filename: str = "",
    declared_format: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    progress: IngestProgress | None = None,
) -> StagedVersion:
    """Convert and profile an upload in a staging directory of its own, holding no database lock meanwhile."""
    dataset = get_dataset(session, actor, name)
    authorize(actor, CatalogAction.INGEST, _resource(dataset))
    directory = f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(4)}"
    final = dataset_dir(data_dir, dataset) / directory
    staging = final.with_name(f".staging-{directory}")
    staging.mkdir(parents=True)
    try:
        result = ingest_file(
            source, staging / DATA_FILE, declared_format=declared_format, max_bytes=max_bytes, progress=progress
        )
        guesses = detect_personal_kinds(result.parquet)
        report = quality_report(result.parquet, {g.field: g.kind for g in guesses})
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return StagedVersion(name, directory, staging, final, result, guesses, report, (filename or source.name)[:255])


def publish_version(session: Session, actor: Actor, staged: StagedVersion) -> DatasetVersion:
    """Make a staged upload the dataset's new current version (call `staged.discard()` if the commit fails)."""
    dataset = session.scalar(select(Dataset).where(Dataset.name == staged.dataset_name).with_for_update(of=Dataset))
    if dataset is None:
        raise NotFound("dataset.not_found", N_("No dataset is called {name}"), name=staged.dataset_name)
    authorize(actor, CatalogAction.INGEST, _resource(dataset))
    number = (
        session.scalar(select(func.max(DatasetVersion.number)).where(DatasetVersion.dataset_id == dataset.id)) or 0
    ) + 1
    reasons = {g.field: g.reason for g in staged.guesses}
    kinds = {g.field: str(g.kind) for g in staged.guesses}
    result = staged.result
    version = DatasetVersion(
        dataset=dataset,
        number=number,
        directory=staged.directory,
        source_filename=staged.filename,
        source_format=result.source_format,
        source_bytes=result.source_bytes,
        source_sha256=result.sha256,
        encoding=result.encoding,
        row_count=result.row_count,
        quality=staged.report.to_dict(),
        created_by=actor.username,
        fields=[
            DatasetField(
                position=i,
                name=inferred.name,
                type=inferred.type,
                kind=kinds.get(inferred.name, PersonalKind.NONE.value),
                kind_reason=reasons.get(inferred.name, "")[:200],
            )
            for i, inferred in enumerate(result.fields)
        ],
    )
    session.add(version)
    session.flush()
    dataset.current_version_id = version.id
    dataset.modified_at = datetime.now(UTC)
    audit.record(
        session,
        actor,
        CatalogAction.INGEST,
        resource_type="dataset",
        resource_id=dataset.name,
        detail={
            "version": number,
            "rows": result.row_count,
            "format": result.source_format,
            "sha256": result.sha256,
            "personal_fields": sorted(k for k, v in kinds.items() if v != PersonalKind.NONE.value),
        },
    )
    session.flush()
    staged.staging.rename(staged.final)  # last: nothing before it can leave a half-made version behind
    return version


def ingest_version(
    database: Database,
    actor: Actor,
    data_dir: Path,
    name: str,
    source: Path,
    *,
    filename: str = "",
    declared_format: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    progress: IngestProgress | None = None,
) -> DatasetVersion:
    """Stage, then publish an upload; a failure anywhere leaves the catalogue and earlier versions as they were."""
    with database.read_session() as session:
        staged = stage_version(
            session,
            actor,
            data_dir,
            name,
            source,
            filename=filename,
            declared_format=declared_format,
            max_bytes=max_bytes,
            progress=progress,
        )
    try:
        with database.session() as session:
            return publish_version(session, actor, staged)
    except BaseException:
        staged.discard()
        raise


def classify_dataset(
    session: Session, actor: Actor, name: str, *, share_type: str, open_type: str, security_level: str
) -> Dataset:
    """Set the share type, open type and security level (the data administrator's decision)."""
    dataset = get_dataset(session, actor, name)
    authorize(actor, CatalogAction.CLASSIFY, _resource(dataset))
    _check_classification(share_type, open_type, security_level)
    before = {
        "share_type": dataset.share_type,
        "open_type": dataset.open_type,
        "security_level": dataset.security_level,
    }
    dataset.share_type, dataset.open_type, dataset.security_level = share_type, open_type, security_level
    dataset.modified_at = datetime.now(UTC)
    audit.record(
        session,
        actor,
        CatalogAction.CLASSIFY,
        resource_type="dataset",
        resource_id=name,
        detail={
            "before": before,
            "after": {"share_type": share_type, "open_type": open_type, "security_level": security_level},
        },
    )
    return dataset


def confirm_field_kinds(session: Session, actor: Actor, name: str, kinds: Mapping[str, str]) -> DatasetVersion:
    """The publisher confirms (or corrects) the personal-data kind of the current version's fields."""
    dataset = get_dataset(session, actor, name)
    authorize(actor, CatalogAction.CONFIRM_FIELDS, _resource(dataset))
    version = dataset.current_version
    if version is None:
        raise InvalidInput("dataset.no_version", N_("Dataset {name} has no data yet"), name=name)
    by_name = {f.name: f for f in version.fields}
    allowed = {k.value for k in PersonalKind}
    for field_name, kind in kinds.items():
        if field_name not in by_name:
            raise InvalidInput(
                "dataset.unknown_field", N_("Dataset {name} has no field {field}"), name=name, field=field_name
            )
        if kind not in allowed:
            raise InvalidInput(
                "dataset.bad_kind",
                N_("{value} is not one of: {choices}"),
                value=kind,
                choices=", ".join(sorted(allowed)),
            )
    changes = {}
    for field_name, kind in kinds.items():
        target = by_name[field_name]
        if target.kind != kind:
            changes[field_name] = {"from": target.kind, "to": kind}
        target.kind, target.kind_confirmed = kind, True
    audit.record(
        session,
        actor,
        CatalogAction.CONFIRM_FIELDS,
        resource_type="dataset",
        resource_id=name,
        detail={"version": version.number, "changes": changes, "confirmed": sorted(kinds)},
    )
    return version


@dataclass(frozen=True)
class DatasetPage:
    datasets: list[Dataset]
    total: int
    page: int
    page_size: int


def search_datasets(
    session: Session, actor: Actor, q: str = "", department: str | None = None, page: int = 1, page_size: int = 20
) -> DatasetPage:
    """Datasets the actor may see, newest change first, narrowed by words in the title, description or tags."""
    if page < 1 or not 1 <= page_size <= 100:
        raise InvalidInput("dataset.bad_page", N_("Page must be ≥ 1 and page size between 1 and {max}"), max=100)
    query = select(Dataset)
    if not actor.has_role(Role.ADMIN, Role.DEPT_STAFF, Role.AUDITOR):
        query = query.where(Dataset.open_type.in_(PUBLIC_OPEN_TYPES))
    for word in q.split():
        pattern = f"%{word}%"
        query = query.where(
            or_(Dataset.title.like(pattern), Dataset.description.like(pattern), Dataset.name.like(pattern))
        )
    if department:
        query = query.where(Dataset.department_id == get_department(session, department).id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    found = session.scalars(
        query.order_by(Dataset.modified_at.desc(), Dataset.id.desc()).offset((page - 1) * page_size).limit(page_size)
    ).all()
    return DatasetPage(list(found), total, page, page_size)


def _rows_resource(dataset: Dataset) -> Resource:
    shared = dataset.share_type == ShareType.UNCONDITIONAL.value
    return Resource(
        "dataset:shared" if shared else "dataset",
        dataset.name,
        owner_department_id=dataset.department_id,
        is_public=dataset.open_type == OpenType.UNCONDITIONAL.value,
    )


def read_dataset_rows(database: Database, actor: Actor, data_dir: Path, name: str, query: RowQuery) -> RowPage:
    """Rows of the current version. Only the publisher sees personal fields raw; every read that is not of open
    data is recorded in the audit chain with how many rows it returned.

    The query runs in a reading session, so a slow query never holds SQLite's write lock; the audit entry follows
    in a short writing session of its own.
    """
    with database.read_session() as session:
        dataset = get_dataset(session, actor, name)
        resource = _rows_resource(dataset)
        authorize(actor, CatalogAction.READ_ROWS, resource)
        version = dataset.current_version
        if version is None:
            raise InvalidInput("dataset.no_version", N_("Dataset {name} has no data yet"), name=name)
        page = read_rows(version_file(data_dir, version), version, query, raw_allowed=_is_publisher(actor, resource))
    if not resource.is_public:
        with database.session() as session:
            audit.record(
                session,
                actor,
                CatalogAction.READ_ROWS,
                resource_type="dataset",
                resource_id=name,
                detail={
                    "version": version.number,
                    "rows": len(page.rows),
                    "masked": page.masked,
                    "filters": sorted({f.field for f in query.filters}),
                },
            )
    return page
