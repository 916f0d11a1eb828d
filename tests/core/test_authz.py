"""Every role against every protected action, from a table written here independently of the rule table."""

from __future__ import annotations

import pytest

from yiwang.core.authz import RULES, AccessRefused, Action, Resource, authorize, can, register
from yiwang.core.errors import AuthenticationRequired
from yiwang.core.identity import Actor, Role

ME = 7
OTHER = 8
A, S, U, E, C = Role.ADMIN, Role.DEPT_STAFF, Role.AUDITOR, Role.ENTERPRISE, Role.CITIZEN
ALL = {A, S, U, E, C}

# action -> (roles allowed on someone else's resource, roles allowed on their own)
EXPECTED: dict[str, tuple[set[Role], set[Role]]] = {
    Action.DEPARTMENT_CREATE: ({A}, {A}),
    Action.DEPARTMENT_LIST: (ALL, ALL),
    Action.USER_CREATE: ({A}, {A}),
    Action.USER_LIST: ({A}, {A}),
    Action.USER_SET_PASSWORD: ({A}, ALL),
    Action.TOKEN_CREATE: ({A}, ALL),
    Action.TOKEN_LIST: ({A}, ALL),
    Action.TOKEN_REVOKE: ({A}, ALL),
    Action.AUDIT_READ: ({U}, {U}),
    Action.AUDIT_VERIFY: ({U}, {U}),
    Action.PROFILE_READ: (ALL, ALL),
    Action.CALENDAR_EDIT: ({A}, {A}),
}


def actor(role: Role) -> Actor:
    return Actor(user_id=ME, username=f"{role}-user", roles=frozenset({role}), department_id=1)


def test_every_action_has_an_expectation_and_a_rule() -> None:
    assert set(EXPECTED) == {str(a) for a in Action}
    assert set(Action) <= set(RULES)


@pytest.mark.parametrize("action", sorted(EXPECTED))
@pytest.mark.parametrize("role", sorted(Role))
@pytest.mark.parametrize("owner", ["other", "own"])
def test_role_against_action(action: str, role: Role, owner: str) -> None:
    others_allowed, own_allowed = EXPECTED[action]
    allowed = own_allowed if owner == "own" else others_allowed
    resource = Resource("thing", "1", owner_user_id=ME if owner == "own" else OTHER)
    assert can(actor(role), action, resource) is (role in allowed)
    if role in allowed:
        authorize(actor(role), action, resource)
    else:
        with pytest.raises(AccessRefused) as refused:
            authorize(actor(role), action, resource)
        assert refused.value.http_status == 403 and refused.value.action == action


@pytest.mark.parametrize("action", sorted(EXPECTED))
def test_nobody_signed_in_is_asked_to_sign_in(action: str) -> None:
    assert not can(Actor.anonymous(), action, Resource("thing"))
    with pytest.raises(AuthenticationRequired):
        authorize(Actor.anonymous(), action, Resource("thing"))


@pytest.mark.parametrize("action", sorted(EXPECTED))
def test_the_command_line_operator_may_do_everything(action: str) -> None:
    assert can(Actor.operator(), action, Resource("thing", owner_user_id=OTHER))


def test_unknown_actions_are_refused_even_to_admins() -> None:
    assert not can(actor(A), "nothing.such")
    assert not can(Actor.operator(), "nothing.such")


def test_a_multi_role_user_gets_the_union() -> None:
    both = Actor(user_id=ME, username="x", roles=frozenset({A, U}))
    assert can(both, Action.USER_CREATE) and can(both, Action.AUDIT_READ)


def test_registering_an_action_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="already has a rule"):
        register(Action.USER_CREATE, lambda _a, _r: True)
