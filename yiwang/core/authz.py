"""The one authorization decision: `authorize(actor, action, resource)`.

Each action names a rule; every service function calls `authorize` with its action before doing anything.
The rule table is plain data so tests can walk every role against every action.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from yiwang.core.errors import AuthenticationRequired, PermissionDenied
from yiwang.core.i18n import N_
from yiwang.core.identity import Actor, Role


class Action(StrEnum):
    """Protected actions of the foundation; domain packages add theirs to `RULES` with `register`."""

    DEPARTMENT_CREATE = "department.create"
    DEPARTMENT_LIST = "department.list"
    USER_CREATE = "user.create"
    USER_LIST = "user.list"
    USER_SET_PASSWORD = "user.set_password"
    TOKEN_CREATE = "token.create"
    TOKEN_LIST = "token.list"
    TOKEN_REVOKE = "token.revoke"
    AUDIT_READ = "audit.read"
    AUDIT_VERIFY = "audit.verify"
    PROFILE_READ = "profile.read"
    CALENDAR_EDIT = "calendar.edit"


@dataclass(frozen=True)
class Resource:
    """What an action is done to: a type, an id, and the owners that ownership rules look at."""

    type: str
    id: str = ""
    owner_user_id: int | None = None
    owner_department_id: int | None = None
    is_public: bool = False
    # a second department with a stake in the resource: the consumer of a sharing request or grant
    counterpart_department_id: int | None = None
    # further departments with a stake: those with a task on a service application
    involved_department_ids: frozenset[int] = frozenset()


Rule = Callable[[Actor, Resource | None], bool]


def roles(*allowed: Role) -> Rule:
    """Allowed for anyone holding one of `allowed`."""
    return lambda actor, _resource: actor.has_role(*allowed)


def authenticated() -> Rule:
    """Allowed for anyone signed in."""
    return lambda actor, _resource: actor.is_authenticated


def self_or(*allowed: Role) -> Rule:
    """Allowed on one's own account, or for holders of `allowed` on anyone's."""

    def rule(actor: Actor, resource: Resource | None) -> bool:
        own = resource is not None and actor.user_id is not None and resource.owner_user_id == actor.user_id
        return own or actor.has_role(*allowed)

    return rule


RULES: dict[str, Rule] = {
    Action.DEPARTMENT_CREATE: roles(Role.ADMIN),
    Action.DEPARTMENT_LIST: authenticated(),
    Action.USER_CREATE: roles(Role.ADMIN),
    Action.USER_LIST: roles(Role.ADMIN),
    Action.USER_SET_PASSWORD: self_or(Role.ADMIN),
    Action.TOKEN_CREATE: self_or(Role.ADMIN),
    Action.TOKEN_LIST: self_or(Role.ADMIN),
    Action.TOKEN_REVOKE: self_or(Role.ADMIN),
    Action.AUDIT_READ: roles(Role.AUDITOR),
    Action.AUDIT_VERIFY: roles(Role.AUDITOR),
    Action.PROFILE_READ: authenticated(),
    Action.CALENDAR_EDIT: roles(Role.ADMIN),
}


def register(action: str, rule: Rule) -> None:
    """Add a domain package's action; names are unique across the platform."""
    if action in RULES:
        raise ValueError(f"action {action} already has a rule")
    RULES[action] = rule


class AccessRefused(PermissionDenied):
    """A refusal by `authorize`; it carries what was refused so the audit chain can remember it."""

    def __init__(
        self,
        actor: Actor,
        action: str,
        resource: Resource | None,
        code: str = "permission.denied",
        message: str = N_("You are not allowed to do this ({action})"),
        **params: object,
    ) -> None:
        super().__init__(code, message, action=action, **params)
        self.actor = actor
        self.action = action
        self.resource = resource


def can(actor: Actor, action: str, resource: Resource | None = None) -> bool:
    """Whether `actor` may do `action` to `resource`; unknown actions are refused.

    The operator at the server's command line may do every known action: they already hold the files and keys.
    """
    rule = RULES.get(action)
    return rule is not None and (actor.is_operator or rule(actor, resource))


def require_signed_in(actor: Actor) -> None:
    """401 for nobody signed in, before a service function looks anything up on their behalf."""
    if not actor.is_authenticated:
        raise AuthenticationRequired("auth.required", N_("Please sign in first"))


def authorize(actor: Actor, action: str, resource: Resource | None = None) -> None:
    """Raise unless `actor` may do `action`: 401 for nobody signed in, 403 (audited) for the signed-in."""
    if can(actor, action, resource):
        return
    require_signed_in(actor)
    raise AccessRefused(actor, action, resource)
