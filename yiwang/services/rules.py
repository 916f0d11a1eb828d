"""Who may do what in 一网通办: the actions and their rules."""

from __future__ import annotations

from yiwang.core.authz import Resource, register
from yiwang.core.identity import Actor, Role


class ServicesAction:
    """Protected actions of services (一网通办)."""

    BROWSE = "service.browse"
    EDIT = "service.edit"
    PROCESS_EDIT = "service.process_edit"
    EDIT_HALL = "hall.edit"
    APPLY = "application.submit"
    VIEW_APPLICATION = "application.view"
    READ_MATERIAL = "application.material_read"
    LIST_APPLICATIONS = "application.list"
    INBOX = "task.inbox"
    HANDLE_TASK = "task.handle"
    RATE = "application.rate"
    RECTIFY = "rectification.respond"
    REVIEW_APPEAL = "rectification.review"
    LIST_RECTIFICATIONS = "rectification.list"
    VERIFY_LICENCE = "licence.verify"
    LIST_LICENCES = "licence.list"
    OVERSEE = "services.oversee"


APPLICANT_ROLES = (Role.CITIZEN, Role.ENTERPRISE)


def _staff_of(actor: Actor, department_id: int | None) -> bool:
    return actor.has_role(Role.DEPT_STAFF) and department_id is not None and actor.department_id == department_id


def is_applicant(actor: Actor, resource: Resource | None) -> bool:
    """The person who submitted the application."""
    return resource is not None and actor.user_id is not None and resource.owner_user_id == actor.user_id


def is_involved_staff(actor: Actor, resource: Resource | None) -> bool:
    """Staff of the item's department or of a department with a task on the application."""
    return resource is not None and (
        _staff_of(actor, resource.owner_department_id)
        or (
            actor.department_id is not None
            and actor.department_id in resource.involved_department_ids
            and actor.has_role(Role.DEPT_STAFF)
        )
    )


def application_resource(
    application_id: int | str, applicant_user_id: int, item_department_id: int, task_department_ids: frozenset[int]
) -> Resource:
    return Resource(
        "application",
        str(application_id),
        owner_user_id=applicant_user_id,
        owner_department_id=item_department_id,
        involved_department_ids=task_department_ids,
    )


def department_resource(kind: str, department_id: int, resource_id: int | str = "") -> Resource:
    """A service item, task or rectification: owned by one department."""
    return Resource(kind, str(resource_id), owner_department_id=department_id)


register(ServicesAction.BROWSE, lambda _actor, _resource: True)
register(
    ServicesAction.EDIT,
    lambda actor, resource: (
        actor.has_role(Role.ADMIN) or (resource is not None and _staff_of(actor, resource.owner_department_id))
    ),
)
register(ServicesAction.PROCESS_EDIT, lambda actor, _resource: actor.has_role(Role.ADMIN))
register(ServicesAction.EDIT_HALL, lambda actor, _resource: actor.has_role(Role.ADMIN))
register(ServicesAction.APPLY, lambda actor, _resource: actor.has_role(*APPLICANT_ROLES))
register(
    ServicesAction.VIEW_APPLICATION,
    lambda actor, resource: (
        is_applicant(actor, resource) or is_involved_staff(actor, resource) or actor.has_role(Role.ADMIN, Role.AUDITOR)
    ),
)
# uploaded documents (ID card copies …) are for the applicant and the departments handling them, not for oversight
register(
    ServicesAction.READ_MATERIAL,
    lambda actor, resource: is_applicant(actor, resource) or is_involved_staff(actor, resource),
)
register(ServicesAction.LIST_APPLICATIONS, lambda actor, _resource: actor.is_authenticated)
register(ServicesAction.INBOX, lambda actor, _resource: actor.has_role(Role.DEPT_STAFF, Role.ADMIN))
register(
    ServicesAction.HANDLE_TASK,
    lambda actor, resource: resource is not None and _staff_of(actor, resource.owner_department_id),
)
register(ServicesAction.RATE, is_applicant)
register(
    ServicesAction.RECTIFY,
    lambda actor, resource: resource is not None and _staff_of(actor, resource.owner_department_id),
)
register(ServicesAction.REVIEW_APPEAL, lambda actor, _resource: actor.has_role(Role.ADMIN))
register(ServicesAction.LIST_RECTIFICATIONS, lambda actor, _resource: actor.has_role(Role.DEPT_STAFF, Role.ADMIN))
register(ServicesAction.VERIFY_LICENCE, lambda actor, _resource: actor.has_role(Role.DEPT_STAFF, Role.ADMIN))
register(ServicesAction.LIST_LICENCES, lambda actor, _resource: actor.is_authenticated)
register(ServicesAction.OVERSEE, lambda actor, _resource: actor.has_role(Role.ADMIN, Role.AUDITOR))
