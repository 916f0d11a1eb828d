"""The enterprise-registry dataset (市场主体登记信息): companies, individual businesses, cooperatives and rural
collectives with their credit codes, names, capital and status."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from yiwang.demo import names
from yiwang.demo.datasets.arrays import (
    Dates,
    Int,
    _by_group,
    _choose,
    _dates,
    _digits,
    _join,
    _random_dates,
    _take,
    _text,
    _unique,
    _with_nulls,
    _year_starts,
    fixed_width_strings,
    stream,
)
from yiwang.demo.datasets.codes import (
    CREDIT_CHARSET,
    _break_check,
    _duplicate_order,
    _issue_rows,
    _landlines,
    _malformed_phones,
    _mobiles,
    credit_codes,
)
from yiwang.demo.datasets.model import QUALITY_ISSUES, REFERENCE_DATE, Column, Size
from yiwang.demo.datasets.people import _county_weights, _person_name_text, _person_names, _towns_in, address
from yiwang.demo.names import Gazetteer, gazetteer

ENTERPRISES = "enterprise-registry"
ENTERPRISE_ROWS: dict[Size, int] = {"small": 1_000, "medium": 50_000, "large": 1_000_000}

# fmt: off
#: Registration authority and entity type (first two characters of the credit code), label, share.
_ENTITY_KINDS = (("91", "企业", 0.55), ("92", "个体工商户", 0.38), ("93", "农民专业合作社", 0.04),
                 ("N2", "村级集体经济组织", 0.03))
_STATUS = ("存续", "在业", "吊销", "注销", "迁出")
_STATUS_BY_KIND = ((0.75, 0, 0.06, 0.16, 0.03), (0, 0.72, 0.06, 0.22, 0), (0.78, 0, 0.07, 0.15, 0),
                   (0.98, 0, 0, 0.02, 0))
# fmt: on
_CAPITAL_BY_KIND = ((100.0, 1.4), (5.0, 1.0), (50.0, 1.0), (80.0, 1.3))  # median 万元, log-normal sigma
_INDEX = {char: i for i, char in enumerate(CREDIT_CHARSET)}


def _unit_name(code: str) -> str:
    """The city or county a county-level unit belongs to, as a short name for enterprise names (海口, 琼海)."""
    unit = code[:4] + "00" if code.startswith(("4601", "4602", "4603")) else code
    return "三沙" if unit == "460300" else names.UNITS[unit][0]


def _scatter(n: int, parts: list[tuple[Int, Any]]) -> Any:
    """One array of `n` values from per-subset arrays: part (rows, values) puts values[i] at rows[i]."""
    rows = np.concatenate([p[0] for p in parts])
    return pa.concat_arrays([p[1] for p in parts]).take(pa.array(np.argsort(rows, kind="stable")))


def _established(rng: np.random.Generator, kind: Int) -> Dates:
    """Foundings grow year on year, faster since the Free Trade Port (2018); cooperatives exist since 2007 and rural
    collectives registered their codes in 2017–2021."""
    years = np.arange(1990, 2026)
    growth = np.exp(0.12 * (years - 1990)) * np.where(years >= 2018, 1.6, 1.0) * np.where(years == 2025, 0.5, 1.0)
    weights = np.vstack([growth, growth, growth * (years >= 2007), ((years >= 2017) & (years <= 2021)) * 1.0])
    year = years[_by_group(rng, kind, weights)]
    start, end = _year_starts(year)
    return _random_dates(rng, start, np.minimum(end, REFERENCE_DATE))


def _credit_bodies(rng: np.random.Generator, kind: Int, division: Int, established: Dates) -> npt.NDArray[np.uint8]:
    """The first 16 characters (charset indices): authority, type, division, an organisation code of eight.

    Companies founded before the unified codes (October 2015) keep a numeric organisation code; later ones and all
    others get an ``MA5…`` code (``MF…`` for rural collectives)."""
    n = len(kind)
    body = np.zeros((n, 16), dtype=np.uint8)
    prefixes = np.array([[_INDEX[c] for c in k] for k, _, _ in _ENTITY_KINDS], dtype=np.uint8)
    body[:, :2] = prefixes[kind]
    body[:, 2:8] = _digits(division, 6) - ord("0")
    numeric = (kind == 0) & (established < np.datetime64("2015-10-01"))

    def draw(rows: Int) -> None:
        body[rows, 8:16] = rng.integers(0, len(CREDIT_CHARSET), (len(rows), 8))
        modern = rows[~numeric[rows] & (kind[rows] != 3)]
        body[modern, 8:11] = [_INDEX["M"], _INDEX["A"], _INDEX["5"]]
        collective = rows[kind[rows] == 3]
        body[collective, 8:10] = [_INDEX["M"], _INDEX["F"]]
        old = rows[numeric[rows]]
        body[old, 8] = np.array([2, 5, 6, 7], dtype=np.uint8)[rng.integers(0, 4, len(old))]
        body[old, 9:16] = rng.integers(0, 10, (len(old), 7))

    draw(np.arange(n))
    for _ in range(50):  # organisation codes are unique nationwide
        key = np.zeros(n, dtype=np.int64)
        for i in range(8, 16):
            key = key * 31 + body[:, i]
        repeated = np.flatnonzero(_unique(key))
        if not len(repeated):
            break
        draw(repeated)
    return body


def _enterprise_names(
    rng: np.random.Generator, gaz: Gazetteer, kind: Int, sector: Int, shop: Int, county: Int, town: Int
) -> Any:
    """海南+字号+行业+有限公司 for companies; county, town, 字号 and trade for small businesses and cooperatives."""
    n = len(kind)
    brand_chars = list(names.BRAND_CHARS)
    brand = _join(*(_take(brand_chars, rng.integers(0, len(brand_chars), n)) for _ in range(2)))
    parts: list[tuple[Int, Any]] = []

    rows = np.flatnonzero(kind == 0)
    words = [w for _, _, _, ws in names.INDUSTRIES for w in ws]
    first = np.cumsum([0] + [len(ws) for _, _, _, ws in names.INDUSTRIES])[:-1]
    count = np.array([len(ws) for _, _, _, ws in names.INDUSTRIES])
    word = _take(words, first[sector[rows]] + np.floor(rng.random(len(rows)) * count[sector[rows]]).astype(np.int64))
    units = _take([_unit_name(c) for c in gaz.codes], county[rows])
    style = _choose(rng, [45, 25, 15, 10, 5], len(rows))
    head = pc.if_else(pa.array(style == 1), units, pa.scalar("海南"))
    head = pc.if_else(pa.array(style == 3), brand.take(pa.array(rows)), head)
    middle = pc.if_else(pa.array(style == 3), pa.scalar("（海南）"), brand.take(pa.array(rows)))
    tail = _take(["有限公司", "有限公司", "有限责任公司", "有限公司", "股份有限公司"], style)
    parts.append((rows, _join(head, middle, word, tail)))

    place = _join(_take(gaz.short, county), _take(gaz.town_name, town))
    rows = np.flatnonzero(kind == 1)
    trade = _take([s for s, _ in names.SHOPS], shop[rows])
    parts.append((rows, _join(place.take(pa.array(rows)), brand.take(pa.array(rows)), trade)))

    rows = np.flatnonzero(kind == 2)
    product = rng.integers(0, len(names.COOP_PRODUCTS), len(rows))
    crop = _take([p + v + "专业合作社" for p, v in names.COOP_PRODUCTS], product)
    parts.append((rows, _join(place.take(pa.array(rows)), brand.take(pa.array(rows)), crop)))

    rows = np.flatnonzero(kind == 3)
    t = town[rows]
    village = gaz.village_first[t] + np.floor(rng.random(len(rows)) * gaz.village_count[t]).astype(np.int64)
    parts.append((rows, _join(place.take(pa.array(rows)), _take(gaz.village_name, village), "股份经济合作社")))
    return _scatter(n, parts)


def _enterprises(seed: int, size: Size, n: int) -> list[Column]:
    gaz = gazetteer()

    def rng(part: str) -> np.random.Generator:
        return stream(seed, ENTERPRISES, part)

    where = rng("division")
    city = np.array([2.5 if c.startswith("4601") else 1.5 if c.startswith("4602") else 1.0 for c in gaz.codes])
    county = _choose(where, _county_weights() * city, n)
    town = _towns_in(where, gaz, county)
    kind = _choose(rng("kind"), [share for _, _, share in _ENTITY_KINDS], n)

    sector_rng = rng("sector")
    letters = [letter for letter, _, _, _ in names.INDUSTRIES]
    sector = _choose(sector_rng, [w for _, _, w, _ in names.INDUSTRIES], n)
    shop_sector = np.array([letters.index(letter) for _, letter in names.SHOPS])
    shop = sector_rng.integers(0, len(shop_sector), n)
    sector = np.where(kind == 1, shop_sector[shop], sector)
    sector = np.where(kind >= 2, letters.index("A"), sector)

    established = _established(rng("established"), kind)
    codes = np.array([int(c) for c in gaz.codes], dtype=np.int64)
    district = np.array([c.startswith(("4601", "4602", "4603")) for c in gaz.codes])
    registry = rng("registry")
    division = np.where(district[county] & (registry.random(n) < 0.5), codes[county] // 100 * 100, codes[county])
    division = np.where((kind == 0) & (registry.random(n) < 0.2), 460000, division)
    credit = credit_codes(_credit_bodies(rng("credit"), kind, division, established))

    issues = _issue_rows(rng("quality"), n, QUALITY_ISSUES[ENTERPRISES])
    _break_check(credit, issues["invalid_check_char"], CREDIT_CHARSET.encode(), rng("quality-code"))
    future = issues["out_of_range"]
    established[future] = REFERENCE_DATE + rng("quality-date").integers(30, 3650, len(future)).astype("timedelta64[D]")

    people = rng("representative")
    representative = _person_name_text(*_person_names(people, people.random(n) < 0.7, people.random(n) < 0.75))
    no_representative = np.zeros(n, dtype=np.bool_)
    no_representative[issues["missing_value"]] = True

    money = rng("capital")
    median, sigma = np.array(_CAPITAL_BY_KIND).T
    capital = np.exp(np.log(median[kind]) + sigma[kind] * money.standard_normal(n))
    capital = np.where(
        capital < 10, np.round(capital, 1), np.where(capital < 1000, np.round(capital, -1), np.round(capital, -2))
    )
    capital = np.maximum(capital, 0.5)

    status = _by_group(rng("status"), kind, np.array(_STATUS_BY_KIND))

    place = rng("address")
    addresses = address(place, town)
    office = (kind == 0) & (place.random(n) < 0.4) & gaz.town_is_street[town]
    brand_chars = list(names.BRAND_CHARS)
    building = _join(
        _take(brand_chars, place.integers(0, len(brand_chars), n)),
        _take(brand_chars, place.integers(0, len(brand_chars), n)),
        _take(["大厦", "广场", "中心", "大厦"], place.integers(0, 4, n)),
        _text(place.integers(1, 31, n) * 100 + place.integers(1, 21, n)),
        "室",
    )
    addresses = pc.if_else(pa.array(office), _join(addresses, building), addresses)

    contact = rng("phone")
    mobile = fixed_width_strings(_mobiles(contact, n))
    landline = contact.random(n) < 0.2
    landline[issues["malformed_phone"]] = False
    phones = pc.if_else(pa.array(landline), _landlines(contact, n), mobile)
    phones = _malformed_phones(phones, issues["malformed_phone"], contact)

    order = _duplicate_order(n, issues["duplicate_row"])
    columns = [
        Column("credit_code", fixed_width_strings(credit), "统一社会信用代码（GB 32100）", "credit_code"),
        Column("name", _enterprise_names(rng("name"), gaz, kind, sector, shop, county, town), "市场主体名称"),
        Column("entity_type", _take([label for _, label, _ in _ENTITY_KINDS], kind), "主体类型"),
        Column("legal_representative", _with_nulls(representative, no_representative), "法定代表人（经营者）", "name"),
        Column("industry_code", _take(letters, sector), "国民经济行业门类代码（GB/T 4754-2017）"),
        Column("industry", _take([name for _, name, _, _ in names.INDUSTRIES], sector), "国民经济行业门类"),
        Column("registered_capital", pa.array(capital, pa.float64()), "注册资本（出资额、资金数额），万元"),
        Column("established_on", _dates(established), "成立日期"),
        Column("status", _take(_STATUS, status), "登记状态"),
        Column("division", _take(gaz.codes, county), "所在县级行政区划代码（GB/T 2260）"),
        Column("address", addresses, "住所（经营场所）"),
        Column("phone", phones, "联系电话", "phone"),
    ]
    return [Column(c.name, c.values.take(pa.array(order)), c.description_zh, c.personal_kind) for c in columns]
