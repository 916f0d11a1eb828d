"""Validators of citizen ID numbers, credit codes, mobile phones and division codes: examples and properties."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yiwang.core import divisions
from yiwang.core.errors import InvalidInput
from yiwang.core.i18n import translator
from yiwang.core.validators import (
    CITIZEN_ID_CHECK,
    CITIZEN_ID_WEIGHTS,
    CREDIT_CODE_CHARSET,
    CREDIT_CODE_TYPES,
    CREDIT_CODE_WEIGHTS,
    citizen_id_check_digit,
    credit_code_check_char,
    is_citizen_id,
    is_credit_code,
    is_mobile_phone,
    normalize_mobile_phone,
    validate_citizen_id,
    validate_credit_code,
    validate_division_code,
)

TODAY = date(2026, 11, 30)
DIGITS = "0123456789"


def error_of(call: object, *args: object, **kwargs: object) -> InvalidInput:
    assert callable(call)
    with pytest.raises(InvalidInput) as raised:
        call(*args, **kwargs)
    return raised.value


def with_check_digit(first17: str) -> str:
    return first17 + citizen_id_check_digit(first17)


# --- citizen ID: examples ---------------------------------------------------------------------------------------------


def test_the_reference_id_number_is_valid() -> None:
    parsed = validate_citizen_id("11010519491231002X")
    assert parsed.number == "11010519491231002X"
    assert parsed.division_code == "110105"
    assert parsed.birth_date == date(1949, 12, 31)
    assert parsed.sex == "female"  # 17th digit 2 is even
    assert is_citizen_id("11010519491231002X")


@pytest.mark.parametrize(
    "written", ["11010519491231002x", " 110105 19491231 002X ", "１１０１０５１９４９１２３１００２Ｘ"]
)
def test_lower_case_x_spaces_and_full_width_digits_are_normalised(written: str) -> None:
    assert validate_citizen_id(written).number == "11010519491231002X"


def test_check_digit_examples() -> None:
    assert citizen_id_check_digit("11010519491231002") == "X"
    # 4·7+6·9+1·5+1·2+9·1+9·6+1·9+1·5+1·8+2·4+3·2 = 188 ≡ 1 (mod 11) → "0"
    assert with_check_digit("46010019900101123") == "460100199001011230"
    assert error_of(citizen_id_check_digit, "1101051949123100").code == "citizen_id.format"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("", "citizen_id.format"),
        ("11010519491231002", "citizen_id.format"),
        ("110105194912310021X", "citizen_id.format"),
        ("110105491231002", "citizen_id.format"),  # the old 15-digit form is not accepted
        ("1101051949123100XX", "citizen_id.format"),
        ("11010519491231002Y", "citizen_id.format"),
        ("110105194912310021", "citizen_id.checksum"),
        (with_check_digit("11010519490230002"), "citizen_id.birth_date"),  # 30 February
        (with_check_digit("11010518991231002"), "citizen_id.birth_date"),  # before 1900
        (with_check_digit("11010520270101002"), "citizen_id.birth_date"),  # after today
        (with_check_digit("99010519491231002"), "citizen_id.division"),
        (with_check_digit("11010320150101002"), "citizen_id.division"),  # 崇文区 abolished 2010, born 2015
    ],
)
def test_invalid_id_numbers_have_distinct_error_codes(value: str, code: str) -> None:
    error = error_of(validate_citizen_id, value, today=TODAY)
    assert error.code == code
    assert not is_citizen_id(value)


def test_a_code_abolished_after_the_birth_and_one_created_after_it_are_both_accepted() -> None:
    assert validate_citizen_id(with_check_digit("11010320090101002"), today=TODAY).division_code == "110103"
    # 密云区 (110118) exists since 2015: a person born in 1960 gets it when the number is issued there.
    assert validate_citizen_id(with_check_digit("11011819600101001"), today=TODAY).sex == "male"


@pytest.mark.parametrize("prefix", ["810000", "820000", "830000"])
def test_residence_permits_of_hong_kong_macao_and_taiwan_residents(prefix: str) -> None:
    assert validate_citizen_id(with_check_digit(prefix + "19900101123"), today=TODAY).division_code == prefix


def test_error_messages_show_the_number_masked() -> None:
    error = error_of(validate_citizen_id, "110105194912310021")
    assert "19491231" not in error.render() and "1101**********0021" in error.render()
    assert "19491231" not in str(error)


# --- citizen ID: properties -------------------------------------------------------------------------------------------

DIVISION_ROWS = divisions.all_divisions(current_only=False)


@st.composite
def citizen_ids(draw: st.DrawFn) -> tuple[str, divisions.Division, date]:
    division = draw(st.sampled_from(DIVISION_ROWS))
    latest = date(division.valid_to, 12, 31) if division.valid_to else TODAY
    earliest = date(1900, 1, 1)
    birth = earliest + timedelta(days=draw(st.integers(0, (min(latest, TODAY) - earliest).days)))
    sequence = draw(st.integers(0, 999))
    return with_check_digit(f"{division.code}{birth:%Y%m%d}{sequence:03d}"), division, birth


@settings(max_examples=100, deadline=None)
@given(generated=citizen_ids())
def test_generated_id_numbers_validate(generated: tuple[str, divisions.Division, date]) -> None:
    number, division, birth = generated
    parsed = validate_citizen_id(number, today=TODAY)
    assert parsed.number == number
    assert parsed.division_code == division.code
    assert parsed.birth_date == birth
    assert parsed.sex == ("male" if int(number[16]) % 2 else "female")
    assert validate_citizen_id(number.lower(), today=TODAY) == parsed


@settings(max_examples=100, deadline=None)
@given(generated=citizen_ids(), position=st.integers(0, 17), data=st.data())
def test_any_single_substitution_in_an_id_number_is_rejected_by_the_check_digit(
    generated: tuple[str, divisions.Division, date], position: int, data: st.DataObject
) -> None:
    number = generated[0]
    alphabet = DIGITS + ("X" if position == 17 else "")
    replacement = data.draw(st.sampled_from([c for c in alphabet if c != number[position]]))
    changed = number[:position] + replacement + number[position + 1 :]
    assert error_of(validate_citizen_id, changed, today=TODAY).code == "citizen_id.checksum"


def test_mod_11_2_detects_every_single_substitution() -> None:
    """Each weight is non-zero mod 11 and 11 is prime, so weight × (new − old) ≢ 0 for digit changes 1…9."""
    for weight in CITIZEN_ID_WEIGHTS:
        for delta in range(1, 10):
            assert weight * delta % 11 != 0
    assert len(set(CITIZEN_ID_CHECK)) == 11  # and the check character tells all 11 residues apart


@settings(max_examples=100, deadline=None)
@given(value=st.text(alphabet=DIGITS + "Xx ", min_size=0, max_size=22))
def test_validation_never_fails_otherwise_nor_shows_the_number(value: str) -> None:
    try:
        validate_citizen_id(value, today=TODAY)
    except InvalidInput as error:
        assert error.code.startswith("citizen_id.")
        compact = value.replace(" ", "").upper()
        if len(compact) >= 13:
            assert compact[4:-4] not in error.render()


# --- credit codes -----------------------------------------------------------------------------------------------------


def test_the_reference_credit_code_is_valid() -> None:
    parsed = validate_credit_code("91350100M000100Y43")
    assert parsed.number == "91350100M000100Y43"
    assert parsed.registration_authority == "9"
    assert parsed.entity_type == "1"
    assert parsed.division_code == "350100"
    assert parsed.organisation_code == "M000100Y4"
    assert is_credit_code("91350100m000100y43")
    assert credit_code_check_char("91350100M000100Y4") == "3"


def with_check_char(first17: str) -> str:
    return first17 + credit_code_check_char(first17)


@pytest.mark.parametrize(
    "first17",
    [
        "N2110105MA0000001",  # 村级集体经济组织: rejected by python-stdnum, valid here
        "N3460106000000000",
        "A1100000MA0000001",  # military, national registration
        "11100000000013127",  # a central government body, division 100000
        "5211010550000000X",
        "Y1350100123456789",
        "92350102MA0000001",  # an individual business
    ],
)
def test_all_registration_authorities_are_accepted(first17: str) -> None:
    number = with_check_char(first17)
    assert validate_credit_code(number).registration_authority == first17[0]


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("", "credit_code.format"),
        ("91350100M000100Y4", "credit_code.format"),
        ("91350100M000100Y433", "credit_code.format"),
        ("91350100I000100Y43", "credit_code.format"),  # I is not in the charset
        ("9135010AM000100Y43", "credit_code.format"),  # the division part must be digits
        ("91350100M000100Y44", "credit_code.checksum"),
        (with_check_char("B1350100M000100Y4"), "credit_code.authority"),
        (with_check_char("95350100M000100Y4"), "credit_code.authority"),
        (with_check_char("91000000M000100Y4"), "credit_code.division"),
        (with_check_char("91990100M000100Y4"), "credit_code.division"),
    ],
)
def test_invalid_credit_codes_have_distinct_error_codes(value: str, code: str) -> None:
    assert error_of(validate_credit_code, value).code == code
    assert not is_credit_code(value)


def test_a_credit_code_keeps_the_division_of_its_registration() -> None:
    # 371202 莱城区 was abolished in 2019; organisations registered there keep the code.
    assert validate_credit_code(with_check_char("91371202MA0000001")).division_code == "371202"


def test_an_id_number_typed_as_a_credit_code_is_not_echoed() -> None:
    error = error_of(validate_credit_code, "110105194912310021")
    assert error.code == "credit_code.checksum" and "19491231" not in error.render()


PROVINCE_PREFIXES = sorted({d.code[:2] for d in divisions.provinces(current_only=False)} | {"10"})
AUTHORITY_TYPES = sorted((a, t) for a, types in CREDIT_CODE_TYPES.items() for t in types)


@st.composite
def credit_codes(draw: st.DrawFn) -> str:
    authority, entity_type = draw(st.sampled_from(AUTHORITY_TYPES))
    division = draw(st.sampled_from(PROVINCE_PREFIXES)) + draw(st.text(DIGITS, min_size=4, max_size=4))
    organisation = draw(st.text(CREDIT_CODE_CHARSET, min_size=9, max_size=9))
    return with_check_char(authority + entity_type + division + organisation)


@settings(max_examples=100, deadline=None)
@given(number=credit_codes())
def test_generated_credit_codes_validate(number: str) -> None:
    parsed = validate_credit_code(number)
    assert parsed.number == number
    assert (
        parsed.registration_authority + parsed.entity_type + parsed.division_code + parsed.organisation_code
        == number[:17]
    )


@settings(max_examples=100, deadline=None)
@given(number=credit_codes(), position=st.integers(0, 17), data=st.data())
def test_any_single_substitution_in_a_credit_code_is_rejected(number: str, position: int, data: st.DataObject) -> None:
    alphabet = DIGITS if 2 <= position <= 7 else CREDIT_CODE_CHARSET
    replacement = data.draw(st.sampled_from([c for c in alphabet if c != number[position]]))
    changed = number[:position] + replacement + number[position + 1 :]
    assert error_of(validate_credit_code, changed).code == "credit_code.checksum"


def test_mod_31_detects_every_single_substitution() -> None:
    """Each weight 3**i mod 31 is non-zero and 31 is prime, so weight × (new − old) ≢ 0 for changes 1…30."""
    assert CREDIT_CODE_WEIGHTS[:4] == (1, 3, 9, 27)
    for weight in CREDIT_CODE_WEIGHTS:
        for delta in range(1, 31):
            assert weight * delta % 31 != 0
    assert len(set(CREDIT_CODE_CHARSET)) == 31


# --- mobile phones ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "written",
    [
        "13812345678",
        "138 1234 5678",
        "138-1234-5678",
        "+8613812345678",
        "+86 138 1234 5678",
        "008613812345678",
        "１３８１２３４５６７８",
    ],
)
def test_mobile_numbers_are_normalised(written: str) -> None:
    assert normalize_mobile_phone(written) == "13812345678"
    assert is_mobile_phone(written)


@pytest.mark.parametrize(
    "written", ["", "12812345678", "1381234567", "138123456789", "+8513812345678", "86-13812345678x", "0898-66123456"]
)
def test_other_numbers_are_not_mobile_numbers(written: str) -> None:
    error = error_of(normalize_mobile_phone, written)
    assert error.code == "phone.format"
    assert not is_mobile_phone(written)
    if len(written) == 11:
        assert written[3:7] not in error.render()


@settings(max_examples=100, deadline=None)
@given(digits=st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True), prefix=st.sampled_from(["", "+86", "0086", "+86 "]))
def test_every_mobile_number_round_trips(digits: str, prefix: str) -> None:
    spaced = f"{prefix}{digits[:3]} {digits[3:7]}-{digits[7:]}"
    assert normalize_mobile_phone(spaced) == digits
    assert normalize_mobile_phone(normalize_mobile_phone(spaced)) == digits


# --- division codes ---------------------------------------------------------------------------------------------------


def test_division_codes() -> None:
    assert validate_division_code("460106").name == "龙华区"
    assert validate_division_code(" 110103 ", 2009).name == "崇文区"
    assert error_of(validate_division_code, "110103", 2011).code == "division.unknown"
    assert error_of(validate_division_code, "999999").code == "division.unknown"
    assert error_of(validate_division_code, "4601").code == "division.format"
    assert error_of(validate_division_code, "46010A").code == "division.format"


# --- messages ---------------------------------------------------------------------------------------------------------


def test_every_error_message_has_a_chinese_translation() -> None:
    gettext = translator("zh_CN")
    errors = [
        error_of(validate_citizen_id, "1"),
        error_of(validate_citizen_id, "110105194912310021"),
        error_of(validate_citizen_id, with_check_digit("11010519490230002")),
        error_of(validate_citizen_id, with_check_digit("99010519491231002")),
        error_of(validate_credit_code, "1"),
        error_of(validate_credit_code, "91350100M000100Y44"),
        error_of(validate_credit_code, with_check_char("B1350100M000100Y4")),
        error_of(validate_credit_code, with_check_char("91990100M000100Y4")),
        error_of(normalize_mobile_phone, "1"),
        error_of(validate_division_code, "1"),
        error_of(validate_division_code, "999999"),
        error_of(validate_division_code, "110103", 2011),
    ]
    for error in errors:
        assert gettext(error.message) != error.message, error.message
        assert error.render(gettext)
