"""全文检索 Chinese full-text search of the catalogue, with facets, filters, date ranges and CKAN-style sorts.

Each dataset keeps its jieba tokens in ``search_terms`` (see `index_dataset`), separated by single spaces. Narrowing
happens in SQL through an index of those whole tokens (migration 0008: FTS5 on SQLite, a GIN index of the token
array on PostgreSQL); ranking (BM25 over the stored term counts), tag/theme filters and facets run in Python over the
few columns they need, and only the requested page is loaded as ORM objects.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jieba
from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Select,
    SQLColumnExpression,
    Text,
    and_,
    cast,
    column,
    func,
    not_,
    or_,
    select,
    table,
)
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.orm import Session, selectinload

from yiwang.catalog.models import Dataset, DatasetVersion
from yiwang.catalog.rules import visible_datasets
from yiwang.core.errors import InvalidInput
from yiwang.core.i18n import N_
from yiwang.core.identity import Actor
from yiwang.core.models import Department

FACET_FIELDS = (
    "department",
    "theme",
    "tag",
    "format",
    "open_type",
    "share_type",
    "security_level",
    "update_frequency",
    "licence",
)
FILTER_FIELDS = (*FACET_FIELDS, "name", "id")
SORTS = ("relevance", "modified_desc", "modified_asc", "id_asc", "id_desc", "name_asc", "name_desc", "title_asc")
MAX_ROWS = 1000
MAX_START = 2**31 - 1
MAX_QUERY_WORDS = 32
# Repetition weights: a word in the title or a tag says more about a dataset than one in its description.
TITLE_WEIGHT, TAG_WEIGHT, NAME_WEIGHT, THEME_WEIGHT, TEXT_WEIGHT = 3, 3, 2, 2, 1
BM25_K1, BM25_B = 1.2, 0.75

_LIST_FIELDS = {"tag": "tags", "theme": "themes"}
# The term indexes of migration 0008: an FTS5 table on SQLite, a GIN index of this function on PostgreSQL.
_SQLITE_INDEX = table("dataset_search_index", column("rowid"), column("dataset_search_index"))
_TOKENS = func.yiwang_search_tokens(Dataset.search_terms)
_STOP_CHARACTERS = frozenset("的地得和及与或等之其在了是对为于以由把被并也就都而且")
_SEPARATORS = re.compile(r"[\W_]+")


@functools.cache
def _tokenizer() -> Any:
    """A jieba tokenizer of our own (others' `add_word` cannot change our tokens), loaded once and quietly."""
    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer


def _words(text: str, *, search_mode: bool) -> Iterator[str]:
    # HMM off: new-word guessing depends on the surrounding text, so a query and a document could cut alike
    # text differently; without it unknown runs fall back to single characters on both sides.
    normal = unicodedata.normalize("NFKC", text).lower()
    tokenizer = _tokenizer()
    pieces = tokenizer.cut_for_search(normal, HMM=False) if search_mode else tokenizer.cut(normal, HMM=False)
    for piece in pieces:
        for part in _SEPARATORS.split(piece):
            if part and part not in _STOP_CHARACTERS:
                yield part


def tokenize(text: str) -> list[str]:
    """Search-engine tokens of `text`: 注册资本 gives 注册, 资本, 注册资本; lower-cased, without punctuation."""
    return list(_words(text, search_mode=True))


def index_dataset(dataset: Dataset) -> None:
    """Refresh `dataset.search_terms` from its metadata and its current version's fields."""
    version = dataset.current_version
    dataset.search_terms = search_terms(
        title=dataset.title,
        name=dataset.name,
        description=dataset.description,
        tags=dataset.tags or (),
        themes=dataset.themes or (),
        department=dataset.department.name,
        fields=[] if version is None else [text for f in version.fields for text in (f.name, f.description)],
    )


def search_terms(
    *,
    title: str,
    name: str,
    description: str,
    tags: Sequence[str],
    themes: Sequence[str],
    department: str,
    fields: Sequence[str],
) -> str:
    """The stored terms for these texts (plain values, so a migration can index rows without the ORM)."""
    weighted = (
        (TITLE_WEIGHT, title),
        (TAG_WEIGHT, " ".join(tags)),
        (NAME_WEIGHT, name),
        (THEME_WEIGHT, " ".join(themes)),
        (TEXT_WEIGHT, department),
        (TEXT_WEIGHT, description),
        (TEXT_WEIGHT, " ".join(fields)),
    )
    terms = [token for weight, text in weighted for token in tokenize(text or "") for _ in range(weight)]
    return f" {' '.join(terms)} " if terms else ""


def index_catalogue(session: Session, *, batch: int = 500) -> int:
    """Refresh the search terms of every dataset (after an upgrade or a tokenizer change); returns how many."""
    ids = list(session.scalars(select(Dataset.id).order_by(Dataset.id)))
    for first in range(0, len(ids), batch):
        chosen = select(Dataset).where(Dataset.id.in_(ids[first : first + batch]))
        for dataset in session.scalars(chosen.options(selectinload(Dataset.versions))):
            index_dataset(dataset)
        session.flush()
    return len(ids)


@dataclass(frozen=True)
class FacetFilter:
    """One ``field:value`` condition; values of one field are OR-ed, fields are AND-ed, negated ones exclude."""

    field: str
    value: str
    negated: bool = False


@dataclass(frozen=True)
class CatalogueQuery:
    """What a catalogue search asks for (the CKAN ``package_search`` parameters, parsed)."""

    text: str = ""
    filters: tuple[FacetFilter, ...] = ()
    modified_since: datetime | None = None
    modified_until: datetime | None = None
    sort: str = ""
    start: int = 0
    rows: int = 20
    facet_fields: tuple[str, ...] = ()
    facet_limit: int = 50


@dataclass(frozen=True)
class CatalogueResult:
    """A page of datasets, how many matched in all, and facet values by count (then value)."""

    datasets: list[Dataset]
    total: int
    facets: dict[str, list[tuple[str, int]]]


@dataclass(frozen=True)
class _Word:
    """A query word; a word jieba cuts further also matches a dataset holding all its parts."""

    word: str
    parts: tuple[str, ...]


def _check(query: CatalogueQuery) -> str:
    """Refuse malformed queries; return the sort to use."""
    asked = [(f.field, FILTER_FIELDS) for f in query.filters] + [(f, FACET_FIELDS) for f in query.facet_fields]
    for field, allowed in asked:
        if field not in allowed:
            raise InvalidInput(
                "search.bad_field",
                N_("Unknown search field {field}; choose from {choices}"),
                field=field,
                choices=", ".join(allowed),
            )
    if query.sort and query.sort not in SORTS:
        raise InvalidInput(
            "search.bad_sort",
            N_("Unknown sort {sort}; choose from {choices}"),
            sort=query.sort,
            choices=", ".join(SORTS),
        )
    if not 0 <= query.rows <= MAX_ROWS:
        raise InvalidInput("search.bad_rows", N_("rows must be a whole number from 0 to {max}"), max=MAX_ROWS)
    if not 0 <= query.start <= MAX_START:
        raise InvalidInput("search.bad_start", N_("start must be a whole number from 0 to {max}"), max=MAX_START)
    if query.facet_limit < -1:
        raise InvalidInput("search.bad_facet_limit", N_("facet.limit must be -1 (no limit) or a whole number ≥ 0"))
    for moment in (query.modified_since, query.modified_until):
        if moment is not None and moment.utcoffset() is None:
            raise InvalidInput("search.bad_date", N_("A date in a search needs a time zone"))
    return query.sort or ("relevance" if query.text.strip() else "modified_desc")


def _query_words(text: str) -> list[_Word]:
    words = list(dict.fromkeys(_words(text, search_mode=False)))
    if len(words) > MAX_QUERY_WORDS:
        raise InvalidInput("search.too_many_words", N_("A search may have at most {max} words"), max=MAX_QUERY_WORDS)
    return [_Word(w, tuple(p for p in dict.fromkeys(_words(w, search_mode=True)) if p != w)) for w in words]


def _sqlite_match(words: Sequence[_Word]) -> ColumnElement[bool]:
    # Tokens are letters and digits only (see _SEPARATORS), so quoting makes each a one-token phrase.
    def either(word: _Word) -> str:
        parts = " AND ".join(f'"{part}"' for part in word.parts)
        return f'("{word.word}" OR ({parts}))' if word.parts else f'"{word.word}"'

    return _SQLITE_INDEX.c.dataset_search_index.op("MATCH")(" AND ".join(either(w) for w in words))


def _holding(words: Sequence[_Word], dialect: str) -> ColumnElement[bool]:
    """Datasets holding every word as a whole token, or else all of its parts, found through the term index."""
    if dialect == "sqlite":
        return Dataset.id.in_(select(_SQLITE_INDEX.c.rowid).where(_sqlite_match(words)))

    def holds(terms: Sequence[str]) -> ColumnElement[bool]:
        return _TOKENS.op("@>")(cast(array(list(terms)), ARRAY(Text)))

    return and_(*[or_(holds([w.word]), holds(w.parts)) if w.parts else holds([w.word]) for w in words])


def _column(field: str) -> SQLColumnExpression[Any]:
    if field == "department":
        return Department.name
    if field == "format":
        return func.upper(DatasetVersion.source_format)
    if field == "id":
        return Dataset.uuid
    return getattr(Dataset, _LIST_FIELDS.get(field, field))  # type: ignore[no-any-return]


def _binary(column: SQLColumnExpression[str], dialect: str) -> SQLColumnExpression[str]:
    """Code-point order on both backends, the order Python sorts the same values in."""
    return column.collate("C") if dialect == "postgresql" else column


def _order_by(sort: str, dialect: str) -> tuple[SQLColumnExpression[Any], ...]:
    # uuids are lower-case hex with dashes in fixed places, so every collation orders them alike: keep the index.
    return {
        "relevance": (Dataset.modified_at.desc(), Dataset.id.asc()),  # ties of the score
        "modified_desc": (Dataset.modified_at.desc(), Dataset.id.desc()),
        "modified_asc": (Dataset.modified_at.asc(), Dataset.id.asc()),
        "id_asc": (Dataset.uuid.asc(),),
        "id_desc": (Dataset.uuid.desc(),),
        "name_asc": (_binary(Dataset.name, dialect).asc(),),
        "name_desc": (_binary(Dataset.name, dialect).desc(),),
        "title_asc": (_binary(Dataset.title, dialect).asc(), Dataset.id.asc()),
    }[sort]


def _narrowed(
    actor: Actor, query: CatalogueQuery, words: Sequence[_Word], columns: Sequence[Any], dialect: str
) -> Select[Any]:
    """The visible datasets matching the text, column filters and dates, as a query of `columns`."""
    needed = {f.field for f in query.filters} | set(query.facet_fields)
    stmt = visible_datasets(actor).with_only_columns(*columns)
    if "department" in needed:
        stmt = stmt.join_from(Dataset, Department, Department.id == Dataset.department_id)
    if "format" in needed:
        stmt = stmt.outerjoin_from(Dataset, DatasetVersion, DatasetVersion.id == Dataset.current_version_id)
    if words:
        stmt = stmt.where(_holding(words, dialect))
    for (field, negated), values in _grouped(query.filters).items():
        if field in _LIST_FIELDS:
            continue  # JSON lists: filtered in Python, portable across SQLite and PostgreSQL
        column = _column(field)
        chosen = column.in_([v.upper() for v in values] if field == "format" else values)
        stmt = stmt.where(or_(column.is_(None), not_(chosen)) if negated else chosen)
    if query.modified_since is not None:
        stmt = stmt.where(Dataset.modified_at >= query.modified_since)
    if query.modified_until is not None:
        stmt = stmt.where(Dataset.modified_at <= query.modified_until)
    return stmt


def _grouped(filters: Sequence[FacetFilter]) -> dict[tuple[str, bool], list[str]]:
    grouped: dict[tuple[str, bool], list[str]] = {}
    for flt in filters:
        grouped.setdefault((flt.field, flt.negated), []).append(flt.value)
    return grouped


def _list_decoder() -> Callable[[str | None], frozenset[str]]:
    """JSON text of a tag or theme list as a set; memoised, since many datasets share a theme or a tag list."""

    @functools.lru_cache(maxsize=4096)
    def decode(raw: str | None) -> frozenset[str]:
        values = json.loads(raw) if raw else []
        return frozenset(str(v) for v in values) if isinstance(values, list) else frozenset()

    return decode


def _candidates(
    session: Session,
    narrowed: Select[Any],
    position: Mapping[str, int],
    list_filters: Mapping[tuple[str, bool], list[str]],
) -> list[Sequence[Any]]:
    """The narrowed rows, in SQL's order, with tag/theme lists as sets and their filters applied."""
    # Core rows, not ORM ones: for tens of thousands of rows the ORM's per-row work is most of the time.
    rows: list[Sequence[Any]] = list(session.connection().execute(narrowed).all())
    lists = [position[f] for f in _LIST_FIELDS if f in position]
    if lists:
        decode = _list_decoder()
        decoded: list[Sequence[Any]] = []
        for found in rows:
            row = list(found)
            for at in lists:
                row[at] = decode(row[at])
            decoded.append(row)
        rows = decoded
    for (field, negated), values in list_filters.items():
        at = position[field]
        rows = [row for row in rows if any(v in row[at] for v in values) is not negated]
    return rows


def _document_frequencies(session: Session, terms: Sequence[str]) -> tuple[int, list[int]]:
    """How many datasets the catalogue holds, and how many hold each term (BM25's idf), counted in the term index.

    Over the whole catalogue, as search engines take them, not over what this visitor sees: per-visitor counts
    would look up every matching dataset, and the ranking they give differs only by a constant factor per term.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        # the index alone answers (its row ids include deleted datasets, as the total below does)
        index = select(func.count()).select_from(_SQLITE_INDEX)
        holding = [index.where(_sqlite_match([_Word(t, ())])).scalar_subquery() for t in terms]
    else:
        every = select(func.count()).select_from(Dataset)
        holding = [every.where(_holding([_Word(t, ())], dialect)).scalar_subquery() for t in terms]
    row = session.execute(select(select(func.count()).select_from(Dataset).scalar_subquery(), *holding)).one()
    return int(row[0]), [int(n) for n in row[1:]]


def _ranked(session: Session, words: Sequence[_Word], rows: list[Sequence[Any]], at: int) -> list[Sequence[Any]]:
    """Rows by BM25 of their stored terms (repetition carries the field weights); the sort is stable, so equal
    scores keep SQL's order: newest change first, then id."""
    terms = sorted({t for w in words for t in (w.word, *w.parts)})
    idf = [1.0]  # one term: idf scales every score alike, so its counts are not asked for
    if len(terms) > 1:
        count, holding = _document_frequencies(session, terms)
        idf = [math.log(1 + (count - n + 0.5) / (n + 0.5)) for n in holding]
    weights = [(f" {t} ", w) for t, w in zip(terms, idf, strict=True)]
    mean_length = max(sum(len(row[at]) for row in rows) / max(len(rows), 1), 1.0)

    def score(row: Sequence[Any]) -> float:
        stored: str = row[at]
        # doubled spaces, so that str.count also counts a token repeated right after itself
        spaced = stored.replace(" ", "  ")
        norm = BM25_K1 * (1 - BM25_B + BM25_B * len(stored) / mean_length)
        total = 0.0
        for pattern, weight in weights:
            n = spaced.count(pattern)
            if n:
                total += weight * n * (BM25_K1 + 1) / (n + norm)
        return total

    return sorted(rows, key=score, reverse=True)


def _facets(
    rows: Sequence[Sequence[Any]], position: Mapping[str, int], fields: Sequence[str], limit: int
) -> dict[str, list[tuple[str, int]]]:
    facets: dict[str, list[tuple[str, int]]] = {}
    for field in dict.fromkeys(fields):
        at = position[field]
        if field in _LIST_FIELDS:
            counts = Counter(v for row in rows for v in row[at])
        else:
            counts = Counter(row[at] for row in rows)
        ranked = sorted(((str(v), n) for v, n in counts.items() if v not in (None, "")), key=lambda i: (-i[1], i[0]))
        facets[field] = ranked if limit == -1 else ranked[:limit]
    return facets


def _load(session: Session, ids: Sequence[int]) -> list[Dataset]:
    """The page's datasets as ORM objects, in the order of `ids`, with their versions (for resources)."""
    if not ids:
        return []
    found = session.scalars(select(Dataset).where(Dataset.id.in_(ids)).options(selectinload(Dataset.versions)))
    by_id = {d.id: d for d in found}
    return [by_id[i] for i in ids if i in by_id]


def search_catalogue(session: Session, actor: Actor, query: CatalogueQuery) -> CatalogueResult:
    """The datasets `actor` may see that match `query`: a page of them, how many in all, and facet counts."""
    sort = _check(query)
    words = _query_words(query.text)
    dialect = session.get_bind().dialect.name
    order = _order_by(sort, dialect)
    list_filters = {k: v for k, v in _grouped(query.filters).items() if k[0] in _LIST_FIELDS}
    ranking = sort == "relevance" and bool(words)
    if not (query.facet_fields or list_filters or ranking):
        narrowed = _narrowed(actor, query, words, [Dataset.id], dialect)
        total = session.scalar(select(func.count()).select_from(narrowed.subquery())) or 0
        page = narrowed.order_by(*order).offset(query.start).limit(query.rows)
        ids = list(session.scalars(page)) if query.rows else []
        return CatalogueResult(_load(session, ids), total, {})
    # Only the columns ranking, tag/theme filters and facets need; SQL already gives the requested order.
    wanted: dict[str, SQLColumnExpression[Any]] = {"id": Dataset.id}
    if ranking:
        wanted["search_terms"] = Dataset.search_terms
    for field in (*query.facet_fields, *(f for f, _negated in list_filters)):
        # lists as JSON text: decoded (and memoised) here alike on both backends
        wanted.setdefault(field, cast(_column(field), Text) if field in _LIST_FIELDS else _column(field))
    position = {key: i for i, key in enumerate(wanted)}
    narrowed = _narrowed(actor, query, words, list(wanted.values()), dialect).order_by(*order)
    rows = _candidates(session, narrowed, position, list_filters)
    if ranking and len(rows) > 1:
        rows = _ranked(session, words, rows, position["search_terms"])
    ids = [row[0] for row in rows[query.start : query.start + query.rows]]
    return CatalogueResult(
        _load(session, ids), len(rows), _facets(rows, position, query.facet_fields, query.facet_limit)
    )


# The facets the portal's catalogue page and the JSON list show (CKAN clients choose their own).
PORTAL_FACETS = ("department", "theme", "tag", "format", "open_type", "update_frequency")


def portal_query(
    text: str, chosen: Mapping[str, Sequence[str]], *, sort: str = "", page: int = 1, page_size: int = 20
) -> CatalogueQuery:
    """A page of the portal's catalogue: words, the facet values chosen (OR within a field), and facet counts."""
    return CatalogueQuery(
        text=text,
        filters=tuple(FacetFilter(field, value) for field, values in chosen.items() for value in values),
        sort=sort,
        start=(page - 1) * page_size,
        rows=page_size,
        facet_fields=PORTAL_FACETS,
    )
