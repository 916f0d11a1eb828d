"""差分隐私 releasing a planned query's figures with OpenDP's Laplace mechanism.

The privacy unit is one row (one person in the registries tracks open). Every group of the public domain gets a
figure, empty ones too. The ε of a query is split evenly among its components (the row count, counts of columns,
clamped sums); within a component the groups are disjoint, so one person changes one group's figure by at most the
component's sensitivity (1 for counts, max(|low|, |high|) for sums) and the vector's L1 sensitivity is the same.
The noise scale is computed analytically (sensitivity / ε) and OpenDP both checks that the measurement's privacy
map gives at most that ε and samples the noise (discrete Laplace for counts). Groups whose noisy row count is under
the track's minimum are suppressed as well. Everything after the noise is post-processing.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import opendp.prelude as dp

from yiwang.sandbox.dpsql import COUNT_ALL, AggregatePlan, Component

dp.enable_features("contrib")

CONFIDENCE = 0.95
_TAIL = math.log(1 / (1 - CONFIDENCE))  # Laplace: P(|noise| > b·ln(1/α)) = α


@dataclass(frozen=True)
class NoiseReport:
    mechanism: str
    scale: float
    epsilon: float
    sensitivity: float
    ci95: float  # half-width of the 95 % interval around each released figure of this component


@dataclass(frozen=True)
class PrivateResult:
    columns: list[str]
    rows: list[list[Any]]
    intervals: list[list[list[float] | None]]  # per row and column: the 95 % interval of a released figure
    noise: dict[str, NoiseReport]  # per output column that carries noise
    suppressed: int  # groups withheld for having too few rows

    def as_json(self) -> dict[str, Any]:
        return {
            "columns": self.columns,
            "rows": self.rows,
            "intervals": self.intervals,
            "noise": {name: report.__dict__ for name, report in self.noise.items()},
            "suppressed": self.suppressed,
        }


def _group_key(values: Sequence[Any]) -> tuple[str, ...]:
    return tuple("" if v is None else str(v) for v in values)


def _privacy_map(measurement: Any, sensitivity: float) -> float:
    """The ε OpenDP's accountant says the measurement spends at this sensitivity (its bindings carry no types)."""
    return float(measurement.map(sensitivity))


def _noisy(component: Component, exact: list[float], epsilon: float) -> tuple[list[float], NoiseReport]:
    scale = component.sensitivity / epsilon
    if component.kind == "count":
        measurement = dp.m.make_laplace(dp.vector_domain(dp.atom_domain(T=int)), dp.l1_distance(T=int), scale=scale)
        spent = _privacy_map(measurement, int(component.sensitivity))
        released = [float(v) for v in measurement([int(v) for v in exact])]
        mechanism = "discrete laplace"
    else:
        measurement = dp.m.make_laplace(
            dp.vector_domain(dp.atom_domain(T=float, nan=False)), dp.l1_distance(T=float), scale=scale
        )
        spent = _privacy_map(measurement, float(component.sensitivity))
        released = list(measurement([float(v) for v in exact]))
        mechanism = "laplace"
    if spent > epsilon * (1 + 1e-9):  # OpenDP's own accounting must agree with ours
        raise RuntimeError(f"noise for {component.name} would spend {spent}, more than {epsilon}")
    half = _discrete_half_width(scale) if component.kind == "count" else scale * _TAIL
    return released, NoiseReport(mechanism, scale, float(spent), component.sensitivity, half)


def _discrete_half_width(scale: float) -> float:
    """The smallest whole k with P(|X| > k) ≤ 5 % for discrete Laplace noise X of `scale`.

    The continuous bound scale·ln 20 undercovers integers: at scale 1 it admits |X| ≤ 2 only, which holds 92.7 % of
    the time. For discrete Laplace P(|X| ≥ m) = 2·e^(−m/b) / (1 + e^(−1/b)).
    """
    tail = 2 / (1 + math.exp(-1 / scale))
    return float(max(0, math.ceil(-scale * math.log((1 - CONFIDENCE) / tail) - 1 - 1e-12)))


def release(
    plan: AggregatePlan,
    exact_rows: Sequence[Sequence[Any]],
    public_domains: Mapping[str, Sequence[Any]],
    epsilon: float,
    min_group_size: int,
) -> PrivateResult:
    """Noisy figures for every group of the public domain from the exact rows (groups, then components)."""
    width = len(plan.groups)
    domains = [[str(v) for v in public_domains[g]] for g in plan.groups]
    labels = {g: {str(v): v for v in public_domains[g]} for g in plan.groups}
    cells = list(itertools.product(*domains)) if plan.groups else [()]
    exact = {_group_key(row[:width]): row[width:] for row in exact_rows}
    share = epsilon / len(plan.components)
    figures: dict[str, list[float]] = {}
    reports: dict[str, NoiseReport] = {}
    for index, component in enumerate(plan.components):
        values = [float(exact.get(cell, [0] * len(plan.components))[index] or 0) for cell in cells]
        figures[component.name], reports[component.name] = _noisy(component, values, share)
    columns = [alias for alias, _ in plan.outputs]
    rows: list[list[Any]] = []
    intervals: list[list[list[float] | None]] = []
    suppressed = 0
    for position, cell in enumerate(cells):
        if figures[COUNT_ALL][position] < min_group_size:
            suppressed += 1
            continue
        row: list[Any] = []
        bands: list[list[float] | None] = []
        for alias, source in plan.outputs:
            if source in plan.groups:
                row.append(labels[source][cell[plan.groups.index(source)]])
                bands.append(None)
                continue
            value, band = _figure(plan, plan.aggregates[alias], figures, reports, position)
            row.append(value)
            bands.append(band)
        rows.append(row)
        intervals.append(bands)
    for alias, descending in reversed(plan.order):
        index = columns.index(alias)
        rows_and_bands = sorted(
            zip(rows, intervals, strict=True), key=lambda pair: _sort_key(pair[0][index]), reverse=descending
        )
        rows = [r for r, _ in rows_and_bands]
        intervals = [b for _, b in rows_and_bands]
    noise = {
        alias: reports[_main_component(plan.aggregates[alias])]
        for alias, source in plan.outputs
        if source not in plan.groups
    }
    return PrivateResult(columns, rows, intervals, noise, suppressed)


def _main_component(aggregate: Any) -> str:
    if aggregate.function == "count":
        return COUNT_ALL if aggregate.column is None else f"count:{aggregate.column}"
    return f"sum:{aggregate.column}"


def _figure(
    plan: AggregatePlan,
    aggregate: Any,
    figures: Mapping[str, list[float]],
    reports: Mapping[str, NoiseReport],
    position: int,
) -> tuple[Any, list[float]]:
    """One released figure and its 95 % interval (post-processing of the noisy components only)."""
    if aggregate.function == "count":
        name = _main_component(aggregate)
        value = figures[name][position]
        half = reports[name].ci95
        return max(0, round(value)), [max(0.0, value - half), value + half]
    total = figures[f"sum:{aggregate.column}"][position]
    total_half = reports[f"sum:{aggregate.column}"].ci95
    if aggregate.function == "sum":
        return round(total, 2), [total - total_half, total + total_half]
    count = figures[f"count:{aggregate.column}"][position]
    count_half = reports[f"count:{aggregate.column}"].ci95
    low, high = next(c.bounds for c in plan.components if c.name == f"sum:{aggregate.column}") or (0.0, 0.0)
    mean = min(high, max(low, total / max(count, 1.0)))
    # a conservative band: the sum and the count each within their own 95 % intervals
    lowest_count = count - count_half
    if lowest_count <= 0:
        return round(mean, 4), [low, high]
    candidates = [(total - total_half) / lowest_count, (total + total_half) / lowest_count]
    candidates += [(total - total_half) / (count + count_half), (total + total_half) / (count + count_half)]
    return round(mean, 4), [max(low, min(candidates)), min(high, max(candidates))]


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (1, "")
    return (0, value) if isinstance(value, int | float) else (0, str(value))
