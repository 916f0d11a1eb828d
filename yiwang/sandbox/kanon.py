"""k-匿名 de-identified exports: quasi-identifiers generalised until every combination is shared by k rows.

Each quasi-identifier gets a generalisation hierarchy from its values: dates (date → year-month → year → 5-year
band → 10-year band → *), whole numbers such as ages (value → 5-, 10-, 20-year bands → *), six-digit division codes
(county → prefecture → province → *), anything else (value → *). A greedy search raises, one step at a time, the
level that suppresses the fewest rows, until at most `max_suppression` of the rows sit in classes smaller than k;
those rows are dropped. Direct identifiers (ID numbers) become keyed pseudonyms; names, phones, addresses and free
text are removed. Everything runs as SQL in DuckDB over the version's Parquet file; the report gives the k and l
reached, the levels and the information loss.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from yiwang.core.errors import InvalidInput
from yiwang.core.i18n import N_
from yiwang.core.masking import PersonalKind
from yiwang.core.pseudonyms import Pseudonymiser

DEFAULT_MAX_SUPPRESSION = 0.05
MAX_STEPS = 40
_DIVISION = re.compile(r"^\d{6}$")
REMOVED_KINDS = frozenset(
    {PersonalKind.NAME.value, PersonalKind.PHONE.value, PersonalKind.ADDRESS.value, PersonalKind.FREE_TEXT.value}
)
STAR = "'*'"


@dataclass(frozen=True)
class Hierarchy:
    """The SQL of each generalisation level of one column, from exact (0) to fully suppressed (last)."""

    column: str
    kind: str  # date, number, division, category
    levels: list[str]


@dataclass(frozen=True)
class KReport:
    k_requested: int
    k_reached: int
    l_reached: int | None
    sensitive: str | None
    levels: dict[str, str]  # quasi-identifier → the level's name
    rows_in: int
    rows_out: int
    suppressed: int
    information_loss: float  # mean generalisation height (0 exact … 1 all stars), over the quasi-identifiers
    removed: list[str]
    pseudonymised: list[str]

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


LEVEL_NAMES = {
    "date": ["date", "year-month", "year", "5 years", "10 years", "*"],
    "number": ["value", "band of 5", "band of 10", "band of 20", "*"],
    "division": ["county", "prefecture", "province", "*"],
    "category": ["value", "*"],
}


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def hierarchy(cursor: duckdb.DuckDBPyConnection, parquet: Path, column: str, sql_type: str) -> Hierarchy:
    """The hierarchy a column's type and values call for."""
    c = _quote(column)
    text = f"CAST({c} AS VARCHAR)"
    upper = sql_type.upper()
    if upper.startswith(("DATE", "TIMESTAMP")):
        year = f"year({c})"
        return Hierarchy(
            column,
            "date",
            [
                text,
                f"strftime({c}, '%Y-%m')",
                f"CAST({year} AS VARCHAR)",
                _band(year, 5),
                _band(year, 10),
                STAR,
            ],
        )
    if upper in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"):
        return Hierarchy(column, "number", [text, _band(c, 5), _band(c, 10), _band(c, 20), STAR])
    source = f"read_parquet('{_escape(parquet)}')"
    sample = cursor.execute(f"SELECT DISTINCT {text} FROM {source} WHERE {c} IS NOT NULL LIMIT 1000").fetchall()
    if sample and all(_DIVISION.match(str(value)) for (value,) in sample):
        return Hierarchy(
            column,
            "division",
            [text, f"substr({text}, 1, 4) || '00'", f"substr({text}, 1, 2) || '0000'", STAR],
        )
    return Hierarchy(column, "category", [text, STAR])


def _band(expression: str, width: int) -> str:
    start = f"(CAST({expression} AS BIGINT) // {width}) * {width}"
    return f"CAST({start} AS VARCHAR) || '-' || CAST({start} + {width - 1} AS VARCHAR)"


def _escape(path: Path) -> str:
    return str(path).replace("'", "''")


def _generalised(hierarchies: Sequence[Hierarchy], levels: Sequence[int]) -> list[str]:
    return [
        f"coalesce({h.levels[level]}, '(空)') AS {_quote(h.column)}"
        for h, level in zip(hierarchies, levels, strict=True)
    ]


def _small_rows(
    cursor: duckdb.DuckDBPyConnection, source: str, hierarchies: Sequence[Hierarchy], levels: Sequence[int], k: int
) -> int:
    """How many rows sit in classes smaller than k at these levels."""
    keys = ", ".join(_generalised(hierarchies, levels))
    found = cursor.execute(
        f"SELECT coalesce(sum(n), 0) FROM (SELECT {keys}, count(*) AS n FROM {source} GROUP BY ALL) WHERE n < ?", [k]
    ).fetchall()
    return int(found[0][0])


def anonymise(
    cursor: duckdb.DuckDBPyConnection,
    parquet: Path,
    fields: Mapping[str, tuple[str, str]],  # column → (DuckDB type, personal kind)
    quasi_identifiers: Sequence[str],
    k: int,
    target: Path,
    pseudonyms: Pseudonymiser,
    *,
    sensitive: str | None = None,
    max_suppression: float = DEFAULT_MAX_SUPPRESSION,
) -> KReport:
    """Write the k-anonymous version of `parquet` to `target` and report what it reached."""
    if k < 2:
        raise InvalidInput("export.bad_k", N_("k must be at least 2"))
    unknown = [q for q in quasi_identifiers if q not in fields]
    if unknown or not quasi_identifiers:
        raise InvalidInput(
            "export.bad_quasi_identifiers",
            N_("Unknown quasi-identifiers: {columns}"),
            columns=", ".join(unknown) or "—",
        )
    source = f"read_parquet('{_escape(parquet)}')"
    total = int(cursor.execute(f"SELECT count(*) FROM {source}").fetchall()[0][0])
    hierarchies = [hierarchy(cursor, parquet, q, fields[q][0]) for q in quasi_identifiers]
    levels = [0] * len(hierarchies)
    allowed = int(total * max_suppression)
    small = _small_rows(cursor, source, hierarchies, levels, k)
    for _ in range(MAX_STEPS):
        if small <= allowed:
            break
        trials = []
        for index, h in enumerate(hierarchies):
            if levels[index] + 1 < len(h.levels):
                raised = [*levels[:index], levels[index] + 1, *levels[index + 1 :]]
                trials.append(
                    (
                        _small_rows(cursor, source, hierarchies, raised, k),
                        levels[index] + 1 / len(h.levels),
                        index,
                        raised,
                    )
                )
        if not trials:
            break
        small, _height, _index, levels = min(trials)
    removed = [c for c, (_t, kind) in fields.items() if kind in REMOVED_KINDS and c not in quasi_identifiers]
    pseudonymised = [
        c for c, (_t, kind) in fields.items() if kind == PersonalKind.ID_NUMBER.value and c not in quasi_identifiers
    ]
    kept = [c for c in fields if c not in quasi_identifiers and c not in removed]
    keys = _generalised(hierarchies, levels)
    key_names = ", ".join(_quote(q) for q in quasi_identifiers)
    select = ", ".join([*keys, *(_quote(c) for c in kept)])
    table = cursor.sql(
        f"WITH g AS (SELECT {select} FROM {source}), "
        f"c AS (SELECT *, count(*) OVER (PARTITION BY {key_names}) AS __class FROM g) "
        f"SELECT * EXCLUDE (__class) FROM c WHERE __class >= ?",
        params=[k],
    ).to_arrow_table()
    for column in pseudonymised:
        values = table.column(column).to_pylist()
        tokens = pa.array(
            [None if v is None else pseudonyms.token(PersonalKind.ID_NUMBER, str(v)) for v in values], pa.string()
        )
        table = table.set_column(table.schema.get_field_index(column), column, tokens)
    target.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, target, compression="zstd")
    return _report(cursor, target, hierarchies, levels, k, sensitive, total, table.num_rows, removed, pseudonymised)


def _report(
    cursor: duckdb.DuckDBPyConnection,
    target: Path,
    hierarchies: Sequence[Hierarchy],
    levels: Sequence[int],
    k: int,
    sensitive: str | None,
    total: int,
    written: int,
    removed: list[str],
    pseudonymised: list[str],
) -> KReport:
    """Measure the written file itself, so the report states what the export holds."""
    source = f"read_parquet('{_escape(target)}')"
    keys = ", ".join(_quote(h.column) for h in hierarchies)
    l_expr = f", count(DISTINCT {_quote(sensitive)}) AS l" if sensitive else ""
    found = cursor.execute(
        f"SELECT min(n), min(l) FROM (SELECT count(*) AS n{l_expr or ', NULL AS l'} FROM {source} GROUP BY {keys})"
    ).fetchall()
    k_reached = int(found[0][0]) if found and found[0][0] is not None else 0
    l_reached = int(found[0][1]) if sensitive and found and found[0][1] is not None else None
    heights = [level / (len(h.levels) - 1) for h, level in zip(hierarchies, levels, strict=True)]
    return KReport(
        k_requested=k,
        k_reached=k_reached,
        l_reached=l_reached,
        sensitive=sensitive,
        levels={h.column: LEVEL_NAMES[h.kind][level] for h, level in zip(hierarchies, levels, strict=True)},
        rows_in=total,
        rows_out=written,
        suppressed=total - written,
        information_loss=round(sum(heights) / len(heights), 4),
        removed=removed,
        pseudonymised=pseudonymised,
    )
