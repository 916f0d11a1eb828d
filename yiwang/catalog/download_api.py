"""下载 The download route: a dataset version as CSV (UTF-8 with BOM), JSON or Parquet, streamed."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query
from starlette.responses import StreamingResponse

from yiwang.catalog.downloads import prepare_download
from yiwang.web.deps import DatabaseDep, RequestActor, SettingsDep

router = APIRouter(tags=["catalogue"])


@router.get(
    "/datasets/{name}/download.{fmt}",
    response_class=StreamingResponse,
    summary="下载数据 Download a dataset",
    responses={200: {"content": {"text/csv": {}, "application/json": {}, "application/vnd.apache.parquet": {}}}},
)
def download_dataset(
    name: str,
    fmt: str,
    actor: RequestActor,
    database: DatabaseDep,
    settings: SettingsDep,
    version: Annotated[int | None, Query(ge=1, description="版本号 Version number (default: current).")] = None,
) -> StreamingResponse:
    """The current version (or `version`) as `csv` (UTF-8 with BOM for Excel), `json` or `parquet`. Personal
    fields are masked for everyone but the publisher; downloads of data that is not open are audited."""
    download = prepare_download(database, actor, settings.data_dir, name, fmt, version=version)
    disposition = f"attachment; filename*=UTF-8''{quote(download.filename)}"
    return StreamingResponse(
        download.chunks,
        media_type=download.media_type,
        headers={"Content-Disposition": disposition, "X-Masked-Fields": quote(",".join(download.masked))},
    )
