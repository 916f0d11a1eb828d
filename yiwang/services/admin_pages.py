"""Editing 一网通办 on the web: a service item's standard elements, plain guide and form (admin and the department's
staff), and its BPMN process (admin)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.orm import Session
from starlette.responses import HTMLResponse, RedirectResponse, Response

from yiwang.core import accounts
from yiwang.core.authz import authorize
from yiwang.core.errors import Conflict, DomainError, FieldErrors, InvalidInput
from yiwang.core.i18n import N_, Translate
from yiwang.core.identity import Actor, Role
from yiwang.core.models import Department
from yiwang.services import bpmn, items
from yiwang.services.models import ServiceItem
from yiwang.services.pages import AUDIENCE_LABELS
from yiwang.services.rules import ServicesAction, department_resource
from yiwang.web.deps import CsrfChecked, LocaleDep, PageActor, ReadSessionDep, SessionDep, TranslateDep
from yiwang.web.templating import render

router = APIRouter(include_in_schema=False)
TEXT_LIMIT = 10_000  # the service layer checks the real limits with field-level messages; this only caps the post
JSON_LIMIT = 200_000
# the item's attributes the page shows as they are
PLAIN_FIELDS = ("code", "item_code", "name", "name_en", "category", "online_depth")
PLAIN_TEXTS = ("legal_basis", "conditions", "process_text", "fee", "location", "consultation")
GUIDE_PARTS = ("steps", "bring", "tips")
GUIDE_FIELDS = {f"{part}{suffix}" for part in ("summary", *GUIDE_PARTS) for suffix in ("", "_en")}
# where a domain error of the service layer belongs on the page ("" = above the form)
ERROR_FIELDS = {
    "service.exists": "code",
    "service.unknown_department": "department",
    "form_schema.invalid": "form",
    "form.invalid": "example_form",
    "form.not_object": "example_form",
}
NEW_FORM = {
    "type": "object",
    "properties": {"applicant_name": {"type": "string", "title": "申请人姓名", "minLength": 2, "maxLength": 50}},
    "required": ["applicant_name"],
}


class ItemForm(BaseModel):
    """The edit page as posted: plain text, guide lists one entry per line, materials and form as JSON."""

    model_config = ConfigDict(extra="ignore")

    code: str = Field("", max_length=64)
    item_code: str = Field("", max_length=64)
    name: str = Field("", max_length=TEXT_LIMIT)
    name_en: str = Field("", max_length=TEXT_LIMIT)
    department: str = Field("", max_length=200)
    category: str = Field("", max_length=64)
    audience: list[str] = Field(default_factory=list, max_length=len(items.AUDIENCES))
    life_events: list[str] = Field(default_factory=list, max_length=len(items.LIFE_EVENTS))
    online_depth: str = Field("full_online", max_length=32)
    legal_basis: str = Field("", max_length=TEXT_LIMIT)
    conditions: str = Field("", max_length=TEXT_LIMIT)
    process_text: str = Field("", max_length=TEXT_LIMIT)
    legal_days: str = Field("", max_length=16)
    promised_days: str = Field("", max_length=16)
    fee: str = Field("", max_length=TEXT_LIMIT)
    location: str = Field("", max_length=TEXT_LIMIT)
    consultation: str = Field("", max_length=TEXT_LIMIT)
    summary: str = Field("", max_length=TEXT_LIMIT)
    steps: str = Field("", max_length=TEXT_LIMIT)
    bring: str = Field("", max_length=TEXT_LIMIT)
    tips: str = Field("", max_length=TEXT_LIMIT)
    summary_en: str = Field("", max_length=TEXT_LIMIT)
    steps_en: str = Field("", max_length=TEXT_LIMIT)
    bring_en: str = Field("", max_length=TEXT_LIMIT)
    tips_en: str = Field("", max_length=TEXT_LIMIT)
    materials: str = Field("", max_length=JSON_LIMIT)
    form: str = Field("", max_length=JSON_LIMIT)
    example_form: str = Field("", max_length=JSON_LIMIT)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2)


def form_values(item: ServiceItem) -> dict[str, Any]:
    """An item as the edit page's fields (the inverse of `item_input`)."""
    guide, guide_en = item.guide or {}, item.guide_en or {}
    values: dict[str, Any] = {name: getattr(item, name) for name in (*PLAIN_FIELDS, *PLAIN_TEXTS)}
    values |= {
        "department": item.department.name,
        "audience": list(item.audience),
        "life_events": list(item.life_events),
        "legal_days": str(item.legal_days),
        "promised_days": str(item.promised_days),
        "summary": guide.get("summary", ""),
        "summary_en": guide_en.get("summary", ""),
        "materials": _json(item.materials),
        "form": _json(item.form_schema),
        "example_form": _json(item.example_form) if item.example_form else "",
    }
    for part in GUIDE_PARTS:
        values[part] = "\n".join(guide.get(part, []))
        values[f"{part}_en"] = "\n".join(guide_en.get(part, []))
    return values


def _parsed_json(posted: ItemForm, name: str, kind: type, errors: dict[str, str], translate: Translate) -> Any:
    text = str(getattr(posted, name)).strip()
    if not text:
        return kind()
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        message = N_("Not valid JSON (line {line}, column {column}): {problem}")
        errors[name] = translate(message).format(line=error.lineno, column=error.colno, problem=error.msg)
        return None
    if not isinstance(value, kind):
        wanted = N_("Expected a JSON list [ … ]") if kind is list else N_("Expected a JSON object { … }")
        errors[name] = translate(wanted)
        return None
    return value


def _field_of(location: tuple[int | str, ...]) -> str:
    """The page field a pydantic error location points at (guide.steps.2 → steps, guide_en.tips → tips_en)."""
    if not location:
        return ""
    head = str(location[0])
    if head in ("guide", "guide_en") and len(location) > 1:
        return str(location[1]) + ("_en" if head == "guide_en" else "")
    if head in ("guide", "guide_en"):
        return "summary" + ("_en" if head == "guide_en" else "")
    return head if head in ItemForm.model_fields else ""


def item_input(
    posted: ItemForm, code: str, kept: Mapping[str, Any], translate: Translate
) -> tuple[items.ServiceItemInput | None, dict[str, str]]:
    """The service layer's input from the posted page, or the messages per field (field "" for the whole item)."""
    errors: dict[str, str] = {}
    materials = _parsed_json(posted, "materials", list, errors, translate)
    form = _parsed_json(posted, "form", dict, errors, translate)
    example = _parsed_json(posted, "example_form", dict, errors, translate)
    if errors:
        return None, errors
    guides = {
        name: {"summary": getattr(posted, f"summary{suffix}")}
        | {part: _lines(getattr(posted, f"{part}{suffix}")) for part in GUIDE_PARTS}
        for name, suffix in (("guide", ""), ("guide_en", "_en"))
    }
    written = {name: guide for name, guide in guides.items() if any(guide.values())}
    data = {
        **posted.model_dump(include=set(ItemForm.model_fields) - GUIDE_FIELDS - {"materials", "form", "example_form"}),
        "code": code,
        "materials": materials,
        "form": form,
        "example_form": example,
        "guide": guides["guide"],  # always sent, so that a missing summary is named as such
        "guide_en": written.get("guide_en"),
        **kept,
    }
    try:
        return items.ServiceItemInput.model_validate(data), {}
    except ValidationError as error:
        for problem in error.errors():
            field = _field_of(problem["loc"])
            place = ".".join(str(part) for part in problem["loc"][1:]) if field in ("materials", "form") else ""
            message = f"{place}: {problem['msg']}" if place else str(problem["msg"])
            errors[field] = f"{errors[field]}; {message}" if field in errors else message
        return None, errors


def _domain_errors(error: DomainError, translate: Translate) -> dict[str, str]:
    field = ERROR_FIELDS.get(error.code, "")
    if isinstance(error, FieldErrors):
        details = "; ".join(f"{name}: {text}" for name, text in error.render_fields(translate).items())
        return {field: f"{error.render(translate)} ({details})"}
    return {field: error.render(translate)}


def _departments_for(session: Session, actor: Actor) -> list[Department]:
    """Departments the actor may give items to: all of them for the admin, their own for department staff."""
    departments = accounts.list_departments(session, actor)
    if actor.has_role(Role.ADMIN):
        return departments
    return [d for d in departments if d.id == actor.department_id]


def _may_add_items(actor: Actor) -> None:
    """Refuse the new-item page to whoever could not create an item in any department."""
    if actor.department_id is None:
        authorize(actor, ServicesAction.EDIT)
    else:
        authorize(actor, ServicesAction.EDIT, department_resource("service_item", actor.department_id))


def _edit_page(
    request: Request,
    actor: Actor,
    session: Session,
    locale: str,
    values: Mapping[str, Any],
    *,
    item: ServiceItem | None = None,
    errors: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "services/edit.html",
        actor,
        status_code=status_code,
        item=item,
        action=f"/services/{item.code}/edit" if item else "/services/new",
        values=values,
        errors=dict(errors or {}),
        departments=[d.name for d in _departments_for(session, actor)],
        categories=items.CATEGORIES,
        audiences={code: AUDIENCE_LABELS[code] for code in items.AUDIENCES},
        events=[(code, items.life_event_label(code, locale)) for code in items.LIFE_EVENTS],
        depths=items.ONLINE_DEPTHS,
    )


def _failed(session: Session, translate: Translate, error: DomainError) -> tuple[dict[str, str], int]:
    # nothing of a refused save may be committed with the page that shows the message
    session.rollback()
    return _domain_errors(error, translate), error.http_status


# --- a new item and editing one --------------------------------------------------------------------------------------


@router.get("/services/new", response_class=HTMLResponse)
def show_new_service(request: Request, actor: PageActor, session: ReadSessionDep, locale: LocaleDep) -> Response:
    """新增事项: an empty item of the actor's department (any department for the admin)."""
    _may_add_items(actor)
    values = {
        "department": actor.department_name,
        "audience": ["citizen"],
        "online_depth": "full_online",
        "fee": "不收费",
        "materials": "[]",
        "form": _json(NEW_FORM),
    }
    return _edit_page(request, actor, session, locale, values)


@router.post("/services/new", dependencies=[CsrfChecked])
def create_service_from_form(
    request: Request,
    posted: Annotated[ItemForm, Form()],
    actor: PageActor,
    session: SessionDep,
    locale: LocaleDep,
    translate: TranslateDep,
) -> Response:
    """Create the item; bad fields or a refused schema re-render the page with the messages and the values kept."""
    _may_add_items(actor)
    code = posted.code.strip()
    data, errors = item_input(posted, code, {}, translate)
    status = 422
    if data is not None:
        try:
            items.create_item(session, actor, data)
        except (InvalidInput, Conflict) as error:
            errors, status = _failed(session, translate, error)
        else:
            return RedirectResponse(f"/services/{code}", status_code=303)
    return _edit_page(request, actor, session, locale, posted.model_dump(), errors=errors, status_code=status)


def _editable(session: Session, actor: Actor, code: str) -> ServiceItem:
    item = items.get_item(session, code)
    authorize(actor, ServicesAction.EDIT, department_resource("service_item", item.department_id, item.code))
    return item


@router.get("/services/{code}/edit", response_class=HTMLResponse)
def show_edit_service(
    code: str, request: Request, actor: PageActor, session: ReadSessionDep, locale: LocaleDep
) -> Response:
    """编辑事项: the item's elements, guide and form, filled in."""
    item = _editable(session, actor, code)
    return _edit_page(request, actor, session, locale, form_values(item), item=item)


@router.post("/services/{code}/edit", dependencies=[CsrfChecked])
def update_service_from_form(
    code: str,
    request: Request,
    posted: Annotated[ItemForm, Form()],
    actor: PageActor,
    session: SessionDep,
    locale: LocaleDep,
    translate: TranslateDep,
) -> Response:
    """Save the item (its code stays); what the page has no field for (auto-fill, paused steps, licence) is kept."""
    item = _editable(session, actor, code)
    kept = {
        "autofill": item.autofill,
        "clock_paused_steps": item.clock_paused_steps,
        "issues_licence": item.issues_licence,
    }
    data, errors = item_input(posted, item.code, kept, translate)
    status = 422
    if data is not None:
        try:
            items.update_item(session, actor, item.code, data)
        except (InvalidInput, Conflict) as error:
            errors, status = _failed(session, translate, error)
        else:
            return RedirectResponse(f"/services/{item.code}?saved=1", status_code=303)
    item = items.get_item(session, code)
    values = posted.model_dump() | {"code": item.code}
    return _edit_page(request, actor, session, locale, values, item=item, errors=errors, status_code=status)


# --- the BPMN process ------------------------------------------------------------------------------------------------


def _process_page(
    request: Request,
    actor: Actor,
    session: Session,
    code: str,
    *,
    error: str = "",
    status_code: int = 200,
) -> Response:
    item = items.get_item(session, code)
    try:
        process = items.current_process(session, item)
    except Conflict:
        process = None
    by_department: dict[str, list[str]] = {}
    if process is not None:
        names = {d.id: d.name for d in accounts.list_departments(session, actor)}
        step_names = {step.id: step.name for step in bpmn.parse(process.bpmn_xml.encode("utf-8")).steps}
        for step, department_id in process.step_departments.items():
            department = names.get(department_id, str(department_id))
            by_department.setdefault(department, []).append(step_names.get(step, step))
    return render(
        request,
        "services/process.html",
        actor,
        status_code=status_code,
        item=item,
        process=process,
        by_department=by_department,
        error=error,
        imported=request.query_params.get("imported", ""),
        limit_kib=bpmn.MAX_BPMN_BYTES // 1024,
    )


@router.get("/services/{code}/process", response_class=HTMLResponse)
def show_service_process(code: str, request: Request, actor: PageActor, session: ReadSessionDep) -> Response:
    """办理流程: the current BPMN version, its steps per department, download and upload (admin)."""
    authorize(actor, ServicesAction.PROCESS_EDIT)
    return _process_page(request, actor, session, code)


@router.post("/services/{code}/process", dependencies=[CsrfChecked])
def upload_service_process(
    code: str,
    request: Request,
    actor: PageActor,
    session: SessionDep,
    translate: TranslateDep,
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """A new process version from a .bpmn file; a refused file re-renders the page with the reason (422)."""
    authorize(actor, ServicesAction.PROCESS_EDIT)
    try:
        if file is None or not file.filename:
            raise InvalidInput("bpmn.missing", N_("Choose a BPMN file to upload"))
        # one byte over the limit is enough for the BPMN reader to refuse the file by its size
        process = items.import_process(session, actor, code, file.file.read(bpmn.MAX_BPMN_BYTES + 1))
    except InvalidInput as error:
        session.rollback()
        return _process_page(
            request, actor, session, code, error=error.render(translate), status_code=error.http_status
        )
    return RedirectResponse(f"/services/{code}/process?imported={process.version}", status_code=303)
