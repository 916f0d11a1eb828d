"""共享统计 who used whose data, how often and for what: per grant, per day, and the network between departments.

Figures come from the per-minute call counters of the exchange API (`GrantCalls`); the audit chain holds each call.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from yiwang.catalog.models import Dataset
from yiwang.core.authz import authorize
from yiwang.core.identity import Actor, Role
from yiwang.core.models import Department, utcnow
from yiwang.sharing.models import Grant, GrantCalls
from yiwang.sharing.rules import SharingAction
from yiwang.sharing.service import get_grant, resource_of

MINUTES_A_DAY = 24 * 60


def _since_minute(days: int) -> int:
    return int(time.time() // 60) - days * MINUTES_A_DAY


@dataclass(frozen=True)
class DailyUse:
    day: date
    calls: int
    rows: int


@dataclass(frozen=True)
class GrantUse:
    """One grant's use over the period."""

    grant_id: str
    dataset: str
    dataset_title: str
    owner: str
    consumer: str
    purpose: str
    calls: int
    rows: int
    last_call: datetime | None
    live: bool


@dataclass(frozen=True)
class NetworkEdge:
    """Data flowing from `owner` to `consumer`: live grants and the calls and rows of the period."""

    owner: str
    consumer: str
    grants: int
    calls: int
    rows: int


def grant_daily_use(session: Session, actor: Actor, grant_id: str, days: int = 30) -> list[DailyUse]:
    """Calls and rows of one grant per day (UTC), oldest first, days without calls included."""
    grant = get_grant(session, actor, grant_id)
    authorize(actor, SharingAction.USAGE, resource_of(grant.request))
    since = _since_minute(days)
    per_day: dict[int, tuple[int, int]] = {}
    for minute, calls, rows in session.execute(
        select(GrantCalls.minute, GrantCalls.calls, GrantCalls.rows).where(
            GrantCalls.grant_id == grant.id, GrantCalls.minute >= since
        )
    ):
        day = minute // MINUTES_A_DAY
        before = per_day.get(day, (0, 0))
        per_day[day] = (before[0] + calls, before[1] + rows)
    today = int(time.time() // 60) // MINUTES_A_DAY
    return [
        DailyUse(date.fromordinal(date(1970, 1, 1).toordinal() + day), *per_day.get(day, (0, 0)))
        for day in range(today - days + 1, today + 1)
    ]


def grant_uses(session: Session, actor: Actor, *, days: int = 30) -> list[GrantUse]:
    """Every grant on the actor's department's data or held by it (all grants for admins and auditors), with
    calls and rows over the last `days` days, busiest first."""
    authorize(actor, SharingAction.BROWSE)
    since = _since_minute(days)
    owner = aliased(Department)
    consumer = aliased(Department)
    totals = (
        select(
            GrantCalls.grant_id,
            func.sum(GrantCalls.calls).label("calls"),
            func.sum(GrantCalls.rows).label("rows"),
            func.max(GrantCalls.minute).label("last"),
        )
        .where(GrantCalls.minute >= since)
        .group_by(GrantCalls.grant_id)
        .subquery()
    )
    query = (
        select(
            Grant,
            Dataset.name,
            Dataset.title,
            owner.name,
            consumer.name,
            func.coalesce(totals.c.calls, 0),
            func.coalesce(totals.c.rows, 0),
            totals.c.last,
        )
        .join(Dataset, Dataset.id == Grant.dataset_id)
        .join(owner, owner.id == Dataset.department_id)
        .join(consumer, consumer.id == Grant.consumer_department_id)
        .outerjoin(totals, totals.c.grant_id == Grant.id)
    )
    if not (actor.has_role(Role.ADMIN, Role.AUDITOR) or actor.is_operator):
        department = actor.department_id if actor.has_role(Role.DEPT_STAFF) and actor.department_id else -1
        query = query.where((Dataset.department_id == department) | (Grant.consumer_department_id == department))
    now = utcnow()
    uses = [
        GrantUse(
            grant_id=grant.id,
            dataset=name,
            dataset_title=title,
            owner=owner_name,
            consumer=consumer_name,
            purpose=grant.purpose,
            calls=int(calls),
            rows=int(rows),
            last_call=datetime.fromtimestamp(int(last) * 60, UTC) if last is not None else None,
            live=grant.revoked_at is None and grant.valid_from <= now < grant.valid_to,
        )
        for grant, name, title, owner_name, consumer_name, calls, rows, last in session.execute(query)
    ]
    return sorted(uses, key=lambda use: (-use.calls, use.dataset, use.consumer))


def sharing_network(session: Session, actor: Actor, *, days: int = 30) -> list[NetworkEdge]:
    """Which departments share with which: one edge per (owner, consumer) pair with any grant, for the admin's chart."""
    authorize(actor, SharingAction.NETWORK)
    edges: dict[tuple[str, str], list[int]] = {}
    for use in grant_uses(session, actor, days=days):
        edge = edges.setdefault((use.owner, use.consumer), [0, 0, 0])
        edge[0] += 1 if use.live else 0
        edge[1] += use.calls
        edge[2] += use.rows
    return [NetworkEdge(owner, consumer, *figures) for (owner, consumer), figures in sorted(edges.items())]
