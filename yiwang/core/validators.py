"""Validators of Chinese codes: citizen ID numbers (GB 11643), unified social credit codes (GB 32100), mainland
mobile phone numbers and administrative division codes (GB/T 2260).

Each ``validate_*`` returns the normalised, parsed value or raises InvalidInput with a stable code; each ``is_*``
answers the same question as a bool. Error messages show masked values only, never a raw ID or phone number.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Literal

from yiwang.core import divisions
from yiwang.core.divisions import Division
from yiwang.core.errors import InvalidInput
from yiwang.core.i18n import N_
from yiwang.core.masking import mask_free_text, mask_id_number, mask_phone

# --- citizen ID number 公民身份号码 (GB 11643-1999) ----------

CITIZEN_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)  # 2**(17-i) mod 11
CITIZEN_ID_CHECK = "10X98765432"
CITIZEN_ID_PATTERN = re.compile(r"[0-9]{17}[0-9X]")
EARLIEST_BIRTH_YEAR = 1900

# Residence permits of Hong Kong, Macao and Taiwan residents 港澳台居民居住证 (2018) use the ID number format with
# these prefixes; 830000 is not a GB/T 2260 code.
RESIDENCE_PERMIT_PREFIXES = frozenset({"810000", "820000", "830000"})


@dataclass(frozen=True)
class CitizenId:
    """A valid citizen ID number 公民身份号码, parsed."""

    number: str
    division_code: str
    birth_date: date
    sex: Literal["male", "female"]


def _compact(value: str) -> str:
    """Full-width characters folded (１２３ → 123), whitespace removed, letters in upper case."""
    return "".join(unicodedata.normalize("NFKC", value).split()).upper()


def citizen_id_check_digit(first17: str) -> str:
    """The check character (ISO 7064 MOD 11-2) of the first 17 digits of an ID number."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise InvalidInput(
            "citizen_id.format",
            N_("ID number {value} must be 18 characters: 17 digits and a check digit or X"),
            value=mask_id_number(first17),
        )
    total = sum(int(digit) * weight for digit, weight in zip(first17, CITIZEN_ID_WEIGHTS, strict=True))
    return CITIZEN_ID_CHECK[total % 11]


def validate_citizen_id(value: str, *, today: date | None = None) -> CitizenId:
    """Parse and check an ID number: format, check digit, date of birth, division code. Accepts a lower-case x.

    The date of birth must be real, not before 1900 and not after `today`. The first six digits must be a division
    code not abolished before the year of birth: the code is the one of the place of registration when the number
    was issued (1984 on, for the 15-digit numbers later extended), which may be a division created after the birth.
    The prefixes 810000, 820000 and 830000 of residence permits for Hong Kong, Macao and Taiwan residents pass too.
    """
    number = _compact(value)
    shown = mask_id_number(_cut(number))
    if not CITIZEN_ID_PATTERN.fullmatch(number):
        raise InvalidInput(
            "citizen_id.format",
            N_("ID number {value} must be 18 characters: 17 digits and a check digit or X"),
            value=shown,
        )
    if citizen_id_check_digit(number[:17]) != number[17]:
        raise InvalidInput("citizen_id.checksum", N_("The check digit of ID number {value} is wrong"), value=shown)
    try:
        birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        birth = None
    if birth is None or birth.year < EARLIEST_BIRTH_YEAR or birth > (today or date.today()):
        raise InvalidInput(
            "citizen_id.birth_date", N_("ID number {value} does not contain a valid date of birth"), value=shown
        )
    prefix = number[:6]
    if prefix not in RESIDENCE_PERMIT_PREFIXES and not any(
        row.valid_to is None or row.valid_to >= birth.year for row in divisions.history(prefix)
    ):
        raise InvalidInput(
            "citizen_id.division",
            N_("ID number {value} does not start with a known administrative division code"),
            value=shown,
        )
    return CitizenId(
        number=number, division_code=prefix, birth_date=birth, sex="male" if int(number[16]) % 2 else "female"
    )


def is_citizen_id(value: str) -> bool:
    """Whether `value` is a valid citizen ID number (see `validate_citizen_id`)."""
    if not CITIZEN_ID_PATTERN.fullmatch(_compact(value)):
        return False  # the common answer when sampling columns, without building a masked error message
    try:
        validate_citizen_id(value)
    except InvalidInput:
        return False
    return True


# --- unified social credit code 统一社会信用代码 (GB 32100-2015) ----------

CREDIT_CODE_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, S, V, Z
CREDIT_CODE_VALUES = {char: index for index, char in enumerate(CREDIT_CODE_CHARSET)}
CREDIT_CODE_WEIGHTS = tuple(3**i % 31 for i in range(17))
CREDIT_CODE_PATTERN = re.compile(rf"[{CREDIT_CODE_CHARSET}]{{2}}[0-9]{{6}}[{CREDIT_CODE_CHARSET}]{{10}}")

# Registration authority 登记管理部门 → the entity types 机构类别 it may assign: GB 32100-2015 table 1 and the codes
# assigned since (N 农业农村 2018, G 公安 境外非政府组织, J 住建 业主大会, Q 侨联, 54/55 村委会/居委会 …).
CREDIT_CODE_TYPES: dict[str, str] = {
    "1": "1239",  # 机构编制: 机关, 事业单位, 中央编办直接管理机构编制的群众团体, 其他
    "2": "19",  # 外交: 外国常驻新闻机构, 其他
    "3": "1234569",  # 司法行政: 律师执业机构, 公证处, 基层法律服务所, 司法鉴定机构, 仲裁委员会, 商事调解组织, 其他
    "4": "19",  # 文化: 外国在华文化中心, 其他
    "5": "123459",  # 民政: 社会团体, 民办非企业单位, 基金会, 村民委员会, 居民委员会, 其他
    "6": "129",  # 旅游: 外国旅游部门常驻代表机构, 港澳台地区旅游部门常驻内地代表机构, 其他
    "7": "129",  # 宗教: 宗教活动场所, 宗教院校, 其他
    "8": "129",  # 工会: 基层工会, 非法人工会组织, 其他
    "9": "1239",  # 工商 / 市场监管: 企业, 个体工商户, 农民专业合作社, 其他
    "A": "19",  # 中央军委改革和编制办公室: 军队事业单位, 其他
    "G": "19",  # 公安: 境外非政府组织代表机构, 其他
    "J": "19",  # 住房和城乡建设: 业主大会, 其他
    "N": "1239",  # 农业农村: 组级, 村级, 乡镇级集体经济组织, 其他
    "Q": "1239",  # 侨联: 区县级, 乡镇级, 村级侨联组织, 其他
    "Y": "1",  # 其他
}

# Organisations registered by a national authority carry 100000 (中华人民共和国) as their division code.
NATIONAL_DIVISION_PREFIX = "10"


@dataclass(frozen=True)
class CreditCode:
    """A valid unified social credit code 统一社会信用代码, parsed."""

    number: str
    registration_authority: str
    entity_type: str
    division_code: str
    organisation_code: str


def credit_code_check_char(first17: str) -> str:
    """The check character (MOD 31, weights 3**i mod 31) of the first 17 characters of a credit code."""
    if len(first17) != 17 or any(char not in CREDIT_CODE_VALUES for char in first17):
        raise InvalidInput(
            "credit_code.format",
            N_("Credit code {value} must be 18 characters: digits and capital letters except I, O, S, V and Z"),
            value=_shown(first17),
        )
    total = sum(CREDIT_CODE_VALUES[char] * weight for char, weight in zip(first17, CREDIT_CODE_WEIGHTS, strict=True))
    return CREDIT_CODE_CHARSET[(31 - total % 31) % 31]


def validate_credit_code(value: str) -> CreditCode:
    """Parse and check a credit code: format, check character, authority and entity type, province of division.

    Characters 3–8 are the division code of the registering authority at registration; organisations keep it when
    the division is abolished, so only its province (or 10, national) must exist. The organisation code (9–17) is
    not checked on its own: codes assigned since 2015 (``MA…``) do not follow GB 11714.
    """
    number = _compact(value)
    shown = _shown(number)
    if not CREDIT_CODE_PATTERN.fullmatch(number):
        raise InvalidInput(
            "credit_code.format",
            N_("Credit code {value} must be 18 characters: digits and capital letters except I, O, S, V and Z"),
            value=shown,
        )
    if credit_code_check_char(number[:17]) != number[17]:
        raise InvalidInput(
            "credit_code.checksum", N_("The check character of credit code {value} is wrong"), value=shown
        )
    if number[1] not in CREDIT_CODE_TYPES.get(number[0], ""):
        raise InvalidInput(
            "credit_code.authority",
            N_("Credit code {value} has an unknown registration authority or entity type"),
            value=shown,
        )
    division_code = number[2:8]
    if division_code[:2] != NATIONAL_DIVISION_PREFIX and divisions.lookup(division_code[:2]) is None:
        raise InvalidInput(
            "credit_code.division", N_("Credit code {value} does not contain a known division code"), value=shown
        )
    return CreditCode(
        number=number,
        registration_authority=number[0],
        entity_type=number[1],
        division_code=division_code,
        organisation_code=number[8:17],
    )


def is_credit_code(value: str) -> bool:
    """Whether `value` is a valid unified social credit code (see `validate_credit_code`)."""
    if not CREDIT_CODE_PATTERN.fullmatch(_compact(value)):
        return False  # the common answer when sampling columns, without building a masked error message
    try:
        validate_credit_code(value)
    except InvalidInput:
        return False
    return True


def _shown(value: str, limit: int = 40) -> str:
    """`value` as an error message may show it: ID and phone numbers inside masked, long input cut."""
    shown = mask_free_text(value)
    return shown if len(shown) <= limit else shown[:limit] + "…"


# --- mainland mobile phone numbers ----------

MOBILE_PHONE_PATTERN = re.compile(r"(?:\+86|0086)?(1[3-9][0-9]{9})")


def normalize_mobile_phone(value: str) -> str:
    """The 11 digits of a mainland mobile number: spaces and dashes and a +86 or 0086 prefix removed.

    This is form feedback: ``1[3-9]`` plus 9 digits also matches some unallocated ranges.
    """
    match = _mobile_phone(value)
    if match is None:
        raise InvalidInput(
            "phone.format", N_("{value} is not a mainland mobile phone number"), value=mask_phone(_cut(value))
        )
    return match.group(1)


def _mobile_phone(value: str) -> re.Match[str] | None:
    return MOBILE_PHONE_PATTERN.fullmatch(re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", value)))


def is_mobile_phone(value: str) -> bool:
    """Whether `value` is a mainland mobile phone number (see `normalize_mobile_phone`)."""
    return _mobile_phone(value) is not None


def _cut(value: str, limit: int = 40) -> str:
    return value if len(value) <= limit else value[:limit] + "…"


# --- division codes 行政区划代码 (GB/T 2260) ----------

DIVISION_CODE_PATTERN = re.compile(r"[0-9]{6}")


def validate_division_code(value: str, year: int | None = None) -> Division:
    """The division of a six-digit code: in force in `year` if given, at any time since 1980 otherwise."""
    code = _compact(value)
    if not DIVISION_CODE_PATTERN.fullmatch(code):
        raise InvalidInput("division.format", N_("Division code {value} must be 6 digits"), value=_shown(code))
    division = divisions.lookup(code, year)
    if division is None:
        if year is None:
            raise InvalidInput(
                "division.unknown", N_("{value} is not a known administrative division code"), value=code
            )
        raise InvalidInput(
            "division.unknown",
            N_("{value} was not an administrative division code in {year}"),
            value=code,
            year=year,
        )
    return division
