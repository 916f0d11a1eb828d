"""`yiwang demo`: a fresh installation filled with the demo departments, accounts and synthetic datasets."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from yiwang.core import installation, migrate
from yiwang.core.db import Database
from yiwang.core.errors import Conflict
from yiwang.core.i18n import N_
from yiwang.core.identity import Actor
from yiwang.core.models import User
from yiwang.core.settings import Settings
from yiwang.demo.accounts import load_accounts
from yiwang.demo.catalogue import publish_sources
from yiwang.demo.datasets import Size
from yiwang.demo.sandbox import load_tracks
from yiwang.demo.services import load_services
from yiwang.demo.sharing import load_sharing
from yiwang.demo.sources import write_sources
from yiwang.sharing.service import SharingPolicy

MARKER = "demo.json"
SOURCES_DIR = "demo-sources"
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class DemoSummary:
    data_dir: Path
    seed: int
    size: str
    sources: list[Path]
    reused: bool


def _has_users(database: Database) -> bool:
    with database.read_session() as session:
        return session.scalar(select(User.id).limit(1)) is not None


def _reset(settings: Settings) -> None:
    """Empty a demo installation: only one that `yiwang demo` made (it has the marker file) is ever touched."""
    database = installation.database_for(settings)
    try:
        migrate.downgrade_to_empty(database)
    finally:
        database.dispose()
    shutil.rmtree(settings.data_dir)


def load_demo(
    settings: Settings, seed: int, size: Size, *, reset: bool = False, progress: Progress | None = None
) -> DemoSummary:
    """Initialise the installation and load the demo; an installation already holding this demo is reused."""
    marker = settings.data_dir / MARKER
    if reset and marker.exists():
        _reset(settings)
    database = installation.initialise(settings)
    try:
        wanted = {"seed": seed, "size": size}
        if _has_users(database):
            if marker.exists() and json.loads(marker.read_text(encoding="utf-8")) == wanted:
                sources = sorted((settings.data_dir / SOURCES_DIR).glob("*.parquet"))
                return DemoSummary(settings.data_dir, seed, size, sources, reused=True)
            raise Conflict(
                "demo.not_empty",
                N_("{path} already holds data: use another YIWANG_DATA_DIR, or --reset for a demo directory"),
                path=str(settings.data_dir),
            )
        # The sources are generated while the accounts' passwords are hashed: both mostly run outside the GIL.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="demo-generate") as pool:
            generated = pool.submit(write_sources, settings.data_dir / SOURCES_DIR, seed, size, progress)
            with database.session() as session:
                load_accounts(session, Actor.operator())
            sources = generated.result()
        publish_sources(database, settings.data_dir, sources, progress)
        load_sharing(database, settings.data_dir, settings.secret(), seed, SharingPolicy.of(settings))
        load_tracks(database, settings.data_dir, settings.secret())
        load_services(database, settings.data_dir, seed)
        marker.write_text(json.dumps(wanted), encoding="utf-8")
        return DemoSummary(settings.data_dir, seed, size, sources, reused=False)
    finally:
        database.dispose()
