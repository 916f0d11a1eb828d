"""Directories 名录 of public places and institutions, on the gazetteer's map: schools, medical institutions, elderly
care, A-level scenic spots, star-rated hotels, geological hazard sites, bus routes and stops. Institutions only:
phones are the institutions' landlines, never a person's."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache

import numpy as np
import pyarrow as pa

from yiwang.demo import names
from yiwang.demo.datasets.arrays import Float, Int, _choose, _dates, _random_dates, _take, _with_nulls, stream
from yiwang.demo.datasets.model import Column, DatasetSpec, Size
from yiwang.demo.datasets.places import _island, _near
from yiwang.demo.datasets.units import Sites, county_short, county_weights, sites, sized
from yiwang.demo.names import gazetteer


def _stem(name: str) -> str:
    """A town or village without its 镇/乡/街道/村/社区 suffix (龙湾镇 → 龙湾)."""
    for suffix in ("街道", "社区", "镇", "乡", "村"):
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


@cache
def _town_stems() -> tuple[str, ...]:
    return tuple(_stem(t) for t in gazetteer().town_name)


def _villages(rng: np.random.Generator, town: Int) -> Int:
    gaz = gazetteer()
    return np.asarray(gaz.village_first[town] + np.floor(rng.random(len(town)) * gaz.village_count[town]), np.int64)


def _brands(rng: np.random.Generator, n: int) -> list[str]:
    chars = names.BRAND_CHARS
    return [chars[a] + chars[b] for a, b in rng.integers(0, len(chars), (n, 2))]


def _unique(values: Sequence[str]) -> pa.Array:
    """Names made unique the way registers do it: a second 龙湾卫生室 becomes 龙湾卫生室（二）."""
    seen: dict[str, int] = {}
    numerals = "一二三四五六七八九十"
    result = []
    for value in values:
        count = seen.get(value, 0) + 1
        seen[value] = count
        result.append(value if count == 1 else f"{value}（{numerals[count - 1] if count <= 10 else count}）")
    return pa.array(result, pa.string())


Namer = Callable[[dict[str, str]], str]


def _name_rows(rng: np.random.Generator, place: Sites, kind: Int, patterns: Sequence[str]) -> pa.Array:
    """Row names from `patterns[kind]` with {county} {town} {village} {brand} {place} filled in."""
    gaz = gazetteer()
    short = county_short(place.county).to_pylist()
    village = _villages(rng, place.town)
    brand = _brands(rng, len(kind))
    chars = names.PLACE_CHARS
    invented = [chars[a] + chars[b] for a, b in rng.integers(0, len(chars), (len(kind), 2))]
    stems = _town_stems()
    rows = [
        patterns[k].format(
            county=short[i],
            town=stems[place.town[i]],
            village=_stem(gaz.village_name[village[i]]),
            brand=brand[i],
            place=invented[i],
        )
        for i, k in enumerate(kind)
    ]
    return _unique(rows)


def _by_kind(
    rng: np.random.Generator, shares: Sequence[float], place: Sites, street_only: Sequence[bool | None]
) -> Int:
    """A kind for each site; a kind found only in streets (社区卫生服务中心) or townships (卫生院) follows the town."""
    kind = _choose(rng, shares, len(place.town))
    street = gazetteer().town_is_street[place.town]
    for k, needs_street in enumerate(street_only):  # a moved row is checked again under its new kind
        wrong = (kind == k) & (street != needs_street) if needs_street is not None else np.zeros(len(kind), bool)
        kind[wrong] = k + 1 if k + 1 < len(shares) else k - 1
    return kind


def _lognormal(rng: np.random.Generator, median: Float, sigma: float) -> Float:
    return np.asarray(median * np.exp(rng.normal(0.0, sigma, len(median))), dtype=np.float64)


# --- schools 学校名录 -------------------------------------------------------------------------------------------

SCHOOLS = "schools"
#: stage, share, name pattern, median students, students per teacher, share public
_STAGES = (
    ("幼儿园", 0.45, "{county}{town}{brand}幼儿园", 180, 12.0, 0.45),
    ("小学", 0.35, "{town}{village}小学", 450, 17.0, 0.92),
    ("初级中学", 0.07, "{county}{town}中学", 1100, 13.0, 0.9),
    ("九年一贯制学校", 0.04, "{county}{town}学校", 900, 14.0, 0.85),
    ("高级中学", 0.06, "{county}{place}中学", 2000, 12.5, 0.8),
    ("中等职业学校", 0.03, "{county}{brand}职业技术学校", 1500, 20.0, 0.6),
)


def _schools(seed: int, size: Size, n: int) -> list[Column]:
    place = sites(seed, SCHOOLS, n)
    rng = stream(seed, SCHOOLS, "kind")
    kind = _choose(rng, [s[1] for s in _STAGES], n)
    public = rng.random(n) < np.array([s[5] for s in _STAGES])[kind]
    students = np.round(_lognormal(rng, np.array([s[3] for s in _STAGES], dtype=np.float64)[kind], 0.45))
    teachers = np.maximum(np.round(students / np.array([s[4] for s in _STAGES])[kind] * rng.normal(1, 0.1, n)), 3)
    order = rng.permutation(n)
    return [
        Column("school_code", pa.array([f"2146{i + 1:06d}" for i in order]), "学校标识码"),
        Column("name", _name_rows(rng, place, kind, [s[2] for s in _STAGES]), "学校名称"),
        Column("stage", _take([s[0] for s in _STAGES], kind), "办学类型"),
        Column("ownership", _take(["民办", "公办"], public.astype(np.int64)), "办学性质"),
        *place.columns(),
        Column("students", pa.array(students.astype(np.int64)), "在校生数（人）"),
        Column("teachers", pa.array(teachers.astype(np.int64)), "专任教师数（人）"),
    ]


# --- medical-institutions 医疗机构名录 ---------------------------------------------------------------------------

MEDICAL = "medical-institutions"
#: category, share, name pattern, median beds (0: none), share public, street only (None: anywhere)
_MEDICAL: tuple[tuple[str, float, str, int, float, bool | None], ...] = (
    ("综合医院", 0.04, "{county}{brand}医院", 320, 0.5, None),
    ("中医医院", 0.015, "{county}{brand}中医医院", 150, 0.6, None),
    ("专科医院", 0.02, "海南{brand}专科医院", 80, 0.2, None),
    ("妇幼保健院", 0.01, "{county}{town}妇幼保健院", 90, 1.0, None),
    ("社区卫生服务中心", 0.04, "{county}{town}社区卫生服务中心", 20, 1.0, True),
    ("乡镇卫生院", 0.08, "{county}{town}卫生院", 30, 1.0, False),
    ("门诊部", 0.05, "{county}{brand}门诊部", 0, 0.1, None),
    ("诊所", 0.25, "{county}{town}{brand}诊所", 0, 0.0, None),
    ("村卫生室", 0.495, "{town}{village}卫生室", 0, 1.0, False),
)
_HOSPITAL_GRADES = ("三级甲等", "三级乙等", "二级甲等", "二级乙等", "一级", "未定级")


def _medical(seed: int, size: Size, n: int) -> list[Column]:
    place = sites(seed, MEDICAL, n)
    rng = stream(seed, MEDICAL, "kind")
    kind = _by_kind(rng, [m[1] for m in _MEDICAL], place, [m[5] for m in _MEDICAL])
    beds_median = np.array([m[3] for m in _MEDICAL], dtype=np.float64)[kind]
    beds = np.where(beds_median > 0, np.round(_lognormal(rng, np.maximum(beds_median, 1), 0.6)), 0).astype(np.int64)
    public = rng.random(n) < np.array([m[4] for m in _MEDICAL])[kind]
    hospital = kind <= 3
    grade = np.select(
        [
            hospital & (beds >= 800),
            hospital & (beds >= 500),
            hospital & (beds >= 150),
            hospital & (beds >= 80),
            kind <= 5,
        ],
        [0, 1, 2, 3, 4],
        5,
    )
    gaz = gazetteer()
    codes = [f"{gaz.codes[c]}{i + 1:05d}" for i, c in enumerate(place.county)]
    return [
        Column("institution_code", pa.array(codes), "医疗机构登记号"),
        Column("name", _name_rows(rng, place, kind, [m[2] for m in _MEDICAL]), "医疗机构名称"),
        Column("category", _take([m[0] for m in _MEDICAL], kind), "机构类别"),
        Column("grade", _take(_HOSPITAL_GRADES, grade), "医院等级"),
        Column("ownership", _take(["民营", "公立"], public.astype(np.int64)), "经营性质"),
        *place.columns(),
        Column("beds", pa.array(beds), "编制床位（张）"),
    ]


# --- elderly-care-institutions 养老机构名录 ----------------------------------------------------------------------

ELDERLY = "elderly-care-institutions"
_ELDERLY: tuple[tuple[str, float, str, int, float, bool | None], ...] = (
    ("特困人员供养服务设施（敬老院）", 0.45, "{county}{town}敬老院", 40, 1.0, False),
    ("社会福利院", 0.05, "{county}{town}社会福利中心", 200, 1.0, None),
    ("民办养老机构", 0.35, "{county}{brand}养老院", 90, 0.0, None),
    ("医养结合机构", 0.15, "海南{brand}康养中心", 150, 0.3, None),
)
_STARS = ("未评定", "一星级", "二星级", "三星级", "四星级", "五星级")


def _elderly(seed: int, size: Size, n: int) -> list[Column]:
    place = sites(seed, ELDERLY, n)
    rng = stream(seed, ELDERLY, "kind")
    kind = _by_kind(rng, [e[1] for e in _ELDERLY], place, [e[5] for e in _ELDERLY])
    beds = np.round(_lognormal(rng, np.array([e[3] for e in _ELDERLY], dtype=np.float64)[kind], 0.5)).astype(np.int64)
    occupied = np.round(beds * np.clip(rng.normal(0.55, 0.15, n), 0.1, 1.0)).astype(np.int64)
    public = rng.random(n) < np.array([e[4] for e in _ELDERLY])[kind]
    star = _choose(rng, [0.55, 0.1, 0.15, 0.12, 0.06, 0.02], n)
    return [
        Column("name", _name_rows(rng, place, kind, [e[2] for e in _ELDERLY]), "养老机构名称"),
        Column("type", _take([e[0] for e in _ELDERLY], kind), "机构类型"),
        Column("ownership", _take(["民办", "公办"], public.astype(np.int64)), "举办性质"),
        *place.columns(),
        Column("beds", pa.array(beds), "床位数（张）"),
        Column("residents", pa.array(occupied), "在住老人数（人）"),
        Column("star_rating", _take(_STARS, star), "等级评定"),
    ]


# --- scenic-spots A级旅游景区名录 --------------------------------------------------------------------------------

SCENIC = "scenic-spots"
_SCENIC_KINDS = (
    "{place}湾旅游区", "{place}热带雨林旅游区", "{place}文化旅游区", "{place}温泉度假区", "{place}黎苗文化旅游区",
    "{place}国家湿地公园", "{place}森林公园", "{place}红色文化旅游区", "{place}热带植物园", "{place}共享农庄",
    "{town}古镇", "{place}海洋公园",
)  # fmt: skip
_A_LEVELS = (("5A", 0.06, 220.0), ("4A", 0.3, 110.0), ("3A", 0.45, 50.0), ("2A", 0.15, 20.0), ("A", 0.04, 10.0))
_TOURIST = {"460200": 4.0, "469028": 2.5, "469029": 2.5, "469006": 2.0, "469002": 2.0, "460100": 1.5}


def _scenic(seed: int, size: Size, n: int) -> list[Column]:
    place = sites(seed, SCENIC, n, county_weights(_TOURIST), spread=0.05)
    rng = stream(seed, SCENIC, "kind")
    kind = rng.integers(0, len(_SCENIC_KINDS), n)
    level = _choose(rng, [a[1] for a in _A_LEVELS], n)
    price = np.round(_lognormal(rng, np.array([a[2] for a in _A_LEVELS])[level], 0.3), -1)
    price = np.where((level >= 2) & (rng.random(n) < 0.35), 0.0, price)  # many small spots are free
    rated = _random_dates(rng, np.full(n, np.datetime64("2001-01-01")), np.full(n, np.datetime64("2025-06-30"))).astype(
        "datetime64[Y]"
    )
    hours = ("08:00-18:00", "08:30-17:30", "09:00-18:00", "全天开放")
    return [
        Column("name", _name_rows(rng, place, kind, [f"{{county}}{k}" for k in _SCENIC_KINDS]), "景区名称"),
        Column("a_level", _take([a[0] for a in _A_LEVELS], level), "质量等级（A级）"),
        *place.columns(),
        Column("ticket_price_yuan", pa.array(price), "门票价格（元；0 为免费）"),
        Column("opening_hours", _take(hours, rng.integers(0, len(hours), n)), "开放时间"),
        Column("rated_year", pa.array(rated.astype(np.int64) + 1970), "评定年份"),
    ]


# --- star-rated-hotels 星级饭店名录 ------------------------------------------------------------------------------

HOTELS = "star-rated-hotels"
_HOTEL_KINDS = ("{county}{brand}大酒店", "海南{brand}国际酒店", "{county}{place}湾度假酒店", "{county}{brand}海景酒店",
                "{county}{place}温泉酒店", "{county}{brand}宾馆")  # fmt: skip
_HOTEL_STARS = (("五星级", 0.25, 380.0), ("四星级", 0.35, 220.0), ("三星级", 0.3, 120.0), ("二星级", 0.1, 60.0))


def _hotels(seed: int, size: Size, n: int) -> list[Column]:
    place = sites(seed, HOTELS, n, county_weights({"460200": 5.0, "460100": 2.0, "469028": 2.0, "469006": 1.5}))
    rng = stream(seed, HOTELS, "kind")
    kind = rng.integers(0, len(_HOTEL_KINDS), n)
    star = _choose(rng, [h[1] for h in _HOTEL_STARS], n)
    rooms = np.round(_lognormal(rng, np.array([h[2] for h in _HOTEL_STARS])[star], 0.35)).astype(np.int64)
    rated = _random_dates(rng, np.full(n, np.datetime64("2005-01-01")), np.full(n, np.datetime64("2025-06-30")))
    return [
        Column("name", _name_rows(rng, place, kind, _HOTEL_KINDS), "饭店名称"),
        Column("star", _take([h[0] for h in _HOTEL_STARS], star), "星级"),
        *place.columns(),
        Column("rooms", pa.array(rooms), "客房数（间）"),
        Column("rated_on", _dates(rated), "评定日期"),
    ]


# --- geohazard-sites 地质灾害隐患点 ------------------------------------------------------------------------------

GEOHAZARDS = "geohazard-sites"
_HAZARDS = (("滑坡", 0.55), ("崩塌", 0.3), ("泥石流", 0.1), ("地面塌陷", 0.05))
_MOUNTAINS = {"469001": 6.0, "469030": 5.0, "469025": 5.0, "469029": 4.0, "469027": 3.0, "469026": 3.0,
              "469028": 2.0, "469006": 2.0, "469007": 2.0, "460200": 1.5, "460100": 0.2}  # fmt: skip
_MEASURES = ("群测群防", "专业监测", "工程治理", "搬迁避让")
_DANGER = ("小型", "中型", "大型", "特大型")  # by people threatened: < 100, < 500, < 1000, more


def _geohazards(seed: int, size: Size, n: int) -> list[Column]:
    place = sites(seed, GEOHAZARDS, n, county_weights(_MOUNTAINS), spread=0.06)
    rng = stream(seed, GEOHAZARDS, "kind")
    kind = _choose(rng, [h[1] for h in _HAZARDS], n)
    scale = _choose(rng, [0.85, 0.13, 0.02], n)
    people = np.round(_lognormal(rng, np.array([25.0, 120.0, 400.0])[scale], 0.8)).astype(np.int64)
    danger = np.searchsorted(np.array([100, 500, 1000]), people, side="right")
    gaz = gazetteer()
    ids = [f"{gaz.codes[c]}GH{i + 1:04d}" for i, c in enumerate(place.county)]
    columns = [c for c in place.columns() if c.name != "phone"]
    return [
        Column("site_id", pa.array(ids), "隐患点编号"),
        Column("name", _name_rows(rng, place, kind, [f"{{town}}{{village}}{h}" for h, _ in _HAZARDS]), "隐患点名称"),
        Column("hazard_type", _take([h for h, _ in _HAZARDS], kind), "灾害类型"),
        Column("scale", _take(("小型", "中型", "大型"), scale), "规模等级"),
        *columns,
        Column("threatened_people", pa.array(people), "威胁人数（人）"),
        Column(
            "threatened_property_wan_yuan", pa.array(np.round(people * rng.uniform(3, 8, n), 1)), "威胁财产（万元）"
        ),
        Column("danger_level", _take(_DANGER, danger), "险情等级"),
        Column("measure", _take(_MEASURES, _choose(rng, [0.6, 0.25, 0.1, 0.05], n)), "防治措施"),
    ]


# --- bus-routes-stops 公交线路与站点 -----------------------------------------------------------------------------

BUS = "bus-routes-stops"
#: city, county-level codes of its districts, operator, routes per size
_BUS_CITIES: tuple[tuple[str, tuple[str, ...], str, dict[Size, int]], ...] = (
    ("海口市", ("460105", "460106", "460107", "460108"), "海口市公共交通集团有限公司", sized(6, 60, 180)),
    ("三亚市", ("460202", "460203", "460204", "460205"), "三亚市公共交通集团有限公司", sized(3, 30, 70)),
)
_STOP_SUFFIXES = ("", "口", "东", "西", "南", "北", "中段", "路口")


@cache
def _stops_per_route(size: Size) -> Int:
    """Stops on each route (one direction), fixed by size, not by seed: row counts are known ahead."""
    routes = sum(city[3][size] for city in _BUS_CITIES)
    return np.asarray(np.random.Generator(np.random.PCG64(2260)).integers(10, 26, routes), dtype=np.int64)


def _bus(seed: int, size: Size, n: int) -> list[Column]:
    gaz = gazetteer()
    rng = stream(seed, BUS, "route")
    counts = _stops_per_route(size)
    city_of_route = np.concatenate([np.full(c[3][size], i) for i, c in enumerate(_BUS_CITIES)])
    numbers = np.concatenate([np.sort(rng.choice(np.arange(1, 400), c[3][size], replace=False)) for c in _BUS_CITIES])
    route_rows: list[dict[str, object]] = []
    for r, stops in enumerate(counts):
        city = _BUS_CITIES[city_of_route[r]]
        county = gaz.index(city[1][rng.integers(0, len(city[1]))])
        roads = gaz.road_name[gaz.road_first[county] : gaz.road_first[county] + gaz.road_count[county]]
        town = int(gaz.town_first[county] + rng.integers(0, gaz.town_count[county]))
        heading = rng.uniform(0, 2 * np.pi)
        turns = heading + np.cumsum(rng.normal(0.0, 0.35, stops))
        hop = rng.uniform(0.004, 0.008, stops)
        lon = gaz.town_lon[town] + np.cumsum(np.cos(turns) * hop)
        lat = gaz.town_lat[town] + np.cumsum(np.sin(turns) * hop * 0.9)
        lon, lat = names.clip_to_island(
            lon, lat, np.full(stops, gaz.town_lon[town]), np.full(stops, gaz.town_lat[town])
        )
        picks = rng.choice(len(roads), size=min(stops, len(roads)), replace=False)
        stop_names = [roads[p] + _STOP_SUFFIXES[int(rng.integers(0, len(_STOP_SUFFIXES)))] for p in picks]
        stop_names += [f"{_town_stems()[town]}站{k}" for k in range(stops - len(stop_names))]
        first = f"0{6 + int(rng.integers(0, 2))}:{int(rng.integers(0, 4)) * 15:02d}"
        last = f"{21 + int(rng.integers(0, 3))}:{int(rng.integers(0, 4)) * 15:02d}"
        fare = 1.0 if rng.random() < 0.6 else 2.0
        for direction, order in (("上行", range(stops)), ("下行", range(stops - 1, -1, -1))):
            for sequence, s in enumerate(order, start=1):
                route_rows.append(
                    {
                        "route": f"{numbers[r]}路",
                        "city": city[0],
                        "direction": direction,
                        "stop_sequence": sequence,
                        "stop_name": stop_names[s],
                        "longitude": round(float(lon[s]), 6),
                        "latitude": round(float(lat[s]), 6),
                        "first_bus": first,
                        "last_bus": last,
                        "fare_yuan": fare,
                        "operator": city[2],
                    }
                )
    described = {
        "route": "线路名称",
        "city": "所在城市",
        "direction": "方向（上行、下行）",
        "stop_sequence": "站序",
        "stop_name": "站点名称",
        "longitude": "站点经度（CGCS2000，度）",
        "latitude": "站点纬度（CGCS2000，度）",
        "first_bus": "首班时间",
        "last_bus": "末班时间",
        "fare_yuan": "票价（元）",
        "operator": "运营单位",
    }
    types = {
        "stop_sequence": pa.int32(),
        "longitude": pa.float64(),
        "latitude": pa.float64(),
        "fare_yuan": pa.float64(),
    }
    return [
        Column(key, pa.array([row[key] for row in route_rows], types.get(key, pa.string())), text)
        for key, text in described.items()
    ]


SPECS: tuple[DatasetSpec, ...] = (
    DatasetSpec(
        SCHOOLS,
        "学校名录",
        "Schools and kindergartens",
        "全省幼儿园、小学、初级中学、九年一贯制学校、高级中学和中等职业学校：学校标识码、名称、办学性质、地址、位置、联系电话、在校生数和专任教师数。",
        "海南省教育厅",
        sized(250, 4_000, 8_000),
        _schools,
    ),
    DatasetSpec(
        MEDICAL,
        "医疗机构名录",
        "Medical institutions",
        "医院、社区卫生服务中心、乡镇卫生院、门诊部、诊所和村卫生室：机构名称、类别、医院等级、经营性质、地址、位置、联系电话和床位数。",
        "海南省卫生健康委员会",
        sized(250, 6_000, 20_000),
        _medical,
    ),
    DatasetSpec(
        ELDERLY,
        "养老机构名录",
        "Elderly care institutions",
        "敬老院、社会福利院、民办养老机构和医养结合机构：名称、类型、举办性质、地址、联系电话、床位数、在住老人数和等级评定。",
        "海南省民政厅",
        sized(150, 600, 1_500),
        _elderly,
    ),
    DatasetSpec(
        SCENIC,
        "A级旅游景区名录",
        "A-level scenic spots",
        "全省5A、4A、3A等A级旅游景区：景区名称、等级、所在市县、地址、位置、咨询电话、门票价格、开放时间和评定年份。",
        "海南省旅游和文化广电体育厅",
        sized(120, 400, 800),
        _scenic,
    ),
    DatasetSpec(
        HOTELS,
        "星级饭店名录",
        "Star-rated hotels",
        "全省五星级、四星级、三星级和二星级旅游饭店：饭店名称、星级、地址、位置、联系电话、客房数和评定日期。",
        "海南省旅游和文化广电体育厅",
        sized(100, 300, 600),
        _hotels,
    ),
    DatasetSpec(
        GEOHAZARDS,
        "地质灾害隐患点",
        "Geological hazard sites",
        "滑坡、崩塌、泥石流和地面塌陷隐患点：编号、名称、类型、规模、位置、威胁人数和财产、险情等级和防治措施。",
        "海南省自然资源和规划厅",
        sized(200, 600, 1_500),
        _geohazards,
    ),
    DatasetSpec(
        BUS,
        "公交线路与站点",
        "Bus routes and stops",
        "海口市、三亚市公交线路的上行、下行站点：线路名称、站序、站点名称、位置、首末班时间、票价和运营单位。",
        "海南省交通运输厅",
        {size: int(_stops_per_route(size).sum()) * 2 for size in ("small", "medium", "large")},
        _bus,
    ),
)

__all__ = ["SPECS", "Float", "_island", "_near", "_with_nulls"]
