"""Quality reports and sensitive-field detection over Parquet versions, checked against the demo's planted problems."""

from __future__ import annotations

import json
import random
import re
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yiwang.catalog import profile
from yiwang.catalog.ingest.common import MAX_COLUMNS
from yiwang.catalog.profile import (
    FieldQuality,
    KindGuess,
    QualityReport,
    detect_personal_kinds,
    is_phone_number,
    quality_report,
)
from yiwang.core.errors import InvalidInput
from yiwang.core.i18n import translator
from yiwang.core.masking import PersonalKind
from yiwang.core.validators import (
    citizen_id_check_digit,
    credit_code_check_char,
    is_citizen_id,
    is_credit_code,
    validate_division_code,
)
from yiwang.demo.datasets import QUALITY_ISSUES, generate

POPULATION = "population-registry"
ENTERPRISES = "enterprise-registry"


def write(table: pa.Table, path: Path) -> Path:
    pq.write_table(table, path)
    return path


def planted(dataset: str, kind: str, rows: int) -> int:
    """How many rows of `dataset` carry the demo's deliberate problem `kind`."""
    (issue,) = [issue for issue in QUALITY_ISSUES[dataset] if issue.kind == kind]
    return issue.rows(rows)


def kinds_of(guesses: list[KindGuess]) -> dict[str, PersonalKind]:
    return {guess.field: guess.kind for guess in guesses}


def by_name(report: QualityReport) -> dict[str, FieldQuality]:
    return {field.name: field for field in report.fields}


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write(generate(POPULATION, 1, "small"), tmp_path_factory.mktemp("population") / "v1.parquet")


@pytest.fixture(scope="module")
def enterprises(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write(generate(ENTERPRISES, 1, "small"), tmp_path_factory.mktemp("enterprises") / "v1.parquet")


# --- detection ---------------------------------------------------------------------------------------------------


def test_population_fields_are_detected_by_kind(population: Path) -> None:
    guesses = detect_personal_kinds(population)
    assert [guess.field for guess in guesses] == pq.read_schema(population).names
    assert kinds_of(guesses) == {
        "person_id": PersonalKind.ID_NUMBER,
        "name": PersonalKind.NAME,
        "sex": PersonalKind.NONE,
        "birth_date": PersonalKind.NONE,
        "ethnicity": PersonalKind.NONE,
        "household_division": PersonalKind.NONE,
        "household_address": PersonalKind.ADDRESS,
        "phone": PersonalKind.PHONE,
        "marital_status": PersonalKind.NONE,
        "education": PersonalKind.NONE,
        "registered_at": PersonalKind.NONE,
    }
    person_id = guesses[0]
    assert person_id.confidence >= 0.99
    assert re.fullmatch(r"\d+% of 1,000 sampled values are valid citizen ID numbers", person_id.reason)


def test_id_numbers_are_found_by_their_values_whatever_the_header(tmp_path: Path) -> None:
    table = generate(POPULATION, 1, "small").select(["person_id", "phone"]).rename_columns(["col_a", "col_b"])
    guesses = detect_personal_kinds(write(table, tmp_path / "renamed.parquet"), sample_rows=200)
    assert kinds_of(guesses) == {"col_a": PersonalKind.ID_NUMBER, "col_b": PersonalKind.PHONE}
    assert "of 200 sampled values" in guesses[0].reason


def test_enterprise_fields_are_detected_by_kind(enterprises: Path) -> None:
    kinds = kinds_of(detect_personal_kinds(enterprises))
    assert kinds["credit_code"] is PersonalKind.CREDIT_CODE
    assert kinds["legal_representative"] is PersonalKind.NAME
    assert kinds["phone"] is PersonalKind.PHONE  # a fifth of them fixed lines
    assert kinds["industry"] is kinds["name"] is kinds["entity_type"] is PersonalKind.NONE  # enterprise names


def test_headers_decide_when_values_do_not(tmp_path: Path) -> None:
    broken_ids = ["460100199001011230", "4601001990", "未登记", "460100199001011237"]  # one valid of four
    table = pa.table(
        {
            "身份证号码": broken_ids,
            "备注": ["请联系 13812345678 办理", "无", "已核实", "材料齐全"],
            "说明": ["无", "已核实", "材料齐全", "按期办结"],
            "联系人": ["张三", "欧阳娜娜", "买买提·艾力", "李四"],
            "station_name": ["海口", "三亚", "西沙", "琼海"],
            "mobile": pa.array([13812345678, 13912345678, 15012345678, None], pa.int64()),
            "updated": pa.array([date(2024, 1, 1)] * 4),
        }
    )
    guesses = {guess.field: guess for guess in detect_personal_kinds(write(table, tmp_path / "t.parquet"))}
    assert guesses["身份证号码"].kind is PersonalKind.ID_NUMBER and guesses["身份证号码"].confidence < 0.8
    assert guesses["身份证号码"].reason.startswith("The header names ID numbers, though only 25% of 4")
    assert guesses["备注"].kind is PersonalKind.FREE_TEXT
    assert guesses["说明"].kind is PersonalKind.NONE
    assert guesses["联系人"].kind is PersonalKind.NAME
    assert guesses["station_name"].kind is PersonalKind.NONE  # short Han values, but not a person's header
    assert guesses["mobile"].kind is PersonalKind.PHONE  # numbers stored as integers
    assert guesses["updated"].kind is PersonalKind.NONE


def test_office_phones_and_addresses_without_people(tmp_path: Path) -> None:
    halls = pa.table(
        {
            "name": ["海口市政务服务中心", "三亚市政务服务中心"],
            "address": ["海南省海口市龙华区滨海大道1号", "海南省三亚市吉阳区迎宾路2号"],
            "phone": ["0898-65231234", "12345"],
        }
    )
    guesses = {guess.field: guess for guess in detect_personal_kinds(write(halls, tmp_path / "halls.parquet"))}
    assert guesses["phone"].kind is PersonalKind.NONE  # fixed lines are offices' numbers
    assert guesses["address"].kind is PersonalKind.ADDRESS and guesses["address"].confidence == 0.5
    assert "no other column identifies a person" in guesses["address"].reason


def test_reasons_are_translated() -> None:
    guess = KindGuess(
        "a",
        PersonalKind.PHONE,
        0.9,
        "90% of 10 sampled values are mainland mobile phone numbers",
        "{share} of {sampled} sampled values are mainland mobile phone numbers",
        (("sampled", "10"), ("share", "90%")),
    )
    zh = guess.render(translator("zh_CN"))
    assert "90%" in zh and "10" in zh and zh != guess.reason
    assert guess.render() == guess.render(translator("en")) == guess.reason


# --- quality report ----------------------------------------------------------------------------------------------


def test_population_report_finds_the_planted_problems(population: Path) -> None:
    kinds = kinds_of(detect_personal_kinds(population))
    report = quality_report(population, kinds)
    rows = 2000
    fields = by_name(report)
    assert report.row_count == rows
    assert report.duplicate_rows == planted(POPULATION, "duplicate_row", rows)
    assert (fields["person_id"].invalid_count, fields["person_id"].invalid_rule) == (
        planted(POPULATION, "invalid_check_digit", rows),
        "citizen_id",
    )
    assert (fields["phone"].invalid_count, fields["phone"].invalid_rule) == (
        planted(POPULATION, "malformed_phone", rows),
        "phone",
    )
    assert fields["household_address"].null_count == planted(POPULATION, "missing_value", rows)
    assert fields["household_address"].null_rate == planted(POPULATION, "missing_value", rows) / rows
    assert (fields["household_division"].invalid_count, fields["household_division"].invalid_rule) == (
        0,
        "division_code",
    )
    assert fields["sex"].invalid_count is None and fields["sex"].distinct_count == 2
    assert (fields["sex"].min, fields["sex"].max) == ("女", "男")
    assert fields["birth_date"].type == "DATE" and fields["birth_date"].min is not None
    for name in ("person_id", "name", "household_address", "phone"):
        assert fields[name].min is None and fields[name].max is None, name
    assert fields["person_id"].distinct_count == rows - report.duplicate_rows
    assert 99 < report.score < 100


def test_enterprise_report_finds_the_planted_problems(enterprises: Path) -> None:
    report = quality_report(enterprises, kinds_of(detect_personal_kinds(enterprises)))
    rows = 1000
    fields = by_name(report)
    assert report.duplicate_rows == planted(ENTERPRISES, "duplicate_row", rows)
    assert fields["credit_code"].invalid_count == planted(ENTERPRISES, "invalid_check_char", rows)
    assert fields["phone"].invalid_count == planted(ENTERPRISES, "malformed_phone", rows)  # fixed lines are valid
    assert fields["legal_representative"].null_count == planted(ENTERPRISES, "missing_value", rows)
    assert fields["legal_representative"].min is None
    assert fields["credit_code"].min is not None  # credit codes name organisations, not people
    assert fields["division"].invalid_rule == "division_code" and fields["registered_capital"].type == "DOUBLE"


def test_report_round_trips_through_json(enterprises: Path) -> None:
    report = quality_report(enterprises, {"phone": PersonalKind.PHONE, "credit_code": PersonalKind.CREDIT_CODE})
    assert QualityReport.from_dict(json.loads(json.dumps(report.to_dict(), ensure_ascii=False))) == report


def test_empty_version_gets_a_sensible_report(tmp_path: Path) -> None:
    schema = generate(POPULATION, 1, "small").schema
    empty = write(schema.empty_table(), tmp_path / "empty.parquet")
    report = quality_report(empty, kinds_of(detect_personal_kinds(empty)))
    assert (report.row_count, report.duplicate_rows, report.score) == (0, 0, 100.0)
    assert all(f.null_count == 0 and f.null_rate == 0.0 and f.distinct_count == 0 for f in report.fields)
    assert {f.invalid_count for f in report.fields if f.invalid_rule} <= {0}
    guesses = {guess.field: guess for guess in detect_personal_kinds(empty)}
    assert guesses["sex"].kind is PersonalKind.NONE and guesses["phone"].kind is PersonalKind.PHONE  # by header
    assert QualityReport.from_dict(report.to_dict()) == report


def test_score_weighs_completeness_validity_and_uniqueness(tmp_path: Path) -> None:
    table = pa.table({"phone": ["13812345678", "13812345678", "1381234567", None], "note": ["a", "a", "b", "c"]})
    report = quality_report(write(table, tmp_path / "t.parquet"), {"phone": PersonalKind.PHONE})
    completeness, validity, uniqueness = 1 - 1 / 8, 1 - 1 / 3, 1 - 1 / 4
    assert report.duplicate_rows == 1
    assert report.score == round(100 * (0.4 * completeness + 0.4 * validity + 0.2 * uniqueness), 2)


def test_division_columns_and_odd_types(tmp_path: Path) -> None:
    table = pa.table(
        {
            "行政区划代码": ["460100", "460106", "999999", "469003", None],  # 469003 儋州市 (abolished in 2015)
            "code": ["999999"] * 5,  # six digits, but nothing says it is a division
            "region_division": ["海口市", "三亚市", "儋州市", "琼海市", "文昌市"],
            "remark": ["长" * 80] * 5,
            "tags": pa.array([["a"], ["a"], None, ["b"], []]),
            "blob": pa.array([b"\xff", b"\xff", None, b"\x00", b""]),
        }
    )
    fields = by_name(quality_report(write(table, tmp_path / "t.parquet"), {}))
    assert (fields["行政区划代码"].invalid_count, fields["行政区划代码"].invalid_rule) == (1, "division_code")
    assert fields["code"].invalid_rule is None and fields["region_division"].invalid_rule is None
    assert fields["remark"].min == "长" * 50
    assert fields["tags"].min is None and fields["tags"].distinct_count == 3
    assert fields["blob"].distinct_count == 3 and fields["blob"].null_count == 1


# --- the SQL shortcut agrees with the core validators --------------------------------------------------------------

EDGE_IDS = [
    "11010519491231002X",
    "11010519491231002x",  # lower-case x: valid
    "１１０１０５１９４９１２３１００２Ｘ",  # full width: valid
    " 110105 19491231 002X",  # spaces: valid
    "110105194912310021",  # check digit
    "460100190002290010",  # 29 February 1900
    "460100200002290012",  # 29 February 2000
    "460100189912310011",  # before 1900
    "460100209901010011",  # after today
    "810000199001010011",  # Hong Kong residence permit
    "469003199001010011",  # 儋州市 469003, abolished in 2015: valid for a birth before
    "469003201601010011",  # ... not after
    "999999199001010011",  # no such division
    "46010019900101001",  # 17 characters
    "",
]
EDGE_CREDIT_CODES = [
    "91469026MA5J1DG060",
    "91460107MA55L74E4F",
    "91469026ma5j1dg060",  # lower case: valid
    "11100000000013127D",  # national authority
    "Z1469026MA5J1DG060",  # no such authority
    "95469026MA5J1DG060",  # type 5 under 工商
    "91990000MA5J1DG060",  # no province 99
    "91469026MA5J1DG061",
    "91469026MA5J1DG06",
    *(  # right check characters on bodies the other rules judge
        body + credit_code_check_char(body)
        for body in ("95469026MA5J1DG06", "Y2460000MA5J1DG06", "91990000MA5J1DG06", "91000000MA5J1DG06")
    ),
    *(body + credit_code_check_char(body) for body in ("91100000MA5J1DG06", "Y1460000MA5J1DG06", "N9710000MA5J1DG06")),
]
EDGE_PHONES = [
    *("13812345678", "+86 138-1234-5678", "0898-65231234", "(0898)65231234", "12345", "400-810-8888", "95588"),
    *("1381234567", "138123456789", "12812345678", "6523", "电话", "0898-6523123转01", "0898-6523123EXT01"),
]
EDGE_DIVISIONS = ["460100", "469003", "460000", "999999", "46010", "4601000", "４６０１００", "abcdef"]


def mutated(values: list[str], seed: int, *, resize: bool = True) -> list[str]:
    """Each value with one character replaced (or, when `resize`, inserted or removed): values near the valid ones."""
    rng = random.Random(seed)
    result = []
    for value in values:
        position = rng.randrange(len(value))
        char = rng.choice("0123456789XABCDY -" if resize else "0123456789")
        cut = rng.choice([0, 1, 2]) if resize else 1
        result.append((value[:position] + char + value[position + cut :]).strip())
    return [value for value in result if value]


def invalid_counts(tmp_path: Path, columns: dict[str, list[str]]) -> dict[str, int | None]:
    length = max(len(values) for values in columns.values())
    table = pa.table({name: values + [None] * (length - len(values)) for name, values in columns.items()})
    kinds = {"id_number": PersonalKind.ID_NUMBER, "credit_code": PersonalKind.CREDIT_CODE, "phone": PersonalKind.PHONE}
    report = quality_report(write(table, tmp_path / "edge.parquet"), kinds)
    return {field.name: field.invalid_count for field in report.fields}


def is_division(value: str) -> bool:
    try:
        validate_division_code(value)
    except InvalidInput:
        return False
    return True


def test_invalid_counts_equal_the_validators_on_edge_and_near_valid_values(tmp_path: Path) -> None:
    demo = generate(POPULATION, 1, "small").slice(0, 300)
    firms = generate(ENTERPRISES, 1, "small").slice(0, 300)
    ids = EDGE_IDS + demo["person_id"].to_pylist() + mutated(demo["person_id"].to_pylist(), 1)
    credit = EDGE_CREDIT_CODES + firms["credit_code"].to_pylist() + mutated(firms["credit_code"].to_pylist(), 2)
    phones = EDGE_PHONES + firms["phone"].to_pylist() + mutated(firms["phone"].to_pylist(), 3)
    division = EDGE_DIVISIONS + mutated(demo["household_division"].to_pylist(), 4, resize=False)
    counts = invalid_counts(tmp_path, {"id_number": ids, "credit_code": credit, "phone": phones, "division": division})
    assert counts == {
        "id_number": sum(not is_citizen_id(v) for v in ids),
        "credit_code": sum(not is_credit_code(v) for v in credit),
        "phone": sum(not is_phone_number(v) for v in phones),
        "division": sum(not is_division(v) for v in division),
    }
    assert 0 < counts["division"] < len(division) and 0 < counts["credit_code"] < len(credit)  # both kinds there


@st.composite
def id_numbers(draw: st.DrawFn) -> str:
    """ID numbers near the valid ones: known, abolished, permit and unknown prefixes, dates real or not, the check
    digit right or not, in any case."""
    prefix = draw(st.sampled_from(["460100", "469003", "110105", "810000", "830000", "999999", "460000"]))
    birth = f"{draw(st.integers(1890, 2100)):04d}{draw(st.integers(0, 13)):02d}{draw(st.integers(0, 32)):02d}"
    first17 = prefix + birth + f"{draw(st.integers(0, 999)):03d}"
    check = citizen_id_check_digit(first17) if draw(st.booleans()) else draw(st.sampled_from("0123456789Xx"))
    return first17 + (check.lower() if draw(st.booleans()) else check)


@settings(max_examples=25, deadline=None)
@given(values=st.lists(st.one_of(id_numbers(), st.sampled_from(EDGE_IDS)), min_size=1, max_size=40))
def test_id_numbers_agree_with_the_validator(tmp_path_factory: pytest.TempPathFactory, values: list[str]) -> None:
    counts = invalid_counts(tmp_path_factory.mktemp("ids"), {"id_number": values})
    assert counts["id_number"] == sum(not is_citizen_id(v) for v in values)


def test_more_unconfirmed_values_than_the_scan_keeps_are_judged_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    firms = generate(ENTERPRISES, 1, "small").slice(0, 300)
    credit = EDGE_CREDIT_CODES + mutated(firms["credit_code"].to_pylist(), 5)
    ids = EDGE_IDS + mutated(generate(POPULATION, 1, "small").slice(0, 300)["person_id"].to_pylist(), 6)
    kept = invalid_counts(tmp_path, {"id_number": ids, "credit_code": credit})
    monkeypatch.setattr(profile, "UNCONFIRMED_KEPT", 2)  # every column now needs the query that groups them
    grouped = invalid_counts(tmp_path, {"id_number": ids, "credit_code": credit})
    assert (
        kept
        == grouped
        == {
            "id_number": sum(not is_citizen_id(v) for v in ids),
            "credit_code": sum(not is_credit_code(v) for v in credit),
        }
    )


# --- duplicate rows: hashed, then compared exactly ------------------------------------------------------------------

CELLS = st.one_of(st.none(), st.sampled_from(["甲", "乙", ""]))
NUMBERS = st.one_of(st.none(), st.sampled_from([0.0, -0.0, 1.5, float("nan")]))


@settings(max_examples=40, deadline=None)
@given(rows=st.lists(st.tuples(CELLS, NUMBERS, st.one_of(st.none(), st.lists(CELLS, max_size=2))), max_size=12))
def test_duplicate_rows_are_rows_equal_to_an_earlier_one(
    tmp_path_factory: pytest.TempPathFactory, rows: list[tuple[str | None, float | None, list[str | None] | None]]
) -> None:
    table = pa.table(
        {
            "text": pa.array([row[0] for row in rows], pa.string()),
            "number": pa.array([row[1] for row in rows], pa.float64()),
            "tags": pa.array([row[2] for row in rows], pa.list_(pa.string())),
        }
    )
    report = quality_report(write(table, tmp_path_factory.mktemp("dup") / "t.parquet"), {})

    def key(row: tuple[str | None, float | None, list[str | None] | None]) -> tuple[object, ...]:
        text, number, tags = row  # SQL's DISTINCT: NULLs equal, NaN equal to NaN, -0.0 equal to 0.0
        canonical = "nan" if number is not None and number != number else (number + 0.0 if number is not None else None)
        return text, canonical, tuple(tags) if tags is not None else None

    assert report.duplicate_rows == len(rows) - len({key(row) for row in rows})


@pytest.mark.parametrize("width", [300, MAX_COLUMNS])
def test_a_wide_version_is_reported_column_by_column(tmp_path: Path, width: int) -> None:
    """Hundreds of columns once ran DuckDB out of memory in one query (a 500 on upload): they are counted in batches,
    up to the widest file ingest accepts, and each column's figures stay its own."""
    rows = 3
    table = pa.table({f"c{i}": [i * 10 + r if (i + r) % 7 else None for r in range(rows)] for i in range(width)})
    path = tmp_path / "wide.parquet"
    pq.write_table(table, path)
    report = profile.quality_report(path, {})
    assert report.row_count == rows and len(report.fields) == width and report.duplicate_rows == 0
    for i, field in enumerate(report.fields):
        nulls = sum(1 for r in range(rows) if (i + r) % 7 == 0)
        assert (field.name, field.null_count, field.distinct_count) == (f"c{i}", nulls, rows - nulls)
