"""Shared fixtures: every database test runs on SQLite and, where `.ci/run` started one, on PostgreSQL.

The suite runs on every core (pytest-xdist, `--dist loadfile`: a module's tests share a worker, so its module
fixtures are built once); `pytest -n 0` runs it in one process. Session fixtures are built once per worker, each in
the worker's own temporary directory and on its own free port.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from factories import PASSWORD, TEST_SECRET, UserFactory, fresh_database_url
from fastapi.testclient import TestClient
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from live import Portal, running_demo_portal

from yiwang.core import accounts, credentials, installation
from yiwang.core.db import Database
from yiwang.core.identity import Actor
from yiwang.core.models import Department
from yiwang.core.settings import Settings
from yiwang.web.app import create_app

POSTGRES_URL = os.environ.get("YIWANG_TEST_POSTGRES_URL")
REQUIRE_POSTGRES = os.environ.get("YIWANG_TEST_REQUIRE_POSTGRES") == "1"
# Property tests judge behaviour, not speed: a worker sharing the CPU must not turn a slow example into a failure.
hypothesis_settings.register_profile("yiwang", deadline=None, suppress_health_check=[HealthCheck.too_slow])
hypothesis_settings.load_profile("yiwang")


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing() -> Iterator[None]:
    """Argon2id at production cost takes ~0.16 s per hash and per sign-in; in-process tests create and sign in
    thousands of users, so they hash at minimal cost (the cost is in each hash: verification follows it). Servers
    started as processes (`yiwang serve`, the demo portal, CLI subprocesses) keep the production parameters."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(credentials, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
        yield


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the developer's YIWANG_* variables or a yiwang.toml in the working directory."""
    for name in list(os.environ):
        if name.startswith("YIWANG_") and not name.startswith("YIWANG_TEST_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session")
def _postgres_admin_url() -> str | None:
    if POSTGRES_URL is None:
        if REQUIRE_POSTGRES:
            pytest.fail("YIWANG_TEST_REQUIRE_POSTGRES is set but YIWANG_TEST_POSTGRES_URL is not")
        return None
    return POSTGRES_URL


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, _postgres_admin_url: str | None, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database of each kind."""
    with fresh_database_url(request.param, _postgres_admin_url, tmp_path) as url:
        yield url


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=database_url, secret_key=TEST_SECRET)


@pytest.fixture
def database(settings: Settings) -> Iterator[Database]:
    database = installation.initialise(settings)
    yield database
    database.dispose()


@pytest.fixture
def operator() -> Actor:
    return Actor.operator()


@pytest.fixture
def make_user(database: Database) -> UserFactory:
    """Create a user (and their department if needed) and return them as an actor."""

    def make(username: str, *roles: str, department: str | None = None) -> Actor:
        with database.session() as session:
            if department is not None and not session.query(Department).filter_by(name=department).count():
                accounts.create_department(session, Actor.operator(), department)
            user = accounts.create_user(
                session, Actor.operator(), username, PASSWORD, roles or ("citizen",), department
            )
            return accounts.actor_for(user)

    return make


@pytest.fixture
def client(settings: Settings, database: Database) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def cli_env(tmp_path: Path, database_url: str) -> dict[str, str]:
    """Environment for running the `yiwang` command against a fresh installation of each database kind."""
    return {
        "YIWANG_DATA_DIR": str(tmp_path / "data"),
        "YIWANG_DATABASE_URL": database_url,
        "YIWANG_SECRET_KEY": TEST_SECRET,
    }


@pytest.fixture(scope="session")
def demo_portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    """One running demo portal per worker (browser, CKAN-client and leak-scan tests share it)."""
    with running_demo_portal(tmp_path_factory.mktemp("portal")) as portal:
        yield portal
