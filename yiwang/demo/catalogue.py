"""The demo's catalogue: each generated source published as a dataset through the catalogue service, its versions
in order (version 1 first), so that version numbers and the current version are those a real publisher would get."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyarrow.parquet as pq

from yiwang.catalog import service
from yiwang.core.db import Database
from yiwang.core.identity import Actor
from yiwang.demo.classifications import CLASSIFICATIONS, CONTACTS, SNAPSHOT, Classification, temporal_coverage
from yiwang.demo.datasets import DatasetSpec, spec
from yiwang.demo.sources import version_paths

__all__ = ["CLASSIFICATIONS", "Classification", "dataset_input", "publish_sources"]

#: Threads converting and profiling versions ahead of publication (DuckDB releases the GIL for most of it).
STAGING_THREADS = 2


def dataset_input(described: DatasetSpec, current: Path) -> service.DatasetInput:
    """The catalogue entry of a demo dataset whose current version is the Parquet file `current`."""
    classified = CLASSIFICATIONS[described.name]
    temporal = classified.temporal_coverage
    if not temporal:
        temporal = (
            temporal_coverage(pq.read_table(current, columns=[described.period]), described.period)
            if described.period
            else SNAPSHOT
        )
    return service.DatasetInput(
        name=described.name,
        title=described.title_zh,
        department=described.owner_department,
        description=described.description_zh,
        tags=list(classified.tags),
        themes=list(classified.themes),
        update_frequency=classified.update_frequency,
        licence=classified.licence,
        contact=CONTACTS[described.owner_department],
        share_type=classified.share_type.value,
        open_type=classified.open_type.value,
        security_level=classified.security_level.value,
        spatial_coverage=classified.spatial_coverage,
        temporal_coverage=temporal,
    )


def _stage(database: Database, data_dir: Path, name: str, path: Path) -> service.StagedVersion:
    with database.read_session() as session:
        return service.stage_version(session, Actor.operator(), data_dir, name, path, filename=path.name)


def publish_sources(
    database: Database, data_dir: Path, sources: list[Path], progress: Callable[[str, int, int], None] | None = None
) -> None:
    """Create each demo dataset, then publish its generated Parquet files version by version, oldest first.

    Conversion and profiling (`service.stage_version`, which holds no lock) run on `STAGING_THREADS` threads while
    this thread publishes the staged versions strictly in order, so the catalogue is the same as one built serially.
    """
    operator = Actor.operator()
    plan: list[tuple[int, str, Path]] = []  # (dataset number, dataset name, version file), in publishing order
    for number, path in enumerate(sources, start=1):
        described = spec(path.stem)
        with database.session() as session:
            service.create_dataset(session, operator, dataset_input(described, path))
        plan += [(number, described.name, version) for version in version_paths(path.parent, described.name)]
    with ThreadPoolExecutor(max_workers=STAGING_THREADS, thread_name_prefix="demo-stage") as pool:
        futures = [pool.submit(_stage, database, data_dir, name, path) for _, name, path in plan]
        published = 0
        try:
            for (number, name, path), future in zip(plan, futures, strict=True):
                staged = future.result()
                with database.session() as session:
                    service.publish_version(session, operator, staged)
                published += 1
                if progress is not None and path == sources[number - 1]:  # the dataset's last version
                    progress(f"发布 publishing {name}", number, len(sources))
        except BaseException:
            for future in futures[published:]:
                future.cancel()
            for future in futures[published:]:
                if not future.cancelled() and future.exception() is None:
                    future.result().discard()
            raise
