"""The CKAN actions: each takes the call's context and parameters and returns the ``result`` CKAN would.

They are a thin layer over `yiwang.catalog.service` and `yiwang.catalog.search`: every rule, audit entry and
masking decision is the catalogue's own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from yiwang import __version__
from yiwang.catalog import service
from yiwang.catalog.ckan import datastore
from yiwang.catalog.ckan import params as p
from yiwang.catalog.ckan.dicts import (
    department_id,
    group_dict,
    organization_dict,
    package_dict,
    resource_dict,
    resource_order,
    tag_dict,
)
from yiwang.catalog.ckan.query import SearchParams, catalogue_query, facet_fields
from yiwang.catalog.licences import LICENCES
from yiwang.catalog.models import Dataset
from yiwang.catalog.rules import visible_datasets
from yiwang.catalog.search import search_catalogue
from yiwang.catalog.themes import THEMES, find_theme
from yiwang.core.accounts import list_users
from yiwang.core.analytics import Analytics
from yiwang.core.db import Database
from yiwang.core.errors import InvalidInput, NotFound
from yiwang.core.i18n import N_
from yiwang.core.identity import Actor
from yiwang.core.models import Department
from yiwang.core.settings import Settings


@dataclass(frozen=True)
class Upload:
    """A file sent as ``upload`` with ``resource_create``/``resource_patch``, already saved to disk."""

    path: Path
    filename: str


@dataclass(frozen=True)
class ActionContext:
    database: Database
    settings: Settings
    actor: Actor
    base_url: str
    analytics: Analytics
    upload: Upload | None = None


Action = Callable[[ActionContext, p.Params], Any]
ACTIONS: dict[str, Action] = {}
READ_ACTIONS: set[str] = set()


def action(*, read: bool) -> Callable[[Action], Action]:
    def register(function: Action) -> Action:
        ACTIONS[function.__name__] = function
        if read:
            READ_ACTIONS.add(function.__name__)
        return function

    return register


# ---- site ----------------------------------------------------------------------------------------------------


@action(read=True)
def status_show(ctx: ActionContext, data: p.Params) -> dict[str, Any]:
    """Return the site's version and extensions."""
    return {
        "site_title": "一网 yiwang",
        "site_description": "数字政府数据底座 the data foundation of digital government",
        "site_url": ctx.base_url.rstrip("/"),
        "ckan_version": "2.10.4",
        "yiwang_version": __version__,
        "error_emails_to": None,
        "locale_default": "zh_Hans_CN",
        "extensions": ["datastore", "dcat"],
    }


@action(read=True)
def help_show(ctx: ActionContext, data: p.Params) -> str:
    """Return the documentation of the action called ``name``."""
    name = p.required(data, "name")
    if name not in ACTIONS:
        raise NotFound("ckan.no_action", N_("Action name not known: {name}"), name=name)
    return (ACTIONS[name].__doc__ or "").strip()


@action(read=True)
def license_list(ctx: ActionContext, data: p.Params) -> list[dict[str, Any]]:
    """Return the licences datasets may use."""
    return [
        {
            "id": licence.id,
            "title": licence.title_zh,
            "title_en": licence.title_en,
            "url": licence.url,
            "od_conformance": "approved" if licence.open else "not reviewed",
            "osd_conformance": "not reviewed",
            "status": "active",
        }
        for licence in LICENCES
    ]


# ---- datasets ------------------------------------------------------------------------------------------------


def _base(ctx: ActionContext) -> str:
    return ctx.base_url


def _public_datasets(ctx: ActionContext) -> Any:
    return visible_datasets(ctx.actor).where(Dataset.open_type != "none")


@action(read=True)
def package_list(ctx: ActionContext, data: p.Params) -> list[str]:
    """Return the names of the public datasets (``limit``, ``offset``)."""
    limit, offset = p.integer(data, "limit", 0), p.integer(data, "offset", 0)
    query = _public_datasets(ctx).order_by(Dataset.name).offset(max(offset, 0))
    if limit > 0:
        query = query.limit(limit)
    with ctx.database.read_session() as session:
        return [dataset.name for dataset in session.scalars(query)]


@action(read=True)
def current_package_list_with_resources(ctx: ActionContext, data: p.Params) -> list[dict[str, Any]]:
    """Return the public datasets with their resources, most recently changed first (``limit``, ``offset``)."""
    limit, offset = p.integer(data, "limit", 100), p.integer(data, "offset", 0)
    if limit < 1 or offset < 0:
        raise InvalidInput("ckan.invalid.limit", N_("limit must be 1 or more and offset 0 or more"))
    query = _public_datasets(ctx).order_by(Dataset.modified_at.desc(), Dataset.id.desc())
    with ctx.database.read_session() as session:
        found = session.scalars(query.offset(offset).limit(min(limit, 1000))).unique().all()
        return [package_dict(dataset, _base(ctx)) for dataset in found]


def _department_names(session: Session) -> dict[str, str]:
    return {department_id(d): d.name for d in session.scalars(select(Department))}


@action(read=True)
def package_search(ctx: ActionContext, data: p.Params) -> dict[str, Any]:
    """Search datasets: ``q`` (Chinese full text and ``field:value``), ``fq``, ``sort``, ``rows`` (≤ 1000),
    ``start``, ``facet.field``, ``facet.limit``, ``include_private``."""
    wanted_facets = facet_fields(p.json_value(data, "facet.field"))
    search = SearchParams(
        q=p.text(data, "q"),
        fq=" ".join(p.string_list(data, "fq_list")) + " " + p.text(data, "fq"),
        sort=p.text(data, "sort"),
        rows=p.integer(data, "rows", 10),
        start=p.integer(data, "start", 0),
        facet_fields=wanted_facets,
        facet_limit=p.integer(data, "facet.limit", 50),
        include_private=p.boolean(data, "include_private"),
    )
    with ctx.database.read_session() as session:
        query, _ = catalogue_query(search, _department_names(session))
        found = search_catalogue(session, ctx.actor, query)
        results = [package_dict(dataset, _base(ctx)) for dataset in found.datasets]
    facets: dict[str, dict[str, int]] = {}
    search_facets: dict[str, Any] = {}
    for ckan_name in wanted_facets:
        items = found.facets.get(query.facet_fields[wanted_facets.index(ckan_name)], [])
        facets[ckan_name] = {_facet_value(ckan_name, value): count for value, count in items}
        search_facets[ckan_name] = {
            "title": ckan_name,
            "items": [
                {"name": _facet_value(ckan_name, value), "display_name": value, "count": count}
                for value, count in items
            ],
        }
    return {
        "count": found.total,
        "results": results,
        "facets": facets,
        "search_facets": search_facets,
        "sort": search.sort or "score desc, metadata_modified desc",
    }


def _facet_value(ckan_name: str, value: str) -> str:
    if ckan_name == "groups":
        theme = find_theme(value)
        return theme.name if theme else value
    return value


@action(read=True)
def package_show(ctx: ActionContext, data: p.Params) -> dict[str, Any]:
    """Return a dataset by name or id, with its resources (one per version, the current first)."""
    with ctx.database.read_session() as session:
        dataset = service.get_dataset(session, ctx.actor, p.required(data, "id"))
        service.record_metadata_read(ctx.database, ctx.actor, dataset)
        return package_dict(dataset, _base(ctx))


def _department_by_ref(session: Session, reference: str) -> Department:
    for department in session.scalars(select(Department)):
        if reference in (department.name, department_id(department)):
            return department
    raise InvalidInput("ckan.invalid.owner_org", N_("Organization does not exist"))


def _themes(names: list[str]) -> list[str]:
    themes = []
    for name in names:
        theme = find_theme(name)
        if theme is None:
            raise InvalidInput(
                "ckan.invalid.groups",
                N_("Group {name} does not exist; use one of: {choices}"),
                name=name,
                choices=", ".join(t.name for t in THEMES),
            )
        themes.append(theme.label_zh)
    return themes


def _changes(data: p.Params, *, replace: bool) -> service.DatasetChanges:
    """The metadata edits in a package dict; with `replace` (package_update) what is absent is emptied."""
    extras = p.extras(data)

    def pick(key: str, *, extra: str | None = None) -> str | None:
        if key in data:
            return p.text(data, key)
        if extra is not None and extra in extras:
            return extras[extra]
        return "" if replace else None

    tags = p.named_list(data, "tags")
    groups = p.named_list(data, "groups")
    return service.DatasetChanges(
        title=p.text(data, "title") if "title" in data else None,
        description=pick("notes"),
        tags=tags if tags is not None else ([] if replace else None),
        themes=_themes(groups) if groups is not None else ([] if replace else None),
        update_frequency=pick("update_frequency", extra="update_frequency"),
        licence=pick("license_id"),
        contact=pick("maintainer"),
        spatial_coverage=pick("spatial_coverage", extra="spatial_coverage"),
        temporal_coverage=pick("temporal_coverage", extra="temporal_coverage"),
    )


@action(read=False)
def package_create(ctx: ActionContext, data: p.Params) -> dict[str, Any]:
    """Create a dataset for the department named in ``owner_org`` (its name or id). Also takes ``title``,
    ``notes``, ``tags``, ``groups`` (themes), ``license_id``, ``maintainer``, ``extras`` and the classification
    keys ``share_type``, ``open_type`` (``unconditional|conditional|none``) and ``security_level``
    (``general|important|core``). Data arrives with ``resource_create`` and an ``upload``."""
    if p.json_value(data, "resources"):
        raise InvalidInput("ckan.invalid.resources", N_("Add data with resource_create and an uploaded file, not here"))
    name = p.required(data, "name")
    with ctx.database.session() as session:
        department = _department_by_ref(session, p.required(data, "owner_org"))
        changes = _changes(data, replace=True)
        dataset = service.create_dataset(
            session,
            ctx.actor,
            service.DatasetInput(
                name=name,
                title=p.text(data, "title") or name,
                department=department.name,
                description=changes.description or "",
                tags=changes.tags or [],
                themes=changes.themes or [],
                update_frequency=changes.update_frequency or "",
                licence=changes.licence or "",
                contact=changes.contact or "",
                share_type=p.text(data, "share_type", "conditional"),
                open_type=p.text(data, "open_type", "none"),
                security_level=p.text(data, "security_level", "general"),
                spatial_coverage=changes.spatial_coverage or "",
                temporal_coverage=changes.temporal_coverage or "",
            ),
        )
        return package_dict(dataset, _base(ctx))


def _edit_package(ctx: ActionContext, data: p.Params, *, replace: bool) -> dict[str, Any]:
    reference = p.text(data, "id") or p.required(data, "name")
    with ctx.database.session() as session:
        dataset = service.get_dataset(session, ctx.actor, reference)
        if "owner_org" in data and p.text(data, "owner_org") not in (
            dataset.department.name,
            department_id(dataset.department),
        ):
            raise InvalidInput("ckan.invalid.owner_org", N_("A dataset cannot move to another organization"))
        if "name" in data and p.text(data, "name") != dataset.name and p.text(data, "name") != dataset.uuid:
            raise InvalidInput("ckan.invalid.name", N_("A dataset's name cannot change"))
        service.update_dataset(session, ctx.actor, dataset.name, _changes(data, replace=replace))
        classification = {
            key: p.text(data, key, getattr(dataset, key)) for key in ("share_type", "open_type", "security_level")
        }
        if any(classification[key] != getattr(dataset, key) for key in classification):
            service.classify_dataset(session, ctx.actor, dataset.name, **classification)
        return package_dict(dataset, _base(ctx))


@action(read=False)
def package_update(ctx: ActionContext, data: p.Params) -> dict[str, Any]:
    """Replace a dataset's metadata (what is not given is emptied); resources are versions and stay."""
    return _edit_package(ctx, data, replace=True)


@action(read=False)
def package_patch(ctx: ActionContext, data: p.Params) -> dict[str, Any]:
    """Change only the given metadata of a dataset, including its classification (administrators)."""
    return _edit_package(ctx, data, replace=False)


@action(read=False)
def package_delete(ctx: ActionContext, data: p.Params) -> None:
    """Withdraw a dataset from the catalogue (its versions stay on disk for the audit trail)."""
    with ctx.database.session() as session:
        service.delete_dataset(session, ctx.actor, p.required(data, "id"))


# ---- resources (versions) ------------------------------------------------------------------------------------


def _resource_of(session: Session, ctx: ActionContext, resource_id: str) -> dict[str, Any]:
    version = service.get_version(session, ctx.actor, resource_id)
    return resource_dict(version.dataset, version, _base(ctx), resource_order(version.dataset).index(version))


@action(read=True)
def resource_show(ctx: ActionContext, data: p.Params) -> dict[str, Any]:
    """Return a resource (one version of a dataset) by id."""
    with ctx.database.read_session() as session:
        return _resource_of(session, ctx, p.required(data, "id"))


def _ingest(ctx: ActionContext, dataset_name: str, data: p.Params) -> str:
    if ctx.upload is None:
        raise InvalidInput(
            "ckan.missing.upload",
            N_("Send the data as a file in the upload field (links to files elsewhere are not fetched)"),
        )
    max_bytes = ctx.settings.max_upload_mb * 1024 * 1024
    version = service.ingest_version(
        ctx.database,
        ctx.actor,
        ctx.settings.data_dir,
        dataset_name,
        ctx.upload.path,
        filename=ctx.upload.filename,
        declared_format=p.text(data, "format").lower() or None,
        max_bytes=max_bytes,
        title=p.text(data, "name"),
        description=p.text(data, "description"),
    )
    return version.uuid


@action(read=False)
def resource_create(ctx: ActionContext, data: p.Params) -> dict[str, Any]:
    """Ingest the file in ``upload`` as the new current version of dataset ``package_id`` (``name``,
    ``description`` and ``format`` optional); a failed ingest leaves the dataset as it was."""
    with ctx.database.read_session() as session:
        dataset_name = service.get_dataset(session, ctx.actor, p.required(data, "package_id")).name
    resource_id = _ingest(ctx, dataset_name, data)
    with ctx.database.read_session() as session:
        return _resource_of(session, ctx, resource_id)


@action(read=False)
def resource_patch(ctx: ActionContext, data: p.Params) -> dict[str, Any]:
    """Rename or re-describe a resource; with an ``upload``, ingest the file as the dataset's new version."""
    resource_id = p.required(data, "id")
    if ctx.upload is not None:
        with ctx.database.read_session() as session:
            dataset_name = service.get_version(session, ctx.actor, resource_id).dataset.name
        resource_id = _ingest(ctx, dataset_name, data)
    elif "name" in data or "description" in data:
        with ctx.database.session() as session:
            version = service.get_version(session, ctx.actor, resource_id)
            service.describe_version(
                session,
                ctx.actor,
                resource_id,
                title=p.text(data, "name", version.title),
                description=p.text(data, "description", version.description),
            )
    with ctx.database.read_session() as session:
        return _resource_of(session, ctx, resource_id)


@action(read=True)
def resource_view_list(ctx: ActionContext, data: p.Params) -> list[dict[str, Any]]:
    """Return the views of a resource: every version has a table preview."""
    with ctx.database.read_session() as session:
        resource = _resource_of(session, ctx, p.required(data, "id"))
    return [
        {
            "id": resource["id"],
            "resource_id": resource["id"],
            "package_id": resource["package_id"],
            "view_type": "datatables_view",
            "title": "数据预览 Table",
            "description": "",
        }
    ]


# ---- organisations, groups, tags, users ----------------------------------------------------------------------


def _counts_by(ctx: ActionContext, session: Session, column: Any) -> dict[Any, int]:
    visible = _public_datasets(ctx).subquery()
    rows = session.execute(select(getattr(visible.c, column), func.count()).group_by(getattr(visible.c, column)))
    return {key: int(count) for key, count in rows}


@action(read=True)
def organization_list(ctx: ActionContext, data: p.Params) -> list[Any]:
    """Return the departments as organisations: names, or dicts with ``all_fields``."""
    all_fields = p.boolean(data, "all_fields")
    limit, offset = p.integer(data, "limit", 1000), p.integer(data, "offset", 0)
    with ctx.database.read_session() as session:
        departments = list(session.scalars(select(Department).order_by(Department.name).offset(offset).limit(limit)))
        if not all_fields:
            return [d.name for d in departments]
        counts = _counts_by(ctx, session, "department_id")
        return [organization_dict(d, counts.get(d.id, 0)) for d in departments]


@action(read=True)
def organization_show(ctx: ActionContext, data: p.Params) -> dict[str, Any]:
    """Return a department as an organisation, with its public datasets when ``include_datasets`` is true."""
    with ctx.database.read_session() as session:
        try:
            department = _department_by_ref(session, p.required(data, "id"))
        except InvalidInput:
            raise NotFound("ckan.no_organization", N_("Organization not found")) from None
        query = _public_datasets(ctx).where(Dataset.department_id == department.id)
        datasets = list(session.scalars(query.order_by(Dataset.name)).unique())
        result = organization_dict(department, len(datasets))
        if p.boolean(data, "include_datasets"):
            result["packages"] = [package_dict(dataset, _base(ctx)) for dataset in datasets[:1000]]
        return result


def _theme_counts(ctx: ActionContext, session: Session) -> dict[str, int]:
    counts: dict[str, int] = {}
    for themes in session.scalars(select(_public_datasets(ctx).subquery().c.themes)):
        for label in themes or []:
            counts[label] = counts.get(label, 0) + 1
    return counts


@action(read=True)
def group_list(ctx: ActionContext, data: p.Params) -> list[Any]:
    """Return the themes as groups: names, or dicts with ``all_fields``."""
    if not p.boolean(data, "all_fields"):
        return [theme.name for theme in THEMES]
    with ctx.database.read_session() as session:
        counts = _theme_counts(ctx, session)
    return [group_dict(theme, counts.get(theme.label_zh, 0)) for theme in THEMES]


@action(read=True)
def group_show(ctx: ActionContext, data: p.Params) -> dict[str, Any]:
    """Return a theme as a group, with its public datasets when ``include_datasets`` is true."""
    theme = find_theme(p.required(data, "id"))
    if theme is None:
        theme = next((t for t in THEMES if group_dict(t)["id"] == p.text(data, "id")), None)
    if theme is None:
        raise NotFound("ckan.no_group", N_("Group not found"))
    with ctx.database.read_session() as session:
        datasets = [
            d
            for d in session.scalars(_public_datasets(ctx).order_by(Dataset.name)).unique()
            if theme.label_zh in d.themes
        ]
        result = group_dict(theme, len(datasets))
        if p.boolean(data, "include_datasets"):
            result["packages"] = [package_dict(dataset, _base(ctx)) for dataset in datasets[:1000]]
        return result


@action(read=True)
def tag_list(ctx: ActionContext, data: p.Params) -> list[Any]:
    """Return the tags of the public datasets (``query`` narrows by a part of the name; ``all_fields``)."""
    wanted = p.text(data, "query").strip()
    with ctx.database.read_session() as session:
        names = sorted(
            {tag for tags in session.scalars(select(_public_datasets(ctx).subquery().c.tags)) for tag in tags or []}
        )
    names = [name for name in names if wanted in name]
    return [tag_dict(name) for name in names] if p.boolean(data, "all_fields") else names


def _user_dict(user: Any) -> dict[str, Any]:
    return {
        "id": str(user.id),
        "name": user.username,
        "fullname": user.display_name,
        "display_name": user.display_name or user.username,
        "state": "active" if user.is_active else "deleted",
        "sysadmin": "admin" in {role.role for role in user.roles},
        "created": None,
    }


@action(read=True)
def user_list(ctx: ActionContext, data: p.Params) -> list[dict[str, Any]]:
    """Return the accounts (data administrators only)."""
    with ctx.database.read_session() as session:
        return [_user_dict(user) for user in list_users(session, ctx.actor)]


@action(read=True)
def user_show(ctx: ActionContext, data: p.Params) -> dict[str, Any]:
    """Return an account (data administrators only)."""
    wanted = p.required(data, "id")
    with ctx.database.read_session() as session:
        for user in list_users(session, ctx.actor):
            if wanted in (user.username, str(user.id)):
                return _user_dict(user)
    raise NotFound("ckan.no_user", N_("User not found"))


# ---- datastore -----------------------------------------------------------------------------------------------


@action(read=True)
def datastore_search(ctx: ActionContext, data: p.Params) -> dict[str, Any]:
    """Read a resource's rows: ``resource_id``, ``q``, ``filters``, ``fields``, ``sort``, ``limit`` (≤ 1000),
    ``offset``, ``include_total``; ``limit=0`` returns only the fields. Personal fields are masked as policy
    says."""
    return datastore.search(ctx, data)


@action(read=True)
def datastore_search_sql(ctx: ActionContext, data: p.Params) -> dict[str, Any]:
    """Run a read-only SQL ``SELECT`` over open datasets (a table is a resource id or a dataset name)."""
    return datastore.search_sql(ctx, data)
