"""JSON API of 好差评 and electronic licences: ratings, rectifications with appeals, statistics, licence checks."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from yiwang.core.errors import InvalidInput
from yiwang.core.i18n import N_
from yiwang.services import licences, ratings
from yiwang.services.api import LicencePublic, RectificationPublic, licence_public
from yiwang.web.deps import ApiActor, ReadSessionDep, SessionDep, SettingsDep
from yiwang.web.openapi_links import from_body, linked, rectification_links

router = APIRouter(tags=["services"])


class RatingIn(BaseModel):
    level: int = Field(description="5 非常满意, 4 满意, 3 基本满意, 2 不满意, 1 非常不满意.")
    comment: str = Field("", max_length=ratings.MAX_TEXT)


class RatingOut(BaseModel):
    level: int
    rectification_id: int | None = Field(description="The rectification a 差评 (1 or 2) opened.")


@router.post(
    "/api/v1/applications/{application_id}/rating",
    response_model=RatingOut,
    status_code=201,
    summary="好差评 Rate an application",
    responses=linked(201, **rectification_links(from_body("/rectification_id"))),
)
def rate_application(
    application_id: int, body: RatingIn, actor: ApiActor, session: SessionDep, settings: SettingsDep
) -> RatingOut:
    """The applicant rates a finished application once; levels 1–2 need a comment and open a rectification."""
    rating = ratings.rate(
        session,
        actor,
        application_id,
        body.level,
        body.comment,
        rectification_days=settings.services_rectification_days,
    )
    session.flush()
    rectification = ratings.rectification_of(session, rating.id)
    return RatingOut(level=rating.level, rectification_id=rectification.id if rectification else None)


class StatsPublic(BaseModel):
    key: str
    name: str
    count: int
    levels: dict[int, int]
    average: float
    satisfaction: float = Field(description="Share rated 4 or 5.")
    bad: int = Field(description="差评: levels 1 and 2.")
    rectified: int


@router.get("/api/v1/ratings/stats", response_model=list[StatsPublic], summary="好差评统计 Rating statistics")
def rating_stats(
    session: ReadSessionDep, by: Annotated[str, Query(description="item or department")] = "item"
) -> list[StatsPublic]:
    """Ratings per service item or per department (public, as the national 好差评 system publishes them)."""
    if by not in ("item", "department"):
        raise InvalidInput("rating.bad_group", N_("by must be item or department"))
    stats = ratings.stats_by_item(session) if by == "item" else ratings.stats_by_department(session)
    return [StatsPublic(**s.__dict__) for s in stats]


@router.get(
    "/api/v1/rectifications",
    response_model=list[RectificationPublic],
    summary="整改 Rectifications",
    responses=linked(200, **rectification_links(from_body("/0/id"))),
)
def list_rectifications(
    actor: ApiActor, session: ReadSessionDep, state: Annotated[str, Query()] = ""
) -> list[RectificationPublic]:
    """Rectifications of the caller's department (all for the admin), earliest deadline first."""
    return [RectificationPublic.of(r) for r in ratings.list_rectifications(session, actor, state=state)]


class TextIn(BaseModel):
    text: str = Field(max_length=ratings.MAX_TEXT)


class ReviewIn(BaseModel):
    upheld: bool = Field(description="true: the appeal stands and the rating leaves the statistics.")
    note: str = Field(max_length=ratings.MAX_TEXT)


@router.post(
    "/api/v1/rectifications/{rectification_id}/explain", response_model=RectificationPublic, summary="整改反馈 Explain"
)
def explain_rectification(
    rectification_id: int, body: TextIn, actor: ApiActor, session: SessionDep
) -> RectificationPublic:
    """The department tells the applicant what it changed (staff of the department)."""
    found = ratings.explain(session, actor, rectification_id, body.text)
    return RectificationPublic.of(found)


@router.post(
    "/api/v1/rectifications/{rectification_id}/appeal",
    response_model=RectificationPublic,
    summary="申诉 Appeal",
    responses=linked(200, **rectification_links(from_body("/id"))),
)
def appeal_rectification(
    rectification_id: int, body: TextIn, actor: ApiActor, session: SessionDep
) -> RectificationPublic:
    """The department appeals a rating it thinks unfounded (once), for the admin to review."""
    found = ratings.appeal(session, actor, rectification_id, body.text)
    return RectificationPublic.of(found)


@router.post(
    "/api/v1/rectifications/{rectification_id}/review", response_model=RectificationPublic, summary="复核 Review"
)
def review_rectification(
    rectification_id: int, body: ReviewIn, actor: ApiActor, session: SessionDep
) -> RectificationPublic:
    """The admin upholds or dismisses a department's appeal."""
    found = ratings.review_appeal(session, actor, rectification_id, body.upheld, body.note)
    return RectificationPublic.of(found)


@router.get("/api/v1/licences", response_model=list[LicencePublic], summary="我的电子证照 My licences")
def list_licences(actor: ApiActor, session: ReadSessionDep) -> list[LicencePublic]:
    """The electronic licences the caller holds."""
    return [licence_public(licence) for licence in licences.my_licences(session, actor)]


class LicenceCheckOut(LicencePublic):
    valid: bool
    reason: str = Field(description="valid, expired or revoked.")


@router.get("/api/v1/licences/{number}/verify", response_model=LicenceCheckOut, summary="证照核验 Verify a licence")
def verify_licence(
    number: str,
    actor: ApiActor,
    session: SessionDep,
    purpose: Annotated[str, Query(min_length=2, max_length=200, description="Why it is checked (audited).")],
) -> LicenceCheckOut:
    """Whether a licence is valid (department staff), instead of asking for the paper certificate; audited."""
    return LicenceCheckOut(**licences.verify(session, actor, number, purpose=purpose).__dict__)
