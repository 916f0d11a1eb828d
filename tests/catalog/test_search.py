"""Catalogue search: Chinese tokens, ranking, AND semantics, facets and filters, paging, visibility, bad input."""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import hypothesis
import pytest
from hypothesis import strategies as st
from sqlalchemy import select

from yiwang.catalog import service
from yiwang.catalog.models import Dataset
from yiwang.catalog.search import (
    FACET_FIELDS,
    SORTS,
    CatalogueQuery,
    CatalogueResult,
    FacetFilter,
    index_catalogue,
    index_dataset,
    search_catalogue,
    tokenize,
)
from yiwang.catalog.search import _query_words as query_words
from yiwang.core import accounts
from yiwang.core.db import Database
from yiwang.core.errors import InvalidInput
from yiwang.core.identity import Actor
from yiwang.core.settings import Settings

MARKET, POLICE, STATS = "海南省市场监督管理局", "海南省公安厅", "海南省统计局"


@dataclass(frozen=True)
class Spec:
    name: str
    title: str
    department: str
    tags: tuple[str, ...]
    themes: tuple[str, ...]
    open_type: str
    share_type: str
    frequency: str
    licence: str
    description: str
    modified: datetime
    security_level: str = "general"


SPECS = (
    Spec(
        "market-entities",
        "市场主体登记信息",
        MARKET,
        ("企业", "注册资本"),
        ("经贸工商",),
        "unconditional",
        "unconditional",
        "每日",
        "CC-BY-4.0",
        "全省市场主体的登记信息。",
        datetime(2024, 1, 1, tzinfo=UTC),
    ),
    Spec(
        "gov-news",
        "政务动态汇编",
        STATS,
        ("新闻",),
        ("政务服务",),
        "unconditional",
        "conditional",
        "每月",
        "CC-BY-4.0",
        "汇总各部门政务新闻稿件，其中一篇提到某企业增加注册资本的消息，其余内容为会议通知、人事任免和工作简报。",
        datetime(2024, 2, 1, tzinfo=UTC),
    ),
    Spec(
        "key-enterprises",
        "重点企业名单",
        MARKET,
        ("企业",),
        ("经贸工商",),
        "conditional",
        "conditional",
        "每年",
        "CC0-1.0",
        "纳入重点监测的企业。",
        datetime(2024, 3, 1, tzinfo=UTC),
    ),
    Spec(
        "household",
        "户籍人口",
        POLICE,
        ("人口",),
        ("公共安全",),
        "none",
        "conditional",
        "每月",
        "",
        "户籍人口基本信息，含企业法人代表。",
        datetime(2024, 4, 1, tzinfo=UTC),
        "important",
    ),
    Spec(
        "gdp-quarterly",
        "地区生产总值季度数据",
        STATS,
        ("GDP", "经济"),
        ("经贸工商",),
        "unconditional",
        "unconditional",
        "每季度",
        "CC-BY-4.0",
        "按季度发布的地区生产总值。",
        datetime(2024, 5, 1, tzinfo=UTC),
    ),
)
ALL = {s.name for s in SPECS}
PUBLIC = ALL - {"household"}
ADMIN = Actor.operator()
ANONYMOUS = Actor.anonymous()


def _reindex(database: Database, modified: dict[str, datetime] | None = None) -> None:
    """What the service will do on every change (the explicit call stays harmless once it does)."""
    with database.session() as session:
        for dataset in session.scalars(select(Dataset)):
            index_dataset(dataset)
            if modified and dataset.name in modified:
                dataset.modified_at = modified[dataset.name]


@pytest.fixture
def catalogue(database: Database, settings: Settings, tmp_path: Path) -> dict[str, str]:
    """The five datasets of SPECS (two with a CSV version), by name → uuid."""
    with database.session() as session:
        for department in (MARKET, POLICE, STATS):
            accounts.create_department(session, ADMIN, department)
        for spec in SPECS:
            service.create_dataset(
                session,
                ADMIN,
                service.DatasetInput(
                    name=spec.name,
                    title=spec.title,
                    department=spec.department,
                    description=spec.description,
                    tags=list(spec.tags),
                    themes=list(spec.themes),
                    update_frequency=spec.frequency,
                    licence=spec.licence,
                    open_type=spec.open_type,
                    share_type=spec.share_type,
                    security_level=spec.security_level,
                ),
            )
    registry = tmp_path / "registry.csv"
    registry.write_text(
        "统一社会信用代码,企业名称,注册资本\n91350100M000100Y43,海南某某有限公司,100\n", encoding="utf-8"
    )
    gdp = tmp_path / "gdp.csv"
    gdp.write_text("quarter,gdp\n2024Q1,1234.5\n", encoding="utf-8")
    service.ingest_version(database, ADMIN, settings.data_dir, "market-entities", registry)
    service.ingest_version(database, ADMIN, settings.data_dir, "gdp-quarterly", gdp)
    _reindex(database, {s.name: s.modified for s in SPECS})
    with database.read_session() as session:
        return {d.name: d.uuid for d in session.scalars(select(Dataset))}


def search(database: Database, actor: Actor = ADMIN, **query: object) -> CatalogueResult:
    with database.read_session() as session:
        return search_catalogue(session, actor, CatalogueQuery(**query))  # type: ignore[arg-type]


def names(result: CatalogueResult) -> list[str]:
    return [d.name for d in result.datasets]


def test_tokens_are_search_engine_cuts_without_punctuation_or_stop_words() -> None:
    tokens = tokenize("企业注册资本的变动和GDP！")
    assert {"企业", "注册", "资本", "注册资本", "变动", "gdp"} <= set(tokens)
    assert not {"的", "和", "！"} & set(tokens)
    assert tokenize("market-entities_2024 ＧＤＰ") == ["market", "entities", "2024", "gdp"]
    assert tokenize("  \n\t。，") == []


@hypothesis.settings(deadline=None)  # the first example loads jieba's dictionary
@hypothesis.given(st.text())
def test_tokenize_never_fails_and_gives_whole_words(text: str) -> None:
    tokens = tokenize(text)
    assert tokens == tokenize(text)
    for token in tokens:
        assert token and not any(c.isspace() for c in token)
        assert "%" not in token and "_" not in token  # they would be LIKE wildcards in the stored terms


def test_index_weighs_title_and_tags_above_description(database: Database, catalogue: dict[str, str]) -> None:
    with database.read_session() as session:
        terms = session.scalars(select(Dataset.search_terms).where(Dataset.name == "market-entities")).one()
    assert terms.startswith(" ") and terms.endswith(" ")
    counts = {t: terms.split().count(t) for t in ("登记", "注册资本", "企业", "全省", "代码", "market")}
    assert counts["登记"] > counts["全省"] and counts["注册资本"] > counts["全省"]
    assert counts["market"] >= 1 and counts["代码"] >= 1  # the dataset's slug and its CSV's field names


def test_reindexing_the_catalogue_fills_terms_left_empty(database: Database, catalogue: dict[str, str]) -> None:
    with database.session() as session:
        for dataset in session.scalars(select(Dataset)):
            dataset.search_terms = ""  # as the upgrade that added the column left every dataset
    assert search(database, text="注册资本").total == 0
    with database.session() as session:
        assert index_catalogue(session, batch=2) == 5
    assert names(search(database, text="企业 注册资本")) == ["market-entities", "gov-news"]


def test_the_registry_ranks_above_a_dataset_that_mentions_enterprises_in_passing(
    database: Database, catalogue: dict[str, str]
) -> None:
    assert names(search(database, text="企业 注册资本")) == ["market-entities", "gov-news"]
    assert names(search(database, text="企业注册资本")) == ["market-entities", "gov-news"]
    # without ranking the newer mention would come first
    assert names(search(database, text="企业 注册资本", sort="modified_desc")) == ["gov-news", "market-entities"]


def test_every_word_of_the_query_must_match(database: Database, catalogue: dict[str, str]) -> None:
    assert set(names(search(database, text="企业"))) == {"market-entities", "gov-news", "key-enterprises", "household"}
    assert names(search(database, text="重点 企业")) == ["key-enterprises"]
    assert search(database, text="企业 天气").total == 0
    assert names(search(database, text="GDP")) == ["gdp-quarterly"]
    assert names(search(database, text="统一社会信用代码")) == ["market-entities"]  # a field of its CSV


def test_a_compound_word_also_matches_its_parts(database: Database, catalogue: dict[str, str]) -> None:
    with database.session() as session:
        service.create_dataset(
            session,
            ADMIN,
            service.DatasetInput(name="capital", title="注册时的资本金额", department=MARKET),
        )
        service.create_dataset(
            session, ADMIN, service.DatasetInput(name="register", title="注册人数", department=MARKET)
        )
    _reindex(database)
    assert set(names(search(database, text="注册资本"))) == {"market-entities", "gov-news", "capital"}


# Tokens an index could fold together where whole-token matching keeps them apart: accents, case, ligatures,
# full-width digits, a Chinese word and its parts, years with a unit.
TRICKY_WORDS = (
    "café",
    "cafe",
    "École",
    "ecole",
    "straße",
    "strasse",
    "ﬁle",
    "file",
    "１２３",
    "123",
    "2024年",
    "注册资本",
    "注册",
    "资本",
    "数据",
    "Ǆemal",
    "ǆemal",
)


def test_the_term_index_finds_exactly_the_datasets_holding_each_word_whole(database: Database) -> None:
    """Narrowing through the index (FTS5 / GIN) agrees with whole-token matching of the stored terms, for every word
    of a vocabulary chosen to trip an index's folding, alone and in pairs, after creation, edits and deletion."""
    rng = random.Random(7)
    with database.session() as session:
        accounts.create_department(session, ADMIN, MARKET)
        for i in range(40):
            words = rng.sample(TRICKY_WORDS, 3)
            service.create_dataset(
                session, ADMIN, service.DatasetInput(name=f"t{i}", title=" ".join(words), department=MARKET)
            )
    with database.session() as session:  # edits and a deletion go through the same index
        for dataset in session.scalars(select(Dataset).where(Dataset.name.in_(["t0", "t1", "t2"]))):
            dataset.title = "café 注册资本"
            index_dataset(dataset)
        session.delete(session.scalars(select(Dataset).where(Dataset.name == "t3")).one())
    with database.read_session() as session:
        stored = {d.name: set(d.search_terms.split()) for d in session.scalars(select(Dataset))}

    def holding(text: str) -> set[str]:
        words = [(w.word, set(w.parts)) for w in query_words(text)]
        return {n for n, terms in stored.items() if all(w in terms or (parts and parts <= terms) for w, parts in words)}

    for text in (*TRICKY_WORDS, "café 123", "注册资本 2024年", "ecole file"):
        found = search(database, text=text, rows=100, sort="id_asc")
        assert {d.name for d in found.datasets} == holding(text), text
        assert found.total == len(holding(text))
    assert {"t0", "t1", "t2"} <= holding("café 注册资本") and "t3" not in stored


def test_facets_count_the_matching_datasets(database: Database, catalogue: dict[str, str]) -> None:
    result = search(database, facet_fields=FACET_FIELDS, rows=0)
    assert result.total == 5 and result.datasets == []
    facets = result.facets
    assert facets["department"] == [(MARKET, 2), (STATS, 2), (POLICE, 1)]
    assert facets["theme"] == [("经贸工商", 3), ("公共安全", 1), ("政务服务", 1)]
    assert facets["tag"][:2] == [("企业", 2), ("GDP", 1)]
    assert facets["format"] == [("CSV", 2)]
    assert facets["open_type"] == [("unconditional", 3), ("conditional", 1), ("none", 1)]
    assert facets["security_level"] == [("general", 4), ("important", 1)]
    assert facets["licence"] == [("CC-BY-4.0", 3), ("CC0-1.0", 1)]
    assert facets["update_frequency"] == [("每月", 2), ("每季度", 1), ("每年", 1), ("每日", 1)]
    narrowed = search(database, text="企业", facet_fields=("department", "tag"), facet_limit=1)
    assert narrowed.facets == {"department": [(MARKET, 2)], "tag": [("企业", 2)]}
    assert len(search(database, facet_fields=("tag",), facet_limit=-1).facets["tag"]) == 6


def test_values_of_one_field_are_ored_fields_are_anded_negated_ones_exclude(
    database: Database, catalogue: dict[str, str]
) -> None:
    def found(*filters: FacetFilter) -> set[str]:
        return set(names(search(database, filters=filters)))

    assert found(FacetFilter("department", POLICE), FacetFilter("department", STATS)) == {
        "household",
        "gov-news",
        "gdp-quarterly",
    }
    assert found(FacetFilter("open_type", "unconditional", negated=True)) == {"key-enterprises", "household"}
    assert found(FacetFilter("tag", "企业", negated=True)) == {"gov-news", "household", "gdp-quarterly"}
    assert found(FacetFilter("tag", "GDP"), FacetFilter("tag", "人口")) == {"gdp-quarterly", "household"}
    assert found(
        FacetFilter("department", MARKET),
        FacetFilter("department", STATS),
        FacetFilter("theme", "经贸工商"),
        FacetFilter("tag", "GDP", negated=True),
    ) == {"market-entities", "key-enterprises"}
    assert found(FacetFilter("format", "csv")) == {"market-entities", "gdp-quarterly"}
    assert found(FacetFilter("format", "CSV", negated=True)) == {"gov-news", "key-enterprises", "household"}
    assert found(FacetFilter("name", "household")) == {"household"}
    assert found(FacetFilter("id", catalogue["gov-news"])) == {"gov-news"}
    assert found(FacetFilter("licence", "CC-BY-4.0"), FacetFilter("share_type", "conditional")) == {"gov-news"}


def test_modified_range_is_inclusive_and_newest_comes_first(database: Database, catalogue: dict[str, str]) -> None:
    since, until = datetime(2024, 2, 1, tzinfo=UTC), datetime(2024, 4, 1, tzinfo=UTC)
    result = search(database, modified_since=since, modified_until=until)
    assert names(result) == ["household", "key-enterprises", "gov-news"]
    ascending = search(database, modified_since=since, modified_until=until, sort="modified_asc")
    assert names(ascending) == ["gov-news", "key-enterprises", "household"]
    assert names(search(database, modified_since=datetime(2024, 5, 1, tzinfo=UTC))) == ["gdp-quarterly"]


@pytest.mark.parametrize("actor", [ADMIN, ANONYMOUS], ids=["admin", "anonymous"])
def test_paging_by_id_gives_every_visible_dataset_once(
    database: Database, catalogue: dict[str, str], actor: Actor
) -> None:
    seen: list[str] = []
    start = 0
    while page := search(database, actor, sort="id_asc", start=start, rows=2).datasets:
        seen += [d.uuid for d in page]
        start += 2
    visible = ALL if actor is ADMIN else PUBLIC
    assert seen == sorted(catalogue[n] for n in visible)


@pytest.mark.parametrize("sort", [s for s in SORTS if s != "relevance"])
def test_each_sort_orders_alike_with_or_without_facets(
    database: Database, catalogue: dict[str, str], sort: str
) -> None:
    plain = search(database, sort=sort, rows=3, start=1)
    faceted = search(database, sort=sort, rows=3, start=1, facet_fields=("tag",))
    assert names(plain) == names(faceted) and plain.total == faceted.total == 5
    if sort == "name_asc":
        assert names(plain) == sorted(ALL)[1:4]


def test_anonymous_visitors_never_see_unopened_datasets(database: Database, catalogue: dict[str, str]) -> None:
    result = search(database, ANONYMOUS, text="企业", facet_fields=FACET_FIELDS)
    assert set(names(result)) == {"market-entities", "gov-news", "key-enterprises"}
    everything = search(database, ANONYMOUS, facet_fields=FACET_FIELDS, rows=100)
    assert set(names(everything)) == PUBLIC and everything.total == 4
    assert "none" not in dict(everything.facets["open_type"])
    assert POLICE not in dict(everything.facets["department"])
    assert "人口" not in dict(everything.facets["tag"])
    assert search(database, ANONYMOUS, filters=(FacetFilter("id", catalogue["household"]),)).total == 0
    assert search(database, ANONYMOUS, text="户籍人口").total == 0


def test_deleted_datasets_are_never_found(database: Database, catalogue: dict[str, str]) -> None:
    with database.session() as session:
        dataset = session.scalars(select(Dataset).where(Dataset.name == "market-entities")).one()
        dataset.deleted_at = datetime.now(UTC)
    assert names(search(database, text="企业 注册资本")) == ["gov-news"]
    assert search(database, filters=(FacetFilter("id", catalogue["market-entities"]),)).total == 0
    facets = search(database, facet_fields=("tag", "format")).facets
    assert dict(facets["tag"])["企业"] == 1 and facets["format"] == [("CSV", 1)]
    assert catalogue["market-entities"] not in [d.uuid for d in search(database, sort="id_asc", rows=100).datasets]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"filters": (FacetFilter("colour", "red"),)}, "search.bad_field"),
        ({"facet_fields": ("name",)}, "search.bad_field"),
        ({"sort": "score desc"}, "search.bad_sort"),
        ({"rows": 1001}, "search.bad_rows"),
        ({"rows": -1}, "search.bad_rows"),
        ({"start": -1}, "search.bad_start"),
        ({"facet_limit": -2}, "search.bad_facet_limit"),
        ({"modified_since": datetime(2024, 1, 1)}, "search.bad_date"),
        ({"text": " ".join(f"word{i}" for i in range(40))}, "search.too_many_words"),
    ],
)
def test_bad_queries_are_refused(database: Database, change: dict[str, object], code: str) -> None:
    with pytest.raises(InvalidInput) as refused, database.read_session() as session:
        search_catalogue(session, ADMIN, replace(CatalogueQuery(), **change))  # type: ignore[arg-type]
    assert refused.value.code == code
