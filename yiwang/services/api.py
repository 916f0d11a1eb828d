"""JSON API of 一网通办: service items and guides, halls, processes (BPMN), applications, tasks, ratings, licences."""

from __future__ import annotations

import base64
import binascii
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from yiwang.core.errors import FieldErrors
from yiwang.core.i18n import N_
from yiwang.core.identity import Actor
from yiwang.core.models import Department
from yiwang.core.workdays import WorkCalendar, load_calendar
from yiwang.services import applications, autofill, halls, handling, items, licences, ratings
from yiwang.services.models import (
    Application,
    ApplicationMaterial,
    ApplicationState,
    ApplicationTask,
    Rating,
    Rectification,
    ServiceItem,
    TaskState,
)
from yiwang.web.deps import (
    AnalyticsDep,
    ApiActor,
    DatabaseDep,
    ReadSessionDep,
    SessionDep,
    SettingsDep,
)
from yiwang.web.openapi_links import (
    application_detail_links,
    application_links,
    claimed_task_links,
    from_body,
    from_path,
    linked,
    service_guide_links,
    service_links,
    task_links,
)
from yiwang.web.uploads import UPLOADS_DIR

router = APIRouter(tags=["services"])

# --- service items -------------------------------------------------------------------------------------------------


class ServiceSummary(BaseModel):
    code: str
    item_code: str = Field(description="事项编码")
    name: str
    name_en: str
    department: str = Field(description="实施主体 The implementing department.")
    category: str
    audience: list[str]
    life_events: list[str]
    online_depth: str = Field(description="full_online 全程网办, partly_online or in_person.")
    promised_days: int = Field(description="承诺时限 in working days.")
    summary: str = Field(description="白话版 one-line plain summary.")

    @classmethod
    def of(cls, item: ServiceItem) -> ServiceSummary:
        return cls(
            code=item.code,
            item_code=item.item_code,
            name=item.name,
            name_en=item.name_en,
            department=item.department.name,
            category=item.category,
            audience=item.audience,
            life_events=item.life_events,
            online_depth=item.online_depth,
            promised_days=item.promised_days,
            summary=str((item.guide or {}).get("summary", "")),
        )


def example_application(item: ServiceItem) -> dict[str, Any]:
    """A valid submission: the item's example form, and a tiny file of an accepted type for each required material
    (a licence-issued one too: the example cannot know whether its sender holds the licence)."""
    materials = {}
    for material in item.materials:
        if material.get("required", True):
            kind = material.get("formats", ["pdf"])[0]
            materials[material["code"]] = {
                "filename": f"{material['code']}.{kind}",
                "content_base64": base64.b64encode(applications.EXAMPLE_FILES[kind]).decode(),
            }
    return {"form": item.example_form, "materials": materials}


class ServicePublic(ServiceSummary):
    legal_basis: str = Field(description="设定依据")
    conditions: str = Field(description="受理条件")
    process_text: str = Field(description="办理流程")
    legal_days: int = Field(description="法定时限 in working days.")
    fee: str
    location: str = Field(description="办理地点")
    consultation: str = Field(description="咨询方式")
    materials: list[dict[str, Any]] = Field(description="申请材料 with basis, original/copy, copies, source.")
    guide: dict[str, Any] = Field(description="白话版 plain guide: summary, steps, bring, tips.")
    guide_en: dict[str, Any]
    form_schema: dict[str, Any] = Field(description="The online form as JSON Schema.")
    example_application: dict[str, Any] = Field(description="A valid body for POST …/applications.")
    autofill: list[dict[str, Any]] = Field(description="Fields filled from shared data with consent (免证办).")
    clock_paused_steps: list[str]
    issues_licence: dict[str, Any] | None
    process_url: str

    @classmethod
    def of(cls, item: ServiceItem) -> ServicePublic:
        return cls(
            **ServiceSummary.of(item).model_dump(),
            legal_basis=item.legal_basis,
            conditions=item.conditions,
            process_text=item.process_text,
            legal_days=item.legal_days,
            fee=item.fee,
            location=item.location,
            consultation=item.consultation,
            materials=item.materials,
            guide=item.guide,
            guide_en=item.guide_en,
            form_schema=item.form_schema,
            example_application=example_application(item),
            autofill=item.autofill,
            clock_paused_steps=item.clock_paused_steps,
            issues_licence=item.issues_licence,
            process_url=f"/api/v1/services/{item.code}/process.bpmn",
        )


class ServicePage(BaseModel):
    total: int
    page: int
    page_size: int
    results: list[ServiceSummary]
    life_events: dict[str, int] = Field(description="Counts per life event over all matches (facets).")


@router.get(
    "/api/v1/services",
    response_model=ServicePage,
    summary="办事指南检索 Find services",
    responses=linked(200, **service_links(from_body("/results/0/code"))),
)
def search_services(
    session: ReadSessionDep,
    q: Annotated[str, Query(max_length=200, description="Chinese full text: 开办企业, 出生, 社保 …")] = "",
    life_event: Annotated[str, Query(description="One of /api/v1/life-events")] = "",
    audience: Annotated[str, Query(description="citizen, enterprise or investor")] = "",
    department: Annotated[str, Query(max_length=100)] = "",
    online_only: bool = False,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=items.MAX_PAGE_SIZE)] = items.PAGE_SIZE,
) -> ServicePage:
    """Service items by words, life event, audience and department; best matches first (public)."""
    found = items.search_items(
        session,
        text=q,
        life_event=life_event,
        audience=audience,
        department=department,
        online_only=online_only,
        page=page,
        page_size=page_size,
    )
    return ServicePage(
        total=found.total,
        page=found.page,
        page_size=found.page_size,
        results=[ServiceSummary.of(i) for i in found.items],
        life_events=found.life_events,
    )


class LifeEvent(BaseModel):
    code: str
    name: str
    name_en: str
    count: int


@router.get("/api/v1/life-events", response_model=list[LifeEvent], summary="主题服务 Life events")
def list_life_events(session: ReadSessionDep) -> list[LifeEvent]:
    """Life events (开办企业, 新生儿出生 …) with how many services each has (public)."""
    counts = items.life_event_counts(session)
    return [LifeEvent(code=c, name=zh, name_en=en, count=counts[c]) for c, (zh, en) in items.LIFE_EVENTS.items()]


@router.get(
    "/api/v1/services/{code}",
    response_model=ServicePublic,
    summary="办事指南 A service item",
    responses=linked(200, **service_guide_links()),
)
def read_service(code: str, session: ReadSessionDep) -> ServicePublic:
    """The item with its formal elements, plain guide, form schema and an example application (public)."""
    return ServicePublic.of(items.get_item(session, code))


@router.post(
    "/api/v1/services",
    response_model=ServicePublic,
    status_code=201,
    summary="新增事项 Create a service",
    responses=linked(201, **service_links(from_body("/code"))),
)
def create_service(body: items.ServiceItemInput, actor: ApiActor, session: SessionDep) -> ServicePublic:
    """A new service item of a department (its staff or the admin); give it a process with PUT …/process.bpmn."""
    return ServicePublic.of(items.create_item(session, actor, body))


@router.put("/api/v1/services/{code}", response_model=ServicePublic, summary="编辑事项 Edit a service")
def update_service(code: str, body: items.ServiceItemInput, actor: ApiActor, session: SessionDep) -> ServicePublic:
    """Replace an item's elements, guide and form (its department's staff or the admin)."""
    return ServicePublic.of(items.update_item(session, actor, code, body))


BPMN_MEDIA_TYPE = "application/xml"


@router.get(
    "/api/v1/services/{code}/process.bpmn",
    response_class=Response,
    responses={200: {"content": {BPMN_MEDIA_TYPE: {}}, "description": "BPMN 2.0 XML"}},
    summary="导出流程 Export the BPMN process",
)
def export_process(code: str, session: ReadSessionDep) -> Response:
    """The item's current process as BPMN 2.0 XML, to open in bpmn.io or Camunda Modeler (public)."""
    xml = items.export_process(session, code)
    return Response(
        xml,
        media_type=BPMN_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{code}.bpmn"'},
    )


class ProcessOut(BaseModel):
    version: int
    process_id: str
    steps: dict[str, str] = Field(description="Step id → department.")


@router.put(
    "/api/v1/services/{code}/process.bpmn",
    response_model=ProcessOut,
    summary="导入流程 Import a BPMN process",
    responses=linked(200, **service_links(from_path("code"))),
)
def import_process(
    code: str,
    xml: Annotated[bytes, Body(media_type=BPMN_MEDIA_TYPE)],
    actor: ApiActor,
    session: SessionDep,
) -> ProcessOut:
    """A new version of the item's process from a BPMN 2.0 file (admin only). Each user task sits in a lane named
    after its department; conditions are expressions over form fields; unsupported elements are refused (422)."""
    process = items.import_process(session, actor, code, xml)
    names = {d.id: d.name for d in session.scalars(select(Department))}
    return ProcessOut(
        version=process.version,
        process_id=process.process_id,
        steps={step: names[d] for step, d in process.step_departments.items()},
    )


# --- halls ---------------------------------------------------------------------------------------------------------


class HallPublic(BaseModel):
    code: str
    name: str
    name_en: str
    division_code: str
    address: str
    lat: float
    lon: float
    opening_hours: str
    opening_hours_en: str
    phone: str
    distance_km: float | None = Field(description="Great-circle distance from the point asked about.")


@router.get("/api/v1/halls", response_model=list[HallPublic], summary="附近大厅 Service halls near me")
def find_halls(
    session: ReadSessionDep,
    service: Annotated[str, Query(description="Only halls handling this service item.")] = "",
    lat: Annotated[float | None, Query(ge=-90, le=90)] = None,
    lon: Annotated[float | None, Query(ge=-180, le=180)] = None,
    division: Annotated[str, Query(max_length=12, description="GB/T 2260 division code")] = "",
    limit: Annotated[int, Query(ge=1, le=halls.MAX_RESULTS)] = 10,
) -> list[HallPublic]:
    """Halls (handling a service), nearest first from lat/lon, or those in a division (public)."""
    found = halls.find_halls(session, service=service, lat=lat, lon=lon, division=division, limit=limit)
    return [
        HallPublic(
            code=n.hall.code,
            name=n.hall.name,
            name_en=n.hall.name_en,
            division_code=n.hall.division_code,
            address=n.hall.address,
            lat=n.hall.latitude,
            lon=n.hall.longitude,
            opening_hours=n.hall.opening_hours,
            opening_hours_en=n.hall.opening_hours_en,
            phone=n.hall.phone,
            distance_km=n.distance_km,
        )
        for n in found
    ]


# --- applications --------------------------------------------------------------------------------------------------


class MaterialIn(BaseModel):
    filename: str = Field(max_length=255, description="The file's name; its extension is its type (pdf, jpg …).")
    content_base64: str = Field(description="The file's bytes, base64-encoded.")


class ApplicationIn(BaseModel):
    form: dict[str, Any] = Field(description="Field values of the item's form_schema.")
    materials: dict[str, MaterialIn] = Field(default_factory=dict, description="Uploads by material code.")
    consent_autofill: bool = Field(
        False, description="同意授权: let the department fill fields from shared data instead of asking (免证办)."
    )


class ApplicationCreated(BaseModel):
    id: int
    receipt: str = Field(description="受理回执号")
    state: ApplicationState


@contextmanager
def _decoded(
    materials: Mapping[str, MaterialIn], data_dir: Path, max_bytes: int
) -> Iterator[dict[str, applications.UploadedMaterial]]:
    """Base64 materials as files in the private upload area, removed after the request."""
    problems: dict[str, tuple[str, Mapping[str, Any]]] = {}
    directory = data_dir / UPLOADS_DIR
    directory.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        decoded: dict[str, applications.UploadedMaterial] = {}
        for code, material in materials.items():
            try:
                content = base64.b64decode(material.content_base64, validate=True)
            except (binascii.Error, ValueError):
                problems[f"materials.{code[:64]}"] = (N_("The file is not valid base64"), {})
                continue
            if len(content) > max_bytes:
                problems[f"materials.{code[:64]}"] = (
                    N_("The file is larger than the limit of {limit} MiB"),
                    {"limit": max_bytes // (1024 * 1024)},
                )
                continue
            handle = stack.enter_context(tempfile.NamedTemporaryFile(dir=directory, suffix=".upload"))
            handle.write(content)
            handle.flush()
            decoded[code] = applications.UploadedMaterial(Path(material.filename).name, Path(handle.name))
        if problems:
            raise FieldErrors("form.invalid", N_("{count} fields of the form need correcting"), problems)
        yield decoded


@router.post(
    "/api/v1/services/{code}/applications",
    response_model=ApplicationCreated,
    status_code=201,
    summary="在线申报 Apply online",
    responses=linked(201, **application_links(from_body("/id"))),
)
def submit_application(
    code: str,
    body: ApplicationIn,
    actor: ApiActor,
    database: DatabaseDep,
    analytics: AnalyticsDep,
    settings: SettingsDep,
) -> ApplicationCreated:
    """Submit the form (and materials) once (citizens, enterprises, investors). Errors name each bad field in
    `error.fields`; nothing is stored unless all is well. With `consent_autofill`, fields the department can read
    from shared data are filled for you and recorded on the application."""
    limit = settings.max_upload_mb * 1024 * 1024
    with _decoded(body.materials, settings.data_dir, limit) as uploads:
        submitted = autofill.submit_with_consent(
            database,
            analytics,
            actor,
            code,
            dict(body.form),
            uploads,
            data_dir=settings.data_dir,
            secret=settings.secret(),
            consent=body.consent_autofill,
        )
    return ApplicationCreated(id=submitted.id, receipt=submitted.receipt, state=ApplicationState(submitted.state))


class TaskPublic(BaseModel):
    id: int
    step: str
    name: str
    department: str
    state: TaskState
    claimed_by: str
    decision: str
    comment: str
    opened_at: datetime
    completed_at: datetime | None
    clock_paused: bool = Field(description="特别程序: not counted toward the time limit.")

    @classmethod
    def of(cls, task: ApplicationTask) -> TaskPublic:
        return cls(
            id=task.id,
            step=task.step,
            name=task.step_name,
            department=task.department.name,
            state=TaskState(task.state),
            claimed_by=task.claimed_by,
            decision=task.decision,
            comment=task.comment,
            opened_at=task.opened_at,
            completed_at=task.completed_at,
            clock_paused=task.clock_paused,
        )


class MaterialPublic(BaseModel):
    code: str
    name: str
    source: str = Field(description="upload, or licence (verified instead of asked for, 免提交).")
    filename: str
    size: int
    licence_number: str


class LicencePublic(BaseModel):
    number: str
    licence_type: str
    name: str
    holder_name: str
    holder_code: str
    issuer: str
    valid_from: date
    valid_to: date | None


class RatingPublic(BaseModel):
    level: int
    comment: str
    rated_at: datetime
    excluded: bool
    rectification: RectificationPublic | None


class RectificationPublic(BaseModel):
    id: int
    application_id: int
    department: str
    state: str
    due_at: datetime
    level: int
    comment: str
    explanation: str
    explained_at: datetime | None
    appeal_reason: str
    review_note: str

    @classmethod
    def of(cls, rectification: Rectification) -> RectificationPublic:
        return cls(
            id=rectification.id,
            application_id=rectification.rating.application_id,
            department=rectification.department.name,
            state=rectification.state,
            due_at=rectification.due_at,
            level=rectification.rating.level,
            comment=rectification.rating.comment,
            explanation=rectification.explanation,
            explained_at=rectification.explained_at,
            appeal_reason=rectification.appeal_reason,
            review_note=rectification.review_note,
        )


RatingPublic.model_rebuild()


class ApplicationPublic(BaseModel):
    id: int
    receipt: str
    service: str
    service_name: str
    department: str
    state: ApplicationState
    deadline: handling.Deadline = Field(
        description="on_time, nearly_due, overdue (against the promised limit) or finished."
    )
    applicant_name: str
    submitted_at: datetime
    promised_due_at: datetime
    legal_due_at: datetime
    finished_at: datetime | None
    result_note: str
    form: dict[str, Any]
    autofilled: list[dict[str, Any]] = Field(description="Which shared data filled which field (免证办).")
    tasks: list[TaskPublic]
    materials: list[MaterialPublic]
    licence: LicencePublic | None
    rating: RatingPublic | None
    instance_bytes: int = Field(description="Size of the stored workflow state.")


def licence_public(licence: Any) -> LicencePublic:
    return LicencePublic(
        number=licence.number,
        licence_type=licence.licence_type,
        name=licence.name,
        holder_name=licence.holder_name,
        holder_code=licence.holder_code,
        issuer=licence.issuer.name,
        valid_from=licence.valid_from,
        valid_to=licence.valid_to,
    )


def application_public(
    session: Session, application: Application, actor: Actor, calendar: WorkCalendar, warning_days: int
) -> ApplicationPublic:
    licence = licences.licence_of(session, application.id)
    rating = ratings.rating_of(session, application.id)
    rectification = ratings.rectification_of(session, rating.id) if rating is not None else None
    return ApplicationPublic(
        id=application.id,
        receipt=application.receipt,
        service=application.service_item.code,
        service_name=application.service_item.name,
        department=application.service_item.department.name,
        state=ApplicationState(application.state),
        deadline=handling.deadline(application, calendar, warning_days),
        applicant_name=application.applicant_name,
        submitted_at=application.submitted_at,
        promised_due_at=application.promised_due_at,
        legal_due_at=application.legal_due_at,
        finished_at=application.finished_at,
        result_note=application.result_note,
        form=applications.shown_form(application, actor),
        autofilled=application.autofilled,
        tasks=[TaskPublic.of(t) for t in application.tasks],
        materials=[
            MaterialPublic(
                code=m.code,
                name=m.name,
                source=m.source,
                filename=m.filename,
                size=m.size,
                licence_number=m.licence_number,
            )
            for m in application.materials
        ],
        licence=licence_public(licence) if licence is not None else None,
        rating=_rating_public(rating, rectification) if rating is not None else None,
        instance_bytes=application.instance_bytes,
    )


def _rating_public(rating: Rating, rectification: Rectification | None) -> RatingPublic:
    return RatingPublic(
        level=rating.level,
        comment=rating.comment,
        rated_at=rating.rated_at,
        excluded=rating.excluded,
        rectification=RectificationPublic.of(rectification) if rectification is not None else None,
    )


@router.get(
    "/api/v1/applications",
    response_model=list[ApplicationPublic],
    summary="我的办件 My applications",
    responses=linked(200, **application_links(from_body("/0/id"))),
)
def list_applications(
    actor: ApiActor,
    session: ReadSessionDep,
    settings: SettingsDep,
    state: Annotated[str, Query(description="in_progress, completed or rejected")] = "",
) -> list[ApplicationPublic]:
    """The caller's own applications, newest first."""
    calendar = load_calendar(session)  # once for the list, not per application
    return [
        application_public(session, a, actor, calendar, settings.services_warning_days)
        for a in applications.list_applications(session, actor, state=state)
    ]


@router.get(
    "/api/v1/applications/{application_id}",
    response_model=ApplicationPublic,
    summary="办件进度 Progress",
    responses=linked(200, **application_detail_links()),
)
def read_application(
    application_id: int, actor: ApiActor, session: ReadSessionDep, database: DatabaseDep, settings: SettingsDep
) -> ApplicationPublic:
    """An application's state, tasks per department, materials, licence and rating (applicant, handling
    departments, admin, auditor)."""
    application = applications.get_application(session, actor, application_id)
    shown = application_public(session, application, actor, load_calendar(session), settings.services_warning_days)
    applications.record_reading(database, actor, application)
    return shown


@router.get(
    "/api/v1/applications/{application_id}/materials/{code}",
    response_class=Response,
    summary="查看材料 Read a material",
)
def read_material(
    application_id: int, code: str, actor: ApiActor, session: SessionDep, settings: SettingsDep
) -> Response:
    """An uploaded material's file (applicant and handling staff); every reading is audited."""
    return material_response(*applications.material_file(session, actor, settings.data_dir, application_id, code))


def material_response(material: ApplicationMaterial, path: Path) -> Response:
    """A stored material as a download named by its code, never rendered in the browser."""
    return Response(
        path.read_bytes(),
        media_type=material.content_type,
        headers={
            "Content-Disposition": f'attachment; filename="{material.code}{Path(material.stored_as).suffix}"',
            "X-Content-Type-Options": "nosniff",
        },
    )


# --- tasks ---------------------------------------------------------------------------------------------------------


class InboxTask(TaskPublic):
    application_id: int
    receipt: str
    service: str
    service_name: str
    applicant_name: str
    submitted_at: datetime
    promised_due_at: datetime
    deadline: handling.Deadline


@router.get(
    "/api/v1/tasks",
    response_model=list[InboxTask],
    summary="待办 Department inbox",
    responses=linked(200, **task_links(from_body("/0/id"))),
)
def list_tasks(
    actor: ApiActor,
    session: ReadSessionDep,
    settings: SettingsDep,
    state: Annotated[str, Query(description="open (default), mine, done or all")] = "open",
    service: Annotated[str, Query(max_length=64)] = "",
    flag: Annotated[str, Query(description="overdue or nearly_due")] = "",
) -> list[InboxTask]:
    """Tasks of the caller's department (every department's for the admin), most urgent first."""
    entries = handling.inbox(session, actor, settings.services_warning_days, state=state, service=service, flag=flag)
    return [
        InboxTask(
            **TaskPublic.of(e.task).model_dump(),
            application_id=e.application.id,
            receipt=e.application.receipt,
            service=e.application.service_item.code,
            service_name=e.application.service_item.name,
            applicant_name=e.application.applicant_name,
            submitted_at=e.application.submitted_at,
            promised_due_at=e.application.promised_due_at,
            deadline=e.deadline,
        )
        for e in entries
    ]


class TaskDone(BaseModel):
    application_id: int
    state: ApplicationState


@router.post(
    "/api/v1/tasks/{task_id}/claim",
    response_model=TaskDone,
    summary="签收 Claim a task",
    responses=linked(200, **claimed_task_links()),
)
def claim_task(task_id: int, actor: ApiActor, session: SessionDep) -> TaskDone:
    """Take the task so colleagues see it is being handled (staff of the task's department)."""
    task = handling.claim_task(session, actor, task_id)
    return TaskDone(application_id=task.application_id, state=ApplicationState.IN_PROGRESS)


class CompleteIn(BaseModel):
    decision: str = Field(description="approve or reject (a rejection ends the application and needs a comment).")
    comment: str = Field("", max_length=handling.MAX_COMMENT)


@router.post(
    "/api/v1/tasks/{task_id}/complete",
    response_model=TaskDone,
    summary="办理 Complete a task",
    responses=linked(200, **application_links(from_body("/application_id"))),
)
def complete_task(task_id: int, body: CompleteIn, actor: ApiActor, session: SessionDep) -> TaskDone:
    """Approve or reject the department's part (staff of the task's department); the workflow moves on."""
    application = handling.complete_task(session, actor, task_id, body.decision, body.comment)
    return TaskDone(application_id=application.id, state=ApplicationState(application.state))
