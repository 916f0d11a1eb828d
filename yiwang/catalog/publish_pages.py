"""Publishing on the web: a new dataset, an upload as a new version, and the publisher's field review."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from yiwang.catalog import service
from yiwang.catalog.licences import DEFAULT_LICENCE, LICENCES
from yiwang.catalog.models import OPEN_LABELS, SECURITY_LABELS, SHARE_LABELS, UPDATE_FREQUENCIES
from yiwang.catalog.rules import CatalogAction
from yiwang.catalog.themes import THEMES
from yiwang.catalog.uploads import ingest_upload
from yiwang.core.authz import Resource, authorize, require_signed_in
from yiwang.core.identity import Actor, Role
from yiwang.core.masking import PersonalKind
from yiwang.core.models import Department
from yiwang.web.deps import CsrfChecked, DatabaseDep, PageActor, ReadSessionDep, SessionDep, SettingsDep
from yiwang.web.templating import render

router = APIRouter(include_in_schema=False)
PERSONAL_KINDS = [kind.value for kind in PersonalKind]


def _departments_for(session: ReadSessionDep, actor: Actor) -> list[Department]:
    """Where the actor may publish: any department for the administrator, their own for department staff."""
    query = select(Department).order_by(Department.name)
    if not actor.has_role(Role.ADMIN):
        query = query.where(Department.id == actor.department_id)
    return list(session.scalars(query))


@router.get("/datasets/new", response_class=HTMLResponse)
def show_new_dataset(request: Request, actor: PageActor, session: ReadSessionDep) -> Response:
    require_signed_in(actor)
    departments = _departments_for(session, actor)
    authorize(
        actor,
        CatalogAction.CREATE,
        Resource("dataset", "", owner_department_id=departments[0].id if departments else None),
    )
    return render(
        request,
        "catalog/new.html",
        actor,
        departments=departments,
        themes=THEMES,
        licences=LICENCES,
        default_licence=DEFAULT_LICENCE,
        frequencies=UPDATE_FREQUENCIES,
        share_labels=SHARE_LABELS,
        open_labels=OPEN_LABELS,
        security_labels=SECURITY_LABELS,
    )


@router.post("/datasets/new", dependencies=[CsrfChecked])
def create_dataset_from_form(
    actor: PageActor,
    session: SessionDep,
    name: Annotated[str, Form(max_length=100)],
    title: Annotated[str, Form(max_length=200)],
    department: Annotated[str, Form(max_length=100)],
    description: Annotated[str, Form(max_length=10_000)] = "",
    tags: Annotated[str, Form(max_length=1000)] = "",
    themes: Annotated[list[str] | None, Form()] = None,
    update_frequency: Annotated[str, Form(max_length=32)] = "",
    licence: Annotated[str, Form(max_length=100)] = "",
    contact: Annotated[str, Form(max_length=200)] = "",
    spatial_coverage: Annotated[str, Form(max_length=200)] = "",
    temporal_coverage: Annotated[str, Form(max_length=200)] = "",
    share_type: Annotated[str, Form(max_length=16)] = "conditional",
    open_type: Annotated[str, Form(max_length=16)] = "none",
    security_level: Annotated[str, Form(max_length=16)] = "general",
) -> Response:
    dataset = service.create_dataset(
        session,
        actor,
        service.DatasetInput(
            name=name.strip(),
            title=title,
            department=department,
            description=description,
            tags=[t for t in tags.replace("，", ",").split(",")],
            themes=themes or [],
            update_frequency=update_frequency,
            licence=licence,
            contact=contact,
            share_type=share_type,
            open_type=open_type,
            security_level=security_level,
            spatial_coverage=spatial_coverage,
            temporal_coverage=temporal_coverage,
        ),
    )
    return RedirectResponse(f"/datasets/{dataset.name}", status_code=303)


@router.post("/datasets/{name}/versions", dependencies=[CsrfChecked])
def upload_version_from_form(
    name: str,
    request: Request,
    actor: PageActor,
    database: DatabaseDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File()],
    title: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    require_signed_in(actor)
    version = ingest_upload(request, actor, database, settings, name, file, title=title)
    return RedirectResponse(f"/datasets/{name}?uploaded={version.number}#fields-title", status_code=303)


@router.post("/datasets/{name}/fields", dependencies=[CsrfChecked])
async def confirm_fields_from_form(name: str, request: Request, actor: PageActor, database: DatabaseDep) -> Response:
    """Fields arrive as ``kind:<field>``, ``description:<field>`` and ``unit:<field>``."""
    require_signed_in(actor)
    form = await request.form()
    kinds: dict[str, str] = {}
    descriptions: dict[str, service.FieldDescription] = {}
    for key, value in form.multi_items():
        if not isinstance(value, str):
            continue
        part, _, field = key.partition(":")
        if part == "kind" and field:
            kinds[field] = value
        elif part in ("description", "unit") and field:
            current = descriptions.get(field, service.FieldDescription())
            descriptions[field] = (
                service.FieldDescription(value, current.unit)
                if part == "description"
                else service.FieldDescription(current.description, value)
            )

    def confirm() -> None:
        with database.session() as session:
            service.confirm_field_kinds(session, actor, name, kinds, descriptions)

    await run_in_threadpool(confirm)
    return RedirectResponse(f"/datasets/{name}?confirmed=1#fields-title", status_code=303)
