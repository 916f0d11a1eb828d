"""The benchmarks' CSV is the same bytes for the same arguments, in UTF-8 and GBK alike, and parses as 12 columns."""

from __future__ import annotations

import csv
from pathlib import Path

from bench.csvdata import HEADER, write_csv
from yiwang.core.validators import is_credit_code


def test_same_arguments_give_the_same_bytes_and_another_seed_other_bytes(tmp_path: Path) -> None:
    first = write_csv(tmp_path / "a.csv", rows=2_000)
    second = write_csv(tmp_path / "b.csv", rows=2_000)
    other = write_csv(tmp_path / "c.csv", rows=2_000, seed=2)
    assert first.path.read_bytes() == second.path.read_bytes()
    assert first.path.read_bytes() != other.path.read_bytes()
    assert (first.rows, first.bytes) == (2_000, first.path.stat().st_size)


def test_gbk_variant_holds_the_same_text(tmp_path: Path) -> None:
    utf8 = write_csv(tmp_path / "u.csv", rows=1_000)
    gbk = write_csv(tmp_path / "g.csv", rows=1_000, encoding="gbk")
    assert gbk.path.read_bytes().decode("gbk") == utf8.path.read_text(encoding="utf-8")
    assert gbk.bytes < utf8.bytes  # two bytes a Han character instead of three


def test_rows_parse_as_twelve_columns_with_quoted_commas_and_mostly_valid_codes(tmp_path: Path) -> None:
    made = write_csv(tmp_path / "r.csv", rows=3_000)
    with made.path.open(encoding="utf-8", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    assert tuple(header) == HEADER and len(rows) == 3_000
    assert all(len(row) == 12 for row in rows)
    assert [row[0] for row in rows[:3]] == ["1", "2", "3"]
    assert any("," in row[11] for row in rows) and any('"' in row[11] for row in rows)
    valid = sum(is_credit_code(row[2]) for row in rows)
    assert 0.95 * len(rows) < valid < len(rows)  # about one in 97 is broken on purpose
    assert any(row[4] == "" for row in rows)


def test_a_byte_budget_stops_at_whole_chunks(tmp_path: Path) -> None:
    made = write_csv(tmp_path / "s.csv", max_bytes=1_000_000)
    assert made.bytes >= 1_000_000 and made.rows > 0
    assert made.path.read_bytes().count(b"\n") == made.rows + 1  # no field of this data holds a newline
