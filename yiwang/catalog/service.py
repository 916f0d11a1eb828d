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
from yiwang.catalog.rows import RowAccess, RowPage, RowQuery, read_rows
from yiwang.catalog.rules import (
    PUBLIC_OPEN_TYPES,
    CatalogAction,
    dataset_resource,
    is_publisher,
    rows_resource,
    view_resource,
    visible_datasets,
)
from yiwang.catalog.search import index_dataset
from yiwang.core import audit
from yiwang.core.accounts import get_department
from yiwang.core.analytics import Analytics
from yiwang.core.authz import Resource, authorize, can
from yiwang.core.db import Database
from yiwang.core.errors import Conflict, InvalidInput, NotFound
from yiwang.core.i18n import N_
from yiwang.core.identity import Actor
from yiwang.core.masking import PersonalKind

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{1,99}$")
DATASETS_DIR = "datasets"
DATA_FILE = "data.parquet"
IngestProgress = Callable[[int, int], None]
DEFAULT_MAX_BYTES = 2 * 1024**3
MAX_LIST = 1000
MAX_OFFSET = 2**31 - 1  # far beyond any catalogue, well inside every database's integers


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
    if can(actor, CatalogAction.CLASSIFY, Resource("dataset", data.name, owner_department_id=department.id)):
        # the data administrator's own classification needs no second review
        dataset.classified_at, dataset.classified_by = datetime.now(UTC), actor.username
    session.add(dataset)
    session.flush()
    index_dataset(dataset)
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
    """A dataset the actor may see, by name or uuid; one they may not see is reported as not found (its existence
    is not told)."""
    dataset = session.scalar(
        select(Dataset).where(or_(Dataset.name == name, Dataset.uuid == name), Dataset.deleted_at.is_(None))
    )
    if dataset is None or not can(actor, CatalogAction.VIEW, view_resource(dataset)):
        raise NotFound("dataset.not_found", N_("No dataset is called {name}"), name=name)
    return dataset


def record_metadata_read(database: Database, actor: Actor, dataset: Dataset) -> None:
    """A read of the description of a dataset that is not open goes to the audit chain (in its own short writing
    session, so pages keep reading without holding SQLite's write lock)."""
    if dataset.open_type != OpenType.NONE.value:
        return
    with database.session() as session:
        audit.record(
            session,
            actor,
            CatalogAction.VIEW,
            resource_type="dataset",
            resource_id=dataset.name,
            detail={"read": "metadata"},
        )


def get_version(session: Session, actor: Actor, version_uuid: str) -> DatasetVersion:
    """A version (by its uuid) of a dataset the actor may see."""
    version = session.scalar(select(DatasetVersion).where(DatasetVersion.uuid == version_uuid))
    if version is None or version.dataset.deleted_at is not None:
        raise NotFound("version.not_found", N_("No version has the id {id}"), id=version_uuid)
    if not can(actor, CatalogAction.VIEW, view_resource(version.dataset)):
        raise NotFound("version.not_found", N_("No version has the id {id}"), id=version_uuid)
    return version


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
    authorize(actor, CatalogAction.INGEST, dataset_resource(dataset))
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


def publish_version(
    session: Session, actor: Actor, staged: StagedVersion, *, title: str = "", description: str = ""
) -> DatasetVersion:
    """Make a staged upload the dataset's new current version (call `staged.discard()` if the commit fails)."""
    dataset = session.scalar(select(Dataset).where(Dataset.name == staged.dataset_name).with_for_update(of=Dataset))
    if dataset is None:
        raise NotFound("dataset.not_found", N_("No dataset is called {name}"), name=staged.dataset_name)
    authorize(actor, CatalogAction.INGEST, dataset_resource(dataset))
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
        title=title.strip()[:200],
        description=description.strip(),
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
    session.refresh(dataset, ["versions"])
    index_dataset(dataset)
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
    title: str = "",
    description: str = "",
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
            return publish_version(session, actor, staged, title=title, description=description)
    except BaseException:
        staged.discard()
        raise


def describe_version(
    session: Session, actor: Actor, version_uuid: str, *, title: str, description: str
) -> DatasetVersion:
    """Rename or re-describe an upload (its data never changes: versions are immutable)."""
    version = get_version(session, actor, version_uuid)
    authorize(actor, CatalogAction.UPDATE, dataset_resource(version.dataset))
    if len(title.strip()) > 200:
        raise InvalidInput("version.bad_title", N_("A version title has at most 200 characters"))
    version.title, version.description = title.strip(), description.strip()
    audit.record(
        session,
        actor,
        CatalogAction.UPDATE,
        resource_type="dataset",
        resource_id=version.dataset.name,
        detail={"version": version.number, "changed": ["title", "description"]},
    )
    return version


def classify_dataset(
    session: Session, actor: Actor, name: str, *, share_type: str, open_type: str, security_level: str
) -> Dataset:
    """Set the share type, open type and security level (the data administrator's decision)."""
    dataset = get_dataset(session, actor, name)
    authorize(actor, CatalogAction.CLASSIFY, dataset_resource(dataset))
    _check_classification(share_type, open_type, security_level)
    before = {
        "share_type": dataset.share_type,
        "open_type": dataset.open_type,
        "security_level": dataset.security_level,
    }
    dataset.share_type, dataset.open_type, dataset.security_level = share_type, open_type, security_level
    dataset.modified_at = dataset.classified_at = datetime.now(UTC)
    dataset.classified_by = actor.username
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


@dataclass(frozen=True)
class DatasetChanges:
    """A publisher's edit of a dataset's description; None leaves a field as it is."""

    title: str | None = None
    description: str | None = None
    tags: list[str] | None = None
    themes: list[str] | None = None
    update_frequency: str | None = None
    licence: str | None = None
    contact: str | None = None
    spatial_coverage: str | None = None
    temporal_coverage: str | None = None


def _clean_list(values: list[str]) -> list[str]:
    return sorted({v.strip() for v in values if v.strip()})


def update_dataset(session: Session, actor: Actor, name: str, changes: DatasetChanges) -> Dataset:
    """Change what a dataset says about itself (not its classification: that is `classify_dataset`)."""
    dataset = get_dataset(session, actor, name)
    authorize(actor, CatalogAction.UPDATE, dataset_resource(dataset))
    if changes.title is not None and not 1 <= len(changes.title.strip()) <= 200:
        raise InvalidInput("dataset.bad_title", N_("A dataset title needs 1 to 200 characters"))
    values: dict[str, object] = {
        "title": None if changes.title is None else changes.title.strip(),
        "description": None if changes.description is None else changes.description.strip(),
        "tags": None if changes.tags is None else _clean_list(changes.tags),
        "themes": None if changes.themes is None else _clean_list(changes.themes),
        "update_frequency": changes.update_frequency,
        "licence": changes.licence,
        "contact": changes.contact,
        "spatial_coverage": changes.spatial_coverage,
        "temporal_coverage": changes.temporal_coverage,
    }
    changed = sorted(k for k, v in values.items() if v is not None and getattr(dataset, k) != v)
    for key in changed:
        setattr(dataset, key, values[key])
    if changed:
        dataset.modified_at = datetime.now(UTC)
        index_dataset(dataset)
        audit.record(
            session,
            actor,
            CatalogAction.UPDATE,
            resource_type="dataset",
            resource_id=name,
            detail={"changed": changed},
        )
    return dataset


def delete_dataset(session: Session, actor: Actor, name: str) -> Dataset:
    """Withdraw a dataset from the catalogue; its versions stay on disk for the audit trail."""
    dataset = get_dataset(session, actor, name)
    authorize(actor, CatalogAction.DELETE, dataset_resource(dataset))
    now = datetime.now(UTC)
    dataset.deleted_at = now
    dataset.modified_at = now
    # the name is freed for a new dataset; the withdrawn one keeps a unique, recognisable one
    dataset.name = f"{name}~{dataset.id}"[:100]
    audit.record(
        session,
        actor,
        CatalogAction.DELETE,
        resource_type="dataset",
        resource_id=name,
        detail={"versions": len(dataset.versions), "uuid": dataset.uuid},
    )
    return dataset


@dataclass(frozen=True)
class FieldDescription:
    """What the publisher says about a field: its description and unit (None leaves either as it is)."""

    description: str | None = None
    unit: str | None = None


def confirm_field_kinds(
    session: Session,
    actor: Actor,
    name: str,
    kinds: Mapping[str, str],
    descriptions: Mapping[str, FieldDescription] | None = None,
) -> DatasetVersion:
    """The publisher confirms (or corrects) the personal-data kind of the current version's fields, and may
    describe them (description and unit) at the same time."""
    dataset = get_dataset(session, actor, name)
    authorize(actor, CatalogAction.CONFIRM_FIELDS, dataset_resource(dataset))
    version = dataset.current_version
    if version is None:
        raise InvalidInput("dataset.no_version", N_("Dataset {name} has no data yet"), name=name)
    by_name = {f.name: f for f in version.fields}
    allowed = {k.value for k in PersonalKind}
    descriptions = descriptions or {}
    for field_name in [*kinds, *descriptions]:
        if field_name not in by_name:
            raise InvalidInput(
                "dataset.unknown_field", N_("Dataset {name} has no field {field}"), name=name, field=field_name
            )
    for kind in kinds.values():
        if kind not in allowed:
            raise InvalidInput(
                "dataset.bad_kind",
                N_("{value} is not one of: {choices}"),
                value=kind,
                choices=", ".join(sorted(allowed)),
            )
    for described in descriptions.values():
        if len(described.description or "") > 500 or len(described.unit or "") > 32:
            raise InvalidInput(
                "dataset.bad_field_description",
                N_("A field description has at most 500 characters and a unit at most 32"),
            )
    changes = {}
    for field_name, kind in kinds.items():
        target = by_name[field_name]
        if target.kind != kind:
            changes[field_name] = {"from": target.kind, "to": kind}
        target.kind, target.kind_confirmed = kind, True
    described_fields = []
    for field_name, described in descriptions.items():
        target = by_name[field_name]
        if described.description is not None and described.description.strip() != target.description:
            target.description = described.description.strip()
            described_fields.append(field_name)
        if described.unit is not None and described.unit.strip() != target.unit:
            target.unit = described.unit.strip()
            described_fields.append(field_name)
    if described_fields:
        index_dataset(dataset)
    audit.record(
        session,
        actor,
        CatalogAction.CONFIRM_FIELDS,
        resource_type="dataset",
        resource_id=name,
        detail={
            "version": version.number,
            "changes": changes,
            "confirmed": sorted(kinds),
            "described": sorted(set(described_fields)),
        },
    )
    return version


def list_visible_datasets(
    session: Session, actor: Actor, *, modified_since: datetime | None = None, offset: int = 0, limit: int = 100
) -> tuple[list[Dataset], int]:
    """A page of the datasets `actor` may see, oldest change first (for harvesting), and how many there are."""
    if not 0 <= offset <= MAX_OFFSET or not 1 <= limit <= MAX_LIST:
        raise InvalidInput("dataset.bad_page", N_("Page must be ≥ 1 and page size between 1 and {max}"), max=MAX_LIST)
    query = visible_datasets(actor)
    if modified_since is not None:
        query = query.where(Dataset.modified_at >= modified_since)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    found = session.scalars(query.order_by(Dataset.modified_at, Dataset.id).offset(offset).limit(limit)).all()
    return list(found), total


@dataclass(frozen=True)
class ReviewQueue:
    """审核队列: what waits for the data administrator."""

    unclassified: list[Dataset]  # never classified by the administrator, oldest first
    unconfirmed: list[tuple[Dataset, list[str]]]  # detected personal fields the publisher has not confirmed
    exposed: list[tuple[Dataset, list[str]]]  # of those, datasets open to the public: the urgent ones


def review_queue(session: Session, actor: Actor) -> ReviewQueue:
    """The administrator's classification and review queue."""
    authorize(actor, CatalogAction.REVIEW)
    datasets = list(session.scalars(visible_datasets(actor).order_by(Dataset.created_at, Dataset.id)).unique())
    unconfirmed = []
    for dataset in datasets:
        current = dataset.current_version
        pending = [f.name for f in current.fields if f.kind != "none" and not f.kind_confirmed] if current else []
        if pending:
            unconfirmed.append((dataset, pending))
    return ReviewQueue(
        unclassified=[d for d in datasets if d.classified_at is None],
        unconfirmed=unconfirmed,
        exposed=[(d, fields) for d, fields in unconfirmed if d.open_type in PUBLIC_OPEN_TYPES],
    )


def chosen_version(dataset: Dataset, number: int | None) -> DatasetVersion | None:
    """The current version, or version `number` (NotFound when there is none by that number)."""
    if number is None:
        return dataset.current_version
    found = next((v for v in dataset.versions if v.number == number), None)
    if found is None:
        raise NotFound(
            "version.not_found", N_("Dataset {name} has no version {number}"), name=dataset.name, number=number
        )
    return found


def read_dataset_rows(
    database: Database,
    actor: Actor,
    data_dir: Path,
    name: str,
    query: RowQuery,
    *,
    analytics: Analytics,
    version: int | None = None,
) -> RowPage:
    """Rows of the current version (or of version number `version`). Only the publisher sees personal fields raw;
    every read that is not of open data is recorded in the audit chain with how many rows it returned.

    The query runs in a reading session, so a slow query never holds SQLite's write lock; the audit entry follows
    in a short writing session of its own. It runs on `analytics`, the app's analytics database.
    """
    with database.read_session() as session:
        dataset = get_dataset(session, actor, name)
        resource = rows_resource(dataset)
        authorize(actor, CatalogAction.READ_ROWS, resource)
        chosen = chosen_version(dataset, version)
        if chosen is None:
            raise InvalidInput("dataset.no_version", N_("Dataset {name} has no data yet"), name=name)
        access = RowAccess.catalogue(chosen, raw_allowed=is_publisher(actor, resource))
        page = read_rows(analytics, version_file(data_dir, chosen), chosen, query, access)
    if not resource.is_public:
        with database.session() as session:
            audit.record(
                session,
                actor,
                CatalogAction.READ_ROWS,
                resource_type="dataset",
                resource_id=name,
                detail={
                    "version": chosen.number,
                    "rows": len(page.rows),
                    "masked": page.masked,
                    "filters": sorted({f.field for f in query.filters}),
                },
            )
    return page
