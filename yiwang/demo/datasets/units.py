"""Shared ground for the statistical and directory datasets: the city- and county-level units (市县) with their
names and populations, period grids, and places drawn on the gazetteer (county, town, address, point, phone)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import pyarrow as pa

from yiwang.core import divisions
from yiwang.demo import names
from yiwang.demo.datasets.arrays import Dates, Float, Int, _choose, _dates, _take, stream
from yiwang.demo.datasets.codes import _landlines
from yiwang.demo.datasets.model import Column, Size
from yiwang.demo.datasets.people import _county_weights, _towns_in, address
from yiwang.demo.datasets.places import _island, _near
from yiwang.demo.names import gazetteer

#: The last month any statistic covers: the demo's "today" is 2025-06-30 (`REFERENCE_DATE`).
LAST_MONTH = "2025-06"


@cache
def unit_codes() -> tuple[str, ...]:
    """The 19 city- and county-level units (海口, 三亚, 三沙, 儋州 and the county-level cities and counties)."""
    return tuple(names.UNITS)


@cache
def unit_names() -> tuple[str, ...]:
    return tuple(d.name if (d := divisions.lookup(code)) else code for code in unit_codes())


def unit_of(county: str) -> str:
    """The city or county a county-level code belongs to (龙华区 460106 → 海口市 460100)."""
    return county[:4] + "00" if county.startswith(("4601", "4602", "4603")) else county


@cache
def unit_population() -> Float:
    """Registered population of each unit of `unit_codes`, in 10k people (the districts summed)."""
    totals = dict.fromkeys(unit_codes(), 0.0)
    for code, values in names.COUNTIES.items():
        totals[unit_of(code)] += values[3]
    return np.array([totals[code] for code in unit_codes()], dtype=np.float64)


def months(first: str, last: str = LAST_MONTH) -> Dates:
    """Every month from `first` to `last` inclusive (datetime64[M])."""
    return np.arange(np.datetime64(first, "M"), np.datetime64(last, "M") + 1)


def grid(*lengths: int) -> tuple[Int, ...]:
    """Row indices of a full cross table, the first dimension varying slowest (period, then unit, then category)."""
    mesh = np.meshgrid(*(np.arange(n) for n in lengths), indexing="ij")
    return tuple(np.asarray(m.ravel(), dtype=np.int64) for m in mesh)


def month_column(values: Dates) -> Any:
    return _dates(values.astype("datetime64[D]"))


def month_of_year(values: Dates) -> Int:
    return np.asarray(values.astype("datetime64[M]").astype(np.int64) % 12 + 1, dtype=np.int64)


def year_of(values: Dates) -> Int:
    return np.asarray(values.astype("datetime64[Y]").astype(np.int64) + 1970, dtype=np.int64)


def noise(rng: np.random.Generator, shape: Any, sigma: float) -> Float:
    """Multiplicative noise around 1 (log-normal)."""
    return np.asarray(np.exp(rng.normal(0.0, sigma, shape)), dtype=np.float64)


def unit_columns(index: Int) -> list[Column]:
    """The division code and name of each row's unit."""
    return [
        Column("division", _take(unit_codes(), index), "市县行政区划代码（GB/T 2260）"),
        Column("division_name", _take(unit_names(), index), "市县名称"),
    ]


def sized(small: int, medium: int, large: int) -> dict[Size, int]:
    return {"small": small, "medium": medium, "large": large}


@dataclass(frozen=True)
class Sites:
    """Places drawn on the gazetteer for a directory dataset: county and town indices, and columns built on them."""

    county: Int
    town: Int
    address: Any
    longitude: Any
    latitude: Any
    phone: Any

    def columns(self) -> list[Column]:
        gaz = gazetteer()
        return [
            Column("division", _take(gaz.codes, self.county), "所在县级行政区划代码（GB/T 2260）"),
            Column("address", self.address, "地址"),
            Column("longitude", self.longitude, "经度（CGCS2000，度）"),
            Column("latitude", self.latitude, "纬度（CGCS2000，度）"),
            Column("phone", self.phone, "联系电话"),
        ]


def sites(seed: int, dataset: str, n: int, weights: Float | None = None, spread: float = 0.02) -> Sites:
    """`n` places on the island, counties drawn by population (times `weights`), sorted by county."""
    gaz = gazetteer()

    def rng(part: str) -> np.random.Generator:
        return stream(seed, dataset, part)

    where = rng("division")
    county = np.sort(_choose(where, _county_weights() * _island(gaz) * (1.0 if weights is None else weights), n))
    town = _towns_in(where, gaz, county)
    lon, lat = _near(rng("position"), gaz, town, np.full(n, spread))
    return Sites(county, town, address(rng("address"), town), pa.array(lon), pa.array(lat), _landlines(rng("phone"), n))


def county_weights(codes: dict[str, float]) -> Float:
    """Extra weight per county-level unit (by code or by unit code, e.g. 460200 for all of 三亚); 1 elsewhere."""
    return np.array([codes.get(code, codes.get(unit_of(code), 1.0)) for code in gazetteer().codes], dtype=np.float64)


def county_short(county: Int) -> Any:
    """The unit's short name of each county (海口, 琼海 …), as used at the head of institution names."""
    short = ["三沙" if unit_of(code) == "460300" else names.UNITS[unit_of(code)][0] for code in gazetteer().codes]
    return _take(short, county)
