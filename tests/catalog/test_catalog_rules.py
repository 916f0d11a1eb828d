"""Every role against every catalogue action, on its own department's dataset and another's, public or not."""

from __future__ import annotations

import pytest

from yiwang.catalog.rules import CatalogAction
from yiwang.core.authz import Resource, can
from yiwang.core.identity import Actor, Role

OWN, OTHER = 1, 2
A, S, U, E, C = Role.ADMIN, Role.DEPT_STAFF, Role.AUDITOR, Role.ENTERPRISE, Role.CITIZEN

# action -> roles allowed on (own department's restricted dataset, other department's restricted, any public one)
EXPECTED = {
    CatalogAction.CREATE: ({A, S}, {A}, None),
    CatalogAction.INGEST: ({A, S}, {A}, None),
    CatalogAction.CONFIRM_FIELDS: ({A, S}, {A}, None),
    CatalogAction.UPDATE: ({A, S}, {A}, None),
    CatalogAction.DELETE: ({A, S}, {A}, None),
    CatalogAction.CLASSIFY: ({A}, {A}, None),
    CatalogAction.REVIEW: ({A}, {A}, None),
    CatalogAction.VIEW: ({A, S, U}, {A, S, U}, {A, S, U, E, C}),
    CatalogAction.READ_ROWS: ({A, S}, {A}, {A, S, U, E, C}),
}


@pytest.mark.parametrize("role", sorted(Role))
def test_unconditionally_shared_rows_are_readable_by_any_departments_staff(role: Role) -> None:
    actor = Actor(user_id=9, username="x", roles=frozenset({role}), department_id=OWN)
    shared = Resource("dataset:shared", "d", owner_department_id=OTHER)
    assert can(actor, CatalogAction.READ_ROWS, shared) is (role in {A, S})


def test_every_catalogue_action_is_expected() -> None:
    assert set(EXPECTED) == {v for k, v in vars(CatalogAction).items() if not k.startswith("_")}


@pytest.mark.parametrize("action", sorted(EXPECTED))
@pytest.mark.parametrize("role", sorted(Role))
def test_role_against_catalogue_action(action: str, role: Role) -> None:
    actor = Actor(user_id=9, username="x", roles=frozenset({role}), department_id=OWN)
    own, other, public = EXPECTED[action]
    assert can(actor, action, Resource("dataset", "d", owner_department_id=OWN)) is (role in own)
    assert can(actor, action, Resource("dataset", "d", owner_department_id=OTHER)) is (role in other)
    if public is not None:
        assert can(actor, action, Resource("dataset", "d", owner_department_id=OTHER, is_public=True)) is (
            role in public
        )
    assert not can(Actor.anonymous(), action, Resource("dataset", "d", owner_department_id=OTHER))
    public_actions = {CatalogAction.VIEW, CatalogAction.READ_ROWS}
    assert can(Actor.anonymous(), action, Resource("dataset", "d", is_public=True)) is (action in public_actions)
