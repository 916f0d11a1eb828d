"""隐私查询 the aggregate SQL a track allows, checked and planned for a differentially private release.

A query passes the catalogue's allow-list first (one SELECT, ordinary functions, nothing that reaches files,
settings or extensions: `yiwang.catalog.sql.parse_checked`), then the sandbox's own rules on the parsed tree:

- one dataset of the track in FROM: no joins, sub-queries, WITH, set operations, windows, DISTINCT, HAVING, LIMIT;
- GROUP BY only on the track's public-domain columns (every group is known before the query runs, so which groups
  exist leaks nothing, and a group without rows is released as noise around zero);
- the SELECT list holds group columns and COUNT(*), COUNT(column), SUM(column), AVG(column) of bounded columns;
- WHERE is free (noise protects against differencing), ORDER BY only on the output columns.

The plan regenerates the SQL that runs from the checked tree: exact counts, and sums of values clamped into the
declared bounds, per group.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from yiwang.catalog.sql import parse_checked
from yiwang.core.errors import InvalidInput
from yiwang.core.i18n import N_

COUNT_ALL = "__rows"  # the row count per group every plan computes: it drives small-group suppression


@dataclass(frozen=True)
class Aggregate:
    """One aggregate of the SELECT list: ``count`` (column None for COUNT(*)), ``sum`` or ``avg`` of a column."""

    alias: str
    function: str
    column: str | None


@dataclass(frozen=True)
class Component:
    """An exact figure per group that gets noise: a row count, a count of a column's values, or a clamped sum."""

    name: str
    kind: str  # "count" or "sum"
    column: str | None
    bounds: tuple[float, float] | None = None

    @property
    def sensitivity(self) -> float:
        """How far one person (one row) can move this figure in one group."""
        if self.kind == "count" or self.bounds is None:
            return 1.0
        return max(abs(self.bounds[0]), abs(self.bounds[1]))


@dataclass(frozen=True)
class AggregatePlan:
    dataset: str
    groups: list[str]
    outputs: list[tuple[str, str]]  # (alias, group column or aggregate alias) in SELECT order
    aggregates: dict[str, Aggregate]
    components: list[Component]
    order: list[tuple[str, bool]]  # output alias, descending
    sql: str  # what runs: groups and components, per group


def refused(reason: str, **params: Any) -> InvalidInput:
    """The one error code of a query the sandbox will not run; the message says which rule it broke."""
    return InvalidInput("sql.refused", reason, **params)


def _column_name(node: exp.Expr) -> str | None:
    return node.name if isinstance(node, exp.Column) and not node.table else None


def _check_shape(tree: exp.Expr) -> exp.Select:
    if not isinstance(tree, exp.Select):
        raise refused(N_("Only one SELECT over one dataset is allowed, not {construct}"), construct=tree.key.upper())
    banned: tuple[tuple[type[exp.Expr], str], ...] = (
        (exp.With, "WITH"),
        (exp.Join, "JOIN"),
        (exp.Subquery, N_("a sub-query")),
        (exp.Union, "UNION"),
        (exp.Intersect, "INTERSECT"),
        (exp.Except, "EXCEPT"),
        (exp.Window, N_("a window function")),
        (exp.Distinct, "DISTINCT"),
        (exp.Having, "HAVING"),
        (exp.Limit, "LIMIT"),
        (exp.Offset, "OFFSET"),
        (exp.Qualify, "QUALIFY"),
        (exp.Exists, "EXISTS"),
    )
    for node in tree.walk():
        for kind, name in banned:
            if isinstance(node, kind):
                raise refused(N_("{construct} is not allowed in a private query"), construct=name)
    where = tree.args.get("where")
    if where is not None and where.find(exp.AggFunc):
        raise refused(N_("Aggregates cannot be used in WHERE"))
    return tree


def _aggregate(node: exp.Expr, alias: str, bounds: Mapping[str, Sequence[float]]) -> Aggregate:
    if isinstance(node, exp.Count):
        argument = node.this
        if isinstance(argument, exp.Star):
            return Aggregate(alias, "count", None)
        column = _column_name(argument) if argument is not None else None
        if column is None:
            raise refused(N_("COUNT takes * or a column"))
        return Aggregate(alias, "count", column)
    if isinstance(node, exp.Sum | exp.Avg):
        function = "sum" if isinstance(node, exp.Sum) else "avg"
        column = _column_name(node.this)
        if column is None:
            raise refused(N_("{function} takes a column"), function=function.upper())
        if column not in bounds:
            raise refused(
                N_("{column} has no declared bounds in this track, so its {function} cannot be released"),
                column=column,
                function=function.upper(),
            )
        return Aggregate(alias, function, column)
    if isinstance(node, exp.Min | exp.Max):
        raise refused(N_("MIN and MAX reveal single records and are not released in this track"))
    raise refused(
        N_("Select group columns and COUNT, SUM or AVG only, not {expression}"), expression=node.sql("duckdb")[:80]
    )


def plan_query(
    sql: str,
    datasets: Sequence[str],
    fields: Mapping[str, Sequence[str]],
    bounds: Mapping[str, Sequence[float]],
    public_domains: Mapping[str, Sequence[Any]],
) -> AggregatePlan:
    """Check `sql` against the track and plan its release; ``sql.refused`` (with the rule broken) otherwise."""
    try:
        checked = parse_checked(sql, datasets)
    except InvalidInput as exc:
        if exc.code in ("sql.empty", "sql.syntax", "sql.too_long"):
            raise
        raise refused(exc.message, **exc.params) from None
    tree = _check_shape(checked.tree)
    if len(checked.names) != 1:
        raise refused(N_("A private query reads exactly one dataset of the track"))
    dataset = checked.names[0]
    known = set(fields.get(dataset, ()))
    groups: list[str] = []
    for node in tree.args.get("group", exp.Group()).expressions:
        column = _column_name(node)
        if column is None or column not in public_domains:
            raise refused(
                N_("Group only by the track's public-domain columns ({columns}), not {expression}"),
                columns=", ".join(sorted(public_domains)) or "—",
                expression=node.sql("duckdb")[:80],
            )
        if column not in known:
            raise refused(N_("{dataset} has no column {column}"), dataset=dataset, column=column)
        groups.append(column)
    outputs: list[tuple[str, str]] = []
    aggregates: dict[str, Aggregate] = {}
    for position, item in enumerate(tree.expressions):
        node = item.this if isinstance(item, exp.Alias) else item
        column = _column_name(node)
        if column is not None:
            if column not in groups:
                raise refused(
                    N_("{column} is neither grouped by nor aggregated: rows are never released"), column=column
                )
            outputs.append((item.alias_or_name, column))
            continue
        alias = item.alias if isinstance(item, exp.Alias) else f"{node.key}_{position}"
        aggregate = _aggregate(node, alias, bounds)
        if aggregate.column is not None and aggregate.column not in known:
            raise refused(N_("{dataset} has no column {column}"), dataset=dataset, column=aggregate.column)
        aggregates[alias] = aggregate
        outputs.append((alias, alias))
    if not aggregates:
        raise refused(N_("A private query must aggregate: add COUNT(*), SUM or AVG"))
    names = [alias for alias, _ in outputs]
    if len(set(names)) != len(names):
        raise refused(N_("Give every output column its own name"))
    order: list[tuple[str, bool]] = []
    for ordered in tree.args.get("order", exp.Order()).expressions:
        target = _column_name(ordered.this)
        if target is None or target not in names:
            raise refused(N_("ORDER BY only the output columns ({columns})"), columns=", ".join(names))
        order.append((target, bool(ordered.args.get("desc"))))
    components = _components(aggregates, bounds)
    return AggregatePlan(dataset, groups, outputs, aggregates, components, order, _exact_sql(checked, tree, components))


def _components(aggregates: Mapping[str, Aggregate], bounds: Mapping[str, Sequence[float]]) -> list[Component]:
    found: dict[str, Component] = {COUNT_ALL: Component(COUNT_ALL, "count", None)}
    for aggregate in aggregates.values():
        if aggregate.column is None:
            continue
        found.setdefault(f"count:{aggregate.column}", Component(f"count:{aggregate.column}", "count", aggregate.column))
        if aggregate.function in ("sum", "avg"):
            low, high = (float(v) for v in bounds[aggregate.column])
            name = f"sum:{aggregate.column}"
            found.setdefault(name, Component(name, "sum", aggregate.column, (low, high)))
    return list(found.values())


def _exact_sql(checked: Any, tree: exp.Select, components: Sequence[Component]) -> str:
    """Groups and exact components per group, from the checked tree: its FROM and WHERE, our SELECT and GROUP BY."""
    groups = [
        exp.column(name, quoted=True)
        for name in (_column_name(g) for g in tree.args.get("group", exp.Group()).expressions)
        if name
    ]
    selected: list[exp.Expr] = [group.copy() for group in groups]
    for index, component in enumerate(components):
        if component.kind == "count":
            value: exp.Expr = (
                exp.Count(this=exp.Star())
                if component.column is None
                else exp.Count(this=exp.column(component.column, quoted=True))
            )
        else:
            assert component.bounds is not None and component.column is not None
            low, high = component.bounds
            clamped = exp.func(
                "least",
                exp.func(
                    "greatest", exp.cast(exp.column(component.column, quoted=True), "DOUBLE"), exp.Literal.number(low)
                ),
                exp.Literal.number(high),
            )
            value = exp.Sum(this=clamped)
        selected.append(exp.alias_(value, f"c{index}", quoted=True))
    tree.set("expressions", selected)
    tree.set("order", None)
    tree.set("group", exp.Group(expressions=[g.copy() for g in groups]) if groups else None)
    return str(checked.to_sql())
