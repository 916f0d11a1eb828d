"""What the server writes to its log: requests without their query strings, which may carry personal data
(a publisher filtering its registry by an ID number, a CKAN client's ``filters``); raw values are never logged."""

from __future__ import annotations

import copy
import logging
from typing import Any

from uvicorn.config import LOGGING_CONFIG


class QueryStringFilter(logging.Filter):
    """Cut the query string from uvicorn's access-log lines (the path stays, so traffic can still be read)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        # uvicorn's access record: (client address, method, path with query, HTTP version, status code)
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str) and "?" in args[2]:
            record.args = (args[0], args[1], args[2].split("?", 1)[0] + "?…", args[3], args[4])
        return True


def server_logging() -> dict[str, Any]:
    """uvicorn's logging configuration with the query-string filter on the access log."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["no_query_string"] = {"()": f"{__name__}.QueryStringFilter"}
    config["handlers"]["access"]["filters"] = ["no_query_string"]
    return config
