"""The demo datasets as sources 数据源: described for the catalogue and written out as Parquet files.

Each file is written atomically (a temporary name in the same directory, fsync, rename, fsync of the directory), so
a reader sees either no file or the whole file, never half of one.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from yiwang.demo.datasets import DATASET_NAMES, Size, generate, select_version, spec

#: Earlier versions of a dataset are written in this subdirectory, so that ``*.parquet`` lists the current ones.
EARLIER_DIR = "earlier"

#: Called after each file is written with (dataset name, files written so far, files in all).
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class DemoSource:
    """One demo dataset with its catalogue description and owner (a department named in Chinese)."""

    name: str
    title_zh: str
    title_en: str
    description_zh: str
    owner_department: str
    table: Any  # a pyarrow Table; each field's metadata holds description_zh and personal_kind


def build_source(name: str, seed: int, size: Size) -> DemoSource:
    """The demo dataset `name`, generated, with its description."""
    described = spec(name)
    return DemoSource(
        name=described.name,
        title_zh=described.title_zh,
        title_en=described.title_en,
        description_zh=described.description_zh,
        owner_department=described.owner_department,
        table=generate(name, seed, size),
    )


def write_parquet(table: Any, path: Path) -> None:
    """Write `table` to `path` with zstd compression, atomically: readers never see a partial file.

    The file is created private to its owner (mode 0600), as demo data includes personal-looking fields.
    """
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    temporary = Path(name)
    try:
        pq.write_table(table, temporary, compression="zstd")
        _fsync(temporary, os.O_RDONLY)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _fsync(path.parent, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))


def _fsync(path: Path, flags: int) -> None:
    descriptor = os.open(path, flags)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def version_paths(directory: Path, name: str) -> list[Path]:
    """The files of every version of dataset `name`, oldest first: ``earlier/<name>.v<k>.parquet`` for the versions
    before the last, then ``<name>.parquet`` (the current one)."""
    earlier = [directory / EARLIER_DIR / f"{name}.v{k}.parquet" for k in range(1, spec(name).version_count)]
    return [*earlier, directory / f"{name}.parquet"]


def write_sources(directory: Path, seed: int, size: Size, progress: Progress | None = None) -> list[Path]:
    """Generate every demo dataset and write each as ``<directory>/<name>.parquet`` (its earlier versions under
    ``earlier/``, see `version_paths`); return the current files in order."""
    directory.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for done, name in enumerate(DATASET_NAMES, start=1):
        table = generate(name, seed, size)
        *earlier, path = version_paths(directory, name)
        for number, older in enumerate(earlier, start=1):
            older.parent.mkdir(exist_ok=True)
            write_parquet(select_version(table, number), older)
        write_parquet(table, path)
        paths.append(path)
        if progress is not None:
            progress(name, done, len(DATASET_NAMES))
    return paths
