"""分析引擎 the one owner of the platform's long-lived DuckDB database, which reads published Parquet files.

The app opens it once in its lifespan; each read takes a cursor of its own (DuckDB runs cursors side by side), and a
timer interrupts that cursor alone when its query runs past the time limit. Opening a connection costs tens of
milliseconds and loses the Parquet metadata cache, so readers share one. Untrusted SQL never comes here: the SQL
sandbox (`yiwang.catalog.sql`) opens its own locked-down connection for every query.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import duckdb

MEMORY_LIMIT = "512MB"
THREADS = 2
QUERY_SECONDS = 10.0
REMEMBERED_ANSWERS = 1024

T = TypeVar("T")


class Analytics:
    """分析数据库 An in-memory DuckDB database with a memory limit, no extension loading and a time limit per query."""

    def __init__(
        self,
        *,
        memory_limit: str = MEMORY_LIMIT,
        threads: int = THREADS,
        query_seconds: float = QUERY_SECONDS,
        temp_directory: Path | None = None,
        remembered_answers: int = REMEMBERED_ANSWERS,
    ) -> None:
        config: dict[str, str | bool | int | float | list[str]] = {
            "memory_limit": memory_limit,
            "threads": threads,
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
            "python_enable_replacements": False,  # a table name must never find a Python variable
        }
        if temp_directory is not None:
            temp_directory.mkdir(parents=True, exist_ok=True)
            config["temp_directory"] = str(temp_directory)
        self.query_seconds = query_seconds
        self._connection = duckdb.connect(":memory:", config=config)
        # Global, so every cursor shares it: a file's footer is parsed once, not on every page.
        self._connection.execute("SET GLOBAL parquet_metadata_cache = true")
        self._connection.execute("SET lock_configuration = true")  # no reader changes the limits for the others
        self._cursor_lock = threading.Lock()
        self._answers: OrderedDict[Hashable, object] = OrderedDict()
        self._answers_lock = threading.Lock()
        self._remembered_answers = remembered_answers

    @contextmanager
    def cursor(self, seconds: float | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor for one read, interrupted after `seconds` (the database's limit by default), closed afterwards."""
        with self._cursor_lock:  # the connection object itself is not safe to use from two threads at once
            cursor = self._connection.cursor()
        timer = threading.Timer(self.query_seconds if seconds is None else seconds, cursor.interrupt)
        timer.daemon = True
        timer.start()
        try:
            yield cursor
        finally:
            timer.cancel()
            cursor.close()

    def remembered(self, key: Hashable, compute: Callable[[], T]) -> T:
        """`compute()`'s answer, remembered under `key` for the process (least recently used go first).

        Only for answers that cannot change while their key stays the same, e.g. counts over an immutable file.
        """
        with self._answers_lock:
            if key in self._answers:
                self._answers.move_to_end(key)
                return self._answers[key]  # type: ignore[return-value]
        answer = compute()  # outside the lock: two readers may both compute, neither waits on the other's scan
        with self._answers_lock:
            self._answers[key] = answer
            self._answers.move_to_end(key)
            while len(self._answers) > self._remembered_answers:
                self._answers.popitem(last=False)
        return answer

    def close(self) -> None:
        """Close the database; cursors still open fail on their next use."""
        self._connection.close()

    def __enter__(self) -> Analytics:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
