"""Statistics by unit and period (统计数据): social insurance, vehicles, population, births, property registration,
notifiable diseases, tax revenue, the 12345 hotline, port throughput and the budget. Aggregates only: no person."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from yiwang.core import divisions
from yiwang.demo import names
from yiwang.demo.datasets.arrays import Float, Int, _dates, _take, _with_nulls, stream
from yiwang.demo.datasets.model import Column, DatasetSpec, Size
from yiwang.demo.datasets.units import (
    grid,
    month_column,
    month_of_year,
    months,
    noise,
    unit_codes,
    unit_columns,
    unit_population,
    year_of,
)

_UNITS = 19
_CITY = np.array([code in ("460100", "460200") for code in unit_codes()])
_DANZHOU = np.array([code == "460400" for code in unit_codes()])
_SANSHA = np.array([code == "460300" for code in unit_codes()])


def _ints(values: Float) -> pa.Array:
    return pa.array(np.round(values).astype(np.int64))


def _month_rows(first: dict[Size, str], size: Size, *dims: int) -> tuple[np.ndarray, tuple[Int, ...]]:
    """The months of `size` and the row indices of months × `dims`."""
    periods = months(first[size])
    return periods, grid(len(periods), *dims)


# --- social-insurance-stats 社会保险参保统计 ---------------------------------------------------------------------

INSURANCE = "social-insurance-stats"
_INSURANCE_FIRST: dict[Size, str] = {"small": "2024-01", "medium": "2018-01", "large": "2010-01"}


def _insurance(seed: int, size: Size, n: int) -> list[Column]:
    rng = stream(seed, INSURANCE, "noise")
    periods, (period, unit) = _month_rows(_INSURANCE_FIRST, size, _UNITS)
    people = unit_population()[unit] * 1e4
    age = (len(periods) - 1 - period).astype(np.float64)  # months before the last one
    employee_rate = np.select([_CITY, _DANZHOU, _SANSHA], [0.42, 0.25, 0.9], 0.2)[unit]
    employees = people * employee_rate * 1.0035**-age * noise(rng, n, 0.004)
    residents = people * np.where(_CITY, 0.2, 0.34)[unit] * 1.0004**-age * noise(rng, n, 0.002)
    return [
        Column("month", month_column(periods[period]), "统计月份（当月第一天）"),
        *unit_columns(unit),
        Column("pension_employee_insured", _ints(employees), "企业职工基本养老保险参保人数"),
        Column("pension_resident_insured", _ints(residents), "城乡居民基本养老保险参保人数"),
        Column("unemployment_insured", _ints(employees * 0.62 * noise(rng, n, 0.005)), "失业保险参保人数"),
        Column("work_injury_insured", _ints(employees * 0.76 * noise(rng, n, 0.005)), "工伤保险参保人数"),
    ]


# --- motor-vehicle-stats 机动车保有量统计 ------------------------------------------------------------------------

VEHICLES = "motor-vehicle-stats"
_VEHICLES_FIRST: dict[Size, str] = {"small": "2024-01", "medium": "2019-01", "large": "2012-01"}
_VEHICLE_TYPES = (("小型载客汽车", 0.16), ("大中型载客汽车", 0.003), ("载货汽车", 0.018), ("摩托车", 0.09))


def _vehicles(seed: int, size: Size, n: int) -> list[Column]:
    rng = stream(seed, VEHICLES, "noise")
    quarters = months(_VEHICLES_FIRST[size])[2::3]
    period, unit, kind = grid(len(quarters), _UNITS, len(_VEHICLE_TYPES))
    ends = np.asarray((quarters[period] + 1).astype("datetime64[D]") - np.timedelta64(1, "D"), dtype="datetime64[D]")
    years = (quarters[period] - np.datetime64("2025-06", "M")).astype(np.float64) / 12
    per_person = np.array([share for _, share in _VEHICLE_TYPES])[kind] * np.where(_CITY, 1.5, 1.0)[unit]
    growth = np.where(kind == 3, 1.01, 1.075) ** years
    vehicles = unit_population()[unit] * 1e4 * per_person * growth * noise(rng, n, 0.01)
    electric = np.clip(0.32 + 0.055 * years, 0.01, 0.9) * np.select([kind == 0, kind == 1], [1.0, 0.5], 0.05)
    added = vehicles * np.where(kind == 3, 0.012, 0.03) * noise(rng, n, 0.12)
    return [
        Column("quarter_end", _dates(ends), "统计截止日期（季末）"),
        *unit_columns(unit),
        Column("vehicle_type", _take([t for t, _ in _VEHICLE_TYPES], kind), "车辆类型"),
        Column("vehicles", _ints(vehicles), "机动车保有量（辆）"),
        Column("new_energy_vehicles", _ints(vehicles * electric), "其中新能源汽车（辆）"),
        Column("new_registrations", _ints(added), "本季度新注册登记（辆）"),
    ]


# --- household-population-stats 户籍人口统计 ---------------------------------------------------------------------

POPULATION_STATS = "household-population-stats"
_POPULATION_FIRST: dict[Size, int] = {"small": 2015, "medium": 2000, "large": 1990}


def _population_stats(seed: int, size: Size, n: int) -> list[Column]:
    rng = stream(seed, POPULATION_STATS, "noise")
    years = np.arange(_POPULATION_FIRST[size], 2025)
    period, unit = grid(len(years), _UNITS)
    year = years[period]
    back = (2024 - year).astype(np.float64)
    people = unit_population()[unit] * 1e4 * np.where(_CITY, 1.016, 1.006)[unit] ** -back * noise(rng, n, 0.003)
    household_size = np.where(_CITY, 2.75, 3.3)[unit] + 0.025 * back
    male = people * (0.53 + rng.normal(0.0, 0.002, n))
    young = people * np.clip(0.19 + 0.0025 * back, 0.1, 0.35) * noise(rng, n, 0.01)
    old = people * np.clip(0.12 - 0.0018 * back, 0.04, 0.2) * noise(rng, n, 0.01)
    birth_rate = np.interp(
        year, (1990, 2000, 2010, 2016, 2019, 2020, 2022, 2024), (19, 14.5, 14.7, 14.6, 12.9, 10.4, 8.6, 8.5)
    )
    total, young_i, old_i = (np.round(v).astype(np.int64) for v in (people, young, old))
    male_i = np.round(male).astype(np.int64)
    return [
        Column("year", pa.array(year.astype(np.int64)), "统计年度（年末数）"),
        *unit_columns(unit),
        Column("households", _ints(people / household_size), "户数（户）"),
        Column("population", pa.array(total), "户籍人口（人）"),
        Column("male", pa.array(male_i), "男性（人）"),
        Column("female", pa.array(total - male_i), "女性（人）"),
        Column("age_0_14", pa.array(young_i), "0–14岁（人）"),
        Column("age_15_64", pa.array(total - young_i - old_i), "15–64岁（人）"),
        Column("age_65_plus", pa.array(old_i), "65岁及以上（人）"),
        Column("births", pa.array(rng.poisson(people * birth_rate / 1000)), "全年出生登记（人）"),
        Column("deaths", pa.array(rng.poisson(people * (5.6 + 0.03 * (year - 1990)) / 1000)), "全年死亡注销（人）"),
    ]


# --- birth-registration-stats 出生登记统计 -----------------------------------------------------------------------

BIRTHS = "birth-registration-stats"
_BIRTHS_FIRST: dict[Size, str] = {"small": "2024-01", "medium": "2016-01", "large": "2005-01"}
_BIRTH_SEASON = (1.0, 0.88, 0.95, 0.93, 0.96, 0.97, 1.02, 1.04, 1.08, 1.1, 1.06, 1.01)


def _births(seed: int, size: Size, n: int) -> list[Column]:
    rng = stream(seed, BIRTHS, "count")
    periods, (period, unit) = _month_rows(_BIRTHS_FIRST, size, _UNITS)
    when = periods[period]
    year = year_of(when)
    rate = np.interp(year, (2005, 2016, 2017, 2018, 2019, 2020, 2021, 2022, 2023, 2024, 2025),
                     (14.0, 14.5, 14.7, 13.0, 12.9, 10.4, 9.7, 8.6, 8.3, 8.5, 8.0))  # fmt: skip
    expected = unit_population()[unit] * 1e4 * rate / 1000 / 12 * np.array(_BIRTH_SEASON)[month_of_year(when) - 1]
    births = rng.poisson(expected * noise(rng, n, 0.03))
    boys = rng.binomial(births, 0.535)
    return [
        Column("month", month_column(when), "登记月份（当月第一天）"),
        *unit_columns(unit),
        Column("births", pa.array(births), "出生登记人数"),
        Column("male", pa.array(boys), "其中男婴"),
        Column("female", pa.array(births - boys), "其中女婴"),
    ]


# --- real-estate-registration-stats 不动产登记统计 ---------------------------------------------------------------

PROPERTY = "real-estate-registration-stats"
_PROPERTY_FIRST: dict[Size, str] = {"small": "2024-07", "medium": "2020-01", "large": "2016-01"}
_PROPERTY_YEARS = {2016: 0.8, 2017: 1.1, 2018: 1.2, 2019: 0.9, 2020: 0.85, 2021: 1.0, 2022: 0.75, 2023: 0.7,
                   2024: 0.65, 2025: 0.68}  # fmt: skip
#: column, description, registrations per 10k people per month
_PROPERTY_KINDS = (
    ("first_registrations", "首次登记（件）", 3.0),
    ("transfer_registrations", "转移登记（件）", 6.0),
    ("mortgage_registrations", "抵押登记（件）", 5.0),
    ("change_registrations", "变更登记（件）", 2.0),
    ("cancellation_registrations", "注销登记（件）", 3.0),
)


def _property(seed: int, size: Size, n: int) -> list[Column]:
    rng = stream(seed, PROPERTY, "count")
    periods, (period, unit) = _month_rows(_PROPERTY_FIRST, size, _UNITS)
    when = periods[period]
    market = np.array([_PROPERTY_YEARS[int(y)] for y in year_of(when)]) * np.where(month_of_year(when) == 2, 0.6, 1.0)
    base = unit_population()[unit] * np.where(_CITY, 1.6, 1.0)[unit] * market
    counts = {name: rng.poisson(base * rate * noise(rng, n, 0.08)) for name, _, rate in _PROPERTY_KINDS}
    issued = counts["first_registrations"] + counts["transfer_registrations"] + counts["change_registrations"]
    return [
        Column("month", month_column(when), "统计月份（当月第一天）"),
        *unit_columns(unit),
        *(Column(name, pa.array(counts[name]), description) for name, description, _ in _PROPERTY_KINDS),
        Column("certificates_issued", pa.array(rng.binomial(issued, 0.97)), "颁发不动产权证书（本）"),
    ]


# --- notifiable-disease-stats 法定传染病疫情统计 -----------------------------------------------------------------

DISEASES = "notifiable-disease-stats"
_DISEASES_FIRST: dict[Size, str] = {"small": "2024-01", "medium": "2019-01", "large": "2010-01"}
# fmt: off
_SEASONS = {
    "flat": (1.0,) * 12,
    "winter": (1.8, 1.6, 1.3, 0.9, 0.7, 0.8, 0.9, 0.8, 0.7, 0.8, 0.9, 1.3),
    "summer": (0.7, 0.6, 0.8, 0.9, 1.1, 1.3, 1.4, 1.4, 1.2, 1.0, 0.8, 0.7),
    "spring": (0.4, 0.4, 0.8, 1.4, 1.9, 1.6, 1.0, 0.7, 0.8, 1.3, 0.9, 0.6),
    "dengue": (0.1, 0.05, 0.05, 0.1, 0.2, 0.5, 1.2, 2.2, 3.0, 2.8, 1.2, 0.4),
}
#: name, class, cases per month (about 2019), deaths per case, season
_DISEASES: tuple[tuple[str, str, float, float, str], ...] = (
    ("霍乱", "甲类", 0.05, 0.0, "summer"), ("病毒性肝炎", "乙类", 700, 0.0005, "flat"),
    ("肺结核", "乙类", 450, 0.004, "flat"), ("梅毒", "乙类", 350, 0.0, "flat"), ("淋病", "乙类", 90, 0.0, "flat"),
    ("艾滋病", "乙类", 40, 0.08, "flat"), ("登革热", "乙类", 3, 0.0, "dengue"), ("猩红热", "乙类", 6, 0.0, "winter"),
    ("百日咳", "乙类", 15, 0.0, "spring"), ("疟疾", "乙类", 0.5, 0.0, "flat"), ("布鲁氏菌病", "乙类", 1.5, 0.0, "flat"),
    ("细菌性和阿米巴性痢疾", "乙类", 4, 0.0, "summer"), ("伤寒和副伤寒", "乙类", 3, 0.0, "summer"),
    ("狂犬病", "乙类", 0.3, 1.0, "flat"), ("流行性感冒", "丙类", 4000, 0.0, "winter"),
    ("手足口病", "丙类", 1200, 0.0, "spring"), ("其它感染性腹泻病", "丙类", 1500, 0.0, "summer"),
    ("流行性腮腺炎", "丙类", 40, 0.0, "spring"), ("急性出血性结膜炎", "丙类", 20, 0.0, "summer"),
    ("风疹", "丙类", 1, 0.0, "spring"),
)
# fmt: on
_RESPIRATORY = {"流行性感冒", "手足口病", "猩红热", "百日咳", "流行性腮腺炎"}


def _diseases(seed: int, size: Size, n: int) -> list[Column]:
    rng = stream(seed, DISEASES, "count")
    periods, (period, disease) = _month_rows(_DISEASES_FIRST, size, len(_DISEASES))
    when = periods[period]
    year = year_of(when)
    base = np.array([d[2] for d in _DISEASES])[disease]
    season = np.array([_SEASONS[d[4]] for d in _DISEASES])[disease, month_of_year(when) - 1]
    respiratory = np.array([d[0] in _RESPIRATORY for d in _DISEASES])[disease]
    pandemic = np.where(respiratory & (year >= 2020) & (year <= 2022), 0.4, 1.0)
    surge = np.where(respiratory & (year == 2023), 2.0, 1.0) * np.where((disease == 8) & (year >= 2024), 8.0, 1.0)
    cases = rng.poisson(base * season * pandemic * surge * noise(rng, n, 0.15))
    deaths = rng.binomial(cases, np.array([d[3] for d in _DISEASES])[disease])
    return [
        Column("month", month_column(when), "统计月份（当月第一天）"),
        Column("disease", _take([d[0] for d in _DISEASES], disease), "病种"),
        Column("disease_class", _take([d[1] for d in _DISEASES], disease), "传染病类别（甲类、乙类、丙类）"),
        Column("cases", pa.array(cases), "报告发病数（例）"),
        Column("deaths", pa.array(deaths), "报告死亡数（人）"),
    ]


# --- tax-revenue-stats 税收收入统计 ------------------------------------------------------------------------------

TAX = "tax-revenue-stats"
_TAX_FIRST: dict[Size, str] = {"small": "2023-01", "medium": "2018-01", "large": "2010-01"}
_TAX_TYPES = (
    ("增值税", 0.33), ("企业所得税", 0.17), ("个人所得税", 0.10), ("土地增值税", 0.09), ("契税", 0.06),
    ("房产税", 0.03), ("城镇土地使用税", 0.02), ("印花税", 0.02), ("车辆购置税", 0.03), ("城市维护建设税", 0.03),
    ("其他税收", 0.12),
)  # fmt: skip
_TAX_YEAR = {2020: 0.95, 2021: 1.12, 2022: 0.92, 2023: 1.03, 2024: 0.97, 2025: 1.01}


def _taxes(seed: int, size: Size, n: int) -> list[Column]:
    rng = stream(seed, TAX, "noise")
    first = np.datetime64(_TAX_FIRST[size], "M")
    periods = months(str(first - 12))  # a year more than shown, for the year-on-year growth
    period, kind = grid(len(periods), len(_TAX_TYPES))
    when = periods[period]
    year, month = year_of(when), month_of_year(when)
    # 亿元 a year: 1000 in 2025, each earlier year the later one divided by that later year's growth
    since = np.array([np.prod([_TAX_YEAR.get(y, 1.08) for y in range(x + 1, 2026)]) for x in range(2008, 2026)])
    annual = 1000.0 / since[year - 2008]
    pattern = np.ones((len(_TAX_TYPES), 12))
    pattern[1] = (1.6, 0.5, 0.6, 1.5, 1.7, 0.6, 1.4, 0.6, 0.6, 1.4, 0.5, 0.6)  # 企业所得税: quarterly prepayment, May
    pattern[2, 2:6] = 1.3  # 个人所得税: annual settlement March–June
    pattern[:, 1] *= 0.75  # 春节
    share = np.array([s for _, s in _TAX_TYPES])[kind]
    monthly = annual * share * pattern[kind, month - 1] / pattern[kind].mean(axis=1) / 12 * noise(rng, len(kind), 0.06)
    monthly = np.round(monthly, 2)
    table = monthly.reshape(len(periods), len(_TAX_TYPES))
    cumulative = np.zeros_like(table)
    for row in range(len(periods)):
        cumulative[row] = table[row] + (cumulative[row - 1] if row and month[row * len(_TAX_TYPES)] != 1 else 0)
    growth = np.round((cumulative[12:] / cumulative[:-12] - 1) * 100, 1)
    shown = slice(12 * len(_TAX_TYPES), None)
    return [
        Column("month", month_column(when[shown]), "统计月份（当月第一天）"),
        Column("tax_type", _take([t for t, _ in _TAX_TYPES], kind[shown]), "税种"),
        Column("revenue_yi_yuan", pa.array(monthly[shown]), "当月税收收入（亿元）"),
        Column("cumulative_yi_yuan", pa.array(np.round(cumulative[12:].ravel(), 2)), "本年累计（亿元）"),
        Column("yoy_growth_pct", pa.array(growth.ravel()), "累计同比增长（%）"),
    ]


# --- hotline-12345-stats 12345热线工单统计（海口） ----------------------------------------------------------------

HOTLINE = "hotline-12345-stats"
_HOTLINE_FIRST: dict[Size, str] = {"small": "2025-01", "medium": "2022-01", "large": "2019-01"}
_DISTRICTS = ("460105", "460106", "460107", "460108")
#: category, work orders per 10k residents per month, share completed
_HOTLINE_TOPICS = (
    ("城市管理", 28, 0.97), ("住房建设", 14, 0.93), ("交通出行", 12, 0.96), ("市场监管", 10, 0.98),
    ("劳动保障", 8, 0.95), ("医疗卫生", 6, 0.98), ("教育", 5, 0.97), ("公共安全", 4, 0.99), ("生态环境", 7, 0.96),
    ("政务服务", 9, 0.99),
)  # fmt: skip


def _hotline(seed: int, size: Size, n: int) -> list[Column]:
    rng = stream(seed, HOTLINE, "count")
    periods, (period, district, topic) = _month_rows(_HOTLINE_FIRST, size, len(_DISTRICTS), len(_HOTLINE_TOPICS))
    people = np.array([names.COUNTIES[code][3] for code in _DISTRICTS])[district]
    when = periods[period]
    summer = np.where(np.isin(month_of_year(when), (6, 7, 8, 9)), 1.2, 1.0)  # heat, storms, power cuts
    growth = 1.06 ** (year_of(when) - 2025)
    rate = np.array([t[1] for t in _HOTLINE_TOPICS], dtype=np.float64)[topic]
    received = rng.poisson(people * rate * summer * growth * noise(rng, n, 0.1))
    completed = rng.binomial(received, np.array([t[2] for t in _HOTLINE_TOPICS])[topic])
    satisfied = np.clip(rng.normal(0.93, 0.025, n), 0.8, 0.995)
    district_names = [d.name if (d := divisions.lookup(code)) else code for code in _DISTRICTS]
    return [
        Column("month", month_column(when), "统计月份（当月第一天）"),
        Column("district_code", _take(_DISTRICTS, district), "区行政区划代码（GB/T 2260）"),
        Column("district", _take(district_names, district), "区"),
        Column("category", _take([t[0] for t in _HOTLINE_TOPICS], topic), "诉求类别"),
        Column("received", pa.array(received), "受理工单（件）"),
        Column("completed", pa.array(completed), "办结工单（件）"),
        Column("completion_rate_pct", pa.array(np.round(completed / np.maximum(received, 1) * 100, 1)), "办结率（%）"),
        Column("satisfaction_pct", pa.array(np.round(satisfied * 100, 1)), "满意率（%）"),
    ]


# --- port-throughput 港口吞吐量 ----------------------------------------------------------------------------------

PORTS = "port-throughput"
_PORTS_FIRST: dict[Size, str] = {"small": "2023-01", "medium": "2015-01", "large": "2005-01"}
#: port, division, cargo (10k t), containers (10k TEU), passengers (10k) a month about 2024, cargo growth a year
_PORTS = (
    ("海口港", "460100", 1050.0, 22.0, 170.0, 0.04), ("洋浦港", "460400", 700.0, 21.0, 0.3, 0.14),
    ("八所港", "469007", 180.0, 0.6, 0.0, 0.02), ("三亚港", "460200", 30.0, 0.2, 6.0, 0.01),
    ("清澜港", "469005", 45.0, 0.3, 1.5, 0.03),
)  # fmt: skip


def _ports(seed: int, size: Size, n: int) -> list[Column]:
    rng = stream(seed, PORTS, "noise")
    periods, (period, port) = _month_rows(_PORTS_FIRST, size, len(_PORTS))
    when = periods[period]
    years = (when - np.datetime64("2024-06", "M")).astype(np.float64) / 12
    cargo, boxes, passengers, growth = (np.array([p[i] for p in _PORTS])[port] for i in (2, 3, 4, 5))
    trend = (1 + growth) ** years
    festival = np.where(month_of_year(when) == 2, 1.35, np.where(month_of_year(when) == 9, 0.8, 1.0))
    return [
        Column("month", month_column(when), "统计月份（当月第一天）"),
        Column("port", _take([p[0] for p in _PORTS], port), "港口"),
        Column("division", _take([p[1] for p in _PORTS], port), "所在市县行政区划代码（GB/T 2260）"),
        Column("cargo_10k_tons", pa.array(np.round(cargo * trend * noise(rng, n, 0.07), 1)), "货物吞吐量（万吨）"),
        Column(
            "containers_10k_teu", pa.array(np.round(boxes * trend * noise(rng, n, 0.08), 2)), "集装箱吞吐量（万标箱）"
        ),
        Column(
            "passengers_10k",
            pa.array(np.round(passengers * 1.02**years * festival * noise(rng, n, 0.06), 1)),
            "旅客吞吐量（万人次）",
        ),
    ]


# --- budget-disclosure 一般公共预算支出 --------------------------------------------------------------------------

BUDGET = "budget-disclosure"
_BUDGET_FIRST: dict[Size, int] = {"small": 2021, "medium": 2015, "large": 2008}
#: GB 功能分类 类级科目: code, name, share of the 2025 budget
_SUBJECTS = (
    ("201", "一般公共服务支出", 0.085), ("203", "国防支出", 0.002), ("204", "公共安全支出", 0.055),
    ("205", "教育支出", 0.165), ("206", "科学技术支出", 0.03), ("207", "文化旅游体育与传媒支出", 0.02),
    ("208", "社会保障和就业支出", 0.14), ("210", "卫生健康支出", 0.1), ("211", "节能环保支出", 0.03),
    ("212", "城乡社区支出", 0.09), ("213", "农林水支出", 0.1), ("214", "交通运输支出", 0.05),
    ("215", "资源勘探工业信息等支出", 0.015), ("216", "商业服务业等支出", 0.01), ("217", "金融支出", 0.003),
    ("220", "自然资源海洋气象等支出", 0.02), ("221", "住房保障支出", 0.035), ("222", "粮油物资储备支出", 0.005),
    ("224", "灾害防治及应急管理支出", 0.015), ("229", "其他支出", 0.01), ("232", "债务付息支出", 0.02),
)  # fmt: skip


def _budget(seed: int, size: Size, n: int) -> list[Column]:
    rng = stream(seed, BUDGET, "noise")
    years = np.arange(_BUDGET_FIRST[size], 2026)
    period, subject = grid(len(years), len(_SUBJECTS))
    year = years[period]
    total = 2_100_0000 * 1.06 ** (year - 2025).astype(np.float64)  # 万元: about 2,100 亿 in 2025
    budget = np.round(total * np.array([s[2] for s in _SUBJECTS])[subject] * noise(rng, n, 0.05), -1)
    final = np.round(budget * rng.normal(1.03, 0.05, n), -1)
    return [
        Column("year", pa.array(year.astype(np.int64)), "预算年度"),
        Column("subject_code", _take([s[0] for s in _SUBJECTS], subject), "支出功能分类科目编码（类）"),
        Column("subject", _take([s[1] for s in _SUBJECTS], subject), "支出功能分类科目名称"),
        Column("budget_wan_yuan", pa.array(budget), "年初预算数（万元）"),
        Column("final_wan_yuan", _with_nulls(pa.array(final), year == 2025), "决算数（万元；当年预算尚无决算，为空）"),
    ]


def _month_count(first: dict[Size, str]) -> dict[Size, int]:
    return {size: len(months(value)) for size, value in first.items()}


def _times(counts: dict[Size, int], factor: int) -> dict[Size, int]:
    return {size: count * factor for size, count in counts.items()}


SPECS: tuple[DatasetSpec, ...] = (
    DatasetSpec(
        INSURANCE,
        "社会保险参保统计（按市县月度）",
        "Social insurance enrolment by city and county, monthly",
        "各市县每月企业职工基本养老保险、城乡居民基本养老保险、失业保险和工伤保险参保人数。汇总统计数据，不含个人信息。",
        "海南省人力资源和社会保障厅",
        _times(_month_count(_INSURANCE_FIRST), _UNITS),
        _insurance,
        period="month",
        cutoffs=("2024-12-01", "2025-03-01"),
    ),
    DatasetSpec(
        VEHICLES,
        "机动车保有量统计",
        "Registered motor vehicles by city, county and type, quarterly",
        "各市县季末机动车保有量：小型载客汽车、大中型载客汽车、载货汽车和摩托车的数量，其中新能源汽车数量，以及本季度新注册登记数。",
        "海南省公安厅",
        {size: len(months(first)[2::3]) * _UNITS * len(_VEHICLE_TYPES) for size, first in _VEHICLES_FIRST.items()},
        _vehicles,
        period="quarter_end",
        cutoffs=("2024-12-31",),
    ),
    DatasetSpec(
        POPULATION_STATS,
        "户籍人口统计年鉴（按市县）",
        "Registered population yearbook by city and county",
        "各市县年末户籍户数、人口、性别和年龄结构（0–14岁、15–64岁、65岁及以上），全年出生登记和死亡注销人数。汇总统计，不含个人信息。",
        "海南省公安厅",
        {size: (2025 - first) * _UNITS for size, first in _POPULATION_FIRST.items()},
        _population_stats,
        period="year",
        cutoffs=("2023",),
    ),
    DatasetSpec(
        BIRTHS,
        "出生登记统计（按市县月度）",
        "Birth registrations by city and county, monthly",
        "各市县每月新生儿出生登记（户口申报）人数及男婴、女婴人数。汇总统计，不含个人信息。",
        "海南省公安厅",
        _times(_month_count(_BIRTHS_FIRST), _UNITS),
        _births,
        period="month",
    ),
    DatasetSpec(
        PROPERTY,
        "不动产登记业务统计",
        "Real estate registrations by city and county, monthly",
        "各市县每月不动产首次登记、转移登记、抵押登记、变更登记、注销登记办件量和颁发不动产权证书数量。",
        "海南省自然资源和规划厅",
        _times(_month_count(_PROPERTY_FIRST), _UNITS),
        _property,
        period="month",
    ),
    DatasetSpec(
        DISEASES,
        "法定传染病疫情统计",
        "Notifiable infectious diseases, monthly",
        "全省每月甲类、乙类、丙类法定传染病报告发病数和死亡数，含流感冬春季高峰、登革热夏秋季和手足口病春季高峰。",
        "海南省卫生健康委员会",
        _times(_month_count(_DISEASES_FIRST), len(_DISEASES)),
        _diseases,
        period="month",
        cutoffs=("2024-12-01",),
    ),
    DatasetSpec(
        TAX,
        "税收收入统计（分税种月度）",
        "Tax revenue by tax type, monthly",
        "全省每月分税种税收收入：增值税、企业所得税、个人所得税、土地增值税、契税等当月数、本年累计数和累计同比增长。",
        "海南省税务局",
        _times(_month_count(_TAX_FIRST), len(_TAX_TYPES)),
        _taxes,
        period="month",
        cutoffs=("2024-12-01",),
    ),
    DatasetSpec(
        HOTLINE,
        "海口市12345热线工单统计",
        "Haikou 12345 hotline work orders by district and category, monthly",
        "海口市12345政务服务便民热线每月分区、分诉求类别的受理工单量、办结量、办结率和满意率。汇总统计，不含来电人信息。",
        "海口市政务服务中心",
        _times(_month_count(_HOTLINE_FIRST), len(_DISTRICTS) * len(_HOTLINE_TOPICS)),
        _hotline,
        period="month",
    ),
    DatasetSpec(
        PORTS,
        "港口吞吐量统计",
        "Port throughput, monthly",
        "海口港、洋浦港、八所港、三亚港、清澜港每月货物吞吐量（万吨）、集装箱吞吐量（万标箱）和旅客吞吐量（万人次）。",
        "海南省交通运输厅",
        _times(_month_count(_PORTS_FIRST), len(_PORTS)),
        _ports,
        period="month",
    ),
    DatasetSpec(
        BUDGET,
        "财政预算公开：一般公共预算支出",
        "Budget disclosure: general public budget expenditure",
        "全省一般公共预算支出按功能分类（类级科目）的年初预算数和决算数，含教育、社会保障和就业、卫生健康、农林水等支出。",
        "海南省财政厅",
        {size: (2026 - first) * len(_SUBJECTS) for size, first in _BUDGET_FIRST.items()},
        _budget,
        period="year",
        cutoffs=("2024",),
    ),
)
