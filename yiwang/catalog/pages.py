"""Pages of the catalogue: the list with search, and a dataset's page with fields, versions and quality."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from starlette.responses import HTMLResponse, Response

from yiwang.catalog import service
from yiwang.catalog.models import OPEN_LABELS, SECURITY_LABELS, SHARE_LABELS, Dataset
from yiwang.catalog.profile import QualityReport
from yiwang.core.i18n import N_, Translate
from yiwang.core.masking import PersonalKind
from yiwang.web.charts import PALETTE
from yiwang.web.deps import PageActor, ReadSessionDep, TranslateDep
from yiwang.web.templating import render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 20
KIND_LABELS = {
    PersonalKind.ID_NUMBER: N_("ID number"),
    PersonalKind.PHONE: N_("Phone number"),
    PersonalKind.NAME: N_("Person's name"),
    PersonalKind.ADDRESS: N_("Address"),
    PersonalKind.CREDIT_CODE: N_("Credit code"),
    PersonalKind.FREE_TEXT: N_("Free text"),
    PersonalKind.NONE: N_("Not personal"),
}


@router.get("/datasets", response_class=HTMLResponse)
def show_catalogue(
    request: Request,
    actor: PageActor,
    session: ReadSessionDep,
    q: Annotated[str, Query(max_length=200)] = "",
    page: Annotated[int, Query(ge=1)] = 1,
) -> Response:
    found = service.search_datasets(session, actor, q, None, page, PAGE_SIZE)

    def page_url(number: int) -> str:
        return "/datasets?" + urlencode({"q": q, "page": number})

    pages = max(1, -(-found.total // PAGE_SIZE))
    return render(
        request, "catalog/list.html", actor, found=found, q=q, pages=pages, page_url=page_url, labels=_labels()
    )


@router.get("/datasets/{name}", response_class=HTMLResponse)
def show_dataset(
    name: str, request: Request, actor: PageActor, session: ReadSessionDep, translate: TranslateDep
) -> Response:
    dataset = service.get_dataset(session, actor, name)
    current = dataset.current_version
    chart = _completeness_chart(dataset, translate) if current is not None else None
    return render(
        request,
        "catalog/dataset.html",
        actor,
        dataset=dataset,
        current=current,
        chart=chart,
        labels=_labels(),
        kind_labels=KIND_LABELS,
    )


def _labels() -> dict[str, dict[str, str]]:
    return {
        "share": {str(k): v for k, v in SHARE_LABELS.items()},
        "open": {str(k): v for k, v in OPEN_LABELS.items()},
        "security": {str(k): v for k, v in SECURITY_LABELS.items()},
    }


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
