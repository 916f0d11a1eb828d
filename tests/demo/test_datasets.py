"""The demo generator: deterministic, realistic, valid where it should be, broken exactly where it says so."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from yiwang.core import divisions
from yiwang.core.errors import InvalidInput, NotFound
from yiwang.core.validators import (
    citizen_id_check_digit,
    credit_code_check_char,
    is_citizen_id,
    is_credit_code,
    is_mobile_phone,
)
from yiwang.demo import names
from yiwang.demo.accounts import DEPARTMENTS
from yiwang.demo.datasets import DATASET_NAMES, QUALITY_ISSUES, REFERENCE_DATE, ROW_COUNTS, generate, spec
from yiwang.demo.sources import build_source, version_paths, write_sources

SEED = 20260101
HAINAN_BOX = {"lat": (18.15, 20.15), "lon": (108.6, 111.05)}
LANDLINE = re.compile(r"0898-[0-9]{8}")


@cache
def small(name: str, seed: int = SEED) -> Any:
    return generate(name, seed, "small")


def issue_rows(dataset: str, kind: str) -> int:
    table = small(dataset)
    return next(i.rows(table.num_rows) for i in QUALITY_ISSUES[dataset] if i.kind == kind)


def test_every_dataset_has_its_row_count_at_small() -> None:
    assert DATASET_NAMES[:6] == (
        "population-registry",
        "enterprise-registry",
        "service-halls",
        "tourism-monthly",
        "weather-daily",
        "disaster-facilities",
    )
    assert len(DATASET_NAMES) >= 32 and len(set(DATASET_NAMES)) == len(DATASET_NAMES)
    for name in DATASET_NAMES:
        assert small(name).num_rows == ROW_COUNTS[name]["small"]
    assert ROW_COUNTS["population-registry"] == {"small": 2_000, "medium": 200_000, "large": 5_000_000}


@pytest.mark.parametrize("name", DATASET_NAMES)
def test_same_seed_gives_the_same_table_and_another_seed_another(name: str) -> None:
    again = generate(name, SEED, "small")
    assert again.equals(small(name), check_metadata=True)
    assert not generate(name, SEED + 1, "small").equals(small(name))


def test_a_dataset_does_not_depend_on_what_was_generated_before() -> None:
    fresh = generate("enterprise-registry", 7, "small")
    for name in DATASET_NAMES:
        generate(name, 7, "small")
    assert generate("enterprise-registry", 7, "small").equals(fresh)


def test_person_ids_are_valid_except_the_documented_wrong_check_digits() -> None:
    rows = small("population-registry").to_pydict()
    invalid = [pid for pid in rows["person_id"] if not is_citizen_id(pid)]
    assert len(invalid) == issue_rows("population-registry", "invalid_check_digit")
    for pid in invalid:  # only the check digit is wrong: the rest is a real-looking number
        assert is_citizen_id(pid[:17] + citizen_id_check_digit(pid[:17]))
    sample = [pid for pid in rows["person_id"][::7] if pid not in invalid]
    assert all(citizen_id_check_digit(pid[:17]) == pid[17] for pid in sample)


def test_sex_and_birth_date_agree_with_the_id_number() -> None:
    rows = small("population-registry").to_pylist()
    for row in rows:
        pid = row["person_id"]
        assert row["birth_date"] == date(int(pid[6:10]), int(pid[10:12]), int(pid[12:14]))
        assert row["sex"] == ("男" if int(pid[16]) % 2 else "女")
        assert date(1930, 1, 1) <= row["birth_date"] <= date(2024, 12, 31)
    assert {"男", "女"} == {row["sex"] for row in rows}


def test_people_live_in_hainan_with_addresses_in_their_county() -> None:
    counties = set(names.hainan_county_codes())
    labels = {code: "".join(divisions.full_name(code).split()) for code in counties}
    rows = small("population-registry").to_pylist()
    assert {row["household_division"] for row in rows} <= counties
    for row in rows:
        if row["household_address"] is not None:
            assert row["household_address"].startswith(labels[row["household_division"]])
            assert row["household_address"].endswith("号")
    prefixes = [row["person_id"][:2] for row in rows]
    assert prefixes.count("46") > len(rows) / 2  # most numbers were issued in Hainan


def test_duplicate_rows_are_exact_and_the_only_repeated_ids() -> None:
    table = small("population-registry")
    repeated = {pid for pid, count in Counter(table.column("person_id").to_pylist()).items() if count > 1}
    assert len(repeated) == issue_rows("population-registry", "duplicate_row")
    rows = table.to_pylist()
    for pid in repeated:
        first, second = (row for row in rows if row["person_id"] == pid)
        assert first == second


def test_other_population_quality_issues_have_their_documented_counts() -> None:
    rows = small("population-registry").to_pylist()
    assert sum(row["household_address"] is None for row in rows) == issue_rows("population-registry", "missing_value")
    before = sum(row["registered_at"] < row["birth_date"] for row in rows)
    assert before == issue_rows("population-registry", "inconsistent_dates")
    assert max(row["registered_at"] for row in rows) <= REFERENCE_DATE.item()


def test_phones_are_valid_mobiles_except_the_documented_malformed_ones() -> None:
    phones = small("population-registry").column("phone").to_pylist()
    present = [p for p in phones if p is not None]
    assert 0.02 < 1 - len(present) / len(phones) < 0.09  # about 5 % without a phone
    malformed = [p for p in present if not is_mobile_phone(p)]
    assert len(malformed) == issue_rows("population-registry", "malformed_phone")

    enterprise = small("enterprise-registry").column("phone").to_pylist()
    odd = [p for p in enterprise if not (is_mobile_phone(p) or LANDLINE.fullmatch(p))]
    assert len(odd) == issue_rows("enterprise-registry", "malformed_phone")
    assert all(LANDLINE.fullmatch(p) for p in small("service-halls").column("phone").to_pylist())


def test_credit_codes_are_valid_except_the_documented_wrong_check_characters() -> None:
    rows = small("enterprise-registry").to_pylist()
    codes = [row["credit_code"] for row in rows]
    invalid = [code for code in codes if not is_credit_code(code)]
    assert len(invalid) == issue_rows("enterprise-registry", "invalid_check_char")
    assert all(is_credit_code(code[:17] + credit_code_check_char(code[:17])) for code in invalid)
    assert all(credit_code_check_char(code[:17]) == code[17] for code in codes[::5] if code not in invalid)
    assert {code[:2] for code in codes} == {"91", "92", "93", "N2"}
    assert all(code[2:4] == "46" for code in codes)
    for code in codes:  # characters 9–17 are a GB 11714 organisation code with its own check character
        body = [int(char, 36) for char in code[8:16]]
        check = 11 - sum(v * w for v, w in zip(body, (3, 7, 9, 10, 5, 8, 4, 2), strict=True)) % 11
        assert code[16] == {10: "X", 11: "0"}.get(check, str(check))


def test_enterprise_quality_issues_have_their_documented_counts() -> None:
    rows = small("enterprise-registry").to_pylist()
    missing = sum(row["legal_representative"] is None for row in rows)
    assert missing == issue_rows("enterprise-registry", "missing_value")
    future = sum(row["established_on"] > REFERENCE_DATE.item() for row in rows)
    assert future == issue_rows("enterprise-registry", "out_of_range")
    assert all(row["registered_capital"] > 0 for row in rows)


@pytest.mark.parametrize("name", ["service-halls", "disaster-facilities"])
def test_map_points_lie_inside_hainan(name: str) -> None:
    table = small(name)
    lon, lat = (np.array(table.column(c).to_pylist()) for c in ("longitude", "latitude"))
    assert HAINAN_BOX["lon"][0] < lon.min() and lon.max() < HAINAN_BOX["lon"][1]
    assert HAINAN_BOX["lat"][0] < lat.min() and lat.max() < HAINAN_BOX["lat"][1]
    assert names.island_mask(lon, lat).all()
    assert len(set(table.column("name").to_pylist())) == table.num_rows


def test_county_seats_are_on_the_island_except_sansha() -> None:
    on_land = {code: (lon, lat) for code, (lon, lat, *_) in names.COUNTIES.items() if not code.startswith("4603")}
    lon, lat = (np.array(values) for values in zip(*on_land.values(), strict=True))
    assert names.island_mask(lon, lat).all()


def test_tourism_has_a_winter_high_season_and_weather_a_wet_typhoon_season() -> None:
    tourism = small("tourism-monthly").to_pylist()
    sanya = {row["month"]: row["visitors"] for row in tourism if row["division"] == "460200"}
    assert len(sanya) == 36
    assert sanya[date(2024, 2, 1)] > 1.5 * sanya[date(2024, 9, 1)]
    assert all(row["overnight_visitors"] < row["visitors"] for row in tourism)

    weather = small("weather-daily").to_pylist()
    wet = [row["rainfall_mm"] for row in weather if 7 <= row["date"].month <= 10]
    dry = [row["rainfall_mm"] for row in weather if row["date"].month <= 4]
    assert np.mean(wet) > 3 * np.mean(dry)
    readings = [row for row in weather if row["temp_max"] is not None]
    assert all(row["temp_min"] <= row["temp_max"] for row in readings)
    assert len(weather) - len(readings) == issue_rows("weather-daily", "missing_value")


def test_fields_carry_a_chinese_description_and_a_personal_kind() -> None:
    kinds = {"id_number", "phone", "name", "address", "credit_code", "none"}
    for name in DATASET_NAMES:
        schema = small(name).schema
        assert schema.metadata[b"title_zh"].decode()
        for field in schema:
            assert field.metadata[b"description_zh"].decode(), (name, field.name)
            assert field.metadata[b"personal_kind"].decode() in kinds
    population = small("population-registry").schema
    assert population.field("person_id").metadata[b"personal_kind"] == b"id_number"
    assert population.field("phone").metadata[b"personal_kind"] == b"phone"


def test_sources_are_owned_by_demo_departments() -> None:
    departments = {name for name, _ in DEPARTMENTS}
    for name in DATASET_NAMES:
        source = build_source(name, SEED, "small")
        assert source.owner_department in departments
        assert source.title_zh and source.title_en and source.description_zh
        assert source.table.num_rows == ROW_COUNTS[name]["small"]
    assert spec("population-registry").owner_department == "海南省公安厅"


def test_unknown_dataset_size_or_seed_is_refused() -> None:
    with pytest.raises(NotFound):
        generate("no-such-dataset", SEED, "small")
    with pytest.raises(InvalidInput):
        generate("tourism-monthly", SEED, "huge")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        generate("tourism-monthly", -1, "small")


def test_write_sources_writes_zstd_parquet_atomically_and_reproducibly(tmp_path: Path) -> None:
    calls: list[tuple[str, int, int]] = []
    paths = write_sources(tmp_path / "a", SEED, "small", lambda *call: calls.append(call))
    assert [p.name for p in paths] == [f"{name}.parquet" for name in DATASET_NAMES]
    a = tmp_path / "a"
    written = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert written == sorted(v.relative_to(a) for n in DATASET_NAMES for v in version_paths(a, n))  # no temp files
    assert calls == [(name, i, len(DATASET_NAMES)) for i, name in enumerate(DATASET_NAMES, start=1)]
    for path, name in zip(paths, DATASET_NAMES, strict=True):
        table = pq.read_table(path)
        assert table.equals(small(name))
        assert table.schema.field(0).metadata[b"description_zh"]
        assert pq.ParquetFile(path).metadata.row_group(0).column(0).compression == "ZSTD"
    # Byte for byte the same from another process, whose string hashing (set order) differs.
    script = (
        "import sys, pathlib, yiwang.demo.sources as s;"
        "s.write_sources(pathlib.Path(sys.argv[1]), int(sys.argv[2]), 'small')"
    )
    environment = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run([sys.executable, "-c", script, str(tmp_path / "b"), str(SEED)], check=True, env=environment)
    assert [(tmp_path / "a" / p).read_bytes() for p in written] == [(tmp_path / "b" / p).read_bytes() for p in written]


def test_a_failed_write_leaves_no_file_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(pq, "write_table", fail)
    with pytest.raises(OSError):
        write_sources(tmp_path, SEED, "small")
    assert list(tmp_path.iterdir()) == []


def test_string_columns_are_plain_utf8() -> None:
    for name in DATASET_NAMES:
        for field in small(name).schema:
            assert not pa.types.is_dictionary(field.type)
