"""How each demo dataset is classified and described in the catalogue (目录编目): share and open type, security level,
tags, themes, update frequency, licence, contact, spatial and temporal coverage.

Personal registries are shared on approval and never opened; aggregated statistics and directories of public
places are open to everyone; registers with locations of hazards or business details are opened on conditions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from yiwang.catalog.models import OpenType, SecurityLevel, ShareType

#: The catalogue's themes (主题分类); the DCAT exporter maps each to a DCAT-AP theme.
THEMES: tuple[str, ...] = (
    "经贸工商",
    "政务服务",
    "旅游文化",
    "气象环境",
    "公共安全",
    "教育文化",
    "卫生健康",
    "社保就业",
    "交通运输",
    "资源能源",
    "城建住房",
    "农业农村",
    "信用服务",
    "财税金融",
    "科技创新",
    "生态环境",
)
FREQUENCIES: tuple[str, ...] = ("daily", "weekly", "monthly", "quarterly", "yearly", "irregular")

#: A directory or registry without a period column describes the state on the demo's "today" (2025-06-30).
SNAPSHOT = "2025-06/2025-06"

#: Each department's public contact point: its service hotline and a data mailbox (example domain, not real).
CONTACTS: dict[str, str] = {
    "海南省大数据管理局": "12345；data-dsj@hainan.example",
    "海南省公安厅": "12345；data-gat@hainan.example",
    "海南省市场监督管理局": "12315；data-amr@hainan.example",
    "海南省人力资源和社会保障厅": "12333；data-hrss@hainan.example",
    "海南省自然资源和规划厅": "12336；data-lr@hainan.example",
    "海南省卫生健康委员会": "12320；data-wjw@hainan.example",
    "海南省民政厅": "12345；data-mz@hainan.example",
    "海南省旅游和文化广电体育厅": "12345；data-lwt@hainan.example",
    "海南省气象局": "12121；data-qx@hainan.example",
    "海南省应急管理厅": "12350；data-yjt@hainan.example",
    "海南省税务局": "12366；data-sw@hainan.example",
    "海口市政务服务中心": "12345；data-hkzw@haikou.example",
    "海南省教育厅": "12345；data-edu@hainan.example",
    "海南省交通运输厅": "12328；data-jt@hainan.example",
    "海南省生态环境厅": "12369；data-sthj@hainan.example",
    "海南省财政厅": "12345；data-czt@hainan.example",
    "海口海关": "12360；data-hkcustoms@haikou.example",
    "国家外汇管理局海南省分局": "12345；data-safe@hainan.example",
}


@dataclass(frozen=True)
class Classification:
    share_type: ShareType
    open_type: OpenType
    security_level: SecurityLevel
    tags: tuple[str, ...]
    themes: tuple[str, ...]
    update_frequency: str
    spatial_coverage: str = "海南省"
    #: Fixed coverage; when empty, computed from the dataset's period column (or `SNAPSHOT` without one).
    temporal_coverage: str = ""

    @property
    def licence(self) -> str:
        """CC-BY-4.0 for open data, the government open-data terms for conditional opening, GOV-SHARE otherwise."""
        return {OpenType.UNCONDITIONAL: "CC-BY-4.0", OpenType.CONDITIONAL: "GOV-OPEN-1.0"}.get(
            self.open_type, "GOV-SHARE"
        )


def _open(tags: tuple[str, ...], themes: tuple[str, ...], frequency: str, **more: Any) -> Classification:
    """Shared with every department and open to everyone (无条件共享、无条件开放), general level."""
    return Classification(
        ShareType.UNCONDITIONAL, OpenType.UNCONDITIONAL, SecurityLevel.GENERAL, tags, themes, frequency, **more
    )


def _on_conditions(tags: tuple[str, ...], themes: tuple[str, ...], frequency: str, **more: Any) -> Classification:
    """Shared with every department, opened on conditions (有条件开放: an application and the sandbox)."""
    return Classification(
        ShareType.UNCONDITIONAL, OpenType.CONDITIONAL, SecurityLevel.GENERAL, tags, themes, frequency, **more
    )


def _personal(tags: tuple[str, ...], themes: tuple[str, ...], frequency: str, **more: Any) -> Classification:
    """A registry of persons: shared on approval, never opened, important (有条件共享、不予开放、重要数据)."""
    return Classification(
        ShareType.CONDITIONAL, OpenType.NONE, SecurityLevel.IMPORTANT, tags, themes, frequency, **more
    )


def _personal_for_tracks(tags: tuple[str, ...], themes: tuple[str, ...], frequency: str, **more: Any) -> Classification:
    """A registry of persons opened on conditions: enterprises compute on it in a track's sandbox, never see rows
    (有条件共享、有条件开放、重要数据)."""
    return Classification(
        ShareType.CONDITIONAL, OpenType.CONDITIONAL, SecurityLevel.IMPORTANT, tags, themes, frequency, **more
    )


CLASSIFICATIONS: dict[str, Classification] = {
    "population-registry": _personal(("人口", "户籍", "身份"), ("公共安全",), "daily", temporal_coverage="1958/2025"),
    "enterprise-registry": _on_conditions(
        ("企业", "登记", "注册资本", "市场主体"), ("经贸工商", "信用服务"), "daily", temporal_coverage="1990/2025"
    ),
    "service-halls": _open(("政务服务", "大厅", "办事"), ("政务服务",), "monthly"),
    "tourism-monthly": _open(("旅游", "游客", "收入"), ("旅游文化",), "monthly"),
    "weather-daily": _open(("气象", "降雨", "气温"), ("气象环境",), "daily"),
    "disaster-facilities": _open(("应急", "避难场所", "防灾"), ("公共安全",), "quarterly"),
    # statistics by unit and period
    "social-insurance-stats": _open(
        ("社保", "社会保险", "参保", "养老保险", "失业保险", "工伤保险"), ("社保就业",), "monthly"
    ),
    "motor-vehicle-stats": _open(("机动车", "汽车", "新能源汽车", "保有量"), ("交通运输", "公共安全"), "quarterly"),
    "household-population-stats": _open(("人口", "户籍人口", "统计年鉴", "年龄结构"), ("公共安全",), "yearly"),
    "birth-registration-stats": _open(("出生", "新生儿", "人口", "户口"), ("卫生健康", "公共安全"), "monthly"),
    "real-estate-registration-stats": _open(("不动产", "登记", "房产", "抵押"), ("城建住房", "资源能源"), "monthly"),
    "notifiable-disease-stats": _open(("传染病", "疫情", "流感", "登革热"), ("卫生健康",), "monthly"),
    "tax-revenue-stats": _open(("税收", "税务", "增值税", "所得税"), ("财税金融",), "monthly"),
    "hotline-12345-stats": _open(
        ("12345", "热线", "工单", "诉求"), ("政务服务",), "monthly", spatial_coverage="海口市"
    ),
    "port-throughput": _open(("港口", "吞吐量", "集装箱", "货运"), ("交通运输", "经贸工商"), "monthly"),
    "budget-disclosure": _open(("财政", "预算", "决算", "支出"), ("财税金融",), "yearly"),
    # environment and weather
    "air-quality-daily": _open(("空气质量", "AQI", "PM2.5", "臭氧"), ("生态环境", "气象环境"), "daily"),
    "surface-water-quality": _open(("水质", "地表水", "河流", "断面"), ("生态环境",), "monthly"),
    "typhoon-tracks": _open(("台风", "路径", "热带气旋", "防风"), ("气象环境", "公共安全"), "irregular"),
    # directories
    "schools": _open(("学校", "幼儿园", "小学", "中学", "教育"), ("教育文化",), "yearly"),
    "medical-institutions": _open(("医院", "医疗机构", "卫生院", "诊所"), ("卫生健康",), "monthly"),
    "elderly-care-institutions": _open(("养老", "养老机构", "敬老院", "床位"), ("社保就业", "卫生健康"), "quarterly"),
    "scenic-spots": _open(("景区", "A级景区", "5A", "旅游"), ("旅游文化",), "irregular"),
    "star-rated-hotels": _open(("酒店", "星级饭店", "住宿", "旅游"), ("旅游文化",), "irregular"),
    "geohazard-sites": _on_conditions(("地质灾害", "滑坡", "崩塌", "隐患点"), ("公共安全", "资源能源"), "yearly"),
    "bus-routes-stops": _open(
        ("公交", "线路", "站点", "公共交通"), ("交通运输",), "monthly", spatial_coverage="海口市、三亚市"
    ),
    # registers tied to the enterprise registry, and the service catalogue
    "enterprise-annual-reports": _open(
        ("企业", "年报", "年度报告", "资产总额", "营业收入"), ("经贸工商", "信用服务"), "yearly"
    ),
    "administrative-licences": _open(("行政许可", "双公示", "许可证", "信用"), ("信用服务", "经贸工商"), "daily"),
    "administrative-penalties": _open(("行政处罚", "双公示", "罚款", "信用"), ("信用服务",), "daily"),
    "food-safety-sampling": _open(("食品安全", "抽检", "不合格", "食品"), ("卫生健康", "经贸工商"), "weekly"),
    "job-postings": _open(("招聘", "就业", "岗位", "薪资"), ("社保就业",), "daily"),
    "insured-persons": _personal_for_tracks(
        ("社保", "参保", "个人"), ("社保就业",), "daily", temporal_coverage="1995/2025"
    ),
    "land-supply-results": _open(("土地", "供地", "出让", "划拨", "建设用地"), ("资源能源", "城建住房"), "monthly"),
    "government-service-items": _open(("政务服务", "事项", "办事指南", "一网通办"), ("政务服务",), "irregular"),
}


def temporal_coverage(table: Any, column: str) -> str:
    """``YYYY/YYYY`` for a year column, ``YYYY-MM/YYYY-MM`` for a date or timestamp column: its first and last."""
    values = table.column(column)
    bounds = pc.min_max(values)
    low, high = bounds["min"].as_py(), bounds["max"].as_py()
    if pa.types.is_integer(values.type):
        return f"{low}/{high}"
    return f"{low:%Y-%m}/{high:%Y-%m}"
