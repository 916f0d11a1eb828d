"""Figures are judged against their targets and appended to RESULTS.md as dated Markdown rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.__main__ import parse
from bench.harness import Figure, Size, Target, chunked
from bench.report import RESULTS_HEADER, Machine, record


def figure(yiwang: float, reference: float, target: Target, size: Size = "full") -> Figure:
    return Figure("audit", "append", "sqlite", size, "N=10", "entries/s", yiwang, reference, "plain", target)


def test_targets_judge_ratios_and_full_size_rates() -> None:
    assert figure(60, 100, Target(min_ratio=0.5)).met is True
    assert figure(40, 100, Target(min_ratio=0.5)).met is False
    assert figure(300, 100, Target(max_ratio=2)).met is False
    assert figure(250_000, 1, Target(min_rate=200_000)).met is True
    assert figure(250_000, 1, Target(min_rate=200_000), size="small").met is None
    assert figure(1, 1, Target()).met is None


def test_rows_are_appended_below_the_header(tmp_path: Path) -> None:
    path = tmp_path / "RESULTS.md"
    machine = Machine(2, 24.0, 0.5, "3.11.7", "3.40.1", "50.0.2", None)
    record([figure(60, 100, Target(min_ratio=0.5))], machine, "python -m bench audit --size full", path)
    record([figure(30, 100, Target(min_ratio=0.5))], machine, "python -m bench audit --size full", path)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert "\n".join(lines[: RESULTS_HEADER.count("\n")]) == RESULTS_HEADER.rstrip("\n")
    rows = [line for line in lines if line.startswith("| 20")]
    assert len(rows) == 2 and "| 0.60 |" in rows[0] and "| NO |" in rows[1] and "2 cores" in rows[0]
    assert rows[0].endswith("| `python -m bench audit --size full` |")


def test_postgresql_needs_a_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("YIWANG_BENCH_POSTGRES_URL", raising=False)
    with pytest.raises(SystemExit):
        parse(["audit", "--db", "postgresql"])


def test_rounds_cover_every_item_once() -> None:
    parts = chunked(range(10), 3)
    assert [list(p) for p in parts] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
