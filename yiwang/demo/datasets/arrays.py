"""Random streams and vectorised array helpers: weighted choices, pyarrow string assembly, ASCII digits without a
Python loop, calendar arithmetic on millions of dates."""

from __future__ import annotations

import zlib
from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

Int = npt.NDArray[np.int64]
Float = npt.NDArray[np.float64]
Bool = npt.NDArray[np.bool_]
Dates = npt.NDArray[np.datetime64]


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
