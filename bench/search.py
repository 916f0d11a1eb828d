"""Catalogue search 目录检索: yiwang's Chinese full-text search with facets against the same query straight on an index.

N datasets with Chinese titles, descriptions, tags and themes are inserted in bulk, their `search_terms` computed by
`yiwang.catalog.search.search_terms`. yiwang answers `search_catalogue` as the portal asks it (PORTAL_FACETS, a page
of 20, anonymous visitor); the reference asks an index over the same `search_terms` for the same words: SQLite FTS5
(`unicode61`, one token per stored jieba token) or a PostgreSQL GIN index on `to_tsvector('simple', …)`, with the
total, the department facet (GROUP BY) and a page ranked by bm25 / ts_rank. Before timing, both sides must agree on
the total and the department counts of every query.
"""

from __future__ import annotations

import functools
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, insert, select, text

from bench.databases import installation
from bench.harness import DatabaseKind, Figure, Options, Size, Target
from bench.profiling import profile
from yiwang.catalog import search
from yiwang.catalog.models import Dataset
from yiwang.catalog.rules import PUBLIC_OPEN_TYPES
from yiwang.core.db import Database
from yiwang.core.identity import Actor
from yiwang.core.models import Department

DESCRIPTION = "catalogue search: search_catalogue with portal facets vs the raw index (SQLite FTS5 / PostgreSQL GIN)"
NAME = "search"
P95_TARGET = Target(max_ratio=2.0)
PAGE = 20
BATCH = 5_000

DEPARTMENTS = (
    "海南省公安厅",
    "海南省卫生健康委员会",
    "海南省市场监督管理局",
    "海南省旅游和文化广电体育厅",
    "海南省交通运输厅",
    "海南省教育厅",
    "海南省生态环境厅",
    "海南省气象局",
    "海南省财政厅",
    "海南省农业农村厅",
    "海南省人力资源和社会保障厅",
    "海南省统计局",
)
THEMES = ("经济建设", "社会民生", "资源环境", "城市建设", "公共安全", "文化休闲", "教育科技", "交通运输")
SUBJECTS = (
    "企业",
    "注册资本",
    "医疗",
    "机构",
    "旅游",
    "收入",
    "交通",
    "教育",
    "人口",
    "环境",
    "监测",
    "气象",
    "财政",
    "预算",
    "农业",
    "就业",
    "社会保障",
    "公共",
    "住房",
    "食品",
    "安全",
    "税收",
    "能源",
    "水利",
    "医院",
    "学校",
    "景区",
    "游客",
    "道路",
    "港口",
    "航班",
    "降水",
    "空气质量",
    "水质",
    "耕地",
    "渔业",
    "养老",
    "补贴",
    "许可",
    "登记",
)
KINDS = ("统计", "名录", "信息", "目录", "年报", "月报", "清单", "分布", "情况", "指标")
PLACES = ("海口市", "三亚市", "儋州市", "琼海市", "文昌市", "万宁市", "五指山市", "东方市")
PHRASES = (
    "按月更新",
    "数据来源于业务系统",
    "包含各市县汇总",
    "经审核后发布",
    "涵盖全省范围",
    "供社会公众查询",
    "每年第一季度更新",
    "统计口径与上年一致",
)
QUERIES = (
    "企业",
    "企业 注册资本",
    "医疗 机构",
    "旅游 收入",
    "交通",
    "教育 学校",
    "人口 统计",
    "环境 监测",
    "气象 降水",
    "财政 预算",
    "农业 耕地",
    "就业 补贴",
    "社会保障",
    "公共 住房",
    "食品 安全",
    "税收",
    "能源 名录",
    "空气质量",
    "海口市 景区 游客",
    "港口 航班",
)


@dataclass(frozen=True)
class SearchSize:
    datasets: int
    repeats: int  # per query and side


SIZES: dict[Size, SearchSize] = {
    "tiny": SearchSize(datasets=1_000, repeats=2),
    "small": SearchSize(datasets=10_000, repeats=5),
    "full": SearchSize(datasets=100_000, repeats=3),
}


@dataclass(frozen=True)
class Answer:
    """What must agree between the sides: the total and the department facet."""

    total: int
    departments: dict[str, int]


# --- data ----------------------------------------------------------------------------------------------------------


@functools.cache
def _terms(field: str, value: str) -> str:
    """The stored terms of one field alone (fields are weighted and concatenated in a fixed order, so the terms of
    a dataset are these pieces joined in that order: memoised, since generated texts repeat)."""
    empty: dict[str, Any] = {"title": "", "name": "", "description": "", "tags": (), "themes": (), "department": ""}
    empty["fields"] = ()
    empty[field] = tuple(value.split(" ")) if field in ("tags", "themes") else value
    return search.search_terms(**empty).strip()


def dataset_row(i: int, department_ids: Sequence[int], modified: datetime) -> dict[str, Any]:
    """Dataset `i`: a function of `i` only, with Chinese title, description, tags and a theme."""
    s = SUBJECTS
    first, second, third = s[(i * 7) % len(s)], s[(i * 13 + 5) % len(s)], s[(i * 31 + 11) % len(s)]
    place, kind = PLACES[(i * 3) % len(PLACES)], KINDS[(i // 7) % len(KINDS)]
    department = (i * 5) % len(DEPARTMENTS)
    title = f"{place}{first}{second}{kind}"
    description = f"本数据集记录{place}{third}与{first}{kind}，{PHRASES[i % len(PHRASES)]}。"
    tags = [second, third]
    themes = [THEMES[(i * 11) % len(THEMES)]]
    name = f"ds-{i:06d}"
    parts = (
        _terms("title", title),
        _terms("tags", " ".join(tags)),
        _terms("name", name),
        _terms("themes", " ".join(themes)),
        _terms("department", DEPARTMENTS[department]),
        _terms("description", description),
    )
    return {
        "name": name,
        "title": title,
        "description": description,
        "department_id": department_ids[department],
        "tags": tags,
        "themes": themes,
        "update_frequency": ("monthly", "yearly", "daily")[i % 3],
        "open_type": ("unconditional", "conditional", "none")[i % 3 if i % 10 else 2],
        "share_type": "unconditional",
        "modified_at": modified + timedelta(minutes=i),
        "created_at": modified,
        "search_terms": f" {' '.join(p for p in parts if p)} ",
    }


def generate(database: Database, count: int) -> None:
    """`count` datasets inserted in bulk; a sample's terms are checked against `search_terms` on the whole."""
    start = datetime(2025, 1, 1, tzinfo=UTC)
    table = cast(Table, Dataset.__table__)
    with database.session() as session:
        session.execute(insert(Department), [{"name": name} for name in DEPARTMENTS])
        by_name = {name: id_ for name, id_ in session.execute(select(Department.name, Department.id))}
        ids = [by_name[name] for name in DEPARTMENTS]
        for first in range(0, count, BATCH):
            rows = [dataset_row(i, ids, start) for i in range(first, min(count, first + BATCH))]
            session.execute(insert(table), rows)
    for i in (0, 1, count // 2, count - 1):
        row = dataset_row(i, ids, start)
        whole = search.search_terms(
            title=row["title"],
            name=row["name"],
            description=row["description"],
            tags=row["tags"],
            themes=row["themes"],
            department=DEPARTMENTS[(i * 5) % len(DEPARTMENTS)],
            fields=(),
        )
        if whole != row["search_terms"]:
            raise RuntimeError(f"generated terms differ from search_terms() for dataset {i}")


# --- the two sides -------------------------------------------------------------------------------------------------


def yiwang_side(database: Database) -> Callable[[str], Answer]:
    actor = Actor.anonymous()

    def ask(words: str) -> Answer:
        query = search.CatalogueQuery(text=words, facet_fields=search.PORTAL_FACETS, rows=PAGE)
        with database.read_session() as session:
            result = search.search_catalogue(session, actor, query)
            if len(result.datasets) != min(PAGE, result.total):
                raise RuntimeError(f"{words}: a short page")
            return Answer(result.total, dict(result.facets["department"]))

    return ask


def _match_sqlite(words: Sequence[search._Word]) -> str:
    def term(token: str) -> str:
        return f'"{token}"'

    def word(w: search._Word) -> str:
        whole = term(w.word)
        return f"({whole} OR ({' AND '.join(term(p) for p in w.parts)}))" if w.parts else whole

    return " AND ".join(word(w) for w in words)


def _match_postgresql(words: Sequence[search._Word]) -> str:
    def term(token: str) -> str:
        return f"'{token}'"

    def word(w: search._Word) -> str:
        whole = term(w.word)
        return f"({whole} | ({' & '.join(term(p) for p in w.parts)}))" if w.parts else whole

    return " & ".join(word(w) for w in words)


VISIBLE = f"d.deleted_at IS NULL AND d.open_type IN ({', '.join(repr(t) for t in PUBLIC_OPEN_TYPES)})"
SQLITE_INDEX = (
    "CREATE VIRTUAL TABLE bench_fts USING fts5(search_terms, content='datasets', content_rowid='id', "
    "tokenize='unicode61')",
    "INSERT INTO bench_fts(bench_fts) VALUES ('rebuild')",
)
SQLITE_FACET = (
    "SELECT dep.name, count(*) FROM bench_fts JOIN datasets d ON d.id = bench_fts.rowid "
    f"JOIN departments dep ON dep.id = d.department_id WHERE bench_fts MATCH :q AND {VISIBLE} GROUP BY dep.name"
)
SQLITE_PAGE = (
    "SELECT d.id, d.name, d.title, d.description FROM bench_fts JOIN datasets d ON d.id = bench_fts.rowid "
    f"WHERE bench_fts MATCH :q AND {VISIBLE} ORDER BY bm25(bench_fts), d.modified_at DESC LIMIT {PAGE}"
)
POSTGRES_INDEX = ("CREATE INDEX bench_fts ON datasets USING gin (to_tsvector('simple', search_terms))", "ANALYZE")
POSTGRES_FACET = (
    "SELECT dep.name, count(*) FROM datasets d JOIN departments dep ON dep.id = d.department_id "
    f"WHERE to_tsvector('simple', d.search_terms) @@ to_tsquery('simple', :q) AND {VISIBLE} GROUP BY dep.name"
)
POSTGRES_PAGE = (
    "SELECT d.id, d.name, d.title, d.description FROM datasets d "
    f"WHERE to_tsvector('simple', d.search_terms) @@ to_tsquery('simple', :q) AND {VISIBLE} "
    "ORDER BY ts_rank(to_tsvector('simple', d.search_terms), to_tsquery('simple', :q)) DESC, d.modified_at DESC "
    f"LIMIT {PAGE}"
)


def index_side(database: Database, kind: DatabaseKind) -> tuple[Callable[[str], Answer], str]:
    """The reference: the index built over the same terms, asked the same words in two statements."""
    sqlite = kind == "sqlite"
    with database.session() as session:
        for statement in SQLITE_INDEX if sqlite else POSTGRES_INDEX:
            session.execute(text(statement))
    facet, page = (SQLITE_FACET, SQLITE_PAGE) if sqlite else (POSTGRES_FACET, POSTGRES_PAGE)
    match = _match_sqlite if sqlite else _match_postgresql

    def ask(words: str) -> Answer:
        q = match(search._query_words(words))
        with database.engine.connect() as connection:
            departments = {str(n): int(c) for n, c in connection.execute(text(facet), {"q": q})}
            connection.execute(text(page), {"q": q}).all()
        return Answer(sum(departments.values()), departments)

    label = "SQLite FTS5 unicode61" if sqlite else "PostgreSQL GIN to_tsvector('simple')"
    return ask, label


# --- measuring -----------------------------------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    if len(values) < 2:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(share * 100) - 1]


def measure(options: Options, kind: DatabaseKind, size: SearchSize) -> list[Figure]:
    console = options.console
    with installation(kind, options.scratch, options.postgres_url, NAME) as database:
        start = time.perf_counter()
        generate(database, size.datasets)
        console.print(f"generated {size.datasets:,} datasets in {time.perf_counter() - start:.1f} s")
        ours = yiwang_side(database)
        theirs, label = index_side(database, kind)
        sides = {"yiwang": ours, "index": theirs}
        for words in QUERIES:
            answers = {side: ask(words) for side, ask in sides.items()}
            if answers["yiwang"] != answers["index"]:
                raise RuntimeError(f"{words}: the sides disagree: {answers}")
        console.print(f"both sides agree on totals and department counts of {len(QUERIES)} queries")
        timings: dict[str, list[float]] = {side: [] for side in sides}
        for repeat in range(size.repeats):
            for words in QUERIES:
                # the sides take turns, so background load slows them alike
                for side in sides if repeat % 2 == 0 else reversed(sides):
                    begin = time.perf_counter()
                    sides[side](words)
                    timings[side].append(time.perf_counter() - begin)
        if options.profile:
            slowest = max(QUERIES, key=lambda w: len(search._query_words(w)))
            profile(console, f"search_catalogue({slowest!r})", lambda: [ours(slowest) for _ in range(5)])
    workload = f"{size.datasets:,} datasets, {len(QUERIES)} queries × {size.repeats}, page {PAGE}"
    return [
        Figure(
            NAME,
            f"search+facets p{round(share * 100)}",
            kind,
            options.size,
            workload,
            "ms",
            percentile(timings["yiwang"], share) * 1000,
            percentile(timings["index"], share) * 1000,
            label,
            P95_TARGET if share == 0.95 else Target(),
        )
        for share in (0.5, 0.95)
    ]


def run(options: Options) -> list[Figure]:
    return [figure for kind in options.databases for figure in measure(options, kind, SIZES[options.size])]
