"""Service items (政务服务事项): create, edit, find by Chinese full text or life event, and their BPMN processes."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from yiwang.catalog.search import tokenize
from yiwang.core import accounts, audit
from yiwang.core.authz import authorize
from yiwang.core.errors import Conflict, InvalidInput, NotFound
from yiwang.core.i18n import N_
from yiwang.core.identity import Actor
from yiwang.core.models import Department
from yiwang.services import bpmn, forms, workflow
from yiwang.services.models import ServiceItem, ServiceProcess
from yiwang.services.rules import ServicesAction, department_resource

# life events (主题服务) in Chinese and English: used for search terms as well as labels, so not gettext messages
LIFE_EVENTS: dict[str, tuple[str, str]] = {
    "start-business": ("开办企业", "Starting a business"),
    "newborn": ("新生儿出生", "A baby is born"),
    "migrant-work": ("外来务工", "Working away from home"),
    "employment": ("就业创业", "Jobs and self-employment"),
    "marriage": ("婚姻家庭", "Marriage and family"),
    "retirement": ("退休养老", "Retirement"),
    "education": ("入学教育", "School and education"),
    "housing": ("住房安家", "Housing"),
    "health": ("医疗健康", "Health care"),
    "investment": ("投资落地", "Investing here"),
    "transport": ("交通出行", "Transport"),
    "construction": ("工程建设", "Construction projects"),
}


def life_event_label(code: str, locale: str) -> str:
    names = LIFE_EVENTS.get(code, (code, code))
    return names[1] if locale.startswith("en") else names[0]


CATEGORIES = ("行政许可", "行政确认", "行政给付", "公共服务", "其他行政权力")
AUDIENCES = ("citizen", "enterprise", "investor")
ONLINE_DEPTHS = {
    "full_online": N_("Fully online (全程网办)"),
    "partly_online": N_("Online pre-check, then at a counter"),
    "in_person": N_("At a service counter"),
}
MATERIAL_FORMATS = ("pdf", "jpg", "jpeg", "png", "ofd", "docx", "xlsx", "dwg")
PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


class Material(BaseModel):
    """申请材料: what the applicant brings, with its basis, and whether a government body issues it (免提交)."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    name: str = Field(min_length=1, max_length=200)
    basis: str = Field("", max_length=1000)
    original: bool = False
    copies: int = Field(1, ge=0, le=20)
    source: Literal["applicant", "government"] = "applicant"
    licence_type: str | None = Field(None, max_length=64)
    required: bool = True
    formats: list[str] = Field(default_factory=lambda: ["pdf", "jpg", "png"])
    max_mb: int = Field(5, ge=1, le=200)
    example: str = Field("", max_length=1000)

    @field_validator("formats")
    @classmethod
    def _known_formats(cls, formats: list[str]) -> list[str]:
        unknown = [f for f in formats if f.lower() not in MATERIAL_FORMATS]
        if unknown or not formats:
            raise ValueError(f"formats must be some of {', '.join(MATERIAL_FORMATS)}")
        return [f.lower() for f in formats]


class Guide(BaseModel):
    """白话版: a plain-language guide next to the formal text."""

    model_config = ConfigDict(extra="forbid")

    summary: str = Field(max_length=500)
    steps: list[str] = Field(default_factory=list, max_length=12)
    bring: list[str] = Field(default_factory=list, max_length=20)
    tips: list[str] = Field(default_factory=list, max_length=10)


class Autofill(BaseModel):
    """A form field filled from shared data with the applicant's consent (免证办)."""

    model_config = ConfigDict(extra="forbid")

    field: str
    dataset: str
    key_field: str  # the dataset's field matched exactly
    key_from: str  # the form field holding the key (an ID number, a credit code)
    value_field: str  # the dataset's field whose value fills `field`


class LicenceSpec(BaseModel):
    """The electronic licence a completed application issues."""

    model_config = ConfigDict(extra="forbid")

    type: str = Field(pattern=r"^[a-z][a-z0-9-]{0,63}$")
    name: str
    name_en: str = ""
    valid_years: int | None = Field(None, ge=1, le=100)


class ServiceItemInput(BaseModel):
    """A service item as admins and departments write it (the standard's elements, guide and form)."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,63}$")
    item_code: str = Field(min_length=3, max_length=64)
    name: str = Field(min_length=2, max_length=200)
    name_en: str = Field("", max_length=200)
    department: str = Field(description="The implementing department (实施主体), by name")
    category: str
    audience: list[Literal["citizen", "enterprise", "investor"]] = Field(min_length=1)
    life_events: list[str] = Field(default_factory=list)
    online_depth: Literal["full_online", "partly_online", "in_person"] = "full_online"
    legal_basis: str = Field("", max_length=4000)
    conditions: str = Field("", max_length=4000)
    process_text: str = Field("", max_length=4000)
    legal_days: int = Field(ge=1, le=365)
    promised_days: int = Field(ge=1, le=365)
    fee: str = Field("不收费", max_length=500)
    location: str = Field("", max_length=500)
    consultation: str = Field("", max_length=200)
    materials: list[Material] = Field(default_factory=list, max_length=30)
    guide: Guide
    guide_en: Guide | None = None
    form: dict[str, Any]
    example_form: dict[str, Any] = Field(default_factory=dict)
    autofill: list[Autofill] = Field(default_factory=list)
    clock_paused_steps: list[str] = Field(default_factory=list)
    issues_licence: LicenceSpec | None = None

    @model_validator(mode="after")
    def _consistent(self) -> ServiceItemInput:
        if self.category not in CATEGORIES:
            raise ValueError(f"category must be one of {', '.join(CATEGORIES)}")
        unknown = [event for event in self.life_events if event not in LIFE_EVENTS]
        if unknown:
            raise ValueError(f"unknown life events: {', '.join(unknown)}")
        if self.promised_days > self.legal_days:
            raise ValueError("the promised time limit cannot be longer than the legal one")
        if len({m.code for m in self.materials}) != len(self.materials):
            raise ValueError("material codes must be unique")
        return self


def _department(session: Session, name: str) -> Department:
    try:
        return accounts.get_department(session, name)
    except NotFound:
        raise InvalidInput("service.unknown_department", N_("No department named {name}"), name=name) from None


def _search_terms(item: ServiceItem) -> str:
    guide = item.guide or {}
    weighted = (
        (3, item.name),
        (2, " ".join(LIFE_EVENTS[e][0] for e in item.life_events if e in LIFE_EVENTS)),
        (1, item.name_en),
        (1, item.department.name),
        (1, item.category),
        (1, " ".join([guide.get("summary", ""), *guide.get("steps", []), *guide.get("bring", [])])),
        (1, " ".join(m.get("name", "") for m in item.materials)),
        (1, item.conditions),
    )
    terms = [token for weight, text in weighted for token in tokenize(text or "") for _ in range(weight)]
    return f" {' '.join(terms)} " if terms else ""


def _apply(item: ServiceItem, data: ServiceItemInput, department: Department) -> None:
    forms.check_schema(data.form)
    if data.example_form:
        forms.validate(data.form, data.example_form)
    for rule in data.autofill:
        if rule.field not in data.form["properties"] or rule.key_from not in data.form["properties"]:
            raise InvalidInput(
                "service.bad_autofill", N_("Auto-fill field {field} is not a field of the form"), field=rule.field
            )
    values = data.model_dump(exclude={"department", "form", "guide", "guide_en", "materials", "autofill"})
    values["issues_licence"] = data.issues_licence.model_dump() if data.issues_licence else None
    for name, value in values.items():
        setattr(item, name, value)
    item.department = department
    item.department_id = department.id
    item.form_schema = data.form
    item.guide = data.guide.model_dump()
    item.guide_en = data.guide_en.model_dump() if data.guide_en else {}
    item.materials = [m.model_dump() for m in data.materials]
    item.autofill = [rule.model_dump() for rule in data.autofill]
    item.search_terms = _search_terms(item)


def create_item(session: Session, actor: Actor, data: ServiceItemInput) -> ServiceItem:
    """A new service item of `data.department` (its staff or the admin)."""
    department = _department(session, data.department)
    authorize(actor, ServicesAction.EDIT, department_resource("service_item", department.id))
    taken = session.scalar(
        select(ServiceItem.id).where(or_(ServiceItem.code == data.code, ServiceItem.item_code == data.item_code))
    )
    if taken is not None:
        raise Conflict("service.exists", N_("A service item {item} already exists"), item=data.code)
    item = ServiceItem()
    _apply(item, data, department)
    session.add(item)
    session.flush()
    audit.record(session, actor, "service.create", resource_type="service_item", resource_id=item.code)
    return item


def update_item(session: Session, actor: Actor, code: str, data: ServiceItemInput) -> ServiceItem:
    """Replace an item's elements; its code stays (links and applications refer to it)."""
    item = get_item(session, code)
    authorize(actor, ServicesAction.EDIT, department_resource("service_item", item.department_id, item.code))
    if data.code != item.code:
        raise InvalidInput("service.code_fixed", N_("A service item's code cannot change"))
    department = _department(session, data.department)
    authorize(actor, ServicesAction.EDIT, department_resource("service_item", department.id, item.code))
    _apply(item, data, department)
    audit.record(session, actor, "service.update", resource_type="service_item", resource_id=item.code)
    return item


def get_item(session: Session, code: str) -> ServiceItem:
    """A service item by code (public)."""
    item = session.scalar(select(ServiceItem).where(ServiceItem.code == code))
    if item is None:
        raise NotFound("service.not_found", N_("No service item {item}"), item=code)
    return item


@dataclass(frozen=True)
class ItemPage:
    items: list[ServiceItem]
    total: int
    page: int
    page_size: int
    life_events: dict[str, int]  # facet counts over the whole result

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.page_size))


def search_items(
    session: Session,
    *,
    text: str = "",
    life_event: str = "",
    audience: str = "",
    department: str = "",
    online_only: bool = False,
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> ItemPage:
    """Items matching every condition, best text matches first (then by name); public."""
    if page < 1 or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise InvalidInput("service.bad_page", N_("page starts at 1 and page_size is 1 to {most}"), most=MAX_PAGE_SIZE)
    query = select(ServiceItem.id, ServiceItem.name, ServiceItem.life_events, ServiceItem.audience)
    words = tokenize(text)[:32]
    if words:
        query = query.where(or_(*(ServiceItem.search_terms.contains(f" {word} ") for word in set(words))))
        query = query.add_columns(ServiceItem.search_terms)
    if department:
        query = query.join(ServiceItem.department).where(Department.name == department)
    if online_only:
        query = query.where(ServiceItem.online_depth == "full_online")
    rows = list(session.execute(query).all())
    if audience:
        rows = [row for row in rows if audience in row.audience]
    facets = Counter(event for row in rows for event in row.life_events)
    if life_event:
        rows = [row for row in rows if life_event in row.life_events]
    if words:
        scores = {row.id: sum(row.search_terms.count(f" {word} ") for word in words) for row in rows}
        rows.sort(key=lambda row: (-scores[row.id], row.name))
    else:
        rows.sort(key=lambda row: row.name)
    chosen = [row.id for row in rows[(page - 1) * page_size : page * page_size]]
    by_id = {item.id: item for item in session.scalars(select(ServiceItem).where(ServiceItem.id.in_(chosen)))}
    return ItemPage([by_id[i] for i in chosen], len(rows), page, page_size, dict(facets))


def life_event_counts(session: Session) -> dict[str, int]:
    """How many items each life event has (for the browse page)."""
    counts: Counter[str] = Counter()
    for events in session.scalars(select(ServiceItem.life_events)):
        counts.update(events)
    return {event: counts.get(event, 0) for event in LIFE_EVENTS}


# --- processes ---------------------------------------------------------------------------------------------------


def current_process(session: Session, item: ServiceItem) -> ServiceProcess:
    process = session.scalar(
        select(ServiceProcess)
        .where(ServiceProcess.service_item_id == item.id)
        .order_by(ServiceProcess.version.desc())
        .limit(1)
    )
    if process is None:
        raise Conflict("service.no_process", N_("Service item {item} has no process yet"), item=item.code)
    return process


def import_process(session: Session, actor: Actor, code: str, xml: bytes) -> ServiceProcess:
    """A new version of an item's BPMN process (admin only): checked, lanes resolved to departments, compiled."""
    authorize(actor, ServicesAction.PROCESS_EDIT)
    item = get_item(session, code)
    parsed = bpmn.parse(xml)
    departments = {d.name: d.id for d in session.scalars(select(Department))}
    step_departments = {}
    for step in parsed.steps:
        if step.lane not in departments:
            raise InvalidInput(
                "bpmn.unknown_department",
                N_("The lane {lane} of task {id} is not the name of a department"),
                lane=step.lane,
                id=step.id,
            )
        step_departments[step.id] = departments[step.lane]
    latest = session.scalar(select(func.max(ServiceProcess.version)).where(ServiceProcess.service_item_id == item.id))
    process = ServiceProcess(
        service_item_id=item.id,
        version=(latest or 0) + 1,
        process_id=parsed.process_id,
        bpmn_xml=xml.decode("utf-8"),
        spec_state=workflow.compile_spec(xml, parsed.process_id),
        step_departments=step_departments,
        created_by=actor.username,
    )
    session.add(process)
    session.flush()
    audit.record(
        session,
        actor,
        "service.process_import",
        resource_type="service_item",
        resource_id=item.code,
        detail={"version": process.version, "steps": [s.id for s in parsed.steps]},
    )
    return process


def export_process(session: Session, code: str) -> str:
    """The current process of an item as BPMN 2.0 XML (public: how a service is handled is public information)."""
    return current_process(session, get_item(session, code)).bpmn_xml


def steps_process(
    code: str, name: str, steps: Sequence[dict[str, Any]], *, parallel: bool, condition: dict[str, Any] | None = None
) -> bytes:
    """A BPMN file for a simple description: steps in sequence or in parallel, an optional conditional step."""
    as_steps = [bpmn.Step(s["id"], s["name"], s["department"]) for s in steps]
    conditional = []
    if condition is not None:
        extra = condition["then_step"]
        conditional.append(
            bpmn.ConditionalStep(
                bpmn.Step(extra["id"], extra["name"], extra["department"]),
                f"{condition['field']} {condition['op']} {condition['value']!r}",
                condition.get("after", as_steps[0].id),
            )
        )
    process_id = "Process_" + code.replace("-", "_")
    return bpmn.build(process_id, name, as_steps, parallel=parallel, conditional=conditional)
