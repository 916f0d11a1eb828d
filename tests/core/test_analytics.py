"""The analytics database: limits every cursor keeps, a runaway query stopped alone, answers remembered."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from yiwang.core.analytics import Analytics

RUNAWAY = "SELECT count(*) FROM range(1000000000000) AS t(x) WHERE x % 7 = 3"


@pytest.fixture
def analytics(tmp_path: Path) -> Iterator[Analytics]:
    with Analytics(memory_limit="256MB", threads=1, temp_directory=tmp_path / "spill") as opened:
        yield opened


def test_every_cursor_keeps_the_limits_and_cannot_change_them(analytics: Analytics, tmp_path: Path) -> None:
    with analytics.cursor() as cursor:
        settings = dict(
            cursor.execute(
                "SELECT name, value FROM duckdb_settings() WHERE name IN ('threads', 'autoload_known_extensions', "
                "'autoinstall_known_extensions', 'parquet_metadata_cache', 'temp_directory')"
            ).fetchall()
        )
        assert settings == {
            "threads": "1",
            "autoload_known_extensions": "false",
            "autoinstall_known_extensions": "false",
            "parquet_metadata_cache": "true",
            "temp_directory": str(tmp_path / "spill"),
        }
        with pytest.raises(duckdb.Error, match="locked"):
            cursor.execute("SET threads = 8")
        with pytest.raises(duckdb.Error, match="locked"):
            cursor.execute("SET GLOBAL memory_limit = '64GB'")


def test_a_runaway_query_is_interrupted_and_the_database_keeps_serving(analytics: Analytics) -> None:
    with analytics.cursor() as other:
        with analytics.cursor(seconds=0.2) as runaway, pytest.raises(duckdb.InterruptException):
            runaway.execute(RUNAWAY).fetchall()
        assert other.execute("SELECT 41 + 1").fetchall() == [(42,)]  # a cursor open meanwhile is untouched
    with analytics.cursor() as later:
        assert later.execute("SELECT 'still here'").fetchall() == [("still here",)]


def test_cursors_read_side_by_side_from_threads(analytics: Analytics, tmp_path: Path) -> None:
    parquet = tmp_path / "data.parquet"
    with analytics.cursor() as cursor:
        cursor.execute(f"COPY (SELECT range AS x FROM range(1000)) TO '{parquet}' (FORMAT parquet)")
    answers: list[int] = []

    def read() -> None:
        with analytics.cursor() as cursor:
            found = cursor.execute("SELECT sum(x) FROM read_parquet(?)", [str(parquet)]).fetchone()
            answers.append(int(found[0]) if found else -1)

    threads = [threading.Thread(target=read) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [499500] * 8


def test_answers_are_remembered_least_recently_used_first_out(tmp_path: Path) -> None:
    computed: list[str] = []

    def compute(key: str) -> str:
        computed.append(key)
        return key.upper()

    with Analytics(remembered_answers=2) as analytics:
        assert analytics.remembered("a", lambda: compute("a")) == "A"
        assert analytics.remembered("b", lambda: compute("b")) == "B"
        assert analytics.remembered("a", lambda: compute("a")) == "A"  # remembered, and now the most recent
        analytics.remembered("c", lambda: compute("c"))  # pushes out "b", the least recently used
        analytics.remembered("a", lambda: compute("a"))
        analytics.remembered("b", lambda: compute("b"))
    assert computed == ["a", "b", "c", "b"]


def test_a_closed_database_serves_no_more_cursors() -> None:
    analytics = Analytics()
    analytics.close()
    with pytest.raises(duckdb.Error), analytics.cursor() as cursor:
        cursor.execute("SELECT 1")
