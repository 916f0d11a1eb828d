"""电子证照: electronic licences a completed application issues, and their verification by other departments.

A new enterprise gets its unified social credit code with its business licence (the code is made here, with a
valid GB 32100 check character); a person's licence is held under their citizen ID number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from yiwang.core import audit
from yiwang.core.authz import authorize
from yiwang.core.errors import NotFound
from yiwang.core.i18n import N_
from yiwang.core.identity import Actor
from yiwang.core.masking import mask
from yiwang.core.validators import credit_code_check_char, is_credit_code
from yiwang.services.models import Application, Licence
from yiwang.services.rules import ServicesAction

_CREDIT_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def new_credit_code(division_code: str, serial: int) -> str:
    """A unified social credit code for a new company (registration authority 9, type 1) in `division_code`."""
    body, number = "", serial
    for _ in range(9):
        number, digit = divmod(number, len(_CREDIT_CHARSET))
        body = _CREDIT_CHARSET[digit] + body
    first17 = f"91{division_code}{body}"
    return first17 + credit_code_check_char(first17)


def _holder(application: Application) -> tuple[str, str]:
    form = application.form
    for key in ("credit_code", "id_number", "legal_representative_id"):
        if key == "legal_representative_id" and form.get("enterprise_name"):
            break  # a company being set up is not its representative
        if form.get(key):
            return str(form.get("enterprise_name") or form.get("applicant_name") or application.applicant_name), str(
                form[key]
            )
    return str(form.get("enterprise_name") or application.applicant_name), new_credit_code("460000", application.id)


def issue_for(session: Session, actor: Actor, application: Application) -> Licence | None:
    """The licence a just-completed application issues, if its item issues one."""
    spec = application.service_item.issues_licence
    if not spec:
        return None
    holder_name, holder_code = _holder(application)
    today = date.today()
    years = spec.get("valid_years")
    licence = Licence(
        number=f"{spec['type'].upper()}-{today:%Y}-{application.id:06d}",
        licence_type=spec["type"],
        name=spec["name"],
        holder_name=holder_name,
        holder_code=holder_code,
        holder_user_id=application.applicant_user_id,
        issuer_department_id=application.service_item.department_id,
        application_id=application.id,
        valid_from=today,
        valid_to=today.replace(year=today.year + int(years)) if years else None,
    )
    session.add(licence)
    session.flush()
    audit.record(
        session,
        actor,
        "licence.issue",
        resource_type="licence",
        resource_id=licence.number,
        detail={"application": application.id, "type": licence.licence_type},
    )
    return licence


def licence_of(session: Session, application_id: int) -> Licence | None:
    return session.scalar(select(Licence).where(Licence.application_id == application_id))


def my_licences(session: Session, actor: Actor) -> list[Licence]:
    """The licences the actor holds (their 电子证照 wallet)."""
    authorize(actor, ServicesAction.LIST_LICENCES)
    return list(
        session.scalars(
            select(Licence).where(Licence.holder_user_id == (actor.user_id or -1)).order_by(Licence.issued_at.desc())
        )
    )


@dataclass(frozen=True)
class LicenceCheck:
    """What a verifying department learns: valid or not and why, with the holder masked."""

    number: str
    valid: bool
    reason: str
    licence_type: str
    name: str
    holder_name: str
    holder_code: str
    issuer: str
    valid_from: date
    valid_to: date | None


def verify(session: Session, actor: Actor, number: str, *, purpose: str) -> LicenceCheck:
    """Check a licence by number (department staff, with a purpose); every check is audited."""
    authorize(actor, ServicesAction.VERIFY_LICENCE)
    licence = session.scalar(select(Licence).where(Licence.number == number.strip().upper()))
    if licence is None:
        raise NotFound("licence.not_found", N_("No licence {number}"), number=number[:64])
    today = date.today()
    if licence.revoked_at is not None:
        reason = "revoked"
    elif licence.valid_to is not None and licence.valid_to < today:
        reason = "expired"
    else:
        reason = "valid"
    audit.record(
        session,
        actor,
        "licence.verify",
        resource_type="licence",
        resource_id=licence.number,
        purpose=purpose,
        detail={"result": reason},
    )
    kind = "credit_code" if is_credit_code(licence.holder_code) else "id_number"
    return LicenceCheck(
        number=licence.number,
        valid=reason == "valid",
        reason=reason,
        licence_type=licence.licence_type,
        name=licence.name,
        holder_name=mask("name", licence.holder_name) or "" if kind == "id_number" else licence.holder_name,
        holder_code=mask(kind, licence.holder_code) or "",
        issuer=licence.issuer.name,
        valid_from=licence.valid_from,
        valid_to=licence.valid_to,
    )


def import_licence(
    session: Session,
    actor: Actor,
    *,
    licence_type: str,
    name: str,
    number: str,
    holder_name: str,
    holder_code: str,
    holder_user_id: int | None,
    issuer_department_id: int,
    valid_from: date,
    valid_to: date | None,
) -> Licence:
    """A licence issued before the platform (from the existing licence library 电子证照库), admin only."""
    authorize(actor, ServicesAction.PROCESS_EDIT)
    licence = Licence(
        number=number,
        licence_type=licence_type,
        name=name,
        holder_name=holder_name,
        holder_code=holder_code,
        holder_user_id=holder_user_id,
        issuer_department_id=issuer_department_id,
        valid_from=valid_from,
        valid_to=valid_to,
    )
    session.add(licence)
    session.flush()
    audit.record(session, actor, "licence.import", resource_type="licence", resource_id=number)
    return licence
