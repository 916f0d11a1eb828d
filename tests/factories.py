"""Small factories and constants tests share (importable from any test module, unlike conftest)."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient

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
