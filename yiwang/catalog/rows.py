"""行数据 reading a dataset's rows: filters, sort, field choice, keyset paging, facets — masked as policy says.

Each read takes a cursor of the process's analytics database (`yiwang.core.analytics`: memory limit, no extension
loading, a time limit) over the version's Parquet file. Column names come only from the version's field list and
values are bound as parameters, so a query string can never become SQL. Totals are remembered per file and filter
(a version's file never changes), so paging does not count again.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

import duckdb

from yiwang.catalog.models import DatasetVersion
from yiwang.core.analytics import Analytics
from yiwang.core.errors import InvalidInput
from yiwang.core.i18n import N_
from yiwang.core.masking import PersonalKind, mask

MAX_PAGE_SIZE = 1000
FACET_LIMIT = 20
SOURCE = "read_parquet(?, file_row_number = true)"
OPERATORS = {
    "exact": "=",
    "ne": "<>",
    "gt": ">",
    "gte": ">=",
    "lt": "<",
    "lte": "<=",
    "contains": "contains",
    "startswith": "startswith",
    "in": "in",
    "isnull": "isnull",
}


@dataclass(frozen=True)
class RowFilter:
    field: str
    operator: str
    value: str


@dataclass(frozen=True)
class RowQuery:
    """What a reader asks for: every part optional."""

    filters: tuple[RowFilter, ...] = ()
    sort: str | None = None
    descending: bool = False
    fields: tuple[str, ...] = ()
    size: int = 100
    after: str | None = None
    facets: tuple[str, ...] = ()
    text: str = ""  # words each found in some text field (CKAN datastore_search's q)
    offset: int = 0  # rows to skip (CKAN clients page by offset; keyset paging with `after` scales better)


@dataclass(frozen=True)
class RowPage:
    columns: list[str]
    rows: list[dict[str, Any]]
    total: int
    next: str | None
    facets: dict[str, list[tuple[Any, int]]]
    masked: list[str]
    row_numbers: list[int]  # each row's position in the version's file, from 0


def parse_query(params: Sequence[tuple[str, str]]) -> RowQuery:
    """Datasette-style parameters: ``col=v``, ``col__gt=v`` …, ``_sort``, ``_sort_desc``, ``_fields``, ``_size``,
    ``_next``, ``_facet`` (repeatable). Unknown ``_`` parameters are refused so typos do not pass silently."""
    filters: list[RowFilter] = []
    facets: list[str] = []
    fields: tuple[str, ...] = ()
    sort: str | None = None
    descending, size, after = False, 100, None
    for key, value in params:
        if key in ("_sort", "_sort_desc"):
            sort, descending = value, key == "_sort_desc"
        elif key == "_fields":
            fields = tuple(name.strip() for name in value.split(",") if name.strip())
        elif key == "_size":
            if not value.isdigit() or not 1 <= int(value) <= MAX_PAGE_SIZE:
                raise InvalidInput(
                    "rows.bad_size", N_("_size must be a whole number from 1 to {max}"), max=MAX_PAGE_SIZE
                )
            size = int(value)
        elif key == "_next":
            after = value
        elif key == "_facet":
            facets.append(value)
        elif key in ("lang",):
            continue
        elif key.startswith("_"):
            raise InvalidInput("rows.bad_parameter", N_("Unknown parameter {name}"), name=key)
        else:
            filters.append(parse_filter(key, value))
    return RowQuery(tuple(filters), sort, descending, fields, size, after, tuple(facets))


def parse_filter(key: str, value: str) -> RowFilter:
    """``field`` (exact) or ``field__operator`` and its value as a filter; an unknown operator is refused."""
    field, _, operator = key.partition("__")
    operator = operator or "exact"
    if operator not in OPERATORS:
        raise InvalidInput(
            "rows.bad_operator",
            N_("Unknown filter {operator}; choose from {choices}"),
            operator=operator,
            choices=", ".join(OPERATORS),
        )
    return RowFilter(field, operator, value)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _where(query: RowQuery, known: Mapping[str, str], searchable: Sequence[str]) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    for word in query.text.split():
        if not searchable:
            clauses.append("FALSE")
            break
        clauses.append("(" + " OR ".join(f"contains(CAST({_quote(c)} AS VARCHAR), ?)" for c in searchable) + ")")
        params.extend([word] * len(searchable))
    for flt in query.filters:
        column = _quote(flt.field)
        typed = f"CAST(? AS {known[flt.field]})" if flt.operator not in ("contains", "startswith") else "?"
        if flt.operator == "contains":
            clauses.append(f"contains(CAST({column} AS VARCHAR), ?)")
            params.append(flt.value)
        elif flt.operator == "startswith":
            clauses.append(f"starts_with(CAST({column} AS VARCHAR), ?)")
            params.append(flt.value)
        elif flt.operator == "in":
            values = [v for v in flt.value.split(",") if v != ""]
            clauses.append(f"{column} IN ({', '.join([typed] * len(values)) or 'NULL'})")
            params.extend(values)
        elif flt.operator == "isnull":
            clauses.append(f"{column} IS {'' if flt.value.lower() in ('1', 'true', 'yes') else 'NOT '}NULL")
        else:
            clauses.append(f"{column} {OPERATORS[flt.operator]} {typed}")
            params.append(flt.value)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def filter_sql(filters: Sequence[RowFilter], known: Mapping[str, str]) -> tuple[str, list[Any]]:
    """`` WHERE ...`` (or nothing) and its parameters for `filters` over fields of the types in `known`."""
    return _where(RowQuery(filters=tuple(filters)), known, [])


def _encode_cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, default=str).encode()).decode().rstrip("=")


def _decode_cursor(token: str) -> list[Any]:
    try:
        values = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, json.JSONDecodeError):
        raise InvalidInput("rows.bad_cursor", N_("The _next value is not one this server gave out")) from None
    if not isinstance(values, list) or len(values) != 2 or not isinstance(values[1], int):
        raise InvalidInput("rows.bad_cursor", N_("The _next value is not one this server gave out"))
    return values


def _after(query: RowQuery, known: Mapping[str, str], cursor: list[Any]) -> tuple[str, list[Any]]:
    """The keyset condition for rows after `cursor` in the page order (nulls sort last, row number breaks ties)."""
    last_value, last_row = cursor
    beyond = "<" if query.descending else ">"
    if query.sort is None:
        return f"file_row_number {beyond} ?", [last_row]
    key = _quote(query.sort)
    if last_value is None:
        return f"({key} IS NULL AND file_row_number {beyond} ?)", [last_row]
    value = f"CAST(? AS {known[query.sort]})"
    return (
        f"({key} {beyond} {value} OR ({key} = {value} AND file_row_number {beyond} ?) OR {key} IS NULL)",
        [last_value, last_value, last_row],
    )


Transform = Callable[[str], str]


@dataclass(frozen=True)
class RowAccess:
    """What one reader may do with each field of a version.

    `shown` lists the fields the reader sees, in order, each with None (raw) or the function applied to every value
    (masking, a pseudonym). Only raw fields may be filtered, sorted, faceted or searched; the protected fields in
    `matchable` may still be matched exactly (a lookup that verifies a record without revealing the key).
    `required` filters always apply, on any field of the version (a grant's row filter).
    """

    shown: Mapping[str, Transform | None]
    matchable: frozenset[str] = frozenset()
    required: tuple[RowFilter, ...] = ()

    @classmethod
    def catalogue(cls, version: DatasetVersion, *, raw_allowed: bool) -> RowAccess:
        """The catalogue's rule: personal fields masked by their kind unless `raw_allowed` (the publisher)."""
        shown: dict[str, Transform | None] = {}
        for field in version.fields:
            personal = field.kind != PersonalKind.NONE.value and not raw_allowed
            shown[field.name] = partial(mask_value, field.kind) if personal else None
        return cls(shown)

    @property
    def raw(self) -> set[str]:
        return {name for name, transform in self.shown.items() if transform is None}


def mask_value(kind: str, value: str) -> str:
    return mask(kind, value) or ""


def _check_names(query: RowQuery, access: RowAccess) -> None:
    """Every field named must be one the reader sees (or may match); protected ones only in exact filters."""
    matchable = set(access.shown) | access.matchable
    for name in [*(f.field for f in query.filters)]:
        if name not in matchable:
            raise InvalidInput("rows.unknown_field", N_("There is no field {field}"), field=name)
    for name in [*query.fields, *query.facets, *([query.sort] if query.sort else [])]:
        if name not in access.shown:
            raise InvalidInput("rows.unknown_field", N_("There is no field {field}"), field=name)
    raw = access.raw
    probing = {f.field for f in query.filters if f.field not in raw and f.operator != "exact"}
    probing |= {f.field for f in query.filters if f.field not in raw and f.field not in access.matchable}
    probing |= {name for name in (*query.facets, *([query.sort] if query.sort else [])) if name not in raw}
    if probing:
        raise InvalidInput(
            "rows.personal_filter",
            N_("Personal fields cannot be filtered, sorted or faceted here: {fields}"),
            fields=", ".join(sorted(probing)),
        )


def read_rows(
    analytics: Analytics,
    parquet: Path,
    version: DatasetVersion,
    query: RowQuery,
    access: RowAccess,
    *,
    count_total: bool = True,
) -> RowPage:
    """A page of rows of `version` as `access` allows: fields shown raw or transformed, filters checked.

    Without `count_total` (a lookup by key, where every key is new and a count would scan the file again) `total`
    is the number of rows returned.
    """
    known = {f.name: f.type for f in version.fields}
    _check_names(query, access)
    for flt in access.required:
        if flt.field not in known:
            raise InvalidInput("rows.unknown_field", N_("There is no field {field}"), field=flt.field)
    columns = [name for name in (query.fields or tuple(access.shown)) if name in known]
    raw = access.raw
    searchable = [name for name, type_ in known.items() if type_ in ("VARCHAR", "TEXT") and name in raw]
    effective = replace(query, filters=(*access.required, *query.filters))
    where, params = _where(effective, known, searchable)
    key = _quote(query.sort) if query.sort else "file_row_number"
    direction = "DESC" if query.descending else "ASC"
    page_where, page_params = where, list(params)
    if query.after is not None:
        keyset, keyset_params = _after(query, known, _decode_cursor(query.after))
        page_where = (where + " AND " if where else " WHERE ") + keyset
        page_params.extend(keyset_params)
    select_list = ", ".join(_quote(c) for c in columns)
    file = str(parquet)
    with analytics.cursor() as cursor:
        try:
            if query.sort is None:
                result = _page_in_file_order(cursor, file, select_list, page_where, page_params, query, direction)
            else:
                result = cursor.execute(
                    f"SELECT {select_list}, file_row_number AS __row, {key} AS __key FROM {SOURCE}{page_where} "
                    f"ORDER BY {key} {direction} NULLS LAST, file_row_number {direction} LIMIT ? OFFSET ?",
                    [file, *page_params, query.size + 1, query.offset],
                ).fetchall()
            total = _total(analytics, cursor, parquet, where, params) if count_total else -1
            facets = {
                name: [
                    (value, int(count))
                    for value, count in cursor.execute(
                        f"SELECT {_quote(name)}, count(*) AS n FROM {SOURCE}{where} GROUP BY 1 ORDER BY n DESC, 1 "
                        f"LIMIT {FACET_LIMIT}",
                        [file, *params],
                    ).fetchall()
                ]
                for name in query.facets
            }
        except duckdb.ConversionException as exc:
            raise InvalidInput(
                "rows.bad_value",
                N_("A filter value does not fit its field: {reason}"),
                reason=str(exc).splitlines()[0][:200],
            ) from None
        except duckdb.InterruptException:
            raise InvalidInput(
                "rows.timeout", N_("Reading these rows took too long: add a filter or choose fewer facets")
            ) from None
    more = len(result) > query.size
    result = result[: query.size]
    if total < 0:
        total = len(result)
    transforms = [(name, transform) for name in columns if (transform := access.shown[name]) is not None]
    rows = []
    for record in result:
        row = dict(zip(columns, record[: len(columns)], strict=True))
        for name, transform in transforms:
            if row[name] is not None:
                row[name] = transform(str(row[name]))
        rows.append(row)
    next_token = _encode_cursor([result[-1][-1], int(result[-1][-2])]) if more and result else None
    return RowPage(
        columns, rows, total, next_token, facets, [name for name, _ in transforms], [int(r[-2]) for r in result]
    )


def _total(
    analytics: Analytics, cursor: duckdb.DuckDBPyConnection, parquet: Path, where: str, params: list[Any]
) -> int:
    """How many rows match, remembered for the process: a version's file never changes, and paging asks again."""
    stat = parquet.stat()

    def count() -> int:
        found = cursor.execute(f"SELECT count(*) FROM {SOURCE}{where}", [str(parquet), *params]).fetchone()
        return int(found[0]) if found else 0

    return analytics.remembered(("rows.total", str(parquet), stat.st_mtime_ns, stat.st_size, where, *params), count)


def _page_in_file_order(
    cursor: duckdb.DuckDBPyConnection,
    file: str,
    select_list: str,
    where: str,
    params: list[Any],
    query: RowQuery,
    direction: str,
) -> list[tuple[Any, ...]]:
    """An unsorted page in two steps: the row numbers first, reading only the filtered columns, then just those rows,
    which lie close together and so in few row groups (one query ordering whole rows decodes every column)."""
    numbers = [
        int(found[0])
        for found in cursor.execute(
            f"SELECT file_row_number FROM {SOURCE}{where} ORDER BY file_row_number {direction} LIMIT ? OFFSET ?",
            [file, *params, query.size + 1, query.offset],
        ).fetchall()
    ]
    if not numbers:
        return []
    fetched = cursor.execute(
        f"SELECT {select_list}, file_row_number FROM {SOURCE} WHERE file_row_number BETWEEN ? AND ? "
        f"AND file_row_number IN ({', '.join('?' * len(numbers))})",
        [file, min(numbers), max(numbers), *numbers],
    ).fetchall()
    by_number = {int(record[-1]): record for record in fetched}
    return [(*by_number[number], number) for number in numbers]  # the row number doubles as the sort key
