"""只读 SQL read-only SQL over open datasets, Datasette style: one SELECT, with a time limit and a row cap.

Two barriers stand between a query and anything but the open data. First sqlglot parses it and refuses all but a
single SELECT over the exposed datasets that uses allow-listed syntax and ordinary functions; only the SQL that
sqlglot regenerates from the checked tree (comments dropped) ever runs, so the checker and DuckDB cannot read the
text differently. Then it runs in a fresh in-memory DuckDB that can reach no file, extension or setting: each
dataset's Parquet is registered through pyarrow under a random name before the configuration is locked, and only a
view that masks its personal fields carries the dataset's name, so no query can see or filter raw personal values.
"""

from __future__ import annotations

import re
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.dataset as pads
import sqlglot
from duckdb.func import ARROW
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session
from sqlglot import exp
from sqlglot.errors import SqlglotError

from yiwang.catalog.jsonable import json_value
from yiwang.catalog.models import Dataset, OpenType
from yiwang.catalog.rules import CatalogAction, rows_resource
from yiwang.catalog.service import version_file
from yiwang.core.authz import authorize
from yiwang.core.errors import InvalidInput
from yiwang.core.i18n import N_
from yiwang.core.identity import Actor
from yiwang.core.masking import PersonalKind, mask

DEFAULT_ROW_CAP = 1000
DEFAULT_SECONDS = 5.0
MAX_SQL_CHARS = 20_000
MEMORY_LIMIT = "512MB"
TEMP_LIMIT = "1GB"
THREADS = 2
SQL_TEMP_DIR = "tmp/sql"

# Ordinary functions sqlglot parses into typed nodes: aggregates, window functions, maths, text, dates, casts.
_FUNCTION_NODES: frozenset[type[exp.Expr]] = frozenset(
    {
        # aggregates
        exp.Count, exp.Sum, exp.Avg, exp.Min, exp.Max, exp.Median, exp.Mode, exp.Quantile, exp.PercentileCont,
        exp.PercentileDisc, exp.ApproxQuantile, exp.ApproxDistinct, exp.GroupConcat, exp.Stddev, exp.StddevPop,
        exp.StddevSamp, exp.Variance, exp.VariancePop, exp.ArgMax, exp.ArgMin, exp.LogicalAnd, exp.LogicalOr,
        exp.CountIf, exp.Corr, exp.CovarPop, exp.CovarSamp, exp.First, exp.Last, exp.AnyValue, exp.Kurtosis,
        exp.Skewness, exp.Grouping,
        # window functions
        exp.RowNumber, exp.Rank, exp.DenseRank, exp.PercentRank, exp.CumeDist, exp.Ntile, exp.Lag, exp.Lead,
        exp.FirstValue, exp.LastValue, exp.NthValue,
        # maths
        exp.Abs, exp.Ceil, exp.Floor, exp.Round, exp.Trunc, exp.Sign, exp.Sqrt, exp.Cbrt, exp.Exp, exp.Ln, exp.Log,
        exp.Pow, exp.Pi, exp.Sin, exp.Cos, exp.Tan, exp.Asin, exp.Acos, exp.Atan, exp.Atan2, exp.Degrees,
        exp.Radians, exp.Greatest, exp.Least, exp.IsNan, exp.IsInf,
        # text
        exp.Length, exp.Lower, exp.Upper, exp.Trim, exp.Substring, exp.Left, exp.Right, exp.Concat, exp.ConcatWs,
        exp.Replace, exp.Reverse, exp.Repeat, exp.Pad, exp.StrPosition, exp.Contains, exp.StartsWith, exp.EndsWith,
        exp.SplitPart, exp.RegexpLike, exp.RegexpReplace, exp.RegexpExtract, exp.RegexpFullMatch, exp.Ascii,
        exp.Chr, exp.MD5, exp.Translate, exp.Levenshtein, exp.Nullif, exp.Coalesce,
        # dates and times
        exp.TimeToStr, exp.StrToTime, exp.TimestampTrunc, exp.DateTrunc, exp.Extract, exp.Year, exp.Month,
        exp.Day, exp.Quarter, exp.Week, exp.DayOfWeek, exp.DayOfWeekIso, exp.DayOfMonth, exp.DayOfYear, exp.Hour,
        exp.Minute, exp.Second, exp.DateDiff, exp.DateAdd, exp.DateFromParts, exp.TimestampFromParts, exp.LastDay,
        exp.TimeToUnix, exp.UnixToTime, exp.CurrentDate, exp.CurrentTimestamp, exp.Monthname, exp.Dayname,
        exp.DateBin,
        # conditionals and casts
        exp.Case, exp.If, exp.Cast, exp.TryCast, exp.Exists, exp.Collate, exp.Array,
    }
)  # fmt: skip

# Ordinary DuckDB functions sqlglot knows only by name (it parses them as anonymous functions).
ANONYMOUS_FUNCTIONS = frozenset(
    {
        "age", "date_part", "datepart", "entropy", "even", "gcd", "geomean", "isfinite", "lcm", "mean", "now",
        "prefix", "printf", "product", "round_even", "strlen", "suffix", "weekday", "yearweek",
    }
)  # fmt: skip

# Query syntax: selects and set operations, joins, CTEs, predicates, operators, windows, literals.
_SYNTAX_NODES: frozenset[type[exp.Expr]] = frozenset(
    {
        exp.Select, exp.Union, exp.Intersect, exp.Except, exp.With, exp.CTE, exp.Subquery, exp.From, exp.Join,
        exp.Table, exp.TableAlias, exp.Column, exp.Identifier, exp.Star, exp.Alias, exp.Where, exp.Group,
        exp.GroupingSets, exp.Rollup, exp.Cube, exp.Having, exp.Qualify, exp.Order, exp.Ordered, exp.Limit,
        exp.Offset, exp.Distinct, exp.Window, exp.WindowSpec, exp.Filter, exp.WithinGroup, exp.Literal, exp.Null,
        exp.Boolean, exp.Interval, exp.DataType, exp.DataTypeParam, exp.Paren, exp.Tuple, exp.Bracket,
        exp.Between, exp.In, exp.Is, exp.Like, exp.ILike, exp.Glob, exp.SimilarTo, exp.Escape, exp.Any, exp.All,
        exp.Not, exp.And, exp.Or, exp.EQ, exp.NEQ, exp.NullSafeEQ, exp.NullSafeNEQ, exp.GT, exp.GTE, exp.LT,
        exp.LTE, exp.Add, exp.Sub, exp.Mul, exp.Div, exp.IntDiv, exp.Mod, exp.Neg, exp.DPipe, exp.BitwiseAnd,
        exp.BitwiseOr, exp.BitwiseXor, exp.BitwiseNot, exp.BitwiseLeftShift, exp.BitwiseRightShift,
    }
)  # fmt: skip

# A bare word (`Var`) is a keyword only in these places: an interval or date-part unit, a collation, ORDER BY ALL.
_VAR_PARENTS: frozenset[type[exp.Expr]] = frozenset(
    {exp.Interval, exp.Extract, exp.TimestampTrunc, exp.DateTrunc, exp.DateDiff, exp.DateAdd, exp.Collate, exp.Ordered}
)
_TABLE_ARGS = frozenset({"this", "alias"})
# Names of WITH queries: letters, digits and _, so that a name can never be read as a file.
_CTE_NAME = re.compile(r"^[^\W\d]\w*$")


@dataclass(frozen=True)
class SqlTable:
    """A dataset exposed to SQL: its name, its Parquet file and its fields as (column, personal kind)."""

    name: str
    parquet: Path
    fields: list[tuple[str, str]]


@dataclass(frozen=True)
class SqlResult:
    """At most the row cap of rows, JSON-ready; `truncated` when the query had more."""

    columns: list[str]
    rows: list[tuple[Any, ...]]
    truncated: bool
    elapsed_ms: float


@dataclass(frozen=True)
class _Query:
    tree: exp.Query
    tables: list[exp.Table]  # every reference to a dataset (not to a WITH query)


def _parse(sql: str) -> _Query:
    """Parse and allow-list `sql`; the table references are returned, not yet resolved."""
    if not sql.strip():
        raise InvalidInput("sql.empty", N_("Write a SELECT query"))
    if len(sql) > MAX_SQL_CHARS:
        raise InvalidInput("sql.too_long", N_("A query can have at most {max} characters"), max=MAX_SQL_CHARS)
    try:
        statements = [s for s in sqlglot.parse(sql, read="duckdb") if s is not None]
    except SqlglotError as exc:
        raise InvalidInput(
            "sql.syntax", N_("The query is not valid SQL: {reason}"), reason=str(exc).splitlines()[0][:200]
        ) from None
    except RecursionError:
        raise InvalidInput("sql.too_complex", N_("The query is nested too deeply")) from None
    if not statements:
        raise InvalidInput("sql.empty", N_("Write a SELECT query"))
    if len(statements) > 1:
        raise InvalidInput("sql.multiple_statements", N_("Send one SELECT statement at a time"))
    tree = statements[0]
    if not isinstance(tree, exp.Select | exp.Union | exp.Intersect | exp.Except):
        statement = tree.name if isinstance(tree, exp.Command) else tree.key
        raise InvalidInput(
            "sql.not_select", N_("Only a SELECT query is allowed, not {statement}"), statement=statement.upper()
        )
    ctes = frozenset(cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE))
    tables: list[exp.Table] = []
    for node in tree.walk():
        _check_node(node)
        if isinstance(node, exp.CTE) and not _CTE_NAME.match(node.alias_or_name):
            raise InvalidInput(
                "sql.bad_name",
                N_("Name a WITH query with letters, digits and _ only: {name}"),
                name=node.alias_or_name,
            )
        if isinstance(node, exp.Table):
            _check_table(node)
            if node.name.lower() not in ctes:
                tables.append(node)
    return _Query(tree, tables)


def _check_node(node: exp.Expr) -> None:
    kind = type(node)
    if kind is exp.Anonymous:
        if node.name.lower() in ANONYMOUS_FUNCTIONS:
            return
        raise InvalidInput("sql.not_allowed", N_("Function {name} is not allowed here"), name=node.name.lower())
    if kind is exp.Var:
        if node.parent is not None and type(node.parent) in _VAR_PARENTS:
            return
    elif kind in _FUNCTION_NODES or kind in _SYNTAX_NODES:
        return
    if isinstance(node, exp.Func):
        raise InvalidInput("sql.not_allowed", N_("Function {name} is not allowed here"), name=_function_name(node))
    raise InvalidInput("sql.not_allowed", N_("{construct} is not allowed here"), construct=_construct(node))


def _function_name(node: exp.Func) -> str:
    """The name DuckDB knows a refused function by (sqlglot's own class names can differ: `range` is GenerateSeries)."""
    try:
        called = re.match(r"\s*([^\W\d][\w.]*)\s*\(", node.sql(dialect="duckdb"))
    except SqlglotError:
        called = None
    return (called.group(1) if called else node.sql_name()).lower()


def _construct(node: exp.Expr) -> str:
    """How to name a refused construct to the user: its keyword, or its first words of SQL."""
    if isinstance(node, exp.Var | exp.Placeholder | exp.Dot):
        return node.sql(dialect="duckdb")[:60]
    return node.key.upper()


def _check_table(table: exp.Table) -> None:
    """A table is a bare name: no schema or catalogue, no table function, file, sample or time travel."""
    if isinstance(table.this, exp.Func):
        name = _function_name(table.this)
        raise InvalidInput("sql.not_allowed", N_("Function {name} is not allowed here"), name=name)
    if not isinstance(table.this, exp.Identifier) or table.args.get("db") or table.args.get("catalog"):
        raise InvalidInput("sql.unknown_table", N_("There is no open dataset called {name}"), name=table.sql("duckdb"))
    extra = [value for key, value in table.args.items() if value and key not in _TABLE_ARGS]
    if extra:
        construct = extra[0].sql(dialect="duckdb")[:60] if isinstance(extra[0], exp.Expr) else str(extra[0])
        raise InvalidInput("sql.not_allowed", N_("{construct} is not allowed here"), construct=construct)


def _alias(name: str) -> str:
    return name.replace("-", "_")


def _resolve(query: _Query, table_names: Collection[str]) -> list[str]:
    """The dataset each table reference names: the exact name first, else the name with `-` written as `_`."""
    exact = {name.lower(): name for name in table_names}
    aliases: dict[str, set[str]] = {}
    for name in table_names:
        aliases.setdefault(_alias(name).lower(), set()).add(name)
    resolved: list[str] = []
    for table in query.tables:
        written = table.name.lower()
        if written in exact:
            resolved.append(exact[written])
            continue
        candidates = aliases.get(written, set())
        if len(candidates) > 1:
            raise InvalidInput(
                "sql.ambiguous_table",
                N_("{name} could mean any of {choices}: write the name in double quotes"),
                name=table.name,
                choices=", ".join(sorted(candidates)),
            )
        if not candidates:
            raise InvalidInput("sql.unknown_table", N_("There is no open dataset called {name}"), name=table.name)
        resolved.append(next(iter(candidates)))
    return resolved


@dataclass(frozen=True)
class CheckedQuery:
    """A query that passed the allow-list, its table references resolved to dataset names."""

    tree: exp.Query
    tables: list[exp.Table]
    names: list[str]

    def to_sql(self) -> str:
        """The SQL to run, regenerated from the tree with every reference naming its dataset exactly."""
        return _rewrite(_Query(self.tree, self.tables), self.names)


def parse_checked(sql: str, table_names: Collection[str]) -> CheckedQuery:
    """Parse `sql`, allow-list it and resolve its tables among `table_names` (InvalidInput otherwise); other modules
    (the privacy sandbox) add their own rules on the tree."""
    query = _parse(sql)
    return CheckedQuery(query.tree, query.tables, _resolve(query, table_names))


def check_sql(sql: str, table_names: Collection[str]) -> set[str]:
    """The datasets `sql` reads, if it is one allow-listed SELECT over `table_names`; InvalidInput otherwise."""
    query = _parse(sql)
    return set(_resolve(query, table_names))


def referenced_names(sql: str) -> set[str]:
    """The table names an allow-listed query refers to, as written (lower case), WITH queries left out."""
    return {table.name.lower() for table in _parse(sql).tables}


def _rewrite(query: _Query, names: list[str]) -> str:
    """The SQL to run: every reference names its dataset exactly, keeping what it was called as its alias."""
    for table, name in zip(query.tables, names, strict=True):
        if table.name != name and not table.alias:
            table.set("alias", exp.TableAlias(this=exp.to_identifier(table.name, quoted=True)))
        table.set("this", exp.to_identifier(name, quoted=True))
    try:
        return query.tree.sql(dialect="duckdb", comments=False)
    except RecursionError:
        raise InvalidInput("sql.too_complex", N_("The query is nested too deeply")) from None


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _masker(kind: PersonalKind) -> Callable[[Any], Any]:
    """A vectorised DuckDB function masking a column of `kind` (arrow in, arrow out)."""

    def apply(values: Any) -> Any:
        return pa.array([mask(kind, value) for value in values.to_pylist()], type=pa.string())

    return apply


def open_sandbox(tables: Sequence[SqlTable], spill: Path, seconds: float) -> duckdb.DuckDBPyConnection:
    """The second barrier: a fresh in-memory DuckDB exposing `tables` as masked views, then locked so that it
    reaches no file, extension or setting. It does not stop `query()`, `duckdb_settings()` or CREATE: `_parse` does."""
    connection = duckdb.connect(
        ":memory:",
        config={
            "memory_limit": MEMORY_LIMIT,
            "threads": THREADS,
            "temp_directory": str(spill),
            "max_temp_directory_size": TEMP_LIMIT,
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
            "python_enable_replacements": False,  # a table name must never find a Python variable
            "max_execution_time": max(1, int(seconds * 1000)),
        },
    )
    try:
        _expose(connection, tables)
        # Order matters: the views exist before file access is switched off, and nothing can switch it back on.
        connection.execute("SET enable_external_access = false")
        connection.execute("SET lock_configuration = true")
    except BaseException:
        connection.close()
        raise
    return connection


def _expose(connection: duckdb.DuckDBPyConnection, tables: Sequence[SqlTable]) -> None:
    """Each table as a view named after its dataset, personal fields masked, over raw data under a random name."""
    kinds = {_personal_kind(kind) for table in tables for _column, kind in table.fields} - {PersonalKind.NONE}
    for kind in sorted(kinds):
        connection.create_function(
            f"mask_{kind.value}", _masker(kind), ["VARCHAR"], "VARCHAR", type=ARROW, side_effects=False
        )
    for table in tables:
        # Read through pyarrow, not DuckDB's own file system, which is switched off before any query runs.
        raw = f"raw_{secrets.token_hex(12)}"
        connection.register(raw, pads.dataset(str(table.parquet), format="parquet"))
        columns = ", ".join(
            _quote(column)
            if _personal_kind(kind) is PersonalKind.NONE
            else f"mask_{_personal_kind(kind).value}(CAST({_quote(column)} AS VARCHAR)) AS {_quote(column)}"
            for column, kind in table.fields
        )
        connection.execute(f"CREATE VIEW {_quote(table.name)} AS SELECT {columns} FROM {raw}")


def _personal_kind(kind: str) -> PersonalKind:
    mask(kind, None)  # raises masking.kind for a kind that does not exist
    return PersonalKind(kind)


def run_sql(
    sql: str,
    tables: Sequence[SqlTable],
    *,
    row_cap: int = DEFAULT_ROW_CAP,
    seconds: float = DEFAULT_SECONDS,
    temp_dir: Path,
) -> SqlResult:
    """Run one allow-listed SELECT over `tables` (personal fields masked); at most `row_cap` rows, `seconds` long."""
    if row_cap < 1 or seconds <= 0:
        raise ValueError("row_cap and seconds must be positive")
    query = _parse(sql)
    names = _resolve(query, [t.name for t in tables])
    used = [t for t in tables if t.name in set(names)]
    return run_checked(_rewrite(query, names), used, row_cap=row_cap, seconds=seconds, temp_dir=temp_dir)


def run_checked(text: str, tables: Sequence[SqlTable], *, row_cap: int, seconds: float, temp_dir: Path) -> SqlResult:
    """Run SQL that already passed a check (and was regenerated from its tree) in a fresh locked sandbox over
    `tables`; DuckDB's failures become clear errors."""
    temp_dir.mkdir(parents=True, exist_ok=True)
    spill = Path(tempfile.mkdtemp(prefix="query-", dir=temp_dir))
    try:
        connection = open_sandbox(tables, spill, seconds)
        try:
            return execute_locked(connection, text, row_cap, seconds)
        except duckdb.InterruptException:
            raise InvalidInput(
                "sql.timeout",
                N_("The query ran past the time limit of {seconds} s: narrow it down"),
                seconds=f"{seconds:g}",
            ) from None
        except duckdb.OutOfMemoryException:
            raise InvalidInput(
                "sql.too_much_memory", N_("The query needs more memory than allowed: narrow it down")
            ) from None
        except duckdb.Error as exc:
            raise InvalidInput("sql.failed", N_("The query failed: {reason}"), reason=_reason(exc, tables)) from None
        finally:
            connection.close()
    finally:
        shutil.rmtree(spill, ignore_errors=True)


def execute_locked(connection: duckdb.DuckDBPyConnection, text: str, row_cap: int, seconds: float) -> SqlResult:
    """Run `text` on a sandbox connection, interrupted after `seconds` (fetching included), at most `row_cap` rows."""
    # DuckDB streams the result, so the timer must cover fetching as well as executing.
    timer = threading.Timer(seconds, connection.interrupt)
    started = time.perf_counter()
    timer.start()
    try:
        cursor = connection.execute(text)
        columns = [str(d[0]) for d in cursor.description or []]
        fetched = cursor.fetchmany(row_cap + 1)
    finally:
        timer.cancel()
    elapsed = (time.perf_counter() - started) * 1000
    rows = [tuple(json_value(v) for v in row) for row in fetched[:row_cap]]
    return SqlResult(columns, rows, len(fetched) > row_cap, round(elapsed, 3))


def _reason(exc: duckdb.Error, tables: Sequence[SqlTable]) -> str:
    """DuckDB's first line of explanation, without the server's file paths."""
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    for table in tables:
        reason = reason.replace(str(table.parquet), table.name)
    return reason[:300]


def query_open_data(
    session: Session,
    actor: Actor,
    data_dir: Path,
    sql: str,
    *,
    row_cap: int = DEFAULT_ROW_CAP,
    seconds: float = DEFAULT_SECONDS,
) -> SqlResult:
    """Run a read-only query over the open datasets it names (open to everyone, not deleted, with data)."""
    names = referenced_names(sql)
    tables: list[SqlTable] = []
    if names:
        datasets = session.scalars(
            select(Dataset).where(
                Dataset.open_type == OpenType.UNCONDITIONAL.value,
                Dataset.deleted_at.is_(None),
                Dataset.current_version_id.is_not(None),
                or_(Dataset.name.in_(names), func.replace(Dataset.name, "-", "_").in_(names)),
            )
        ).all()
        for dataset in datasets:
            authorize(actor, CatalogAction.READ_ROWS, rows_resource(dataset))
            version = dataset.current_version
            if version is not None:
                fields = [(f.name, f.kind) for f in version.fields]
                tables.append(SqlTable(dataset.name, version_file(data_dir, version), fields))
    return run_sql(sql, tables, row_cap=row_cap, seconds=seconds, temp_dir=data_dir / SQL_TEMP_DIR)
