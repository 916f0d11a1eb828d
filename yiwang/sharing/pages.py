"""Pages of sharing (一网协同): the hub, a request form, a request with its decision forms, grants with their use,
who used our data, and the administrator's sharing network."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from yiwang.catalog import service as catalog
from yiwang.catalog.models import ShareType
from yiwang.core.authz import authorize, can
from yiwang.core.errors import InvalidInput
from yiwang.core.i18n import N_, Translate
from yiwang.core.identity import Role
from yiwang.core.masking import Disclosure, PersonalKind
from yiwang.core.models import utcnow
from yiwang.sharing import service, usage
from yiwang.sharing.models import STATE_LABELS, RequestState, SharingRequest
from yiwang.sharing.rules import SharingAction
from yiwang.web.charts import flow_graph, horizontal_bars, lines
from yiwang.web.deps import CsrfChecked, PageActor, ReadSessionDep, SessionDep, SettingsDep, TranslateDep
from yiwang.web.templating import render

router = APIRouter(include_in_schema=False)
DISCLOSURE_LABELS = {
    Disclosure.RAW: N_("Raw"),
    Disclosure.MASKED: N_("Masked"),
    Disclosure.PSEUDONYM: N_("Pseudonym"),
    Disclosure.WITHHELD: N_("Withheld (lookup key only)"),
}
EVENT_LABELS = {
    "submitted": N_("Submitted"),
    "granted": N_("Granted at once (shared unconditionally)"),
    "approved": N_("Approved"),
    "narrowed": N_("Approved with narrower scope"),
    "refused": N_("Refused"),
    "withdrawn": N_("Withdrawn"),
    "revoked": N_("Grant revoked"),
}
CHART_GRANTS = 15


def _labels() -> dict[str, Any]:
    return {"states": STATE_LABELS, "disclosures": DISCLOSURE_LABELS, "events": EVENT_LABELS}


@router.get("/sharing", response_class=HTMLResponse)
def show_sharing(request: Request, actor: PageActor, session: ReadSessionDep) -> Response:
    """The hub: what waits for the actor's decision, what their department asked for, the grants both ways."""
    authorize(actor, SharingAction.BROWSE)
    everyone = actor.has_role(Role.ADMIN, Role.AUDITOR)
    queue = service.review_queue(session, actor)
    outgoing = [] if everyone else service.list_requests(session, actor, direction="outgoing")
    recent = service.list_requests(session, actor, direction="all", limit=50) if everyone else []
    held = [] if everyone else service.list_grants(session, actor, direction="held", live_only=True)
    given = service.list_grants(session, actor, direction="all" if everyone else "given", live_only=True)
    return render(
        request,
        "sharing/hub.html",
        actor,
        queue=queue,
        outgoing=outgoing,
        recent=recent,
        held=held,
        given=given,
        everyone=everyone,
        now=utcnow(),
        state_of=service.effective_state,
        is_overdue=service.is_overdue,
        labels=_labels(),
    )


@router.get("/sharing/new", response_class=HTMLResponse)
def show_new_request(request: Request, actor: PageActor, session: ReadSessionDep, dataset: str = "") -> Response:
    authorize(actor, SharingAction.BROWSE)
    found = catalog.get_dataset(session, actor, dataset) if dataset else None
    version = found.current_version if found else None
    return render(
        request,
        "sharing/new.html",
        actor,
        dataset=found,
        fields=version.fields if version else [],
        not_shared=found is not None and found.share_type == ShareType.NONE.value,
        own=found is not None and found.department_id == actor.department_id,
        may_request=actor.has_role(Role.DEPT_STAFF) and actor.department_id is not None,
    )


@router.post("/sharing/new", dependencies=[CsrfChecked])
def create_request_from_form(
    actor: PageActor,
    session: SessionDep,
    settings: SettingsDep,
    dataset: Annotated[str, Form(max_length=100)],
    purpose: Annotated[str, Form(max_length=2000)],
    legal_basis: Annotated[str, Form(max_length=2000)],
    days: Annotated[int, Form(ge=1, le=service.MAX_DAYS)],
    fields: Annotated[list[str] | None, Form()] = None,
    filter_field: Annotated[str, Form(max_length=200)] = "",
    filter_value: Annotated[str, Form(max_length=200)] = "",
    expected_calls_per_day: Annotated[int | None, Form(ge=0, le=10_000_000)] = None,
) -> Response:
    row_filter = {filter_field: filter_value} if filter_field and filter_value else {}
    data = service.RequestInput(
        dataset=dataset,
        fields=fields or [],
        purpose=purpose,
        legal_basis=legal_basis,
        days=days,
        row_filter=row_filter,
        expected_calls_per_day=expected_calls_per_day,
    )
    created = service.create_request(session, actor, data, service.SharingPolicy.of(settings))
    return RedirectResponse(f"/sharing/requests/{created.id}?filed=1", status_code=303)


def _fields_of(sharing_request: SharingRequest) -> list[Any]:
    version = sharing_request.dataset.current_version
    return [f for f in (version.fields if version else []) if f.name in sharing_request.fields]


@router.get("/sharing/requests/{request_id}", response_class=HTMLResponse)
def show_request(request_id: int, request: Request, actor: PageActor, session: ReadSessionDep) -> Response:
    sharing_request = service.get_request(session, actor, request_id)
    resource = service.resource_of(sharing_request)
    pending = sharing_request.state == RequestState.PENDING.value
    grant = sharing_request.grant
    return render(
        request,
        "sharing/request.html",
        actor,
        r=sharing_request,
        grant=grant,
        state=service.effective_state(sharing_request),
        overdue=service.is_overdue(sharing_request),
        live=grant is not None and service.is_live(grant),
        fields=_fields_of(sharing_request),
        may_decide=pending and can(actor, SharingAction.DECIDE, resource),
        may_withdraw=sharing_request.state in (RequestState.PENDING.value, RequestState.GRANTED.value)
        and can(actor, SharingAction.WITHDRAW, resource),
        may_revoke=grant is not None and grant.revoked_at is None and can(actor, SharingAction.REVOKE, resource),
        personal_none=PersonalKind.NONE.value,
        id_number=PersonalKind.ID_NUMBER.value,
        labels=_labels(),
        notice=request.query_params.get("filed") or request.query_params.get("done"),
    )


@router.post("/sharing/requests/{request_id}/approve", dependencies=[CsrfChecked])
async def approve_request_from_form(
    request_id: int, request: Request, actor: PageActor, session: SessionDep, settings: SettingsDep
) -> Response:
    """Fields arrive as ``field`` (checked ones) and ``disclosure:<field>``; the rest as named inputs."""
    form = await request.form()
    texts = {key: value for key, value in form.multi_items() if isinstance(value, str)}
    chosen = [value for key, value in form.multi_items() if key == "field" and isinstance(value, str)]
    disclosures = {
        key.removeprefix("disclosure:"): value
        for key, value in texts.items()
        if key.startswith("disclosure:") and key.removeprefix("disclosure:") in chosen
    }
    decision = service.Decision(
        fields=chosen,
        disclosures=disclosures,
        days=_optional_int(texts.get("days", "")),
        rate_limit=_optional_int(texts.get("rate_limit", "")),
        raw_id_number=texts.get("raw_id_number") == "1",
        note=texts.get("note", "")[: service.MAX_TEXT],
    )
    service.approve_request(session, actor, request_id, decision, service.SharingPolicy.of(settings))
    return RedirectResponse(f"/sharing/requests/{request_id}?done=approved", status_code=303)


def _optional_int(text: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not text.isdigit() or len(text) > 9:
        raise InvalidInput("sharing.bad_number", N_("Enter a whole number"))
    return int(text)


@router.post("/sharing/requests/{request_id}/refuse", dependencies=[CsrfChecked])
def refuse_request_from_form(
    request_id: int, actor: PageActor, session: SessionDep, reason: Annotated[str, Form(max_length=2000)] = ""
) -> Response:
    service.refuse_request(session, actor, request_id, reason)
    return RedirectResponse(f"/sharing/requests/{request_id}?done=refused", status_code=303)


@router.post("/sharing/requests/{request_id}/withdraw", dependencies=[CsrfChecked])
def withdraw_request_from_form(
    request_id: int, actor: PageActor, session: SessionDep, reason: Annotated[str, Form(max_length=2000)] = ""
) -> Response:
    service.withdraw_request(session, actor, request_id, reason)
    return RedirectResponse(f"/sharing/requests/{request_id}?done=withdrawn", status_code=303)


@router.post("/sharing/grants/{grant_id}/revoke", dependencies=[CsrfChecked])
def revoke_grant_from_form(
    grant_id: str, actor: PageActor, session: SessionDep, reason: Annotated[str, Form(max_length=2000)] = ""
) -> Response:
    grant = service.revoke_grant(session, actor, grant_id, reason)
    return RedirectResponse(f"/sharing/requests/{grant.request_id}?done=revoked", status_code=303)


@router.get("/sharing/grants/{grant_id}", response_class=HTMLResponse)
def show_grant(
    grant_id: str, request: Request, actor: PageActor, session: ReadSessionDep, translate: TranslateDep
) -> Response:
    """A grant, how to call it, and its calls per day."""
    grant = service.get_grant(session, actor, grant_id)
    daily = usage.grant_daily_use(session, actor, grant_id)
    chart = lines(
        [f"{d.day:%m-%d}" for d in daily],
        {translate(N_("Calls")): [d.calls for d in daily], translate(N_("Rows returned")): [d.rows for d in daily]},
    )
    return render(
        request,
        "sharing/grant.html",
        actor,
        grant=grant,
        live=service.is_live(grant),
        chart=chart,
        total_calls=sum(d.calls for d in daily),
        total_rows=sum(d.rows for d in daily),
        consumer=can(actor, SharingAction.EXCHANGE, service.resource_of(grant.request)),
        labels=_labels(),
    )


@router.get("/sharing/usage", response_class=HTMLResponse)
def show_usage(request: Request, actor: PageActor, session: ReadSessionDep, translate: TranslateDep) -> Response:
    """Who used our data (and what we used), for what, how often — the last 30 days."""
    authorize(actor, SharingAction.BROWSE)
    uses = usage.grant_uses(session, actor)
    given = [u for u in uses if actor.has_role(Role.ADMIN, Role.AUDITOR) or u.owner == actor.department_name]
    held = [u for u in uses if u.consumer == actor.department_name and u not in given]
    top = [u for u in given if u.calls][:CHART_GRANTS]
    chart = horizontal_bars(
        [f"{u.consumer} · {u.dataset_title}" for u in top],
        {translate(N_("Calls")): [u.calls for u in top], translate(N_("Rows returned")): [u.rows for u in top]},
    )
    return render(request, "sharing/usage.html", actor, given=given, held=held, chart=chart, has_chart=bool(top))


def _network_chart(edges: list[usage.NetworkEdge], translate: Translate) -> dict[str, Any]:
    nodes: dict[str, int] = {}
    for edge in edges:
        nodes[edge.owner] = nodes.get(edge.owner, 0) + edge.calls + 1
        nodes[edge.consumer] = nodes.get(edge.consumer, 0) + edge.calls + 1
    label = translate(N_("{calls} calls, {grants} live grants"))
    return flow_graph(
        nodes,
        [(e.owner, e.consumer, e.calls, label.format(calls=e.calls, grants=e.grants)) for e in edges],
    )


@router.get("/sharing/network", response_class=HTMLResponse)
def show_network(request: Request, actor: PageActor, session: ReadSessionDep, translate: TranslateDep) -> Response:
    """The administrator's picture: which departments share with which, and how much (last 30 days)."""
    authorize(actor, SharingAction.NETWORK)
    edges = usage.sharing_network(session, actor)
    departments = {e.owner for e in edges} | {e.consumer for e in edges}
    return render(
        request,
        "sharing/network.html",
        actor,
        edges=edges,
        departments=sorted(departments),
        chart=_network_chart(edges, translate),
    )
