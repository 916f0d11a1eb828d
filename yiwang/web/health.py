"""`/healthz`: is the database answering and the data directory usable."""

from __future__ import annotations

import os

from fastapi import APIRouter
from sqlalchemy.exc import SQLAlchemyError
from starlette.responses import JSONResponse

from yiwang.web.deps import DatabaseDep, SettingsDep

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="健康检查 Health check")
def get_health(database: DatabaseDep, settings: SettingsDep) -> JSONResponse:
    """200 when the database answers and the data directory is writable; 503 naming what is wrong otherwise."""
    checks: dict[str, str] = {}
    try:
        database.ping()
        checks["database"] = "ok"
    except SQLAlchemyError:
        checks["database"] = "unavailable"
    usable = settings.data_dir.is_dir() and os.access(settings.data_dir, os.W_OK | os.X_OK)
    checks["data_dir"] = "ok" if usable else "unavailable"
    healthy = all(value == "ok" for value in checks.values())
    return JSONResponse(
        {"status": "ok" if healthy else "unavailable", "checks": checks}, status_code=200 if healthy else 503
    )
