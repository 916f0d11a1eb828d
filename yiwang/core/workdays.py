"""工作日 working days: Monday to Friday, less public holidays, plus the make-up working days (调休) on weekends.

Days count in China Standard Time (UTC+8, no daylight saving), whatever the server's zone. The exceptions live in
the `calendar_days` table: the years the `chinesecalendar` package knows (2004 to its last year) are loaded when the
database is created, and the administrator enters each later year from the State Council's notice
(`yiwang calendar add`), so deadlines stay right without a code change.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from yiwang.core import audit
from yiwang.core.authz import Action, authorize
from yiwang.core.errors import InvalidInput
from yiwang.core.i18n import N_
from yiwang.core.identity import Actor
from yiwang.core.models import CalendarDay

CHINA = timezone(timedelta(hours=8), "CST")
SATURDAY = 5
PACKAGED = "chinesecalendar"


class DayKind(StrEnum):
    HOLIDAY = "holiday"  # 法定节假日 (a day off that would otherwise be worked, or part of a holiday period)
    WORKDAY = "workday"  # 调休上班 (a weekend day worked instead)


@dataclass(frozen=True)
class WorkCalendar:
    """The exceptions to Monday-to-Friday: holidays and make-up working days."""

    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()

    def is_working_day(self, day: date) -> bool:
        if day in self.workdays:
            return True
        return day not in self.holidays and day.weekday() < SATURDAY

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """The moment `days` working days after `start` (same time of day, China time); from a day off it counts
        from the next working day."""
        moment = start.astimezone(CHINA)
        remaining = days
        while remaining > 0:
            moment += timedelta(days=1)
            if self.is_working_day(moment.date()):
                remaining -= 1
        return moment.astimezone(start.tzinfo)

    def working_days_between(self, start: datetime, end: datetime) -> int:
        """Working days from `start`'s date (exclusive) to `end`'s date (inclusive), in China time."""
        first, last = start.astimezone(CHINA).date(), end.astimezone(CHINA).date()
        count = 0
        day = first
        while day < last:
            day += timedelta(days=1)
            count += self.is_working_day(day)
        return count


def load_calendar(session: Session) -> WorkCalendar:
    """The installation's calendar (a few hundred rows: read whenever a deadline is computed)."""
    holidays: set[date] = set()
    workdays: set[date] = set()
    for day, kind in session.execute(select(CalendarDay.day, CalendarDay.kind)):
        (workdays if kind == DayKind.WORKDAY.value else holidays).add(day)
    return WorkCalendar(frozenset(holidays), frozenset(workdays))


def packaged_days() -> list[dict[str, object]]:
    """The holidays and make-up working days the installed `chinesecalendar` knows, as table rows."""
    from chinese_calendar import constants

    rows: list[dict[str, object]] = [
        {"day": day, "kind": DayKind.HOLIDAY.value, "name": str(name), "source": PACKAGED}
        for day, name in constants.holidays.items()
    ]
    rows += [
        {"day": day, "kind": DayKind.WORKDAY.value, "name": str(name), "source": PACKAGED}
        for day, name in constants.workdays.items()
        if day.weekday() >= SATURDAY  # weekdays are working days anyway
    ]
    return sorted(rows, key=lambda row: str(row["day"]))


def set_day(session: Session, actor: Actor, day: date, kind: str, name: str = "") -> CalendarDay:
    """Enter (or correct) a holiday or a make-up working day; administrators only, audited."""
    authorize(actor, Action.CALENDAR_EDIT)
    try:
        chosen = DayKind(kind)
    except ValueError:
        raise InvalidInput(
            "calendar.bad_kind", N_("A day is a holiday or a workday (调休), not {kind}"), kind=kind
        ) from None
    if chosen is DayKind.WORKDAY and day.weekday() < SATURDAY:
        raise InvalidInput(
            "calendar.not_weekend", N_("{day} is a weekday: only weekend days can be make-up working days"), day=day
        )
    row = session.get(CalendarDay, day) or CalendarDay(day=day)
    row.kind, row.name, row.source = chosen.value, name.strip()[:100], actor.username
    session.add(row)
    audit.record(
        session,
        actor,
        Action.CALENDAR_EDIT,
        resource_type="calendar",
        resource_id=day.isoformat(),
        detail={"kind": chosen.value, "name": row.name},
    )
    return row


def remove_day(session: Session, actor: Actor, day: date) -> None:
    """Make `day` an ordinary day again."""
    authorize(actor, Action.CALENDAR_EDIT)
    row = session.get(CalendarDay, day)
    if row is None:
        raise InvalidInput("calendar.not_listed", N_("{day} is not in the calendar"), day=day)
    session.delete(row)
    audit.record(
        session,
        actor,
        Action.CALENDAR_EDIT,
        resource_type="calendar",
        resource_id=day.isoformat(),
        detail={"removed": True},
    )


def days_of_year(session: Session, year: int) -> list[CalendarDay]:
    return list(
        session.scalars(
            select(CalendarDay)
            .where(CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31))
            .order_by(CalendarDay.day)
        )
    )


def years(session: Session) -> Iterable[int]:
    """The years the calendar holds exceptions for."""
    return sorted({day.year for day in session.scalars(select(CalendarDay.day))})
