"""Statistical series by city and county: the tourism-monthly (旅游接待月度统计) and weather-daily (逐日气象观测)
datasets."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from yiwang.core import divisions
from yiwang.demo import names
from yiwang.demo.datasets.arrays import Dates, Float, _choose, _dates, _take, _with_nulls, _year_month_day, stream
from yiwang.demo.datasets.codes import _issue_rows
from yiwang.demo.datasets.model import QUALITY_ISSUES, Column, Size

# --- tourism-monthly --------------------------------------------------------------------------------------------

TOURISM = "tourism-monthly"
# fmt: off
_TOURISM_MONTHS: dict[Size, tuple[str, int]] = {"small": ("2022-01", 36), "medium": ("2015-01", 120),
                                                 "large": ("2005-01", 240)}
_SPRING_FESTIVAL = (  # 春节 (first day of the lunar year), 2005–2024
    "2005-02-09", "2006-01-29", "2007-02-18", "2008-02-07", "2009-01-26", "2010-02-14", "2011-02-03", "2012-01-23",
    "2013-02-10", "2014-01-31", "2015-02-19", "2016-02-08", "2017-01-28", "2018-02-16", "2019-02-05", "2020-01-25",
    "2021-02-12", "2022-02-01", "2023-01-22", "2024-02-10",
)
_SEASON = (1.15, 1.2, 1.0, 0.85, 0.9, 0.75, 0.95, 0.95, 0.7, 1.0, 0.95, 1.1)  # winter high season, Sep low
_PANDEMIC = {  # (year, month) -> factor on visitors
    (2020, 1): 0.8, (2020, 2): 0.12, (2020, 3): 0.3, (2020, 4): 0.45, (2020, 5): 0.6, (2020, 6): 0.7,
    (2020, 7): 0.85, (2020, 8): 0.9, (2020, 9): 0.85, (2020, 10): 0.9, (2020, 11): 0.9, (2020, 12): 0.9,
    (2021, 8): 0.7, (2022, 3): 0.6, (2022, 4): 0.5, (2022, 5): 0.7, (2022, 8): 0.3, (2022, 9): 0.45,
    (2022, 10): 0.7, (2022, 11): 0.6, (2022, 12): 0.55,
}
# fmt: on


def _tourism(seed: int, size: Size, n: int) -> list[Column]:
    rng = stream(seed, TOURISM, "noise")
    first, count = _TOURISM_MONTHS[size]
    months = np.datetime64(first, "M") + np.arange(count)
    units = tuple(names.UNITS)
    year = months.astype("datetime64[Y]").astype(np.int64) + 1970
    month = months.astype(np.int64) % 12 + 1
    holiday = np.concatenate([np.datetime64(d) - 1 + np.arange(7) for d in _SPRING_FESTIVAL]).astype("datetime64[M]")
    festival = np.array([(holiday == m).sum() / 7 for m in months])
    season = np.array(_SEASON)[month - 1] + 0.35 * festival
    growth = 1.075 ** (np.minimum(year, 2019) - 2019) * np.select([year == 2023, year >= 2024], [1.08, 1.15], 1.0)
    pandemic = np.array(
        [_PANDEMIC.get((int(y), int(m)), 0.9 if y == 2021 else 1.0) for y, m in zip(year, month, strict=True)]
    )
    _, _, _, _, _, annual, stay, spend = (np.array(column) for column in zip(*names.UNITS.values(), strict=True))
    amplitude = np.array([1.4 if u in ("460200", "469028", "469029") else 0.8 if u == "460100" else 1.0 for u in units])
    shape = (len(months), len(units))
    unit_season = 1 + amplitude[None, :] * (season[:, None] - 1)

    def noise(sigma: float) -> Float:
        return np.exp(rng.normal(0.0, sigma, shape))

    visitors = np.round(annual.astype(np.float64) * 1e4 / 12 * unit_season * (growth * pandemic)[:, None] * noise(0.04))
    share = np.minimum(0.85, 0.3 + 0.12 * stay.astype(np.float64))
    overnight = np.round(visitors * share[None, :] * noise(0.03))
    days = np.round(stay.astype(np.float64)[None, :] * (1 + 0.2 * (unit_season - 1)) * noise(0.03), 2)
    revenue = np.round(
        visitors * spend.astype(np.float64)[None, :] * (1 + 0.3 * (unit_season - 1)) * noise(0.05) / 1e4, 2
    )
    unit_index = np.tile(np.arange(len(units)), len(months))
    unit_names = [d.name if (d := divisions.lookup(u)) else u for u in units]
    return [
        Column("month", _dates(np.repeat(months.astype("datetime64[D]"), len(units))), "月份（当月第一天）"),
        Column("division", _take(units, unit_index), "市县行政区划代码（GB/T 2260）"),
        Column("division_name", _take(unit_names, unit_index), "市县名称"),
        Column("visitors", pa.array(visitors.ravel().astype(np.int64)), "接待游客人次"),
        Column("overnight_visitors", pa.array(overnight.ravel().astype(np.int64)), "接待过夜游客人次"),
        Column("revenue_wan_yuan", pa.array(revenue.ravel()), "旅游总收入（万元）"),
        Column("avg_stay_days", pa.array(days.ravel()), "过夜游客人均停留天数"),
    ]


# --- weather-daily ----------------------------------------------------------------------------------------------

WEATHER = "weather-daily"
_WEATHER_YEARS: dict[Size, tuple[int, int]] = {"small": (2023, 1), "medium": (2020, 5), "large": (2005, 20)}
_RAIN_SHARE = (0.02, 0.02, 0.03, 0.05, 0.10, 0.12, 0.12, 0.15, 0.17, 0.13, 0.06, 0.03)  # of the annual rainfall
_TYPHOON_MONTHS = (0, 0, 0, 0, 0.02, 0.1, 0.2, 0.25, 0.28, 0.12, 0.03, 0)
_EAST = ("460100", "460200", "469002", "469005", "469006", "469021", "469022", "469028", "469029", "469030")


def _weather_days(size: Size) -> Dates:
    first, years = _WEATHER_YEARS[size]
    start, end = np.datetime64(f"{first}-01-01"), np.datetime64(f"{first + years}-01-01")
    return np.arange(start, end, dtype="datetime64[D]")


def _weather(seed: int, size: Size, n: int) -> list[Column]:
    def rng(part: str) -> np.random.Generator:
        return stream(seed, WEATHER, part)

    days = _weather_days(size)
    units = tuple(names.UNITS)
    table = list(zip(*names.UNITS.values(), strict=True))
    station = table[0]
    january, july, annual, wind = (np.array(column, dtype=np.float64) for column in table[1:5])
    shape = (len(days), len(units))
    year, month, _ = _year_month_day(days)
    phase = (days - days.astype("datetime64[Y]")).astype(np.float64) / 365.25
    seasonal = np.cos(2 * np.pi * (phase - 0.04))[:, None]
    mean = (january + july)[None, :] / 2 - (july - january)[None, :] / 2 * seasonal

    drift = rng("temperature")
    shared, local = drift.normal(0.0, 0.6, len(days)), drift.normal(0.0, 0.6, shape)
    anomaly = np.zeros(shape)
    for d in range(1, len(days)):  # weather persists from one day to the next
        anomaly[d] = 0.8 * anomaly[d - 1] + shared[d] + 0.5 * local[d]

    wet = rng("rain")
    share = np.array(_RAIN_SHARE)[month - 1][:, None]
    chance = np.clip((0.12 + 0.55 * share / 0.17) * np.sqrt(annual / 1800)[None, :], 0.02, 0.8)
    month_days = np.array([31, 28.25, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])[month - 1][:, None]
    amount = annual[None, :] * share / (month_days * chance)
    raining = wet.random(shape) < chance
    rain = np.where(raining, wet.gamma(0.6, 1.0, shape) * amount / 0.6, 0.0)

    storm = rng("typhoon")
    gust = np.zeros(shape)
    east = np.array([u in _EAST for u in units])
    for y in np.unique(year):
        for _ in range(storm.poisson(2.5)):
            landfall = np.datetime64(f"{y}-{1 + _choose(storm, _TYPHOON_MONTHS, 1)[0]:02d}-01") + storm.integers(0, 28)
            hit = storm.random(len(units)) < np.where(east, 0.75, 0.5)
            for lag, (rain_mean, wind_low, wind_high) in enumerate(((150, 18, 38), (80, 10, 20), (25, 6, 12))):
                d = int((landfall - days[0]).astype(np.int64)) + lag
                if 0 <= d < len(days):
                    rain[d, hit] += storm.gamma(2.0, rain_mean / 2.0, int(hit.sum()))
                    gust[d, hit] = np.maximum(gust[d, hit], storm.uniform(wind_low, wind_high, int(hit.sum())))

    spread = rng("range")
    wet_day = rain > 1.0
    diurnal = 7.5 - 1.5 * (share > 0.08) - 2.5 * wet_day + spread.normal(0.0, 0.8, shape)
    daily = mean + anomaly - 0.8 * wet_day
    temp_max = np.round(daily + np.maximum(diurnal, 2.0) / 2, 1)
    temp_min = np.round(daily - np.maximum(diurnal, 2.0) / 2, 1)
    damp = 78 + 6 * (share > 0.08) - 8 * (np.array(station) == "东方")[None, :] + 10 * wet_day
    humidity = np.clip(np.round(damp + spread.normal(0.0, 4.0, shape)), 40, 100).astype(np.int32)
    humidity = np.where(gust > 0, np.maximum(humidity, 92), humidity)
    monsoon = np.isin(month, (11, 12, 1, 2))[:, None] * 0.3
    breeze = wind[None, :] * (1 + monsoon) * np.exp(spread.normal(0.0, 0.3, shape))
    wind_speed = np.round(np.maximum(breeze, gust), 1)

    outage = np.zeros(n, dtype=np.bool_)
    outage[_issue_rows(rng("quality"), n, QUALITY_ISSUES[WEATHER])["missing_value"]] = True
    unit_index = np.tile(np.arange(len(units)), len(days))
    return [
        Column("date", _dates(np.repeat(days, len(units))), "观测日期"),
        Column("station", _take(station, unit_index), "气象站（市县国家气象观测站）"),
        Column("division", _take(units, unit_index), "市县行政区划代码（GB/T 2260）"),
        Column("temp_max", _with_nulls(pa.array(temp_max.ravel()), outage), "日最高气温（℃）"),
        Column("temp_min", _with_nulls(pa.array(temp_min.ravel()), outage), "日最低气温（℃）"),
        Column("rainfall_mm", pa.array(np.round(rain, 1).ravel()), "日降水量（毫米）"),
        Column("humidity", _with_nulls(pa.array(humidity.ravel()), outage), "日平均相对湿度（%）"),
        Column("wind_speed", pa.array(wind_speed.ravel()), "日最大风速（米/秒）"),
    ]
