"""Departments, users, sign-in with lockout, and API tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from factories import PASSWORD, UserFactory, user_row
from sqlalchemy import select, update

from yiwang.core import accounts, audit
from yiwang.core.authz import AccessRefused
from yiwang.core.db import Database
from yiwang.core.errors import AuthenticationRequired, Conflict, InvalidInput, NotFound, TooManyRequests
from yiwang.core.identity import Actor, Role
from yiwang.core.models import ApiToken, AuditEntry, SignInFailures


def test_departments_are_created_with_a_checked_division_code(database: Database, operator: Actor) -> None:
    with database.session() as session:
        department = accounts.create_department(session, operator, " 海南省公安厅 ", "460000")
    assert department.name == "海南省公安厅" and department.division_code == "460000"
    with pytest.raises(Conflict), database.session() as session:
        accounts.create_department(session, operator, "海南省公安厅")
    with pytest.raises(InvalidInput) as bad, database.session() as session:
        accounts.create_department(session, operator, "某某局", "999999")
    assert bad.value.code.startswith("division.")
    with database.read_session() as session:
        assert [d.name for d in accounts.list_departments(session, operator)] == ["海南省公安厅"]


def test_users_need_known_roles_and_staff_need_a_department(database: Database, operator: Actor) -> None:
    with pytest.raises(InvalidInput, match="role.unknown"), database.session() as session:
        accounts.create_user(session, operator, "x1", PASSWORD, ["superuser"])
    with pytest.raises(InvalidInput, match="user.department_required"), database.session() as session:
        accounts.create_user(session, operator, "x2", PASSWORD, ["dept_staff"])
    with pytest.raises(NotFound, match="department.not_found"), database.session() as session:
        accounts.create_user(session, operator, "x3", PASSWORD, ["dept_staff"], "不存在的部门")
    with pytest.raises(InvalidInput, match="password.too_short"), database.session() as session:
        accounts.create_user(session, operator, "x4", "short", ["citizen"])
    with pytest.raises(InvalidInput, match="user.bad_username"), database.session() as session:
        accounts.create_user(session, operator, "no spaces", PASSWORD, ["citizen"])
    with database.read_session() as session:
        assert accounts.list_users(session, operator) == []  # nothing half-written


def test_passwords_are_stored_as_argon2_hashes(database: Database, make_user: UserFactory) -> None:
    make_user("li", "citizen")
    stored = user_row(database, "li").password_hash
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_login_succeeds_with_the_right_password(database: Database, make_user: UserFactory) -> None:
    make_user("chen", "dept_staff", department="海南省公安厅")
    with database.session() as session:
        outcome = accounts.login(session, "chen", PASSWORD)
    actor = outcome.actor_or_raise()
    assert actor.roles == {Role.DEPT_STAFF} and actor.department_name == "海南省公安厅"
    assert user_row(database, "chen").last_login_at is not None


def test_wrong_passwords_lock_the_account_and_are_audited(database: Database, make_user: UserFactory) -> None:
    make_user("wu", "citizen")
    for _ in range(3):
        with database.session() as session:
            outcome = accounts.login(session, "wu", "wrong-password", max_failures=3, lock_minutes=5)
        assert outcome.actor is None and outcome.error is not None and outcome.error.code == "auth.failed"
    with database.session() as session:
        outcome = accounts.login(session, "wu", PASSWORD, max_failures=3, lock_minutes=5)
    assert outcome.error is not None and outcome.error.code == "auth.locked"
    with pytest.raises(AuthenticationRequired):
        outcome.actor_or_raise()
    with database.read_session() as session:
        results = session.scalars(select(AuditEntry.result).where(AuditEntry.action == "auth.login")).all()
        details = " ".join(session.scalars(select(AuditEntry.detail)).all())
    assert results == ["denied"] * 4 and "wrong-password" not in details


def test_one_address_failing_across_many_accounts_must_wait_for_the_window(
    database: Database, make_user: UserFactory
) -> None:
    """Password spraying: failures from one address count whichever account they try (unknown ones too); past the
    limit even the right password is refused without being checked, while other addresses sign in as usual."""
    make_user("zhou", "citizen")
    limit = accounts.AddressLimit(max_failures=4, window_minutes=15)
    for username in ("zhou", "nobody", "zhou", "someone-else"):
        with database.session() as session:
            outcome = accounts.login(session, username, "wrong-password", address="198.51.100.7", address_limit=limit)
        assert outcome.error is not None and outcome.error.code == "auth.failed"
    with database.session() as session:
        refused = accounts.login(session, "zhou", PASSWORD, address="198.51.100.7", address_limit=limit)
    assert refused.actor is None and isinstance(refused.error, TooManyRequests)
    assert refused.error.code == "auth.address_limited" and 0 < refused.error.retry_after <= 15 * 60
    with database.session() as session:
        assert accounts.login(session, "zhou", PASSWORD, address="203.0.113.9", address_limit=limit).actor is not None
    assert user_row(database, "zhou").locked_until is None  # two wrong passwords of five: the account is not locked
    with database.session() as session:  # the window passes
        session.execute(update(SignInFailures).values(period=SignInFailures.period - 1))
    with database.session() as session:
        assert accounts.login(session, "zhou", PASSWORD, address="198.51.100.7", address_limit=limit).actor is not None
    with database.read_session() as session:
        reasons = session.scalars(select(AuditEntry.detail).where(AuditEntry.result == "denied")).all()
    assert sum("address_limited" in reason for reason in reasons) == 1


def test_an_unknown_user_gets_the_same_answer_as_a_wrong_password(database: Database) -> None:
    with database.session() as session:
        outcome = accounts.login(session, "nobody", "whatever-123")
    assert outcome.error is not None and outcome.error.code == "auth.failed"


def test_setting_a_password_unlocks_and_only_self_or_admin_may(database: Database, make_user: UserFactory) -> None:
    zhang = make_user("zhang", "citizen")
    make_user("wang", "citizen")
    with database.session() as session:
        accounts.set_password(session, zhang, "zhang", "a-new-password")
    with pytest.raises(AccessRefused), database.session() as session:
        accounts.set_password(session, zhang, "wang", "hijacked-password")
    with database.session() as session:
        assert accounts.login(session, "zhang", "a-new-password").actor is not None


def test_tokens_are_hashed_shown_once_and_resolve_to_their_user(database: Database, make_user: UserFactory) -> None:
    make_user("lin", "auditor")
    with database.session() as session:
        token, plaintext = accounts.create_token(session, Actor.operator(), "lin", "script", 30)
    assert plaintext.startswith("yw_") and len(plaintext) > 40
    with database.read_session() as session:
        stored = session.get(ApiToken, token.id)
        assert stored is not None and plaintext not in (stored.token_hash, stored.prefix)
        check = accounts.check_token(session, plaintext)
    assert check.actor.username == "lin" and check.needs_touch


@pytest.mark.parametrize(
    "state, code",
    [
        ("revoked", "token.revoked"),
        ("expired", "token.expired"),
        ("unknown", "token.invalid"),
        ("disabled", "user.inactive"),
    ],
)
def test_bad_tokens_get_a_precise_401(database: Database, make_user: UserFactory, state: str, code: str) -> None:
    owner = make_user("he", "citizen")
    with database.session() as session:
        token, plaintext = accounts.create_token(session, owner, "he", "", 1)
        if state == "revoked":
            accounts.revoke_token(session, owner, token.id)
        elif state == "expired":
            session.execute(update(ApiToken).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
        elif state == "unknown":
            plaintext += "x"
        else:
            accounts.get_user(session, "he").is_active = False
    with pytest.raises(AuthenticationRequired) as refused, database.read_session() as session:
        accounts.check_token(session, plaintext)
    assert refused.value.code == code and refused.value.http_status == 401


def test_token_expiry_must_be_sensible(database: Database, make_user: UserFactory) -> None:
    owner = make_user("fu", "citizen")
    with pytest.raises(InvalidInput, match="token.bad_expiry"), database.session() as session:
        accounts.create_token(session, owner, "fu", "", 0)


def test_only_owners_and_admins_manage_tokens(database: Database, make_user: UserFactory) -> None:
    alice = make_user("alice", "enterprise")
    bob = make_user("bob", "citizen")
    admin = make_user("root", "admin")
    with database.session() as session:
        token, _ = accounts.create_token(session, alice, "alice")
    with pytest.raises(AccessRefused), database.session() as session:
        accounts.create_token(session, bob, "alice")
    with pytest.raises(AccessRefused), database.session() as session:
        accounts.revoke_token(session, bob, token.id)
    with database.session() as session:
        assert accounts.revoke_token(session, admin, token.id).revoked_at is not None
    with pytest.raises(AuthenticationRequired), database.session() as session:
        accounts.list_tokens(session, Actor.anonymous(), "alice")
    with database.read_session() as session:
        assert audit.verify(session, Actor.operator()).ok


@pytest.mark.parametrize(
    "header, expected",
    [(None, None), ("", None), ("yw_abc", "yw_abc"), ("Bearer yw_abc", "yw_abc"), ("bearer  yw_abc ", "yw_abc")],
)
def test_token_header_forms(header: str | None, expected: str | None) -> None:
    assert accounts.token_from_header(header) == expected
