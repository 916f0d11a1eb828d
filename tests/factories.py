"""Small factories and constants tests share (importable from any test module, unlike conftest)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from yiwang.core import accounts
from yiwang.core.db import Database
from yiwang.core.identity import Actor
from yiwang.core.models import User

TEST_SECRET = "test-secret-" + "k" * 40
PASSWORD = "correct-horse-9"

UserFactory = Callable[..., Actor]


def token_for(database: Database, username: str, expires_in_days: int | None = None) -> str:
    with database.session() as session:
        return accounts.create_token(session, Actor.operator(), username, "test", expires_in_days)[1]


def user_row(database: Database, username: str) -> User:
    with database.read_session() as session:
        return accounts.get_user(session, username)


def csrf_from(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "page has no CSRF field"
    return found.group(1)


def sign_in(client: TestClient, username: str, password: str = PASSWORD, next_path: str = "/") -> object:
    page = client.get("/login")
    return client.post(
        "/login",
        data={"username": username, "password": password, "next": next_path, "csrf_token": csrf_from(page.text)},
        follow_redirects=False,
    )


@contextmanager
def fresh_database_url(kind: str, admin_url: str | None, directory: Path) -> Iterator[str]:
    """The URL of a new, empty database of `kind` (SQLite under `directory`, or a throw-away PostgreSQL database
    dropped when the block ends); skips the test when PostgreSQL is asked for and there is no server."""
    if kind == "sqlite":
        yield f"sqlite:///{directory / 'test.db'}"
        return
    if admin_url is None:
        pytest.skip("no PostgreSQL server (set YIWANG_TEST_POSTGRES_URL; .ci/run does)")
    name = f"yiwang_test_{secrets.token_hex(6)}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
