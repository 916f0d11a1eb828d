"""The demo's catalogue: each generated source published as a dataset through the catalogue service."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from yiwang.catalog import service
from yiwang.catalog.models import OpenType, SecurityLevel, ShareType
from yiwang.core.db import Database
from yiwang.core.identity import Actor
from yiwang.demo.datasets import spec


@dataclass(frozen=True)
class Classification:
    share_type: ShareType
    open_type: OpenType
    security_level: SecurityLevel
    tags: tuple[str, ...]
    themes: tuple[str, ...]
    update_frequency: str


# Personal registries are shared on approval and never opened; public-service data is open to everyone.
CLASSIFICATIONS: dict[str, Classification] = {
    "population-registry": Classification(
        ShareType.CONDITIONAL, OpenType.NONE, SecurityLevel.IMPORTANT, ("人口", "户籍", "身份"), ("公共安全",), "daily"
    ),
    "enterprise-registry": Classification(
        ShareType.UNCONDITIONAL,
        OpenType.CONDITIONAL,
        SecurityLevel.GENERAL,
        ("企业", "登记", "注册资本", "市场主体"),
        ("经贸工商",),
        "daily",
    ),
    "service-halls": Classification(
        ShareType.UNCONDITIONAL,
        OpenType.UNCONDITIONAL,
        SecurityLevel.GENERAL,
        ("政务服务", "大厅", "办事"),
        ("政务服务",),
        "monthly",
    ),
    "tourism-monthly": Classification(
        ShareType.UNCONDITIONAL,
        OpenType.UNCONDITIONAL,
        SecurityLevel.GENERAL,
        ("旅游", "游客", "收入"),
        ("旅游文化",),
        "monthly",
    ),
    "weather-daily": Classification(
        ShareType.UNCONDITIONAL,
        OpenType.UNCONDITIONAL,
        SecurityLevel.GENERAL,
        ("气象", "降雨", "气温"),
        ("气象环境",),
        "daily",
    ),
    "disaster-facilities": Classification(
        ShareType.UNCONDITIONAL,
        OpenType.UNCONDITIONAL,
        SecurityLevel.GENERAL,
        ("应急", "避难场所", "防灾"),
        ("应急管理",),
        "quarterly",
    ),
}


def publish_sources(
    database: Database, data_dir: Path, sources: list[Path], progress: Callable[[str, int, int], None] | None = None
) -> None:
    """Create each demo dataset and ingest its generated Parquet file as version 1."""
    operator = Actor.operator()
    for done, path in enumerate(sources, start=1):
        name = path.stem
        described, classified = spec(name), CLASSIFICATIONS[name]
        with database.session() as session:
            service.create_dataset(
                session,
                operator,
                service.DatasetInput(
                    name=name,
                    title=described.title_zh,
                    department=described.owner_department,
                    description=described.description_zh,
                    tags=list(classified.tags),
                    themes=list(classified.themes),
                    update_frequency=classified.update_frequency,
                    licence="CC-BY-4.0",
                    share_type=classified.share_type.value,
                    open_type=classified.open_type.value,
                    security_level=classified.security_level.value,
                    spatial_coverage="海南省",
                ),
            )
        service.ingest_version(database, operator, data_dir, name, path, filename=path.name)
        if progress is not None:
            progress(f"发布 publishing {name}", done, len(sources))
