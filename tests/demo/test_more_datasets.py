"""The statistics, environment records, directories and registers beyond the first six demo datasets: valid codes,
places on the island, figures that hang together, and earlier versions that are prefixes of the later ones."""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import pytest

from yiwang.core import divisions
from yiwang.core.errors import InvalidInput
from yiwang.core.validators import is_citizen_id, is_credit_code
from yiwang.demo import names
from yiwang.demo.datasets import DATASET_NAMES, REFERENCE_DATE, generate, select_version, spec

SEED = 20260101
NEW = DATASET_NAMES[6:]
VERSIONED = [name for name in DATASET_NAMES if spec(name).version_count > 1]
MAPPED = ["schools", "medical-institutions", "elderly-care-institutions", "scenic-spots", "star-rated-hotels"]
MAPPED += ["geohazard-sites", "bus-routes-stops"]


@cache
def small(name: str) -> Any:
    return generate(name, SEED, "small")


def test_small_sizes_stay_small_and_grow_with_the_size() -> None:
    for name in NEW:
        rows = spec(name).rows
        assert 50 <= rows["small"] <= 520, name
        assert rows["small"] <= rows["medium"] <= rows["large"], name


@pytest.mark.parametrize("name", VERSIONED)
def test_an_earlier_version_is_the_later_one_up_to_its_cutoff(name: str) -> None:
    described = spec(name)
    versions = [generate(name, SEED, "small", n) for n in range(1, described.version_count + 1)]
    assert versions[-1].equals(small(name))
    for earlier, later in zip(versions, versions[1:], strict=False):
        assert 0 < earlier.num_rows < later.num_rows
        assert earlier.equals(later.slice(0, earlier.num_rows))  # rows are ordered by period
    for number, version in enumerate(versions, start=1):
        assert version.schema.metadata[b"version"] == str(number).encode()
        assert select_version(versions[-1], number).equals(version, check_metadata=True)


def test_a_version_outside_the_range_is_refused() -> None:
    with pytest.raises(InvalidInput):
        generate("social-insurance-stats", SEED, "small", 4)
    with pytest.raises(InvalidInput):
        generate("schools", SEED, "small", 0)


@pytest.mark.parametrize("name", NEW)
def test_new_datasets_are_reproducible_and_seeded(name: str) -> None:
    assert generate(name, SEED, "small").equals(small(name), check_metadata=True)
    if name not in ("budget-disclosure",):  # every dataset draws something from the seed
        assert not generate(name, SEED + 1, "small").equals(small(name))


@pytest.mark.parametrize("name", NEW)
def test_division_codes_are_real_hainan_codes(name: str) -> None:
    table = small(name)
    for column in ("division", "district_code"):
        if column in table.column_names:
            codes = {c for c in table.column(column).to_pylist() if c is not None}
            assert codes and all(c.startswith("46") and divisions.lookup(c) is not None for c in codes), name


@pytest.mark.parametrize("name", MAPPED)
def test_places_lie_on_the_island(name: str) -> None:
    table = small(name)
    lon, lat = (np.array(table.column(c).to_pylist()) for c in ("longitude", "latitude"))
    assert names.island_mask(lon, lat).all()
    if "name" in table.column_names:
        assert len(set(table.column("name").to_pylist())) == table.num_rows


def test_registers_join_the_enterprise_registry_by_valid_credit_codes() -> None:
    registry = dict(
        zip(*(small("enterprise-registry").column(c).to_pylist() for c in ("credit_code", "name")), strict=True)
    )
    for name, code_column, name_column in (
        ("enterprise-annual-reports", "credit_code", "name"),
        ("administrative-licences", "holder_credit_code", "holder_name"),
        ("administrative-penalties", "party_credit_code", "party_name"),
        ("food-safety-sampling", "sampled_credit_code", "sampled_entity"),
        ("job-postings", "employer_credit_code", "employer"),
        ("insured-persons", "employer_credit_code", "employer"),
    ):
        rows = small(name).select([code_column, name_column]).to_pylist()
        for row in rows:
            assert is_credit_code(row[code_column]), name
            assert registry[row[code_column]] == row[name_column], name


def test_insured_persons_have_valid_unique_id_numbers_agreeing_with_sex_and_birth() -> None:
    rows = small("insured-persons").to_pylist()
    ids = [row["person_id"] for row in rows]
    assert len(set(ids)) == len(ids) and all(is_citizen_id(pid) for pid in ids)
    for row in rows:
        pid = row["person_id"]
        assert row["birth_date"].strftime("%Y%m%d") == pid[6:14]
        assert row["sex"] == ("男" if int(pid[16]) % 2 else "女")
        assert row["birth_date"] < row["insured_since"] <= REFERENCE_DATE.item()


def test_air_quality_index_is_the_highest_sub_index_and_sets_the_level() -> None:
    rows = small("air-quality-daily").to_pylist()
    bounds = {"优": (0, 50), "良": (51, 100), "轻度污染": (101, 150), "中度污染": (151, 200)}
    for row in rows:
        low, high = bounds[row["level"]]
        assert low <= row["aqi"] <= high
        assert (row["primary_pollutant"] is None) == (row["aqi"] <= 50)
        pm25 = np.interp(row["pm25"], (0, 35, 75, 115, 150), (0, 50, 100, 150, 200))
        assert row["aqi"] >= np.ceil(pm25)


def test_water_class_is_the_worst_indicator_and_decides_the_target() -> None:
    classes = ("Ⅰ类", "Ⅱ类", "Ⅲ类", "Ⅳ类", "Ⅴ类", "劣Ⅴ类")
    for row in small("surface-water-quality").to_pylist():
        level = classes.index(row["water_class"])
        assert row["meets_target"] == (level <= classes.index(row["target_class"]))
        assert np.searchsorted((0.15, 0.5, 1.0, 1.5, 2.0), row["ammonia_nitrogen"]) <= level


def test_statistics_hang_together() -> None:
    for row in small("household-population-stats").to_pylist():
        assert row["male"] + row["female"] == row["population"]
        assert row["age_0_14"] + row["age_15_64"] + row["age_65_plus"] == row["population"]
    for row in small("birth-registration-stats").to_pylist():
        assert row["male"] + row["female"] == row["births"]
    for row in small("hotline-12345-stats").to_pylist():
        assert 0 <= row["completed"] <= row["received"]
    for row in small("motor-vehicle-stats").to_pylist():
        assert 0 <= row["new_energy_vehicles"] <= row["vehicles"]
    budget = small("budget-disclosure").to_pylist()
    assert all((row["final_wan_yuan"] is None) == (row["year"] == 2025) for row in budget)
    taxes = [row for row in small("tax-revenue-stats").to_pylist() if row["tax_type"] == "增值税"]
    assert all(row["cumulative_yi_yuan"] >= row["revenue_yi_yuan"] for row in taxes)


def test_typhoon_grades_follow_the_wind() -> None:
    limits = {"热带低压": (10.8, 17.1), "热带风暴": (17.2, 24.4), "强热带风暴": (24.5, 32.6), "台风": (32.7, 41.4)}
    limits |= {"强台风": (41.5, 50.9), "超强台风": (51.0, 99.0)}
    rows = small("typhoon-tracks").to_pylist()
    for row in rows:
        low, high = limits[row["grade"]]
        assert low <= row["max_wind_ms"] <= high
        assert 900 < row["pressure_hpa"] <= 1010
    assert any(105 < row["longitude"] < 112 and 17.5 < row["latitude"] < 21 for row in rows)  # they reach Hainan
