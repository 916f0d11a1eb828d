"""好差评: ratings of finished applications, rectification of bad ones, appeals, and statistics.

One rating per application (一次一评) by its applicant, on the five national levels. Levels 1 and 2 are 差评: they
open a rectification for the item's department with a deadline in working days; the department explains back to
the applicant what it changed, or appeals (申诉) a rating it thinks unfounded; the admin reviews (复核) the appeal
and, when it is upheld, the rating leaves the statistics (it stays visible with the decision).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from yiwang.core import audit
from yiwang.core.authz import authorize
from yiwang.core.errors import Conflict, InvalidInput, NotFound
from yiwang.core.i18n import N_
from yiwang.core.identity import Actor, Role
from yiwang.core.models import Department, is_row_id, utcnow
from yiwang.core.workdays import load_calendar
from yiwang.services import applications
from yiwang.services.models import (
    ApplicationState,
    Rating,
    Rectification,
    RectificationState,
    ServiceItem,
)
from yiwang.services.rules import ServicesAction, department_resource

LEVELS = {
    5: N_("Very satisfied"),
    4: N_("Satisfied"),
    3: N_("Fair"),
    2: N_("Dissatisfied"),
    1: N_("Very dissatisfied"),
}
BAD_LEVELS = (1, 2)
MAX_TEXT = 1000


def _text(value: str, name: str, *, required: bool) -> str:
    value = value.strip()
    if required and not value:
        raise InvalidInput("rating.text_required", N_("Please write the {name}"), name=name)
    if len(value) > MAX_TEXT:
        raise InvalidInput("rating.text_too_long", N_("At most {most} characters"), most=MAX_TEXT)
    return value


def rate(
    session: Session,
    actor: Actor,
    application_id: int,
    level: int,
    comment: str,
    *,
    rectification_days: int,
) -> Rating:
    """The applicant rates a finished application once; a 差评 opens a rectification for the department."""
    if level not in LEVELS:
        raise InvalidInput("rating.bad_level", N_("The level is 1 (very dissatisfied) to 5 (very satisfied)"))
    application = applications.get_application(session, actor, application_id, lock=True)
    authorize(actor, ServicesAction.RATE, applications.resource_of(application))
    if application.state == ApplicationState.IN_PROGRESS.value:
        raise Conflict("rating.not_finished", N_("An application can be rated once it is finished"))
    if session.scalar(select(Rating.id).where(Rating.application_id == application.id)) is not None:
        raise Conflict("rating.exists", N_("This application has been rated already (one rating per application)"))
    comment = _text(comment, "comment", required=level in BAD_LEVELS)
    rating = Rating(
        application_id=application.id,
        service_item_id=application.service_item_id,
        department_id=application.service_item.department_id,
        level=level,
        comment=comment,
    )
    session.add(rating)
    session.flush()
    if level in BAD_LEVELS:
        session.add(
            Rectification(
                rating_id=rating.id,
                department_id=rating.department_id,
                due_at=load_calendar(session).add_working_days(utcnow(), rectification_days),
            )
        )
    audit.record(
        session,
        actor,
        "application.rate",
        resource_type="application",
        resource_id=str(application.id),
        detail={"level": level},
    )
    return rating


def rating_of(session: Session, application_id: int) -> Rating | None:
    return session.scalar(select(Rating).where(Rating.application_id == application_id))


def rectification_of(session: Session, rating_id: int) -> Rectification | None:
    return session.scalar(select(Rectification).where(Rectification.rating_id == rating_id))


def list_rectifications(session: Session, actor: Actor, *, state: str = "") -> list[Rectification]:
    """A department's rectifications (the admin sees all), open ones first by deadline."""
    authorize(actor, ServicesAction.LIST_RECTIFICATIONS)
    query = select(Rectification)
    if not actor.has_role(Role.ADMIN):
        query = query.where(Rectification.department_id == (actor.department_id or -1))
    if state:
        if state not in {s.value for s in RectificationState}:
            raise InvalidInput("rectification.bad_state", N_("Unknown rectification state {state}"), state=state)
        query = query.where(Rectification.state == state)
    return list(session.scalars(query.order_by(Rectification.due_at)))


def _rectification(session: Session, rectification_id: int, *, lock: bool = True) -> Rectification:
    query = select(Rectification).where(Rectification.id == rectification_id)
    found = session.scalar(query.with_for_update() if lock else query) if is_row_id(rectification_id) else None
    if found is None:
        raise NotFound("rectification.not_found", N_("No rectification {id}"), id=rectification_id)
    return found


def explain(session: Session, actor: Actor, rectification_id: int, explanation: str) -> Rectification:
    """整改反馈: the department says what it changed; the applicant reads it on the application."""
    found = _rectification(session, rectification_id)
    authorize(actor, ServicesAction.RECTIFY, department_resource("rectification", found.department_id, found.id))
    if found.state not in (RectificationState.OPEN.value, RectificationState.APPEAL_DISMISSED.value):
        raise Conflict("rectification.closed", N_("This rectification is not open"))
    found.explanation = _text(explanation, "explanation", required=True)
    found.explained_at = utcnow()
    found.state = RectificationState.EXPLAINED.value
    audit.record(session, actor, "rectification.explain", resource_type="rectification", resource_id=str(found.id))
    return found


def appeal(session: Session, actor: Actor, rectification_id: int, reason: str) -> Rectification:
    """申诉: the department asks the admin to review a rating it thinks unfounded (once)."""
    found = _rectification(session, rectification_id)
    authorize(actor, ServicesAction.RECTIFY, department_resource("rectification", found.department_id, found.id))
    if found.state != RectificationState.OPEN.value or found.appealed_at is not None:
        raise Conflict("rectification.no_appeal", N_("Only an open rectification can be appealed, once"))
    found.appeal_reason = _text(reason, "reason", required=True)
    found.appealed_at = utcnow()
    found.state = RectificationState.APPEALED.value
    audit.record(session, actor, "rectification.appeal", resource_type="rectification", resource_id=str(found.id))
    return found


def review_appeal(session: Session, actor: Actor, rectification_id: int, upheld: bool, note: str) -> Rectification:
    """复核: the admin upholds the appeal (the rating leaves the statistics) or dismisses it (rectify after all)."""
    authorize(actor, ServicesAction.REVIEW_APPEAL)
    found = _rectification(session, rectification_id)
    if found.state != RectificationState.APPEALED.value:
        raise Conflict("rectification.not_appealed", N_("This rectification has no appeal waiting for review"))
    found.review_note = _text(note, "note", required=True)
    found.reviewed_by, found.reviewed_at = actor.username, utcnow()
    if upheld:
        found.state = RectificationState.APPEAL_UPHELD.value
        found.rating.excluded = True
    else:
        found.state = RectificationState.APPEAL_DISMISSED.value
    audit.record(
        session,
        actor,
        "rectification.review",
        resource_type="rectification",
        resource_id=str(found.id),
        detail={"upheld": upheld},
    )
    return found


@dataclass(frozen=True)
class RatingStats:
    """Ratings of one item or department: counts per level, average, satisfaction rate, bad ones and rectified."""

    key: str
    name: str
    count: int
    levels: dict[int, int]
    average: float
    satisfaction: float  # share rated 4 or 5
    bad: int
    rectified: int


def _stats(session: Session, group: str) -> list[RatingStats]:
    if group == "item":
        key_column, name_column, join_on = ServiceItem.code, ServiceItem.name, ServiceItem.id == Rating.service_item_id
        table: type[ServiceItem] | type[Department] = ServiceItem
    else:
        key_column, name_column, join_on = Department.name, Department.name, Department.id == Rating.department_id
        table = Department
    counted = session.execute(
        select(key_column, name_column, Rating.level, func.count())
        .join(table, join_on)
        .where(Rating.excluded.is_(False))
        .group_by(key_column, name_column, Rating.level)
    ).all()
    rectified = dict(
        session.execute(
            select(key_column, func.count())
            .select_from(Rectification)
            .join(Rating, Rating.id == Rectification.rating_id)
            .join(table, join_on)
            .where(Rectification.state == RectificationState.EXPLAINED.value)
            .group_by(key_column)
        ).all()
    )
    grouped: dict[str, tuple[str, dict[int, int]]] = {}
    for key, name, level, count in counted:
        grouped.setdefault(key, (name, {level: 0 for level in LEVELS}))[1][level] = count
    stats = []
    for key, (name, levels) in grouped.items():
        total = sum(levels.values())
        stats.append(
            RatingStats(
                key=key,
                name=name,
                count=total,
                levels=levels,
                average=round(sum(level * n for level, n in levels.items()) / total, 2),
                satisfaction=round((levels[4] + levels[5]) / total, 4),
                bad=levels[1] + levels[2],
                rectified=int(rectified.get(key, 0)),
            )
        )
    return sorted(stats, key=lambda s: (-s.count, s.key))


def stats_by_item(session: Session) -> list[RatingStats]:
    """Public: how satisfied applicants were with each service item."""
    return _stats(session, "item")


def stats_by_department(session: Session) -> list[RatingStats]:
    """Public: how satisfied applicants were with each department."""
    return _stats(session, "department")
