"""A small 一网通办 installation: the demo's departments and accounts and a few of its service items."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from factories import token_for

from yiwang.core import accounts
from yiwang.core.db import Database
from yiwang.core.identity import Actor
from yiwang.demo.accounts import ACCOUNTS, DEPARTMENTS
from yiwang.demo.services import load_service_catalogue

# The single window (four departments in parallel), a sequential item with a condition and a clock-paused step,
# a citizen item with one step, and one that lets a held licence replace a material.
ITEMS = (
    "investment-single-window",
    "food-business-licence",
    "individual-business-registration",
    "no-criminal-record-certificate",
    "newborn-bundle",
)

Tokens = Callable[[str], dict[str, str]]


# Demo accounts the tests sign in as (hashing every demo password would take seconds per test).
USERS = (
    "admin",
    "auditor",
    "gongan",
    "shichang",
    "shuiwu",
    "haiguan",
    "waihui",
    "haikou",
    "weijian",
    "renshe",
    "touzi",
    "qiye",
    "shimin",
)


@pytest.fixture
def services(database: Database) -> Database:
    operator = Actor.operator()
    with database.session() as session:
        for name, division in DEPARTMENTS:
            accounts.create_department(session, operator, name, division)
        for account in ACCOUNTS:
            if account.username in USERS:
                accounts.create_user(
                    session,
                    operator,
                    account.username,
                    account.password,
                    account.roles,
                    account.department,
                    account.display_name,
                )
    load_service_catalogue(database, Actor.operator(), ITEMS)
    return database


@pytest.fixture
def auth(services: Database) -> Tokens:
    """Authorization headers per demo username (one token each, made on first use)."""
    made: dict[str, dict[str, str]] = {}

    def headers(username: str) -> dict[str, str]:
        if username not in made:
            made[username] = {"Authorization": token_for(services, username)}
        return made[username]

    return headers
