"""Profiling of a dataset version 数据画像: the quality report 数据质量报告 and sensitive-field detection 敏感字段识别.

Both are pure functions of a Parquet file, read through an in-memory DuckDB connection (two threads, 1 GB, spilling
to a private temporary directory; no extension is installed or loaded).

**Detection** (`detect_personal_kinds`) reads the first `sample_rows` rows and decides each column from its values
first, its header second: 80 % of the non-null sampled values valid citizen ID numbers → ``id_number`` whatever the
header, likewise credit codes → ``credit_code`` and mobile numbers → ``phone``; then a header naming ID numbers or
credit codes (whatever the values: a broken ID column is still personal data), a phone header over values mostly
mobile, a person header over short Han names, an address header over Chinese addresses, long or remark-like text
holding an ID or mobile number → ``free_text``; else ``none``. An address column in a dataset where no other column
identifies a person keeps the kind at half the confidence: the publisher confirms.

**Quality report** (`quality_report`): row count, exact duplicate rows (rows equal to an earlier row), and per field
null count and rate, distinct count (exact up to `EXACT_DISTINCT_MAX_ROWS` rows, a HyperLogLog estimate beyond),
min/max as text (never for personal kinds other than ``credit_code``) and invalid values: citizen ID numbers, credit
codes, phones (a mainland mobile, or a fixed-line, 400/800 or short service number) and division codes (columns
whose header names a division and whose values are mostly six digits). DuckDB confirms the well-formed values with
a SQL transcription of the validators; the core validators in Python judge every distinct value it does not confirm.
All of it comes from one scan; duplicates are counted from 64-bit row hashes, and only when hashes repeat are those
rows compared whole (a second query), so a collision never miscounts.

The **score** (0–100) is ``100 × (0.4 × completeness + 0.4 × validity + 0.2 × uniqueness)``, rounded to 0.01, where
completeness = 1 − nulls / (rows × fields), validity = 1 − invalid values / non-null values of the checked fields,
uniqueness = 1 − duplicate rows / rows; a part with nothing to measure (no rows, no checked field) counts as 1, so an
empty version scores 100.
"""

from __future__ import annotations

import math
import re
import tempfile
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from yiwang.core import divisions
from yiwang.core.errors import InvalidInput
from yiwang.core.i18n import N_
from yiwang.core.masking import ID_IN_TEXT, MOBILE_IN_TEXT, PersonalKind
from yiwang.core.validators import (
    CITIZEN_ID_CHECK,
    CITIZEN_ID_WEIGHTS,
    CREDIT_CODE_CHARSET,
    CREDIT_CODE_TYPES,
    CREDIT_CODE_WEIGHTS,
    EARLIEST_BIRTH_YEAR,
    NATIONAL_DIVISION_PREFIX,
    RESIDENCE_PERMIT_PREFIXES,
    is_citizen_id,
    is_credit_code,
    is_mobile_phone,
    validate_division_code,
)

EXACT_DISTINCT_MAX_ROWS = 5_000_000
UNCONFIRMED_KEPT = 100_000  # values a rule leaves unconfirmed that the scan keeps for Python to judge
VALUE_SHARE = 0.8  # share of sampled values that decides a kind
MIN_MAX_CHARS = 50
DUCKDB_CONFIG: dict[str, str | int] = {
    "threads": 2,
    "memory_limit": "1GB",
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}

INTEGER_TYPES = frozenset(
    ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT")
)
SCALAR_TYPE_PREFIXES = (*INTEGER_TYPES, "FLOAT", "DOUBLE", "DECIMAL", "DATE", "TIME", "VARCHAR", "BOOLEAN", "UUID")
SHOWN_KINDS = frozenset({PersonalKind.NONE, PersonalKind.CREDIT_CODE})


# --- public values -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldQuality:
    """Quality figures of one field 字段质量; `min`/`max` are None for personal fields and non-scalar types."""

    name: str
    type: str
    null_count: int
    null_rate: float
    distinct_count: int
    min: str | None
    max: str | None
    invalid_count: int | None
    invalid_rule: str | None


@dataclass(frozen=True)
class QualityReport:
    """The quality report of one dataset version 数据质量报告 (score formula in the module docstring)."""

    row_count: int
    duplicate_rows: int
    fields: list[FieldQuality]
    score: float

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; `from_dict` gives the report back."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> QualityReport:
        """The report stored by `to_dict`."""
        return cls(
            row_count=int(data["row_count"]),
            duplicate_rows=int(data["duplicate_rows"]),
            fields=[FieldQuality(**item) for item in data["fields"]],
            score=float(data["score"]),
        )


@dataclass(frozen=True)
class KindGuess:
    """The detected personal-data kind of a field 敏感字段识别结果, for the publisher to confirm.

    `reason` is in English; `message` is its msgid and `params` its values, so `render` can show it translated.
    """

    field: str
    kind: PersonalKind
    confidence: float
    reason: str
    message: str = ""
    params: tuple[tuple[str, str], ...] = ()

    def render(self, translate: Callable[[str], str] | None = None) -> str:
        """The reason in the language of `translate` (a gettext callable), English when none is given."""
        if not self.message or translate is None:
            return self.reason
        return translate(self.message).format(**dict(self.params))


def _guess(field: str, kind: PersonalKind, confidence: float, message: str, /, **params: str) -> KindGuess:
    return KindGuess(
        field, kind, round(confidence, 3), message.format(**params), message, tuple(sorted(params.items()))
    )


# --- DuckDB access -------------------------------------------------------------------------------------------------


@contextmanager
def _connect() -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory connection that spills, if it must, to its own temporary directory (not the working one)."""
    with tempfile.TemporaryDirectory(prefix="yiwang-profile-") as spill:
        connection = duckdb.connect(":memory:", config={**DUCKDB_CONFIG, "temp_directory": spill})
        try:
            yield connection
        finally:
            connection.close()


def _source(parquet: Path) -> str:
    return "read_parquet('" + str(parquet).replace("'", "''") + "')"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _columns(connection: duckdb.DuckDBPyConnection, source: str) -> list[tuple[str, str]]:
    """(name, DuckDB type) of each column, in order."""
    return [(row[0], row[1]) for row in connection.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()]


def _is_scalar(duck_type: str) -> bool:
    return duck_type.startswith(SCALAR_TYPE_PREFIXES) and not duck_type.endswith("]")


def _is_textual(duck_type: str) -> bool:
    """Types whose values may be codes or text: strings, and integers (an ID or phone number read as a number)."""
    return duck_type == "VARCHAR" or duck_type in INTEGER_TYPES


# --- headers -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Header:
    """Words naming a kind in a header: Chinese ones anywhere in it, English ones as the whole header or its last
    words (``applicant_id_number``), short ones and pinyin initials (XM, SFZH) only as the whole header."""

    chinese: tuple[str, ...]
    ending: tuple[str, ...]
    whole: tuple[str, ...] = ()

    def matches(self, header: str) -> bool:
        text = unicodedata.normalize("NFKC", header).strip()
        if any(word in text for word in self.chinese):
            return True
        key = re.sub(r"[^0-9a-z]+", "_", re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", text).lower()).strip("_")
        return key in self.whole or any(key == word or key.endswith("_" + word) for word in self.ending)


ID_HEADER = _Header(
    ("身份证", "证件号", "身份号码", "公民身份"),
    ("id_number", "id_no", "id_card", "idcard", "id_card_no", "id_card_number", "citizen_id", "identity_number",
     "identity_card", "national_id"),
    ("idnumber", "sfz", "sfzh", "sfzhm", "zjhm"),
)  # fmt: skip
CREDIT_HEADER = _Header(("信用代码",), ("credit_code", "social_credit_code", "uscc"), ("creditcode", "tyshxydm"))
PHONE_HEADER = _Header(
    ("电话", "手机", "联系方式"),
    ("phone", "mobile", "telephone", "phone_number", "phone_no", "cellphone", "tel"),
    ("lxdh", "sjhm", "sjh", "dh", "phonenumber"),
)
NAME_HEADER = _Header(
    ("姓名", "名字", "法定代表人", "法人代表", "联系人", "负责人", "经营者", "户主", "申请人"),
    ("full_name", "person_name", "real_name", "contact", "contact_name", "contact_person", "legal_representative",
     "legal_person", "representative", "householder", "applicant", "applicant_name"),
    ("name", "fullname", "realname", "xm"),
)  # fmt: skip
ADDRESS_HEADER = _Header(
    ("地址", "住址", "住所", "所在地", "居住地", "户籍地"),
    ("address", "addr", "residence"),
    ("dz", "zz", "hjdz", "jzdz"),
)
FREE_TEXT_HEADER = _Header(
    ("备注", "描述", "说明", "情况", "内容", "意见"),
    ("description", "comment", "comments", "remark", "remarks", "note", "notes", "memo", "content"),
    ("bz",),
)
DIVISION_HEADER = _Header(("区划", "行政区"), ("division", "adcode", "ad_code", "division_code"), ("xzqh", "xzqhdm"))
EMPTY_SAMPLE_HEADERS = (
    (PersonalKind.ID_NUMBER, ID_HEADER),
    (PersonalKind.CREDIT_CODE, CREDIT_HEADER),
    (PersonalKind.PHONE, PHONE_HEADER),
    (PersonalKind.NAME, NAME_HEADER),
    (PersonalKind.ADDRESS, ADDRESS_HEADER),
    (PersonalKind.FREE_TEXT, FREE_TEXT_HEADER),
)


# --- value shapes --------------------------------------------------------------------------------------------------

HAN = "\u4e00-\u9fff\u3400-\u4dbf\uf900-\ufaff"
SHORT_HAN_NAME = re.compile(rf"[{HAN}]{{2,4}}|[{HAN}]+(?:[·•・.][{HAN}]+)+")  # 张三, 欧阳娜娜, 买买提·艾力
HAN_CHAR = re.compile(rf"[{HAN}]")
ADDRESS_MARKER = re.compile(r"[省市县区镇乡村路街道巷弄号栋幢楼室组]")
FIXED_LINE = re.compile(
    r"(?:\(?0[1-9][0-9]{1,2}\)?-?)?[2-9][0-9]{6,7}(?:(?:-|转|ext\.?)[0-9]{1,6})?"  # (0898)6523-1234 转 01
    r"|[48]00-?[0-9]{3}-?[0-9]{4}"  # 400/800 numbers
    r"|1(?:[01][0-9]|2[0-9]{1,3})|9[56][0-9]{3}"  # 110, 12345, 95588
)
LONG_TEXT_CHARS = 30


def is_phone_number(value: str) -> bool:
    """Whether `value` is a phone number: a mainland mobile, or a fixed-line, 400/800 or short service number."""
    if is_mobile_phone(value):
        return True
    compact = re.sub(r"\s", "", unicodedata.normalize("NFKC", value)).lower()
    return FIXED_LINE.fullmatch(compact) is not None


def _is_division_code(value: str) -> bool:
    try:
        validate_division_code(value)
    except InvalidInput:
        return False
    return True


def _is_short_name(value: str) -> bool:
    return SHORT_HAN_NAME.fullmatch(value) is not None


def _looks_like_address(value: str) -> bool:
    """Three Han characters or more, one of them a place word (省 市 县 区 镇 路 号 …)."""
    return ADDRESS_MARKER.search(value) is not None and len(HAN_CHAR.findall(value)) >= 3


def _has_number_inside(value: str) -> bool:
    return ID_IN_TEXT.search(value) is not None or MOBILE_IN_TEXT.search(value) is not None


def _share(values: Sequence[str], test: Callable[[str], bool]) -> float:
    return sum(1 for value in values if test(value)) / len(values)


def _percent(share: float) -> str:
    return f"{math.floor(share * 100 + 1e-9)}%"  # never rounds 99.6 % up to "100%"


# --- detection -----------------------------------------------------------------------------------------------------


def detect_personal_kinds(parquet: Path, *, sample_rows: int = 1000) -> list[KindGuess]:
    """The personal-data kind of each column (in column order), guessed from its first `sample_rows` rows."""
    with _connect() as connection:
        source = _source(parquet)
        columns = _columns(connection, source)
        textual = [name for name, duck_type in columns if _is_textual(duck_type)]
        samples: dict[str, list[str]] = {name: [] for name in textual}
        if textual:
            select = ", ".join(f"CAST({_quote(name)} AS VARCHAR)" for name in textual)
            rows = connection.execute(f"SELECT {select} FROM {source} LIMIT {int(sample_rows)}").fetchall()
            for row in rows:
                for name, value in zip(textual, row, strict=True):
                    if value is not None and value.strip():
                        samples[name].append(value.strip())
    guesses = [
        _guess_column(name, samples[name]) if name in samples else _not_text(name, duck_type)
        for name, duck_type in columns
    ]
    return _weigh_addresses(guesses)


def _not_text(name: str, duck_type: str) -> KindGuess:
    return _guess(
        name, PersonalKind.NONE, 1.0, N_("Values of type {type} are not checked for personal data"), type=duck_type
    )


# Values decide first, in this order: a column mostly of valid codes of one kind is that kind, whatever its header.
VALUE_RULES: tuple[tuple[PersonalKind, Callable[[str], bool], str], ...] = (
    (PersonalKind.ID_NUMBER, is_citizen_id, N_("{share} of {sampled} sampled values are valid citizen ID numbers")),
    (
        PersonalKind.CREDIT_CODE,
        is_credit_code,
        N_("{share} of {sampled} sampled values are valid unified social credit codes"),
    ),
    (PersonalKind.PHONE, is_mobile_phone, N_("{share} of {sampled} sampled values are mainland mobile phone numbers")),
)


def _guess_column(name: str, values: list[str]) -> KindGuess:
    """The kind of one column from its non-null sampled values and its header (rules in the module docstring)."""
    if not values:
        for kind, header in EMPTY_SAMPLE_HEADERS:
            if header.matches(name):
                return _guess(
                    name, kind, 0.3, N_("No values in the sample; the header suggests {kind}"), kind=kind.value
                )
        return _guess(name, PersonalKind.NONE, 0.5, N_("No values in the sample"))
    sampled = f"{len(values):,}"
    shares = {kind: _share(values, check) for kind, check, _message in VALUE_RULES}
    for kind, _check, message in VALUE_RULES:
        if shares[kind] >= VALUE_SHARE:
            return _guess(name, kind, shares[kind], message, share=_percent(shares[kind]), sampled=sampled)
    ids, credit, mobile = (shares[PersonalKind.ID_NUMBER], shares[PersonalKind.CREDIT_CODE], shares[PersonalKind.PHONE])
    if ID_HEADER.matches(name):
        return _guess(
            name,
            PersonalKind.ID_NUMBER,
            0.5 + 0.3 * ids,
            N_("The header names ID numbers, though only {share} of {sampled} sampled values are valid"),
            share=_percent(ids),
            sampled=sampled,
        )
    if CREDIT_HEADER.matches(name):
        return _guess(
            name,
            PersonalKind.CREDIT_CODE,
            0.5 + 0.3 * credit,
            N_("The header names credit codes, though only {share} of {sampled} sampled values are valid"),
            share=_percent(credit),
            sampled=sampled,
        )
    # Fixed lines alone are mostly offices' numbers; a column of mostly mobiles is people's.
    if PHONE_HEADER.matches(name) and mobile >= 0.5 and (phones := _share(values, is_phone_number)) >= VALUE_SHARE:
        return _guess(
            name,
            PersonalKind.PHONE,
            phones,
            N_("The header names phones and {share} of {sampled} sampled values are phone numbers, mostly mobile"),
            share=_percent(phones),
            sampled=sampled,
        )
    if NAME_HEADER.matches(name) and (names := _share(values, _is_short_name)) >= VALUE_SHARE:
        return _guess(
            name,
            PersonalKind.NAME,
            names,
            N_("The header names a person and {share} of {sampled} sampled values are short Chinese names"),
            share=_percent(names),
            sampled=sampled,
        )
    if ADDRESS_HEADER.matches(name) and (places := _share(values, _looks_like_address)) >= VALUE_SHARE:
        return _guess(
            name,
            PersonalKind.ADDRESS,
            places,
            N_("The header names an address and {share} of {sampled} sampled values look like Chinese addresses"),
            share=_percent(places),
            sampled=sampled,
        )
    long_text = sum(len(value) for value in values) / len(values) > LONG_TEXT_CHARS
    if (long_text or FREE_TEXT_HEADER.matches(name)) and (inside := _share(values, _has_number_inside)) > 0:
        return _guess(
            name,
            PersonalKind.FREE_TEXT,
            0.6 + 0.4 * inside,
            N_("{share} of {sampled} sampled values are text with an ID or mobile phone number inside"),
            share=_percent(inside),
            sampled=sampled,
        )
    return _guess(
        name,
        PersonalKind.NONE,
        1.0 - max(ids, credit, mobile),
        N_("No personal data found in {sampled} sampled values"),
        sampled=sampled,
    )


def _weigh_addresses(guesses: list[KindGuess]) -> list[KindGuess]:
    """An address is personal when it is a person's: without any column identifying a person (a list of service
    halls), address columns keep their kind at half the confidence, for the publisher to confirm."""
    people = {PersonalKind.ID_NUMBER, PersonalKind.NAME, PersonalKind.PHONE}
    if any(guess.kind in people for guess in guesses):
        return guesses
    weighed: list[KindGuess] = []
    for guess in guesses:
        if guess.kind is PersonalKind.ADDRESS and "share" in dict(guess.params):
            params = dict(guess.params)
            guess = _guess(
                guess.field,
                guess.kind,
                guess.confidence / 2,
                N_(
                    "The header names an address and {share} of {sampled} sampled values look like Chinese "
                    "addresses, but no other column identifies a person: confirm they are personal"
                ),
                **params,
            )
        weighed.append(guess)
    return weighed


# --- quality report ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Rule:
    """A validity rule: SQL that confirms well-formed valid values in bulk (it may leave a valid value unconfirmed,
    never confirm an invalid one), and the Python validator that judges every value left unconfirmed.

    The SQL is a template over the value ``{v}`` (as VARCHAR), the expressions `derived` from it (each named by its
    key, written ``{first17}``) and the reference table it may join (``{ref}``), so that the rules of several columns
    fit in one query."""

    name: str
    derived: tuple[tuple[str, str], ...]
    confirms: str
    check: Callable[[str], bool]
    reference: str | None = None

    def render(self, template: str, names: Mapping[str, str]) -> str:
        """`template` with each ``{name}`` placeholder replaced by the SQL that `names` gives for it."""
        for placeholder, sql in names.items():
            template = template.replace("{" + placeholder + "}", sql)
        return template


@cache
def _rules() -> dict[str, _Rule]:
    """The rules, transcribing `yiwang.core.validators` for the common, well-formed case (tested against them).

    An ID number's check digit is computed from its first 17 digits read as one BIGINT: four times faster than a
    `substr` per digit on a million values. (The same trick on a credit code's bytes, read from its hex form, was
    slower than `instr` per character: DuckDB does not share the repeated subexpressions.)
    """
    id_digits = " + ".join(
        f"({{first17}} // {10 ** (17 - position)} % 10) * {weight}"
        for position, weight in enumerate(CITIZEN_ID_WEIGHTS, start=1)
    )
    citizen_id = _Rule(
        "citizen_id",
        (
            ("first17", "TRY_CAST(substr({v}, 1, 17) AS BIGINT)"),
            ("birth", "TRY_CAST(substr({v}, 7, 4) || '-' || substr({v}, 11, 2) || '-' || substr({v}, 13, 2) AS DATE)"),
        ),
        f"regexp_full_match({{v}}, '[0-9]{{17}}[0-9X]') AND substr('{CITIZEN_ID_CHECK}', ({id_digits}) % 11 + 1, 1) "
        f"= substr({{v}}, 18, 1) AND year({{birth}}) >= {EARLIEST_BIRTH_YEAR} AND {{birth}} <= $today "
        "AND {ref}.last_year >= year({birth})",
        is_citizen_id,
        "id_prefix",
    )
    charset = CREDIT_CODE_CHARSET
    letters = f"[{charset}]"
    pairs = ", ".join(f"'{authority}{kind}'" for authority, kinds in CREDIT_CODE_TYPES.items() for kind in kinds)
    provinces = ", ".join(f"'{prefix}'" for prefix in _province_prefixes())
    char_sum = " + ".join(
        f"(instr('{charset}', substr({{v}}, {position}, 1)) - 1) * {weight}"
        for position, weight in enumerate(CREDIT_CODE_WEIGHTS, start=1)
    )
    credit_code = _Rule(
        "credit_code",
        (),
        f"regexp_full_match({{v}}, '{letters}{{2}}[0-9]{{6}}{letters}{{10}}') AND substr('{charset}', "
        f"(31 - ({char_sum}) % 31) % 31 + 1, 1) = substr({{v}}, 18, 1) AND substr({{v}}, 1, 2) IN ({pairs}) "
        f"AND substr({{v}}, 3, 2) IN ({provinces})",
        is_credit_code,
    )
    phone = _Rule("phone", (), f"regexp_full_match({{v}}, '1[3-9][0-9]{{9}}|{FIXED_LINE.pattern}')", is_phone_number)
    division_code = _Rule(
        "division_code", (), "length({v}) = 6 AND {ref}.last_year IS NOT NULL", _is_division_code, "division"
    )
    return {rule.name: rule for rule in (citizen_id, credit_code, phone, division_code)}


@cache
def _province_prefixes() -> tuple[str, ...]:
    """First two characters of a credit code's division accepted by the validator: provinces, and 10 (national)."""
    known = (f"{number:02d}" for number in range(100))
    return (NATIONAL_DIVISION_PREFIX, *(prefix for prefix in known if divisions.lookup(prefix) is not None))


@cache
def _reference(name: str) -> pa.Table:
    """Division codes with the last year each was in force (9999 while it is): ``division`` for division codes,
    ``id_prefix`` for the first six digits of ID numbers (residence-permit prefixes included)."""
    last_year: dict[str, int] = {}
    for division in divisions.all_divisions(current_only=False):
        years = [row.valid_to or 9999 for row in divisions.history(division.code)]
        last_year[division.code] = max(years)
    if name == "id_prefix":
        last_year.update(dict.fromkeys(RESIDENCE_PERMIT_PREFIXES, 9999))
    return pa.table({"code": list(last_year), "last_year": list(last_year.values())})


KIND_RULES = {
    PersonalKind.ID_NUMBER: "citizen_id",
    PersonalKind.CREDIT_CODE: "credit_code",
    PersonalKind.PHONE: "phone",
}
DIVISION_CODE_SHARE = 0.5  # of non-null values six digits, for a division-named column to be checked
PER_COLUMN = 5  # figures the report's query gives for each column: non-null, distinct, min, max, six-digit values
COLUMN_BATCH = 64  # columns counted in one scan


@dataclass(frozen=True)
class _Checked:
    """A column under a validity rule in the report's query: its index, rule, and the SQL names of its value, its
    derived expressions and its reference table."""

    index: int
    column: str
    rule: _Rule
    names: dict[str, str]

    def sql(self, template: str) -> str:
        return self.rule.render(template, self.names)

    @property
    def unconfirmed(self) -> str:
        return f"{self.names['v']} IS NOT NULL AND NOT coalesce({self.sql(self.rule.confirms)}, false)"


def quality_report(parquet: Path, kinds: Mapping[str, PersonalKind]) -> QualityReport:
    """The quality report of a Parquet version; `kinds` gives each field's personal kind (missing: none).

    One scan computes every figure, the rows left unconfirmed by each rule and (up to `UNCONFIRMED_KEPT` of them)
    their values; a second query runs only when rows may repeat (to confirm duplicates exactly) or a column has more
    unconfirmed values than were kept.
    """
    row_estimate = pq.read_metadata(parquet).num_rows
    distinct = "count(DISTINCT {})" if row_estimate <= EXACT_DISTINCT_MAX_ROWS else "approx_count_distinct({})"
    with _connect() as connection:
        source = _source(parquet)
        columns = _columns(connection, source)
        field_kinds = [PersonalKind(kinds.get(name, PersonalKind.NONE)) for name, _ in columns]
        division_candidates = {
            name for name, duck_type in columns if _is_textual(duck_type) and DIVISION_HEADER.matches(name)
        }
        checked = _checked_columns(columns, field_kinds, division_candidates)
        qualified = [f"s.{_quote(name)}" for name, _ in columns]
        per_column: list[list[str]] = []
        for (name, duck_type), kind, column in zip(columns, field_kinds, qualified, strict=True):
            parts = [f"count({column})", distinct.format(column)]
            if kind in SHOWN_KINDS and _is_scalar(duck_type):
                parts += [f"CAST(min({column}) AS VARCHAR)", f"CAST(max({column}) AS VARCHAR)"]
            else:
                parts += ["NULL", "NULL"]
            six_digits = f"regexp_full_match(CAST({column} AS VARCHAR), '[0-9]{{6}}')"
            parts.append(f"count(*) FILTER (WHERE {six_digits})" if name in division_candidates else "0")
            per_column.append(parts)
        first = per_column[:COLUMN_BATCH]
        parts = ["count(*)", f"count(DISTINCT hash({', '.join(qualified)}))", *(p for c in first for p in c)]
        for check in checked:
            parts += [
                f"count(*) FILTER (WHERE {check.names['unconfirmed']})",
                f"max({check.names['v']}, {UNCONFIRMED_KEPT}) FILTER (WHERE {check.names['unconfirmed']})",
            ]
        # fetchall, not fetchone: DuckDB refuses new work on a connection with an unfinished result.
        with _references(connection, checked):
            (figures,) = connection.execute(
                f"SELECT {', '.join(parts)} FROM {_checked_source(source, checked)}", _parameters(checked)
            ).fetchall()
            row_count, hashed_rows = int(figures[0]), int(figures[1])
            column_figures = list(figures[2 : 2 + PER_COLUMN * len(first)])
            # A wide file's columns are counted in further scans of COLUMN_BATCH columns: the aggregates of a few
            # hundred columns in one query ran DuckDB out of memory even over two rows.
            for start in range(COLUMN_BATCH, len(per_column), COLUMN_BATCH):
                batch = ", ".join(p for c in per_column[start : start + COLUMN_BATCH] for p in c)
                (more,) = connection.execute(f"SELECT {batch} FROM {source} AS s").fetchall()
                column_figures += more
            # Equal rows hash alike, so rows with a hash of their own are distinct: only the others need comparing.
            duplicate_rows = 0 if hashed_rows == row_count else _duplicate_rows(connection, source, columns)
            unconfirmed = figures[2 + PER_COLUMN * len(first) :]
            invalid_by_index = {
                check.index: _count_invalid(connection, source, check, int(count), values)
                for check, count, values in zip(checked, unconfirmed[0::2], unconfirmed[1::2], strict=True)
            }

        fields: list[FieldQuality] = []
        for index, ((name, duck_type), kind) in enumerate(zip(columns, field_kinds, strict=True)):
            non_null, distinct_count, low, high, six = column_figures[PER_COLUMN * index : PER_COLUMN * (index + 1)]
            rule = KIND_RULES.get(kind)
            if rule is None and name in division_candidates and non_null and six >= DIVISION_CODE_SHARE * non_null:
                rule = "division_code"
            invalid = invalid_by_index.get(index) if rule is not None and _is_scalar(duck_type) else None
            null_count = row_count - int(non_null)
            fields.append(
                FieldQuality(
                    name=name,
                    type=duck_type,
                    null_count=null_count,
                    null_rate=null_count / row_count if row_count else 0.0,
                    distinct_count=int(distinct_count),
                    min=_cut(low),
                    max=_cut(high),
                    invalid_count=invalid,
                    invalid_rule=rule if invalid is not None else None,
                )
            )
    return QualityReport(row_count, duplicate_rows, fields, _score(row_count, duplicate_rows, fields))


def _checked_columns(
    columns: Sequence[tuple[str, str]], kinds: Sequence[PersonalKind], division_candidates: set[str]
) -> list[_Checked]:
    """The columns a rule may apply to: by their kind, or (decided after the scan) as division codes."""
    checked: list[_Checked] = []
    for index, ((name, duck_type), kind) in enumerate(zip(columns, kinds, strict=True)):
        rule_name = KIND_RULES.get(kind) or ("division_code" if name in division_candidates else None)
        if rule_name is None or not _is_scalar(duck_type):
            continue
        rule = _rules()[rule_name]
        names = {key: f'"yiwang.{key}.{index}"' for key in ("v", "ref", "unconfirmed")}
        names |= {key: f'"yiwang.{key}.{index}"' for key, _sql in rule.derived}
        checked.append(_Checked(index, name, rule, names))
    return checked


def _checked_source(source: str, checked: Sequence[_Checked]) -> str:
    """The source as ``s``, with each checked column's value as VARCHAR and whether its rule left it unconfirmed:
    computed once a row here, as DuckDB does not share an expression between the aggregates that filter on it."""
    values = "".join(f", CAST({_quote(check.column)} AS VARCHAR) AS {check.names['v']}" for check in checked)
    select = f"SELECT *{values} FROM {source}"
    for check in checked:  # derived expressions read the value, so they come one level further in
        if check.rule.derived:
            derived = ", ".join(f"{check.sql(sql)} AS {check.names[key]}" for key, sql in check.rule.derived)
            select = f"SELECT *, {derived} FROM ({select})"
    if not checked:
        return f"({select}) AS s"
    joins = "".join(
        f" LEFT JOIN {_reference_name(check.rule.reference)} AS {check.names['ref']} "
        f"ON {check.names['ref']}.code = substr(s.{check.names['v']}, 1, 6)"
        for check in checked
        if check.rule.reference is not None
    )
    flags = ", ".join(f"{check.unconfirmed} AS {check.names['unconfirmed']}" for check in checked)
    return f"(SELECT s.*, {flags} FROM ({select}) AS s{joins}) AS s"


def _reference_name(reference: str) -> str:
    return f"yiwang_ref_{reference}"


@contextmanager
def _references(connection: duckdb.DuckDBPyConnection, checked: Sequence[_Checked]) -> Iterator[None]:
    """The reference tables the rules of `checked` join, registered for the duration."""
    names = sorted({check.rule.reference for check in checked if check.rule.reference is not None})
    for name in names:
        connection.register(_reference_name(name), _reference(name))
    try:
        yield
    finally:
        for name in names:
            connection.unregister(_reference_name(name))


def _parameters(checked: Sequence[_Checked]) -> dict[str, Any]:
    return {"today": date.today()} if any("$today" in check.rule.confirms for check in checked) else {}


def _duplicate_rows(connection: duckdb.DuckDBPyConnection, source: str, columns: Sequence[tuple[str, str]]) -> int:
    """Rows equal to an earlier row, compared exactly among the rows whose hash repeats (hashes may collide)."""
    row_hash = f"hash({', '.join(_quote(name) for name, _ in columns)})"
    repeated = f"SELECT h FROM (SELECT {row_hash} AS h FROM {source}) GROUP BY h HAVING count(*) > 1"
    candidates = f"SELECT * FROM {source} WHERE {row_hash} IN ({repeated})"
    ((rows, distinct_rows),) = connection.execute(
        f"WITH c AS MATERIALIZED ({candidates}) "
        "SELECT (SELECT count(*) FROM c), (SELECT count(*) FROM (SELECT DISTINCT * FROM c))"
    ).fetchall()
    return int(rows) - int(distinct_rows)


def _count_invalid(
    connection: duckdb.DuckDBPyConnection, source: str, check: _Checked, unconfirmed: int, kept: list[str] | None
) -> int:
    """Rows whose value breaks the rule among the `unconfirmed` ones, the Python validator judging each distinct
    value once: from the `kept` values when they are all of them, else from a query grouping them."""
    if unconfirmed == 0:
        return 0
    counts: Mapping[str, int]
    if kept is not None and len(kept) == unconfirmed:
        counts = Counter(kept)
    else:
        counts = dict(
            connection.execute(
                f"SELECT s.{check.names['v']}, count(*) FROM {_checked_source(source, [check])} "
                f"WHERE {check.names['unconfirmed']} GROUP BY 1",
                _parameters([check]),
            ).fetchall()
        )
    return sum(count for value, count in counts.items() if not check.rule.check(value))


def _cut(value: str | None) -> str | None:
    return value if value is None or len(value) <= MIN_MAX_CHARS else value[:MIN_MAX_CHARS]


def _score(row_count: int, duplicate_rows: int, fields: Sequence[FieldQuality]) -> float:
    cells = row_count * len(fields)
    completeness = 1 - sum(f.null_count for f in fields) / cells if cells else 1.0
    checked = [f for f in fields if f.invalid_count is not None]
    checked_values = sum(row_count - f.null_count for f in checked)
    invalid = sum(f.invalid_count or 0 for f in checked)
    validity = 1 - invalid / checked_values if checked_values else 1.0
    uniqueness = 1 - duplicate_rows / row_count if row_count else 1.0
    return round(100 * (0.4 * completeness + 0.4 * validity + 0.2 * uniqueness), 2)
