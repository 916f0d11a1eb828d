"""Every demo dataset is classified with the catalogue's own vocabularies: themes, frequencies, licences."""

from __future__ import annotations

from yiwang.catalog.licences import find_licence
from yiwang.catalog.models import OpenType
from yiwang.catalog.themes import THEMES as CATALOGUE_THEMES
from yiwang.demo.accounts import DEPARTMENTS
from yiwang.demo.classifications import CLASSIFICATIONS, CONTACTS, FREQUENCIES, THEMES
from yiwang.demo.datasets import DATASET_NAMES, spec


def test_the_theme_list_is_the_catalogues() -> None:
    assert tuple(t.label_zh for t in CATALOGUE_THEMES) == THEMES


def test_every_dataset_has_a_classification_with_known_values() -> None:
    assert set(CLASSIFICATIONS) == set(DATASET_NAMES)
    for name, classified in CLASSIFICATIONS.items():
        assert classified.tags and all(tag.strip() for tag in classified.tags), name
        assert classified.themes and set(classified.themes) <= set(THEMES), name
        assert classified.update_frequency in FREQUENCIES, name
        licence = find_licence(classified.licence)
        assert licence is not None and licence.open == (classified.open_type != OpenType.NONE), name


def test_classifications_vary_and_most_data_is_open() -> None:
    open_types = [c.open_type for c in CLASSIFICATIONS.values()]
    assert set(open_types) == set(OpenType)
    assert open_types.count(OpenType.UNCONDITIONAL) >= len(open_types) * 2 // 3
    assert len({theme for c in CLASSIFICATIONS.values() for theme in c.themes}) >= 12


def test_every_owner_is_a_demo_department_with_a_contact() -> None:
    departments = {name for name, _ in DEPARTMENTS}
    assert set(CONTACTS) == departments
    assert {spec(name).owner_department for name in DATASET_NAMES} <= departments
