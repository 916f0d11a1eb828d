"""Pages of 一网通办: finding a service, its plain guide and halls near me, applying online, my applications and
licences, the staff workbench, rectifications of bad ratings, and the public 好差评 statistics."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.responses import HTMLResponse, RedirectResponse, Response

from yiwang.core import audit, divisions
from yiwang.core.analytics import Analytics
from yiwang.core.authz import Action, authorize, can, require_signed_in
from yiwang.core.db import Database
from yiwang.core.errors import Conflict, FieldErrors, FieldMessage, InvalidInput, NotFound, TooLarge
from yiwang.core.i18n import N_, Translate, translator
from yiwang.core.identity import Actor, Role
from yiwang.core.models import is_row_id
from yiwang.core.settings import Settings
from yiwang.core.workdays import load_calendar
from yiwang.services import applications, autofill, bpmn, forms, halls, handling, items, licences, ratings
from yiwang.services.api import material_response
from yiwang.services.models import (
    APPLICATION_STATE_LABELS,
    RECTIFICATION_STATE_LABELS,
    TASK_STATE_LABELS,
    Application,
    ApplicationState,
    ApplicationTask,
    ServiceItem,
)
from yiwang.services.rules import ServicesAction, department_resource
from yiwang.web.charts import PALETTE
from yiwang.web.deps import (
    AnalyticsDep,
    CsrfChecked,
    DatabaseDep,
    LocaleDep,
    PageActor,
    ReadSessionDep,
    SessionDep,
    SettingsDep,
    TranslateDep,
)
from yiwang.web.templating import render
from yiwang.web.uploads import refuse_if_declared_too_large, saved_upload

router = APIRouter(include_in_schema=False)
AUDIENCE_LABELS = {"citizen": N_("Citizens"), "enterprise": N_("Enterprises"), "investor": N_("Investors")}
DECISION_LABELS = {"approve": N_("Approved"), "reject": N_("Not approved")}
INBOX_STATES = {"open": N_("Open"), "mine": N_("Claimed by me"), "done": N_("Done"), "all": N_("All")}
FLAG_LABELS = {"overdue": N_("Overdue"), "nearly_due": N_("Nearly due")}
FIELD_PREFIX = "field:"
MATERIAL_PREFIX = "material:"
AUDIT_ENTRIES = 50


def _labels() -> dict[str, Any]:
    return {
        "audiences": AUDIENCE_LABELS,
        "depths": items.ONLINE_DEPTHS,
        "states": {str(k): v for k, v in APPLICATION_STATE_LABELS.items()},
        "tasks": {str(k): v for k, v in TASK_STATE_LABELS.items()},
        "deadlines": {str(k): v for k, v in handling.DEADLINE_LABELS.items()},
        "decisions": DECISION_LABELS,
        "levels": ratings.LEVELS,
        "rectifications": {str(k): v for k, v in RECTIFICATION_STATE_LABELS.items()},
    }


def _item_name(item: ServiceItem, locale: str) -> str:
    return item.name_en if locale.startswith("en") and item.name_en else item.name


def _may_apply(actor: Actor, item: ServiceItem) -> bool:
    """Whether to offer the online form (the service layer decides again on submission)."""
    if actor.has_role(Role.CITIZEN) and "citizen" in item.audience:
        return True
    return actor.has_role(Role.ENTERPRISE) and bool({"enterprise", "investor"} & set(item.audience))


# --- finding a service ---------------------------------------------------------------------------------------------


def _item_departments(session: ReadSessionDep) -> list[str]:
    """The departments that implement at least one service item (for the filter)."""
    names: set[str] = set()
    page = 1
    while True:
        found = items.search_items(session, page=page, page_size=items.MAX_PAGE_SIZE)
        names.update(item.department.name for item in found.items)
        if page >= found.pages:
            return sorted(names)
        page += 1


@router.get("/services", response_class=HTMLResponse)
def show_services(
    request: Request,
    actor: PageActor,
    session: ReadSessionDep,
    locale: LocaleDep,
    q: Annotated[str, Query(max_length=200)] = "",
    life_event: Annotated[str, Query(max_length=40)] = "",
    audience: Annotated[str, Query(max_length=20)] = "",
    department: Annotated[str, Query(max_length=100)] = "",
    online_only: bool = False,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    """办事服务: search, life-event tiles and filters."""
    found = items.search_items(
        session,
        text=q,
        life_event=life_event,
        audience=audience,
        department=department,
        online_only=online_only,
        page=page,
    )
    chosen = {"q": q, "life_event": life_event, "audience": audience, "department": department}
    base = {k: v for k, v in chosen.items() if v} | ({"online_only": "true"} if online_only else {})

    def url(**changes: str | int) -> str:
        params = {k: v for k, v in {**base, **changes}.items() if v not in ("", 1)}
        return "/services?" + urlencode(params) if params else "/services"

    counts = items.life_event_counts(session)
    events = [(code, items.life_event_label(code, locale), counts[code]) for code in items.LIFE_EVENTS]
    return render(
        request,
        "services/list.html",
        actor,
        found=found,
        events=events,
        chosen=chosen,
        online_only=online_only,
        departments=_item_departments(session),
        url=url,
        name_of=lambda item: _item_name(item, locale),
        event_label=lambda code: items.life_event_label(code, locale),
        labels=_labels(),
    )


# --- public statistics (before /services/{code}: "ratings" is not an item) --------------------------------------------


def _ratings_chart(stats: list[ratings.RatingStats], translate: Translate) -> dict[str, Any]:
    """Per department: average level (1–5, lower axis) and share satisfied (%, upper axis)."""
    return {
        "color": PALETTE,
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "grid": {"left": 200, "right": 24, "top": 56, "bottom": 32},
        "xAxis": [
            {"type": "value", "name": translate(N_("Average (1–5)")), "min": 0, "max": 5, "position": "bottom"},
            {"type": "value", "name": translate(N_("Satisfied (%)")), "min": 0, "max": 100, "position": "top"},
        ],
        "yAxis": {"type": "category", "data": [s.name for s in stats], "inverse": True},
        "series": [
            {
                "name": translate(N_("Average (1–5)")),
                "type": "bar",
                "xAxisIndex": 0,
                "data": [s.average for s in stats],
            },
            {
                "name": translate(N_("Satisfied (%)")),
                "type": "bar",
                "xAxisIndex": 1,
                "data": [round(s.satisfaction * 100, 1) for s in stats],
            },
        ],
    }


@router.get("/services/ratings", response_class=HTMLResponse)
def show_rating_stats(request: Request, actor: PageActor, session: ReadSessionDep, translate: TranslateDep) -> Response:
    """好差评公示: statistics per service item and per department, as the national system publishes them."""
    by_department = ratings.stats_by_department(session)
    return render(
        request,
        "services/ratings.html",
        actor,
        by_item=ratings.stats_by_item(session),
        by_department=by_department,
        chart=_ratings_chart(by_department, translate),
    )


@router.get("/licences", response_class=HTMLResponse)
def show_licences(request: Request, actor: PageActor, session: ReadSessionDep) -> Response:
    """我的电子证照: the licences the signed-in user holds."""
    require_signed_in(actor)
    return render(request, "services/licences.html", actor, held=licences.my_licences(session, actor))


# --- the guide -----------------------------------------------------------------------------------------------------


def _coordinate(text: str, low: float, high: float) -> float | None:
    text = text.strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise InvalidInput("hall.bad_point", N_("lat is -90 to 90 and lon -180 to 180")) from None
    if not low <= value <= high:
        raise InvalidInput("hall.bad_point", N_("lat is -90 to 90 and lon -180 to 180"))
    return value


def _hall_divisions(session: ReadSessionDep) -> list[tuple[str, str]]:
    """(code, full name) of every division with a hall, and the prefectures above them, for the near-me select."""
    codes: set[str] = set()
    for nearby in halls.find_halls(session, limit=halls.MAX_RESULTS):
        codes.add(nearby.hall.division_code)
        above = divisions.parent(nearby.hall.division_code)
        if above is not None and above.level == "prefecture":
            codes.add(above.code)
    return sorted((code, divisions.full_name(code)) for code in codes if divisions.lookup(code) is not None)


def _process_view(session: ReadSessionDep, item: ServiceItem) -> dict[str, Any] | None:
    """The current process's steps (name, department) and whether departments work in parallel."""
    try:
        process = items.current_process(session, item)
    except Conflict:
        return None
    parsed = bpmn.parse(process.bpmn_xml.encode("utf-8"))
    kinds = {node["type"] for node in parsed.meaning["nodes"].values()}
    return {
        "version": process.version,
        "steps": [(step.name, step.lane) for step in parsed.steps],
        "parallel": "parallelGateway" in kinds,
        "conditional": "exclusiveGateway" in kinds,
    }


@router.get("/services/{code}", response_class=HTMLResponse)
def show_service(
    code: str,
    request: Request,
    actor: PageActor,
    session: ReadSessionDep,
    locale: LocaleDep,
    lat: Annotated[str, Query(max_length=32)] = "",
    lon: Annotated[str, Query(max_length=32)] = "",
    division: Annotated[str, Query(max_length=12)] = "",
) -> Response:
    """办事指南: the plain guide first, then the formal elements, materials, process, ratings and halls near me."""
    item = items.get_item(session, code)
    latitude, longitude = _coordinate(lat, -90, 90), _coordinate(lon, -180, 180)
    near = halls.find_halls(session, service=item.code, lat=latitude, lon=longitude, division=division.strip())
    english = locale.startswith("en") and bool(item.guide_en)
    stats = next((s for s in ratings.stats_by_item(session) if s.key == item.code), None)
    return render(
        request,
        "services/guide.html",
        actor,
        item=item,
        name=_item_name(item, locale),
        guide=item.guide_en if english else item.guide,
        process=_process_view(session, item),
        stats=stats,
        halls=near,
        divisions=_hall_divisions(session),
        division=division,
        located=latitude is not None,
        may_apply=_may_apply(actor, item),
        may_edit=can(actor, ServicesAction.EDIT, department_resource("service_item", item.department_id, item.code)),
        may_edit_process=can(actor, ServicesAction.PROCESS_EDIT),
        event_label=lambda c: items.life_event_label(c, locale),
        labels=_labels(),
    )


# --- applying ------------------------------------------------------------------------------------------------------


def _form_fields(item: ServiceItem, locale: str) -> list[dict[str, Any]]:
    """The item's form schema as the template draws it: one entry per field, in the schema's order."""
    schema = item.form_schema
    required = set(schema.get("required", []))
    fields = []
    for name, spec in schema.get("properties", {}).items():
        kind, fmt = spec.get("type"), spec.get("format", "")
        if kind == "boolean":
            widget = "checkbox"
        elif "enum" in spec:
            widget = "select"
        elif kind in ("integer", "number"):
            widget = "number"
        elif fmt == "date":
            widget = "date"
        elif int(spec.get("maxLength", 0)) > 200:
            widget = "textarea"
        else:
            widget = {"email": "email", "phone": "tel"}.get(fmt, "text")
        fields.append(
            {
                "name": name,
                "title": forms.title(spec, name, locale),
                "widget": widget,
                "spec": spec,
                "required": name in required,
                "step": "1" if kind == "integer" else "any",
            }
        )
    return fields


def _apply_page(
    request: Request,
    actor: Actor,
    item: ServiceItem,
    locale: str,
    *,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    consent: bool = False,
    status_code: int = 200,
) -> Response:
    fields = _form_fields(item, locale)
    titles = {f"{FIELD_PREFIX}{f['name']}": f["title"] for f in fields}
    errors = dict(errors or {})
    summary = []
    for key, message in errors.items():
        if key.startswith("materials."):
            material = key.removeprefix("materials.")
            name = next((m["name"] for m in item.materials if m["code"] == material), material)
            summary.append((f"material-{material}", name, message))
        else:
            summary.append((f"field-{key}", titles.get(f"{FIELD_PREFIX}{key}", key), message))
    return render(
        request,
        "services/apply.html",
        actor,
        status_code=status_code,
        item=item,
        name=_item_name(item, locale),
        fields=fields,
        values=values or {},
        errors=errors,
        summary=summary,
        consent=consent,
        may_apply=_may_apply(actor, item),
        labels=_labels(),
    )


@router.get("/services/{code}/apply", response_class=HTMLResponse)
def show_apply(code: str, request: Request, actor: PageActor, session: ReadSessionDep, locale: LocaleDep) -> Response:
    """在线办理: the item's form and a file input per material."""
    authorize(actor, ServicesAction.APPLY)
    item = items.get_item(session, code)
    values = {name: str(spec["default"]) for name, spec in item.form_schema["properties"].items() if "default" in spec}
    return _apply_page(request, actor, item, locale, values=values)


def _submit(
    actor: Actor,
    database: Database,
    analytics: Analytics,
    settings: Settings,
    code: str,
    texts: Mapping[str, str],
    files: Mapping[str, UploadFile],
    consent: bool,
) -> int:
    """Save the uploads privately, fill from shared data when consented, submit; the new application's id."""
    limit = settings.max_upload_mb * 1024 * 1024
    with database.read_session() as session:
        item = items.get_item(session, code)
        form = forms.from_html(item.form_schema, texts)
        schema, wants_autofill = item.form_schema, bool(item.autofill)
    too_large: dict[str, FieldMessage] = {}
    with ExitStack() as stack:
        uploads: dict[str, applications.UploadedMaterial] = {}
        for material, upload in files.items():
            try:
                path = stack.enter_context(saved_upload(upload, settings.data_dir, limit))
            except TooLarge as error:
                too_large[f"materials.{material[:64]}"] = (error.message, error.params)
                continue
            uploads[material] = applications.UploadedMaterial(Path(upload.filename or "").name, path)
        if too_large:  # the form's own problems are named too, so one round of corrections suffices
            problems = {**forms.field_problems(schema, form)[1], **too_large}
            raise FieldErrors("form.invalid", N_("{count} fields of the form need correcting"), problems)
        return autofill.submit_with_consent(
            database,
            analytics,
            actor,
            code,
            form,
            uploads,
            data_dir=settings.data_dir,
            secret=settings.secret(),
            consent=consent and wants_autofill,
        ).id


@router.post("/services/{code}/apply", dependencies=[CsrfChecked])
async def apply_from_form(
    code: str,
    request: Request,
    actor: PageActor,
    database: DatabaseDep,
    analytics: AnalyticsDep,
    settings: SettingsDep,
    locale: LocaleDep,
) -> Response:
    """Fields arrive as ``field:<name>``, files as ``material:<code>``; a bad field re-renders the form (422)."""
    require_signed_in(actor)
    refuse_if_declared_too_large(request, settings.max_upload_mb * 1024 * 1024)
    posted = await request.form()
    texts: dict[str, str] = {}
    files: dict[str, UploadFile] = {}
    for key, value in posted.multi_items():
        if isinstance(value, str) and key.startswith(FIELD_PREFIX):
            texts[key.removeprefix(FIELD_PREFIX)] = value
        elif isinstance(value, UploadFile) and key.startswith(MATERIAL_PREFIX) and value.filename:
            files[key.removeprefix(MATERIAL_PREFIX)] = value
    consent = posted.get("consent_autofill") == "1"
    try:
        application_id = await run_in_threadpool(
            _submit, actor, database, analytics, settings, code, texts, files, consent
        )
    except FieldErrors as error:
        messages, status = error.render_fields(translator(locale)), error.http_status

        def again() -> Response:
            with database.read_session() as session:
                item = items.get_item(session, code)
                return _apply_page(
                    request, actor, item, locale, values=texts, errors=messages, consent=consent, status_code=status
                )

        return await run_in_threadpool(again)
    return RedirectResponse(f"/applications/{application_id}?submitted=1", status_code=303)


# --- my applications -----------------------------------------------------------------------------------------------


@router.get("/applications", response_class=HTMLResponse)
def show_applications(
    request: Request, actor: PageActor, session: ReadSessionDep, settings: SettingsDep, locale: LocaleDep
) -> Response:
    """我的办件: the signed-in applicant's applications, newest first."""
    require_signed_in(actor)
    calendar = load_calendar(session)
    found = applications.list_applications(session, actor)
    return render(
        request,
        "services/applications.html",
        actor,
        found=[(a, handling.deadline(a, calendar, settings.services_warning_days)) for a in found],
        name_of=lambda item: _item_name(item, locale),
        labels=_labels(),
    )


def _audit_trail(session: Session, actor: Actor, application_id: int) -> list[Any] | None:
    """The application's audit entries for auditors (reading them is itself audited); None for everyone else."""
    if not can(actor, Action.AUDIT_READ):
        return None
    flt = audit.AuditFilter(resource_type="application", resource_id=str(application_id))
    found = audit.search(session, actor, flt, page_size=AUDIT_ENTRIES)
    return [(e.occurred_at, e.actor_name, e.action, e.result) for e in found.entries]


def _application_context(
    session: Session, actor: Actor, application: Application, settings: Settings, locale: str
) -> dict[str, Any]:
    """What the applicant's page and the staff's task page both show of an application."""
    rating = ratings.rating_of(session, application.id)
    finished = application.state != ApplicationState.IN_PROGRESS.value
    material_specs = {m["code"]: m for m in application.service_item.materials}
    return {
        "a": application,
        "name": _item_name(application.service_item, locale),
        "deadline": handling.deadline(application, load_calendar(session), settings.services_warning_days),
        "form": applications.shown_form(application, actor),
        "titles": {f["name"]: f["title"] for f in _form_fields(application.service_item, locale)},
        "material_specs": material_specs,
        "licence": licences.licence_of(session, application.id),
        "rating": rating,
        "rectification": ratings.rectification_of(session, rating.id) if rating is not None else None,
        "may_rate": rating is None and finished and application.applicant_user_id == actor.user_id,
        "labels": _labels(),
    }


@router.get("/applications/{application_id}", response_class=HTMLResponse)
def show_application(
    application_id: int,
    request: Request,
    actor: PageActor,
    session: ReadSessionDep,
    database: DatabaseDep,
    settings: SettingsDep,
    locale: LocaleDep,
) -> Response:
    """An application: receipt, state, progress per department, time limits, form, materials, licence, rating."""
    application = applications.get_application(session, actor, application_id)
    applications.record_reading(database, actor, application)
    with database.session() as writer:  # an auditor's reading of the trail is itself audited
        trail = _audit_trail(writer, actor, application.id)
    return render(
        request,
        "services/application.html",
        actor,
        **_application_context(session, actor, application, settings, locale),
        trail=trail,
        notice=request.query_params.get("submitted") or request.query_params.get("rated"),
    )


@router.get("/applications/{application_id}/materials/{code}")
def read_material_file(
    application_id: int, code: str, actor: PageActor, session: SessionDep, settings: SettingsDep
) -> Response:
    """An uploaded material (applicant and handling staff); each reading is audited."""
    return material_response(*applications.material_file(session, actor, settings.data_dir, application_id, code))


@router.post("/applications/{application_id}/rating", dependencies=[CsrfChecked])
def rate_from_form(
    application_id: int,
    request: Request,
    actor: PageActor,
    session: SessionDep,
    settings: SettingsDep,
    locale: LocaleDep,
    translate: TranslateDep,
    level: Annotated[int, Form(ge=0, le=5)] = 0,
    comment: Annotated[str, Form(max_length=ratings.MAX_TEXT)] = "",
) -> Response:
    """好差评: the applicant's one rating; a missing comment on a 差评 re-renders the page with the message."""
    try:
        ratings.rate(
            session, actor, application_id, level, comment, rectification_days=settings.services_rectification_days
        )
    except InvalidInput as error:
        application = applications.get_application(session, actor, application_id)
        return render(
            request,
            "services/application.html",
            actor,
            status_code=error.http_status,
            **_application_context(session, actor, application, settings, locale),
            trail=None,
            notice=None,
            rating_error=error.render(translate),
            rating_values={"level": level, "comment": comment},
        )
    return RedirectResponse(f"/applications/{application_id}?rated=1#rating-title", status_code=303)


# --- the staff workbench -------------------------------------------------------------------------------------------


@router.get("/workbench", response_class=HTMLResponse)
def show_workbench(
    request: Request,
    actor: PageActor,
    session: ReadSessionDep,
    settings: SettingsDep,
    locale: LocaleDep,
    state: Annotated[str, Query(max_length=10)] = "open",
    service: Annotated[str, Query(max_length=64)] = "",
    flag: Annotated[str, Query(max_length=12)] = "",
) -> Response:
    """工作台: the department's inbox (every department's for the admin), most urgent first."""
    entries = handling.inbox(session, actor, settings.services_warning_days, state=state, service=service, flag=flag)
    return render(
        request,
        "services/workbench.html",
        actor,
        entries=entries,
        state=state,
        service=service,
        flag=flag,
        states=INBOX_STATES,
        flags=FLAG_LABELS,
        may_handle=lambda task: can(actor, ServicesAction.HANDLE_TASK, handling.task_resource(task)),
        name_of=lambda item: _item_name(item, locale),
        notice=request.query_params.get("done"),
        labels=_labels(),
    )


def _task_page(
    request: Request,
    actor: Actor,
    session: Session,
    settings: Settings,
    locale: str,
    task_id: int,
    *,
    status_code: int = 200,
    error: str = "",
    values: Mapping[str, str] | None = None,
) -> Response:
    # handling has no public lookup of one task: read it by key; get_application then decides who may see it
    task = session.get(ApplicationTask, task_id) if is_row_id(task_id) else None
    if task is None:
        raise NotFound("task.not_found", N_("No task {id}"), id=task_id)
    application = applications.read_application(session, actor, task.application_id)
    return render(
        request,
        "services/task.html",
        actor,
        status_code=status_code,
        task=task,
        **_application_context(session, actor, application, settings, locale),
        may_handle=task.state in ("open", "claimed")
        and can(actor, ServicesAction.HANDLE_TASK, handling.task_resource(task)),
        task_error=error,
        task_values=values or {},
        notice=request.query_params.get("done"),
    )


@router.get("/workbench/tasks/{task_id}", response_class=HTMLResponse)
def show_task(
    task_id: int, request: Request, actor: PageActor, session: SessionDep, settings: SettingsDep, locale: LocaleDep
) -> Response:
    """A task with its application, materials, history, and the form to complete it."""
    require_signed_in(actor)
    return _task_page(request, actor, session, settings, locale, task_id)


@router.post("/workbench/tasks/{task_id}/claim", dependencies=[CsrfChecked])
def claim_from_form(task_id: int, actor: PageActor, session: SessionDep) -> Response:
    """签收."""
    handling.claim_task(session, actor, task_id)
    return RedirectResponse(f"/workbench/tasks/{task_id}?done=claimed", status_code=303)


@router.post("/workbench/tasks/{task_id}/complete", dependencies=[CsrfChecked])
def complete_from_form(
    task_id: int,
    request: Request,
    actor: PageActor,
    session: SessionDep,
    settings: SettingsDep,
    locale: LocaleDep,
    translate: TranslateDep,
    decision: Annotated[str, Form(max_length=10)] = "",
    comment: Annotated[str, Form(max_length=handling.MAX_COMMENT)] = "",
) -> Response:
    """办理: approve or reject; a rejection without a reason re-renders the task with the message."""
    try:
        handling.complete_task(session, actor, task_id, decision, comment)
    except InvalidInput as error:
        return _task_page(
            request,
            actor,
            session,
            settings,
            locale,
            task_id,
            status_code=error.http_status,
            error=error.render(translate),
            values={"decision": decision, "comment": comment},
        )
    return RedirectResponse(f"/workbench/tasks/{task_id}?done=completed", status_code=303)


# --- rectifications ------------------------------------------------------------------------------------------------


@router.get("/workbench/rectifications", response_class=HTMLResponse)
def show_rectifications(
    request: Request, actor: PageActor, session: ReadSessionDep, state: Annotated[str, Query(max_length=20)] = ""
) -> Response:
    """整改: the department's bad ratings to explain or appeal; the admin reviews appeals."""
    found = ratings.list_rectifications(session, actor, state=state)
    return render(
        request,
        "services/rectifications.html",
        actor,
        found=found,
        state=state,
        may_respond=lambda r: can(
            actor, ServicesAction.RECTIFY, department_resource("rectification", r.department_id, r.id)
        ),
        may_review=can(actor, ServicesAction.REVIEW_APPEAL),
        notice=request.query_params.get("done"),
        labels=_labels(),
    )


@router.post("/workbench/rectifications/{rectification_id}/explain", dependencies=[CsrfChecked])
def explain_from_form(
    rectification_id: int,
    actor: PageActor,
    session: SessionDep,
    text: Annotated[str, Form(max_length=ratings.MAX_TEXT)] = "",
) -> Response:
    ratings.explain(session, actor, rectification_id, text)
    return RedirectResponse("/workbench/rectifications?done=explained", status_code=303)


@router.post("/workbench/rectifications/{rectification_id}/appeal", dependencies=[CsrfChecked])
def appeal_from_form(
    rectification_id: int,
    actor: PageActor,
    session: SessionDep,
    text: Annotated[str, Form(max_length=ratings.MAX_TEXT)] = "",
) -> Response:
    ratings.appeal(session, actor, rectification_id, text)
    return RedirectResponse("/workbench/rectifications?done=appealed", status_code=303)


@router.post("/workbench/rectifications/{rectification_id}/review", dependencies=[CsrfChecked])
def review_from_form(
    rectification_id: int,
    actor: PageActor,
    session: SessionDep,
    upheld: Annotated[str, Form(max_length=5)] = "",
    note: Annotated[str, Form(max_length=ratings.MAX_TEXT)] = "",
) -> Response:
    if upheld not in ("yes", "no"):
        raise InvalidInput("rectification.bad_review", N_("Choose whether the appeal is upheld"))
    ratings.review_appeal(session, actor, rectification_id, upheld == "yes", note)
    return RedirectResponse("/workbench/rectifications?done=reviewed", status_code=303)
