"""Who may do what in the sandbox: the actions and their rules."""

from __future__ import annotations

from yiwang.catalog.rules import is_publisher
from yiwang.core.authz import Resource, register
from yiwang.core.identity import Actor, Role


class SandboxAction:
    """Protected actions of the sandbox (赛道 and 数据可用不可见)."""

    CREATE_TRACK = "track.create"
    APPLY = "track.apply"
    DECIDE = "track.decide"
    VIEW_APPLICATION = "track.view_application"
    QUERY = "sandbox.query"
    EXPORT = "sandbox.export"
    PUBLISH = "sandbox.publish"


def application_resource(host_department_id: int, applicant_user_id: int, application_id: int | str = "") -> Resource:
    """An application: owned by its applicant, decided by the track's host department."""
    return Resource(
        "track_application",
        str(application_id),
        owner_user_id=applicant_user_id,
        owner_department_id=host_department_id,
    )


def is_applicant(actor: Actor, resource: Resource | None) -> bool:
    return resource is not None and actor.user_id is not None and actor.user_id == resource.owner_user_id


register(SandboxAction.CREATE_TRACK, lambda actor, _resource: actor.has_role(Role.ADMIN))
register(SandboxAction.APPLY, lambda actor, _resource: actor.has_role(Role.ENTERPRISE))
# reviewers: the data administrator, or staff of the track's host department (the owner in the resource)
register(SandboxAction.DECIDE, is_publisher)
register(
    SandboxAction.VIEW_APPLICATION,
    lambda actor, resource: (
        is_applicant(actor, resource) or is_publisher(actor, resource) or actor.has_role(Role.AUDITOR)
    ),
)
register(SandboxAction.QUERY, is_applicant)
register(SandboxAction.EXPORT, is_applicant)
register(SandboxAction.PUBLISH, is_applicant)
