"""赛道 tracks, applications and private queries: define, apply, decide, query within the privacy budget.

A private query is checked and planned (`dpsql`), its ε is reserved in the ledger in a short transaction (so two
queries at once cannot together overspend), the exact aggregates run in a locked, time-limited DuckDB over the
track's data, OpenDP adds the noise (`privacy`), and the release is completed. A query that fails to run gets its
reservation back. Refusals, reservations and releases are all in the audit chain.
"""

from __future__ import annotations

import math
import shutil
import tempfile
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from yiwang.catalog import service as catalog
from yiwang.catalog.models import Dataset, OpenType, SecurityLevel
from yiwang.catalog.sql import SQL_TEMP_DIR, SqlTable, run_checked
from yiwang.core import audit, validators
from yiwang.core.authz import AccessRefused, authorize, can, require_signed_in
from yiwang.core.db import Database
from yiwang.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from yiwang.core.i18n import N_
from yiwang.core.identity import Actor, Role
from yiwang.core.masking import PersonalKind
from yiwang.core.models import Department, is_row_id, utcnow
from yiwang.core.pseudonyms import Pseudonymiser
from yiwang.sandbox.dpsql import AggregatePlan, plan_query
from yiwang.sandbox.kanon import anonymise
from yiwang.sandbox.models import (
    ApplicationState,
    DataProduct,
    DeidentifiedExport,
    Release,
    Track,
    TrackApplication,
)
from yiwang.sandbox.privacy import release
from yiwang.sandbox.rules import SandboxAction, application_resource

QUERY_SECONDS = 10.0
MAX_GROUPS = 10_000
MAX_DOMAIN = 1_000
MAX_EPSILON = 100.0
MAX_TEXT = 4000


@dataclass(frozen=True)
class TrackInput:
    name: str
    description: str
    datasets: Sequence[str]
    epsilon: float
    delta: float = 0.0
    min_group_size: int = 10
    bounds: Mapping[str, Sequence[float]] = field(default_factory=dict)
    public_domains: Mapping[str, Sequence[Any]] = field(default_factory=dict)
    host_department: str | None = None  # default: the department of the first dataset
    export: Mapping[str, Any] | None = None
    valid_to: datetime | None = None


def create_track(session: Session, actor: Actor, data: TrackInput) -> Track:
    """Define a track over datasets opened on conditions (never core data), with its budget and declared bounds."""
    authorize(actor, SandboxAction.CREATE_TRACK)
    name = data.name.strip()
    if not name or len(name) > 100:
        raise InvalidInput("track.bad_name", N_("A track needs a name of at most 100 characters"))
    if session.scalar(select(Track.id).where(Track.name == name)) is not None:
        raise Conflict("track.exists", N_("A track called {name} already exists"), name=name)
    if not data.datasets:
        raise InvalidInput("track.no_datasets", N_("A track needs at least one dataset"))
    datasets: list[Dataset] = []
    for dataset_name in data.datasets:
        dataset = catalog.get_dataset(session, actor, dataset_name)
        if dataset.security_level == SecurityLevel.CORE.value or dataset.open_type == OpenType.NONE.value:
            raise InvalidInput(
                "track.dataset_not_open",
                N_("{name} is not open on conditions (or is core data) and cannot be in a track"),
                name=dataset.name,
            )
        if dataset.current_version is None:
            raise InvalidInput("dataset.no_version", N_("Dataset {name} has no data yet"), name=dataset.name)
        datasets.append(dataset)
    columns = {f.name for d in datasets if d.current_version for f in d.current_version.fields}
    if not 0 < data.epsilon <= MAX_EPSILON or not 0 <= data.delta < 1 or not 0 <= data.min_group_size <= 10_000:
        raise InvalidInput(
            "track.bad_budget",
            N_("ε must be above 0 and at most {max}, δ from 0 to below 1, the minimum group size from 0 to 10,000"),
            max=MAX_EPSILON,
        )
    bounds: dict[str, list[float]] = {}
    for column, pair in data.bounds.items():
        if column not in columns or len(pair) != 2 or not all(math.isfinite(float(v)) for v in pair):
            raise InvalidInput(
                "track.bad_bounds", N_("Bounds of {column} must be [low, high] of a column"), column=column
            )
        low, high = float(pair[0]), float(pair[1])
        if low >= high:
            raise InvalidInput(
                "track.bad_bounds", N_("Bounds of {column} must be [low, high] of a column"), column=column
            )
        bounds[column] = [low, high]
    domains: dict[str, list[Any]] = {}
    for column, values in data.public_domains.items():
        if column not in columns or not 0 < len(values) <= MAX_DOMAIN or len(set(map(str, values))) != len(values):
            raise InvalidInput(
                "track.bad_domain",
                N_("The public domain of {column} must list 1 to {max} distinct values of a column"),
                column=column,
                max=MAX_DOMAIN,
            )
        domains[column] = list(values)
    export = (
        check_export_config(
            data.export,
            [d.name for d in datasets],
            {d.name: [f.name for f in d.current_version.fields] if d.current_version else [] for d in datasets},
        )
        if data.export
        else None
    )
    host = _host(session, data.host_department, datasets[0])
    track = Track(
        name=name,
        description=data.description.strip()[:MAX_TEXT],
        host_department_id=host.id,
        datasets=[d.name for d in datasets],
        epsilon=float(data.epsilon),
        delta=float(data.delta),
        min_group_size=int(data.min_group_size),
        bounds=bounds,
        public_domains=domains,
        export=export,
        valid_to=data.valid_to,
        created_by=actor.username,
    )
    session.add(track)
    session.flush()
    audit.record(
        session,
        actor,
        SandboxAction.CREATE_TRACK,
        resource_type="track",
        resource_id=str(track.id),
        detail={"name": name, "datasets": track.datasets, "epsilon": track.epsilon, "delta": track.delta},
    )
    return track


def _host(session: Session, name: str | None, first: Dataset) -> Department:
    if name is None:
        return first.department
    host = session.scalar(select(Department).where(Department.name == name))
    if host is None:
        raise NotFound("department.not_found", N_("No department is called {name}"), name=name)
    return host


def list_tracks(session: Session) -> list[Track]:
    """Every track, newest first: what a track offers is public, so enterprises can choose where to apply."""
    return list(session.scalars(select(Track).order_by(Track.created_at.desc(), Track.id.desc())))


def get_track(session: Session, track_id: int) -> Track:
    track = session.get(Track, track_id) if is_row_id(track_id) else None
    if track is None:
        raise NotFound("track.not_found", N_("No track {id}"), id=track_id)
    return track


def resource_of(application: TrackApplication) -> Any:
    return application_resource(application.track.host_department_id, application.user_id, application.id)


def apply_to_track(
    session: Session, actor: Actor, track_id: int, credit_code: str, project: str, organisation: str = ""
) -> TrackApplication:
    """An enterprise applies with its unified social credit code (checked, GB 32100) and a project description."""
    require_signed_in(actor)
    track = get_track(session, track_id)
    authorize(actor, SandboxAction.APPLY)
    code = validators.validate_credit_code(credit_code).number
    text = project.strip()
    if not text or len(text) > MAX_TEXT:
        raise InvalidInput("track.bad_project", N_("Describe the project in 1 to {max} characters"), max=MAX_TEXT)
    if track.valid_to is not None and track.valid_to <= utcnow():
        raise Conflict("track.closed", N_("Track {name} is closed"), name=track.name)
    assert actor.user_id is not None
    existing = session.scalar(
        select(TrackApplication).where(TrackApplication.track_id == track.id, TrackApplication.user_id == actor.user_id)
    )
    if existing is not None:
        raise Conflict("track.already_applied", N_("You have already applied to {name}"), name=track.name)
    application = TrackApplication(
        track=track,
        user_id=actor.user_id,
        username=actor.username,
        organisation=(organisation or actor.display_name).strip()[:200],
        credit_code=code,
        project=text,
        state=ApplicationState.PENDING.value,
        created_at=utcnow(),
    )
    session.add(application)
    session.flush()
    audit.record(
        session,
        actor,
        SandboxAction.APPLY,
        resource_type="track",
        resource_id=str(track.id),
        detail={"application": application.id, "credit_code": code},
    )
    return application


def get_application(session: Session, actor: Actor, application_id: int, *, lock: bool = False) -> TrackApplication:
    query = select(TrackApplication).where(TrackApplication.id == application_id)
    if lock:
        query = query.with_for_update(of=TrackApplication)
    application = session.scalar(query) if is_row_id(application_id) else None
    if application is None or not can(actor, SandboxAction.VIEW_APPLICATION, resource_of(application)):
        require_signed_in(actor)
        raise NotFound("track.application_not_found", N_("No application {id}"), id=application_id)
    return application


def decide_application(
    session: Session, actor: Actor, application_id: int, *, approve: bool, note: str = ""
) -> TrackApplication:
    """The track's host department (or the administrator) approves or refuses a pending application."""
    application = get_application(session, actor, application_id, lock=True)
    authorize(actor, SandboxAction.DECIDE, resource_of(application))
    if application.state != ApplicationState.PENDING.value:
        raise Conflict(
            "track.already_decided",
            N_("Application {id} was already decided ({state})"),
            id=application.id,
            state=application.state,
        )
    if not approve and not note.strip():
        raise InvalidInput("track.reason_required", N_("Give the applicant a reason for the refusal"))
    application.state = (ApplicationState.APPROVED if approve else ApplicationState.REFUSED).value
    application.decided_at = utcnow()
    application.decided_by = actor.username
    application.decision_note = note.strip()[:MAX_TEXT]
    audit.record(
        session,
        actor,
        SandboxAction.DECIDE,
        resource_type="track",
        resource_id=str(application.track_id),
        detail={"application": application.id, "state": application.state},
    )
    return application


def list_applications(session: Session, actor: Actor, *, track_id: int | None = None) -> list[TrackApplication]:
    """The actor's own applications; for reviewers those of their tracks; everything for administrators and auditors."""
    require_signed_in(actor)
    query = select(TrackApplication).join(TrackApplication.track)
    if track_id is not None:
        query = query.where(TrackApplication.track_id == track_id)
    if not (actor.has_role(Role.ADMIN, Role.AUDITOR) or actor.is_operator):
        mine = TrackApplication.user_id == (actor.user_id or -1)
        if actor.has_role(Role.DEPT_STAFF) and actor.department_id is not None:
            mine = mine | (Track.host_department_id == actor.department_id)
        query = query.where(mine)
    return list(session.scalars(query.order_by(TrackApplication.created_at.desc(), TrackApplication.id.desc())))


def spent(session: Session, application_id: int) -> float:
    """ε charged to an application: completed releases and reservations of queries still running."""
    return float(
        session.scalar(
            select(func.coalesce(func.sum(Release.epsilon), 0.0)).where(Release.application_id == application_id)
        )
        or 0.0
    )


def budget_left(session: Session, application: TrackApplication) -> float:
    return max(0.0, application.track.epsilon - spent(session, application.id))


def my_application(session: Session, actor: Actor, track_id: int) -> TrackApplication | None:
    if actor.user_id is None:
        return None
    return session.scalar(
        select(TrackApplication).where(TrackApplication.track_id == track_id, TrackApplication.user_id == actor.user_id)
    )


@dataclass(frozen=True)
class PrivateRelease:
    release_id: int
    result: dict[str, Any]
    epsilon_spent: float
    budget_left: float


def _approved(session: Session, actor: Actor, track_id: int) -> TrackApplication:
    require_signed_in(actor)
    track = get_track(session, track_id)
    application = my_application(session, actor, track.id)
    if application is None or application.state != ApplicationState.APPROVED.value:
        # an AccessRefused, so the attempt is remembered in the audit chain like every other refusal
        resource = application_resource(
            track.host_department_id, actor.user_id or 0, application.id if application else ""
        )
        raise AccessRefused(
            actor,
            SandboxAction.QUERY,
            resource,
            "sandbox.not_approved",
            N_("You need an approved application to {name} first"),
            name=track.name,
        )
    authorize(actor, SandboxAction.QUERY, resource_of(application))
    if track.valid_to is not None and track.valid_to <= utcnow():
        raise PermissionDenied("track.closed", N_("Track {name} is closed"), name=track.name)
    return application


def _record_refused_query(session: Session, actor: Actor, track_id: int, detail: dict[str, Any]) -> None:
    """A query the sandbox would not run (its rules, its budget), in the audit chain."""
    audit.record(
        session,
        actor,
        SandboxAction.QUERY,
        resource_type="track",
        resource_id=str(track_id),
        result="denied",
        detail=detail,
    )


def _refuse_audited(database: Database, actor: Actor, track_id: int, error: InvalidInput | Conflict, sql: str) -> None:
    with database.session() as session:
        _record_refused_query(
            session, actor, track_id, {"reason": error.code, "rule": error.render(), "sql": sql[:2000]}
        )


def run_private_query(
    database: Database, actor: Actor, data_dir: Path, track_id: int, sql: str, epsilon: float
) -> PrivateRelease:
    """Check, charge, run and release one private query; refusals (rules, budget) are audited and raised."""
    with database.read_session() as session:
        application = _approved(session, actor, track_id)
        track = application.track
        tables = _tables(session, data_dir, track)
        try:
            if not math.isfinite(epsilon) or epsilon <= 0:
                raise InvalidInput("budget.bad_epsilon", N_("ε of a query must be a positive number"))
            plan = plan_query(
                sql,
                track.datasets,
                {t.name: [c for c, _ in t.fields] for t in tables},
                track.bounds,
                track.public_domains,
            )
            cells = math.prod(len(track.public_domains[g]) for g in plan.groups) if plan.groups else 1
            if cells > MAX_GROUPS:
                raise InvalidInput(
                    "sql.refused", N_("The groups make {cells} cells, more than {max}"), cells=cells, max=MAX_GROUPS
                )
        except InvalidInput as refusal:
            _refuse_audited(database, actor, track.id, refusal, sql)
            raise
        application_id, budget, min_group, domains = (
            application.id,
            track.epsilon,
            track.min_group_size,
            track.public_domains,
        )
    reservation = _reserve(database, actor, application_id, track_id, budget, epsilon, plan)
    try:
        exact = _run_exact(plan, [t for t in tables if t.name == plan.dataset], data_dir)
    except InvalidInput as failure:
        _cancel(database, reservation)
        _refuse_audited(database, actor, track_id, failure, sql)
        raise
    except BaseException:
        _cancel(database, reservation)
        raise
    result = release(plan, exact, domains, epsilon, min_group).as_json()
    with database.session() as session:
        row = session.get(Release, reservation)
        assert row is not None
        row.result = result
        row.completed = True
        left = max(0.0, budget - spent(session, application_id))
        audit.record(
            session,
            actor,
            "sandbox.release",
            resource_type="track",
            resource_id=str(track_id),
            detail={
                "release": reservation,
                "dataset": plan.dataset,
                "epsilon": epsilon,
                "budget_left": left,
                "groups": len(result["rows"]),
                "suppressed": result["suppressed"],
            },
        )
    return PrivateRelease(reservation, result, epsilon, left)


def _tables(session: Session, data_dir: Path, track: Track) -> list[SqlTable]:
    """The track's datasets as sandbox tables, raw inside: only noisy aggregates ever leave."""
    tables = []
    for name in track.datasets:
        dataset = session.scalar(select(Dataset).where(Dataset.name == name, Dataset.deleted_at.is_(None)))
        if dataset is None or dataset.current_version is None:
            continue
        fields = [(f.name, PersonalKind.NONE.value) for f in dataset.current_version.fields]
        tables.append(SqlTable(dataset.name, catalog.version_file(data_dir, dataset.current_version), fields))
    return tables


def _reserve(
    database: Database,
    actor: Actor,
    application_id: int,
    track_id: int,
    budget: float,
    epsilon: float,
    plan: AggregatePlan,
) -> int:
    """Charge ε before running, under a lock on the application, or refuse when the budget cannot cover it."""
    with database.session() as session:
        session.scalar(select(TrackApplication.id).where(TrackApplication.id == application_id).with_for_update())
        left = budget - spent(session, application_id)
        if epsilon > left + 1e-12:
            exhausted = Conflict(
                "budget.exhausted",
                N_("This query needs ε = {epsilon}, but only {left} of your privacy budget is left"),
                epsilon=f"{epsilon:g}",
                left=f"{max(0.0, left):g}",
            )
            _record_refused_query(
                session, actor, track_id, {"reason": exhausted.code, "epsilon": epsilon, "budget_left": max(0.0, left)}
            )
            session.commit()
            raise exhausted
        row = Release(
            application_id=application_id,
            sql=plan.sql,
            epsilon=epsilon,
            delta=0.0,
            completed=False,
            result={},
            created_at=utcnow(),
        )
        session.add(row)
        session.flush()
        audit.record(
            session,
            actor,
            "sandbox.budget_charge",
            resource_type="track",
            resource_id=str(track_id),
            detail={"release": row.id, "epsilon": epsilon, "budget_left": max(0.0, left - epsilon)},
        )
        return row.id


def _cancel(database: Database, reservation: int) -> None:
    with database.session() as session:
        row = session.get(Release, reservation)
        if row is not None and not row.completed:
            session.delete(row)


def _run_exact(plan: AggregatePlan, tables: Sequence[SqlTable], data_dir: Path) -> list[tuple[Any, ...]]:
    result = run_checked(
        plan.sql, tables, row_cap=MAX_GROUPS + 1, seconds=QUERY_SECONDS, temp_dir=data_dir / SQL_TEMP_DIR
    )
    return result.rows


def list_releases(session: Session, actor: Actor, application_id: int) -> list[Release]:
    application = get_application(session, actor, application_id)
    return list(
        session.scalars(
            select(Release)
            .where(Release.application_id == application.id, Release.completed.is_(True))
            .order_by(Release.id.desc())
        )
    )


EXPORTS_DIR = "exports"
EXPORT_FILE = "data.parquet"


def _export_config(track: Track) -> dict[str, Any]:
    config = track.export
    if not config:
        raise PermissionDenied(
            "export.not_allowed", N_("Track {name} does not allow de-identified exports"), name=track.name
        )
    return dict(config)


def check_export_config(
    config: Mapping[str, Any], datasets: Sequence[str], fields: Mapping[str, Sequence[str]]
) -> dict[str, Any]:
    """A track's export settings: a dataset of the track, k ≥ 2, quasi-identifiers, an optional sensitive column."""
    dataset = str(config.get("dataset") or (datasets[0] if datasets else ""))
    k = config.get("k", 5)
    quasi = config.get("quasi_identifiers") or []
    sensitive = config.get("sensitive")
    known = set(fields.get(dataset, ()))
    if dataset not in datasets or not isinstance(k, int) or k < 2 or not quasi or not set(quasi) <= known:
        raise InvalidInput(
            "track.bad_export",
            N_("An export needs a dataset of the track, k of at least 2 and quasi-identifiers among its columns"),
        )
    if sensitive is not None and sensitive not in known:
        raise InvalidInput(
            "track.bad_export",
            N_("An export needs a dataset of the track, k of at least 2 and quasi-identifiers among its columns"),
        )
    return {
        "dataset": dataset,
        "k": k,
        "quasi_identifiers": list(quasi),
        "sensitive": sensitive,
        "max_suppression": float(config.get("max_suppression", 0.05)),
    }


def export_deidentified(
    database: Database, actor: Actor, data_dir: Path, track_id: int, secret: str
) -> DeidentifiedExport:
    """Generalise the track's export dataset to k-anonymity for the applicant; the report says what it reached."""
    with database.read_session() as session:
        application = _approved(session, actor, track_id)
        authorize(actor, SandboxAction.EXPORT, resource_of(application))
        config = _export_config(application.track)
        dataset = session.scalar(select(Dataset).where(Dataset.name == config["dataset"], Dataset.deleted_at.is_(None)))
        if dataset is None or dataset.current_version is None:
            raise NotFound("dataset.not_found", N_("No dataset is called {name}"), name=config["dataset"])
        parquet = catalog.version_file(data_dir, dataset.current_version)
        fields = {f.name: (f.type, f.kind) for f in dataset.current_version.fields}
        application_id, credit_code = application.id, application.credit_code
    directory = uuid.uuid4().hex
    target = data_dir / EXPORTS_DIR / directory / EXPORT_FILE
    spill = data_dir / SQL_TEMP_DIR
    spill.mkdir(parents=True, exist_ok=True)
    connection = duckdb.connect(":memory:", config={"memory_limit": "1GB", "threads": 2, "temp_directory": str(spill)})
    try:
        report = anonymise(
            connection,
            parquet,
            fields,
            config["quasi_identifiers"],
            config["k"],
            target.with_suffix(".partial"),
            Pseudonymiser(secret, f"enterprise:{credit_code}"),
            sensitive=config["sensitive"],
            max_suppression=config["max_suppression"],
        )
        target.with_suffix(".partial").rename(target)
    except BaseException:
        shutil.rmtree(target.parent, ignore_errors=True)
        raise
    finally:
        connection.close()
    with database.session() as session:
        export = DeidentifiedExport(
            application_id=application_id,
            dataset=config["dataset"],
            directory=directory,
            report=report.as_json(),
            created_at=utcnow(),
        )
        session.add(export)
        session.flush()
        audit.record(
            session,
            actor,
            SandboxAction.EXPORT,
            resource_type="dataset",
            resource_id=config["dataset"],
            detail={
                "export": export.id,
                "k": report.k_reached,
                "l": report.l_reached,
                "rows": report.rows_out,
                "suppressed": report.suppressed,
            },
        )
        return export


def export_file(session: Session, actor: Actor, data_dir: Path, export_id: int) -> tuple[DeidentifiedExport, Path]:
    """An export's file, for its applicant (reviewers and auditors see the report, not the rows)."""
    export = session.get(DeidentifiedExport, export_id) if is_row_id(export_id) else None
    if export is None or not can(actor, SandboxAction.EXPORT, resource_of(export.application)):
        require_signed_in(actor)
        raise NotFound("export.not_found", N_("No export {id}"), id=export_id)
    return export, data_dir / EXPORTS_DIR / export.directory / EXPORT_FILE


def list_exports(session: Session, actor: Actor, application_id: int) -> list[DeidentifiedExport]:
    application = get_application(session, actor, application_id)
    return list(
        session.scalars(
            select(DeidentifiedExport)
            .where(DeidentifiedExport.application_id == application.id)
            .order_by(DeidentifiedExport.id.desc())
        )
    )


@dataclass(frozen=True)
class ProductInput:
    source: str  # "release" or "export"
    source_id: int
    name: str
    title: str
    description: str = ""


def _platform(task: str) -> Actor:
    """The platform publishing a data product the sandbox's own rule already allowed the applicant to publish."""
    return Actor(user_id=None, username=f"platform:{task}", roles=frozenset({Role.ADMIN}), via="platform")


def publish_product(database: Database, actor: Actor, data_dir: Path, data: ProductInput) -> DataProduct:
    """数据产品: publish a release's figures (open to everyone) or an export (open on conditions) in the catalogue,
    under the track's host department, with its provenance to the track, the release or export and the enterprise."""
    require_signed_in(actor)
    with database.read_session() as session:
        if data.source == "release":
            row = session.get(Release, data.source_id) if is_row_id(data.source_id) else None
            if row is None or not row.completed or not can(actor, SandboxAction.PUBLISH, resource_of(row.application)):
                raise NotFound("release.not_found", N_("No release {id}"), id=data.source_id)
            application, result = row.application, row.result
            if not result.get("rows"):
                raise InvalidInput(
                    "product.empty", N_("Release {id} has no figures to publish: every group was suppressed"), id=row.id
                )
            open_type, licence = OpenType.UNCONDITIONAL.value, "CC-BY-4.0"
            origin = f"隐私计算发布 #{row.id}（ε = {row.epsilon:g}，差分隐私）"
            export_path = None
        elif data.source == "export":
            export, export_path = export_file(session, actor, data_dir, data.source_id)
            application, result = export.application, {}
            open_type, licence = OpenType.CONDITIONAL.value, "GOV-OPEN-1.0"
            origin = f"脱敏导出 #{export.id}（k = {export.report.get('k_reached')}）"
        else:
            raise InvalidInput("product.bad_source", N_("A data product comes from a release or an export"))
        authorize(actor, SandboxAction.PUBLISH, resource_of(application))
        track, host = application.track, application.track.host.name
        enterprise = f"{application.organisation or application.username}（{application.credit_code}）"
        provenance = f"来源 Provenance：赛道「{track.name}」，{origin}，{enterprise}"
    staging = Path(tempfile.mkdtemp(prefix="product-", dir=_temp(data_dir)))
    try:
        source = export_path or _release_file(result, staging / "release.parquet")
        platform = _platform("data-product")
        with database.session() as session:
            dataset = catalog.create_dataset(
                session,
                platform,
                catalog.DatasetInput(
                    name=data.name.strip(),
                    title=data.title,
                    department=host,
                    description=(data.description.strip() + "\n\n" + provenance).strip(),
                    tags=["数据产品", track.name],
                    licence=licence,
                    share_type="unconditional",
                    open_type=open_type,
                    security_level=SecurityLevel.GENERAL.value,
                ),
            )
            dataset_name = dataset.name
        try:
            catalog.ingest_version(
                database, platform, data_dir, dataset_name, source, filename=f"{dataset_name}.parquet"
            )
        except BaseException:
            with database.session() as session:
                catalog.delete_dataset(session, platform, dataset_name)
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    with database.session() as session:
        created = session.scalar(select(Dataset).where(Dataset.name == dataset_name, Dataset.deleted_at.is_(None)))
        assert created is not None
        product = DataProduct(
            dataset_id=created.id,
            application_id=application.id,
            release_id=data.source_id if data.source == "release" else None,
            export_id=data.source_id if data.source == "export" else None,
            source=data.source,
            created_at=utcnow(),
        )
        session.add(product)
        session.flush()
        audit.record(
            session,
            actor,
            SandboxAction.PUBLISH,
            resource_type="dataset",
            resource_id=dataset_name,
            detail={"product": product.id, "source": data.source, "source_id": data.source_id, "track": track.id},
        )
        return product


def _temp(data_dir: Path) -> Path:
    root = data_dir / SQL_TEMP_DIR
    root.mkdir(parents=True, exist_ok=True)
    return root


def _release_file(result: Mapping[str, Any], target: Path) -> Path:
    """A release's released figures (never anything else) as a Parquet table."""
    columns = list(result.get("columns", []))
    rows = list(result.get("rows", []))
    table = pa.table({name: [row[index] for row in rows] for index, name in enumerate(columns)})
    pq.write_table(table, target)
    return target


def list_products(session: Session) -> list[DataProduct]:
    """Published data products with their provenance (the datasets themselves follow the catalogue's rules)."""
    return list(session.scalars(select(DataProduct).order_by(DataProduct.id.desc())))
