"""`yiwang sharing …`: list, approve, refuse and revoke sharing from the command line (as the local operator)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Column, Table

from yiwang.cli.context import ErrorReportingGroup, console, state
from yiwang.core.errors import InvalidInput
from yiwang.core.i18n import N_
from yiwang.core.identity import Actor
from yiwang.core.masking import Disclosure
from yiwang.sharing import service
from yiwang.sharing.models import RequestState

sharing_app = typer.Typer(cls=ErrorReportingGroup, help="一网协同 Sharing requests and grants.", no_args_is_help=True)


def _disclosures(pairs: list[str]) -> dict[str, str]:
    """``FIELD=masked`` pairs as a mapping; the disclosure must be one we know."""
    chosen: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or value not in {d.value for d in Disclosure}:
            raise InvalidInput(
                "sharing.bad_disclosure",
                N_("Disclosure of {field} must be one of: {choices}"),
                field=name,
                choices=", ".join(d.value for d in Disclosure),
            )
        chosen[name] = value
    return chosen


@sharing_app.command("requests")
def list_requests(
    ctx: typer.Context,
    state_filter: Annotated[
        RequestState | None, typer.Option("--state", help="只看此状态 Only requests in this state.")
    ] = None,
    overdue: Annotated[bool, typer.Option(help="只看逾期待审 Only pending requests past the time limit.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines for scripts.")] = False,
) -> None:
    """共享申请 List sharing requests, newest first."""
    with state(ctx).database() as database, database.read_session() as session:
        actor = Actor.operator()
        found = service.list_requests(
            session, actor, state=state_filter.value if state_filter else None, limit=service.MAX_LIST
        )
        if overdue:
            found = [r for r in found if service.is_overdue(r)]
        if as_json:
            for request in found:
                record = {
                    "id": request.id,
                    "dataset": request.dataset.name,
                    "owner": request.dataset.department.name,
                    "consumer": request.consumer.name,
                    "fields": request.fields,
                    "state": service.effective_state(request).value,
                    "overdue": service.is_overdue(request),
                    "grant_id": request.grant.id if request.grant else None,
                    "created_at": request.created_at.isoformat(),
                }
                console.print_json(json.dumps(record, ensure_ascii=False), indent=None)
            return
        # id, dataset and grant are what scripts and people copy: never wrapped or cut, however narrow the terminal
        table = Table(
            Column("编号 id", no_wrap=True),
            Column("数据资源 dataset", no_wrap=True, min_width=max((len(r.dataset.name) for r in found), default=8)),
            "提供方 owner",
            "申请方 consumer",
            "状态 state",
            "截止 due",
            Column("授权 grant", no_wrap=True),
        )
        for request in found:
            late = service.is_overdue(request)
            table.add_row(
                str(request.id),
                request.dataset.name,
                request.dataset.department.name,
                request.consumer.name,
                service.effective_state(request).value + (" [red]逾期 overdue[/]" if late else ""),
                f"{request.review_due_at:%Y-%m-%d}" if request.state == RequestState.PENDING.value else "—",
                request.grant.id if request.grant else "—",
            )
        console.print(table)


@sharing_app.command("approve")
def approve(
    ctx: typer.Context,
    request_id: Annotated[int, typer.Argument(help="申请编号 Request id.")],
    fields: Annotated[str | None, typer.Option(help="批准字段 Fields approved, comma-separated.")] = None,
    mask: Annotated[
        list[str] | None, typer.Option("--mask", help="FIELD=raw|masked|pseudonym|withheld (repeatable).")
    ] = None,
    days: Annotated[int | None, typer.Option(help="期限 Days approved.")] = None,
    rate_limit: Annotated[int | None, typer.Option(help="每分钟调用上限 Calls a minute.")] = None,
    raw_id_number: Annotated[bool, typer.Option(help="明确批准身份证号原文 Approve raw ID numbers.")] = False,
    note: Annotated[str, typer.Option(help="审核意见 Note to the consumer.")] = "",
) -> None:
    """批准 Approve a pending request (as asked, or narrower); prints the grant id on the last line."""
    settings = state(ctx).settings()
    decision = service.Decision(
        fields=[f.strip() for f in fields.split(",") if f.strip()] if fields else None,
        disclosures=_disclosures(mask or []),
        days=days,
        rate_limit=rate_limit,
        raw_id_number=raw_id_number,
        note=note,
    )
    with state(ctx).database() as database, database.session() as session:
        grant = service.approve_request(
            session, Actor.operator(), request_id, decision, service.SharingPolicy.of(settings)
        )
        console.print(f"[green]✓[/] 已批准 approved request {request_id}; 授权 grant:")
        console.print(grant.id)


@sharing_app.command("refuse")
def refuse(
    ctx: typer.Context,
    request_id: Annotated[int, typer.Argument(help="申请编号 Request id.")],
    reason: Annotated[str, typer.Option(help="驳回理由 Reason shown to the consumer.")],
) -> None:
    """驳回 Refuse a pending request."""
    with state(ctx).database() as database, database.session() as session:
        service.refuse_request(session, Actor.operator(), request_id, reason)
    console.print(f"[green]✓[/] 已驳回 refused request {request_id}")


@sharing_app.command("revoke")
def revoke(
    ctx: typer.Context,
    grant_id: Annotated[str, typer.Argument(help="授权编号 Grant id.")],
    reason: Annotated[str, typer.Option(help="撤销理由 Reason.")] = "",
) -> None:
    """撤销授权 Revoke a grant; the next exchange call under it is refused."""
    with state(ctx).database() as database, database.session() as session:
        service.revoke_grant(session, Actor.operator(), grant_id, reason)
    console.print(f"[green]✓[/] 已撤销 revoked grant {grant_id}")
