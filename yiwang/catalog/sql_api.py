"""JSON API of read-only SQL over open datasets: `GET /api/v1/sql?sql=...` and `POST /api/v1/sql`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from yiwang.catalog import sql
from yiwang.web.deps import OptionalApiActor, ReadSessionDep, SettingsDep

router = APIRouter(prefix="/api/v1/sql", tags=["catalogue"])

SQL_HELP = (
    'One SELECT (WITH and UNION allowed) over open datasets, named as `"weather-daily"` or `weather_daily`; '
    "ordinary text, maths, date, aggregate and window functions only."
)


class SqlIn(BaseModel):
    sql: str = Field(description=SQL_HELP)


class SqlResultPublic(BaseModel):
    """The rows a read-only query returned, at most the row cap of them."""

    columns: list[str]
    rows: list[list[Any]]
    truncated: bool = Field(description="True when the query had more rows than the cap (1000) and was cut short.")
    elapsed_ms: float

    @classmethod
    def of(cls, result: sql.SqlResult) -> SqlResultPublic:
        return cls(
            columns=result.columns,
            rows=[list(row) for row in result.rows],
            truncated=result.truncated,
            elapsed_ms=result.elapsed_ms,
        )


@router.get("", response_model=SqlResultPublic, summary="只读 SQL Read-only SQL")
def run_sql_query(
    actor: OptionalApiActor,
    session: ReadSessionDep,
    settings: SettingsDep,
    sql_text: Annotated[str, Query(alias="sql", description=SQL_HELP)],
) -> SqlResultPublic:
    """Run a read-only query over open datasets; personal fields are masked, queries stop after 5 seconds."""
    return SqlResultPublic.of(sql.query_open_data(session, actor, settings.data_dir, sql_text))


@router.post("", response_model=SqlResultPublic, summary="只读 SQL Read-only SQL (POST)")
def run_sql_query_posted(
    body: SqlIn, actor: OptionalApiActor, session: ReadSessionDep, settings: SettingsDep
) -> SqlResultPublic:
    """The same as GET, for queries too long for a URL."""
    return SqlResultPublic.of(sql.query_open_data(session, actor, settings.data_dir, body.sql))
