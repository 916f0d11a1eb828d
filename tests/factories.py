"""Small factories and constants tests share (importable from any test module, unlike conftest)."""

from __future__ import annotations

from collections.abc import Callable

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
