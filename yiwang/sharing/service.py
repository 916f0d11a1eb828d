"""一网协同 sharing requests and grants: ask, decide (approve, narrow or refuse), withdraw, revoke, list.

A consumer department asks for fields of another department's dataset for a purpose on a legal basis. Data shared
unconditionally (无条件共享) is granted at once; data shared on approval (有条件共享) waits for the owner department,
who may approve fewer fields, fewer days, extra row conditions and a disclosure per field; data not shared (不予共享)
cannot be asked for. Every step is kept in the request's history and in the audit chain.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from yiwang.catalog import service as catalog
from yiwang.catalog.models import Dataset, DatasetVersion, ShareType
from yiwang.catalog.rows import parse_filter
from yiwang.core import audit
from yiwang.core.authz import authorize, can, require_signed_in
from yiwang.core.errors import Conflict, InvalidInput, NotFound
from yiwang.core.i18n import N_
from yiwang.core.identity import Actor, Role
from yiwang.core.masking import Disclosure, PersonalKind
from yiwang.core.models import is_row_id, utcnow
from yiwang.core.settings import Settings
from yiwang.core.workdays import load_calendar
from yiwang.sharing.models import Grant, RequestEvent, RequestState, SharingRequest
from yiwang.sharing.rules import SharingAction, request_resource

MAX_DAYS = 3 * 365
MAX_TEXT = 2000
MAX_LIST = 500


@dataclass(frozen=True)
class SharingPolicy:
    """The bureau's settings for sharing: the review time limit and the default rate limit of a grant."""

    review_days: int = 10
    rate_limit: int = 600

    @classmethod
    def of(cls, settings: Settings) -> SharingPolicy:
        return cls(review_days=settings.sharing_review_days, rate_limit=settings.sharing_rate_limit)


@dataclass(frozen=True)
class RequestInput:
    """What a consumer department asks for."""

    dataset: str
    fields: Sequence[str]
    purpose: str
    legal_basis: str
    days: int
    row_filter: Mapping[str, str] = field(default_factory=dict)  # {"division": "460106", "age__gte": "18"}
    expected_calls_per_day: int | None = None


@dataclass(frozen=True)
class Decision:
    """An owner's approval: each part optional, and each may only narrow what was asked."""

    fields: Sequence[str] | None = None
    disclosures: Mapping[str, str] = field(default_factory=dict)
    days: int | None = None
    row_filter: Mapping[str, str] = field(default_factory=dict)  # conditions added to the requested ones
    rate_limit: int | None = None
    raw_id_number: bool = False  # raw citizen ID numbers need this explicit flag
    note: str = ""


def resource_of(request: SharingRequest) -> Any:
    return request_resource(request.consumer_department_id, request.dataset.department_id, request.id)


def _text(value: str, name: str) -> str:
    text = value.strip()
    if not text:
        raise InvalidInput("sharing.missing", N_("Please fill in {field}"), field=name)
    if len(text) > MAX_TEXT:
        raise InvalidInput("sharing.too_long", N_("{field} is longer than {max} characters"), field=name, max=MAX_TEXT)
    return text


def _days(days: int, most: int = MAX_DAYS) -> int:
    if not 1 <= days <= most:
        raise InvalidInput("sharing.bad_days", N_("The period must be from 1 to {max} days"), max=most)
    return days


def _field_names(version: DatasetVersion) -> list[str]:
    return [f.name for f in version.fields]


def _check_fields(names: Sequence[str], allowed: Sequence[str]) -> list[str]:
    """`names` in the dataset's field order; each must be in `allowed`, at least one."""
    if not names:
        raise InvalidInput("sharing.no_fields", N_("Choose at least one field"))
    unknown = sorted(set(names) - set(allowed))
    if unknown:
        raise InvalidInput(
            "sharing.unknown_field", N_("These fields cannot be asked for here: {fields}"), fields=", ".join(unknown)
        )
    return [name for name in allowed if name in set(names)]


def parse_row_filter(conditions: Mapping[str, str], version: DatasetVersion) -> list[list[str]]:
    """``{"field__op": value}`` (the row API's operators, ``exact`` by default) as stored [field, op, value] triples."""
    known = set(_field_names(version))
    parsed: list[list[str]] = []
    for key, value in conditions.items():
        condition = parse_filter(str(key), str(value))
        if condition.field not in known:
            raise InvalidInput(
                "sharing.unknown_field", N_("These fields cannot be asked for here: {fields}"), fields=condition.field
            )
        parsed.append([condition.field, condition.operator, condition.value])
    return parsed


def _current_version(dataset: Dataset) -> DatasetVersion:
    version = dataset.current_version
    if version is None:
        raise InvalidInput("dataset.no_version", N_("Dataset {name} has no data yet"), name=dataset.name)
    return version


def _event(request: SharingRequest, actor: Actor, event: str, note: str = "") -> None:
    request.events.append(
        RequestEvent(
            occurred_at=utcnow(), actor_name=actor.username, department=actor.department_name, event=event, note=note
        )
    )


def create_request(session: Session, actor: Actor, data: RequestInput, policy: SharingPolicy) -> SharingRequest:
    """File a sharing request; data shared unconditionally is granted at once (the request comes back granted)."""
    require_signed_in(actor)
    dataset = catalog.get_dataset(session, actor, data.dataset)
    consumer = actor.department_id if actor.department_id is not None else -1
    authorize(actor, SharingAction.REQUEST, request_resource(consumer, dataset.department_id))
    if dataset.department_id == actor.department_id:
        raise Conflict("sharing.own_dataset", N_("Your department already holds {name}"), name=dataset.name)
    if dataset.share_type == ShareType.NONE.value:
        raise Conflict(
            "sharing.not_shared",
            N_("{name} is classified as not shared (不予共享) and cannot be requested"),
            name=dataset.name,
        )
    version = _current_version(dataset)
    if data.expected_calls_per_day is not None and data.expected_calls_per_day < 0:
        raise InvalidInput("sharing.bad_volume", N_("The expected number of calls cannot be negative"))
    now = utcnow()
    request = SharingRequest(
        dataset=dataset,
        consumer_department_id=consumer,
        requested_by=actor.username,
        fields=_check_fields(data.fields, _field_names(version)),
        row_filter=parse_row_filter(data.row_filter, version),
        purpose=_text(data.purpose, "purpose"),
        legal_basis=_text(data.legal_basis, "legal_basis"),
        days=_days(data.days),
        expected_calls_per_day=data.expected_calls_per_day,
        state=RequestState.PENDING.value,
        created_at=now,
        review_due_at=load_calendar(session).add_working_days(now, policy.review_days),
        decided_by="",
        decision_note="",
        events=[],
    )
    _event(request, actor, "submitted")
    session.add(request)
    session.flush()
    audit.record(
        session,
        actor,
        SharingAction.REQUEST,
        resource_type="dataset",
        resource_id=dataset.name,
        purpose=request.purpose,
        detail={"request": request.id, "fields": request.fields, "days": request.days},
    )
    if dataset.share_type == ShareType.UNCONDITIONAL.value:
        _grant(session, actor, request, version, Decision(), policy, automatic=True)
    return request


def _disclosures(
    version: DatasetVersion, names: Sequence[str], chosen: Mapping[str, str], raw_id_number: bool
) -> list[dict[str, str]]:
    """Each approved field with its disclosure: personal fields masked and others raw unless the approval says so."""
    kinds = {f.name: f.kind for f in version.fields}
    stray = sorted(set(chosen) - set(names))
    if stray:
        raise InvalidInput(
            "sharing.disclosure_unknown_field",
            N_("A disclosure is set for fields not approved: {fields}"),
            fields=", ".join(stray),
        )
    result: list[dict[str, str]] = []
    for name in names:
        personal = kinds[name] != PersonalKind.NONE.value
        value = chosen.get(name) or (Disclosure.MASKED if personal else Disclosure.RAW).value
        try:
            disclosure = Disclosure(value)
        except ValueError:
            raise InvalidInput(
                "sharing.bad_disclosure",
                N_("Disclosure of {field} must be one of: {choices}"),
                field=name,
                choices=", ".join(d.value for d in Disclosure),
            ) from None
        if disclosure is Disclosure.MASKED and not personal:
            raise InvalidInput(
                "sharing.nothing_to_mask",
                N_("{field} holds no personal data to mask: share it raw, as a pseudonym or withhold it"),
                field=name,
            )
        if disclosure is Disclosure.RAW and kinds[name] == PersonalKind.ID_NUMBER.value and not raw_id_number:
            raise InvalidInput(
                "sharing.raw_id_number",
                N_("Raw ID numbers ({field}) need the explicit approval flag raw_id_number"),
                field=name,
            )
        result.append({"name": name, "disclosure": disclosure.value})
    return result


def _grant(
    session: Session,
    actor: Actor,
    request: SharingRequest,
    version: DatasetVersion,
    decision: Decision,
    policy: SharingPolicy,
    *,
    automatic: bool = False,
) -> Grant:
    names = _check_fields(decision.fields if decision.fields is not None else request.fields, request.fields)
    fields = _disclosures(version, names, decision.disclosures, decision.raw_id_number)
    days = _days(decision.days, request.days) if decision.days is not None else request.days
    rate_limit = policy.rate_limit
    if decision.rate_limit is not None:
        if not 1 <= decision.rate_limit <= policy.rate_limit:
            raise InvalidInput(
                "sharing.bad_rate_limit",
                N_("The rate limit must be from 1 to {max} calls a minute"),
                max=policy.rate_limit,
            )
        rate_limit = decision.rate_limit
    kinds = {f.name: f.kind for f in version.fields}
    raw_id = any(
        f["disclosure"] == Disclosure.RAW.value and kinds[f["name"]] == PersonalKind.ID_NUMBER.value for f in fields
    )
    now = utcnow()
    grant = Grant(
        request=request,
        dataset_id=request.dataset_id,
        consumer_department_id=request.consumer_department_id,
        fields=fields,
        row_filter=[*request.row_filter, *parse_row_filter(decision.row_filter, version)],
        purpose=request.purpose,
        legal_basis=request.legal_basis,
        valid_from=now,
        valid_to=now + timedelta(days=days),
        rate_limit_per_minute=rate_limit,
        raw_id_number=raw_id,
        created_by=actor.username,
        revoked_by="",
        revoke_reason="",
    )
    session.add(grant)
    request.state = RequestState.GRANTED.value
    request.decided_at = now
    request.decided_by = "" if automatic else actor.username
    request.decision_note = decision.note.strip()
    narrowed = names != request.fields or days != request.days or bool(decision.row_filter)
    _event(request, actor, "granted" if automatic else ("narrowed" if narrowed else "approved"), request.decision_note)
    session.flush()
    audit.record(
        session,
        actor,
        "sharing.grant",
        resource_type="dataset",
        resource_id=request.dataset.name,
        purpose=request.purpose,
        detail={
            "request": request.id,
            "grant": grant.id,
            "consumer": request.consumer.name,
            "fields": {f["name"]: f["disclosure"] for f in fields},
            "days": days,
            "raw_id_number": raw_id,
            "automatic": automatic,
        },
    )
    return grant


def _pending(request: SharingRequest) -> None:
    if request.state != RequestState.PENDING.value:
        raise Conflict(
            "sharing.not_pending",
            N_("Request {id} was already decided ({state})"),
            id=request.id,
            state=request.state,
        )


def approve_request(
    session: Session, actor: Actor, request_id: int, decision: Decision, policy: SharingPolicy
) -> Grant:
    """Approve a pending request as asked or narrower; the grant starts now."""
    request = get_request(session, actor, request_id, lock=True)
    authorize(actor, SharingAction.DECIDE, resource_of(request))
    _pending(request)
    return _grant(session, actor, request, _current_version(request.dataset), decision, policy)


def refuse_request(session: Session, actor: Actor, request_id: int, reason: str) -> SharingRequest:
    """Refuse a pending request; the reason is required and shown to the consumer."""
    request = get_request(session, actor, request_id, lock=True)
    authorize(actor, SharingAction.DECIDE, resource_of(request))
    _pending(request)
    note = _text(reason, "reason")
    request.state = RequestState.REFUSED.value
    request.decided_at = utcnow()
    request.decided_by = actor.username
    request.decision_note = note
    _event(request, actor, "refused", note)
    audit.record(
        session,
        actor,
        "sharing.refuse",
        resource_type="dataset",
        resource_id=request.dataset.name,
        purpose=request.purpose,
        detail={"request": request.id, "reason": note},
    )
    return request


def withdraw_request(session: Session, actor: Actor, request_id: int, reason: str = "") -> SharingRequest:
    """The consumer takes a request back; a granted one gives up its grant, which stops working at once."""
    request = get_request(session, actor, request_id, lock=True)
    authorize(actor, SharingAction.WITHDRAW, resource_of(request))
    if request.state not in (RequestState.PENDING.value, RequestState.GRANTED.value):
        raise Conflict(
            "sharing.not_withdrawable",
            N_("Request {id} can no longer be withdrawn ({state})"),
            id=request.id,
            state=request.state,
        )
    now = utcnow()
    if request.grant is not None and request.grant.revoked_at is None:
        request.grant.revoked_at = now
        request.grant.revoked_by = actor.username
        request.grant.revoke_reason = reason.strip()
    request.state = RequestState.WITHDRAWN.value
    _event(request, actor, "withdrawn", reason.strip())
    audit.record(
        session,
        actor,
        "sharing.withdraw",
        resource_type="dataset",
        resource_id=request.dataset.name,
        purpose=request.purpose,
        detail={"request": request.id, "grant": request.grant.id if request.grant else None},
    )
    return request


def revoke_grant(session: Session, actor: Actor, grant_id: str, reason: str) -> Grant:
    """The owner department or the administrator ends a grant; its next call is refused."""
    grant = get_grant(session, actor, grant_id, lock=True)
    request = grant.request
    authorize(actor, SharingAction.REVOKE, resource_of(request))
    if grant.revoked_at is not None:
        raise Conflict("grant.already_revoked", N_("Grant {id} was already revoked"), id=grant.id)
    note = reason.strip()[:MAX_TEXT]
    grant.revoked_at = utcnow()
    grant.revoked_by = actor.username
    grant.revoke_reason = note
    request.state = RequestState.REVOKED.value
    _event(request, actor, "revoked", note)
    audit.record(
        session,
        actor,
        SharingAction.REVOKE,
        resource_type="dataset",
        resource_id=grant.dataset.name,
        purpose=grant.purpose,
        detail={"request": request.id, "grant": grant.id, "reason": note},
    )
    return grant


def get_request(session: Session, actor: Actor, request_id: int, *, lock: bool = False) -> SharingRequest:
    """A request the actor may see (consumer, owner, administrator, auditor); others get not found. With `lock`,
    the row stays locked until the transaction ends, so two reviewers cannot both decide it."""
    query = select(SharingRequest).where(SharingRequest.id == request_id)
    if lock:
        query = query.with_for_update(of=SharingRequest)
    request = session.scalar(query) if is_row_id(request_id) else None
    if request is None or not can(actor, SharingAction.VIEW, resource_of(request)):
        require_signed_in(actor)
        raise NotFound("sharing.not_found", N_("No sharing request {id}"), id=request_id)
    return request


def get_grant(session: Session, actor: Actor, grant_id: str, *, lock: bool = False) -> Grant:
    """A grant the actor may see; others get not found."""
    query = select(Grant).where(Grant.id == grant_id)
    if lock:
        query = query.with_for_update(of=Grant)
    grant = session.scalar(query)
    if grant is None or not can(actor, SharingAction.VIEW, resource_of(grant.request)):
        require_signed_in(actor)
        raise NotFound("grant.not_found", N_("No grant {id}"), id=grant_id)
    return grant


def effective_state(request: SharingRequest, now: datetime | None = None) -> RequestState:
    """The state to show: a granted request whose grant has run out reads as expired."""
    state = RequestState(request.state)
    grant = request.grant
    if state is RequestState.GRANTED and grant is not None and grant.valid_to <= (now or utcnow()):
        return RequestState.EXPIRED
    return state


def is_overdue(request: SharingRequest, now: datetime | None = None) -> bool:
    """Still pending after the bureau's review time limit."""
    return request.state == RequestState.PENDING.value and request.review_due_at < (now or utcnow())


def is_live(grant: Grant, now: datetime | None = None) -> bool:
    moment = now or utcnow()
    return grant.revoked_at is None and grant.valid_from <= moment < grant.valid_to


def _visible_requests(actor: Actor) -> Select[SharingRequest]:
    """The VIEW rule as a query: the actor's department's requests either way; everything for admins and auditors."""
    query = select(SharingRequest).join(SharingRequest.dataset)
    if actor.has_role(Role.ADMIN, Role.AUDITOR) or actor.is_operator:
        return query
    if not actor.has_role(Role.DEPT_STAFF) or actor.department_id is None:
        return query.where(SharingRequest.id.is_(None))
    return query.where(
        or_(
            SharingRequest.consumer_department_id == actor.department_id,
            Dataset.department_id == actor.department_id,
        )
    )


def list_requests(
    session: Session,
    actor: Actor,
    *,
    direction: str = "all",
    state: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[SharingRequest]:
    """Requests the actor may see, newest first: ``outgoing`` (their department asked), ``incoming`` (asked of their
    department) or ``all``; `state` may be any state including ``expired``."""
    authorize(actor, SharingAction.BROWSE)
    query = _visible_requests(actor)
    if direction == "outgoing":
        query = query.where(SharingRequest.consumer_department_id == (actor.department_id or -1))
    elif direction == "incoming":
        query = query.where(Dataset.department_id == (actor.department_id or -1))
    elif direction != "all":
        raise InvalidInput("sharing.bad_direction", N_("direction must be outgoing, incoming or all"))
    if state is not None:
        try:
            wanted = RequestState(state)
        except ValueError:
            raise InvalidInput(
                "sharing.bad_state",
                N_("state must be one of: {choices}"),
                choices=", ".join(s.value for s in RequestState),
            ) from None
        stored = RequestState.GRANTED if wanted is RequestState.EXPIRED else wanted
        query = query.where(SharingRequest.state == stored.value)
        if wanted in (RequestState.EXPIRED, RequestState.GRANTED):
            now = utcnow()
            query = query.join(SharingRequest.grant).where(
                Grant.valid_to <= now if wanted is RequestState.EXPIRED else Grant.valid_to > now
            )
    query = query.order_by(SharingRequest.created_at.desc(), SharingRequest.id.desc())
    return list(session.scalars(query.limit(max(1, min(limit, MAX_LIST))).offset(max(0, offset))).unique())


def review_queue(session: Session, actor: Actor) -> list[SharingRequest]:
    """Pending requests the actor's department must decide (all pending ones for admins), oldest deadline first."""
    authorize(actor, SharingAction.BROWSE)
    query = _visible_requests(actor).where(SharingRequest.state == RequestState.PENDING.value)
    if not (actor.has_role(Role.ADMIN, Role.AUDITOR) or actor.is_operator):
        query = query.where(Dataset.department_id == actor.department_id)
    return list(session.scalars(query.order_by(SharingRequest.review_due_at, SharingRequest.id)).unique())


def list_grants(session: Session, actor: Actor, *, direction: str = "all", live_only: bool = False) -> list[Grant]:
    """Grants the actor may see: ``held`` by their department, ``given`` on their department's data, or ``all``."""
    authorize(actor, SharingAction.BROWSE)
    visible = _visible_requests(actor).with_only_columns(SharingRequest.id)
    query = select(Grant).join(Grant.dataset).where(Grant.request_id.in_(visible))
    if direction == "held":
        query = query.where(Grant.consumer_department_id == (actor.department_id or -1))
    elif direction == "given":
        query = query.where(Dataset.department_id == (actor.department_id or -1))
    elif direction != "all":
        raise InvalidInput("sharing.bad_direction", N_("direction must be held, given or all"))
    if live_only:
        now = utcnow()
        query = query.where(Grant.revoked_at.is_(None), Grant.valid_to > now, Grant.valid_from <= now)
    return list(session.scalars(query.order_by(Grant.created_at.desc()).limit(MAX_LIST)).unique())
