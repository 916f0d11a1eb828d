"""Online applications (办件): submit once with form and materials, then read the application and its progress.

A submission is checked whole before anything is stored — every form field and every material, with one error per
field — and then stored in one transaction: the application, its first tasks, its workflow instance and its audit
entry. Material files are written before the commit and removed again if the commit does not happen.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import shutil
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from yiwang.core import audit
from yiwang.core.authz import AccessRefused, authorize
from yiwang.core.db import Database
from yiwang.core.errors import FieldErrors, FieldMessage, InvalidInput, NotFound
from yiwang.core.i18n import N_
from yiwang.core.identity import Actor, Role
from yiwang.core.masking import mask
from yiwang.core.models import is_row_id, utcnow
from yiwang.core.workdays import load_calendar
from yiwang.services import forms, items, workflow
from yiwang.services.models import (
    Application,
    ApplicationMaterial,
    ApplicationState,
    ApplicationTask,
    Licence,
    ServiceItem,
    ServiceProcess,
)
from yiwang.services.rules import ServicesAction, application_resource

APPLICATIONS_DIR = "applications"
MAX_LIST = 200
# The first bytes each accepted file type starts with: a renamed executable is refused whatever its name says.
MAGIC: dict[str, tuple[bytes, ...]] = {
    "pdf": (b"%PDF-",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
    "ofd": (b"PK\x03\x04",),  # OFD (GB/T 33190) is a zip package, as are Office files
    "docx": (b"PK\x03\x04",),
    "xlsx": (b"PK\x03\x04",),
    "dwg": (b"AC10",),  # AutoCAD drawings (planning and construction items): AC1015, AC1032 …
}
# The smallest file of each type that passes the type check: what examples and the demo attach.
EXAMPLE_FILES = {
    "pdf": b"%PDF-1.4\n% yiwang example material\n%%EOF\n",
    "png": b"\x89PNG\r\n\x1a\n",
    "jpg": b"\xff\xd8\xff\xe0",
    "jpeg": b"\xff\xd8\xff\xe0",
    "ofd": b"PK\x03\x04",
    "docx": b"PK\x03\x04",
    "xlsx": b"PK\x03\x04",
    "dwg": b"AC1032",
}
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "ofd": "application/ofd",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "dwg": "image/vnd.dwg",
}


_INT64 = 2**63
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")  # no real file name holds one; PostgreSQL cannot store NUL


def _base_name(filename: str) -> str:
    """The file's own name: old browsers send whole Windows paths, hostile clients ``../``."""
    return re.split(r"[/\\]", filename)[-1].strip()


def _unstorable_numbers(form: Mapping[str, Any]) -> dict[str, FieldMessage]:
    """Numbers no field holds: NaN and infinities (which JSON cannot carry, though Python's parser reads them) and
    integers past 64 bits (which a float cannot compare)."""
    problems: dict[str, FieldMessage] = {}
    for name, value in form.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        if (isinstance(value, float) and not math.isfinite(value)) or not -_INT64 <= value < _INT64:
            problems[str(name)[:64]] = (N_("Must be a finite number between -2^63 and 2^63"), {})
    return problems


@dataclass(frozen=True)
class Prefill:
    """Values found in shared data, and where each came from (recorded on the application)."""

    values: dict[str, Any] = field(default_factory=dict)
    sources: list[dict[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class UploadedMaterial:
    """A material file as received: its name as the applicant's computer called it, and where it sits now."""

    filename: str
    path: Path


def resource_of(application: Application) -> Any:
    return application_resource(
        application.id,
        application.applicant_user_id,
        application.service_item.department_id,
        frozenset(task.department_id for task in application.tasks),
    )


def _licence_for(session: Session, actor: Actor, licence_type: str) -> Licence | None:
    """A valid licence of `licence_type` held by the applicant's own account.

    Only the account counts, never a credit code or ID number typed on the form: anyone can type someone else's."""
    today = date.today()
    return session.scalar(
        select(Licence)
        .where(
            Licence.licence_type == licence_type,
            Licence.revoked_at.is_(None),
            or_(Licence.valid_to.is_(None), Licence.valid_to >= today),
            Licence.holder_user_id == (actor.user_id or -1),
        )
        .order_by(Licence.issued_at.desc())
        .limit(1)
    )


def _check_file(material: Mapping[str, Any], upload: UploadedMaterial) -> tuple[str, FieldMessage | None]:
    """The file's type (its extension), or why it is refused."""
    if _CONTROL.search(upload.filename):
        return "", (N_("The file name contains control characters: rename the file"), {})
    extension = Path(_base_name(upload.filename)).suffix.lower().lstrip(".")
    allowed = [str(f) for f in material.get("formats", ["pdf", "jpg", "png"])]
    if extension not in allowed:
        return extension, (
            N_("Files of type {type} are not accepted here (allowed: {allowed})"),
            {"type": extension or "?", "allowed": ", ".join(allowed)},
        )
    size = upload.path.stat().st_size
    if size == 0:
        return extension, (N_("The file is empty"), {})
    limit = int(material.get("max_mb", 5))
    if size > limit * 1024 * 1024:
        return extension, (N_("The file is larger than the limit of {limit} MiB"), {"limit": limit})
    with upload.path.open("rb") as handle:
        head = handle.read(16)
    if not head.startswith(MAGIC.get(extension, (b"",))):
        return extension, (N_("The file's content is not a {type} file"), {"type": extension.upper()})
    return extension, None


@dataclass(frozen=True)
class _CheckedMaterial:
    spec: Mapping[str, Any]
    upload: UploadedMaterial | None
    extension: str
    licence: Licence | None


def _check_materials(
    session: Session, actor: Actor, item: ServiceItem, form: Mapping[str, Any], uploads: Mapping[str, UploadedMaterial]
) -> tuple[list[_CheckedMaterial], dict[str, FieldMessage]]:
    checked: list[_CheckedMaterial] = []
    problems: dict[str, FieldMessage] = {}
    known = {m["code"] for m in item.materials}
    for code in uploads:
        if code not in known:
            problems[f"materials.{code[:64]}"] = (N_("This service asks for no such material"), {})
    for material in item.materials:
        key = f"materials.{material['code']}"
        upload = uploads.get(material["code"])
        if upload is not None:
            extension, problem = _check_file(material, upload)
            if problem is not None:
                problems[key] = problem
            else:
                checked.append(_CheckedMaterial(material, upload, extension, None))
            continue
        licence_type = material.get("licence_type")
        licence = _licence_for(session, actor, licence_type) if licence_type else None
        if licence is not None:
            checked.append(_CheckedMaterial(material, None, "", licence))
        elif material.get("required", True):
            problems[key] = (N_("This material is required"), {})
    return checked, problems


def _check_audience(actor: Actor, item: ServiceItem) -> None:
    citizen_ok = actor.has_role(Role.CITIZEN) and "citizen" in item.audience
    enterprise_ok = actor.has_role(Role.ENTERPRISE) and ({"enterprise", "investor"} & set(item.audience))
    if not (citizen_ok or enterprise_ok):
        raise AccessRefused(
            actor,
            ServicesAction.APPLY,
            None,
            code="application.wrong_audience",
            message=N_("This service is for {audience}: sign in with such an account to apply"),
            audience="、".join(item.audience),
        )


@contextmanager
def _stored_files(directory: Path) -> Iterator[Path]:
    """A directory for an application's files that disappears again unless the block finishes."""
    # a directory already there is left by a submission whose transaction rolled back (the id is free again)
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    try:
        yield directory
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise


def _store(upload: UploadedMaterial, target: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    partial = target.with_suffix(target.suffix + ".part")
    with upload.path.open("rb") as source, partial.open("wb") as out:
        while chunk := source.read(1024 * 1024):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    partial.replace(target)
    return size, digest.hexdigest()


def open_new_tasks(
    session: Session, application: Application, process: ServiceProcess, instance: workflow.Instance, item: ServiceItem
) -> None:
    """Rows for the user tasks the engine now waits on that have none yet."""
    known = {task.engine_task_id for task in application.tasks}
    for open_task in instance.open_tasks():
        if open_task.task_id in known:
            continue
        application.tasks.append(
            ApplicationTask(
                engine_task_id=open_task.task_id,
                step=open_task.step,
                step_name=open_task.name,
                department_id=process.step_departments[open_task.step],
                clock_paused=open_task.step in item.clock_paused_steps,
                opened_at=utcnow(),
            )
        )
    session.flush()


def save_instance(application: Application, instance: workflow.Instance) -> None:
    """Keep the engine's state on the application (its size too, which the workflow benchmark reports)."""
    state = instance.dump()
    application.instance_state = state
    application.instance_bytes = len(json.dumps(state, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def submit(
    session: Session,
    actor: Actor,
    code: str,
    form: Any,
    uploads: Mapping[str, UploadedMaterial],
    *,
    data_dir: Path,
    prefill: Prefill | None = None,
) -> Application:
    """Submit an application to service item `code`: 201 with a receipt, or every problem at once (nothing stored)."""
    authorize(actor, ServicesAction.APPLY)
    if actor.user_id is None:  # the operator at the command line has no account to hold an application
        raise InvalidInput("application.needs_account", N_("Applications are made from a user account"))
    item = items.get_item(session, code)
    _check_audience(actor, item)
    process = items.current_process(session, item)
    if not isinstance(form, Mapping):
        raise InvalidInput("form.not_object", N_("The form must be an object of field values"))
    filled = dict(form)
    if prefill is not None:
        filled.update({k: v for k, v in prefill.values.items() if filled.get(k) in (None, "")})
    numbers = _unstorable_numbers(filled)
    cleaned, problems = forms.field_problems(item.form_schema, {k: v for k, v in filled.items() if k not in numbers})
    problems.update(numbers)
    checked, material_problems = _check_materials(session, actor, item, cleaned, uploads)
    problems.update(material_problems)
    if problems:
        raise FieldErrors("form.invalid", N_("{count} fields of the form need correcting"), problems)
    now = utcnow()
    calendar = load_calendar(session)
    instance = workflow.Instance.start(process.spec_state, {**cleaned, "service": item.code})
    application = Application(
        receipt=uuid.uuid4().hex,  # replaced by the numbered receipt once the id is known
        service_item_id=item.id,
        service_item=item,
        process_id=process.id,
        applicant_user_id=actor.user_id,
        applicant_name=str(
            cleaned.get("enterprise_name") or cleaned.get("applicant_name") or actor.display_name or actor.username
        ),
        form=cleaned,
        autofilled=list(prefill.sources) if prefill is not None else [],
        submitted_at=now,
        promised_due_at=calendar.add_working_days(now, item.promised_days),
        legal_due_at=calendar.add_working_days(now, item.legal_days),
        instance_state={},
    )
    session.add(application)
    session.flush()
    application.receipt = f"YW{now:%Y%m%d}{application.id:06d}"
    save_instance(application, instance)
    open_new_tasks(session, application, process, instance, item)
    with _stored_files(data_dir / APPLICATIONS_DIR / str(application.id)) as directory:
        for material in checked:
            spec = material.spec
            row = ApplicationMaterial(code=spec["code"], name=spec["name"], source="upload")
            if material.upload is not None:
                stored_as = directory / f"{spec['code']}.{material.extension}"
                row.size, row.sha256 = _store(material.upload, stored_as)
                row.filename = _base_name(material.upload.filename)[:255]
                row.content_type = CONTENT_TYPES[material.extension]
                row.stored_as = str(stored_as.relative_to(data_dir))
            else:
                assert material.licence is not None
                row.source = "licence"
                row.licence_number = material.licence.number
            application.materials.append(row)
        audit.record(
            session,
            actor,
            "application.submit",
            resource_type="application",
            resource_id=str(application.id),
            detail={
                "service": item.code,
                "receipt": application.receipt,
                "materials": [m.code for m in application.materials],
                "licences_used": [m.licence_number for m in application.materials if m.licence_number],
                "autofilled": [f"{s['dataset']}.{s['source_field']}" for s in application.autofilled],
            },
        )
        session.flush()
    return application


def get_application(session: Session, actor: Actor, application_id: int, *, lock: bool = False) -> Application:
    """An application its applicant, the departments handling it, the admin or the auditor may see."""
    query = select(Application).where(Application.id == application_id)
    if lock:
        query = query.with_for_update()
    application = session.scalar(query) if is_row_id(application_id) else None
    if application is None:
        raise NotFound("application.not_found", N_("No application {id}"), id=application_id)
    authorize(actor, ServicesAction.VIEW_APPLICATION, resource_of(application))
    return application


def read_application(session: Session, actor: Actor, application_id: int) -> Application:
    """`get_application` for showing it: a reading by anyone but the applicant is audited (it holds personal data)."""
    application = get_application(session, actor, application_id)
    if _audited_reading(actor, application):
        audit.record(session, actor, "application.read", resource_type="application", resource_id=str(application.id))
    return application


def record_reading(database: Database, actor: Actor, application: Application) -> None:
    """What `read_application` records, for a page or API answer read in a reading session: in a short writing
    session of its own, so that showing an application never holds SQLite's write lock (and an applicant's own
    reading writes nothing)."""
    if _audited_reading(actor, application):
        with database.session() as session:
            audit.record(
                session, actor, "application.read", resource_type="application", resource_id=str(application.id)
            )


def _audited_reading(actor: Actor, application: Application) -> bool:
    return actor.user_id is None or actor.user_id != application.applicant_user_id


def list_applications(session: Session, actor: Actor, *, state: str = "") -> list[Application]:
    """The actor's own applications (applicants), newest first."""
    authorize(actor, ServicesAction.LIST_APPLICATIONS)
    query = select(Application).where(Application.applicant_user_id == (actor.user_id or -1))
    if state:
        if state not in {s.value for s in ApplicationState}:
            raise InvalidInput("application.bad_state", N_("Unknown application state {state}"), state=state)
        query = query.where(Application.state == state)
    return list(session.scalars(query.order_by(Application.submitted_at.desc()).limit(MAX_LIST)))


# Form fields holding personal data, by masking kind: masked for readers who neither filed nor handle the application.
PERSONAL_FIELDS = {
    "id_number": "id_number",
    "legal_representative_id": "id_number",
    "phone": "phone",
    "contact_phone": "phone",
    "applicant_name": "name",
    "address": "address",
}


def shown_form(application: Application, actor: Actor) -> dict[str, Any]:
    """The applicant and the handling staff see the form as filled; others (admin, auditor) see personal data masked."""
    if actor.user_id == application.applicant_user_id or actor.has_role(Role.DEPT_STAFF):
        return application.form
    return {k: (mask(PERSONAL_FIELDS[k], str(v)) if k in PERSONAL_FIELDS else v) for k, v in application.form.items()}


def material_file(
    session: Session, actor: Actor, data_dir: Path, application_id: int, code: str
) -> tuple[ApplicationMaterial, Path]:
    """An uploaded material's file, for the applicant and the handling staff; each reading is audited."""
    application = get_application(session, actor, application_id)
    authorize(actor, ServicesAction.READ_MATERIAL, resource_of(application))
    material = next((m for m in application.materials if m.code == code and m.stored_as), None)
    if material is None:
        raise NotFound(
            "material.not_found",
            N_("Application {id} has no uploaded material {material}"),
            id=application_id,
            material=code,
        )
    audit.record(
        session,
        actor,
        "application.material_read",
        resource_type="application",
        resource_id=str(application.id),
        detail={"material": code},
    )
    return material, data_dir / material.stored_as
