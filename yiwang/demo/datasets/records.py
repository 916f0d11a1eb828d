"""Registers tied to the enterprise registry (their credit codes and names join with it): enterprise annual
reports, administrative licences and penalties (双公示), food safety sampling, job postings, insured persons, land
supply results; and the catalogue of government service items."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import pyarrow as pa

from yiwang.core import divisions
from yiwang.core.validators import is_credit_code
from yiwang.demo import names
from yiwang.demo.datasets.arrays import (
    Dates,
    Int,
    _choose,
    _dates,
    _random_dates,
    _take,
    _unique,
    _with_nulls,
    _year_month_day,
    fixed_width_strings,
    stream,
)
from yiwang.demo.datasets.codes import citizen_ids
from yiwang.demo.datasets.enterprises import ENTERPRISE_ROWS, _enterprises
from yiwang.demo.datasets.model import REFERENCE_DATE, Column, DatasetSpec, Size
from yiwang.demo.datasets.people import (
    _county_weights,
    _id_prefixes,
    _person_name_text,
    _person_names,
    _towns_in,
    address,
)
from yiwang.demo.datasets.units import county_short, sized, unit_codes, unit_names
from yiwang.demo.names import gazetteer


@dataclass(frozen=True)
class Companies:
    """The enterprise registry's sound, active entities (valid code, not duplicated, 存续 or 在业), as arrays."""

    code: Any
    name: Any
    kind: Any  # entity type label
    industry: Any  # GB/T 4754 letter
    division: Any  # county-level code
    established: Dates

    def take(self, index: Int) -> tuple[Any, Any]:
        """Names and codes of the entities at `index`."""
        rows = pa.array(index)
        return self.name.take(rows), self.code.take(rows)


@cache
def _companies(seed: int, size: Size) -> Companies:
    columns = {c.name: c.values for c in _enterprises(seed, size, ENTERPRISE_ROWS[size])}
    codes = columns["credit_code"].to_pylist()
    _, first = np.unique(np.array(codes), return_index=True)
    repeated = np.ones(len(codes), dtype=np.bool_)  # later copies of a duplicated row
    repeated[first] = False
    established = np.array(columns["established_on"].to_numpy(zero_copy_only=False), dtype="datetime64[D]")
    active = np.isin(np.array(columns["status"].to_pylist()), ("存续", "在业"))
    sound = np.array([is_credit_code(c) for c in codes]) & ~repeated & active & (established <= REFERENCE_DATE)
    keep = pa.array(np.flatnonzero(sound))
    return Companies(
        code=columns["credit_code"].take(keep),
        name=columns["name"].take(keep),
        kind=np.array(columns["entity_type"].take(keep).to_pylist()),
        industry=np.array(columns["industry_code"].take(keep).to_pylist()),
        division=np.array(columns["division"].take(keep).to_pylist()),
        established=established[np.flatnonzero(sound)],
    )


def _pick(rng: np.random.Generator, eligible: Any, n: int, *, replace: bool = True) -> Int:
    """`n` rows drawn among the eligible companies (a boolean mask)."""
    rows = np.flatnonzero(eligible)
    if not replace and n > len(rows):
        raise RuntimeError(f"{n} companies wanted, only {len(rows)} eligible")
    return np.asarray(rows[rng.choice(len(rows), size=n, replace=replace)], dtype=np.int64)


def _pick_for(rng: np.random.Generator, companies: Companies, kind: Int, food_kinds: tuple[int, ...]) -> Int:
    """One company per row; rows of a food kind (licence or violation) go to shops, restaurants and food makers."""
    chosen = _pick(rng, np.ones(len(companies.kind), dtype=np.bool_), len(kind))
    food = np.flatnonzero(np.isin(kind, food_kinds))
    chosen[food] = _pick(rng, np.isin(companies.industry, ("F", "H", "C")), len(food))
    return chosen


def _days(rng: np.random.Generator, n: int, first: str, last: str = "2025-06-30") -> Dates:
    return np.sort(_random_dates(rng, np.full(n, np.datetime64(first)), np.full(n, np.datetime64(last))))


def _authority(division: str, level: str) -> tuple[str, str]:
    """The market regulator of a county-level unit (or the province) and its document prefix (琼市监, 海市监 …)."""
    if level == "province":
        return "海南省市场监督管理局", "琼"
    unit = division[:4] + "00" if division.startswith(("4601", "4602", "4603")) else division
    found = divisions.lookup(unit)
    short = "三沙" if unit == "460300" else names.UNITS[unit][0]
    return f"{found.name if found else unit}市场监督管理局", short


def _authorities(rng: np.random.Generator, division: Any, provincial_share: float) -> tuple[list[str], list[str]]:
    level = np.where(rng.random(len(division)) < provincial_share, "province", "unit")
    pairs = [_authority(str(d), str(lv)) for d, lv in zip(division, level, strict=True)]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def _decision_numbers(prefixes: list[str], word: str, decided: Dates) -> list[str]:
    """Document numbers counted per authority and year: 琼市监许〔2025〕12号."""
    counters: dict[tuple[str, int], int] = {}
    years = decided.astype("datetime64[Y]").astype(np.int64) + 1970
    result = []
    for prefix, year in zip(prefixes, years, strict=True):
        key = (prefix, int(year))
        counters[key] = counters.get(key, 0) + 1
        result.append(f"{prefix}市监{word}〔{year}〕{counters[key]}号")
    return result


# --- enterprise-annual-reports 企业年报公示 ----------------------------------------------------------------------

ANNUAL = "enterprise-annual-reports"
_REPORT_YEARS = (2023, 2024)


def _annual(seed: int, size: Size, n: int) -> list[Column]:
    companies = _companies(seed, size)
    rng = stream(seed, ANNUAL, "pick")
    per_year = n // len(_REPORT_YEARS)
    eligible = (companies.kind == "企业") & (companies.established < np.datetime64("2023-01-01"))
    chosen = np.sort(_pick(rng, eligible, per_year, replace=False))
    index = np.tile(chosen, len(_REPORT_YEARS))
    year = np.repeat(np.array(_REPORT_YEARS), per_year)
    reported = np.array(
        [
            np.datetime64(f"{y + 1}-01-01") + np.timedelta64(int(d), "D")
            for y, d in zip(year, rng.integers(0, 181, n), strict=True)
        ]
    )
    employees = np.round(np.exp(rng.normal(2.0, 1.2, per_year)))[np.tile(np.arange(per_year), len(_REPORT_YEARS))]
    employees = np.round(employees * rng.normal(1.0, 0.08, n)).clip(1)
    assets = np.round(np.exp(rng.normal(6.0, 1.6, n)), 1)
    revenue = np.round(assets * np.exp(rng.normal(-0.2, 0.6, n)), 1)
    hidden = rng.random(n) < 0.6  # 企业选择不公示
    name, code = companies.take(index)
    return [
        Column("report_year", pa.array(year.astype(np.int64)), "年报年度"),
        Column("credit_code", code, "统一社会信用代码（GB 32100）", "credit_code"),
        Column("name", name, "企业名称"),
        Column("division", pa.array(companies.division[index]), "所在县级行政区划代码（GB/T 2260）"),
        Column("reported_on", _dates(reported), "年报报送日期"),
        Column("operating_status", _take(["开业", "歇业"], (rng.random(n) < 0.04).astype(np.int64)), "经营状态"),
        Column(
            "employees",
            _with_nulls(pa.array(employees.astype(np.int64)), rng.random(n) < 0.3),
            "从业人数（选择不公示的为空）",
        ),
        Column("total_assets_wan_yuan", _with_nulls(pa.array(assets), hidden), "资产总额（万元；选择不公示的为空）"),
        Column("revenue_wan_yuan", _with_nulls(pa.array(revenue), hidden), "营业总收入（万元；选择不公示的为空）"),
        Column("has_website", pa.array(rng.random(n) < 0.18), "是否有网站或网店"),
    ]


# --- administrative-licences 行政许可信息（双公示） --------------------------------------------------------------

LICENCES = "administrative-licences"
#: licence, category, number prefix, years valid (0: no term), share, content
_LICENCES = (
    ("食品经营许可证", "普通", "JY2", 5, 0.42, "预包装食品销售（含冷藏冷冻食品）；散装食品销售；热食类食品制售"),
    ("食品生产许可证", "普通", "SC1", 5, 0.06, "糕点；饮料；水产制品"),
    ("药品经营许可证", "普通", "琼DA", 5, 0.08, "中药饮片、中成药、化学药、生物制品"),
    ("第三类医疗器械经营许可证", "普通", "琼食药监械经营许", 5, 0.06, "Ⅲ类医疗器械批发、零售"),
    ("特种设备使用登记证", "登记", "梯", 0, 0.12, "电梯使用登记"),
    ("工业产品生产许可证", "普通", "XK", 5, 0.03, "建筑用钢筋；电线电缆"),
    ("计量标准考核证书", "核准", "琼量标", 4, 0.04, "计量标准考核"),
    ("检验检测机构资质认定证书", "认可", "CMA", 6, 0.04, "检验检测机构资质认定"),
    ("营业执照", "登记", "", 0, 0.15, "设立登记"),
)


def _licences(seed: int, size: Size, n: int) -> list[Column]:
    companies = _companies(seed, size)
    rng = stream(seed, LICENCES, "pick")
    decided = _days(rng, n, "2024-01-01")
    kind = _choose(rng, [item[4] for item in _LICENCES], n)
    holder = _pick_for(rng, companies, kind, (0, 1))
    name, code = companies.take(holder)
    authority, prefix = _authorities(rng, companies.division[holder], 0.15)
    serial = rng.integers(1, 10**6, n)
    credit = code.to_pylist()
    numbers = [
        f"{_LICENCES[k][2]}{companies.division[holder[i]]}{serial[i]:06d}" if _LICENCES[k][2] else credit[i]
        for i, k in enumerate(kind)
    ]
    years = np.array([item[3] for item in _LICENCES])[kind]
    month = decided.astype("datetime64[M]")
    # the day before the same date `years` later (a 31st may run a day or two into the next month)
    until = (month + 12 * years).astype("datetime64[D]") + (decided - month.astype("datetime64[D]")) - 1
    return [
        Column("decision_no", pa.array(_decision_numbers(prefix, "许", decided)), "行政许可决定文书号"),
        Column("licence_name", _take([item[0] for item in _LICENCES], kind), "行政许可决定文书名称"),
        Column("licence_category", _take([item[1] for item in _LICENCES], kind), "许可类别"),
        Column("licence_no", pa.array(numbers), "许可证书编号"),
        Column("content", _take([item[5] for item in _LICENCES], kind), "许可内容"),
        Column("holder_name", name, "行政相对人名称"),
        Column("holder_credit_code", code, "行政相对人统一社会信用代码", "credit_code"),
        Column("decided_on", _dates(decided), "许可决定日期"),
        Column("valid_until", _with_nulls(_dates(until), years == 0), "有效期至（长期有效的为空）"),
        Column("authority", pa.array(authority), "许可机关"),
    ]


# --- administrative-penalties 行政处罚信息（双公示） -------------------------------------------------------------

PENALTIES = "administrative-penalties"
#: violation, legal basis, penalty, median fine (万元), share
_VIOLATIONS = (
    ("销售不符合食品安全标准的食品", "《中华人民共和国食品安全法》第一百二十四条", "罚款；没收违法所得", 5.0, 0.14),
    (
        "未取得食品经营许可从事食品经营活动",
        "《中华人民共和国食品安全法》第一百二十二条",
        "罚款；没收违法所得",
        5.0,
        0.08,
    ),
    ("经营标签不符合规定的预包装食品", "《中华人民共和国食品安全法》第一百二十五条", "警告；罚款", 0.5, 0.12),
    ("发布虚假广告", "《中华人民共和国广告法》第五十五条", "罚款", 10.0, 0.06),
    ("虚假或者引人误解的商业宣传", "《中华人民共和国反不正当竞争法》第二十条", "罚款", 8.0, 0.08),
    ("不按规定明码标价", "《明码标价和禁止价格欺诈规定》第二十一条", "警告；罚款", 0.3, 0.14),
    ("使用未经检定的计量器具", "《中华人民共和国计量法实施细则》第四十三条", "罚款", 0.2, 0.08),
    ("特种设备未经定期检验继续使用", "《中华人民共和国特种设备安全法》第八十四条", "罚款", 3.0, 0.08),
    ("销售侵犯注册商标专用权的商品", "《中华人民共和国商标法》第六十条", "罚款；没收非法财物", 2.0, 0.07),
    ("销售劣药", "《中华人民共和国药品管理法》第一百一十七条", "罚款；没收违法所得", 10.0, 0.03),
    ("未按规定报送年度报告", "《中华人民共和国市场主体登记管理条例》第四十六条", "警告", 0.0, 0.12),
)


def _penalties(seed: int, size: Size, n: int) -> list[Column]:
    companies = _companies(seed, size)
    rng = stream(seed, PENALTIES, "pick")
    decided = _days(rng, n, "2023-07-01")
    kind = _choose(rng, [v[4] for v in _VIOLATIONS], n)
    party = _pick_for(rng, companies, kind, (0, 1, 2, 9))
    name, code = companies.take(party)
    authority, prefix = _authorities(rng, companies.division[party], 0.1)
    median = np.array([v[3] for v in _VIOLATIONS])[kind]
    fine = np.where(median > 0, np.round(median * np.exp(rng.normal(0.0, 0.7, n)), 2), 0.0)
    confiscates = np.array(["没收违法所得" in v[2] for v in _VIOLATIONS])[kind]
    confiscated = np.round(np.exp(rng.normal(-1.5, 1.0, n)), 2)
    until = np.where(fine >= 10, decided + np.timedelta64(1095, "D"), decided + np.timedelta64(365, "D"))
    return [
        Column("decision_no", pa.array(_decision_numbers(prefix, "处罚", decided)), "行政处罚决定书文号"),
        Column("party_name", name, "行政相对人名称"),
        Column("party_credit_code", code, "行政相对人统一社会信用代码", "credit_code"),
        Column("violation", _take([v[0] for v in _VIOLATIONS], kind), "违法行为类型"),
        Column("legal_basis", _take([v[1] for v in _VIOLATIONS], kind), "处罚依据"),
        Column("penalty", _take([v[2] for v in _VIOLATIONS], kind), "处罚类别"),
        Column("fine_wan_yuan", pa.array(fine), "罚款金额（万元）"),
        Column("confiscated_wan_yuan", _with_nulls(pa.array(confiscated), ~confiscates), "没收违法所得金额（万元）"),
        Column("decided_on", _dates(decided), "处罚决定日期"),
        Column("publicity_until", _dates(until), "公示截止期"),
        Column("authority", pa.array(authority), "处罚机关"),
    ]


# --- food-safety-sampling 食品安全监督抽检 -----------------------------------------------------------------------

FOOD = "food-safety-sampling"
_FOOD_FIRST: dict[Size, str] = {"small": "2025-01-01", "medium": "2023-01-01", "large": "2020-01-01"}
_FOODS = (
    ("大米", "粮食加工品", ("镉（以Cd计）",)), ("挂面", "粮食加工品", ("菌落总数",)),
    ("食用植物油", "食用油、油脂及其制品", ("酸价", "过氧化值", "苯并[a]芘")),
    ("酱油", "调味品", ("氨基酸态氮", "苯甲酸及其钠盐")), ("黄灯笼辣椒酱", "调味品", ("苯甲酸及其钠盐",)),
    ("瓶装饮用水", "饮料", ("铜绿假单胞菌", "溴酸盐")), ("椰子汁", "饮料", ("菌落总数", "脱氢乙酸及其钠盐")),
    ("糕点", "糕点", ("霉菌", "过氧化值")), ("猪肉", "食用农产品", ("克伦特罗", "磺胺类（总量）")),
    ("鸡肉", "食用农产品", ("恩诺沙星",)), ("鸡蛋", "食用农产品", ("氟苯尼考", "恩诺沙星")),
    ("豇豆", "食用农产品", ("灭蝇胺", "噻虫胺", "甲胺磷")), ("芒果", "食用农产品", ("吡唑醚菌酯",)),
    ("对虾", "食用农产品", ("恩诺沙星", "呋喃唑酮代谢物")), ("罗非鱼", "食用农产品", ("恩诺沙星", "孔雀石绿")),
    ("腌腊肉制品", "肉制品", ("过氧化值",)), ("散装白酒", "酒类", ("甲醇", "甜蜜素")),
    ("复用餐饮具", "餐饮食品", ("大肠菌群", "阴离子合成洗涤剂")), ("湿米粉", "餐饮食品", ("脱氢乙酸及其钠盐",)),
)  # fmt: skip
_TASKS = ("国家抽检", "省级抽检", "市县抽检")


def _food(seed: int, size: Size, n: int) -> list[Column]:
    companies = _companies(seed, size)
    rng = stream(seed, FOOD, "pick")
    sampled = _days(rng, n, _FOOD_FIRST[size])
    seller = np.isin(companies.industry, ("F", "H", "A", "C"))
    entity = _pick(rng, seller, n)
    name, code = companies.take(entity)
    food = rng.integers(0, len(_FOODS), n)
    failed = rng.random(n) < 0.025
    items = [_FOODS[f][2][int(rng.integers(0, len(_FOODS[f][2])))] for f in food]
    year = (sampled.astype("datetime64[Y]").astype(np.int64) + 1970) % 100
    division = companies.division[entity]
    numbers = [f"DC{y:02d}{d}{i + 1:06d}" for i, (y, d) in enumerate(zip(year, division, strict=True))]
    return [
        Column("sample_no", pa.array(numbers), "抽样单编号"),
        Column("food_name", _take([f[0] for f in _FOODS], food), "样品名称"),
        Column("food_category", _take([f[1] for f in _FOODS], food), "食品大类"),
        Column("sampled_entity", name, "被抽样单位名称"),
        Column("sampled_credit_code", code, "被抽样单位统一社会信用代码", "credit_code"),
        Column("division", pa.array(division), "所在县级行政区划代码（GB/T 2260）"),
        Column("sampled_on", _dates(sampled), "抽样日期"),
        Column("task_source", _take(_TASKS, _choose(rng, [0.2, 0.35, 0.45], n)), "任务来源"),
        Column("result", _take(["合格", "不合格"], failed.astype(np.int64)), "检验结论"),
        Column("failed_item", _with_nulls(pa.array(items), ~failed), "不合格项目（合格的为空）"),
    ]


# --- job-postings 就业招聘岗位 ----------------------------------------------------------------------------------

JOBS = "job-postings"
_JOBS_FIRST: dict[Size, str] = {"small": "2025-04-01", "medium": "2024-07-01", "large": "2023-01-01"}
#: job titles by GB/T 4754 sector letter, with a median monthly salary (元)
_TITLES: dict[str, tuple[tuple[str, int], ...]] = {
    "A": (("种植技术员", 4500), ("养殖技术员", 5000), ("农产品销售", 4500)),
    "C": (("普工", 4200), ("质检员", 4800), ("生产主管", 7000)),
    "E": (("施工员", 6500), ("造价工程师", 9000), ("安全员", 6000)),
    "F": (("销售代表", 5000), ("外贸业务员", 7000), ("仓库管理员", 4300), ("收银员", 3800)),
    "G": (("货车司机", 7000), ("物流专员", 5000), ("报关员", 6000)),
    "H": (("前台接待", 4200), ("厨师", 5500), ("服务员", 3800), ("客房服务员", 3800)),
    "I": (("软件工程师", 11000), ("运维工程师", 8000), ("产品经理", 12000), ("数据分析师", 10000)),
    "J": (("客户经理", 8000), ("风控专员", 9000)),
    "K": (("置业顾问", 6000), ("物业管理员", 4500)),
    "L": (("行政专员", 4800), ("会计", 5500), ("人力资源专员", 5500)),
    "M": (("检测工程师", 7000), ("研发工程师", 10000)),
    "N": (("园林绿化工", 4000), ("环保工程师", 7500)),
    "O": (("家政服务员", 5000), ("汽车维修工", 6000)),
    "P": (("培训讲师", 6500), ("课程顾问", 5500)),
    "Q": (("护士", 5500), ("康复治疗师", 6500), ("护理员", 4500)),
    "R": (("新媒体运营", 6000), ("导游", 5000)),
}
_EDUCATION = ("不限", "初中及以上", "高中/中专及以上", "大专及以上", "本科及以上", "硕士及以上")
_EXPERIENCE = ("不限", "1年以上", "3年以上", "5年以上")


def _jobs(seed: int, size: Size, n: int) -> list[Column]:
    companies = _companies(seed, size)
    rng = stream(seed, JOBS, "pick")
    posted = _days(rng, n, _JOBS_FIRST[size])
    employer = _pick(rng, (companies.kind == "企业") & np.isin(companies.industry, tuple(_TITLES)), n)
    name, code = companies.take(employer)
    titles = [_TITLES[letter][int(rng.integers(0, len(_TITLES[letter])))] for letter in companies.industry[employer]]
    median = np.array([t[1] for t in titles], dtype=np.float64) * np.exp(rng.normal(0.0, 0.15, n))
    low = np.round(median * 0.85, -2)
    high = np.round(median * rng.uniform(1.2, 1.6, n), -2)
    skilled = median > 7000
    education = np.where(skilled, rng.integers(3, 6, n), rng.integers(0, 4, n))
    closes = posted + rng.choice([30, 60, 90], n).astype("timedelta64[D]")
    industry_names = {letter: label for letter, label, _, _ in names.INDUSTRIES}
    return [
        Column("posting_id", pa.array([f"ZP{i + 1:07d}" for i in range(n)]), "岗位编号"),
        Column("employer", name, "招聘单位"),
        Column("employer_credit_code", code, "招聘单位统一社会信用代码", "credit_code"),
        Column("job_title", pa.array([t[0] for t in titles]), "岗位名称"),
        Column("industry", pa.array([industry_names[i] for i in companies.industry[employer]]), "行业"),
        Column("division", pa.array(companies.division[employer]), "工作地点（县级行政区划代码）"),
        Column("education", _take(_EDUCATION, education), "学历要求"),
        Column("experience", _take(_EXPERIENCE, _choose(rng, [0.45, 0.3, 0.18, 0.07], n)), "工作经验要求"),
        Column("salary_min", pa.array(low.astype(np.int64)), "月薪下限（元）"),
        Column("salary_max", pa.array(high.astype(np.int64)), "月薪上限（元）"),
        Column(
            "headcount",
            pa.array(np.minimum(np.round(np.exp(rng.normal(0.8, 0.7, n))), 50).astype(np.int64)),
            "招聘人数",
        ),
        Column("posted_on", _dates(posted), "发布日期"),
        Column("closes_on", _dates(closes), "截止日期"),
    ]


# --- insured-persons 社会保险参保登记（个人） --------------------------------------------------------------------

INSURED = "insured-persons"
_INSURANCE_TYPES = (("企业职工基本养老保险", 0.6), ("失业保险", 0.2), ("工伤保险", 0.2))
_INSURED_STATUS = (("参保缴费", 0.85), ("暂停缴费", 0.12), ("终止参保", 0.03))


def _insured(seed: int, size: Size, n: int) -> list[Column]:
    gaz = gazetteer()
    companies = _companies(seed, size)

    def rng(part: str) -> np.random.Generator:
        return stream(seed, INSURED, part)

    origin = rng("origin")
    migrant = origin.random(n) < 0.2
    county = _choose(origin, _county_weights(), n)
    birth = _random_dates(
        rng("birth"), np.full(n, np.datetime64("1962-01-01")), np.full(n, np.datetime64("2005-06-30"))
    )
    years, months, days = _year_month_day(birth)
    ymd = years * 10000 + months * 100 + days
    male = rng("sex").random(n) < 0.55
    prefix = _id_prefixes(rng("prefix"), county, migrant, years)
    serial = rng("serial")
    sequence = serial.integers(0, 500, n) * 2 + male
    for _ in range(50):  # two people never share an ID number
        repeated = _unique(prefix * 10**11 + ymd * 1000 + sequence)
        if not repeated.any():
            break
        sequence[repeated] = serial.integers(0, 500, int(repeated.sum())) * 2 + male[repeated]
    ids = citizen_ids(prefix, ymd, sequence)
    surname, given = _person_names(rng("name"), male, ~migrant)
    work = rng("employer")
    employer = _pick(work, companies.kind == "企业", n)
    name, code = companies.take(employer)
    adult = np.maximum(birth + np.timedelta64(6575, "D"), np.datetime64("1995-01-01"))
    since = _random_dates(work, adult, np.full(n, REFERENCE_DATE))
    base = np.clip(np.round(np.exp(work.normal(8.75, 0.4, n)), -1), 4_000, 25_000)
    return [
        Column("person_id", fixed_width_strings(ids), "公民身份号码（GB 11643）", "id_number"),
        Column("name", _person_name_text(surname, given), "姓名", "name"),
        Column("sex", _take(["女", "男"], male.astype(np.int64)), "性别"),
        Column("birth_date", _dates(birth), "出生日期"),
        Column(
            "insurance_type",
            _take([t for t, _ in _INSURANCE_TYPES], _choose(work, [s for _, s in _INSURANCE_TYPES], n)),
            "险种",
        ),
        Column(
            "status",
            _take([s for s, _ in _INSURED_STATUS], _choose(work, [s for _, s in _INSURED_STATUS], n)),
            "参保状态",
        ),
        Column("employer", name, "参保单位名称"),
        Column("employer_credit_code", code, "参保单位统一社会信用代码", "credit_code"),
        Column("division", _take(gaz.codes, county), "参保地（县级行政区划代码）"),
        Column("insured_since", _dates(since), "参保日期"),
        Column("contribution_base", pa.array(base), "月缴费基数（元）"),
    ]


# --- land-supply-results 土地供应结果公告 -----------------------------------------------------------------------

LAND = "land-supply-results"
_LAND_FIRST: dict[Size, str] = {"small": "2024-01-01", "medium": "2020-01-01", "large": "2015-01-01"}
_METHODS = ("挂牌出让", "拍卖出让", "招标出让", "协议出让", "划拨")
#: use, share, term (years; 0 for 划拨), price per hectare (万元), method weights, median area (ha), grantee for 划拨
_USES = (
    ("工业用地", 0.2, 50, 300.0, (0.8, 0.05, 0.05, 0.1, 0.0), 3.0, ""),
    ("仓储用地", 0.05, 50, 350.0, (0.85, 0.05, 0.05, 0.05, 0.0), 2.0, ""),
    ("商服用地", 0.15, 40, 1800.0, (0.7, 0.2, 0.05, 0.05, 0.0), 1.5, ""),
    ("住宅用地", 0.2, 70, 3500.0, (0.6, 0.35, 0.05, 0.0, 0.0), 2.0, ""),
    ("公共管理与公共服务用地", 0.25, 0, 0.0, (0, 0, 0, 0, 1.0), 1.5, "教育局"),
    ("交通运输用地", 0.1, 0, 0.0, (0, 0, 0, 0, 1.0), 4.0, "交通运输局"),
    ("水域及水利设施用地", 0.05, 0, 0.0, (0, 0, 0, 0, 1.0), 5.0, "水务局"),
)


def _land(seed: int, size: Size, n: int) -> list[Column]:
    gaz = gazetteer()
    companies = _companies(seed, size)
    rng = stream(seed, LAND, "pick")
    signed = _days(rng, n, _LAND_FIRST[size])
    use = _choose(rng, [u[1] for u in _USES], n)
    method = np.array([_choose(rng, _USES[u][4], 1)[0] for u in use])
    county = _choose(rng, _county_weights() * np.array([not c.startswith("4603") for c in gaz.codes]), n)
    town = _towns_in(rng, gaz, county)
    area = np.round(np.exp(np.log(np.array([u[5] for u in _USES])[use]) + rng.normal(0, 0.8, n)), 4)
    urban = np.array([2.0 if c.startswith(("4601", "4602")) else 1.0 for c in gaz.codes])[county]
    price = np.round(area * np.array([u[3] for u in _USES])[use] * urban * np.exp(rng.normal(0, 0.3, n)), 2)
    allocated = method == 4
    grantee_row = _pick(rng, companies.kind == "企业", n)
    name, code = companies.take(grantee_row)
    short = county_short(county).to_pylist()
    grantee = [
        f"{gaz.short[county[i]]}{_USES[u][6]}" if allocated[i] else str(g)
        for i, (u, g) in enumerate(zip(use, name.to_pylist(), strict=True))
    ]
    stems = [gaz.town_name[t].removesuffix("街道").removesuffix("镇").removesuffix("乡") for t in town]
    plots = [
        f"{short[i]}{stems[i]}片区{chr(65 + int(k))}-{int(m):02d}地块"
        for i, (k, m) in enumerate(rng.integers(0, 8, (n, 2)))
    ]
    years = signed.astype("datetime64[Y]").astype(np.int64) + 1970
    numbers = [f"{gaz.codes[c]}{y}B{i + 1:05d}" for i, (c, y) in enumerate(zip(county, years, strict=True))]
    return [
        Column("supervision_no", pa.array(numbers), "电子监管号"),
        Column("project", pa.array(plots), "项目名称（地块）"),
        Column("division", _take(gaz.codes, county), "所在县级行政区划代码（GB/T 2260）"),
        Column("location", address(rng, town), "土地坐落"),
        Column("area_ha", pa.array(area), "面积（公顷）"),
        Column("land_use", _take([u[0] for u in _USES], use), "土地用途"),
        Column("supply_method", _take(_METHODS, method), "供地方式"),
        Column(
            "term_years",
            _with_nulls(pa.array(np.array([u[2] for u in _USES])[use]), allocated),
            "土地使用年限（年；划拨为空）",
        ),
        Column("price_wan_yuan", _with_nulls(pa.array(price), allocated), "成交价格（万元；划拨为空）"),
        Column("grantee", pa.array(grantee), "土地使用权人"),
        Column(
            "grantee_credit_code", _with_nulls(code, allocated), "土地使用权人统一社会信用代码（企业）", "credit_code"
        ),
        Column("contract_date", _dates(signed), "合同签订（划拨决定）日期"),
    ]


# --- government-service-items 政务服务事项清单 -------------------------------------------------------------------

SERVICE_ITEMS = "government-service-items"
#: department suffix, item, type, legal time limit (working days), provincial only
_ITEMS: tuple[tuple[str, str, str, int, bool], ...] = (
    ("市场监督管理局", "企业设立登记", "行政许可", 15, False),
    ("市场监督管理局", "食品经营许可", "行政许可", 20, False),
    ("市场监督管理局", "药品零售企业经营许可", "行政许可", 30, False),
    ("市场监督管理局", "特种设备使用登记", "行政许可", 15, False),
    ("市场监督管理局", "企业注销登记", "行政许可", 10, False),
    ("公安局", "居民身份证申领", "公共服务", 60, False),
    ("公安局", "户口迁移审批", "行政许可", 20, False),
    ("公安局", "机动车注册登记", "行政确认", 2, False),
    ("公安局", "普通护照签发", "行政许可", 7, False),
    ("人力资源和社会保障局", "社会保障卡申领", "公共服务", 10, False),
    ("人力资源和社会保障局", "失业保险金申领", "行政给付", 10, False),
    ("人力资源和社会保障局", "职工参保登记", "公共服务", 5, False),
    ("人力资源和社会保障局", "就业创业证申领", "公共服务", 5, False),
    ("卫生健康委员会", "医师执业注册", "行政许可", 20, False),
    ("卫生健康委员会", "医疗机构执业登记", "行政许可", 45, False),
    ("卫生健康委员会", "出生医学证明办理", "公共服务", 1, False),
    ("卫生健康委员会", "公共场所卫生许可", "行政许可", 20, False),
    ("自然资源和规划局", "不动产首次登记", "行政确认", 30, False),
    ("自然资源和规划局", "不动产转移登记", "行政确认", 30, False),
    ("自然资源和规划局", "建设工程规划许可证核发", "行政许可", 20, False),
    ("民政局", "结婚登记", "行政确认", 1, False),
    ("民政局", "最低生活保障审批", "行政给付", 30, False),
    ("民政局", "养老机构备案", "其他行政权力", 5, False),
    ("教育局", "教师资格认定", "行政许可", 60, False),
    ("教育局", "民办学校设立审批", "行政许可", 90, False),
    ("交通运输局", "道路运输经营许可", "行政许可", 20, False),
    ("交通运输局", "网络预约出租汽车运输证核发", "行政许可", 20, False),
    ("生态环境局", "建设项目环境影响报告表审批", "行政许可", 30, False),
    ("生态环境局", "排污许可证核发", "行政许可", 20, True),
    ("税务局", "增值税发票领用", "其他行政权力", 1, False),
    ("旅游和文化广电体育局", "旅行社业务经营许可", "行政许可", 20, False),
    ("旅游和文化广电体育局", "营业性演出审批", "行政许可", 3, False),
    ("应急管理局", "危险化学品经营许可证核发", "行政许可", 30, False),
    ("应急管理局", "烟花爆竹经营（零售）许可", "行政许可", 20, False),
    ("气象局", "雷电防护装置设计审核", "行政许可", 20, False),
    ("气象局", "升放无人驾驶自由气球审批", "行政许可", 5, True),
)
_ONLINE = ("全程网办", "部分网办", "窗口办理")


def _item_pairs() -> list[tuple[int, int]]:
    """(item, unit) pairs: every item in the province (unit -1) and, unless provincial only, in each unit."""
    return [(i, u) for i, item in enumerate(_ITEMS) for u in range(-1, 0 if item[4] else len(unit_codes()))]


def _service_items(seed: int, size: Size, n: int) -> list[Column]:
    rng = stream(seed, SERVICE_ITEMS, "pick")
    pairs = _item_pairs()
    chosen = np.sort(rng.choice(len(pairs), size=n, replace=False))
    item = np.array([pairs[c][0] for c in chosen])
    unit = np.array([pairs[c][1] for c in chosen])
    codes = ["460000" if u < 0 else unit_codes()[u] for u in unit]
    places = ["海南省" if u < 0 else unit_names()[u] for u in unit]
    department = [f"{place}{_ITEMS[i][0]}" for place, i in zip(places, item, strict=True)]
    department = [f"国家税务总局{d}" if d.endswith("税务局") else d for d in department]
    legal = np.array([_ITEMS[i][3] for i in item])
    promised = np.maximum(np.round(legal * rng.uniform(0.2, 0.7, n)), np.minimum(legal, 1)).astype(np.int64)
    online = _choose(rng, [0.6, 0.3, 0.1], n)
    return [
        Column("item_code", pa.array([f"{c}-{i + 1:03d}" for c, i in zip(codes, item, strict=True)]), "事项编码"),
        Column("item_name", _take([it[1] for it in _ITEMS], item), "事项名称"),
        Column("item_type", _take([it[2] for it in _ITEMS], item), "事项类型"),
        Column("department", pa.array(department), "实施主体"),
        Column("division", pa.array(codes), "实施主体所在行政区划代码"),
        Column("level", _take(["市县级", "省级"], (unit < 0).astype(np.int64)), "实施层级"),
        Column("legal_days", pa.array(legal.astype(np.int64)), "法定办结时限（工作日）"),
        Column("promised_days", pa.array(promised), "承诺办结时限（工作日）"),
        Column("max_visits", pa.array(np.where(online == 0, 0, 1).astype(np.int64)), "最多跑动次数"),
        Column("online_level", _take(_ONLINE, online), "网上办理深度"),
        Column("charged", pa.array(rng.random(n) < 0.05), "是否收费"),
    ]


SPECS: tuple[DatasetSpec, ...] = (
    DatasetSpec(
        ANNUAL,
        "企业年度报告公示信息",
        "Enterprise annual reports (public summary)",
        "企业年度报告公示摘要：统一社会信用代码、企业名称、年报年度、报送日期、经营状态、从业人数、资产总额和营业总收入（企业选择不公示的为空）。与市场主体登记信息按统一社会信用代码关联。",
        "海南省市场监督管理局",
        {size: count * len(_REPORT_YEARS) for size, count in sized(150, 5_000, 50_000).items()},
        _annual,
        period="report_year",
        cutoffs=("2023",),
    ),
    DatasetSpec(
        LICENCES,
        "行政许可信息（双公示）",
        "Administrative licences (public disclosure)",
        "市场监管部门作出的行政许可决定：决定文书号、许可证书编号、许可内容、行政相对人名称和统一社会信用代码、决定日期、有效期和许可机关。",
        "海南省市场监督管理局",
        sized(250, 8_000, 60_000),
        _licences,
        period="decided_on",
    ),
    DatasetSpec(
        PENALTIES,
        "行政处罚信息（双公示）",
        "Administrative penalties (public disclosure)",
        "市场监管部门作出的行政处罚决定：决定书文号、行政相对人名称和统一社会信用代码、违法行为类型、处罚依据、处罚类别、罚款和没收金额、决定日期和公示截止期。",
        "海南省市场监督管理局",
        sized(200, 5_000, 40_000),
        _penalties,
        period="decided_on",
    ),
    DatasetSpec(
        FOOD,
        "食品安全监督抽检结果",
        "Food safety sampling results",
        "食品安全监督抽检：抽样单编号、样品名称、食品大类、被抽样单位、抽样日期、任务来源、检验结论和不合格项目。",
        "海南省市场监督管理局",
        sized(250, 10_000, 80_000),
        _food,
        period="sampled_on",
    ),
    DatasetSpec(
        JOBS,
        "就业招聘岗位信息",
        "Job postings",
        "用人单位发布的招聘岗位：岗位名称、招聘单位、行业、工作地点、学历和经验要求、月薪范围、招聘人数、发布和截止日期。",
        "海南省人力资源和社会保障厅",
        sized(250, 10_000, 80_000),
        _jobs,
        period="posted_on",
    ),
    DatasetSpec(
        INSURED,
        "社会保险参保登记信息（个人）",
        "Social insurance enrolment of persons",
        "参保人员的社会保险登记：公民身份号码、姓名、性别、出生日期、险种、参保状态、参保单位、参保地、参保日期和缴费基数。含个人信息，仅依申请共享，不开放。合成数据。",
        "海南省人力资源和社会保障厅",
        sized(300, 50_000, 500_000),
        _insured,
    ),
    DatasetSpec(
        LAND,
        "土地供应结果公告",
        "Land supply results",
        "国有建设用地供应结果：电子监管号、地块、坐落、面积、土地用途、供地方式（招拍挂出让、协议出让、划拨）、使用年限、成交价格、土地使用权人和签订日期。",
        "海南省自然资源和规划厅",
        sized(200, 3_000, 15_000),
        _land,
        period="contract_date",
        cutoffs=("2024-12-31",),
    ),
    DatasetSpec(
        SERVICE_ITEMS,
        "政务服务事项清单",
        "Government service items",
        "省、市县政务服务事项实施清单：事项编码、名称、类型、实施主体、法定和承诺办结时限、最多跑动次数、网上办理深度和是否收费。",
        "海南省大数据管理局",
        {"small": 200, "medium": 600, "large": len(_item_pairs())},
        _service_items,
    ),
)
