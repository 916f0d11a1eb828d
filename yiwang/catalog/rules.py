"""Who may do what in the catalogue: the actions, their rules, and the VIEW rule as a query for lists."""

from __future__ import annotations

from sqlalchemy import Select, select

from yiwang.catalog.models import Dataset, OpenType, ShareType
from yiwang.core.authz import Resource, register
from yiwang.core.identity import Actor, Role

PUBLIC_OPEN_TYPES = (OpenType.UNCONDITIONAL.value, OpenType.CONDITIONAL.value)


class CatalogAction:
    """Protected actions of the catalogue."""

    CREATE = "dataset.create"
    INGEST = "dataset.ingest"
    UPDATE = "dataset.update"
    DELETE = "dataset.delete"
    CLASSIFY = "dataset.classify"
    REVIEW = "dataset.review"
    CONFIRM_FIELDS = "dataset.confirm_fields"
    VIEW = "dataset.view"
    READ_ROWS = "dataset.read_rows"


def is_publisher(actor: Actor, resource: Resource | None) -> bool:
    """The data administrator, or staff of the department that owns the dataset."""
    if actor.has_role(Role.ADMIN):
        return True
    return (
        actor.has_role(Role.DEPT_STAFF)
        and resource is not None
        and actor.department_id is not None
        and actor.department_id == resource.owner_department_id
    )


def may_view(actor: Actor, resource: Resource | None) -> bool:
    """Government users see the whole catalogue; everyone sees open datasets (conditional ones as metadata)."""
    if actor.has_role(Role.ADMIN, Role.DEPT_STAFF, Role.AUDITOR):
        return True
    return resource is not None and resource.is_public


def may_read_rows(actor: Actor, resource: Resource | None) -> bool:
    """Open data for everyone; the publisher's own data; unconditionally shared data for any department's staff.

    Conditionally shared data reaches other departments only through a sharing grant (一网协同), not here.
    """
    if resource is None:
        return False
    if resource.is_public or is_publisher(actor, resource):
        return True
    return actor.has_role(Role.DEPT_STAFF) and resource.type == "dataset:shared"


register(CatalogAction.CREATE, is_publisher)
register(CatalogAction.INGEST, is_publisher)
register(CatalogAction.UPDATE, is_publisher)
register(CatalogAction.DELETE, is_publisher)
register(CatalogAction.CONFIRM_FIELDS, is_publisher)
register(CatalogAction.REVIEW, lambda actor, _resource: actor.has_role(Role.ADMIN))
register(CatalogAction.CLASSIFY, lambda actor, _resource: actor.has_role(Role.ADMIN))
register(CatalogAction.VIEW, may_view)
register(CatalogAction.READ_ROWS, may_read_rows)


def dataset_resource(dataset: Dataset) -> Resource:
    return Resource("dataset", dataset.name, owner_department_id=dataset.department_id)


def view_resource(dataset: Dataset) -> Resource:
    return Resource(
        "dataset",
        dataset.name,
        owner_department_id=dataset.department_id,
        is_public=dataset.open_type in PUBLIC_OPEN_TYPES,
    )


def visible_datasets(actor: Actor) -> Select[Dataset]:
    """A query of the datasets `actor` may see: the VIEW rule as SQL, so lists page in the database.

    tests/catalog/test_catalog_rules.py checks it against `can(actor, VIEW, ...)` for every role.
    """
    query = select(Dataset).where(Dataset.deleted_at.is_(None))
    if not actor.has_role(Role.ADMIN, Role.DEPT_STAFF, Role.AUDITOR):
        query = query.where(Dataset.open_type.in_(PUBLIC_OPEN_TYPES))
    return query


def rows_resource(dataset: Dataset) -> Resource:
    shared = dataset.share_type == ShareType.UNCONDITIONAL.value
    return Resource(
        "dataset:shared" if shared else "dataset",
        dataset.name,
        owner_department_id=dataset.department_id,
        is_public=dataset.open_type == OpenType.UNCONDITIONAL.value,
    )
