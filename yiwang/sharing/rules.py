"""Who may do what in sharing: the actions and their rules."""

from __future__ import annotations

from yiwang.core.authz import Resource, register
from yiwang.core.identity import Actor, Role


class SharingAction:
    """Protected actions of sharing (一网协同)."""

    BROWSE = "sharing.browse"
    REQUEST = "sharing.request"
    VIEW = "sharing.view"
    DECIDE = "sharing.decide"
    WITHDRAW = "sharing.withdraw"
    REVOKE = "grant.revoke"
    EXCHANGE = "exchange.read"
    USAGE = "sharing.usage"
    NETWORK = "sharing.network"


def is_department_staff(actor: Actor) -> bool:
    return actor.has_role(Role.DEPT_STAFF) and actor.department_id is not None


def _in_department(actor: Actor, department_id: int | None) -> bool:
    return is_department_staff(actor) and department_id is not None and actor.department_id == department_id


def request_resource(consumer_department_id: int, owner_department_id: int, request_id: int | str = "") -> Resource:
    """A request or its grant: owned by the dataset's department, with the consumer department as counterpart."""
    return Resource(
        "sharing_request",
        str(request_id),
        owner_department_id=owner_department_id,
        counterpart_department_id=consumer_department_id,
    )


def is_consumer(actor: Actor, resource: Resource | None) -> bool:
    """Staff of the department that asked (the consumer)."""
    return resource is not None and _in_department(actor, resource.counterpart_department_id)


def is_owner(actor: Actor, resource: Resource | None) -> bool:
    """Staff of the department that owns the dataset."""
    return resource is not None and _in_department(actor, resource.owner_department_id)


register(SharingAction.BROWSE, lambda actor, _resource: actor.has_role(Role.ADMIN, Role.DEPT_STAFF, Role.AUDITOR))
register(SharingAction.REQUEST, is_consumer)
register(
    SharingAction.VIEW,
    lambda actor, resource: (
        is_consumer(actor, resource) or is_owner(actor, resource) or actor.has_role(Role.ADMIN, Role.AUDITOR)
    ),
)
register(SharingAction.DECIDE, is_owner)
register(SharingAction.WITHDRAW, is_consumer)
register(SharingAction.REVOKE, lambda actor, resource: is_owner(actor, resource) or actor.has_role(Role.ADMIN))
register(SharingAction.EXCHANGE, is_consumer)
register(
    SharingAction.USAGE,
    lambda actor, resource: (
        is_owner(actor, resource) or is_consumer(actor, resource) or actor.has_role(Role.ADMIN, Role.AUDITOR)
    ),
)
register(SharingAction.NETWORK, lambda actor, _resource: actor.has_role(Role.ADMIN, Role.AUDITOR))
