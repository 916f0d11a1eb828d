"""Environment and weather records: air-quality-daily (空气质量日报, AQI by HJ 633-2012), surface-water-quality (地表水
水质监测, classes by GB 3838-2002) and typhoon-tracks (台风路径, grades by GB/T 19201-2006)."""

from __future__ import annotations

from functools import cache

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from yiwang.demo.datasets.arrays import Float, Int, _dates, _take, _with_nulls, stream
from yiwang.demo.datasets.model import Column, DatasetSpec, Size
from yiwang.demo.datasets.units import grid, month_column, month_of_year, months, noise, unit_codes, unit_names
from yiwang.demo.names import gazetteer

# --- air-quality-daily 空气质量日报 ------------------------------------------------------------------------------

AIR = "air-quality-daily"
_AIR_DAYS: dict[Size, tuple[str, str]] = {
    "small": ("2025-06-03", "2025-06-30"),
    "medium": ("2024-01-01", "2025-06-30"),
    "large": ("2015-01-01", "2025-06-30"),
}
_IAQI = (0, 50, 100, 150, 200, 300, 400, 500)
#: pollutant, column, unit, breakpoints of the daily concentration (HJ 633-2012, table 1), mean by month, local factor
_POLLUTANTS: tuple[tuple[str, str, tuple[float, ...], tuple[float, ...]], ...] = (
    ("PM2.5", "pm25", (0, 35, 75, 115, 150, 250, 350, 500), (20, 18, 15, 11, 8, 6, 6, 6, 8, 13, 17, 20)),
    ("PM10", "pm10", (0, 50, 150, 250, 350, 420, 500, 600), (36, 33, 29, 24, 18, 14, 14, 15, 18, 26, 31, 35)),
    ("O3", "o3_8h", (0, 100, 160, 215, 265, 800, 800, 800), (95, 100, 95, 85, 70, 55, 50, 55, 78, 112, 115, 105)),
    ("NO2", "no2", (0, 40, 80, 180, 280, 565, 750, 940), (13, 12, 11, 10, 8, 7, 7, 7, 9, 11, 13, 14)),
    ("SO2", "so2", (0, 50, 150, 475, 800, 1600, 2100, 2620), (6, 6, 5, 5, 5, 4, 4, 4, 5, 5, 6, 6)),
    ("CO", "co", (0, 2, 4, 14, 24, 36, 48, 60), (0.7, 0.7, 0.6, 0.6, 0.5, 0.5, 0.5, 0.5, 0.5, 0.6, 0.6, 0.7)),
)
_LEVELS = ("优", "良", "轻度污染", "中度污染", "重度污染", "严重污染")


def _island_units() -> list[int]:
    return [i for i, code in enumerate(unit_codes()) if code != "460300"]


def _air_days(size: Size) -> npt.NDArray[np.datetime64]:
    first, last = _AIR_DAYS[size]
    return np.arange(np.datetime64(first), np.datetime64(last) + 1, dtype="datetime64[D]")


def _air(seed: int, size: Size, n: int) -> list[Column]:
    rng = stream(seed, AIR, "concentration")
    days = _air_days(size)
    units = np.array(_island_units())
    day, unit_index = grid(len(days), len(units))
    unit = units[unit_index]
    month = month_of_year(days.astype("datetime64[M]"))[day]
    shared = rng.normal(0.0, 0.25, len(days))
    regional = np.zeros(len(days))
    for d in range(1, len(days)):  # pollution episodes last a few days across the island
        regional[d] = 0.7 * regional[d - 1] + shared[d]
    busy = np.where(np.isin(np.array(unit_codes())[unit], ("460100", "460400", "469007")), 1.25, 1.0)
    sub_indices = []
    values: dict[str, Float] = {}
    for _, column, breakpoints, monthly in _POLLUTANTS:
        local = rng.normal(0.0, 0.18, n)
        mean = np.array(monthly)[month - 1] * (busy if column != "o3_8h" else 1.0)
        level = mean * np.exp(regional[day] + local - 0.05)
        values[column] = np.round(level, 1) if column == "co" else np.round(level)
        top = np.searchsorted(breakpoints, breakpoints[-1])  # O3 8h has no breakpoint above 800
        sub_indices.append(np.ceil(np.interp(values[column], breakpoints[: top + 1], _IAQI[: top + 1])))
    indices = np.vstack(sub_indices)
    aqi = indices.max(axis=0).astype(np.int64)
    primary = indices.argmax(axis=0)
    level_index = np.searchsorted(np.array([50, 100, 150, 200, 300]), aqi, side="left")
    pollutant_names = [p[0] for p in _POLLUTANTS]
    return [
        Column("date", _dates(days[day]), "日期"),
        Column("division", _take(unit_codes(), unit), "市县行政区划代码（GB/T 2260）"),
        Column("division_name", _take(unit_names(), unit), "市县名称"),
        Column("aqi", pa.array(aqi), "空气质量指数（AQI）"),
        Column("level", _take(_LEVELS, level_index), "空气质量级别"),
        Column(
            "primary_pollutant", _with_nulls(_take(pollutant_names, primary), aqi <= 50), "首要污染物（AQI≤50时无）"
        ),
        Column("pm25", pa.array(values["pm25"].astype(np.int64)), "PM2.5日均浓度（微克/立方米）"),
        Column("pm10", pa.array(values["pm10"].astype(np.int64)), "PM10日均浓度（微克/立方米）"),
        Column("o3_8h", pa.array(values["o3_8h"].astype(np.int64)), "臭氧日最大8小时平均浓度（微克/立方米）"),
        Column("no2", pa.array(values["no2"].astype(np.int64)), "二氧化氮日均浓度（微克/立方米）"),
        Column("so2", pa.array(values["so2"].astype(np.int64)), "二氧化硫日均浓度（微克/立方米）"),
        Column("co", pa.array(values["co"]), "一氧化碳日均浓度（毫克/立方米）"),
    ]


# --- surface-water-quality 地表水水质监测 ------------------------------------------------------------------------

WATER = "surface-water-quality"
_WATER_FIRST: dict[Size, str] = {"small": "2024-07", "medium": "2020-01", "large": "2012-01"}
#: river or reservoir, county-level unit, target class (1–5), a reservoir (湖库)
_SECTIONS: tuple[tuple[str, str, int, bool], ...] = (
    ("南渡江", "469025", 2, False), ("南渡江", "469023", 2, False), ("南渡江", "469021", 2, False),
    ("南渡江", "460107", 3, False), ("昌化江", "469030", 2, False), ("昌化江", "469027", 2, False),
    ("昌化江", "469026", 2, False), ("昌化江", "469007", 3, False), ("万泉河", "469030", 2, False),
    ("万泉河", "469002", 2, False), ("陵水河", "469029", 2, False), ("陵水河", "469028", 3, False),
    ("宁远河", "460205", 3, False), ("三亚河", "460204", 4, False), ("文澜江", "469024", 3, False),
    ("珠碧江", "460400", 3, False), ("太阳河", "469006", 3, False), ("文教河", "469005", 3, False),
    ("松涛水库", "460400", 2, True), ("大广坝水库", "469007", 2, True), ("牛路岭水库", "469002", 2, True),
)  # fmt: skip
_CLASSES = ("Ⅰ类", "Ⅱ类", "Ⅲ类", "Ⅳ类", "Ⅴ类", "劣Ⅴ类")
# Upper limits of classes Ⅰ–Ⅴ (GB 3838-2002 table 1); dissolved oxygen is a lower limit.
_DO = (7.5, 6.0, 5.0, 3.0, 2.0)
_CODMN = (2.0, 4.0, 6.0, 10.0, 15.0)
_NH3N = (0.15, 0.5, 1.0, 1.5, 2.0)
_TP_RIVER = (0.02, 0.1, 0.2, 0.3, 0.4)
_TP_LAKE = (0.01, 0.025, 0.05, 0.1, 0.2)


def _class_of(values: Float, limits: tuple[float, ...], lower: bool = False) -> Int:
    """0 for class Ⅰ … 5 for 劣Ⅴ, by the limits of one indicator."""
    if lower:
        return np.asarray(np.searchsorted(-np.array(limits), -values, side="right"), dtype=np.int64)
    return np.asarray(np.searchsorted(np.array(limits), values, side="left"), dtype=np.int64)


def _section_names() -> list[str]:
    gaz = gazetteer()
    result = []
    for i, (river, code, _, _) in enumerate(_SECTIONS):
        county = gaz.index(code)
        town = gaz.town_name[int(gaz.town_first[county]) + i % int(gaz.town_count[county])]
        stem = town.removesuffix("街道").removesuffix("镇").removesuffix("乡")
        result.append(f"{river}{stem}断面" if not _SECTIONS[i][3] else f"{river}{stem}点位")
    return result


def _water(seed: int, size: Size, n: int) -> list[Column]:
    rng = stream(seed, WATER, "measurement")
    periods = months(_WATER_FIRST[size])
    period, section = grid(len(periods), len(_SECTIONS))
    target = np.array([s[2] for s in _SECTIONS])[section]
    lake = np.array([s[3] for s in _SECTIONS])[section]
    rainy = np.isin(month_of_year(periods[period]), (6, 7, 8, 9, 10))
    runoff = np.where(rainy, 1.3, 1.0)
    oxygen = np.round(np.clip(rng.normal(8.4 - 0.9 * target, 0.5, n) - 0.5 * rainy, 1.5, 10.0), 1)
    codmn = np.round(np.array([0, 1.6, 2.6, 3.8, 6.0])[target] * runoff * noise(rng, n, 0.25), 1)
    ammonia = np.round(np.array([0, 0.08, 0.2, 0.45, 0.9])[target] * noise(rng, n, 0.45), 3)
    phosphorus = np.round(
        np.where(lake, 0.018, np.array([0, 0.03, 0.06, 0.12, 0.22])[target]) * runoff * noise(rng, n, 0.35), 3
    )
    water_class = np.maximum.reduce(
        [
            _class_of(oxygen, _DO, lower=True),
            _class_of(codmn, _CODMN),
            _class_of(ammonia, _NH3N),
            np.where(lake, _class_of(phosphorus, _TP_LAKE), _class_of(phosphorus, _TP_RIVER)),
        ]
    )
    names = _section_names()
    return [
        Column("month", month_column(periods[period]), "监测月份（当月第一天）"),
        Column("section_id", pc.utf8_lpad(pa.array((section + 1).astype(str)), 3, "0"), "断面（点位）编号"),
        Column("section", _take(names, section), "断面（点位）名称"),
        Column("water_body", _take([s[0] for s in _SECTIONS], section), "河流（湖库）"),
        Column("division", _take([s[1] for s in _SECTIONS], section), "所在县级行政区划代码（GB/T 2260）"),
        Column("dissolved_oxygen", pa.array(oxygen), "溶解氧（毫克/升）"),
        Column("permanganate_index", pa.array(codmn), "高锰酸盐指数（毫克/升）"),
        Column("ammonia_nitrogen", pa.array(ammonia), "氨氮（毫克/升）"),
        Column("total_phosphorus", pa.array(phosphorus), "总磷（毫克/升）"),
        Column("water_class", _take(_CLASSES, water_class), "水质类别（GB 3838-2002）"),
        Column("target_class", _take(_CLASSES, target - 1), "水质目标"),
        Column("meets_target", pa.array(water_class <= target - 1), "是否达到水质目标"),
    ]


# --- typhoon-tracks 台风路径 -------------------------------------------------------------------------------------

TYPHOONS = "typhoon-tracks"
_TYPHOON_YEARS: dict[Size, tuple[int, int]] = {"small": (2023, 2), "medium": (2015, 10), "large": (1995, 30)}
_STORMS_PER_YEAR = 5
_NAMES = (
    "海葵", "玉兔", "山神", "悟空", "海马", "杨柳", "木兰", "白鹿", "海鸥", "电母", "风神", "海神", "杜鹃", "银杏",
    "珊瑚", "彩云", "米雷", "鲸鱼", "蝴蝶", "红霞", "榕树", "凤凰", "天鹅", "灿鸿", "海燕", "玲玲", "桃芝", "海贝",
)  # fmt: skip
_GRADES = ("热带低压", "热带风暴", "强热带风暴", "台风", "强台风", "超强台风")
_GRADE_WINDS = (17.2, 24.5, 32.7, 41.5, 51.0)  # m/s: lower bounds of the grades after 热带低压


@cache
def _track_lengths(size: Size) -> Int:
    """Points per track (every 6 h) for each storm: fixed by size, not by seed, so row counts are known ahead."""
    first, years = _TYPHOON_YEARS[size]
    fixed = np.random.Generator(np.random.PCG64(19201))
    return np.asarray(fixed.integers(16, 33, (years, _STORMS_PER_YEAR)).ravel(), dtype=np.int64)


def _typhoons(seed: int, size: Size, n: int) -> list[Column]:
    rng = stream(seed, TYPHOONS, "track")
    first, years = _TYPHOON_YEARS[size]
    lengths = _track_lengths(size)
    storm = np.repeat(np.arange(len(lengths)), lengths)
    step = np.arange(n) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    progress = step / (lengths[storm] - 1)
    year = first + storm // _STORMS_PER_YEAR
    count = len(lengths)
    season = np.array([0.02, 0.12, 0.22, 0.24, 0.22, 0.14, 0.04])  # May–November
    start_month = 5 + rng.choice(len(season), size=count, p=season / season.sum())
    start_day = rng.integers(0, 28, count)
    order = np.lexsort((start_day, start_month, np.arange(count) // _STORMS_PER_YEAR))
    start = np.empty(count, dtype="datetime64[h]")
    for i in order:
        start[i] = np.datetime64(f"{first + i // _STORMS_PER_YEAR}-{start_month[i]:02d}-01T02") + np.timedelta64(
            int(start_day[i]) * 24, "h"
        )
    numbers = np.zeros(count, dtype=np.int64)
    for y in range(years):  # numbered in order of genesis within the year, with other storms in between
        members = [i for i in order if i // _STORMS_PER_YEAR == y]
        numbers[members] = np.sort(rng.choice(np.arange(1, 28), size=len(members), replace=False))
    speed_lon = rng.uniform(0.8, 1.3, count)  # degrees west per 6 h
    speed_lat = rng.uniform(0.05, 0.35, count)
    landfall = rng.uniform(0.72, 0.88, count)  # share of the track before it reaches Hainan (about 110° E)
    target_lat = rng.uniform(18.0, 21.0, count)
    lon = 110.0 + (landfall[storm] - progress) * (lengths[storm] - 1) * speed_lon[storm]
    lat = target_lat[storm] - (landfall[storm] - progress) * (lengths[storm] - 1) * speed_lat[storm]
    lon += np.cumsum(rng.normal(0.0, 0.08, n)) * 0.3
    lat += np.cumsum(rng.normal(0.0, 0.06, n)) * 0.3
    depth = rng.uniform(15, 75, count)  # hPa below 1005 at the strongest
    peak = landfall - rng.uniform(0.02, 0.15, count)
    shape = np.where(
        progress <= peak[storm],
        progress / peak[storm],
        np.maximum(0.0, 1 - (progress - peak[storm]) / np.maximum(1 - peak[storm], 0.05) * 1.6),
    )
    pressure = np.round(1005 - depth[storm] * np.sin(shape * np.pi / 2) ** 1.5).astype(np.int64)
    # Atkinson–Holliday wind–pressure relation, in m/s
    wind = np.maximum(np.round(3.4 * np.maximum(1010 - pressure, 1) ** 0.644), 12).astype(np.int64)
    grade = np.searchsorted(np.array(_GRADE_WINDS), wind, side="right")
    observed = start[storm] + (step * 6).astype("timedelta64[h]")
    moved = np.hypot(np.diff(lon, prepend=lon[0]) * 105.0, np.diff(lat, prepend=lat[0]) * 111.0) / 6
    moved = np.where(step == 0, np.nan, moved)
    name_index = rng.choice(len(_NAMES), size=count, replace=False) if count <= len(_NAMES) else np.arange(count)
    ids = np.char.add(np.char.zfill((year % 100).astype(str), 2), np.char.zfill(numbers[storm].astype(str), 2))
    return [
        Column("typhoon_id", pa.array(ids.tolist()), "台风编号（年份后两位+当年序号）"),
        Column("name", _take(_NAMES, name_index[storm] % len(_NAMES)), "台风名称"),
        Column("observed_at", pa.array(observed.astype("datetime64[ms]"), pa.timestamp("ms")), "观测时间（北京时间）"),
        Column("longitude", pa.array(np.round(lon, 1)), "中心经度（度）"),
        Column("latitude", pa.array(np.round(lat, 1)), "中心纬度（度）"),
        Column("pressure_hpa", pa.array(pressure), "中心气压（百帕）"),
        Column("max_wind_ms", pa.array(wind), "近中心最大风速（米/秒）"),
        Column("grade", _take(_GRADES, grade), "强度等级（GB/T 19201-2006）"),
        Column(
            "move_speed_kmh", _with_nulls(pa.array(np.round(np.nan_to_num(moved), 0)), step == 0), "移动速度（千米/时）"
        ),
    ]


SPECS: tuple[DatasetSpec, ...] = (
    DatasetSpec(
        AIR,
        "空气质量日报（按市县）",
        "Daily air quality by city and county",
        "各市县环境空气质量日报：空气质量指数（AQI）、级别、首要污染物及PM2.5、PM10、臭氧、二氧化氮、二氧化硫、一氧化碳浓度。",
        "海南省生态环境厅",
        {size: len(_air_days(size)) * len(_island_units()) for size in _AIR_DAYS},
        _air,
        period="date",
        cutoffs=("2025-06-16",),
    ),
    DatasetSpec(
        WATER,
        "地表水水质监测月报",
        "Surface water quality, monthly",
        "主要河流和湖库国控、省控断面每月水质监测：溶解氧、高锰酸盐指数、氨氮、总磷，水质类别和是否达到水质目标。",
        "海南省生态环境厅",
        {size: len(months(first)) * len(_SECTIONS) for size, first in _WATER_FIRST.items()},
        _water,
        period="month",
    ),
    DatasetSpec(
        TYPHOONS,
        "影响海南的台风路径记录",
        "Tracks of typhoons affecting Hainan",
        "影响海南岛的热带气旋每6小时路径：编号、名称、中心位置、中心气压、近中心最大风速、强度等级和移动速度。合成数据，编号和名称不对应真实台风。",
        "海南省气象局",
        {size: int(_track_lengths(size).sum()) for size in _TYPHOON_YEARS},
        _typhoons,
        period="observed_at",
    ),
)
