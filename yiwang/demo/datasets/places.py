"""Places on the map: the service-halls (政务服务场所) and disaster-facilities (应急避难场所和防灾设施) datasets,
with the helpers that keep their points on Hainan island."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from yiwang.demo import names
from yiwang.demo.datasets.arrays import (
    Bool,
    Float,
    Int,
    _choose,
    _join,
    _padded,
    _strings,
    _take,
    _text,
    _with_nulls,
    stream,
)
from yiwang.demo.datasets.codes import _landlines
from yiwang.demo.datasets.model import Column, Size
from yiwang.demo.datasets.people import _county_weights, _towns_in, address
from yiwang.demo.names import Gazetteer, gazetteer

# --- island geometry --------------------------------------------------------------------------------------------


def _island(gaz: Gazetteer) -> Bool:
    """County-level units on Hainan island (三沙's districts are islets far out at sea: no map points)."""
    return np.array([not code.startswith("4603") for code in gaz.codes])


def _near(rng: np.random.Generator, gaz: Gazetteer, town: Int, spread: Float) -> tuple[Float, Float]:
    """Points scattered around their town and kept on the island, rounded to six decimals (about 0.1 m)."""
    anchor_lon, anchor_lat = gaz.town_lon[town], gaz.town_lat[town]
    lon = anchor_lon + rng.normal(0.0, 1.0, len(town)) * spread
    lat = anchor_lat + rng.normal(0.0, 1.0, len(town)) * spread * 0.9
    lon, lat = names.clip_to_island(lon, lat, anchor_lon, anchor_lat)
    return np.round(lon, 6), np.round(lat, 6)


# --- service-halls ----------------------------------------------------------------------------------------------

HALLS = "service-halls"
_HOURS = (
    "周一至周五 08:30-12:00 14:30-17:30",
    "周一至周五 08:00-12:00 14:30-17:30",
    "周一至周五 08:30-17:30（中午不休）；周六 09:00-12:00",
    "周一至周日 09:00-17:00；24小时自助服务区",
)


def _service_halls(seed: int, size: Size, n: int) -> list[Column]:
    gaz = gazetteer()

    def rng(part: str) -> np.random.Generator:
        return stream(seed, HALLS, part)

    island = _island(gaz)
    seat = gaz.town_first
    top: list[tuple[str, int, int]] = [("海南省政务服务中心", gaz.index("460106"), 0)]
    top += [(f"{city}政务服务中心", gaz.index(code), 1) for city, code in (("海口市", "460106"), ("三亚市", "460203"))]
    top += [
        (f"{gaz.short[i]}政务服务中心", int(i), 1 if gaz.codes[i] == "460400" else 2) for i in np.flatnonzero(island)
    ]
    towns = np.flatnonzero(island[gaz.town_county])
    pick = rng("towns")
    chosen_towns = np.sort(pick.choice(towns, size=min(n - len(top), len(towns)), replace=False))
    villages = np.flatnonzero(island[gaz.town_county[np.repeat(np.arange(len(gaz.town_name)), gaz.village_count)]])
    rest = n - len(top) - len(chosen_towns)
    if rest > len(villages):
        raise RuntimeError(f"{HALLS}: {n} halls asked for, the gazetteer has room for fewer")
    chosen_villages = np.sort(pick.choice(villages, size=rest, replace=False))
    village_town = np.repeat(np.arange(len(gaz.town_name)), gaz.village_count)[chosen_villages]

    level = np.concatenate([[t[2] for t in top], np.full(len(chosen_towns), 3), np.full(rest, 4)]).astype(np.int64)
    town = np.concatenate([seat[[t[1] for t in top]], chosen_towns, village_town]).astype(np.int64)
    county = gaz.town_county[town]
    local = _join(_take(gaz.short, county), _take(gaz.town_name, town))
    village_names = _take(gaz.village_name, chosen_villages)
    name = pa.concat_arrays(
        [
            _strings(t[0] for t in top),
            _join(local.slice(len(top), len(chosen_towns)), "便民服务中心"),
            _join(local.slice(len(top) + len(chosen_towns)), village_names, "便民服务站"),
        ]
    )
    place = rng("address")
    addresses = address(place, town)
    in_village = _join(
        _take(gaz.label, county[-rest:] if rest else county[:0]),
        _take(gaz.town_name, village_town),
        village_names,
        _text(place.integers(1, 120, rest)),
        "号",
    )
    addresses = pa.concat_arrays([addresses.slice(0, n - rest), in_village])
    lon, lat = _near(rng("position"), gaz, town, np.array([0.004, 0.006, 0.008, 0.01, 0.03])[level])
    staff = rng("windows")
    low, high = np.array([[120, 160], [60, 110], [20, 60], [3, 12], [1, 3]]).T
    hours = rng("hours")
    opening = np.where(level <= 2, hours.integers(0, 4, n), hours.integers(0, 2, n))
    prefix = _join("ZW", _take(gaz.codes, county), "-")
    return [
        Column("hall_id", _join(prefix, _padded(np.arange(1, n + 1), 4)), "政务服务场所编号"),
        Column("name", name, "政务服务中心（便民服务中心、站）名称"),
        Column("level", _take(("省级", "市级", "县级", "乡镇（街道）级", "村（社区）级"), level), "层级"),
        Column("division", _take(gaz.codes, county), "所在县级行政区划代码（GB/T 2260）"),
        Column("address", addresses, "地址"),
        Column("longitude", pa.array(lon), "经度（CGCS2000，度）"),
        Column("latitude", pa.array(lat), "纬度（CGCS2000，度）"),
        Column("opening_hours", _take(_HOURS, opening), "办公时间"),
        Column("phone", _landlines(rng("phone"), n), "咨询电话"),
        Column("window_count", pa.array(staff.integers(low[level], high[level] + 1), pa.int32()), "服务窗口数"),
    ]


# --- disaster-facilities ----------------------------------------------------------------------------------------

FACILITIES = "disaster-facilities"
# fmt: off
#: type, share, kinds: (name pattern, median capacity in people or 0 for none, median area m², with a village)
_FACILITY_TYPES: tuple[tuple[str, float, tuple[tuple[str, float, float, bool], ...]], ...] = (
    ("应急避难场所", 0.45, (("学校应急避难场所", 1200, 0, True), ("广场应急避难场所", 3000, 0, True),
                         ("公园应急避难场所", 6000, 0, True), ("体育馆应急避难场所", 2500, 0, True),
                         ("综合服务中心应急避难场所", 200, 0, True))),
    ("物资储备库", 0.10, (("应急物资储备库", 0, 1500, False), ("应急物资储备点", 0, 300, True))),
    ("消防站", 0.10, (("消防救援站", 0, 3500, False), ("政府专职消防队", 0, 1800, False))),
    ("防风防汛设施", 0.35, (("防风避险点", 250, 0, True), ("排涝泵站", 0, 600, True), ("避风锚地", 0, 40000, False),
                          ("防洪堤", 0, 12000, True))),
)
# fmt: on


def _ordinal(keys: Int) -> Any:
    """ "" for the first row of each key, "（2）", "（3）" … for later ones, so that names stay unique."""
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    starts = np.flatnonzero(np.concatenate([[True], ordered[1:] != ordered[:-1]]))
    rank = np.empty(len(keys), dtype=np.int64)
    rank[order] = np.arange(len(keys)) - np.repeat(starts, np.diff(np.append(starts, len(keys))))
    return pc.if_else(pa.array(rank > 0), _join("（", _text(rank + 1), "）"), pa.scalar(""))


def _facilities(seed: int, size: Size, n: int) -> list[Column]:
    gaz = gazetteer()

    def rng(part: str) -> np.random.Generator:
        return stream(seed, FACILITIES, part)

    where = rng("division")
    county = np.sort(_choose(where, _county_weights() * _island(gaz), n))
    town = _towns_in(where, gaz, county)
    kinds = [(t, *k) for t, (_, _, ks) in enumerate(_FACILITY_TYPES) for k in ks]
    pick = rng("type")
    kind_type = np.array([k[0] for k in kinds])
    kind = np.zeros(n, dtype=np.int64)
    ftype = _choose(pick, [share for _, share, _ in _FACILITY_TYPES], n)
    for t in range(len(_FACILITY_TYPES)):
        rows = np.flatnonzero(ftype == t)
        kind[rows] = np.flatnonzero(kind_type == t)[pick.integers(0, (kind_type == t).sum(), len(rows))]
    village = gaz.village_first[town] + np.floor(pick.random(n) * gaz.village_count[town]).astype(np.int64)
    with_village = np.array([k[4] for k in kinds])[kind]
    local = _join(_take(gaz.short, county), _take(gaz.town_name, town))
    name = pc.if_else(pa.array(with_village), _join(local, _take(gaz.village_name, village)), local)
    name = _join(
        name, _take([k[1] for k in kinds], kind), _ordinal(kind * 10**7 + np.where(with_village, village, town))
    )

    size_rng = rng("capacity")
    people = np.array([k[2] for k in kinds], dtype=np.float64)[kind]
    area = np.array([k[3] for k in kinds], dtype=np.float64)[kind]
    capacity = np.round(people * np.exp(size_rng.normal(0.0, 0.6, n)), -1).astype(np.int64)
    per_person = size_rng.uniform(1.5, 3.0, n)  # 避难场所: at least 1.5 m² of usable area per person
    area = np.where(people > 0, capacity * per_person, area * np.exp(size_rng.normal(0.0, 0.5, n)))
    lon, lat = _near(rng("position"), gaz, town, np.full(n, 0.03))
    return [
        Column("facility_id", _join("YJ", _take(gaz.codes, county), "-", _padded(np.arange(1, n + 1), 6)), "设施编号"),
        Column("name", name, "设施名称"),
        Column("type", _take([t for t, _, _ in _FACILITY_TYPES], ftype), "设施类型"),
        Column("division", _take(gaz.codes, county), "所在县级行政区划代码（GB/T 2260）"),
        Column("address", address(rng("address"), town), "地址"),
        Column("longitude", pa.array(lon), "经度（CGCS2000，度）"),
        Column("latitude", pa.array(lat), "纬度（CGCS2000，度）"),
        Column("capacity_people", _with_nulls(pa.array(capacity), people == 0), "可容纳人数（避难、避险场所）"),
        Column("area_m2", pa.array(np.round(np.maximum(area, 50.0), -1)), "占地或有效避难面积（平方米）"),
    ]
