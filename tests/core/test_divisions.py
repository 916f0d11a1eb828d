"""The GB/T 2260 division table: the shipped data, lookups over time, the hierarchy, and the build script."""

from __future__ import annotations

import csv
import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yiwang.core import divisions
from yiwang.core.errors import InvalidInput

ROOT = Path(__file__).resolve().parents[2]


def read_rows() -> list[dict[str, str]]:
    with divisions.DATA_FILE.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_csv_is_well_formed() -> None:
    rows = read_rows()
    assert list(rows[0]) == ["code", "name", "level", "valid_from", "valid_to"]
    seen: set[tuple[str, str]] = set()
    for row in rows:
        code = row["code"]
        assert re.fullmatch(r"[1-8]\d{5}", code), row
        expected = "province" if code.endswith("0000") else "prefecture" if code.endswith("00") else "county"
        assert row["level"] == expected, row
        assert row["name"] and row["name"] not in {"市辖区", "县"} and "直辖" not in row["name"], row
        if row["valid_from"] and row["valid_to"]:
            assert int(row["valid_from"]) <= int(row["valid_to"]), row
        assert (code, row["valid_from"]) not in seen, row
        seen.add((code, row["valid_from"]))


def test_the_table_covers_every_level_today_and_in_the_past() -> None:
    current = {level: len(divisions.all_divisions(level)) for level in divisions.LEVELS}
    assert current["province"] == 34
    assert 330 <= current["prefecture"] <= 340
    assert 2800 <= current["county"] <= 2900
    assert len(divisions.all_divisions("county", current_only=False)) > 5000
    years = [int(r["valid_to"]) for r in read_rows() if r["valid_to"]]
    assert min(years) <= 1982 and max(years) >= 2020


def test_lookup_of_current_and_abolished_codes() -> None:
    chaoyang = divisions.lookup("110105")
    assert chaoyang is not None and chaoyang.name == "朝阳区" and chaoyang.level == "county" and chaoyang.is_current()
    chongwen = divisions.lookup("110103")
    assert chongwen is not None and chongwen.name == "崇文区" and chongwen.valid_to == 2010
    assert chongwen.was_valid_in(2009) and chongwen.was_valid_in(2010) and not chongwen.was_valid_in(2011)
    assert divisions.is_division_code("110103") and divisions.is_division_code("110103", 2005)
    assert not divisions.is_division_code("110103", 2011)
    assert divisions.lookup("110103", 2011) is None


def test_hainan_direct_counties_and_the_prefecture_level_danzhou() -> None:
    danzhou_county = divisions.lookup("469003")
    assert danzhou_county is not None and danzhou_county.valid_to == 2015
    danzhou = divisions.lookup("460400")
    assert danzhou is not None and danzhou.level == "prefecture" and danzhou.valid_from == 2015
    hainan = divisions.lookup("460000")
    assert hainan is not None and hainan.valid_from == 1988


def test_a_renamed_code_has_one_row_per_name() -> None:
    assert [d.name for d in divisions.history("130502")] == ["桥东区", "襄都区"]
    old = divisions.lookup("130502", 2010)
    new = divisions.lookup("130502")
    assert old is not None and old.name == "桥东区"
    assert new is not None and new.name == "襄都区" and new.is_current()


@pytest.mark.parametrize(
    ("code", "expected"),
    [("46", "460000"), ("4601", "460100"), ("460106", "460106"), ("460106000000", "460106"), (" 460106 ", "460106")],
)
def test_short_and_long_forms_are_padded_or_cut(code: str, expected: str) -> None:
    assert divisions.normalize_code(code) == expected
    found = divisions.lookup(code)
    assert found is not None and found.code == expected


@pytest.mark.parametrize(
    "code", ["", "4", "460", "46010", "4601060", "460106000001", "46O106", "４６０１０６", "abcdef"]
)
def test_malformed_codes_are_not_divisions(code: str) -> None:
    assert divisions.lookup(code) is None
    assert not divisions.is_division_code(code)
    assert divisions.children(code) == []


def test_provinces() -> None:
    current = divisions.provinces()
    codes = [p.code for p in current]
    assert codes == sorted(codes) and len(set(codes)) == 34
    assert {"110000", "460000", "500000", "710000", "810000", "820000"} <= set(codes)
    assert all(p.level == "province" and p.is_current() for p in current)
    assert len(divisions.provinces(current_only=False)) >= 34


def test_children_of_a_province_include_its_directly_governed_counties() -> None:
    hainan = {d.code: d for d in divisions.children("460000")}
    assert {"460100", "460200", "460300", "460400"} <= set(hainan)
    assert "469001" in hainan and hainan["469001"].name == "五指山市" and hainan["469001"].level == "county"
    assert "469003" not in hainan  # 儋州 became a prefecture in 2015
    assert "469003" in {d.code for d in divisions.children("460000", current_only=False)}
    hubei = {d.code for d in divisions.children("420000")}
    assert {"429004", "429005", "429006", "429021"} <= hubei


def test_children_of_a_municipality_are_its_districts() -> None:
    beijing = {d.code: d.name for d in divisions.children("110000")}
    assert beijing["110101"] == "东城区" and "110103" not in beijing and len(beijing) == 16
    history = {d.code for d in divisions.children("110000", current_only=False)}
    assert {"110103", "110104"} <= history


def test_children_of_a_prefecture_and_of_a_county() -> None:
    assert [d.name for d in divisions.children("460100")] == ["秀英区", "龙华区", "琼山区", "美兰区"]
    assert divisions.children("460106") == []
    laiwu = {d.code for d in divisions.children("371200", current_only=False)}
    assert {"371202", "371203"} <= laiwu  # 莱芜市 was abolished in 2019, its districts remain known
    assert divisions.children("371200") == []


def test_full_name() -> None:
    assert divisions.full_name("460106") == "海南省 海口市 龙华区"
    assert divisions.full_name("469001") == "海南省 五指山市"
    assert divisions.full_name("110103") == "北京市 崇文区"
    assert divisions.full_name("46") == "海南省"
    assert divisions.full_name("130502", 2010) == "河北省 邢台市 桥东区"
    with pytest.raises(InvalidInput) as error:
        divisions.full_name("999999")
    assert error.value.code == "division.unknown"


def test_every_division_hangs_under_an_existing_parent() -> None:
    for division in divisions.all_divisions(current_only=False):
        above = divisions.parent(division.code)
        if division.level == "province":
            assert above is None
            continue
        assert above is not None, division
        assert above.code[:2] == division.code[:2]
        assert above.level == "province" or (division.level == "county" and above.level == "prefecture")


def test_every_current_division_is_a_child_of_its_parent() -> None:
    for division in divisions.all_divisions():
        above = divisions.parent(division.code)
        if above is not None:
            assert above.is_current(), division
            assert division in divisions.children(above.code), division


ROWS = [row for d in divisions.all_divisions(current_only=False) for row in divisions.history(d.code)]


@settings(max_examples=200, deadline=None)
@given(row=st.sampled_from(ROWS), offset=st.integers(0, 60))
def test_lookup_in_a_year_finds_a_row_in_force_that_year(row: divisions.Division, offset: int) -> None:
    low = row.valid_from or 1950
    high = row.valid_to or 2030
    year = min(low + offset, high)
    found = divisions.lookup(row.code, year)
    assert found is not None and found.code == row.code and found.was_valid_in(year)
    assert divisions.is_division_code(row.code, year)
    assert divisions.is_division_code(row.code)


def load_build_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_divisions", ROOT / "scripts" / "build_divisions.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_divisions"] = module
    spec.loader.exec_module(module)
    return module


def test_the_build_script_dates_changes_from_snapshots_and_events() -> None:
    build = load_build_script()
    snapshots = {
        (1980, 12): {"110000": "北京市", "110103": "崇文区", "110100": "市辖区", "130502": "桥东区"},
        (1981, 12): {"110000": "北京市", "110103": "崇文区", "130502": "桥东区"},
        (1983, 12): {"110000": "北京市", "110103": "崇文区", "130502": "桥东区", "110118": "密云区"},
        (1990, 12): {"110000": "北京市", "110118": "密云区", "130502": "襄都区"},
    }
    events = [{"year": 1988, "old": {"code": "110103000000", "name": "崇文区"}, "new": None}]
    rows = {(r.code, r.name): r for r in build.build(snapshots, events)}
    assert ("110100", "市辖区") not in rows  # aggregation rows are not divisions
    assert (rows[("110000", "北京市")].valid_from, rows[("110000", "北京市")].valid_to) == (None, None)
    assert rows[("110103", "崇文区")].valid_to == 1988  # dated by the event
    assert rows[("110118", "密云区")].valid_from == 1982  # no event: the earliest year possible
    assert rows[("130502", "桥东区")].valid_to == 1990  # no event: the latest year possible
    assert rows[("130502", "襄都区")].valid_from == 1984
