"""Working days: weekends and public holidays off, make-up working days (调休) worked, later years entered by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime

from typer.testing import CliRunner

from yiwang.cli.main import app
from yiwang.core import workdays
from yiwang.core.db import Database
from yiwang.core.identity import Actor
from yiwang.core.workdays import CHINA, WorkCalendar, load_calendar

runner = CliRunner()


def test_weekends_do_not_count() -> None:
    plain = WorkCalendar()
    friday = datetime(2026, 12, 4, 10, 0, tzinfo=CHINA)
    assert plain.add_working_days(friday, 1) == datetime(2026, 12, 7, 10, 0, tzinfo=CHINA)  # Monday
    assert plain.add_working_days(friday, 10) == datetime(2026, 12, 18, 10, 0, tzinfo=CHINA)
    assert plain.add_working_days(friday, 0) == friday


def test_days_count_in_china_time_whatever_the_servers_zone() -> None:
    plain = WorkCalendar()
    # Friday 20:00 UTC is already Saturday 04:00 in Beijing: one working day later is Tuesday in Beijing.
    late_friday = datetime(2026, 12, 4, 20, 0, tzinfo=UTC)
    assert plain.add_working_days(late_friday, 1).astimezone(CHINA).date() == date(2026, 12, 7)


def test_the_packaged_calendar_knows_spring_festival_and_its_make_up_days(database: Database) -> None:
    with database.read_session() as session:
        calendar = load_calendar(session)
        held = list(workdays.years(session))
    assert held[0] == 2004 and held[-1] >= 2026
    assert not calendar.is_working_day(date(2026, 2, 16))  # 春节, a Monday
    assert calendar.is_working_day(date(2026, 2, 14))  # 调休: a Saturday worked
    before = datetime(2026, 2, 13, 9, 0, tzinfo=CHINA)  # Friday before the festival
    # Sat 14 (worked) counts; 15–23 are the festival; Tue 24 is the next.
    assert calendar.add_working_days(before, 2).date() == date(2026, 2, 24)


def test_a_year_after_the_packaged_ones_is_entered_without_a_code_change(database: Database) -> None:
    with database.session() as session:
        year = max(workdays.years(session)) + 1  # 2027 with chinesecalendar 1.11
        new_year = date(year, 1, 1)
        assert load_calendar(session).is_working_day(new_year) == (new_year.weekday() < 5)
        workdays.set_day(session, Actor.operator(), new_year, "holiday", "元旦")
    with database.read_session() as session:
        calendar = load_calendar(session)
    assert not calendar.is_working_day(new_year)
    eve = datetime(year - 1, 12, 31, 9, 0, tzinfo=CHINA)
    assert calendar.add_working_days(eve, 1).date() > new_year


def test_the_calendar_from_the_command_line(cli_env: dict[str, str]) -> None:
    def yiwang(*args: str) -> tuple[int, str]:
        result = runner.invoke(app, list(args), env=cli_env)
        return result.exit_code, result.output

    assert yiwang("init")[0] == 0
    code, out = yiwang("calendar", "list")
    assert code == 0 and "2004–" in out
    assert yiwang("calendar", "add", "2027-02-06", "--kind", "holiday", "--name", "春节")[0] == 0
    code, out = yiwang("calendar", "add", "2027-02-08", "--kind", "workday")
    assert code == 2 and "calendar.not_weekend" in out  # a Monday is a working day anyway
    assert yiwang("calendar", "add", "2027-02-20", "--kind", "workday", "--name", "春节调休")[0] == 0
    code, out = yiwang("calendar", "list", "--year", "2027")
    assert code == 0 and "2027-02-06" in out and "春节调休" in out
    assert yiwang("calendar", "add", "2027-13-01", "--kind", "holiday")[0] == 2
    assert yiwang("calendar", "remove", "2027-02-06")[0] == 0
    assert "2027-02-06" not in yiwang("calendar", "list", "--year", "2027")[1]
