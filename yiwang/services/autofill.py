"""免证办: form fields filled from shared data, with the applicant's consent, instead of asking for a certificate.

The serving department looks the applicant up under a sharing grant it holds, through the same exchange (and the
same checks, rate limits and audit entries) as any other call; a field the grant does not open, a revoked grant or
a miss simply leaves the field for the applicant to fill.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from yiwang.catalog.rows import RowFilter, RowQuery
from yiwang.core.analytics import Analytics
from yiwang.core.authz import authorize
from yiwang.core.db import Database
from yiwang.core.errors import DomainError
from yiwang.core.identity import Actor, Role
from yiwang.services import applications, items
from yiwang.services.applications import Prefill
from yiwang.services.rules import ServicesAction
from yiwang.sharing import exchange
from yiwang.sharing import service as sharing

logger = logging.getLogger("yiwang.services")


def department_actor(applicant: Actor, department_id: int, department_name: str) -> Actor:
    """The serving department acting for the applicant: the audit trail names both."""
    return Actor(
        user_id=None,
        username=f"autofill:{applicant.username}",
        display_name=department_name,
        roles=frozenset({Role.DEPT_STAFF}),
        department_id=department_id,
        department_name=department_name,
        via="autofill",
    )


def collect(
    database: Database,
    analytics: Analytics,
    data_dir: Path,
    secret: str,
    applicant: Actor,
    code: str,
    form: dict[str, Any],
) -> Prefill:
    """Look up every auto-fill field of item `code` whose key the applicant gave and whose value they left empty."""
    with database.read_session() as session:
        item = items.get_item(session, code)
        rules = [items.Autofill.model_validate(rule) for rule in item.autofill]
        acting = department_actor(applicant, item.department_id, item.department.name)
        grants = sharing.list_grants(session, acting, direction="held", live_only=True) if rules else []
        usable = {
            (grant.dataset.name, opened["name"]): grant.id
            for grant in grants
            for opened in grant.fields
            if opened.get("disclosure") != "withheld"
        }
    values: dict[str, Any] = {}
    sources: list[dict[str, str]] = []
    for rule in rules:
        key = form.get(rule.key_from)
        grant_id = usable.get((rule.dataset, rule.value_field))
        if not isinstance(key, str) or not key.strip() or form.get(rule.field) not in (None, "") or grant_id is None:
            continue
        query = RowQuery(filters=(RowFilter(rule.key_field, "exact", key.strip()),), fields=(rule.value_field,), size=1)
        try:
            page = exchange.read_granted_rows(
                database, analytics, acting, data_dir, grant_id, query, secret=secret, lookup=True
            )
        except DomainError as error:  # the applicant fills the field instead
            logger.info("auto-fill of %s skipped: %s", rule.field, error.code)
            continue
        if page.rows and page.rows[0].get(rule.value_field) not in (None, ""):
            values[rule.field] = str(page.rows[0][rule.value_field])
            sources.append(
                {"field": rule.field, "dataset": rule.dataset, "grant": grant_id, "source_field": rule.value_field}
            )
    return Prefill(values, sources)


@dataclass(frozen=True)
class Submitted:
    """What a submission answers: the new application's id, receipt and state."""

    id: int
    receipt: str
    state: str


def submit_with_consent(
    database: Database,
    analytics: Analytics,
    actor: Actor,
    code: str,
    form: dict[str, Any],
    uploads: Mapping[str, applications.UploadedMaterial],
    *,
    data_dir: Path,
    secret: str,
    consent: bool,
) -> Submitted:
    """Fill from shared data when the applicant consented, then submit in one transaction (API and web alike)."""
    authorize(actor, ServicesAction.APPLY)  # before any lookup is made on the caller's behalf
    prefill = collect(database, analytics, data_dir, secret, actor, code, form) if consent else None
    with database.session() as session:
        application = applications.submit(session, actor, code, form, uploads, data_dir=data_dir, prefill=prefill)
        return Submitted(application.id, application.receipt, application.state)
