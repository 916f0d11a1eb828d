"""工作日 working days for review deadlines: Monday to Friday.

Public holidays and the make-up working days (调休) are not counted yet; they come with the editable holiday table
of the services module, and this is the one function that will read it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

SATURDAY = 5


def add_working_days(start: datetime, days: int) -> datetime:
    """The moment `days` working days after `start` (same time of day); a weekend start counts from Monday."""
    moment = start
    remaining = days
    while remaining > 0:
        moment += timedelta(days=1)
        if moment.weekday() < SATURDAY:
            remaining -= 1
    return moment
