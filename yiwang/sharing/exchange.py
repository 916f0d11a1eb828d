"""数据交换 the exchange API's reads: rows, lookups and bulk exports of exactly what a grant allows.

Every call is admitted first, in a short writing transaction: the caller must belong to the grant's consumer
department, the grant must be live (not revoked, inside its period, its dataset still shared), and the call is
counted against the grant's per-minute rate limit (a counter row per grant and minute, so the limit holds across
server processes). The read then runs on the analytics database with the grant's fields, disclosures and row filter
fixed, and the call is appended to the audit chain with the grant, its purpose and the rows returned.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any, cast
from urllib.parse import quote

import duckdb
import pyarrow as pa
from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from yiwang.catalog import service as catalog
from yiwang.catalog.downloads import BATCH_ROWS, WRITERS
from yiwang.catalog.models import DatasetVersion, ShareType
from yiwang.catalog.rows import (
    MAX_PAGE_SIZE,
    SOURCE,
    RowAccess,
    RowFilter,
    RowPage,
    RowQuery,
    Transform,
    filter_sql,
    mask_value,
    parse_filter,
    read_rows,
)
from yiwang.core import audit
from yiwang.core.analytics import Analytics
from yiwang.core.authz import AccessRefused, authorize
from yiwang.core.db import Database
from yiwang.core.errors import InvalidInput, NotFound, TooManyRequests
from yiwang.core.i18n import N_
from yiwang.core.identity import Actor
from yiwang.core.masking import Disclosure, PersonalKind
from yiwang.core.models import utcnow
from yiwang.core.pseudonyms import Pseudonymiser
from yiwang.sharing.models import Grant, GrantCalls
from yiwang.sharing.rules import SharingAction
from yiwang.sharing.service import resource_of

DEFAULT_LIMIT = 100
LOOKUP_LIMIT = 100
EXPORT_SECONDS = 3600.0
EXPORT_FORMATS = ("csv", "parquet")
_CALLS = cast(Table, GrantCalls.__table__)


class GrantRefused(AccessRefused):
    """A grant that exists and is the caller's, but cannot be used now (revoked, expired, dataset withdrawn)."""


@dataclass(frozen=True)
class OpenGrant:
    """An admitted call: what the grant lets this caller read, detached from the database session."""

    grant_id: str
    dataset: str
    purpose: str
    parquet: Path
    version: DatasetVersion
    access: RowAccess
    fields: list[dict[str, str]]  # granted fields of the current version with their disclosure
    raw_id_number: bool


@dataclass(frozen=True)
class ExchangePage:
    rows: list[dict[str, Any]]
    next: str | None
    total: int
    fields: list[dict[str, str]]


@dataclass(frozen=True)
class Export:
    filename: str
    media_type: str
    rows: int
    chunks: Iterator[bytes]


def _transform(kind: str, disclosure: Disclosure, pseudonyms: Pseudonymiser) -> Transform | None:
    if disclosure is Disclosure.MASKED:
        return partial(mask_value, kind)
    if disclosure is Disclosure.PSEUDONYM:
        return partial(pseudonyms.token, PersonalKind(kind))
    return None


def grant_access(grant: Grant, version: DatasetVersion, pseudonyms: Pseudonymiser) -> RowAccess:
    """The grant as a row access: granted fields shown as disclosed (withheld ones hidden but matchable), its row
    filter always applied. Granted fields missing from the current version are left out."""
    kinds = {f.name: f.kind for f in version.fields}
    shown: dict[str, Transform | None] = {}
    matchable: set[str] = set()
    for granted in grant.fields:
        name, disclosure = granted["name"], Disclosure(granted["disclosure"])
        if name not in kinds:
            continue
        if disclosure is not Disclosure.RAW:
            matchable.add(name)
        if disclosure is not Disclosure.WITHHELD:
            shown[name] = _transform(kinds[name], disclosure, pseudonyms)
    required = tuple(RowFilter(field, operator, value) for field, operator, value in grant.row_filter)
    return RowAccess(shown, frozenset(matchable), required)


def _refuse(actor: Actor, grant: Grant, code: str, message: str) -> GrantRefused:
    return GrantRefused(actor, SharingAction.EXCHANGE, resource_of(grant.request), code, message, grant=grant.id)


def _count_call(session: Session, grant_id: str, minute: int) -> int:
    """Add one call to the grant's counter of this minute and return the new count (atomic on both databases)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert(_CALLS) if dialect == "postgresql" else sqlite.insert(_CALLS)
    statement = (
        insert.values(grant_id=grant_id, minute=minute, calls=1, rows=0)
        .on_conflict_do_update(index_elements=["grant_id", "minute"], set_={"calls": _CALLS.c.calls + 1})
        .returning(_CALLS.c.calls)
    )
    return int(session.execute(statement).scalar_one())


def _admit(database: Database, actor: Actor, data_dir: Path, grant_id: str, secret: str, call: str) -> OpenGrant:
    """Check the caller, the grant's life and the rate limit; count the call. Raises 401/403/404/429."""
    now = utcnow()
    seconds = time.time()
    minute = int(seconds // 60)
    limited = False
    with database.session() as session:
        grant = session.get(Grant, grant_id)
        if grant is None:
            raise NotFound("grant.not_found", N_("No grant {id}"), id=grant_id)
        authorize(actor, SharingAction.EXCHANGE, resource_of(grant.request))
        if grant.revoked_at is not None:
            raise _refuse(actor, grant, "grant.revoked", N_("Grant {grant} was revoked"))
        if now < grant.valid_from or now >= grant.valid_to:
            raise _refuse(actor, grant, "grant.expired", N_("Grant {grant} is not valid now"))
        dataset = grant.dataset
        if dataset.deleted_at is not None or dataset.share_type == ShareType.NONE.value:
            raise _refuse(
                actor, grant, "grant.dataset_withdrawn", N_("The dataset of grant {grant} is no longer shared")
            )
        version = dataset.current_version
        if version is None:
            raise InvalidInput("dataset.no_version", N_("Dataset {name} has no data yet"), name=dataset.name)
        calls = _count_call(session, grant.id, minute)
        if calls > grant.rate_limit_per_minute:
            limited = True
            if calls == grant.rate_limit_per_minute + 1:  # the first refusal of the minute is enough to remember
                audit.record(
                    session,
                    actor,
                    "exchange.rate_limited",
                    resource_type="dataset",
                    resource_id=dataset.name,
                    purpose=grant.purpose,
                    result="denied",
                    detail={"grant": grant.id, "call": call, "limit": grant.rate_limit_per_minute},
                )
        opened_names = {field.name for field in version.fields}
        opened = OpenGrant(
            grant_id=grant.id,
            dataset=dataset.name,
            purpose=grant.purpose,
            parquet=catalog.version_file(data_dir, version),
            version=version,
            access=grant_access(grant, version, Pseudonymiser(secret, grant.consumer.name)),
            fields=[f for f in grant.fields if f["name"] in opened_names],
            raw_id_number=grant.raw_id_number,
        )
        limit = grant.rate_limit_per_minute
    if limited:
        retry_after = max(1, int(60 - seconds % 60) + 1)
        raise TooManyRequests(
            "grant.rate_limited",
            N_("Grant {grant} allows {limit} calls a minute: try again in {retry_after} s"),
            retry_after=retry_after,
            grant=grant_id,
            limit=limit,
        )
    return opened


def _remember(
    database: Database, actor: Actor, opened: OpenGrant, call: str, rows: int, detail: dict[str, Any]
) -> None:
    """Append the call to the audit chain and add its rows to the grant's counter of the minute."""
    minute = int(time.time() // 60)
    with database.session() as session:
        audit.record(
            session,
            actor,
            f"exchange.{call}",
            resource_type="dataset",
            resource_id=opened.dataset,
            purpose=opened.purpose,
            detail={
                "grant": opened.grant_id,
                "rows": rows,
                "fields": list(opened.access.shown),
                "raw_id_number": opened.raw_id_number,
                **detail,
            },
        )
        counter = session.get(GrantCalls, (opened.grant_id, minute))
        if counter is None:  # the call was counted in the minute before
            counter = session.get(GrantCalls, (opened.grant_id, minute - 1))
        if counter is not None:
            counter.rows += rows


def parse_exchange_query(params: Sequence[tuple[str, str]], *, lookup: bool = False) -> RowQuery:
    """``limit``, ``cursor``, ``fields=a,b``, ``sort=f`` / ``sort=-f`` and filters ``f=v`` or ``f__op=v``. A lookup
    takes exact keys only (at least one), ``fields`` and ``limit``."""
    filters: list[RowFilter] = []
    fields: tuple[str, ...] = ()
    sort: str | None = None
    descending = False
    size = LOOKUP_LIMIT if lookup else DEFAULT_LIMIT
    most = LOOKUP_LIMIT if lookup else MAX_PAGE_SIZE
    after: str | None = None
    for key, value in params:
        if key == "limit":
            if not value.isdigit() or not 1 <= int(value) <= most:
                raise InvalidInput("exchange.bad_limit", N_("limit must be a whole number from 1 to {max}"), max=most)
            size = int(value)
        elif key == "fields":
            fields = tuple(name.strip() for name in value.split(",") if name.strip())
        elif key == "lang":
            continue
        elif key == "cursor" and not lookup:
            after = value
        elif key == "sort" and not lookup:
            sort, descending = value.removeprefix("-"), value.startswith("-")
        else:
            condition = parse_filter(key, value)
            if lookup and condition.operator != "exact":
                raise InvalidInput(
                    "exchange.lookup_exact", N_("A lookup matches keys exactly: {name} is not a key"), name=key
                )
            filters.append(condition)
    if lookup and not filters:
        raise InvalidInput("exchange.lookup_key", N_("Give the key to look up, e.g. ?person_id=..."))
    return RowQuery(tuple(filters), sort, descending, fields, size, after)


def _normalised_key(version: DatasetVersion, key: RowFilter) -> RowFilter:
    """ID numbers are stored with an upper-case check letter; callers often type it in lower case."""
    kind = next((f.kind for f in version.fields if f.name == key.field), None)
    if kind == PersonalKind.ID_NUMBER.value:
        return replace(key, value=key.value.strip().upper())
    return key


def read_granted_rows(
    database: Database,
    analytics: Analytics,
    actor: Actor,
    data_dir: Path,
    grant_id: str,
    query: RowQuery,
    *,
    secret: str,
    lookup: bool = False,
) -> ExchangePage:
    """A page of the granted view (`lookup`: the rows matching exact keys), audited."""
    call = "lookup" if lookup else "rows"
    opened = _admit(database, actor, data_dir, grant_id, secret, call)
    if lookup:
        query = replace(query, filters=tuple(_normalised_key(opened.version, f) for f in query.filters))
    page: RowPage = read_rows(analytics, opened.parquet, opened.version, query, opened.access, count_total=not lookup)
    keys = sorted({f.field for f in query.filters})
    _remember(database, actor, opened, call, len(page.rows), {"keys" if lookup else "filters": keys})
    return ExchangePage(page.rows, page.next, page.total, opened.fields)


def export_granted_rows(
    database: Database,
    analytics: Analytics,
    actor: Actor,
    data_dir: Path,
    grant_id: str,
    fmt: str,
    *,
    secret: str,
) -> Export:
    """The whole granted view as CSV (UTF-8 with BOM) or Parquet, streamed in record batches; audited up front."""
    if fmt not in EXPORT_FORMATS:
        raise InvalidInput("exchange.bad_format", N_("Export as one of: {choices}"), choices=", ".join(EXPORT_FORMATS))
    opened = _admit(database, actor, data_dir, grant_id, secret, "export")
    known = {f.name: f.type for f in opened.version.fields}
    where, params = filter_sql(opened.access.required, known)
    columns = list(opened.access.shown)
    select_list = ", ".join('"' + name.replace('"', '""') + '"' for name in columns)
    stack = ExitStack()
    try:
        cursor = stack.enter_context(analytics.cursor(EXPORT_SECONDS))
        counted = cursor.execute(f"SELECT count(*) FROM {SOURCE}{where}", [str(opened.parquet), *params]).fetchall()
        total = int(counted[0][0])
        # DuckDB keeps the file's row order for a plain scan (preserve_insertion_order), without sorting.
        relation = cursor.sql(f"SELECT {select_list} FROM {SOURCE}{where}", params=[str(opened.parquet), *params])
        reader = relation.to_arrow_reader(BATCH_ROWS)
    except duckdb.Error:
        stack.close()
        raise InvalidInput("exchange.export_failed", N_("The export could not be read: try again later")) from None
    _remember(database, actor, opened, "export", total, {"format": fmt})
    transforms = opened.access.shown
    schema = pa.schema(
        [pa.field(name, pa.string()) if transforms[name] is not None else reader.schema.field(name) for name in columns]
    )

    def batches() -> Iterator[pa.RecordBatch]:
        for batch in reader:
            arrays = [
                _apply(batch.column(index), transform)
                if (transform := transforms[name]) is not None
                else batch.column(index)
                for index, name in enumerate(columns)
            ]
            yield pa.RecordBatch.from_arrays(arrays, schema=schema)

    def chunks() -> Iterator[bytes]:
        with stack:
            yield from WRITERS[fmt](pa.RecordBatchReader.from_batches(schema, batches()))

    filename = quote(f"{opened.dataset}-{grant_id[:8]}.{fmt}")
    media_type = "text/csv; charset=utf-8" if fmt == "csv" else "application/vnd.apache.parquet"
    return Export(filename, media_type, total, chunks())


def _apply(values: pa.Array, transform: Callable[[str], str]) -> pa.Array:
    return pa.array([None if v is None else transform(str(v)) for v in values.to_pylist()], type=pa.string())
