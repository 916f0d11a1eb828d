"""The demo datasets of a Hainan-like province, generated deterministically and vectorised.

Each dataset draws from its own random streams: ``SeedSequence(seed, spawn_key=(crc32("<dataset>/<part>"),))`` fed to
``Generator(PCG64(...))``, one stream per part (origins, birth dates, names …). Adding a dataset or a column therefore
never changes the rows of another. Places (towns, villages, roads) come from a fixed gazetteer that does not depend on
the seed, like a real map.

Deliberate data-quality problems (listed in `QUALITY_ISSUES`, exact counts from `QualityIssue.rows`), so that a
quality report has something to find; every other value is valid:

- population-registry: 0.1 % of rows each (0.5 % in all, disjoint rows) — ``person_id`` with a wrong check digit
  (the only invalid IDs; every other ``person_id`` is a valid GB 11643 number, unique but for the duplicated rows),
  ``phone`` malformed (a digit missing, a digit too many, or a 12 prefix), a row duplicated exactly over another,
  ``household_address`` missing, and ``registered_at`` before ``birth_date``.
- enterprise-registry: 0.1 % of rows each — ``credit_code`` with a wrong check character, ``phone`` malformed, a row
  duplicated exactly, ``legal_representative`` missing, ``established_on`` in the future (after `REFERENCE_DATE`).
- weather-daily: 0.5 % of rows with ``temp_max``, ``temp_min`` and ``humidity`` missing (a station outage).
- service-halls, tourism-monthly, disaster-facilities: none.

The package: `model` (sizes, columns, specs, quality issues), `arrays` (random streams, array helpers), `codes`
(identifiers, check digits, quality-issue helpers), then one module per kind of data — `people`, `enterprises`,
`places`, `statistics` for the first six datasets (defined here); `series` (statistics by unit and period),
`environment` (air, water, typhoons), `directories` (名录 of places) and `records` (registers tied to the enterprise
registry: 双公示, annual reports, job postings, insured persons) each define the rest in their own `SPECS`.

A dataset with a `DatasetSpec.period` and `cutoffs` is published in several versions (a statistic released for 2024,
then updated with 2025 months): version k holds the rows up to ``cutoffs[k - 1]``, the last version all of them.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from yiwang.core.errors import InvalidInput, NotFound
from yiwang.core.i18n import N_
from yiwang.demo import names
from yiwang.demo.datasets import directories, environment, records, series
from yiwang.demo.datasets.arrays import fixed_width_strings, stream
from yiwang.demo.datasets.codes import CREDIT_CHARSET, citizen_ids, credit_codes
from yiwang.demo.datasets.enterprises import ENTERPRISE_ROWS, ENTERPRISES, _enterprises
from yiwang.demo.datasets.model import (
    QUALITY_ISSUES,
    REFERENCE_DATE,
    SIZES,
    Column,
    DatasetSpec,
    PersonalKind,
    QualityIssue,
    Size,
)
from yiwang.demo.datasets.people import POPULATION, _population, address
from yiwang.demo.datasets.places import FACILITIES, HALLS, _facilities, _service_halls
from yiwang.demo.datasets.statistics import _TOURISM_MONTHS, TOURISM, WEATHER, _tourism, _weather, _weather_days

__all__ = [
    "CREDIT_CHARSET",
    "Column",
    "DATASET_NAMES",
    "DatasetSpec",
    "ENTERPRISES",
    "FACILITIES",
    "HALLS",
    "POPULATION",
    "PersonalKind",
    "QUALITY_ISSUES",
    "QualityIssue",
    "REFERENCE_DATE",
    "ROW_COUNTS",
    "SIZES",
    "SPECS",
    "Size",
    "TOURISM",
    "WEATHER",
    "address",
    "citizen_ids",
    "credit_codes",
    "fixed_width_strings",
    "generate",
    "select_version",
    "spec",
    "stream",
]

SPECS: tuple[DatasetSpec, ...] = (
    DatasetSpec(
        POPULATION,
        "人口基础信息库（户籍人口）",
        "Population registry (household registration)",
        "全省户籍人口基础信息：身份号码、姓名、性别、出生日期、民族、户籍地址、联系电话、婚姻状况、学历、登记日期。合成数据，不含真实个人信息。",
        "海南省公安厅",
        {"small": 2_000, "medium": 200_000, "large": 5_000_000},
        _population,
    ),
    DatasetSpec(
        ENTERPRISES,
        "市场主体登记信息",
        "Enterprise registry (market entities)",
        "企业、个体工商户、农民专业合作社和村级集体经济组织的登记信息：统一社会信用代码、名称、法定代表人、行业、注册资本、成立日期、登记状态、住所。合成数据。",
        "海南省市场监督管理局",
        ENTERPRISE_ROWS,
        _enterprises,
    ),
    DatasetSpec(
        HALLS,
        "政务服务场所",
        "Government service halls",
        "省、市、县政务服务中心，乡镇（街道）便民服务中心和村（社区）便民服务站：地址、位置、办公时间、咨询电话、窗口数。",
        "海南省大数据管理局",
        {"small": 60, "medium": 400, "large": 2_000},
        _service_halls,
    ),
    DatasetSpec(
        TOURISM,
        "旅游接待月度统计",
        "Monthly tourism statistics",
        "各市县每月接待游客人次、过夜游客人次、旅游总收入和人均停留天数，含冬季旺季、春节和疫情影响。",
        "海南省旅游和文化广电体育厅",
        {size: months * len(names.UNITS) for size, (_, months) in _TOURISM_MONTHS.items()},
        _tourism,
        period="month",
    ),
    DatasetSpec(
        WEATHER,
        "逐日气象观测",
        "Daily weather observations",
        "各市县国家气象观测站逐日最高、最低气温，降水量，相对湿度和最大风速，含台风季（7–10月）强降水。",
        "海南省气象局",
        {size: len(_weather_days(size)) * len(names.UNITS) for size in SIZES},
        _weather,
        period="date",
    ),
    DatasetSpec(
        FACILITIES,
        "应急避难场所和防灾设施",
        "Emergency shelters and disaster-prevention facilities",
        "应急避难场所、应急物资储备库、消防站和防风防汛设施：类型、地址、位置、可容纳人数和面积。",
        "海南省应急管理厅",
        {"small": 200, "medium": 2_000, "large": 20_000},
        _facilities,
    ),
    *series.SPECS,
    *environment.SPECS,
    *directories.SPECS,
    *records.SPECS,
)

DATASET_NAMES: tuple[str, ...] = tuple(spec.name for spec in SPECS)
ROW_COUNTS: dict[str, dict[Size, int]] = {spec.name: dict(spec.rows) for spec in SPECS}


def spec(name: str) -> DatasetSpec:
    """The description of the demo dataset `name`; NotFound (``demo.dataset_not_found``) when there is none."""
    for candidate in SPECS:
        if candidate.name == name:
            return candidate
    raise NotFound("demo.dataset_not_found", N_("There is no demo dataset named {name}"), name=name)


def generate(name: str, seed: int, size: Size, version: int | None = None) -> Any:
    """The demo dataset `name` as a pyarrow Table: the same seed and size give the same rows, byte for byte.

    `version` (1 to the spec's `version_count`; the last when None) keeps the rows of an earlier version."""
    described = spec(name)
    count = described.version_count
    if version is not None and not (isinstance(version, int) and 1 <= version <= count):
        raise InvalidInput(
            "demo.version",
            N_("The demo dataset {name} has versions 1 to {count}, not {version}"),
            name=name,
            count=count,
            version=version,
        )
    if size not in SIZES:
        raise InvalidInput("demo.size", N_("The demo size must be small, medium or large, not {size}"), size=size)
    if not isinstance(seed, int) or seed < 0:
        raise InvalidInput(
            "demo.seed", N_("The demo seed must be a whole number of zero or more, not {seed}"), seed=seed
        )
    rows = described.rows[size]
    columns = described.build(seed, size, rows)
    fields = [
        pa.field(c.name, c.values.type, metadata={"description_zh": c.description_zh, "personal_kind": c.personal_kind})
        for c in columns
    ]
    metadata = {
        "name": described.name,
        "title_zh": described.title_zh,
        "title_en": described.title_en,
        "description_zh": described.description_zh,
        "owner_department": described.owner_department,
        "seed": str(seed),
        "size": size,
        "version": str(count),
    }
    table = pa.Table.from_arrays([c.values for c in columns], schema=pa.schema(fields, metadata=metadata))
    if table.num_rows != rows:
        raise RuntimeError(f"{name}: generated {table.num_rows} rows, {rows} expected")
    return table if version is None else select_version(table, version)


def select_version(table: Any, version: int) -> Any:
    """The rows of an earlier `version` of a generated (last-version) table: those up to the version's cutoff."""
    metadata = {k.decode(): v.decode() for k, v in table.schema.metadata.items()}
    described = spec(metadata["name"])
    if version == described.version_count:
        return table
    period = table.column(described.period)
    kept = table.filter(pc.less_equal(period, pc.cast(pa.scalar(described.cutoffs[version - 1]), period.type)))
    return kept.replace_schema_metadata({**metadata, "version": str(version)})
