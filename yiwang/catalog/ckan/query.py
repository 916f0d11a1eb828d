"""CKAN's ``package_search`` parameters (Solr-style q, fq, sort, facet.field) as a catalogue query.

Understood in ``q`` and ``fq``: ``field:value``, ``field:"two words"``, ``field:(a OR b)``, a leading ``-`` or
``NOT`` to negate, ``+`` and ``AND`` (ignored: every clause must hold), ``metadata_modified:[2024-01-01T00:00:00Z
TO *]`` and ``*:*``. Anything else in ``q`` is free text for the Chinese full-text search.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from yiwang.catalog.search import CatalogueQuery, FacetFilter
from yiwang.catalog.themes import find_theme
from yiwang.core.errors import InvalidInput
from yiwang.core.i18n import N_

MAX_ROWS = 1000
DEFAULT_ROWS = 10

# CKAN's Solr field -> the catalogue's facet field
FIELDS = {
    "organization": "department",
    "owner_org": "department",
    "tags": "tag",
    "groups": "theme",
    "res_format": "format",
    "license_id": "licence",
    "name": "name",
    "id": "id",
    "share_type": "share_type",
    "open_type": "open_type",
    "security_level": "security_level",
    "update_frequency": "update_frequency",
    "frequency": "update_frequency",
}
# Fields harvesters send that do not narrow anything here: every package is an active dataset.
ALWAYS_TRUE = {("dataset_type", "dataset"), ("type", "dataset"), ("state", "active"), ("site_id", "*")}
SORTS = {
    ("score", "desc"): "relevance",
    ("metadata_modified", "desc"): "modified_desc",
    ("metadata_modified", "asc"): "modified_asc",
    ("id", "asc"): "id_asc",
    ("id", "desc"): "id_desc",
    ("name", "asc"): "name_asc",
    ("name", "desc"): "name_desc",
    ("title_string", "asc"): "title_asc",
}
_CLAUSE = re.compile(
    r"""(?P<sign>[+-]?)(?P<field>[A-Za-z_][\w.]*):(?P<value>"[^"]*"|\[[^\]]*\]|\([^)]*\)|[^\s"()\[\]]+)"""
)


@dataclass(frozen=True)
class SearchParams:
    """What ``package_search`` was asked, as plain values."""

    q: str = ""
    fq: str = ""
    sort: str = ""
    rows: int = DEFAULT_ROWS
    start: int = 0
    facet_fields: tuple[str, ...] = ()
    facet_limit: int = 50
    include_private: bool = False


def _search_error(message: str, **params: object) -> InvalidInput:
    return InvalidInput("search.bad_query", message, **params)


def _parse_time(value: str) -> datetime | None:
    if value == "*":
        return None
    text = value.strip().upper().removesuffix("Z")
    text = re.sub(r"NOW$", datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"), text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _search_error(N_("Cannot read {value} as a time"), value=value) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass
class _Clauses:
    text: list[str]
    filters: list[FacetFilter]
    modified_since: datetime | None = None
    modified_until: datetime | None = None
    only_public: bool | None = None


def _values(raw: str) -> list[str]:
    if raw.startswith("("):
        parts = [p.strip().strip('"') for p in re.split(r"\s+OR\s+", raw[1:-1].strip())]
        return [p for p in parts if p]
    return [raw.strip('"')]


def _read_clauses(expression: str, into: _Clauses, *, free_text: bool) -> None:
    position = 0
    negate_next = False
    for match in _CLAUSE.finditer(expression):
        for word in expression[position : match.start()].split():
            if word in ("AND", "&&", "+"):
                continue
            if word in ("NOT", "-", "!"):
                negate_next = True
                continue
            if not free_text or word == "OR":
                raise _search_error(N_("Cannot understand {text} in the query"), text=word)
            into.text.append(word)
        position = match.end()
        negated = match["sign"] == "-" or negate_next
        negate_next = False
        _add_clause(match["field"], match["value"], negated, into)
    for word in expression[position:].split():
        if word in ("AND", "&&", "+"):
            continue
        if not free_text or word in ("OR", "NOT"):
            raise _search_error(N_("Cannot understand {text} in the query"), text=word)
        into.text.append(word)


def _add_clause(field: str, raw: str, negated: bool, into: _Clauses) -> None:
    value = raw.strip('"')
    if field == "*" or (field, value) in ALWAYS_TRUE or (field == "dataset_type" and value == "*"):
        return
    if field == "metadata_modified":
        if not (raw.startswith("[") and " TO " in raw):
            raise _search_error(N_("metadata_modified takes a range such as [2024-01-01T00:00:00Z TO *]"))
        low, _, high = raw[1:-1].partition(" TO ")
        into.modified_since, into.modified_until = _parse_time(low.strip()), _parse_time(high.strip())
        return
    if field in ("capacity", "private"):
        public = value in ("public", "false")
        into.only_public = public != negated
        return
    target = FIELDS.get(field)
    if target is None:
        raise _search_error(
            N_("Cannot search by {field}; use one of: {choices}"), field=field, choices=", ".join(sorted(FIELDS))
        )
    for item in _values(raw):
        if target == "theme":
            theme = find_theme(item)
            item = theme.label_zh if theme else item
        into.filters.append(FacetFilter(target, item, negated))


def catalogue_query(params: SearchParams, department_names: dict[str, str]) -> tuple[CatalogueQuery, bool]:
    """The catalogue query for `params` and whether private (not open) datasets may be included.

    `department_names` maps organisation ids to department names, so ``owner_org:<id>`` works too.
    """
    clauses = _Clauses([], [])
    q = params.q.strip()
    if q not in ("", "*:*", "*"):
        _read_clauses(q, clauses, free_text=True)
    if params.fq.strip():
        _read_clauses(params.fq.strip(), clauses, free_text=False)
    filters = [
        FacetFilter(f.field, department_names.get(f.value, f.value), f.negated) if f.field == "department" else f
        for f in clauses.filters
    ]
    include_private = params.include_private and clauses.only_public is not True
    if clauses.only_public is False:
        filters.append(FacetFilter("open_type", "none"))
    if not include_private:
        filters.append(FacetFilter("open_type", "none", negated=True))
    if not params.start >= 0:
        raise _search_error(N_("start must be 0 or more"))
    if params.rows < 0:
        raise _search_error(N_("rows must be 0 or more"))
    return (
        CatalogueQuery(
            text=" ".join(clauses.text),
            filters=tuple(filters),
            modified_since=clauses.modified_since,
            modified_until=clauses.modified_until,
            sort=_sort(params.sort),
            start=params.start,
            rows=min(params.rows, MAX_ROWS),
            facet_fields=tuple(FIELDS[f] for f in params.facet_fields),
            facet_limit=params.facet_limit,
        ),
        include_private,
    )


def _sort(sort: str) -> str:
    first = sort.split(",")[0].strip()
    if not first:
        return ""
    field, _, direction = first.partition(" ")
    key = (field.strip(), (direction.strip() or "asc").lower())
    if key not in SORTS:
        raise _search_error(
            N_("Cannot sort by {sort}; use one of: {choices}"),
            sort=first,
            choices=", ".join(f"{f} {d}" for f, d in SORTS),
        )
    return SORTS[key]


def facet_fields(raw: object) -> tuple[str, ...]:
    """``facet.field`` as CKAN takes it: a JSON list in a string, or a list of names."""
    if raw in (None, ""):
        return ()
    names: object = raw
    if isinstance(raw, str):
        try:
            names = json.loads(raw)
        except json.JSONDecodeError:
            names = [raw]
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise _search_error(N_("facet.field must be a list of field names"))
    unknown = [n for n in names if n not in FIELDS]
    if unknown:
        raise _search_error(
            N_("Cannot facet by {field}; use one of: {choices}"),
            field=", ".join(unknown),
            choices=", ".join(sorted(FIELDS)),
        )
    return tuple(names)
