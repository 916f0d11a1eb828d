"""`yiwang ingest` and `yiwang dataset …`: publish data from the command line (acting as the local operator)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn, TransferSpeedColumn
from rich.table import Column, Table

from yiwang.catalog import service
from yiwang.catalog.models import OpenType, SecurityLevel, ShareType
from yiwang.catalog.search import MAX_ROWS, CatalogueQuery, search_catalogue
from yiwang.cli.context import ErrorReportingGroup, console, state
from yiwang.core.identity import Actor

dataset_app = typer.Typer(cls=ErrorReportingGroup, help="数据资源 Datasets.", no_args_is_help=True)


def ingest(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(exists=True, dir_okay=False, readable=True, help="CSV, XLSX, JSON, NDJSON, Parquet or GeoJSON."),
    ],
    dataset: Annotated[str, typer.Option(help="数据资源名 Dataset name (URL slug).")],
    department: Annotated[str | None, typer.Option(help="发布部门 Publishing department (for a new dataset).")] = None,
    title: Annotated[str | None, typer.Option(help="标题 Title (for a new dataset).")] = None,
    format: Annotated[str | None, typer.Option(help="格式 Format, if detection should be overridden.")] = None,
    share_type: Annotated[ShareType, typer.Option(help="共享类型 (for a new dataset).")] = ShareType.CONDITIONAL,
    open_type: Annotated[OpenType, typer.Option(help="开放类型 (for a new dataset).")] = OpenType.NONE,
    security_level: Annotated[SecurityLevel, typer.Option(help="分级 (for a new dataset).")] = SecurityLevel.GENERAL,
) -> None:
    """导入 Ingest a file as a new version of a dataset (created first when --department is given)."""
    actor = Actor.operator()
    settings = state(ctx).settings()
    with state(ctx).database() as database:
        if department is not None:
            with database.session() as session:
                service.ensure_dataset(
                    session,
                    actor,
                    service.DatasetInput(
                        name=dataset,
                        title=title or dataset,
                        department=department,
                        share_type=share_type.value,
                        open_type=open_type.value,
                        security_level=security_level.value,
                    ),
                )
        with Progress(
            TextColumn("导入 ingesting"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as bar:
            task = bar.add_task("ingest", total=file.stat().st_size)
            version = service.ingest_version(
                database,
                actor,
                settings.data_dir,
                dataset,
                file,
                declared_format=format,
                # The operator's own file on the server: no upload limit, but a workbook still may not unpack
                # to more than the larger of the default limit and the file itself.
                max_bytes=max(service.DEFAULT_MAX_BYTES, file.stat().st_size),
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
    console.print(
        f"[green]✓[/] {dataset} 版本 version {version.number}: {version.row_count:,} 行 rows, "
        f"{len(version.fields)} 字段 fields, 质量 quality {version.quality.get('score', 0):.0f}"
    )
    personal = [f"{f.name} ({f.kind})" for f in version.fields if f.kind != "none"]
    if personal:
        console.print("  个人信息字段 personal fields (请确认 please confirm): " + ", ".join(personal))


@dataset_app.command("list")
def list_datasets(ctx: typer.Context) -> None:
    """数据资源列表 List datasets."""
    with state(ctx).database() as database, database.read_session() as session:
        datasets = search_catalogue(session, Actor.operator(), CatalogueQuery(rows=MAX_ROWS, sort="name_asc")).datasets
        # The name is what scripts read: never wrapped or cut, however narrow the terminal.
        name = Column("名称 name", no_wrap=True, min_width=max((len(d.name) for d in datasets), default=8))
        table = Table(
            name, "标题 title", "部门 department", "版本 versions", "行数 rows", "共享 share", "开放 open", "分级 level"
        )
        for dataset in datasets:
            current = dataset.current_version
            table.add_row(
                dataset.name,
                dataset.title,
                dataset.department.name,
                str(len(dataset.versions)),
                f"{current.row_count:,}" if current else "—",
                dataset.share_type,
                dataset.open_type,
                dataset.security_level,
            )
        console.print(table)
