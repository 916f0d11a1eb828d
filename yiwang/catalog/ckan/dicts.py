"""The catalogue in CKAN's shapes: package, resource, organisation, group, tag and datastore-field dicts.

A department is an organisation, a theme is a group, and each version of a dataset is a resource (the current
version first), so ``resource_create`` with an upload is a new version and ``datastore_search`` reads any version.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from yiwang.catalog.licences import find_licence
from yiwang.catalog.models import Dataset, DatasetVersion, OpenType
from yiwang.catalog.themes import Theme, find_theme
from yiwang.core.models import Department

_NAMESPACE = uuid.UUID("5b0b3f0e-8a4e-4c53-9f3a-2f6f0d1e7a11")
DOWNLOAD_FORMATS = ("csv", "parquet", "json")
DATASTORE_TYPES = {
    "BIGINT": "int8",
    "INTEGER": "int4",
    "SMALLINT": "int2",
    "TINYINT": "int2",
    "HUGEINT": "numeric",
    "DOUBLE": "float8",
    "FLOAT": "float4",
    "BOOLEAN": "bool",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "TIME": "time",
    "VARCHAR": "text",
}


def ckan_time(moment: datetime) -> str:
    """CKAN writes times as naive UTC ISO 8601 with microseconds."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds")


def department_id(department: Department) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"department:{department.name}"))


def organization_dict(department: Department, package_count: int | None = None) -> dict[str, Any]:
    result: dict[str, Any] = {
        "id": department_id(department),
        "name": department.name,
        "title": department.name,
        "display_name": department.name,
        "description": "",
        "type": "organization",
        "is_organization": True,
        "state": "active",
        "approval_status": "approved",
        "image_url": "",
        "image_display_url": "",
        "created": ckan_time(department.created_at),
        "division_code": department.division_code,
    }
    if package_count is not None:
        result["package_count"] = package_count
    return result


def theme_id(theme: Theme) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"theme:{theme.name}"))


def group_dict(theme: Theme, package_count: int | None = None) -> dict[str, Any]:
    result: dict[str, Any] = {
        "id": theme_id(theme),
        "name": theme.name,
        "title": theme.label_zh,
        "display_name": theme.label_zh,
        "title_en": theme.label_en,
        "description": theme.label_en,
        "type": "group",
        "is_organization": False,
        "state": "active",
        "approval_status": "approved",
        "image_url": "",
        "image_display_url": "",
    }
    if package_count is not None:
        result["package_count"] = package_count
    return result


def tag_dict(name: str) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid5(_NAMESPACE, f"tag:{name}")),
        "name": name,
        "display_name": name,
        "state": "active",
        "vocabulary_id": None,
    }


def download_url(base_url: str, dataset: Dataset, version: DatasetVersion, fmt: str = "csv") -> str:
    url = f"{base_url.rstrip('/')}/datasets/{dataset.name}/download.{fmt}"
    return url if version.id == dataset.current_version_id else f"{url}?version={version.number}"


def resource_dict(dataset: Dataset, version: DatasetVersion, base_url: str, position: int) -> dict[str, Any]:
    return {
        "id": version.uuid,
        "package_id": dataset.uuid,
        "name": version.title or f"{dataset.title} v{version.number}",
        "description": version.description,
        "format": "CSV",
        "mimetype": "text/csv",
        "url": download_url(base_url, dataset, version),
        "url_type": "upload",
        "size": version.source_bytes,
        "hash": f"sha256:{version.source_sha256}",
        "created": ckan_time(version.created_at),
        "last_modified": ckan_time(version.created_at),
        "metadata_modified": ckan_time(version.created_at),
        "position": position,
        "state": "active",
        "datastore_active": True,
        "resource_type": None,
        "version": version.number,
        "is_current": version.id == dataset.current_version_id,
        "row_count": version.row_count,
        "source_filename": version.source_filename,
        "source_format": version.source_format.upper(),
        "encoding": version.encoding,
        "quality_score": version.quality.get("score"),
        "parquet_url": download_url(base_url, dataset, version, "parquet"),
        "json_url": download_url(base_url, dataset, version, "json"),
    }


def resource_order(dataset: Dataset) -> list[DatasetVersion]:
    """The versions in resource order: the current one first, then the rest newest first."""
    return sorted(dataset.versions, key=lambda v: (v.id != dataset.current_version_id, -v.number))


def dataset_resources(dataset: Dataset, base_url: str) -> list[dict[str, Any]]:
    """Every version as a resource, in resource order."""
    return [
        resource_dict(dataset, version, base_url, position) for position, version in enumerate(resource_order(dataset))
    ]


def package_dict(dataset: Dataset, base_url: str) -> dict[str, Any]:
    """A complete CKAN package dict (what ``package_show`` returns and ``package_search`` lists)."""
    licence = find_licence(dataset.licence)
    themes = [theme for theme in (find_theme(t) for t in dataset.themes) if theme is not None]
    resources = dataset_resources(dataset, base_url)
    current = dataset.current_version
    extras = {
        "update_frequency": dataset.update_frequency,
        "spatial_coverage": dataset.spatial_coverage,
        "temporal_coverage": dataset.temporal_coverage,
        "themes": ",".join(dataset.themes),
    }
    return {
        "id": dataset.uuid,
        "name": dataset.name,
        "title": dataset.title,
        "notes": dataset.description,
        "type": "dataset",
        "state": "deleted" if dataset.deleted_at is not None else "active",
        "private": dataset.open_type == OpenType.NONE.value,
        "url": f"{base_url.rstrip('/')}/datasets/{dataset.name}",
        "version": str(current.number) if current else None,
        "author": dataset.department.name,
        "author_email": None,
        "maintainer": dataset.contact or None,
        "maintainer_email": None,
        "license_id": licence.id if licence else (dataset.licence or None),
        "license_title": licence.title_zh if licence else (dataset.licence or None),
        "license_url": licence.url if licence else None,
        "isopen": bool(licence and licence.open and dataset.open_type == OpenType.UNCONDITIONAL.value),
        "metadata_created": ckan_time(dataset.created_at),
        "metadata_modified": ckan_time(dataset.modified_at),
        "creator_user_id": None,
        "owner_org": department_id(dataset.department),
        "organization": organization_dict(dataset.department),
        "num_tags": len(dataset.tags),
        "tags": [tag_dict(tag) for tag in dataset.tags],
        "groups": [group_dict(theme) for theme in themes],
        "num_resources": len(resources),
        "resources": resources,
        "extras": [{"key": key, "value": value} for key, value in extras.items() if value],
        "relationships_as_object": [],
        "relationships_as_subject": [],
        "share_type": dataset.share_type,
        "open_type": dataset.open_type,
        "security_level": dataset.security_level,
        "update_frequency": dataset.update_frequency,
        "spatial_coverage": dataset.spatial_coverage,
        "temporal_coverage": dataset.temporal_coverage,
        "row_count": current.row_count if current else None,
    }


def datastore_fields(version: DatasetVersion) -> list[dict[str, Any]]:
    """The resource's fields as ``datastore_search`` reports them, with the personal-data kind in ``info.kind``."""
    return [{"id": "_id", "type": "int"}] + [
        {
            "id": field.name,
            "type": DATASTORE_TYPES.get(field.type.upper(), "text"),
            "info": {
                "label": field.name,
                "notes": field.description,
                "type_override": "",
                "unit": field.unit,
                "kind": field.kind,
                "kind_confirmed": field.kind_confirmed,
            },
        }
        for field in version.fields
    ]
