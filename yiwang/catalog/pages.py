"""Pages of the catalogue: search with facets, a dataset's page (preview, chart, downloads), departments, and the
administrator's review queue."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from sqlalchemy import select
from starlette.responses import HTMLResponse, RedirectResponse, Response

from yiwang.catalog import service
from yiwang.catalog.models import (
    OPEN_LABELS,
    SECURITY_LABELS,
    SHARE_LABELS,
    UPDATE_FREQUENCIES,
    Dataset,
    DatasetVersion,
)
from yiwang.catalog.profile import QualityReport
from yiwang.catalog.rows import OPERATORS, RowFilter, RowPage, RowQuery
from yiwang.catalog.rules import CatalogAction, dataset_resource, is_publisher, rows_resource
from yiwang.catalog.search import PORTAL_FACETS, CatalogueQuery, FacetFilter, portal_query, search_catalogue
from yiwang.core.authz import can
from yiwang.core.errors import InvalidInput, NotFound
from yiwang.core.i18n import N_, Translate
from yiwang.core.identity import Actor, Role
from yiwang.core.masking import PersonalKind
from yiwang.core.models import Department
from yiwang.web.charts import PALETTE
from yiwang.web.deps import (
    AnalyticsDep,
    CsrfChecked,
    DatabaseDep,
    PageActor,
    ReadSessionDep,
    SessionDep,
    SettingsDep,
    TranslateDep,
)
from yiwang.web.templating import render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 20
PREVIEW_ROWS = 20
CHART_VALUES = 20
KIND_LABELS = {
    PersonalKind.ID_NUMBER: N_("ID number"),
    PersonalKind.PHONE: N_("Phone number"),
    PersonalKind.NAME: N_("Person's name"),
    PersonalKind.ADDRESS: N_("Address"),
    PersonalKind.CREDIT_CODE: N_("Credit code"),
    PersonalKind.FREE_TEXT: N_("Free text"),
    PersonalKind.NONE: N_("Not personal"),
}
FACET_TITLES = {
    "department": N_("Department"),
    "theme": N_("Theme"),
    "tag": N_("Tags"),
    "format": N_("Format"),
    "open_type": N_("Open type"),
    "update_frequency": N_("Update frequency"),
}
SORT_LABELS = {
    "": N_("Best match"),
    "modified_desc": N_("Recently updated"),
    "title_asc": N_("Title"),
    "name_asc": N_("Name"),
}


def _labels() -> dict[str, dict[str, str]]:
    return {
        "share": {str(k): v for k, v in SHARE_LABELS.items()},
        "open": {str(k): v for k, v in OPEN_LABELS.items()},
        "security": {str(k): v for k, v in SECURITY_LABELS.items()},
        "frequency": dict(UPDATE_FREQUENCIES),
    }


def _facet_label(field: str, value: str) -> str:
    labels = _labels()
    if field == "open_type":
        return labels["open"].get(value, value)
    if field == "update_frequency":
        return labels["frequency"].get(value, value)
    return value


@router.get("/datasets", response_class=HTMLResponse)
def show_catalogue(
    request: Request,
    actor: PageActor,
    session: ReadSessionDep,
    translate: TranslateDep,
    q: Annotated[str, Query(max_length=200)] = "",
    sort: Annotated[str, Query(max_length=20)] = "",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    chosen = {field: request.query_params.getlist(field) for field in PORTAL_FACETS}
    if sort not in SORT_LABELS:
        sort = ""
    found = search_catalogue(session, actor, portal_query(q, chosen, sort=sort, page=page, page_size=PAGE_SIZE))
    base: list[tuple[str, str]] = [("q", q)] if q else []
    base += [(field, value) for field, values in chosen.items() for value in values]

    def url(params: list[tuple[str, str]], **extra: str | int) -> str:
        return "/datasets?" + urlencode([*params, *((k, str(v)) for k, v in extra.items() if v not in ("", 1))])

    facets = []
    for field in PORTAL_FACETS:
        items = []
        for value, count in found.facets.get(field, []):
            active = value in chosen[field]
            toggled = [p for p in base if p != (field, value)] if active else [*base, (field, value)]
            items.append(
                {"label": translate(_facet_label(field, value)), "count": count, "active": active, "url": url(toggled)}
            )
        if items:
            facets.append({"field": field, "title": FACET_TITLES[field], "items": items})
    pages = max(1, -(-found.total // PAGE_SIZE))
    return render(
        request,
        "catalog/list.html",
        actor,
        found=found,
        q=q,
        sort=sort,
        sorts=SORT_LABELS,
        chosen=chosen,
        facets=facets,
        page=page,
        pages=pages,
        page_url=lambda number: url(base, sort=sort, page=number),
        sort_url=lambda key: url(base, sort=key),
        labels=_labels(),
        may_publish=actor.has_role(Role.ADMIN, Role.DEPT_STAFF),
    )


def _preview_query(
    version: DatasetVersion, request: Request, chart_field: str | None
) -> tuple[RowQuery, dict[str, Any]]:
    """The preview's filter, sort and page from the address, so a filtered view can be bookmarked and shared."""
    params = request.query_params
    page_number = int(params["p"]) if params.get("p", "").isdigit() and 1 <= int(params["p"]) <= 100_000 else 1
    form: dict[str, Any] = {
        "f": params.get("f", ""),
        "op": params.get("op", "contains"),
        "v": params.get("v", ""),
        "sort": params.get("sort", ""),
        "desc": params.get("desc", "") == "1",
        "p": page_number,
    }
    known = {f.name for f in version.fields}
    filters: tuple[RowFilter, ...] = ()
    if form["f"] in known and form["v"] != "" and form["op"] in OPERATORS:
        filters = (RowFilter(str(form["f"]), str(form["op"]), str(form["v"])),)
    query = RowQuery(
        filters=filters,
        sort=str(form["sort"]) if form["sort"] in known else None,
        descending=bool(form["desc"]),
        size=PREVIEW_ROWS,
        offset=(page_number - 1) * PREVIEW_ROWS,
        facets=(chart_field,) if chart_field else (),
    )
    return query, form


def _chart_choices(version: DatasetVersion, raw: bool) -> list[str]:
    """Fields worth a chart of their most common values: never personal ones for those who see them masked."""
    return [f.name for f in version.fields if raw or f.kind == PersonalKind.NONE.value]


def _default_chart_field(version: DatasetVersion, choices: list[str]) -> str | None:
    """The field with the fewest distinct values above one: a category people compare counts of."""
    report = QualityReport.from_dict(version.quality)
    distinct = {f.name: f.distinct_count for f in report.fields}
    candidates = [name for name in choices if 2 <= distinct.get(name, 0) <= 60]
    return min(candidates, key=lambda name: distinct[name]) if candidates else None


def _values_chart(field: str, counts: list[tuple[Any, int]], translate: Translate) -> dict[str, Any]:
    labels = ["—" if value is None else str(value) for value, _count in counts]
    return {
        "color": PALETTE,
        "tooltip": {"trigger": "axis"},
        "grid": {"left": 140, "right": 24, "top": 24, "bottom": 32},
        "xAxis": {"type": "value", "name": translate(N_("Rows"))},
        "yAxis": {"type": "category", "data": labels, "inverse": True},
        "series": [{"name": field, "type": "bar", "data": [count for _value, count in counts]}],
    }


@router.get("/datasets/{name}", response_class=HTMLResponse)
def show_dataset(
    name: str,
    request: Request,
    actor: PageActor,
    session: ReadSessionDep,
    database: DatabaseDep,
    settings: SettingsDep,
    translate: TranslateDep,
    analytics: AnalyticsDep,
) -> Response:
    dataset = service.get_dataset(session, actor, name)
    service.record_metadata_read(database, actor, dataset)
    current = dataset.current_version
    resource = rows_resource(dataset)
    readable = current is not None and can(actor, CatalogAction.READ_ROWS, resource)
    preview: RowPage | None = None
    preview_error = ""
    form: dict[str, Any] = {}
    chart_field: str | None = None
    choices: list[str] = []
    if readable and current is not None:
        choices = _chart_choices(current, is_publisher(actor, resource))
        wanted = request.query_params.get("chart")
        chart_field = wanted if wanted in choices else _default_chart_field(current, choices)
        query, form = _preview_query(current, request, chart_field)
        try:
            preview = service.read_dataset_rows(
                database, actor, settings.data_dir, dataset.name, query, analytics=analytics
            )
        except InvalidInput as error:
            preview_error = error.render(translate)
    values_chart = (
        _values_chart(chart_field, preview.facets.get(chart_field, [])[:CHART_VALUES], translate)
        if preview is not None and chart_field
        else None
    )

    def preview_url(**changes: str | int) -> str:
        kept = {k: v for k, v in request.query_params.items() if k in ("f", "op", "v", "sort", "desc", "chart", "lang")}
        return f"/datasets/{dataset.name}?" + urlencode({**kept, **{k: str(v) for k, v in changes.items()}})

    return render(
        request,
        "catalog/dataset.html",
        actor,
        dataset=dataset,
        current=current,
        chart=_completeness_chart(dataset, translate) if current is not None else None,
        labels=_labels(),
        kind_labels=KIND_LABELS,
        readable=readable,
        preview=preview,
        preview_error=preview_error,
        form=form,
        operators=list(OPERATORS),
        preview_rows=PREVIEW_ROWS,
        preview_url=preview_url,
        chart_field=chart_field,
        chart_choices=choices,
        values_chart=values_chart,
        can_publish=can(actor, CatalogAction.INGEST, dataset_resource(dataset)),
        personal_kinds=[kind.value for kind in PersonalKind],
        uploaded=request.query_params.get("uploaded", ""),
        confirmed=request.query_params.get("confirmed", ""),
    )


def _completeness_chart(dataset: Dataset, translate: Translate) -> dict[str, Any]:
    """Share of filled values per field of the current version: where the data has holes."""
    current = dataset.current_version
    fields = QualityReport.from_dict(current.quality).fields if current is not None else []
    names = [f.name for f in fields]
    filled = [round(100 * (1 - f.null_rate), 1) for f in fields]
    return {
        "color": PALETTE,
        "tooltip": {"trigger": "axis"},
        "grid": {"left": 140, "right": 24, "top": 24, "bottom": 32},
        "xAxis": {"type": "value", "max": 100, "name": translate(N_("% filled"))},
        "yAxis": {"type": "category", "data": names, "inverse": True},
        "series": [{"name": translate(N_("% filled")), "type": "bar", "data": filled}],
    }


def _department_counts(session: ReadSessionDep, actor: Actor) -> list[tuple[str, int]]:
    found = search_catalogue(session, actor, CatalogueQuery(rows=0, facet_fields=("department",), facet_limit=-1))
    return found.facets.get("department", [])


@router.get("/departments", response_class=HTMLResponse)
def show_departments(request: Request, actor: PageActor, session: ReadSessionDep, translate: TranslateDep) -> Response:
    counts = dict(_department_counts(session, actor))
    departments = [(d, counts.get(d.name, 0)) for d in session.scalars(select(Department).order_by(Department.name))]
    departments.sort(key=lambda pair: (-pair[1], pair[0].name))
    chart = {
        "color": PALETTE,
        "tooltip": {"trigger": "axis"},
        "grid": {"left": 200, "right": 24, "top": 24, "bottom": 32},
        "xAxis": {"type": "value", "name": translate(N_("Datasets"))},
        "yAxis": {"type": "category", "data": [d.name for d, _ in departments], "inverse": True},
        "series": [{"name": translate(N_("Datasets")), "type": "bar", "data": [n for _, n in departments]}],
    }
    return render(request, "catalog/departments.html", actor, departments=departments, chart=chart)


@router.get("/departments/{name}", response_class=HTMLResponse)
def show_department(name: str, request: Request, actor: PageActor, session: ReadSessionDep) -> Response:
    department = session.scalar(select(Department).where(Department.name == name))
    if department is None:
        raise NotFound("department.not_found", N_("No department is called {name}"), name=name)
    found = search_catalogue(
        session,
        actor,
        CatalogueQuery(filters=(FacetFilter("department", department.name),), sort="title_asc", rows=1000),
    )
    return render(request, "catalog/department.html", actor, department=department, found=found, labels=_labels())


@router.get("/review", response_class=HTMLResponse)
def show_review_queue(request: Request, actor: PageActor, session: ReadSessionDep) -> Response:
    queue = service.review_queue(session, actor)
    return render(
        request, "catalog/review.html", actor, queue=queue, labels=_labels(), done=request.query_params.get("done", "")
    )


@router.post("/review/{name}", dependencies=[CsrfChecked])
def classify_from_queue(
    name: str,
    actor: PageActor,
    session: SessionDep,
    share_type: Annotated[str, Form()],
    open_type: Annotated[str, Form()],
    security_level: Annotated[str, Form()],
) -> Response:
    service.classify_dataset(
        session, actor, name, share_type=share_type, open_type=open_type, security_level=security_level
    )
    return RedirectResponse("/review?" + urlencode({"done": name}), status_code=303)
