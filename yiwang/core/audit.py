"""审计链 the audit chain: append-only, each entry's hash covering its content and the previous entry's hash.

Appends serialise on the chain head (a row lock on PostgreSQL, the write lock SQLite writers take up front), and a
unique constraint on ``prev_hash`` makes a fork impossible even if that serialisation were ever bypassed.
`verify` walks the chain and names the first entry that was edited, removed or moved.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from json.encoder import encode_basestring
from typing import Any, cast

from sqlalchemy import Select, Table, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from yiwang.core import hashing
from yiwang.core.authz import AccessRefused, Action, authorize
from yiwang.core.db import AUDIT_ALGORITHM, is_writer
from yiwang.core.errors import InvalidInput
from yiwang.core.i18n import N_
from yiwang.core.identity import Actor
from yiwang.core.masking import mask
from yiwang.core.models import AuditEntry, AuditHead

GENESIS_HASH = "0" * 64
HEAD_ID = 1
RESULTS = ("success", "denied", "error")
MAX_PAGE_SIZE = 500
MAX_PAGE = 10_000_000  # keeps the offset inside a 64-bit integer whatever the page size
_FIELDS = (
    "seq",
    "occurred_at",
    "actor_id",
    "actor_name",
    "actor_role",
    "department",
    "action",
    "resource_type",
    "resource_id",
    "purpose",
    "result",
    "detail",
    "algorithm",
    "prev_hash",
)
# `canonical` fills a template with the values json.dumps(..., ensure_ascii=False, sort_keys=True, separators=(",",
# ":")) would write (its own string encoder; int.__repr__ for integers, as json does): the same bytes in a third of
# the time, and verify spends most of its time here. Anything else falls back to json.dumps itself.
_SORTED_FIELDS = tuple(sorted(_FIELDS))
_INTEGER_FIELDS = ("actor_id", "seq")
_TEXT_FIELDS = tuple(name for name in _SORTED_FIELDS if name not in _INTEGER_FIELDS)
_texts = operator.itemgetter(*_TEXT_FIELDS)
_INTEGER_POSITIONS = sorted((_SORTED_FIELDS.index(name), name) for name in _INTEGER_FIELDS)
_CANONICAL_TEMPLATE = "{" + ",".join(f'"{name}":%s' for name in _SORTED_FIELDS) + "}"
# Statements built once: building an ORM statement per append cost more than the rest of the append together.
_ENTRIES = cast(Table, AuditEntry.__table__)
_HEAD = cast(Table, AuditHead.__table__)
_LOCK_HEAD = select(_HEAD.c.seq, _HEAD.c.entry_hash).where(_HEAD.c.id == HEAD_ID).with_for_update()
_INSERT_ENTRY = insert(_ENTRIES)
_MOVE_HEAD = (
    update(_HEAD).where(_HEAD.c.id == HEAD_ID).values(seq=bindparam("new_seq"), entry_hash=bindparam("new_hash"))
)
_CHAIN_ORDER = select(*(_ENTRIES.c[name] for name in (*_FIELDS, "entry_hash"))).order_by(_ENTRIES.c.seq)


@dataclass(frozen=True)
class AuditRecord:
    """What an append returns: where the entry sits in the chain."""

    seq: int
    entry_hash: str


def _scrub(value: Any) -> Any:
    """Mask ID numbers and phone numbers wherever they hide in free text: raw personal data is never logged."""
    if isinstance(value, str):
        return mask("free_text", value) or ""
    if isinstance(value, Mapping):
        return {str(k): _scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    return value


def canonical(entry: Mapping[str, Any]) -> bytes:
    """The exact bytes an entry's hash covers: its fields as sorted, compact UTF-8 JSON."""
    try:
        values = list(map(encode_basestring, _texts(entry)))  # TypeError unless every text field is a str
        for position, name in _INTEGER_POSITIONS:
            values.insert(position, _json_integer(entry[name]))
        return (_CANONICAL_TEMPLATE % tuple(values)).encode("utf-8")
    except TypeError:
        return json.dumps(
            {name: entry[name] for name in _FIELDS}, ensure_ascii=False, sort_keys=True, separators=(",", ":")
        ).encode("utf-8")


def _json_integer(value: Any) -> str:
    if value is None:
        return "null"
    if type(value) is not int:  # bool, float, …: json.dumps decides
        raise TypeError(type(value).__name__)
    return int.__repr__(value)


def entry_hash(entry: Mapping[str, Any]) -> str:
    return hashing.hexdigest(str(entry["algorithm"]), canonical(entry))


def record(
    session: Session,
    actor: Actor,
    action: str,
    *,
    resource_type: str = "",
    resource_id: str = "",
    purpose: str = "",
    result: str = "success",
    detail: Mapping[str, Any] | None = None,
) -> AuditRecord:
    """Append one entry in `session`'s transaction, so it commits or rolls back with the work it describes."""
    if not is_writer(session):
        raise RuntimeError("audit entries are appended in a writing session (Database.session())")
    if result not in RESULTS:
        raise ValueError(f"result must be one of {RESULTS}")
    connection = session.connection()
    head = connection.execute(_LOCK_HEAD).one()
    entry: dict[str, Any] = {
        "seq": head.seq + 1,
        "occurred_at": datetime.now(UTC).isoformat(timespec="microseconds"),
        "actor_id": actor.user_id,
        "actor_name": actor.username,
        "actor_role": actor.role_names,
        "department": actor.department_name,
        "action": action,
        "resource_type": resource_type,
        "resource_id": _scrub(str(resource_id)),
        "purpose": _scrub(purpose),
        "result": result,
        "detail": json.dumps(_scrub(dict(detail or {})), ensure_ascii=False, sort_keys=True, separators=(",", ":")),
        "algorithm": hashing.preferred(str(session.info.get(AUDIT_ALGORITHM, "auto"))),
        "prev_hash": head.entry_hash,
    }
    entry["entry_hash"] = entry_hash(entry)
    connection.execute(_INSERT_ENTRY, entry)
    connection.execute(_MOVE_HEAD, {"new_seq": entry["seq"], "new_hash": entry["entry_hash"]})
    return AuditRecord(seq=entry["seq"], entry_hash=entry["entry_hash"])


def record_refusal(session: Session, refusal: Exception) -> None:
    """Remember a refused attempt (called by `Database.session()` after rolling the refused work back)."""
    if not isinstance(refusal, AccessRefused):
        return
    resource = refusal.resource
    record(
        session,
        refusal.actor,
        refusal.action,
        resource_type=resource.type if resource else "",
        resource_id=resource.id if resource else "",
        result="denied",
        detail={"reason": refusal.code} if refusal.code != "permission.denied" else None,
    )


@dataclass(frozen=True)
class VerifyReport:
    """The outcome of walking the chain: `ok`, how many entries were checked, and the first bad one if any."""

    ok: bool
    checked: int
    head_seq: int
    head_hash: str = ""
    first_bad_seq: int | None = None
    problem: str | None = None
    template: str = ""

    def message(self, translate: Callable[[str], str] = str) -> str:
        """What went wrong, in the reader's language."""
        return translate(self.template).format(seq=self.first_bad_seq, head=self.head_seq) if self.template else ""


def _bad(checked: int, head_seq: int, seq: int, problem: str, template: str) -> VerifyReport:
    return VerifyReport(
        ok=False, checked=checked, head_seq=head_seq, first_bad_seq=seq, problem=problem, template=template
    )


def verify(
    session: Session, actor: Actor, progress: Callable[[int, int], None] | None = None, batch: int = 20_000
) -> VerifyReport:
    """Walk the whole chain in order, recomputing every hash; stop at the first entry that does not fit."""
    authorize(actor, Action.AUDIT_VERIFY)
    head = session.execute(select(AuditHead.seq, AuditHead.entry_hash).where(AuditHead.id == HEAD_ID)).one_or_none()
    if head is None:
        return _bad(0, 0, 0, "audit.head_missing", N_("The audit chain head is missing"))
    total = session.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
    # Core rows, not ORM rows: the ORM's result machinery cost a fifth of the walk.
    rows = session.connection().execute(_CHAIN_ORDER.execution_options(yield_per=batch))
    try:
        expected_seq, prev = 1, GENESIS_HASH
        for row in rows:
            entry = cast(Mapping[str, Any], row._mapping)
            seq = entry["seq"]
            if seq != expected_seq:
                return _bad(
                    expected_seq - 1,
                    head.seq,
                    expected_seq,
                    "audit.seq_gap",
                    N_("Entry {seq} is missing or out of place"),
                )
            if entry["prev_hash"] != prev:
                return _bad(
                    seq - 1, head.seq, seq, "audit.link_broken", N_("Entry {seq} does not link to the entry before it")
                )
            if entry["algorithm"] not in hashing.ALGORITHMS or entry_hash(entry) != entry["entry_hash"]:
                return _bad(
                    seq - 1, head.seq, seq, "audit.hash_mismatch", N_("Entry {seq} was changed after it was written")
                )
            prev = entry["entry_hash"]
            expected_seq += 1
            if progress is not None and seq % batch == 0:
                progress(seq, total)
    finally:
        rows.close()  # a PostgreSQL server-side cursor must be closed even when we stop early
    checked = expected_seq - 1
    if progress is not None:
        progress(checked, total)
    if checked != head.seq or prev != head.entry_hash:
        return _bad(
            checked,
            head.seq,
            checked + 1,
            "audit.head_mismatch",
            N_("Entries after {seq} were removed (the chain head says {head})"),
        )
    return VerifyReport(ok=True, checked=checked, head_seq=head.seq, head_hash=head.entry_hash)


@dataclass(frozen=True)
class AuditFilter:
    """What an auditor narrows the trail by; every field optional."""

    actor_name: str | None = None
    action: str | None = None
    resource_type: str | None = None
    resource_id: str | None = None
    result: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def _filtered(query: Select[Any], flt: AuditFilter) -> Select[Any]:
    if flt.actor_name:
        query = query.where(AuditEntry.actor_name == flt.actor_name)
    if flt.action:
        # "sharing." finds every sharing action; "user.create" finds exactly that one.
        query = query.where(AuditEntry.action.startswith(flt.action, autoescape=True))
    if flt.resource_type:
        query = query.where(AuditEntry.resource_type == flt.resource_type)
    if flt.resource_id:
        query = query.where(AuditEntry.resource_id == flt.resource_id)
    if flt.result:
        if flt.result not in RESULTS:
            raise InvalidInput("audit.bad_result", N_("Result must be one of: {choices}"), choices=", ".join(RESULTS))
        query = query.where(AuditEntry.result == flt.result)
    if flt.since:
        query = query.where(AuditEntry.occurred_at >= flt.since.astimezone(UTC).isoformat(timespec="microseconds"))
    if flt.until:
        query = query.where(AuditEntry.occurred_at < flt.until.astimezone(UTC).isoformat(timespec="microseconds"))
    return query


def search(session: Session, actor: Actor, flt: AuditFilter, page: int = 1, page_size: int = 50) -> AuditPage:
    """A page of the trail, newest first; reading the trail is itself recorded."""
    authorize(actor, Action.AUDIT_READ)
    if not 1 <= page <= MAX_PAGE or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise InvalidInput(
            "audit.bad_page", N_("Page must be ≥ 1 and page size between 1 and {max}"), max=MAX_PAGE_SIZE
        )
    total = session.execute(_filtered(select(func.count()).select_from(AuditEntry), flt)).scalar_one()
    entries = (
        session.execute(
            _filtered(select(AuditEntry), flt)
            .order_by(AuditEntry.seq.desc())
            .offset((page - 1) * page_size)
            .limit(page_size)
        )
        .scalars()
        .all()
    )
    record(
        session,
        actor,
        Action.AUDIT_READ,
        resource_type="audit_trail",
        detail={k: str(v) for k, v in vars(flt).items() if v is not None} | {"page": page},
    )
    return AuditPage(list(entries), total, page, page_size)


@dataclass(frozen=True)
class DailyCount:
    day: str
    result: str
    count: int


def daily_counts(session: Session, actor: Actor, days: int = 30) -> list[DailyCount]:
    """Entries per UTC day and result over the last `days` days, oldest first (for the auditor's chart)."""
    authorize(actor, Action.AUDIT_READ)
    since = (datetime.now(UTC) - timedelta(days=days - 1)).date().isoformat()
    day = func.substr(AuditEntry.occurred_at, 1, 10)
    rows = session.execute(
        select(day, AuditEntry.result, func.count())
        .where(AuditEntry.occurred_at >= since)
        .group_by(day, AuditEntry.result)
        .order_by(day, AuditEntry.result)
    ).all()
    return [DailyCount(str(d), str(r), int(c)) for d, r, c in rows]
