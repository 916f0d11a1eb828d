"""An installation: its data directory and metadata database, made ready by `init` and checked on every start."""

from __future__ import annotations

import os
from pathlib import Path

from yiwang.core import migrate
from yiwang.core.db import Database
from yiwang.core.errors import InvalidInput
from yiwang.core.i18n import N_
from yiwang.core.settings import Settings, ensure_secret_file


def database_for(settings: Settings) -> Database:
    return Database(settings.resolved_database_url, audit_algorithm=settings.audit_algorithm)


def initialise(settings: Settings) -> Database:
    """Create the data directory and its secret key if missing, then migrate the schema to the newest version."""
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidInput(
            "data_dir.unusable",
            N_("Cannot create the data directory {path}: {reason}"),
            path=str(settings.data_dir),
            reason=exc.strerror or str(exc),
        ) from None
    check_data_dir(settings)
    ensure_secret_file(settings)
    database = database_for(settings)
    migrate.upgrade(database)
    return database


def check_data_dir(settings: Settings) -> Path:
    """The data directory, or a clear error if it is missing or not writable."""
    path = settings.data_dir
    if not path.is_dir():
        raise InvalidInput(
            "data_dir.missing",
            N_("The data directory {path} does not exist: run `yiwang init` (or `yiwang demo`) first"),
            path=str(path),
        )
    if not os.access(path, os.W_OK | os.X_OK):
        raise InvalidInput(
            "data_dir.unusable",
            N_("Cannot create the data directory {path}: {reason}"),
            path=str(path),
            reason="not writable",
        )
    return path


def open_installation(settings: Settings) -> Database:
    """Open an initialised installation; refuse one whose schema is older than this code."""
    check_data_dir(settings)
    database = database_for(settings)
    if migrate.current_revision(database) != migrate.head_revision():
        database.dispose()
        raise InvalidInput("database.outdated", N_("The database schema is not up to date: run `yiwang migrate`"))
    return database
