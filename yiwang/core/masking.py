"""Masking of personal data by kind 脱敏: what a reader without a grant for raw values sees.

Rules (every function accepts any string and never raises; stars replace what is hidden):

- ``id_number``: first 4 and last 4 characters kept, the rest starred, same length (``4601**********123X``).
- ``phone``: a mainland mobile keeps its first 3 and last 4 digits (``138****5678``; a ``+86`` prefix and
  separators stay as written); other numbers keep the same share of their ends. Same length.
- ``name``: a Chinese name keeps its surname (a common two-character 复姓 such as 欧阳, 司马 when the name is
  longer than two characters), other characters starred: ``张*``, ``欧阳**``; names in Latin script keep the first
  letter of each word: ``J*** S****``. Separators (space, ·, -) are kept. Same length.
- ``address``: kept down to the county/district (matched against the division table: ``海南省海口市龙华区****``);
  when no division name is found, the first six characters (at most half the address) are kept. What follows is
  replaced by four stars whatever its length, so the length of the hidden part does not show.
- ``credit_code``: unchanged. Credit codes identify legal persons and other organisations; the code of an
  individual business (92…) is assigned, it embeds no ID number.
- ``free_text``: ID numbers (18 and old 15 digits) and mobile numbers found in the text are masked as above.
- ``none``: unchanged.

Values shorter than a rule needs keep at most a quarter of their characters at each end (under 4: all starred).
Masking a masked value gives it back unchanged (except for the address fallback on very short input).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from enum import StrEnum
from functools import cache

from yiwang.core import divisions
from yiwang.core.errors import InvalidInput
from yiwang.core.i18n import N_

STAR = "*"
ADDRESS_STARS = "****"


class Disclosure(StrEnum):
    """披露方式 how one field leaves the platform for one reader (set per field by a sharing grant)."""

    RAW = "raw"  # 原文
    MASKED = "masked"  # 脱敏, by the rules of the field's personal kind
    PSEUDONYM = "pseudonym"  # 假名化, a keyed token (yiwang.core.pseudonyms)
    WITHHELD = "withheld"  # 不提供: never shown, though a lookup may still match on it


class PersonalKind(StrEnum):
    """Kind of personal data in a field 个人信息类型, set at ingest and confirmed by the publisher."""

    ID_NUMBER = "id_number"
    PHONE = "phone"
    NAME = "name"
    ADDRESS = "address"
    CREDIT_CODE = "credit_code"
    FREE_TEXT = "free_text"
    NONE = "none"


# The common 复姓 (two-character surnames); a name starting with one of these and longer than two characters keeps
# both. A two-character name such as 司马 is read as surname + given name (司*), the safer reading.
_COMPOUND_SURNAME_PAIRS = (
    "欧阳司马上官诸葛东方皇甫尉迟公孙慕容长孙宇文司徒夏侯轩辕令狐钟离独孤南宫西门端木申屠公羊澹台"
    "公冶宗政濮阳淳于单于太叔仲孙闻人呼延赫连百里东郭北堂拓跋第五梁丘左丘万俟司空司寇亓官"
)
COMPOUND_SURNAMES = frozenset(_COMPOUND_SURNAME_PAIRS[i : i + 2] for i in range(0, len(_COMPOUND_SURNAME_PAIRS), 2))

NAME_SEPARATORS = frozenset(" \u00b7\u2022\u30fb\uff0e.-'")
PHONE_SIGNIFICANT = re.compile(r"[^\W_]|\*")  # letters, digits and stars count; separators and + do not

ID_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])(?:\d{17}[\dXx]|\d{15})(?![0-9A-Za-z])")
MOBILE_IN_TEXT = re.compile(r"(?<![0-9A-Za-z+])(?:(?:\+|00)86[ \-]?)?1[3-9]\d(?:[ \-]?\d{4}){2}(?![0-9A-Za-z])")


def _keep_ends(value: str, head: int, tail: int) -> str:
    """Star the middle of `value` keeping `head` and `tail` characters; short values keep less (a quarter each)."""
    n = len(value)
    if n < head + tail + 4:
        head = tail = n // 4
    if n == 0:
        return value
    return value[:head] + STAR * (n - head - tail) + value[n - tail :]


def mask_id_number(value: str) -> str:
    """``460100199001011234`` → ``4601**********1234``."""
    return _keep_ends(value.strip(), 4, 4)


def mask_phone(value: str) -> str:
    """``13812345678`` → ``138****5678``; ``+86 138-1234-5678`` → ``+86 138-****-5678``."""
    value = value.strip()
    positions = [m.start() for m in PHONE_SIGNIFICANT.finditer(value)]
    compact = "".join(value[i] for i in positions)
    for prefix in ("0086", "86"):
        # The country code of a mainland mobile is not part of the number: it stays visible.
        if compact.startswith(prefix) and len(compact) == len(prefix) + 11 and (prefix == "0086" or "+" in value):
            positions = positions[len(prefix) :]
            break
    n = len(positions)
    head, tail = (3, 4) if n >= 11 else (n // 4, n // 4)
    chars = list(value)
    for index in positions[head : n - tail]:
        chars[index] = STAR
    return "".join(chars)


# CJK unified ideographs, extension A, extensions B–G, compatibility ideographs.
HAN_RANGES = ((0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x3134F), (0xF900, 0xFAFF))


def _is_han(char: str) -> bool:
    code = ord(char)
    return any(low <= code <= high for low, high in HAN_RANGES)


def mask_name(value: str) -> str:
    """``张三`` → ``张*``, ``欧阳娜娜`` → ``欧阳**``, ``John Smith`` → ``J*** S****``."""
    value = value.strip()
    if not value:
        return value
    if any(_is_han(c) for c in value):
        keep = 2 if len(value) > 2 and value[:2] in COMPOUND_SURNAMES else 1
        if len(value) == 1:
            keep = 0
        return value[:keep] + "".join(c if c in NAME_SEPARATORS else STAR for c in value[keep:])
    chars: list[str] = []
    word_start = True
    for char in value:
        if char in NAME_SEPARATORS:
            chars.append(char)
            word_start = True
        elif word_start:
            chars.append(char)
            word_start = False
        else:
            chars.append(STAR)
    if len(chars) == 1 and value not in NAME_SEPARATORS:
        return STAR
    return "".join(chars)


def mask_address(value: str) -> str:
    """``海南省海口市龙华区滨海大道123号`` → ``海南省海口市龙华区****``."""
    value = value.strip()
    if not value:
        return value
    end = _division_prefix_end(value)
    if end == 0:
        end = min(6, len(value) // 2)
    rest = value[end:]
    return value[:end] + (ADDRESS_STARS if rest else "")


def mask_credit_code(value: str) -> str:
    """Credit codes are returned unchanged: they identify organisations, not natural persons."""
    return value


def mask_free_text(value: str) -> str:
    """Mask the ID numbers and mobile phone numbers found in `value`, leaving the rest of the text as it is."""
    value = ID_IN_TEXT.sub(lambda m: mask_id_number(m.group(0)), value)
    return MOBILE_IN_TEXT.sub(lambda m: mask_phone(m.group(0)), value)


def _unchanged(value: str) -> str:
    return value


MASKERS: dict[PersonalKind, Callable[[str], str]] = {
    PersonalKind.ID_NUMBER: mask_id_number,
    PersonalKind.PHONE: mask_phone,
    PersonalKind.NAME: mask_name,
    PersonalKind.ADDRESS: mask_address,
    PersonalKind.CREDIT_CODE: mask_credit_code,
    PersonalKind.FREE_TEXT: mask_free_text,
    PersonalKind.NONE: _unchanged,
}


def mask(kind: PersonalKind | str, value: str | None) -> str | None:
    """`value` masked by the rule of `kind`; None stays None. An unknown kind raises InvalidInput (``masking.kind``)."""
    try:
        personal_kind = PersonalKind(kind)
    except ValueError:
        raise InvalidInput("masking.kind", N_("Unknown kind of personal data: {kind}"), kind=str(kind)) from None
    if value is None:
        return None
    if not isinstance(value, str):  # defensive: values from untyped sources (CSV cells, JSON)
        value = str(value)
    return MASKERS[personal_kind](value)


# --- address parsing against the division table -------------------------------------------------------------------

_LEADING = ("中华人民共和国", "中国")
_SUFFIXES = re.compile(
    r"(?:特别行政区|维吾尔自治区|壮族自治区|回族自治区|自治区|省|市|地区|盟|"
    r"(?:[\u4e00-\u9fff]{1,8}族)*自治州)$"
)


def _short_name(name: str) -> str | None:
    """The short form addresses often use: ``海南省`` → ``海南``, ``恩施土家族苗族自治州`` → ``恩施`` (two characters
    at least)."""
    short = _SUFFIXES.sub("", name)
    return short if short != name and len(short) >= 2 else None


@cache
def _names_under(parent_code: str | None) -> dict[str, str]:
    """Name → code of the divisions an address may name next after `parent_code` (None: at the very start)."""
    names: dict[str, str] = {}
    if parent_code is None:
        # Without a province first, a prefecture or county may open the address under its full name.
        for division in _current_first(divisions.all_divisions(current_only=False)):
            if division.level != "province":
                names.setdefault(division.name, division.code)
        for division in divisions.provinces(current_only=False):
            names[division.name] = division.code
            if short := _short_name(division.name):
                names[short] = division.code
        return names
    for division in _current_first(divisions.children(parent_code, current_only=False)):
        names.setdefault(division.name, division.code)
        if division.level == "prefecture" and (short := _short_name(division.name)):
            names.setdefault(short, division.code)
    return names


def _current_first(rows: list[divisions.Division]) -> list[divisions.Division]:
    """Current divisions before abolished ones, so that a name reused by a new code leads to the new one."""
    return sorted(rows, key=lambda d: not d.is_current())


@cache
def _longest_name() -> int:
    return max(len(name) for name in _names_under(None))


def _division_prefix_end(address: str) -> int:
    """Where the division part (province, prefecture, county) at the start of `address` ends; 0 if none is found."""
    text = address
    position = 0
    for leading in _LEADING:
        if text.startswith(leading):
            position = len(leading)
            break
    matched_end = 0
    parent: str | None = None
    longest = _longest_name()
    for _ in range(3):
        candidates = _names_under(parent)
        found: str | None = None
        for length in range(min(longest, len(text) - position), 1, -1):
            code = candidates.get(text[position : position + length])
            if code is not None:
                found, position = code, position + length
                break
        if found is None:
            break
        matched_end, parent = position, found
        level = divisions.lookup(found)
        if level is None or level.level == "county":
            break
    return matched_end
