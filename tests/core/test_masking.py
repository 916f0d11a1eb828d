"""Masking by kind of personal data: the documented examples, and properties over any input."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yiwang.core import divisions
from yiwang.core.errors import InvalidInput
from yiwang.core.i18n import translator
from yiwang.core.masking import (
    ADDRESS_STARS,
    COMPOUND_SURNAMES,
    NAME_SEPARATORS,
    PersonalKind,
    mask,
    mask_address,
    mask_credit_code,
    mask_free_text,
    mask_id_number,
    mask_name,
    mask_phone,
)
from yiwang.core.validators import citizen_id_check_digit

ALL_KINDS = list(PersonalKind)
COUNTIES = divisions.all_divisions("county")


@pytest.mark.parametrize(
    ("kind", "value", "masked"),
    [
        ("id_number", "460100199001011234", "4601**********1234"),
        ("id_number", "46010019900101123X", "4601**********123X"),
        ("phone", "13812345678", "138****5678"),
        ("phone", "+86 138-1234-5678", "+86 138-****-5678"),
        ("phone", "0898-66123456", "089*-****3456"),
        ("name", "张三", "张*"),
        ("name", "张三丰", "张**"),
        ("name", "欧阳娜娜", "欧阳**"),
        ("name", "欧阳", "欧*"),
        ("name", "司马光", "司马*"),
        ("name", "张", "*"),
        ("name", "阿依古丽·买买提", "阿***·***"),
        ("name", "John Smith", "J*** S****"),
        ("name", "Jean-Luc Picard", "J***-L** P*****"),
        ("address", "海南省海口市龙华区滨海大道123号", "海南省海口市龙华区****"),
        ("address", "海南海口龙华区滨海大道123号", "海南海口龙华区****"),
        ("address", "北京市朝阳区建国路1号院", "北京市朝阳区****"),
        ("address", "中国广东省深圳市南山区科技园", "中国广东省深圳市南山区****"),
        ("address", "海南省五指山市通什镇", "海南省五指山市****"),
        ("address", "湖北省恩施土家族苗族自治州恩施市", "湖北省恩施土家族苗族自治州恩施市"),
        ("address", "北京市崇文区前门大街", "北京市崇文区****"),
        ("address", "滨海大道123号", "滨海大道****"),
        ("address", "人民路一号大院二单元", "人民路一号****"),
        ("credit_code", "92350102MA0000001X", "92350102MA0000001X"),
        ("none", "13812345678", "13812345678"),
        ("free_text", "身份证11010519491231002X，电话138 1234 5678。", "身份证1101**********002X，电话138 **** 5678。"),
        ("free_text", "call +8613912345678 or 0086-139-1234-5678", "call +86139****5678 or 0086-139-****-5678"),
        ("free_text", "old id 110105491231002 ok", "old id 1101*******1002 ok"),
        ("free_text", "order 2024123112345678901 is not a phone", "order 2024123112345678901 is not a phone"),
    ],
)
def test_documented_examples(kind: str, value: str, masked: str) -> None:
    assert mask(kind, value) == masked
    assert mask(PersonalKind(kind), value) == masked


def test_none_stays_none_and_unknown_kinds_are_refused() -> None:
    for kind in ALL_KINDS:
        assert mask(kind, None) is None
    with pytest.raises(InvalidInput) as error:
        mask("passport", "E12345678")
    assert error.value.code == "masking.kind"
    assert translator("zh_CN")(error.value.message) != error.value.message


@settings(max_examples=150, deadline=None)
@given(kind=st.sampled_from(ALL_KINDS), value=st.text(max_size=60))
def test_masking_never_fails_and_is_idempotent(kind: PersonalKind, value: str) -> None:
    masked = mask(kind, value)
    assert isinstance(masked, str)
    if kind is not PersonalKind.ADDRESS:  # the address fallback may shorten further on very short input
        assert mask(kind, masked) == masked


@settings(max_examples=100, deadline=None)
@given(value=st.text(max_size=40))
def test_id_numbers_and_phones_keep_their_length(value: str) -> None:
    assert len(mask_id_number(value)) == len(value.strip())
    assert len(mask_phone(value)) == len(value.strip())
    assert len(mask_name(value)) == len(value.strip())


@st.composite
def id_numbers(draw: st.DrawFn) -> str:
    division = draw(st.sampled_from(COUNTIES))
    birth = date(1900, 1, 1) + timedelta(days=draw(st.integers(0, 46000)))
    first17 = f"{division.code}{birth:%Y%m%d}{draw(st.integers(0, 999)):03d}"
    return first17 + citizen_id_check_digit(first17)


@settings(max_examples=100, deadline=None)
@given(number=id_numbers())
def test_a_masked_id_number_hides_the_date_of_birth(number: str) -> None:
    masked = mask_id_number(number)
    assert masked[:4] == number[:4] and masked[-4:] == number[-4:]
    assert masked[4:-4] == "*" * 10
    assert number[6:14] not in masked


PHONES = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)


@settings(max_examples=100, deadline=None)
@given(phone=PHONES, prefix=st.sampled_from(["", "+86", "+86 ", "0086"]))
def test_a_masked_mobile_hides_the_middle_four_digits(phone: str, prefix: str) -> None:
    masked = mask_phone(prefix + phone)
    assert masked == prefix + phone[:3] + "****" + phone[7:]


HAN = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)


@settings(max_examples=100, deadline=None)
@given(name=st.text(HAN, min_size=1, max_size=6))
def test_a_chinese_name_keeps_only_its_surname(name: str) -> None:
    keep = 2 if len(name) > 2 and name[:2] in COMPOUND_SURNAMES else 0 if len(name) == 1 else 1
    assert mask_name(name) == name[:keep] + "*" * (len(name) - keep)


@settings(max_examples=100, deadline=None)
@given(name=st.text(st.sampled_from("abcdefXYZ -·'"), max_size=20))
def test_a_latin_name_keeps_the_first_letter_of_each_word(name: str) -> None:
    masked = mask_name(name)
    stripped = name.strip()
    for index, (before, after) in enumerate(zip(stripped, masked, strict=True)):
        starts_word = index == 0 or stripped[index - 1] in NAME_SEPARATORS
        if before in NAME_SEPARATORS:
            assert after == before
        elif not starts_word or len(stripped) == 1:
            assert after == "*"


@st.composite
def addresses(draw: st.DrawFn) -> tuple[str, str]:
    county = draw(st.sampled_from(COUNTIES))
    prefix = "".join(divisions.full_name(county.code).split())
    detail = draw(st.text(st.sampled_from("道路街巷号楼室单元幢一二三0123456789"), min_size=1, max_size=12))
    return prefix + detail, prefix


@settings(max_examples=100, deadline=None)
@given(generated=addresses())
def test_an_address_keeps_its_divisions_down_to_the_county(generated: tuple[str, str]) -> None:
    address, prefix = generated
    masked = mask_address(address)
    assert masked == prefix + ADDRESS_STARS
    assert mask_address(masked) == masked


@settings(max_examples=150, deadline=None)
@given(value=st.text(max_size=40))
def test_an_address_keeps_a_prefix_and_hides_the_rest(value: str) -> None:
    stripped = value.strip()
    masked = mask_address(value)
    if not stripped:
        assert masked == stripped
        return
    kept = masked.removesuffix(ADDRESS_STARS)
    assert stripped.startswith(kept)
    assert masked == stripped or masked == kept + ADDRESS_STARS


TEXT = st.text(st.sampled_from("abcXYZ 电话身份证号码：，。-*/"), max_size=15)


@settings(max_examples=100, deadline=None)
@given(before=TEXT, number=id_numbers(), middle=TEXT, phone=PHONES, after=TEXT)
def test_free_text_loses_every_id_and_mobile_number(
    before: str, number: str, middle: str, phone: str, after: str
) -> None:
    text = f"{before} {number} {middle} {phone} {after}"
    masked = mask_free_text(text)
    assert number[6:14] not in masked and number[:4] + "*" * 10 + number[-4:] in masked
    assert phone[3:7] + phone[7:] not in masked and phone[:3] + "****" + phone[7:] in masked
    assert len(masked) == len(text)
    assert mask_free_text(masked) == masked


def test_credit_codes_are_left_as_they_are() -> None:
    assert mask_credit_code("91350100M000100Y43") == "91350100M000100Y43"
