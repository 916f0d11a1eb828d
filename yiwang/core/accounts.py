"""Departments, users, roles, sign-in and API tokens (部门 · 用户 · 令牌)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import cast

from sqlalchemy import Table, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from yiwang.core import audit, credentials
from yiwang.core.authz import Action, Resource, authorize, require_signed_in
from yiwang.core.errors import (
    AuthenticationRequired,
    Conflict,
    DomainError,
    InvalidInput,
    NotFound,
    TooManyRequests,
)
from yiwang.core.i18n import N_
from yiwang.core.identity import Actor, Role
from yiwang.core.models import ApiToken, Department, SignInFailures, User, UserRole, is_row_id
from yiwang.core.validators import validate_division_code

USERNAME_PATTERN = re.compile(r"^[\w.@-]{2,64}$")
MAX_TOKEN_DAYS = 3650
# Refresh `last_used_at` at most this often so that reading with a token stays a read.
TOKEN_TOUCH_INTERVAL = timedelta(minutes=5)


def _now() -> datetime:
    return datetime.now(UTC)


# --- departments ---------------------------------------------------------------------------------------------------


def create_department(session: Session, actor: Actor, name: str, division_code: str | None = None) -> Department:
    """Create a department (e.g. 海南省公安厅), optionally with its GB/T 2260 division code."""
    authorize(actor, Action.DEPARTMENT_CREATE)
    name = name.strip()
    if not 2 <= len(name) <= 100:
        raise InvalidInput("department.bad_name", N_("A department name needs 2 to 100 characters"))
    if division_code:
        division_code = validate_division_code(division_code.strip()).code
    if session.scalar(select(Department.id).where(Department.name == name)) is not None:
        raise Conflict("department.exists", N_("Department {name} already exists"), name=name)
    department = Department(name=name, division_code=division_code or None)
    session.add(department)
    session.flush()
    audit.record(
        session,
        actor,
        Action.DEPARTMENT_CREATE,
        resource_type="department",
        resource_id=name,
        detail={"division_code": division_code or ""},
    )
    return department


def list_departments(session: Session, actor: Actor) -> list[Department]:
    authorize(actor, Action.DEPARTMENT_LIST)
    return list(session.scalars(select(Department).order_by(Department.name)))


def get_department(session: Session, name: str) -> Department:
    """The department called `name`; departments are addressed by name everywhere."""
    department = session.scalar(select(Department).where(Department.name == name.strip()))
    if department is None:
        raise NotFound("department.not_found", N_("No department is called {name}"), name=name)
    return department


# --- users ---------------------------------------------------------------------------------------------------------


def parse_roles(names: Iterable[str]) -> frozenset[Role]:
    """Roles from their names, with a clear error for an unknown one."""
    chosen = set()
    for name in names:
        try:
            chosen.add(Role(name.strip()))
        except ValueError:
            raise InvalidInput(
                "role.unknown",
                N_("Unknown role {role}; choose from {choices}"),
                role=name,
                choices=", ".join(r.value for r in Role),
            ) from None
    if not chosen:
        raise InvalidInput("role.missing", N_("A user needs at least one role"))
    return frozenset(chosen)


def actor_for(user: User, via: str = "web") -> Actor:
    return Actor(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        roles=frozenset(Role(r.role) for r in user.roles),
        department_id=user.department_id,
        department_name=user.department.name if user.department else "",
        via=via,
    )


def get_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound("user.not_found", N_("No user is called {username}"), username=username)
    return user


def create_user(
    session: Session,
    actor: Actor,
    username: str,
    password: str,
    roles: Iterable[str],
    department_name: str | None = None,
    display_name: str = "",
) -> User:
    """Create a user; department staff must belong to a department."""
    authorize(actor, Action.USER_CREATE)
    if not USERNAME_PATTERN.match(username):
        raise InvalidInput("user.bad_username", N_("A username has 2 to 64 letters, digits or the characters . _ - @"))
    chosen = parse_roles(roles)
    department = get_department(session, department_name) if department_name else None
    if Role.DEPT_STAFF in chosen and department is None:
        raise InvalidInput("user.department_required", N_("Department staff must belong to a department"))
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict("user.exists", N_("User {username} already exists"), username=username)
    user = User(
        username=username,
        display_name=display_name.strip()[:100] or username,
        password_hash=credentials.hash_password(password),
        department=department,
        roles=[UserRole(role=role.value) for role in sorted(chosen)],
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor,
        Action.USER_CREATE,
        resource_type="user",
        resource_id=username,
        detail={"roles": sorted(chosen), "department": department.name if department else ""},
    )
    return user


def list_users(session: Session, actor: Actor) -> list[User]:
    authorize(actor, Action.USER_LIST)
    return list(session.scalars(select(User).order_by(User.username)))


def set_password(session: Session, actor: Actor, username: str, new_password: str) -> None:
    require_signed_in(actor)
    user = get_user(session, username)
    authorize(actor, Action.USER_SET_PASSWORD, Resource("user", username, owner_user_id=user.id))
    user.password_hash = credentials.hash_password(new_password)
    user.failed_logins = 0
    user.locked_until = None
    audit.record(session, actor, Action.USER_SET_PASSWORD, resource_type="user", resource_id=username)


# --- sign-in -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoginOutcome:
    """The result of a sign-in attempt. A failure is returned, not raised, so its bookkeeping commits."""

    actor: Actor | None
    error: DomainError | None = None

    def actor_or_raise(self) -> Actor:
        if self.actor is None:
            raise self.error or AuthenticationRequired("auth.failed", N_("Wrong username or password"))
        return self.actor


@dataclass(frozen=True)
class AddressLimit:
    """At most `max_failures` failed sign-ins from one client address per window of `window_minutes`."""

    max_failures: int = 30
    window_minutes: int = 15


def login(
    session: Session,
    username: str,
    password: str,
    *,
    max_failures: int = 5,
    lock_minutes: int = 15,
    via: str = "web",
    address: str | None = None,
    address_limit: AddressLimit = AddressLimit(),
) -> LoginOutcome:
    """Check a password; count failures and lock the account for a while after too many in a row. An `address`
    (the client's) that failed too often in the current window is refused before any password is checked."""
    username = username[:64]
    now = _now()
    window = address_limit.window_minutes * 60
    period = int(now.timestamp()) // window

    def refuse(reason: str, error: DomainError | None = None) -> LoginOutcome:
        who = actor_for(user, via) if user is not None else Actor(None, username or "?", via=via)
        audit.record(
            session,
            who,
            "auth.login",
            resource_type="user",
            resource_id=username,
            result="denied",
            detail={"reason": reason},
        )
        if address is not None and reason != "address_limited":
            _count_address_failure(session, address[:64], period)
        return LoginOutcome(None, error or AuthenticationRequired("auth.failed", N_("Wrong username or password")))

    user = session.scalar(select(User).where(User.username == username))
    if address is not None and _address_failures(session, address[:64], period) >= address_limit.max_failures:
        wait = window - int(now.timestamp()) % window
        return refuse(
            "address_limited",
            TooManyRequests(
                "auth.address_limited",
                N_("Too many failed sign-ins from your network address: try again in {minutes} minutes"),
                retry_after=wait,
                minutes=max(1, -(-wait // 60)),
            ),
        )
    if user is None:
        credentials.verify_password(_dummy_hash(), password)  # same cost as a real check: no username probing
        return refuse("unknown_user")
    if user.locked_until is not None and user.locked_until > now:
        minutes = max(1, int((user.locked_until - now).total_seconds() // 60) + 1)
        return refuse(
            "locked",
            AuthenticationRequired(
                "auth.locked",
                N_("Too many failed sign-ins: this account is locked for {minutes} more minutes"),
                minutes=minutes,
            ),
        )
    if not user.is_active or not credentials.verify_password(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= max_failures:
            user.locked_until = now + timedelta(minutes=lock_minutes)
            user.failed_logins = 0
        return refuse("inactive" if not user.is_active else "wrong_password")
    if credentials.needs_rehash(user.password_hash):
        user.password_hash = credentials.hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    actor = actor_for(user, via)
    audit.record(session, actor, "auth.login", resource_type="user", resource_id=username)
    return LoginOutcome(actor)


def _address_failures(session: Session, address: str, period: int) -> int:
    failures = session.scalar(
        select(SignInFailures.failures).where(SignInFailures.address == address, SignInFailures.period == period)
    )
    return failures or 0


def _count_address_failure(session: Session, address: str, period: int) -> None:
    """One more failure of `address` in `period` (atomic on both databases); older periods are forgotten."""
    table = cast(Table, SignInFailures.__table__)
    insert = postgresql.insert(table) if session.get_bind().dialect.name == "postgresql" else sqlite.insert(table)
    session.execute(
        insert.values(address=address, period=period, failures=1).on_conflict_do_update(
            index_elements=["address", "period"], set_={"failures": table.c.failures + 1}
        )
    )
    session.execute(delete(SignInFailures).where(SignInFailures.period < period))


@cache
def _dummy_hash() -> str:
    return credentials.hash_password("not-a-real-password-0")


# --- API tokens ----------------------------------------------------------------------------------------------------


def create_token(
    session: Session, actor: Actor, username: str, name: str = "", expires_in_days: int | None = None
) -> tuple[ApiToken, str]:
    """Make an API token for `username`; returns the stored record and the token, which is shown only now."""
    require_signed_in(actor)
    user = get_user(session, username)
    authorize(actor, Action.TOKEN_CREATE, Resource("user", username, owner_user_id=user.id))
    if expires_in_days is not None and not 1 <= expires_in_days <= MAX_TOKEN_DAYS:
        raise InvalidInput("token.bad_expiry", N_("A token expires after 1 to {max} days"), max=MAX_TOKEN_DAYS)
    made = credentials.new_token()
    token = ApiToken(
        user=user,
        name=name.strip()[:100],
        prefix=made.prefix,
        token_hash=made.token_hash,
        expires_at=_now() + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    session.add(token)
    session.flush()
    audit.record(
        session,
        actor,
        Action.TOKEN_CREATE,
        resource_type="api_token",
        resource_id=str(token.id),
        detail={"user": username, "expires_in_days": expires_in_days or 0},
    )
    return token, made.plaintext


def list_tokens(session: Session, actor: Actor, username: str) -> list[ApiToken]:
    require_signed_in(actor)
    user = get_user(session, username)
    authorize(actor, Action.TOKEN_LIST, Resource("user", username, owner_user_id=user.id))
    return sorted(user.tokens, key=lambda t: t.id)


def revoke_token(session: Session, actor: Actor, token_id: int) -> ApiToken:
    require_signed_in(actor)
    # ids are 64-bit in every database: a larger number names no token (and would overflow the driver)
    token = session.get(ApiToken, token_id) if is_row_id(token_id) else None
    if token is None:
        raise NotFound("token.not_found", N_("No token has id {id}"), id=token_id)
    authorize(actor, Action.TOKEN_REVOKE, Resource("api_token", str(token_id), owner_user_id=token.user_id))
    if token.revoked_at is None:
        token.revoked_at = _now()
        audit.record(session, actor, Action.TOKEN_REVOKE, resource_type="api_token", resource_id=str(token_id))
    return token


def token_from_header(value: str | None) -> str | None:
    """The token in an ``Authorization`` header: bare as CKAN clients send it, or ``Bearer <token>``."""
    if not value:
        return None
    value = value.strip()
    scheme, _, rest = value.partition(" ")
    if rest and scheme.lower() == "bearer":
        value = rest.strip()
    return value or None


@dataclass(frozen=True)
class TokenCheck:
    actor: Actor
    token_id: int
    needs_touch: bool


def check_token(session: Session, plaintext: str) -> TokenCheck:
    """Who a token speaks for; a clear 401 for an unknown, revoked or expired token or a disabled user."""
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == credentials.token_hash(plaintext)))
    if token is None:
        raise AuthenticationRequired("token.invalid", N_("The API token is not valid"))
    now = _now()
    if token.revoked_at is not None:
        raise AuthenticationRequired("token.revoked", N_("The API token was revoked"))
    if token.expires_at is not None and token.expires_at <= now:
        raise AuthenticationRequired(
            "token.expired", N_("The API token expired on {date}"), date=token.expires_at.date().isoformat()
        )
    if not token.user.is_active:
        raise AuthenticationRequired("user.inactive", N_("This account is disabled"))
    stale = token.last_used_at is None or now - token.last_used_at > TOKEN_TOUCH_INTERVAL
    return TokenCheck(actor_for(token.user, via="api"), token.id, stale)


def touch_token(session: Session, token_id: int) -> None:
    token = session.get(ApiToken, token_id)
    if token is not None:
        token.last_used_at = _now()
