"""Identifiers built vectorised — GB 11643 ID numbers, GB 32100 credit codes, phone numbers — and the helpers that
plant the deliberate quality issues (wrong check characters, malformed phones, duplicated rows)."""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from yiwang.demo import names
from yiwang.demo.datasets.arrays import Int, _digits, _join, _text
from yiwang.demo.datasets.model import QualityIssue

# --- check digits (the validators in yiwang.core.validators are the reference; tests compare) -------------------

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


# --- phone numbers ----------------------------------------------------------------------------------------------


def _mobiles(rng: np.random.Generator, n: int) -> npt.NDArray[np.uint8]:
    prefixes = np.array([int(p) for p in names.MOBILE_PREFIXES], dtype=np.int64)
    numbers = prefixes[rng.integers(0, len(prefixes), n)] * 10**8 + rng.integers(0, 10**8, n)
    return _digits(numbers, 11)


def _landlines(rng: np.random.Generator, n: int) -> Any:
    """Hainan fixed-line numbers: area code 0898 and eight digits."""
    first = np.array([2, 3, 6, 8], dtype=np.int64)[rng.integers(0, 4, n)]
    return _join("0898-", _text(first * 10**7 + rng.integers(0, 10**7, n)))


# --- deliberate quality issues ----------------------------------------------------------------------------------


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
