"""The auditor's pages: the trail with filters and paging, and the chain's integrity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from starlette.responses import HTMLResponse, Response

from yiwang.core import audit
from yiwang.core.i18n import N_, Translate
from yiwang.web.audit_api import AuditFilterDep
from yiwang.web.charts import stacked_bars
from yiwang.web.deps import DatabaseDep, PageActor, SessionDep, TranslateDep
from yiwang.web.templating import render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
CHART_DAYS = 30
RESULT_LABELS = {"success": N_("Succeeded"), "denied": N_("Refused"), "error": N_("Failed")}


@router.get("/audit", response_class=HTMLResponse)
def show_audit_trail(
    request: Request,
    actor: PageActor,
    session: SessionDep,
    flt: AuditFilterDep,
    translate: TranslateDep,
    page: Annotated[int, Query(ge=1)] = 1,
) -> Response:
    found = audit.search(session, actor, flt, page, PAGE_SIZE)
    chart = _daily_chart(audit.daily_counts(session, actor, CHART_DAYS), translate)
    query = {k: v for k, v in request.query_params.items() if k not in ("page", "lang") and v}

    def page_url(number: int) -> str:
        return "/audit?" + urlencode({**query, "page": number})

    return render(
        request, "audit.html", actor, found=found, flt=flt, page_url=page_url, results=audit.RESULTS, chart=chart
    )


def _daily_chart(counts: list[audit.DailyCount], translate: Translate) -> dict[str, Any]:
    """Every one of the last CHART_DAYS days on the axis, quiet days as zero, so the bars compare honestly."""
    today = datetime.now(UTC).date()
    days = [(today - timedelta(days=back)).isoformat() for back in range(CHART_DAYS - 1, -1, -1)]
    position = {day: i for i, day in enumerate(days)}
    series = {translate(RESULT_LABELS[result]): [0] * len(days) for result in audit.RESULTS}
    for c in counts:
        if c.day in position:
            series[translate(RESULT_LABELS[c.result])][position[c.day]] = c.count
    return stacked_bars([day[5:] for day in days], series, translate(N_("Entries")))


@router.get("/audit/verify", response_class=HTMLResponse)
def show_audit_verification(
    request: Request, actor: PageActor, database: DatabaseDep, translate: TranslateDep
) -> Response:
    with database.read_session() as session:
        report = audit.verify(session, actor)
    return render(request, "audit_verify.html", actor, report=report, message=report.message(translate))
