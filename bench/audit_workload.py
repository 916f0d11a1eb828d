"""The audit benchmark's data: realistic governed calls, the rows `audit.record` stores for them, valid chains."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from yiwang.core import audit, hashing
from yiwang.core.identity import Actor, Role

COLUMNS = (*audit._FIELDS, "entry_hash")
SEED = 7
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
DEPARTMENTS = ("海南省大数据管理局", "海口市市场监督管理局", "三亚市公安局", "儋州市人力资源和社会保障局")
ROLES = (Role.DEPT_STAFF, Role.DEPT_STAFF, Role.ADMIN, Role.AUDITOR)
CALLS = (
    ("dataset.read", "dataset"),
    ("dataset.download", "dataset"),
    ("exchange.query", "grant"),
    ("sharing.approve", "sharing_request"),
    ("application.submit", "application"),
    ("user.login", "user"),
)
PURPOSES = ("行政审批材料核验", "", "统计分析（季度报表）", "双随机一公开 抽查", "一网通办 自动填表")
FIELD_NAMES = ("name", "phone", "address", "credit_code")


@dataclass(frozen=True)
class Event:
    """One governed call to remember, as a service function passes it to `audit.record`."""

    actor: Actor
    action: str
    resource_type: str
    resource_id: str
    purpose: str
    detail: dict[str, Any]


def actors() -> list[Actor]:
    return [
        Actor(
            user_id=100 + i,
            username=f"staff{i:03d}",
            roles=frozenset({ROLES[i % 4]}),
            department_id=i % 4 + 1,
            department_name=DEPARTMENTS[i % 4],
        )
        for i in range(12)
    ]


def make_events(count: int, seed: int = SEED) -> list[Event]:
    """`count` calls with Chinese purposes and small details; the same list for the same seed."""
    rng = random.Random(seed)
    people = actors()
    events = []
    for _ in range(count):
        action, resource_type = rng.choice(CALLS)
        detail = {
            "rows": rng.randint(1, 500),
            "fields": rng.sample(FIELD_NAMES, 2),
            "format": rng.choice(["json", "csv"]),
        }
        events.append(
            Event(
                rng.choice(people),
                action,
                resource_type,
                f"{resource_type}-{rng.randint(1, 99_999)}",
                rng.choice(PURPOSES),
                detail,
            )
        )
    return events


def stored_row(event: Event, seq: int, occurred_at: str, algorithm: str, prev_hash: str) -> dict[str, Any]:
    """The row `audit.record` stores for `event` (the events hold no personal data, so masking leaves them as is)."""
    return {
        "seq": seq,
        "occurred_at": occurred_at,
        "actor_id": event.actor.user_id,
        "actor_name": event.actor.username,
        "actor_role": event.actor.role_names,
        "department": event.actor.department_name,
        "action": event.action,
        "resource_type": event.resource_type,
        "resource_id": event.resource_id,
        "purpose": event.purpose,
        "result": "success",
        "algorithm": algorithm,
        "prev_hash": prev_hash,
        "detail": json.dumps(event.detail, ensure_ascii=False, sort_keys=True, separators=(",", ":")),
    }


def chain_rows(events: Sequence[Event], count: int) -> Iterator[dict[str, Any]]:
    """`count` valid, linked entries cycling through `events`, hashed with yiwang's own `entry_hash`."""
    algorithm = hashing.preferred("auto")
    prev = audit.GENESIS_HASH
    for seq in range(1, count + 1):
        occurred = (EPOCH + timedelta(milliseconds=seq)).isoformat(timespec="microseconds")
        row = stored_row(events[seq % len(events)], seq, occurred, algorithm, prev)
        row["entry_hash"] = prev = audit.entry_hash(row)
        yield row


def plain_rows(events: Sequence[Event]) -> list[dict[str, Any]]:
    """The same rows for the plain references: distinct placeholder hashes, nothing computed."""
    now = datetime.now(UTC).isoformat(timespec="microseconds")
    algorithm = hashing.preferred("auto")
    rows = []
    for seq, event in enumerate(events, start=1):
        row = stored_row(event, seq, now, algorithm, f"{seq:064x}")
        row["entry_hash"] = f"{seq + 1:064x}"
        rows.append(row)
    return rows


def row_values(row: dict[str, Any]) -> tuple[Any, ...]:
    """`row` as a tuple in `COLUMNS` order (entry_hash last)."""
    return tuple(row[name] for name in COLUMNS)
