"""The six demo datasets of a Hainan-like province, generated deterministically and vectorised.

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
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from yiwang.core import divisions
from yiwang.core.errors import InvalidInput, NotFound
from yiwang.core.i18n import N_
from yiwang.demo import names
from yiwang.demo.names import Gazetteer, gazetteer

Size = Literal["small", "medium", "large"]
SIZES: tuple[Size, ...] = ("small", "medium", "large")

#: The day the demo data describes ("today" in the data): ages, statuses and registrations are as of this date.
REFERENCE_DATE = np.datetime64("2025-06-30")

PersonalKind = Literal["id_number", "phone", "name", "address", "credit_code", "none"]
Int = npt.NDArray[np.int64]
Float = npt.NDArray[np.float64]
Bool = npt.NDArray[np.bool_]
Dates = npt.NDArray[np.datetime64]


@dataclass(frozen=True)
class Column:
    """One generated column with its Chinese description and the kind of personal data it holds."""

    name: str
    values: Any  # a pyarrow Array
    description_zh: str
    personal_kind: PersonalKind = "none"


@dataclass(frozen=True)
class QualityIssue:
    """A deliberate data-quality problem in a demo dataset: `kind` on `column`, in `share` of the rows."""

    column: str
    kind: str
    share: float
    description: str

    def rows(self, total: int) -> int:
        """How many of `total` rows carry the problem (at least one)."""
        return max(1, round(total * self.share))


@dataclass(frozen=True)
class DatasetSpec:
    """What a demo dataset is, who owns it, how many rows per size, and the function that builds its columns."""

    name: str
    title_zh: str
    title_en: str
    description_zh: str
    owner_department: str
    rows: Mapping[Size, int]
    build: Callable[[int, Size, int], list[Column]]


# --- random streams and array helpers --------------------------------------------------------------------------


def stream(seed: int, dataset: str, part: str) -> np.random.Generator:
    """The random stream of one part of one dataset: independent of every other dataset and part."""
    key = zlib.crc32(f"{dataset}/{part}".encode())
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(key,))))


def _weights(values: Any) -> Float:
    array = np.asarray(values, dtype=np.float64)
    return np.asarray(array / array.sum(), dtype=np.float64)


def _choose(rng: np.random.Generator, weights: Any, n: int) -> Int:
    return rng.choice(len(weights), size=n, p=_weights(weights)).astype(np.int64)


def _by_group(rng: np.random.Generator, groups: Int, table: Float) -> Int:
    """For each row, a category drawn from the probability row `table[group]` — one search for all groups: group
    `g`'s cumulative shares are shifted to (g, g + 1]."""
    width = table.shape[1]
    cumulative = np.cumsum(table, axis=1)
    cumulative /= cumulative[:, -1:]
    shifted = (np.arange(len(table))[:, None] + cumulative).ravel()
    position = np.searchsorted(shifted, groups + rng.random(len(groups)), side="right")
    return np.asarray(np.minimum(position - groups * width, width - 1), dtype=np.int64)


def _strings(values: Any) -> Any:
    return pa.array(list(values), pa.string())


def _take(values: Any, index: Int) -> Any:
    pool = values if isinstance(values, pa.Array) else _strings(values)
    return pool.take(pa.array(index))


def _join(*parts: Any) -> Any:
    return pc.binary_join_element_wise(*parts, "")


def _text(numbers: Int) -> Any:
    return pc.cast(pa.array(numbers), pa.string())


def _padded(numbers: Int, width: int) -> Any:
    return pc.utf8_lpad(_text(numbers), width, "0")


def _with_nulls(values: Any, missing: Bool) -> Any:
    """`values` with nulls where `missing` (by a validity bitmap over the same buffers: no copy of the data)."""
    if not missing.any():
        return values
    if values.offset or values.null_count:
        return pc.if_else(pa.array(missing), pa.scalar(None, values.type), values)
    validity = pa.py_buffer(np.packbits(~missing, bitorder="little").tobytes())
    buffers = [validity, *values.buffers()[1:]]
    return pa.Array.from_buffers(values.type, len(values), buffers, null_count=int(missing.sum()))


@cache
def _digit_table() -> npt.NDArray[np.uint32]:
    """The four ASCII digits of 0000–9999, each packed in one uint32 so that a lookup moves four bytes at once."""
    numbers = np.arange(10_000)
    digits = np.stack([numbers // 1000, numbers // 100 % 10, numbers // 10 % 10, numbers % 10], axis=1) + ord("0")
    return np.ascontiguousarray(digits.astype(np.uint8)).view(np.uint32).ravel()


def _digits(numbers: Int, width: int) -> npt.NDArray[np.uint8]:
    """The decimal digits of `numbers` as ASCII, most significant first, in an (n, width) matrix."""
    chunks = []
    rest, end = numbers, width
    while end > 0:  # four digits at a time, looked up
        step = min(4, end)
        chunks.append(_digit_table()[rest % 10**step].view(np.uint8).reshape(-1, 4)[:, 4 - step :])
        rest, end = rest // 10**step, end - step
    return np.concatenate(chunks[::-1], axis=1) if len(chunks) > 1 else np.ascontiguousarray(chunks[0])


def fixed_width_strings(chars: npt.NDArray[np.uint8]) -> Any:
    """A pyarrow string array from an (n, width) matrix of ASCII bytes, without a Python loop."""
    n, width = chars.shape
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    data = np.ascontiguousarray(chars)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets.tobytes()), pa.py_buffer(data.tobytes()))


def _dates(values: Dates) -> Any:
    return pa.array(values.astype("datetime64[D]"), pa.date32())


def _year_month_day(dates: Dates) -> tuple[Int, Int, Int]:
    """Year, month and day of each date, by integer arithmetic (numpy's calendar casts are slow on millions)."""
    z = dates.astype("datetime64[D]").astype(np.int64) + 719468  # days since 0000-03-01 (proleptic Gregorian)
    era = z // 146097
    day_of_era = z - era * 146097
    year_of_era = (day_of_era - day_of_era // 1460 + day_of_era // 36524 - day_of_era // 146096) // 365
    day_of_year = day_of_era - (365 * year_of_era + year_of_era // 4 - year_of_era // 100)
    shifted = (5 * day_of_year + 2) // 153  # months counted from March
    day = day_of_year - (153 * shifted + 2) // 5 + 1
    month = np.where(shifted < 10, shifted + 3, shifted - 9)
    return year_of_era + era * 400 + (month <= 2), month, day


def _year_starts(years: Int) -> tuple[Dates, Dates]:
    """The first and last day of each year in `years` (looked up, not cast, for speed)."""
    low, high = int(years.min()), int(years.max())
    bounds = np.arange(f"{low}", f"{high + 2}", dtype="datetime64[Y]").astype("datetime64[D]")
    last = bounds - np.timedelta64(1, "D")
    return np.asarray(bounds[years - low]), np.asarray(last[years - low + 1])


def _random_dates(rng: np.random.Generator, low: Dates, high: Dates) -> Dates:
    """A uniform day between `low` and `high` inclusive, row by row."""
    span = (high - low).astype(np.int64) + 1
    offset = np.floor(rng.random(len(span)) * span).astype(np.int64)
    return np.asarray(low + offset.astype("timedelta64[D]"))


def _unique(keys: Int) -> Bool:
    """True for every row whose key already appeared in an earlier row (duplicates are rare: sort, then look closer)."""
    ordered = np.sort(keys)
    repeated_keys = np.unique(ordered[1:][ordered[1:] == ordered[:-1]])
    repeated = np.zeros(len(keys), dtype=np.bool_)
    if len(repeated_keys):
        position = np.minimum(np.searchsorted(repeated_keys, keys), len(repeated_keys) - 1)
        rows = np.flatnonzero(repeated_keys[position] == keys)
        _, first = np.unique(keys[rows], return_index=True)
        repeated[rows] = True
        repeated[rows[first]] = False
    return repeated


def _mobiles(rng: np.random.Generator, n: int) -> npt.NDArray[np.uint8]:
    prefixes = np.array([int(p) for p in names.MOBILE_PREFIXES], dtype=np.int64)
    numbers = prefixes[rng.integers(0, len(prefixes), n)] * 10**8 + rng.integers(0, 10**8, n)
    return _digits(numbers, 11)


def _landlines(rng: np.random.Generator, n: int) -> Any:
    """Hainan fixed-line numbers: area code 0898 and eight digits."""
    first = np.array([2, 3, 6, 8], dtype=np.int64)[rng.integers(0, 4, n)]
    return _join("0898-", _text(first * 10**7 + rng.integers(0, 10**7, n)))


def _malformed_phones(values: Any, rows: Int, rng: np.random.Generator) -> Any:
    """`values` with the phones of `rows` broken in turn: a digit missing, a digit too many, a 12 prefix."""
    broken = []
    for i, phone in enumerate(values.take(pa.array(rows)).to_pylist()):
        digit = str(int(rng.integers(0, 10)))
        broken.append((phone[:10], phone + digit, "12" + phone[2:])[i % 3])
    mask = np.zeros(len(values), dtype=np.bool_)
    mask[rows] = True
    order = np.argsort(rows, kind="stable")
    return pc.replace_with_mask(values, pa.array(mask), pa.array([broken[i] for i in order], pa.string()))


# --- check digits (the validators in yiwang.core.validators are the reference; tests compare) --------------------

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = np.frombuffer(b"10X98765432", dtype=np.uint8)
CREDIT_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_BYTES = np.frombuffer(CREDIT_CHARSET.encode(), dtype=np.uint8)
_CREDIT_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_VALUE = np.array([int(c, 36) for c in CREDIT_CHARSET], dtype=np.int64)  # GB 11714: A=10 … Z=35


@cache
def _weighted_digit_sums(weights: tuple[int, ...]) -> Int:
    """For every number of len(weights) digits, the sum of its digits times `weights` (a lookup table)."""
    digits = _digits(np.arange(10 ** len(weights), dtype=np.int64), len(weights)).astype(np.int64) - ord("0")
    return np.asarray(digits @ np.array(weights, dtype=np.int64), dtype=np.int64)


def citizen_ids(prefix: Int, birth: Int, sequence: Int) -> npt.NDArray[np.uint8]:
    """GB 11643 ID numbers as an (n, 18) ASCII matrix: division prefix, birth date (yyyymmdd), sequence, check."""
    body = np.concatenate([_digits(prefix, 6), _digits(birth, 8), _digits(sequence, 3)], axis=1)
    w = _ID_WEIGHTS
    total = (  # the weighted digit sum, four digits at a time
        _weighted_digit_sums(w[0:2])[prefix // 10000]
        + _weighted_digit_sums(w[2:6])[prefix % 10000]
        + _weighted_digit_sums(w[6:10])[birth // 10000]
        + _weighted_digit_sums(w[10:14])[birth % 10000]
        + _weighted_digit_sums(w[14:17])[sequence]
    )
    return np.concatenate([body, _ID_CHECK[total % 11][:, None]], axis=1)


def credit_codes(body: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """GB 32100 codes as an (n, 18) ASCII matrix from the first 16 characters given as charset indices.

    Characters 9–17 are a GB 11714 organisation code: the 17th is its check character, the 18th checks them all.
    """
    org = np.zeros(len(body), dtype=np.int64)
    for i, weight in enumerate(_ORG_WEIGHTS):
        org += _ORG_VALUE[body[:, 8 + i]] * weight
    org_check = 11 - org % 11
    org_check = np.where(org_check == 11, 0, np.where(org_check == 10, CREDIT_CHARSET.index("X"), org_check))
    seventeen = np.concatenate([body.astype(np.int64), org_check[:, None]], axis=1)
    total = np.zeros(len(body), dtype=np.int64)
    for i, weight in enumerate(_CREDIT_WEIGHTS):
        total += seventeen[:, i] * weight
    check = (31 - total % 31) % 31
    return np.asarray(_CREDIT_BYTES[np.concatenate([seventeen, check[:, None]], axis=1)], dtype=np.uint8)


def _break_check(chars: npt.NDArray[np.uint8], rows: Int, alphabet: bytes, rng: np.random.Generator) -> None:
    """Replace the last character of `rows` with a different character of `alphabet` (in place)."""
    codes = np.frombuffer(alphabet, dtype=np.uint8)
    position = np.searchsorted(np.sort(codes), chars[rows, -1])
    shifted = (position + rng.integers(1, len(codes), len(rows))) % len(codes)
    chars[rows, -1] = np.sort(codes)[shifted]


def _issue_rows(rng: np.random.Generator, total: int, issues: tuple[QualityIssue, ...]) -> dict[str, Int]:
    """Disjoint random rows for each issue; a duplicate-row issue gets twice as many (targets, then sources)."""
    wanted = [issue.rows(total) * (2 if issue.kind == "duplicate_row" else 1) for issue in issues]
    picked = rng.choice(total, size=sum(wanted), replace=False).astype(np.int64)
    bounds = np.cumsum([0, *wanted])
    return {issue.kind: picked[bounds[i] : bounds[i + 1]] for i, issue in enumerate(issues)}


def _duplicate_order(total: int, rows: Int) -> Int:
    """A row order in which the first half of `rows` repeat the second half exactly."""
    order = np.arange(total, dtype=np.int64)
    half = len(rows) // 2
    order[rows[:half]] = rows[half:]
    return order


# --- 1. population-registry -------------------------------------------------------------------------------------

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

QUALITY_ISSUES: dict[str, tuple[QualityIssue, ...]] = {
    POPULATION: (
        QualityIssue("person_id", "invalid_check_digit", 0.001, "ID number with a wrong check digit"),
        QualityIssue("phone", "malformed_phone", 0.001, "a digit missing, a digit too many, or a 12 prefix"),
        QualityIssue("*", "duplicate_row", 0.001, "the same person registered twice: an exact copy of another row"),
        QualityIssue("household_address", "missing_value", 0.001, "address left empty (null)"),
        QualityIssue("registered_at", "inconsistent_dates", 0.001, "registered before the date of birth"),
    ),
    "enterprise-registry": (
        QualityIssue("credit_code", "invalid_check_char", 0.001, "credit code with a wrong check character"),
        QualityIssue("phone", "malformed_phone", 0.001, "a digit missing, a digit too many, or a 12 prefix"),
        QualityIssue("*", "duplicate_row", 0.001, "the same enterprise listed twice: an exact copy of another row"),
        QualityIssue("legal_representative", "missing_value", 0.001, "legal representative left empty (null)"),
        QualityIssue("established_on", "out_of_range", 0.001, "established after the reference date"),
    ),
    "weather-daily": (
        QualityIssue("temp_max", "missing_value", 0.005, "station outage: temp_max, temp_min, humidity null"),
    ),
}


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


# --- 2. enterprise-registry -------------------------------------------------------------------------------------

ENTERPRISES = "enterprise-registry"

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


# --- 3. service-halls -------------------------------------------------------------------------------------------

HALLS = "service-halls"
_HOURS = (
    "周一至周五 08:30-12:00 14:30-17:30",
    "周一至周五 08:00-12:00 14:30-17:30",
    "周一至周五 08:30-17:30（中午不休）；周六 09:00-12:00",
    "周一至周日 09:00-17:00；24小时自助服务区",
)


def _island(gaz: Gazetteer) -> Bool:
    """County-level units on Hainan island (三沙's districts are islets far out at sea: no map points)."""
    return np.array([not code.startswith("4603") for code in gaz.codes])


def _near(rng: np.random.Generator, gaz: Gazetteer, town: Int, spread: Float) -> tuple[Float, Float]:
    """Points scattered around their town and kept on the island, rounded to six decimals (about 0.1 m)."""
    anchor_lon, anchor_lat = gaz.town_lon[town], gaz.town_lat[town]
    lon = anchor_lon + rng.normal(0.0, 1.0, len(town)) * spread
    lat = anchor_lat + rng.normal(0.0, 1.0, len(town)) * spread * 0.9
    lon, lat = names.clip_to_island(lon, lat, anchor_lon, anchor_lat)
    return np.round(lon, 6), np.round(lat, 6)


def _service_halls(seed: int, size: Size, n: int) -> list[Column]:
    gaz = gazetteer()

    def rng(part: str) -> np.random.Generator:
        return stream(seed, HALLS, part)

    island = _island(gaz)
    seat = gaz.town_first
    top: list[tuple[str, int, int]] = [("海南省政务服务中心", gaz.index("460106"), 0)]
    top += [(f"{city}政务服务中心", gaz.index(code), 1) for city, code in (("海口市", "460106"), ("三亚市", "460203"))]
    top += [
        (f"{gaz.short[i]}政务服务中心", int(i), 1 if gaz.codes[i] == "460400" else 2) for i in np.flatnonzero(island)
    ]
    towns = np.flatnonzero(island[gaz.town_county])
    pick = rng("towns")
    chosen_towns = np.sort(pick.choice(towns, size=min(n - len(top), len(towns)), replace=False))
    villages = np.flatnonzero(island[gaz.town_county[np.repeat(np.arange(len(gaz.town_name)), gaz.village_count)]])
    rest = n - len(top) - len(chosen_towns)
    if rest > len(villages):
        raise RuntimeError(f"{HALLS}: {n} halls asked for, the gazetteer has room for fewer")
    chosen_villages = np.sort(pick.choice(villages, size=rest, replace=False))
    village_town = np.repeat(np.arange(len(gaz.town_name)), gaz.village_count)[chosen_villages]

    level = np.concatenate([[t[2] for t in top], np.full(len(chosen_towns), 3), np.full(rest, 4)]).astype(np.int64)
    town = np.concatenate([seat[[t[1] for t in top]], chosen_towns, village_town]).astype(np.int64)
    county = gaz.town_county[town]
    local = _join(_take(gaz.short, county), _take(gaz.town_name, town))
    village_names = _take(gaz.village_name, chosen_villages)
    name = pa.concat_arrays(
        [
            _strings(t[0] for t in top),
            _join(local.slice(len(top), len(chosen_towns)), "便民服务中心"),
            _join(local.slice(len(top) + len(chosen_towns)), village_names, "便民服务站"),
        ]
    )
    place = rng("address")
    addresses = address(place, town)
    in_village = _join(
        _take(gaz.label, county[-rest:] if rest else county[:0]),
        _take(gaz.town_name, village_town),
        village_names,
        _text(place.integers(1, 120, rest)),
        "号",
    )
    addresses = pa.concat_arrays([addresses.slice(0, n - rest), in_village])
    lon, lat = _near(rng("position"), gaz, town, np.array([0.004, 0.006, 0.008, 0.01, 0.03])[level])
    staff = rng("windows")
    low, high = np.array([[120, 160], [60, 110], [20, 60], [3, 12], [1, 3]]).T
    hours = rng("hours")
    opening = np.where(level <= 2, hours.integers(0, 4, n), hours.integers(0, 2, n))
    prefix = _join("ZW", _take(gaz.codes, county), "-")
    return [
        Column("hall_id", _join(prefix, _padded(np.arange(1, n + 1), 4)), "政务服务场所编号"),
        Column("name", name, "政务服务中心（便民服务中心、站）名称"),
        Column("level", _take(("省级", "市级", "县级", "乡镇（街道）级", "村（社区）级"), level), "层级"),
        Column("division", _take(gaz.codes, county), "所在县级行政区划代码（GB/T 2260）"),
        Column("address", addresses, "地址"),
        Column("longitude", pa.array(lon), "经度（CGCS2000，度）"),
        Column("latitude", pa.array(lat), "纬度（CGCS2000，度）"),
        Column("opening_hours", _take(_HOURS, opening), "办公时间"),
        Column("phone", _landlines(rng("phone"), n), "咨询电话"),
        Column("window_count", pa.array(staff.integers(low[level], high[level] + 1), pa.int32()), "服务窗口数"),
    ]


# --- 4. tourism-monthly -----------------------------------------------------------------------------------------

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


# --- 5. weather-daily -------------------------------------------------------------------------------------------

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


# --- 6. disaster-facilities -------------------------------------------------------------------------------------

FACILITIES = "disaster-facilities"
# fmt: off
#: type, share, kinds: (name pattern, median capacity in people or 0 for none, median area m², with a village)
_FACILITY_TYPES: tuple[tuple[str, float, tuple[tuple[str, float, float, bool], ...]], ...] = (
    ("应急避难场所", 0.45, (("学校应急避难场所", 1200, 0, True), ("广场应急避难场所", 3000, 0, True),
                         ("公园应急避难场所", 6000, 0, True), ("体育馆应急避难场所", 2500, 0, True),
                         ("综合服务中心应急避难场所", 200, 0, True))),
    ("物资储备库", 0.10, (("应急物资储备库", 0, 1500, False), ("应急物资储备点", 0, 300, True))),
    ("消防站", 0.10, (("消防救援站", 0, 3500, False), ("政府专职消防队", 0, 1800, False))),
    ("防风防汛设施", 0.35, (("防风避险点", 250, 0, True), ("排涝泵站", 0, 600, True), ("避风锚地", 0, 40000, False),
                          ("防洪堤", 0, 12000, True))),
)
# fmt: on


def _ordinal(keys: Int) -> Any:
    """ "" for the first row of each key, "（2）", "（3）" … for later ones, so that names stay unique."""
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    starts = np.flatnonzero(np.concatenate([[True], ordered[1:] != ordered[:-1]]))
    rank = np.empty(len(keys), dtype=np.int64)
    rank[order] = np.arange(len(keys)) - np.repeat(starts, np.diff(np.append(starts, len(keys))))
    return pc.if_else(pa.array(rank > 0), _join("（", _text(rank + 1), "）"), pa.scalar(""))


def _facilities(seed: int, size: Size, n: int) -> list[Column]:
    gaz = gazetteer()

    def rng(part: str) -> np.random.Generator:
        return stream(seed, FACILITIES, part)

    where = rng("division")
    county = np.sort(_choose(where, _county_weights() * _island(gaz), n))
    town = _towns_in(where, gaz, county)
    kinds = [(t, *k) for t, (_, _, ks) in enumerate(_FACILITY_TYPES) for k in ks]
    pick = rng("type")
    kind_type = np.array([k[0] for k in kinds])
    kind = np.zeros(n, dtype=np.int64)
    ftype = _choose(pick, [share for _, share, _ in _FACILITY_TYPES], n)
    for t in range(len(_FACILITY_TYPES)):
        rows = np.flatnonzero(ftype == t)
        kind[rows] = np.flatnonzero(kind_type == t)[pick.integers(0, (kind_type == t).sum(), len(rows))]
    village = gaz.village_first[town] + np.floor(pick.random(n) * gaz.village_count[town]).astype(np.int64)
    with_village = np.array([k[4] for k in kinds])[kind]
    local = _join(_take(gaz.short, county), _take(gaz.town_name, town))
    name = pc.if_else(pa.array(with_village), _join(local, _take(gaz.village_name, village)), local)
    name = _join(
        name, _take([k[1] for k in kinds], kind), _ordinal(kind * 10**7 + np.where(with_village, village, town))
    )

    size_rng = rng("capacity")
    people = np.array([k[2] for k in kinds], dtype=np.float64)[kind]
    area = np.array([k[3] for k in kinds], dtype=np.float64)[kind]
    capacity = np.round(people * np.exp(size_rng.normal(0.0, 0.6, n)), -1).astype(np.int64)
    per_person = size_rng.uniform(1.5, 3.0, n)  # 避难场所: at least 1.5 m² of usable area per person
    area = np.where(people > 0, capacity * per_person, area * np.exp(size_rng.normal(0.0, 0.5, n)))
    lon, lat = _near(rng("position"), gaz, town, np.full(n, 0.03))
    return [
        Column("facility_id", _join("YJ", _take(gaz.codes, county), "-", _padded(np.arange(1, n + 1), 6)), "设施编号"),
        Column("name", name, "设施名称"),
        Column("type", _take([t for t, _, _ in _FACILITY_TYPES], ftype), "设施类型"),
        Column("division", _take(gaz.codes, county), "所在县级行政区划代码（GB/T 2260）"),
        Column("address", address(rng("address"), town), "地址"),
        Column("longitude", pa.array(lon), "经度（CGCS2000，度）"),
        Column("latitude", pa.array(lat), "纬度（CGCS2000，度）"),
        Column("capacity_people", _with_nulls(pa.array(capacity), people == 0), "可容纳人数（避难、避险场所）"),
        Column("area_m2", pa.array(np.round(np.maximum(area, 50.0), -1)), "占地或有效避难面积（平方米）"),
    ]


# --- the registry -----------------------------------------------------------------------------------------------

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
        {"small": 1_000, "medium": 50_000, "large": 1_000_000},
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
    ),
    DatasetSpec(
        WEATHER,
        "逐日气象观测",
        "Daily weather observations",
        "各市县国家气象观测站逐日最高、最低气温，降水量，相对湿度和最大风速，含台风季（7–10月）强降水。",
        "海南省气象局",
        {size: len(_weather_days(size)) * len(names.UNITS) for size in SIZES},
        _weather,
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
)

DATASET_NAMES: tuple[str, ...] = tuple(spec.name for spec in SPECS)
ROW_COUNTS: dict[str, dict[Size, int]] = {spec.name: dict(spec.rows) for spec in SPECS}


def spec(name: str) -> DatasetSpec:
    """The description of the demo dataset `name`; NotFound (``demo.dataset_not_found``) when there is none."""
    for candidate in SPECS:
        if candidate.name == name:
            return candidate
    raise NotFound("demo.dataset_not_found", N_("There is no demo dataset named {name}"), name=name)


def generate(name: str, seed: int, size: Size) -> Any:
    """The demo dataset `name` as a pyarrow Table: the same seed and size give the same rows, byte for byte."""
    described = spec(name)
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
    }
    table = pa.Table.from_arrays([c.values for c in columns], schema=pa.schema(fields, metadata=metadata))
    if table.num_rows != rows:
        raise RuntimeError(f"{name}: generated {table.num_rows} rows, {rows} expected")
    return table
