"""People of the demo province — names and household addresses — and the population-registry dataset
(人口基础信息库)."""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import pyarrow as pa

from yiwang.demo import names
from yiwang.demo.datasets.arrays import (
    Bool,
    Dates,
    Float,
    Int,
    _by_group,
    _choose,
    _dates,
    _join,
    _random_dates,
    _strings,
    _take,
    _text,
    _unique,
    _with_nulls,
    _year_month_day,
    _year_starts,
    fixed_width_strings,
    stream,
)
from yiwang.demo.datasets.codes import (
    _break_check,
    _duplicate_order,
    _issue_rows,
    _malformed_phones,
    _mobiles,
    citizen_ids,
)
from yiwang.demo.datasets.model import QUALITY_ISSUES, REFERENCE_DATE, Column, Size
from yiwang.demo.names import Gazetteer, gazetteer

POPULATION = "population-registry"

# fmt: off
#: Births per year of birth (millions, China, rounded from census pyramids): knots interpolated linearly.
_BIRTH_KNOTS = (
    (1930, 0.5), (1935, 1.5), (1940, 3.5), (1945, 5.5), (1950, 9.0), (1955, 12.5), (1958, 14.0), (1960, 11.0),
    (1961, 10.0), (1962, 20.0), (1963, 24.0), (1965, 22.0), (1970, 23.0), (1975, 20.0), (1980, 18.0), (1985, 19.0),
    (1987, 24.0), (1990, 23.0), (1995, 18.0), (2000, 14.5), (2005, 15.0), (2010, 16.0), (2014, 17.0), (2016, 18.5),
    (2017, 17.0), (2018, 15.0), (2019, 14.5), (2020, 12.0), (2021, 10.6), (2022, 9.6), (2023, 9.0), (2024, 9.5),
)
_ETHNIC_GROUPS = ("汉族", "黎族", "苗族", "回族", "壮族", "土家族", "侗族", "瑶族", "彝族", "满族", "布依族", "蒙古族")
_MIGRANT_ETHNIC = (0.925, 0.002, 0.01, 0.008, 0.02, 0.012, 0.006, 0.005, 0.004, 0.005, 0.002, 0.001)
_MARITAL = ("未婚", "已婚", "离婚", "丧偶")
_MARITAL_BY_AGE = (  # lower age bound -> shares of _MARITAL
    (0, (1.0, 0.0, 0.0, 0.0)), (20, (0.80, 0.19, 0.01, 0.0)), (25, (0.45, 0.52, 0.03, 0.0)),
    (30, (0.12, 0.83, 0.05, 0.0)), (40, (0.04, 0.88, 0.06, 0.02)), (60, (0.02, 0.82, 0.04, 0.12)),
    (75, (0.01, 0.55, 0.02, 0.42)),
)
_EDUCATION = ("未上学", "学前教育", "小学", "初中", "高中", "中等职业教育", "大学专科", "大学本科", "研究生")
_EDUCATION_BY_AGE = (  # lower age bound -> shares of _EDUCATION
    (0, (1, 0, 0, 0, 0, 0, 0, 0, 0)), (3, (0, 1, 0, 0, 0, 0, 0, 0, 0)), (6, (0, 0, 1, 0, 0, 0, 0, 0, 0)),
    (12, (0, 0, 0, 1, 0, 0, 0, 0, 0)), (15, (0, 0, 0, 0.1, 0.65, 0.25, 0, 0, 0)),
    (18, (0, 0, 0, 0.05, 0.35, 0.1, 0.22, 0.28, 0)), (23, (0, 0, 0.05, 0.3, 0.2, 0.08, 0.17, 0.17, 0.03)),
    (40, (0.02, 0, 0.18, 0.42, 0.18, 0.06, 0.08, 0.055, 0.005)), (60, (0.15, 0, 0.42, 0.25, 0.12, 0, 0.04, 0.02, 0)),
)
# fmt: on


def _id_prefixes(rng: np.random.Generator, county: Int, migrant: Bool, birth_year: Int) -> Int:
    """Division prefixes of ID numbers: the unit in force when the number was issued (at birth; for people born
    earlier, with their first card in 1985–1999) — the household county for most natives, another Hainan county
    for some, and for migrants a county of their province of origin."""
    issued = np.maximum(birth_year, 1985 + rng.integers(0, 15, len(birth_year)))
    place = np.where(rng.random(len(county)) < 0.85, county, _choose(rng, _county_weights(), len(county)))
    prefix = names.id_prefixes_by_year()[place, np.minimum(issued, names.LAST_BIRTH_YEAR) - names.FIRST_BIRTH_YEAR]
    codes, start, end, first, count = names.migrant_codes()
    rows = np.flatnonzero(migrant)
    province = _choose(rng, list(names.MIGRANT_PROVINCES.values()), len(rows))
    chosen = np.zeros(len(rows), dtype=np.int64)
    pending = np.arange(len(rows))
    weights = list(names.MIGRANT_PROVINCES.values())
    for attempt in range(200):
        if attempt and attempt % 20 == 0:  # no code of that province was in force that year (重庆 before 1997)
            province[pending] = _choose(rng, weights, len(pending))
        pick = first[province[pending]] + np.floor(rng.random(len(pending)) * count[province[pending]]).astype(np.int64)
        year = issued[rows[pending]]
        ok = (start[pick] <= year) & (year <= end[pick])
        chosen[pending[ok]] = codes[pick[ok]]
        pending = pending[~ok]
        if not len(pending):
            break
    else:
        raise RuntimeError("no division code in force for some migrants' issue year")
    prefix[rows] = chosen
    return np.asarray(prefix, dtype=np.int64)


def _county_weights() -> Float:
    return np.array([names.COUNTIES[c][3] for c in gazetteer().codes], dtype=np.float64)


def _birth_dates(rng: np.random.Generator, migrant: Bool) -> Dates:
    years = np.arange(names.FIRST_BIRTH_YEAR, names.LAST_BIRTH_YEAR + 1)
    knots = np.array(_BIRTH_KNOTS, dtype=np.float64)
    native = np.interp(years, knots[:, 0], knots[:, 1])
    age = _year_month_day(np.array([REFERENCE_DATE]))[0][0] - years
    moved = native * np.exp(-(((age - 38.0) / 14.0) ** 2))  # people move their household mostly at working age
    year = years[_by_group(rng, migrant.astype(np.int64), np.vstack([native, moved]))]
    return _random_dates(rng, *_year_starts(year))


def _age(years: Int, months: Int, days: Int) -> Int:
    ref_year, ref_month, ref_day = (int(x[0]) for x in _year_month_day(np.array([REFERENCE_DATE])))
    before = (months > ref_month) | ((months == ref_month) & (days > ref_day))
    return np.asarray(ref_year - years - before, dtype=np.int64)


def _age_band(age: Int, bands: tuple[tuple[int, tuple[float, ...]], ...]) -> tuple[Int, Float]:
    lower = np.array([b[0] for b in bands])
    return np.searchsorted(lower, age, side="right").astype(np.int64) - 1, np.array([b[1] for b in bands])


@cache
def _surname_pool() -> Any:
    return _strings([s for s, _ in names.SURNAMES_HAINAN] + [s for s, _ in names.SURNAMES_NATIONAL])


@cache
def _given_pool() -> tuple[Any, int, int]:
    """Every given name of one or two characters, male-leaning first then female-leaning, and the two pool sizes."""
    male, female = names.GIVEN_MALE + names.GIVEN_NEUTRAL, names.GIVEN_FEMALE + names.GIVEN_NEUTRAL
    pool = [*male, *(a + b for a in male for b in male), *female, *(a + b for a in female for b in female)]
    return _strings(pool), len(male), len(female)


def _person_names(rng: np.random.Generator, male: Bool, local: Bool) -> tuple[Int, Int]:
    """Surname by frequency (Hainan or national list) and one (28 %) or two given-name characters leaning by sex,
    as indices into `_surname_pool` and `_given_pool`."""
    n = len(male)
    hainan, national = names.SURNAMES_HAINAN, names.SURNAMES_NATIONAL
    weights = np.zeros((2, len(hainan) + len(national)))
    weights[0, len(hainan) :] = [w for _, w in national]
    weights[1, : len(hainan)] = [w for _, w in hainan]
    surname = _by_group(rng, local.astype(np.int64), weights)
    _, m, f = _given_pool()
    chars = np.where(male, m, f)
    first, second = (np.floor(rng.random(n) * chars).astype(np.int64) for _ in range(2))
    given = np.where(rng.random(n) < 0.28, first, chars + first * chars + second)
    return surname, np.where(male, 0, m + m * m) + given


def _person_name_text(surname: Int, given: Int) -> Any:
    return _join(_surname_pool().take(pa.array(surname)), _given_pool()[0].take(pa.array(given)))


@cache
def _localities() -> tuple[Any, Int, Int]:
    """Address stems "<county><town><road or village>" for every town: the county's roads for a street (街道), the
    town's villages for a township; with the first stem and the count per town."""
    gaz = gazetteer()
    stems: list[str] = []
    counts: list[int] = []
    for town, name in enumerate(gaz.town_name):
        county = int(gaz.town_county[town])
        head = gaz.label[county] + name
        if gaz.town_is_street[town]:
            first, count, pool = gaz.road_first[county], gaz.road_count[county], gaz.road_name
        else:
            first, count, pool = gaz.village_first[town], gaz.village_count[town], gaz.village_name
        stems += [head + place for place in pool[first : first + count]]
        counts.append(int(count))
    count_array = np.array(counts, dtype=np.int64)
    return _strings(stems), np.concatenate([[0], np.cumsum(count_array)[:-1]]).astype(np.int64), count_array


def _address_parts(rng: np.random.Generator, town: Int) -> tuple[Int, Int]:
    """A locality in each town (see `_localities`) and a house number (up to 300 on a road, 150 in a village)."""
    _, first, count = _localities()
    locality = first[town] + np.floor(rng.random(len(town)) * count[town]).astype(np.int64)
    number = 1 + np.floor(rng.random(len(town)) * np.where(gazetteer().town_is_street[town], 300, 150))
    return locality, number.astype(np.int64)


def _address_text(locality: Int, number: Int) -> Any:
    return _join(_localities()[0].take(pa.array(locality)), _text(number), "号")


def address(rng: np.random.Generator, town: Int) -> Any:
    """Addresses in `town` (gazetteer index): a road and number in a street, a village and number in a township."""
    return _address_text(*_address_parts(rng, town))


def _towns_in(rng: np.random.Generator, gaz: Gazetteer, county: Int) -> Int:
    return np.asarray(
        gaz.town_first[county] + np.floor(rng.random(len(county)) * gaz.town_count[county]).astype(np.int64),
        dtype=np.int64,
    )


def _population(seed: int, size: Size, n: int) -> list[Column]:
    gaz = gazetteer()

    def rng(part: str) -> np.random.Generator:
        return stream(seed, POPULATION, part)

    origin = rng("origin")
    migrant = origin.random(n) < 0.2
    weights = _county_weights()
    city = np.array([c.startswith(("4601", "4602")) for c in gaz.codes])
    county = _by_group(origin, migrant.astype(np.int64), np.vstack([weights, weights * np.where(city, 3.0, 1.0)]))
    birth = _birth_dates(rng("birth"), migrant)
    years, months, days = _year_month_day(birth)
    ymd = years * 10000 + months * 100 + days
    age = _age(years, months, days)
    male = rng("sex").random(n) < 0.53  # Hainan's registered sex ratio is about 113
    prefix = _id_prefixes(rng("prefix"), county, migrant, years)
    key = prefix * 10**11 + ymd * 1000
    serial = rng("serial")
    sequence = serial.integers(0, 500, n) * 2 + male
    for _ in range(50):  # two people never share an ID number
        repeated = _unique(key + sequence)
        if not repeated.any():
            break
        sequence[repeated] = serial.integers(0, 500, int(repeated.sum())) * 2 + male[repeated]
    ids = citizen_ids(prefix, ymd, sequence)

    issues = _issue_rows(rng("quality"), n, QUALITY_ISSUES[POPULATION])
    _break_check(ids, issues["invalid_check_digit"], b"0123456789X", rng("quality-id"))

    shares = np.array([names.COUNTIES[c][4:7] for c in gaz.codes])
    local = np.zeros((len(gaz.codes), len(_ETHNIC_GROUPS)))
    local[:, 1:4] = shares
    local[:, 4:] = 0.004 / (len(_ETHNIC_GROUPS) - 4)
    local[:, 0] = 1.0 - local[:, 1:].sum(axis=1)
    ethnic_table = np.vstack([local, np.array(_MIGRANT_ETHNIC)])
    ethnicity = _by_group(rng("ethnicity"), np.where(migrant, len(gaz.codes), county), ethnic_table)
    marital = _by_group(rng("marital"), *_age_band(age, _MARITAL_BY_AGE))
    education = _by_group(rng("education"), *_age_band(age, _EDUCATION_BY_AGE))
    surname, given = _person_names(rng("name"), male, ~migrant)

    contact = rng("phone")
    phones = _mobiles(contact, n)
    no_phone = contact.random(n) < 0.05
    no_phone[issues["malformed_phone"]] = False

    home = rng("address")
    locality, number = _address_parts(home, _towns_in(home, gaz, county))
    missing_address = np.zeros(n, dtype=np.bool_)
    missing_address[issues["missing_value"]] = True

    registered = _registration_dates(rng("registered"), birth, migrant)
    late = issues["inconsistent_dates"]
    registered[late] = birth[late] - rng("quality-date").integers(1, 3650, len(late)).astype("timedelta64[D]")

    # Duplicate rows are copied here, on the arrays, before any string column is built.
    o = _duplicate_order(n, issues["duplicate_row"])
    phone_text = _malformed_phones(fixed_width_strings(phones[o]), issues["malformed_phone"], contact)
    return [
        Column("person_id", fixed_width_strings(ids[o]), "公民身份号码（GB 11643）", "id_number"),
        Column("name", _person_name_text(surname[o], given[o]), "姓名", "name"),
        Column("sex", _take(["女", "男"], male[o].astype(np.int64)), "性别（与身份号码第17位一致）"),
        Column("birth_date", _dates(birth[o]), "出生日期（与身份号码一致）"),
        Column("ethnicity", _take(_ETHNIC_GROUPS, ethnicity[o]), "民族"),
        Column("household_division", _take(gaz.codes, county[o]), "户籍所在县级行政区划代码（GB/T 2260）"),
        Column(
            "household_address",
            _with_nulls(_address_text(locality[o], number[o]), missing_address[o]),
            "户籍地址",
            "address",
        ),
        Column("phone", _with_nulls(phone_text, no_phone[o]), "联系电话（手机）", "phone"),
        Column("marital_status", _take(_MARITAL, marital[o]), "婚姻状况"),
        Column("education", _take(_EDUCATION, education[o]), "学历"),
        Column("registered_at", _dates(registered[o]), "户籍登记日期"),
    ]


def _registration_dates(rng: np.random.Generator, birth: Dates, migrant: Bool) -> Dates:
    """Natives: registered within three months of birth (or when household registers were set up, 1958); 15 % moved
    later within Hainan. Migrants: moved in as adults, since 2000 (children with their parents)."""
    n = len(birth)
    day = np.timedelta64(1, "D")
    registered = birth + rng.integers(3, 91, n).astype("timedelta64[D]")
    early = registered < np.datetime64("1958-01-01")
    registered[early] = np.datetime64("1958-01-01") + rng.integers(0, 730, int(early.sum())).astype("timedelta64[D]")
    adult = birth + np.timedelta64(6575, "D")  # 18 years
    moved = migrant | (rng.random(n) < 0.15)
    low = np.maximum(adult, np.datetime64("2000-01-01"))
    low = np.where(low > REFERENCE_DATE, birth + 30 * day, low)
    low = np.minimum(low, REFERENCE_DATE)
    later = _random_dates(rng, low, np.full(n, REFERENCE_DATE))
    return np.asarray(np.minimum(np.where(moved, later, registered), REFERENCE_DATE))
