"""DCAT-AP 3 export: graphs validated against the official SEMIC shapes, and the catalogue and dataset routes."""

from __future__ import annotations

import warnings
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pyshacl
import pytest
from factories import UserFactory, token_for
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, SH, SKOS, XSD
from sqlalchemy import update

from yiwang.catalog import dcat, service
from yiwang.catalog.models import Dataset
from yiwang.catalog.themes import find_theme
from yiwang.core.db import Database
from yiwang.core.errors import InvalidInput
from yiwang.core.identity import Actor
from yiwang.core.settings import Settings

# SEMIC's official shapes, kept unmodified with their source and licence in tests/data/dcat-ap/SOURCE.md
SHAPES_FILE = Path(__file__).resolve().parents[1] / "data" / "dcat-ap" / "dcat-ap-3.0.1-SHACL.ttl"
BASE = "http://testserver"
HYDRA = dcat.HYDRA
EU = "http://publications.europa.eu/resource/authority/"
TOURISM = "海南省旅游和文化广电体育厅"
CSV = "月份,游客人数,旅游收入\n2023-01,6500000,18.2\n2023-02,7100000,21.5\n".encode()


@pytest.fixture(scope="module")
def shapes() -> Graph:
    return Graph().parse(SHAPES_FILE)


def violations(graph: Graph, shapes: Graph) -> list[tuple[str, str, str]]:
    """(focus node, path, constraint) of every violation; the shapes declare no lower severity."""
    conforms, report, _text = pyshacl.validate(graph, shacl_graph=shapes, inference="none")
    assert isinstance(report, Graph)
    found = [
        (
            str(report.value(r, SH.focusNode)),
            str(report.value(r, SH.resultPath)),
            str(report.value(r, SH.sourceConstraintComponent)),
        )
        for r in report.subjects(RDF.type, SH.ValidationResult)
    ]
    assert conforms == (found == [])
    return found


@pytest.fixture
def publisher(make_user: UserFactory) -> Actor:
    return make_user("lvyou", "dept_staff", department=TOURISM)


def publish(
    database: Database, settings: Settings, actor: Actor, name: str, *, data: bool = True, **changes: object
) -> None:
    """A dataset made through the catalogue service, with one ingested CSV version unless `data` is false."""
    with database.session() as session:
        service.create_dataset(
            session,
            actor,
            service.DatasetInput(name=name, title="旅游统计月报", department=TOURISM, **changes),  # type: ignore[arg-type]
        )
    if data:
        source = settings.data_dir.parent / f"{name}.csv"
        source.write_bytes(CSV)
        service.ingest_version(database, actor, settings.data_dir, name, source)


FULL = {
    "description": "全省接待游客人数与旅游收入，按月统计。",
    "tags": ["旅游", "游客"],
    "themes": ["旅游文化", "财税金融", "本地主题"],
    "update_frequency": "monthly",
    "licence": "CC-BY-4.0",
    "contact": "统计科 0898-65201234 tongji@example.gov.cn",
    "open_type": "unconditional",
    "spatial_coverage": "海南省",
    "temporal_coverage": "2023-01/2026-10",
}


def test_a_dataset_is_described_in_dcat_ap_3_without_violations(
    database: Database, settings: Settings, publisher: Actor, shapes: Graph
) -> None:
    publish(database, settings, publisher, "tourism-monthly", **FULL)
    with database.read_session() as session:
        dataset = service.get_dataset(session, publisher, "tourism-monthly")
        graph = dcat.dataset_graph(dataset, BASE, byte_size=lambda _v, f: 4096 if f.extension == "parquet" else None)
        uuid = dataset.uuid
    assert violations(graph, shapes) == []
    subject = URIRef(f"{BASE}/dataset/tourism-monthly")
    assert graph.value(subject, DCTERMS.identifier) == Literal(uuid)
    assert graph.value(subject, DCTERMS.title) == Literal("旅游统计月报", lang="zh")
    assert graph.value(subject, DCTERMS.accrualPeriodicity) == URIRef(EU + "frequency/MONTHLY")
    assert graph.value(subject, DCTERMS.accessRights) == URIRef(EU + "access-right/PUBLIC")
    themes = set(graph.objects(subject, DCAT.theme))
    eu_themes = {URIRef(t.eu_uri) for t in (find_theme("旅游文化"), find_theme("财税金融")) if t is not None}
    assert len(eu_themes) == 2 and eu_themes <= themes
    local = {URIRef(f"{BASE}/catalog/themes/{n}") for n in ("tourism-culture", "finance", quote("本地主题"))}
    assert themes == eu_themes | local
    labels = set(graph.objects(URIRef(f"{BASE}/catalog/themes/finance"), SKOS.prefLabel))
    assert Literal("财税金融", lang="zh") in labels and len(labels) == 2
    assert {str(k) for k in graph.objects(subject, DCAT.keyword)} == {"旅游", "游客"}
    period = graph.value(subject, DCTERMS.temporal)
    assert graph.value(period, DCAT.startDate) == Literal("2023-01", datatype=XSD.gYearMonth)
    assert graph.value(period, DCAT.endDate) == Literal("2026-10", datatype=XSD.gYearMonth)
    publisher_node = graph.value(subject, DCTERMS.publisher)
    assert graph.value(publisher_node, FOAF.name) == Literal(TOURISM, lang="zh")
    contact = graph.value(subject, DCAT.contactPoint)
    assert {str(o) for o in graph.objects(contact, dcat.VCARD.hasEmail)} == {"mailto:tongji@example.gov.cn"}
    distributions = {str(graph.value(d, DCAT.downloadURL)): d for d in graph.objects(subject, DCAT.distribution)}
    assert set(distributions) == {f"{BASE}/datasets/tourism-monthly/download.{x}" for x in ("csv", "parquet", "json")}
    parquet = distributions[f"{BASE}/datasets/tourism-monthly/download.parquet"]
    assert graph.value(parquet, DCAT.byteSize) == Literal(4096, datatype=XSD.nonNegativeInteger)
    assert graph.value(parquet, DCTERMS.license) == URIRef("https://creativecommons.org/licenses/by/4.0/")
    assert graph.value(parquet, DCAT.mediaType) == URIRef(
        "http://www.iana.org/assignments/media-types/application/vnd.apache.parquet"
    )


def test_a_sparse_catalogue_page_is_still_valid_dcat_ap_3(
    database: Database, settings: Settings, publisher: Actor, shapes: Graph
) -> None:
    publish(database, settings, publisher, "tourism-monthly", **FULL)
    # no data yet, no description, a frequency and a period nobody can map: optional parts are left out, not faked
    publish(database, settings, publisher, "bare", data=False, update_frequency="看情况", temporal_coverage="近几年")
    with database.read_session() as session:
        datasets, total = service.list_visible_datasets(session, publisher)
        graph = dcat.catalog_graph(datasets, BASE, dcat.CatalogPage(1, 100, total, "ttl"))
    assert violations(graph, shapes) == []
    catalog = URIRef(f"{BASE}/catalog")
    assert set(graph.objects(catalog, DCAT.dataset)) == {
        URIRef(f"{BASE}/dataset/{n}") for n in ("bare", "tourism-monthly")
    }
    bare = URIRef(f"{BASE}/dataset/bare")
    assert graph.value(bare, DCTERMS.description) == Literal("旅游统计月报", lang="zh")
    assert graph.value(bare, DCTERMS.accrualPeriodicity) is None and graph.value(bare, DCTERMS.temporal) is None
    assert graph.value(bare, DCAT.distribution) is None


@pytest.mark.parametrize(
    ("node_type", "removed"),
    [
        (DCAT.Dataset, DCTERMS.description),
        (DCAT.Dataset, DCTERMS.title),
        (DCAT.Distribution, DCAT.accessURL),
        (DCAT.Catalog, DCTERMS.publisher),
        (FOAF.Agent, FOAF.name),
    ],
)
def test_a_graph_missing_a_mandatory_property_is_reported(
    database: Database, settings: Settings, publisher: Actor, shapes: Graph, node_type: URIRef, removed: URIRef
) -> None:
    publish(database, settings, publisher, "tourism-monthly", **FULL)
    with database.read_session() as session:
        datasets, total = service.list_visible_datasets(session, publisher)
        graph = dcat.catalog_graph(datasets, BASE, dcat.CatalogPage(1, 100, total, "ttl"))
    node = next(iter(graph.subjects(RDF.type, node_type)))
    graph.remove((node, removed, None))
    assert (str(node), str(removed), str(SH.MinCountConstraintComponent)) in violations(graph, shapes)


def test_a_concept_typed_wrongly_is_reported(
    database: Database, settings: Settings, publisher: Actor, shapes: Graph
) -> None:
    publish(database, settings, publisher, "tourism-monthly", **FULL)
    with database.read_session() as session:
        graph = dcat.dataset_graph(service.get_dataset(session, publisher, "tourism-monthly"), BASE)
    licence = URIRef("https://creativecommons.org/licenses/by/4.0/")
    graph.remove((licence, RDF.type, DCTERMS.LicenseDocument))
    assert {c for _n, p, c in violations(graph, shapes) if p == str(DCTERMS.license)} == {
        str(SH.ClassConstraintComponent)
    }


YEAR, MONTH, DAY = XSD.gYear, XSD.gYearMonth, XSD.date


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2023-01/2026-10", Literal("2023-01", datatype=MONTH), Literal("2026-10", datatype=MONTH)),
        ("2020—2026", Literal("2020", datatype=YEAR), Literal("2026", datatype=YEAR)),
        ("2020-2026", Literal("2020", datatype=YEAR), Literal("2026", datatype=YEAR)),
        ("2019年3月至2021年", Literal("2019-03", datatype=MONTH), Literal("2021", datatype=YEAR)),
        ("2024-02-01 ~ 2024-02-29", Literal("2024-02-01", datatype=DAY), Literal("2024-02-29", datatype=DAY)),
        ("2022", Literal("2022", datatype=YEAR), Literal("2022", datatype=YEAR)),
        ("2020/", Literal("2020", datatype=YEAR), None),
    ],
)
def test_temporal_coverage_becomes_a_period(text: str, start: Literal, end: Literal | None) -> None:
    assert dcat.parse_temporal(text) == (start, end)


@pytest.mark.parametrize("text", ["", "近五年", "2026/2020", "2023-13", "2023-02-30/2024", "2020-01-01-2021"])
def test_unreadable_temporal_coverage_is_left_out(text: str) -> None:
    assert dcat.parse_temporal(text) is None


@given(st.dates(min_value=date(1000, 1, 1)), st.dates(min_value=date(1000, 1, 1)))
def test_any_ordered_pair_of_dates_is_a_period(first: date, second: date) -> None:
    start, end = sorted((first, second))
    parsed = dcat.parse_temporal(f"{start.isoformat()}/{end.isoformat()}")
    assert parsed == (Literal(start.isoformat(), datatype=XSD.date), Literal(end.isoformat(), datatype=XSD.date))


@given(st.text(max_size=40))
def test_temporal_parsing_never_fails_on_free_text(text: str) -> None:
    dcat.parse_temporal(text)


def test_update_frequencies_map_to_the_eu_vocabulary() -> None:
    assert [dcat.frequency_code(f) for f in ("daily", "Weekly", "monthly", "quarterly", "yearly", "irregular")] == [
        "DAILY",
        "WEEKLY",
        "MONTHLY",
        "QUARTERLY",
        "ANNUAL",
        "IRREG",
    ]
    assert dcat.frequency_code("每月") == "MONTHLY" and dcat.frequency_code("") is None


def test_modified_since_is_iso_8601() -> None:
    assert dcat.parse_modified_since("2026-01-31") == datetime(2026, 1, 31, tzinfo=UTC)
    assert dcat.parse_modified_since("2026-01-31T08:00:00+08:00") == datetime(2026, 1, 31, tzinfo=UTC)
    with pytest.raises(InvalidInput):
        dcat.parse_modified_since("last tuesday")


def parse(body: bytes, extension: str) -> Graph:
    with warnings.catch_warnings():
        # rdflib 7.6's own JSON-LD parser still builds a ConjunctiveGraph, which rdflib itself deprecates
        warnings.filterwarnings("ignore", "ConjunctiveGraph is deprecated", DeprecationWarning)
        return Graph().parse(data=body, format=dcat.RDF_FORMATS[extension].rdflib_name, publicID=BASE)


@pytest.mark.parametrize("extension", ["ttl", "rdf", "jsonld"])
def test_the_routes_serve_each_rdf_format(
    client: TestClient, database: Database, settings: Settings, publisher: Actor, extension: str
) -> None:
    publish(database, settings, publisher, "tourism-monthly", **FULL)
    media_type = dcat.RDF_FORMATS[extension].media_type
    catalogue = client.get(f"/catalog.{extension}")
    assert catalogue.status_code == 200 and catalogue.headers["content-type"].startswith(media_type)
    graph = parse(catalogue.content, extension)
    assert (URIRef(f"{BASE}/catalog"), DCAT.dataset, URIRef(f"{BASE}/dataset/tourism-monthly")) in graph
    single = client.get(f"/dataset/tourism-monthly.{extension}")
    assert single.status_code == 200 and single.headers["content-type"].startswith(media_type)
    graph = parse(single.content, extension)
    assert graph.value(URIRef(f"{BASE}/dataset/tourism-monthly"), DCTERMS.title) == Literal("旅游统计月报", lang="zh")
    with database.read_session() as session:
        version = service.get_dataset(session, publisher, "tourism-monthly").current_version
        assert version is not None
        stored = service.version_file(settings.data_dir, version).stat().st_size
    parquet = URIRef(f"{BASE}/dataset/tourism-monthly#distribution-parquet")
    assert graph.value(parquet, DCAT.byteSize) == Literal(stored, datatype=XSD.nonNegativeInteger)
    assert client.get("/catalog.xml").status_code == 404
    assert client.get("/dataset/tourism-monthly.n3").status_code == 404


def test_anonymous_harvesters_see_only_open_datasets(
    client: TestClient, database: Database, settings: Settings, publisher: Actor
) -> None:
    publish(database, settings, publisher, "open-one", **FULL)
    publish(database, settings, publisher, "closed", **{**FULL, "open_type": "none"})
    listed = parse(client.get("/catalog.ttl").content, "ttl")
    assert set(listed.subjects(RDF.type, DCAT.Dataset)) == {URIRef(f"{BASE}/dataset/open-one")}
    assert client.get("/dataset/closed.ttl").status_code == 404
    assert client.get("/dataset/no-such-thing.ttl").status_code == 404
    staff = {"Authorization": token_for(database, "lvyou")}
    listed = parse(client.get("/catalog.ttl", headers=staff).content, "ttl")
    assert URIRef(f"{BASE}/dataset/closed") in set(listed.subjects(RDF.type, DCAT.Dataset))
    closed = parse(client.get("/dataset/closed.ttl", headers=staff).content, "ttl")
    assert closed.value(URIRef(f"{BASE}/dataset/closed"), DCTERMS.accessRights) == URIRef(
        EU + "access-right/NON_PUBLIC"
    )


def test_modified_since_keeps_only_recent_changes(
    client: TestClient, database: Database, settings: Settings, publisher: Actor
) -> None:
    publish(database, settings, publisher, "old", data=False, open_type="unconditional")
    publish(database, settings, publisher, "new", data=False, open_type="unconditional")
    long_ago = datetime(2020, 1, 1, tzinfo=UTC)
    with database.session() as session:
        session.execute(update(Dataset).where(Dataset.name == "old").values(modified_at=long_ago))
    cutoff = (long_ago + timedelta(days=1)).date().isoformat()
    response = client.get("/catalog.ttl", params={"modified_since": cutoff})
    graph = parse(response.content, "ttl")
    assert set(graph.subjects(RDF.type, DCAT.Dataset)) == {URIRef(f"{BASE}/dataset/new")}
    assert graph.value(URIRef(f"{BASE}/catalog"), HYDRA.totalItems).toPython() == 1
    view = graph.value(URIRef(f"{BASE}/catalog"), HYDRA.view)
    assert parse_qs(urlsplit(str(view)).query)["modified_since"] == [cutoff]
    everything = parse(
        client.get("/catalog.ttl", params={"modified_since": "2019-12-31T23:00:00+08:00"}).content, "ttl"
    )
    assert len(set(everything.subjects(RDF.type, DCAT.Dataset))) == 2
    refused = client.get("/catalog.ttl", params={"modified_since": "yesterday"}, headers={"Accept": "application/json"})
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "dcat.bad_modified_since"


def test_the_catalogue_pages_with_hydra_links(
    client: TestClient, database: Database, settings: Settings, publisher: Actor
) -> None:
    for name in ("a-1", "a-2", "a-3"):
        publish(database, settings, publisher, name, data=False, open_type="unconditional")
    first = parse(client.get("/catalog.ttl", params={"page_size": 2}).content, "ttl")
    catalog = URIRef(f"{BASE}/catalog")
    assert first.value(catalog, HYDRA.totalItems).toPython() == 3
    view = first.value(catalog, HYDRA.view)
    assert (view, RDF.type, HYDRA.PartialCollectionView) in first
    assert first.value(view, HYDRA.previous) is None
    assert str(first.value(view, HYDRA.first)) == f"{BASE}/catalog.ttl?page=1&page_size=2"
    assert str(first.value(view, HYDRA.last)) == f"{BASE}/catalog.ttl?page=2&page_size=2"
    next_page = first.value(view, HYDRA.next)
    assert next_page == first.value(view, HYDRA.last)
    second = parse(client.get(str(next_page).removeprefix(BASE)).content, "ttl")
    second_view = second.value(catalog, HYDRA.view)
    assert second.value(second_view, HYDRA.next) is None
    assert second.value(second_view, HYDRA.previous) == first.value(view, HYDRA.first)
    seen = set(first.objects(catalog, DCAT.dataset)) | set(second.objects(catalog, DCAT.dataset))
    assert seen == {URIRef(f"{BASE}/dataset/{n}") for n in ("a-1", "a-2", "a-3")}
    default = parse(client.get("/catalog.jsonld").content, "jsonld")
    assert str(default.value(default.value(catalog, HYDRA.view), HYDRA.last)) == f"{BASE}/catalog.jsonld?page=1"
    assert client.get("/catalog.ttl", params={"page": 0}).status_code == 422
