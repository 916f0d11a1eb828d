"""Pages of the sandbox: tracks, applying, reviewing, the private SQL editor with its budget, releases, exports."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import HTMLResponse, RedirectResponse, Response

from yiwang.catalog.models import Dataset
from yiwang.core.authz import can
from yiwang.core.errors import Conflict, InvalidInput
from yiwang.core.i18n import N_
from yiwang.core.identity import Actor, Role
from yiwang.sandbox import service
from yiwang.sandbox.models import APPLICATION_LABELS, ApplicationState, DeidentifiedExport, Release
from yiwang.sandbox.rules import SandboxAction
from yiwang.web.deps import (
    CsrfChecked,
    DatabaseDep,
    PageActor,
    ReadSessionDep,
    SessionDep,
    SettingsDep,
    TranslateDep,
)
from yiwang.web.templating import render

router = APIRouter(include_in_schema=False)
EXAMPLE_EPSILON = 0.5


@router.get("/tracks", response_class=HTMLResponse)
def show_tracks(request: Request, actor: PageActor, session: ReadSessionDep) -> Response:
    tracks = service.list_tracks(session)
    mine = {a.track_id: a for a in service.list_applications(session, actor)} if actor.user_id else {}
    return render(request, "sandbox/tracks.html", actor, tracks=tracks, mine=mine, labels=APPLICATION_LABELS)


def _schemas(session: ReadSessionDep, names: list[str]) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """Each dataset of a track with its columns and types: what the SQL editor shows beside the query."""
    schemas = []
    for name in names:
        dataset = session.scalar(select(Dataset).where(Dataset.name == name, Dataset.deleted_at.is_(None)))
        if dataset is not None and dataset.current_version is not None:
            columns = [(f.name, f.type) for f in dataset.current_version.fields]
            schemas.append((dataset.name, dataset.title, columns))
    return schemas


@router.get("/tracks/{track_id}", response_class=HTMLResponse)
def show_track(track_id: int, request: Request, actor: PageActor, session: ReadSessionDep) -> Response:
    return _track_page(request, actor, session, track_id)


def _track_page(
    request: Request,
    actor: Actor,
    session: Session,
    track_id: int,
    *,
    status_code: int = 200,
    query_error: str = "",
    query_sql: str = "",
    query_epsilon: float | None = None,
) -> Response:
    """The track page; after a refused query it shows the reason above the editor, the query kept."""
    track = service.get_track(session, track_id)
    application = service.my_application(session, actor, track.id)
    approved = application is not None and application.state == ApplicationState.APPROVED.value
    releases: list[Release] = []
    exports: list[DeidentifiedExport] = []
    left = None
    if approved and application is not None:
        releases = service.list_releases(session, actor, application.id)
        exports = service.list_exports(session, actor, application.id)
        left = service.budget_left(session, application)
    reviewing = [
        a
        for a in (service.list_applications(session, actor, track_id=track.id) if actor.is_authenticated else [])
        if a.user_id != actor.user_id and can(actor, SandboxAction.DECIDE, service.resource_of(a))
    ]
    chosen = request.query_params.get("release", "")
    shown = next((r for r in releases if str(r.id) == chosen), releases[0] if releases else None)
    first_group = next(iter(track.public_domains), "")
    example = query_sql or (
        f'SELECT {first_group}, count(*) AS n FROM "{track.datasets[0]}" GROUP BY {first_group}' if first_group else ""
    )
    return render(
        request,
        "sandbox/track.html",
        actor,
        track=track,
        application=application,
        approved=approved,
        may_apply=application is None and actor.has_role(Role.ENTERPRISE),
        reviewing=reviewing,
        schemas=_schemas(session, track.datasets),
        releases=releases,
        shown=shown,
        cells=result_cells(shown) if shown is not None else [],
        exports=exports,
        left=left,
        example=example,
        example_epsilon=query_epsilon or EXAMPLE_EPSILON,
        query_error=query_error,
        labels=APPLICATION_LABELS,
        notice=request.query_params.get("done", ""),
        status_code=status_code,
    )


@router.post("/tracks/{track_id}/apply", dependencies=[CsrfChecked])
def apply_from_form(
    track_id: int,
    actor: PageActor,
    session: SessionDep,
    credit_code: Annotated[str, Form(max_length=40)],
    project: Annotated[str, Form(max_length=4000)],
    organisation: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    service.apply_to_track(session, actor, track_id, credit_code, project, organisation=organisation)
    return RedirectResponse(f"/tracks/{track_id}?done=applied", status_code=303)


@router.post("/tracks/applications/{application_id}/decide", dependencies=[CsrfChecked])
def decide_from_form(
    application_id: int,
    actor: PageActor,
    session: SessionDep,
    decision: Annotated[str, Form(max_length=16)],
    note: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    if decision not in ("approve", "refuse"):
        raise InvalidInput("track.bad_decision", N_("Choose approve or refuse"))
    application = service.decide_application(session, actor, application_id, approve=decision == "approve", note=note)
    return RedirectResponse(f"/tracks/{application.track_id}?done={application.state}", status_code=303)


@router.post("/tracks/{track_id}/query", dependencies=[CsrfChecked])
def query_from_form(
    track_id: int,
    request: Request,
    actor: PageActor,
    database: DatabaseDep,
    settings: SettingsDep,
    translate: TranslateDep,
    sql: Annotated[str, Form(max_length=20_000)],
    epsilon: Annotated[float, Form(gt=0, le=service.MAX_EPSILON)],
) -> Response:
    try:
        released = service.run_private_query(database, actor, settings.data_dir, track_id, sql, epsilon)
    except (InvalidInput, Conflict) as refused:
        with database.read_session() as session:
            return _track_page(
                request,
                actor,
                session,
                track_id,
                status_code=refused.http_status,
                query_error=refused.render(translate),
                query_sql=sql,
                query_epsilon=epsilon,
            )
    return RedirectResponse(f"/tracks/{track_id}?release={released.release_id}#result", status_code=303)


@router.post("/tracks/{track_id}/export", dependencies=[CsrfChecked])
def export_from_form(track_id: int, actor: PageActor, database: DatabaseDep, settings: SettingsDep) -> Response:
    service.export_deidentified(database, actor, settings.data_dir, track_id, settings.secret())
    return RedirectResponse(f"/tracks/{track_id}?done=exported#exports", status_code=303)


@router.post("/tracks/{track_id}/products", dependencies=[CsrfChecked])
def publish_from_form(
    track_id: int,
    actor: PageActor,
    database: DatabaseDep,
    settings: SettingsDep,
    source: Annotated[str, Form(max_length=16)],
    source_id: Annotated[int, Form(ge=1, le=2**31 - 1)],
    name: Annotated[str, Form(max_length=100)],
    title: Annotated[str, Form(max_length=200)],
) -> Response:
    data = service.ProductInput(source, source_id, name, title)
    product = service.publish_product(database, actor, settings.data_dir, data)
    with database.read_session() as session:
        dataset = session.get(Dataset, product.dataset_id)
        target = dataset.name if dataset is not None else ""
    return RedirectResponse(f"/datasets/{target}", status_code=303)


def result_cells(release: Release) -> list[list[dict[str, Any]]]:
    """Each released row as cells: value, and for noisy figures the 95 % interval."""
    result = release.result
    rows: list[list[dict[str, Any]]] = []
    for row, bands in zip(result.get("rows", []), result.get("intervals", []), strict=False):
        rows.append([{"value": value, "band": band} for value, band in zip(row, bands, strict=False)])
    return rows
