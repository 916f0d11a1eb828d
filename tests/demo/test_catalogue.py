"""The demo catalogue as `yiwang demo` publishes it: ≥ 32 datasets across departments, classified, versioned in
order, each version the byte-exact file the seed generates."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from factories import TEST_SECRET
from sqlalchemy import select

from yiwang.catalog.licences import find_licence
from yiwang.catalog.models import Dataset, DatasetVersion, OpenType
from yiwang.core import installation
from yiwang.core.settings import Settings
from yiwang.demo.classifications import FREQUENCIES, THEMES
from yiwang.demo.datasets import DATASET_NAMES, generate, spec
from yiwang.demo.load import load_demo
from yiwang.demo.sandbox import TRACKS
from yiwang.demo.sources import version_paths

SEED = 7
TEMPORAL = re.compile(r"(\d{4}/\d{4}|\d{4}-\d{2}/\d{4}-\d{2})")


@dataclass(frozen=True)
class Published:
    name: str
    department: str
    tags: list[str]
    themes: list[str]
    update_frequency: str
    licence: str
    contact: str
    open_type: str
    spatial_coverage: str
    temporal_coverage: str
    current: int | None
    versions: dict[int, tuple[str, int, bool]]  # number -> (source sha256, rows, has a quality report)


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("demo")
    load_demo(_settings(directory), SEED, "small")
    return directory


def _settings(directory: Path) -> Settings:
    database_url = f"sqlite:///{directory / 'yiwang.db'}"
    return Settings(data_dir=directory / "data", database_url=database_url, secret_key=TEST_SECRET)


@pytest.fixture(scope="module")
def published(demo_dir: Path) -> dict[str, Published]:
    database = installation.open_installation(_settings(demo_dir))
    try:
        with database.read_session() as session:
            found = {}
            for dataset in session.scalars(select(Dataset)):
                versions = session.scalars(select(DatasetVersion).where(DatasetVersion.dataset_id == dataset.id))
                current = next((v.number for v in versions if v.id == dataset.current_version_id), None)
                found[dataset.name] = Published(
                    dataset.name,
                    dataset.department.name,
                    list(dataset.tags),
                    list(dataset.themes),
                    dataset.update_frequency,
                    dataset.licence,
                    dataset.contact,
                    dataset.open_type,
                    dataset.spatial_coverage,
                    dataset.temporal_coverage,
                    current,
                    {v.number: (v.source_sha256, v.row_count, bool(v.quality)) for v in dataset.versions},
                )
            return found
    finally:
        database.dispose()


def test_at_least_32_datasets_are_published_by_at_least_10_departments(published: dict[str, Published]) -> None:
    assert set(published) == set(DATASET_NAMES)
    assert len(published) >= 32
    by_department = Counter(p.department for p in published.values())
    assert len(by_department) >= 10, by_department
    assert all(published[name].department == spec(name).owner_department for name in published)


def test_every_dataset_is_fully_described(published: dict[str, Published]) -> None:
    for p in published.values():
        assert p.tags, p.name
        assert p.themes and set(p.themes) <= set(THEMES), p.name
        assert p.update_frequency in FREQUENCIES, p.name
        licence = find_licence(p.licence)
        assert licence is not None, p.name
        assert licence.open == (p.open_type != OpenType.NONE.value), p.name
        assert p.contact and p.spatial_coverage, p.name
        assert TEMPORAL.fullmatch(p.temporal_coverage), (p.name, p.temporal_coverage)
        low, high = p.temporal_coverage.split("/")
        assert low <= high <= "2025-06", p.name


def test_versions_are_numbered_in_order_and_the_last_is_current(published: dict[str, Published]) -> None:
    several = [p for p in published.values() if len(p.versions) > 1]
    assert len(several) >= 5
    for p in published.values():
        count = spec(p.name).version_count
        assert sorted(p.versions) == list(range(1, count + 1)), p.name
        assert p.current == count, p.name
        rows = [p.versions[n][1] for n in sorted(p.versions)]
        assert rows == [generate(p.name, SEED, "small", n).num_rows for n in range(1, count + 1)], p.name
        assert rows == sorted(rows), p.name  # a later version adds periods, never drops them
        assert all(has_report for _, _, has_report in p.versions.values()), p.name


def test_each_version_is_the_file_the_seed_generates_byte_for_byte(
    published: dict[str, Published], tmp_path: Path
) -> None:
    # Regenerate in another process (another string-hash seed): same seed, same bytes, same sha256 per version.
    script = "import sys, pathlib, yiwang.demo.sources as s; s.write_sources(pathlib.Path(sys.argv[1]), 7, 'small')"
    environment = {**os.environ, "PYTHONHASHSEED": "99"}
    subprocess.run([sys.executable, "-c", script, str(tmp_path)], check=True, env=environment)
    for p in published.values():
        files = version_paths(tmp_path, p.name)
        assert len(files) == len(p.versions)
        for number, path in enumerate(files, start=1):
            assert hashlib.sha256(path.read_bytes()).hexdigest() == p.versions[number][0], (p.name, number)


def test_registries_of_persons_are_never_opened_and_names_only_on_conditions(published: dict[str, Published]) -> None:
    in_tracks = {name for track, _applicants in TRACKS for name in track.datasets}
    for name in published:
        kinds = {f.metadata[b"personal_kind"] for f in generate(name, SEED, "small").schema}
        if b"id_number" in kinds:  # on conditions only into a track's sandbox, where nobody sees a record
            allowed = (OpenType.NONE.value, OpenType.CONDITIONAL.value) if name in in_tracks else (OpenType.NONE.value,)
            assert published[name].open_type in allowed, name
        if b"name" in kinds:  # a legal representative's name is public in a register, still never opened at large
            assert published[name].open_type != OpenType.UNCONDITIONAL.value, name


def test_most_datasets_are_open_to_everyone(published: dict[str, Published]) -> None:
    opened = [p for p in published.values() if p.open_type == OpenType.UNCONDITIONAL.value]
    assert len(opened) >= len(published) * 2 // 3
