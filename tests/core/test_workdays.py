"""Working days for review deadlines skip Saturdays and Sundays."""

from __future__ import annotations

from datetime import UTC, datetime

from yiwang.core.workdays import add_working_days


def test_weekends_do_not_count() -> None:
    friday = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
    assert add_working_days(friday, 1) == datetime(2026, 12, 7, 10, 0, tzinfo=UTC)  # Monday
    assert add_working_days(friday, 10) == datetime(2026, 12, 18, 10, 0, tzinfo=UTC)
    saturday = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
    assert add_working_days(saturday, 1) == datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    assert add_working_days(friday, 0) == friday
