"""An uploaded file (web form or API) ingested as a dataset's new version, within the upload limit."""

from __future__ import annotations

from fastapi import Request
from starlette.datastructures import UploadFile

from yiwang.catalog import service
from yiwang.catalog.models import DatasetVersion
from yiwang.core.db import Database
from yiwang.core.identity import Actor
from yiwang.core.settings import Settings
from yiwang.web.uploads import refuse_if_declared_too_large, saved_upload


def ingest_upload(
    request: Request,
    actor: Actor,
    database: Database,
    settings: Settings,
    name: str,
    file: UploadFile,
    *,
    declared_format: str | None = None,
    title: str = "",
) -> DatasetVersion:
    """Refuse an oversized body before reading it, save the file privately, ingest it, remove the copy."""
    max_bytes = settings.max_upload_mb * 1024 * 1024
    refuse_if_declared_too_large(request, max_bytes)
    with saved_upload(file, settings.data_dir, max_bytes) as path:
        return service.ingest_version(
            database,
            actor,
            settings.data_dir,
            name,
            path,
            filename=file.filename or "",
            declared_format=declared_format,
            max_bytes=max_bytes,
            title=title,
        )
