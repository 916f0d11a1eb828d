"""CKAN's DataStore reads over dataset versions: ``datastore_search`` and ``datastore_search_sql``."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from yiwang.catalog import service
from yiwang.catalog.ckan import params as p
from yiwang.catalog.ckan.dicts import datastore_fields
from yiwang.catalog.jsonable import json_value
from yiwang.catalog.models import Dataset
from yiwang.catalog.rows import MAX_PAGE_SIZE, RowFilter, RowQuery
from yiwang.catalog.sql import query_open_data
from yiwang.core.errors import InvalidInput, NotFound
from yiwang.core.i18n import N_

if TYPE_CHECKING:
    from yiwang.catalog.ckan.actions import ActionContext

DEFAULT_LIMIT = 100
_UUID = re.compile(r'"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"')


def _filters(data: p.Params) -> tuple[RowFilter, ...]:
    raw = p.json_value(data, "filters")
    if raw in (None, ""):
        return ()
    if not isinstance(raw, dict):
        raise InvalidInput("ckan.invalid.filters", N_("filters must be a dictionary of field names and values"))
    result = []
    for field, value in raw.items():
        if isinstance(value, list):
            result.append(RowFilter(field, "in", ",".join(str(v) for v in value)))
        else:
            result.append(RowFilter(field, "exact", str(value)))
    return tuple(result)


def _sort(data: p.Params) -> tuple[str | None, bool]:
    keys = p.string_list(data, "sort")
    if not keys:
        return None, False
    if len(keys) > 1:
        raise InvalidInput("ckan.invalid.sort", N_("Sort by one field here"))
    field, _, direction = keys[0].strip().strip('"').partition(" ")
    direction = direction.strip().lower() or "asc"
    if direction not in ("asc", "desc"):
        raise InvalidInput("ckan.invalid.sort", N_("Sort direction is asc or desc"))
    return field.strip('"'), direction == "desc"


def search(ctx: ActionContext, data: p.Params) -> dict[str, Any]:
    resource_id = p.required(data, "resource_id")
    limit = p.integer(data, "limit", DEFAULT_LIMIT)
    offset = p.integer(data, "offset", 0)
    if limit < 0 or offset < 0:
        raise InvalidInput("ckan.invalid.limit", N_("limit and offset must be 0 or more"))
    limit = min(limit, MAX_PAGE_SIZE)
    sort, descending = _sort(data)
    text = p.json_value(data, "q")
    if isinstance(text, dict):
        field_filters = tuple(RowFilter(str(k), "contains", str(v)) for k, v in text.items())
        text = ""
    else:
        field_filters = ()
    query = RowQuery(
        filters=_filters(data) + field_filters,
        sort=sort,
        descending=descending,
        fields=tuple(f for f in p.string_list(data, "fields") if f != "_id"),
        size=limit,
        text=str(text or ""),
        offset=offset,
    )
    with ctx.database.read_session() as session:
        version = service.get_version(session, ctx.actor, resource_id)
        dataset: Dataset = version.dataset
        name, number, fields = dataset.name, version.number, datastore_fields(version)
    page = service.read_dataset_rows(
        ctx.database, ctx.actor, ctx.settings.data_dir, name, query, version=number, analytics=ctx.analytics
    )
    records = [
        {"_id": row_number + 1, **{key: json_value(value) for key, value in row.items()}}
        for row_number, row in zip(page.row_numbers, page.rows, strict=True)
    ]
    if query.fields:
        fields = [f for f in fields if f["id"] == "_id" or f["id"] in query.fields]
    links_base = {key: value for key, value in data.items() if isinstance(value, str) and key != "offset"}
    result: dict[str, Any] = {
        "resource_id": resource_id,
        "fields": fields,
        "records": records,
        "records_format": "objects",
        "limit": limit,
        "offset": offset,
        "include_total": p.boolean(data, "include_total", True),
        "masked_fields": page.masked,
        "_links": {
            "start": "/api/3/action/datastore_search?" + urlencode(links_base),
            "next": "/api/3/action/datastore_search?" + urlencode({**links_base, "offset": offset + limit}),
        },
    }
    if result["include_total"]:
        result["total"] = page.total
        result["total_was_estimated"] = False
    if sort:
        result["sort"] = f"{sort} {'desc' if descending else 'asc'}"
    return result


def search_sql(ctx: ActionContext, data: p.Params) -> dict[str, Any]:
    sql = p.required(data, "sql")
    with ctx.database.read_session() as session:
        # CKAN clients name tables by resource id: the current version of an open dataset is that dataset's table
        def by_name(match: re.Match[str]) -> str:
            try:
                version = service.get_version(session, ctx.actor, match[1])
            except InvalidInput:
                return match[0]
            except NotFound:
                return match[0]
            if version.id != version.dataset.current_version_id:
                return match[0]
            return f'"{version.dataset.name}"'

        rewritten = _UUID.sub(by_name, sql)
        result = query_open_data(session, ctx.actor, ctx.settings.data_dir, rewritten)
    return {
        "sql": sql,
        "fields": [{"id": column, "type": "text"} for column in result.columns],
        "records": [
            dict(zip(result.columns, row, strict=True))
            for row in result.rows  # already JSON-ready
        ],
        "records_truncated": result.truncated,
    }
