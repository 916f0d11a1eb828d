"""The server log never carries query strings: they may hold personal data."""

from __future__ import annotations

import logging

from yiwang.web.logs import QueryStringFilter, server_logging


def test_access_lines_lose_their_query_string() -> None:
    record = logging.getLogger("uvicorn.access").makeRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/api/v1/datasets/p/rows?person_id=460100197610171863", "1.1", 200),
        None,
    )
    assert QueryStringFilter().filter(record)
    line = record.getMessage()
    assert "460100197610171863" not in line and "/api/v1/datasets/p/rows?…" in line
    assert server_logging()["handlers"]["access"]["filters"] == ["no_query_string"]


def test_other_records_pass_untouched() -> None:
    record = logging.LogRecord("uvicorn.error", logging.INFO, __file__, 1, "Started server process [%d]", (42,), None)
    assert QueryStringFilter().filter(record) and record.getMessage() == "Started server process [42]"
