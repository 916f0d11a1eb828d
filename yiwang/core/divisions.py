"""Administrative divisions of China (GB/T 2260 行政区划代码) with the years each code was in force.

The table ships as ``data/divisions.csv`` (built by ``scripts/build_divisions.py``; sources in
``data/DIVISIONS-SOURCE.md``) and is read once, on first use. It holds provinces, prefectures and county-level units
from 1980 to today, abolished codes included: ID numbers and credit codes keep the code of the day they were issued.

A code may have several rows when its name changed (130502 桥东区 → 襄都区 in 2020); ``lookup`` returns the current
row, or the one in force in a given year. Codes are written with six digits; ``lookup`` also takes the short forms
``"46"`` and ``"4601"`` and twelve-digit forms ending in six zeros (``"460100000000"``), padded or cut to six digits.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal, cast

from yiwang.core.errors import InvalidInput
from yiwang.core.i18n import N_

Level = Literal["province", "prefecture", "county"]
LEVELS: tuple[Level, ...] = ("province", "prefecture", "county")

DATA_FILE = Path(__file__).resolve().parent / "data" / "divisions.csv"


@dataclass(frozen=True)
class Division:
    """One administrative division 行政区划 under one name, with the years it was in force.

    `valid_from` is None when the code was in force before the first revision of the table (1980) and `valid_to` is
    None while it is in force. Years are inclusive: a code abolished during 2010 has ``valid_to == 2010``.
    """

    code: str
    name: str
    level: Level
    valid_from: int | None
    valid_to: int | None

    def is_current(self) -> bool:
        """Whether the code is in force today under this name."""
        return self.valid_to is None

    def was_valid_in(self, year: int) -> bool:
        """Whether the code was in force under this name at some time during `year`."""
        return (self.valid_from is None or self.valid_from <= year) and (self.valid_to is None or year <= self.valid_to)

    def overlaps(self, other: Division) -> bool:
        """Whether the two were in force during a common year."""
        return (self.valid_from is None or other.valid_to is None or self.valid_from <= other.valid_to) and (
            other.valid_from is None or self.valid_to is None or other.valid_from <= self.valid_to
        )


@dataclass(frozen=True)
class _Table:
    rows: tuple[Division, ...]
    by_code: dict[str, tuple[Division, ...]]  # rows of one code, oldest first
    parents: dict[Division, str | None]  # row -> code of its parent (province, or prefecture of its time)
    children: dict[str, tuple[Division, ...]]  # parent code -> child rows, by code then age


@cache
def _table() -> _Table:
    rows: list[Division] = []
    with DATA_FILE.open(encoding="utf-8", newline="") as handle:
        for record in csv.DictReader(handle):
            level = record["level"]
            if level not in LEVELS:
                raise ValueError(f"divisions.csv: bad level {level!r} for {record['code']}")
            rows.append(
                Division(
                    code=record["code"],
                    name=record["name"],
                    level=cast(Level, level),
                    valid_from=int(record["valid_from"]) if record["valid_from"] else None,
                    valid_to=int(record["valid_to"]) if record["valid_to"] else None,
                )
            )
    rows.sort(key=lambda d: (d.code, d.valid_from or 0))
    grouped: dict[str, list[Division]] = defaultdict(list)
    for row in rows:
        grouped[row.code].append(row)
    by_code = {code: tuple(group) for code, group in grouped.items()}

    parents: dict[Division, str | None] = {}
    children: dict[str, list[Division]] = defaultdict(list)
    for row in rows:
        parent = _parent_code(row, by_code)
        parents[row] = parent
        if parent is not None:
            children[parent].append(row)
    return _Table(tuple(rows), by_code, parents, {code: tuple(group) for code, group in children.items()})


def _parent_code(row: Division, by_code: dict[str, tuple[Division, ...]]) -> str | None:
    """Counties hang under the prefecture of their first four digits when one existed at the same time; otherwise
    (直辖市 districts 1101xx, 省直辖县级 units 4690xx, 4290xx …) directly under their province."""
    if row.level == "province":
        return None
    province = row.code[:2] + "0000"
    if row.level == "prefecture":
        return province
    prefecture = row.code[:4] + "00"
    if any(p.overlaps(row) for p in by_code.get(prefecture, ())):
        return prefecture
    return province


def normalize_code(code: str) -> str | None:
    """The six-digit form of `code` ("46" → "460000", "4601" → "460100"), or None if it cannot be one."""
    code = code.strip()
    if not code.isascii() or not code.isdigit():
        return None
    if len(code) in (2, 4):
        return code.ljust(6, "0")
    if len(code) == 12 and code.endswith("000000"):
        return code[:6]
    return code if len(code) == 6 else None


def lookup(code: str, year: int | None = None) -> Division | None:
    """The division of `code`: in force in `year` if given, else the current one, else the last one it named."""
    normalized = normalize_code(code)
    if normalized is None:
        return None
    rows = _table().by_code.get(normalized, ())
    if year is not None:
        rows = tuple(r for r in rows if r.was_valid_in(year))
    if not rows:
        return None
    current = [r for r in rows if r.is_current()]
    if current:
        return current[-1]
    return max(rows, key=lambda r: (r.valid_to or 0, r.valid_from or 0))


def history(code: str) -> list[Division]:
    """Every row of `code`, oldest first (several when it was renamed or reused)."""
    normalized = normalize_code(code)
    return list(_table().by_code.get(normalized, ())) if normalized else []


def is_division_code(code: str, year: int | None = None) -> bool:
    """Whether `code` is a division code: in force in `year` if given, at any time since 1980 otherwise."""
    return lookup(code, year) is not None


def all_divisions(level: Level | None = None, current_only: bool = True) -> list[Division]:
    """All divisions (one row per code: the current or last one), optionally of one level, ordered by code."""
    table = _table()
    result: list[Division] = []
    for code in sorted(table.by_code):
        row = lookup(code)
        if row is None or (current_only and not row.is_current()) or (level is not None and row.level != level):
            continue
        result.append(row)
    return result


def provinces(current_only: bool = True) -> list[Division]:
    """Provinces, autonomous regions, municipalities and SARs 省级行政区, ordered by code."""
    return all_divisions("province", current_only)


def parent(code: str, year: int | None = None) -> Division | None:
    """The division directly above `code` (a prefecture, or the province for 直辖市 districts and 省直辖县级 units)."""
    row = lookup(code, year)
    return None if row is None else _parent_row(row)


def _parent_row(row: Division) -> Division | None:
    """The parent of `row` as it was named while `row` was in force."""
    parent_code = _table().parents.get(row)
    if parent_code is None:
        return None
    candidates = [p for p in history(parent_code) if p.overlaps(row)]
    return candidates[-1] if candidates else lookup(parent_code)


def children(code: str, current_only: bool = True) -> list[Division]:
    """The divisions directly under `code`: prefectures and 省直辖 county-level units of a province (districts of a
    直辖市), counties of a prefecture; one row per code (the current or last one), ordered by code."""
    normalized = normalize_code(code)
    if normalized is None:
        return []
    seen: dict[str, Division] = {}
    for row in _table().children.get(normalized, ()):
        if current_only and not row.is_current():
            continue
        seen[row.code] = row  # later rows of the same code win: rows are ordered oldest first
    return [seen[c] for c in sorted(seen)]


def full_name(code: str, year: int | None = None) -> str:
    """The names from province down to `code`, space-separated: ``"海南省 海口市 龙华区"``.

    Raises InvalidInput (``division.unknown``) for a code that is not in the table (in `year`, if given).
    """
    row = lookup(code, year)
    if row is None:
        raise InvalidInput("division.unknown", N_("{value} is not a known administrative division code"), value=code)
    names = [row.name]
    current = _parent_row(row)
    while current is not None:
        names.append(current.name)
        current = _parent_row(current)
    return " ".join(reversed(names))
