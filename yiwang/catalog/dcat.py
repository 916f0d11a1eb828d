"""DCAT-AP 3 description of the catalogue: datasets, their distributions and the catalogue itself as RDF graphs.

Pure functions of catalogue rows and a base URL; `yiwang.catalog.dcat_api` serves them. Controlled-vocabulary
concepts (EU data themes, frequencies, access rights, file types, IANA media types, the Chinese language) are typed
and labelled in the graph itself, so the DCAT-AP SHACL shapes validate without loading the vocabularies.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from urllib.parse import quote, urlencode

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, SKOS, XSD

from yiwang.catalog.licences import find_licence
from yiwang.catalog.models import Dataset, DatasetVersion, OpenType
from yiwang.catalog.themes import find_theme
from yiwang.core.errors import InvalidInput
from yiwang.core.i18n import N_

VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
LOCN = Namespace("http://www.w3.org/ns/locn#")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
DCAT_VERSION = URIRef(f"{DCAT}version")  # DCAT 3; rdflib's closed DCAT namespace still lacks it
EU = "http://publications.europa.eu/resource/authority/"
DATA_THEME = URIRef(EU + "data-theme")
ZH = "zh"
ZH_LANGUAGE = URIRef(EU + "language/ZHO")

PREFIXES = {
    "dcat": DCAT,
    "dct": DCTERMS,
    "foaf": FOAF,
    "skos": SKOS,
    "vcard": VCARD,
    "locn": LOCN,
    "hydra": HYDRA,
    "xsd": XSD,
}

# The EU's own labels of its data themes; which theme maps to which lives in yiwang.catalog.themes
EU_THEME_LABELS = {
    "AGRI": "Agriculture, fisheries, forestry and food",
    "ECON": "Economy and finance",
    "EDUC": "Education, culture and sport",
    "ENER": "Energy",
    "ENVI": "Environment",
    "GOVE": "Government and public sector",
    "HEAL": "Health",
    "INTR": "International issues",
    "JUST": "Justice, legal system and public safety",
    "REGI": "Regions and cities",
    "SOCI": "Population and society",
    "TECH": "Science and technology",
    "TRAN": "Transport",
}

# update_frequency → EU frequency (code, English label, Chinese label); Chinese spellings too, as publishers type them.
FREQUENCIES: dict[str, tuple[str, str, str]] = {
    "realtime": ("UPDATE_CONT", "continuously updated", "实时"),
    "daily": ("DAILY", "daily", "每日"),
    "weekly": ("WEEKLY", "weekly", "每周"),
    "monthly": ("MONTHLY", "monthly", "每月"),
    "quarterly": ("QUARTERLY", "quarterly", "每季度"),
    "yearly": ("ANNUAL", "annual", "每年"),
    "irregular": ("IRREG", "irregular", "不定期"),
}
FREQUENCY_ALIASES = {zh: key for key, (_code, _en, zh) in FREQUENCIES.items()} | {
    "annual": "yearly",
    "annually": "yearly",
    "每天": "daily",
    "实时更新": "realtime",
}

# 开放类型 → EU access right: open data is public, conditional openness goes through the sandbox.
ACCESS_RIGHTS = {
    OpenType.UNCONDITIONAL.value: ("PUBLIC", "public"),
    OpenType.CONDITIONAL.value: ("RESTRICTED", "restricted"),
    OpenType.NONE.value: ("NON_PUBLIC", "non-public"),
}


@dataclass(frozen=True)
class DownloadFormat:
    """A format every version can be downloaded in (the download routes convert from the stored Parquet)."""

    extension: str
    eu_file_type: str
    media_type: str


DOWNLOAD_FORMATS = (
    DownloadFormat("csv", "CSV", "text/csv"),
    DownloadFormat("parquet", "PARQUET", "application/vnd.apache.parquet"),
    DownloadFormat("json", "JSON", "application/json"),
)


@dataclass(frozen=True)
class RdfFormat:
    extension: str
    rdflib_name: str
    media_type: str


RDF_FORMATS = {
    f.extension: f
    for f in (
        RdfFormat("ttl", "turtle", "text/turtle"),
        RdfFormat("rdf", "xml", "application/rdf+xml"),
        RdfFormat("jsonld", "json-ld", "application/ld+json"),
    )
}

ByteSize = Callable[[DatasetVersion, DownloadFormat], int | None]


@dataclass(frozen=True)
class CatalogPage:
    """Which page of the catalogue a graph describes, for its Hydra paging links."""

    page: int
    page_size: int
    total: int
    extension: str
    modified_since: str | None = None
    page_size_in_links: bool = False  # only a page size the client chose is repeated in the links

    @property
    def last(self) -> int:
        return max(1, -(-self.total // self.page_size))


@dataclass(frozen=True)
class CatalogInfo:
    """What the catalogue says about itself (the platform operator is its publisher)."""

    title_zh: str = "一网数据资源目录"
    title_en: str = "yiwang data catalogue"
    description_zh: str = "本平台发布的政务数据资源目录（开放数据与共享数据），按 DCAT-AP 3 描述。"
    description_en: str = "The government datasets published on this platform, open and shared, described in DCAT-AP 3."
    publisher_zh: str = "一网数据平台"


def new_graph() -> Graph:
    graph = Graph()
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace)
    return graph


def dataset_iri(base_url: str, name: str) -> URIRef:
    return URIRef(f"{base_url}/dataset/{name}")


def catalog_iri(base_url: str) -> URIRef:
    return URIRef(f"{base_url}/catalog")


def download_url(base_url: str, name: str, extension: str) -> URIRef:
    return URIRef(f"{base_url}/datasets/{name}/download.{extension}")


def dataset_graph(dataset: Dataset, base_url: str, *, byte_size: ByteSize | None = None) -> Graph:
    """The DCAT-AP description of one dataset, with a distribution per download format of its current version."""
    graph = new_graph()
    add_dataset(graph, dataset, base_url.rstrip("/"), byte_size=byte_size)
    return graph


def catalog_graph(
    datasets: Sequence[Dataset],
    base_url: str,
    page: CatalogPage,
    *,
    info: CatalogInfo = CatalogInfo(),
    byte_size: ByteSize | None = None,
) -> Graph:
    """One page of the catalogue: the catalogue, its datasets in full, and Hydra links to the other pages."""
    base = base_url.rstrip("/")
    graph = new_graph()
    catalog = catalog_iri(base)
    graph.add((catalog, RDF.type, DCAT.Catalog))
    graph.add((catalog, DCTERMS.title, Literal(info.title_zh, lang=ZH)))
    graph.add((catalog, DCTERMS.title, Literal(info.title_en, lang="en")))
    graph.add((catalog, DCTERMS.description, Literal(info.description_zh, lang=ZH)))
    graph.add((catalog, DCTERMS.description, Literal(info.description_en, lang="en")))
    publisher = URIRef(f"{base}/catalog/publisher")
    _add_agent(graph, publisher, info.publisher_zh)
    graph.add((catalog, DCTERMS.publisher, publisher))
    _add_language(graph, catalog)
    homepage = URIRef(f"{base}/")
    graph.add((homepage, RDF.type, FOAF.Document))
    graph.add((catalog, FOAF.homepage, homepage))
    graph.add((catalog, DCAT.themeTaxonomy, DATA_THEME))
    graph.add((DATA_THEME, RDF.type, SKOS.ConceptScheme))
    graph.add((DATA_THEME, DCTERMS.title, Literal("Data theme", lang="en")))
    graph.add((catalog, DCAT.themeTaxonomy, _add_theme_scheme(graph, base)))
    for dataset in datasets:
        graph.add((catalog, DCAT.dataset, add_dataset(graph, dataset, base, byte_size=byte_size)))
    _add_paging(graph, catalog, base, page)
    return graph


def add_dataset(graph: Graph, dataset: Dataset, base: str, *, byte_size: ByteSize | None = None) -> URIRef:
    """Add `dataset` (and the agents, concepts and distributions it refers to) to `graph`; return its IRI."""
    subject = dataset_iri(base, dataset.name)
    graph.add((subject, RDF.type, DCAT.Dataset))
    graph.add((subject, DCTERMS.identifier, Literal(dataset.uuid)))
    graph.add((subject, DCTERMS.title, Literal(dataset.title, lang=ZH)))
    # DCAT-AP makes a description mandatory; a dataset published without one is described by its title
    graph.add((subject, DCTERMS.description, Literal(dataset.description or dataset.title, lang=ZH)))
    graph.add((subject, DCTERMS.issued, Literal(dataset.created_at)))
    graph.add((subject, DCTERMS.modified, Literal(dataset.modified_at)))
    _add_language(graph, subject)
    landing = URIRef(f"{base}/datasets/{dataset.name}")
    graph.add((landing, RDF.type, FOAF.Document))
    graph.add((subject, DCAT.landingPage, landing))
    for tag in dataset.tags:
        graph.add((subject, DCAT.keyword, Literal(tag, lang=ZH)))
    for theme in dataset.themes:
        _add_theme(graph, subject, base, theme)
    publisher = URIRef(f"{base}/departments/{quote(dataset.department.name, safe='')}")
    _add_agent(graph, publisher, dataset.department.name)
    graph.add((subject, DCTERMS.publisher, publisher))
    graph.add((subject, DCAT.contactPoint, _add_contact(graph, dataset)))
    _add_frequency(graph, subject, dataset.update_frequency)
    _add_access_rights(graph, subject, dataset.open_type)
    _add_temporal(graph, subject, dataset.temporal_coverage)
    if dataset.spatial_coverage.strip():
        location = BNode()
        graph.add((location, RDF.type, DCTERMS.Location))
        graph.add((location, LOCN.geographicName, Literal(dataset.spatial_coverage.strip(), lang=ZH)))
        graph.add((subject, DCTERMS.spatial, location))
    version = dataset.current_version
    if version is not None:
        graph.add((subject, DCAT_VERSION, Literal(str(version.number))))
        for download in DOWNLOAD_FORMATS:
            size = byte_size(version, download) if byte_size is not None else None
            graph.add((subject, DCAT.distribution, _add_distribution(graph, dataset, version, base, download, size)))
    return subject


def _add_distribution(
    graph: Graph, dataset: Dataset, version: DatasetVersion, base: str, download: DownloadFormat, size: int | None
) -> URIRef:
    subject = URIRef(f"{dataset_iri(base, dataset.name)}#distribution-{download.extension}")
    url = download_url(base, dataset.name, download.extension)
    graph.add((subject, RDF.type, DCAT.Distribution))
    graph.add((subject, DCTERMS.title, Literal(f"{dataset.title}（{download.eu_file_type}）", lang=ZH)))
    graph.add((subject, DCAT.accessURL, url))
    graph.add((subject, DCAT.downloadURL, url))
    file_type = URIRef(f"{EU}file-type/{download.eu_file_type}")
    graph.add((file_type, RDF.type, DCTERMS.MediaTypeOrExtent))
    graph.add((subject, DCTERMS.format, file_type))
    media_type = URIRef(f"http://www.iana.org/assignments/media-types/{download.media_type}")
    graph.add((media_type, RDF.type, DCTERMS.MediaType))
    graph.add((subject, DCAT.mediaType, media_type))
    graph.add((subject, DCTERMS.issued, Literal(version.created_at)))
    graph.add((subject, DCTERMS.modified, Literal(version.created_at)))
    if size is not None:
        graph.add((subject, DCAT.byteSize, Literal(size, datatype=XSD.nonNegativeInteger)))
    licence = find_licence(dataset.licence)
    if licence is not None:
        document = URIRef(licence.url)
        graph.add((document, RDF.type, DCTERMS.LicenseDocument))
        graph.add((document, DCTERMS.title, Literal(licence.title_zh, lang=ZH)))
        graph.add((document, DCTERMS.title, Literal(licence.title_en, lang="en")))
        graph.add((document, DCTERMS.identifier, Literal(licence.id)))
        graph.add((subject, DCTERMS.license, document))
    return subject


def _add_agent(graph: Graph, subject: URIRef, name_zh: str) -> None:
    graph.add((subject, RDF.type, FOAF.Agent))
    graph.add((subject, RDF.type, FOAF.Organization))
    graph.add((subject, FOAF.name, Literal(name_zh, lang=ZH)))


def _add_language(graph: Graph, subject: URIRef) -> None:
    graph.add((ZH_LANGUAGE, RDF.type, DCTERMS.LinguisticSystem))
    graph.add((subject, DCTERMS.language, ZH_LANGUAGE))


EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(r"\+?\d[\d -]{5,}\d")


def _add_contact(graph: Graph, dataset: Dataset) -> BNode:
    """A vCard for the free-text contact: its e-mail and phone pulled out, the department's name as a fallback."""
    contact = BNode()
    text = dataset.contact.strip()
    graph.add((contact, RDF.type, VCARD.Kind))
    graph.add((contact, RDF.type, VCARD.Organization))
    graph.add((contact, VCARD.fn, Literal(text or dataset.department.name, lang=ZH)))
    graph.add((contact, VCARD["organization-name"], Literal(dataset.department.name, lang=ZH)))
    for email in EMAIL.findall(text):
        graph.add((contact, VCARD.hasEmail, URIRef(f"mailto:{email}")))
    for phone in PHONE.findall(EMAIL.sub("", text)):
        graph.add((contact, VCARD.hasTelephone, URIRef("tel:" + re.sub(r"[ ]", "", phone))))
    return contact


def _theme_scheme(base: str) -> URIRef:
    return URIRef(f"{base}/catalog/themes")


def _add_theme_scheme(graph: Graph, base: str) -> URIRef:
    scheme = _theme_scheme(base)
    graph.add((scheme, RDF.type, SKOS.ConceptScheme))
    graph.add((scheme, DCTERMS.title, Literal("数据资源主题", lang=ZH)))
    return scheme


def _add_theme(graph: Graph, subject: URIRef, base: str, label: str) -> None:
    """The theme as a concept of our own scheme (its Chinese label kept) and, for a known theme, its EU data theme."""
    theme = find_theme(label)
    local = URIRef(f"{_theme_scheme(base)}/{theme.name if theme else quote(label, safe='')}")
    graph.add((local, RDF.type, SKOS.Concept))
    graph.add((local, SKOS.prefLabel, Literal(theme.label_zh if theme else label, lang=ZH)))
    graph.add((local, SKOS.inScheme, _add_theme_scheme(graph, base)))
    graph.add((subject, DCAT.theme, local))
    if theme is None:
        return
    graph.add((local, SKOS.prefLabel, Literal(theme.label_en, lang="en")))
    concept = URIRef(theme.eu_uri)
    graph.add((concept, RDF.type, SKOS.Concept))
    graph.add((concept, SKOS.inScheme, DATA_THEME))
    graph.add((concept, SKOS.prefLabel, Literal(EU_THEME_LABELS.get(theme.eu_code, theme.eu_code), lang="en")))
    # several of our themes share one EU theme, so ours is narrower than the EU one
    graph.add((local, SKOS.broadMatch, concept))
    graph.add((subject, DCAT.theme, concept))


def frequency_code(update_frequency: str) -> str | None:
    """The EU frequency code for an update frequency (`daily`, `每月` …), None for one we do not know."""
    key = update_frequency.strip().lower()
    key = FREQUENCY_ALIASES.get(key, key)
    return FREQUENCIES[key][0] if key in FREQUENCIES else None


def _add_frequency(graph: Graph, subject: URIRef, update_frequency: str) -> None:
    code = frequency_code(update_frequency)
    if code is None:
        return
    _code, label_en, label_zh = next(v for v in FREQUENCIES.values() if v[0] == code)
    frequency = URIRef(f"{EU}frequency/{code}")
    graph.add((frequency, RDF.type, DCTERMS.Frequency))
    graph.add((frequency, RDF.type, SKOS.Concept))
    graph.add((frequency, SKOS.prefLabel, Literal(label_en, lang="en")))
    graph.add((frequency, SKOS.prefLabel, Literal(label_zh, lang=ZH)))
    graph.add((subject, DCTERMS.accrualPeriodicity, frequency))


def _add_access_rights(graph: Graph, subject: URIRef, open_type: str) -> None:
    code, label = ACCESS_RIGHTS.get(open_type, ACCESS_RIGHTS[OpenType.NONE.value])
    rights = URIRef(f"{EU}access-right/{code}")
    graph.add((rights, RDF.type, DCTERMS.RightsStatement))
    graph.add((rights, SKOS.prefLabel, Literal(label, lang="en")))
    graph.add((subject, DCTERMS.accessRights, rights))


# a period's two ends: "2023-01/2026-10", "2020—2026", "2020-2026", "2019至2021", "2020/" (still running)
PERIOD_SEPARATOR = re.compile(r"\s*(?:/|—|–|~|～|至|到)\s*")
YEAR_RANGE = re.compile(r"^(\d{4})\s*-\s*(\d{4})$")
ISO_END = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
CHINESE_END = re.compile(r"^(\d{4})年(?:(\d{1,2})月(?:(\d{1,2})日)?)?$")


def _period_end(text: str, *, last: bool) -> tuple[Literal, date] | None:
    """One end of a period as a typed literal (year, year-month or date) and the first (or last) day it covers."""
    match = ISO_END.match(text) or CHINESE_END.match(text)
    if match is None:
        return None
    year, month, day = (int(g) if g else None for g in match.groups())
    assert year is not None  # the patterns require it
    try:
        if month is None:
            return Literal(f"{year:04d}", datatype=XSD.gYear), date(year, 12 if last else 1, 31 if last else 1)
        end_of_month = calendar.monthrange(year, month)[1] if 1 <= month <= 12 else 0
        if day is None:
            covered = date(year, month, end_of_month if last else 1)
            return Literal(f"{year:04d}-{month:02d}", datatype=XSD.gYearMonth), covered
        covered = date(year, month, day)
        return Literal(covered.isoformat(), datatype=XSD.date), covered
    except ValueError:
        return None


def parse_temporal(text: str) -> tuple[Literal | None, Literal | None] | None:
    """Start and end of a free-text temporal coverage, or None when it cannot be read as a period."""
    text = text.strip()
    if not text:
        return None
    years = YEAR_RANGE.match(text)
    parts = [years.group(1), years.group(2)] if years else PERIOD_SEPARATOR.split(text, maxsplit=1)
    if len(parts) == 1:
        # a single year, month or day covers itself
        start, end = _period_end(parts[0], last=False), _period_end(parts[0], last=True)
        return (start[0], end[0]) if start and end else None
    start = _period_end(parts[0], last=False) if parts[0] else None
    end = _period_end(parts[1], last=True) if parts[1] else None
    if (parts[0] and start is None) or (parts[1] and end is None) or (start is None and end is None):
        return None
    if start is not None and end is not None and start[1] > end[1]:
        return None
    return (start[0] if start else None, end[0] if end else None)


def _add_temporal(graph: Graph, subject: URIRef, temporal_coverage: str) -> None:
    period = parse_temporal(temporal_coverage)
    if period is None:
        return
    node = BNode()
    graph.add((node, RDF.type, DCTERMS.PeriodOfTime))
    start, end = period
    if start is not None:
        graph.add((node, DCAT.startDate, start))
    if end is not None:
        graph.add((node, DCAT.endDate, end))
    graph.add((subject, DCTERMS.temporal, node))


def page_url(base: str, page: CatalogPage, number: int) -> URIRef:
    query = {"page": str(number)}
    if page.page_size_in_links:
        query["page_size"] = str(page.page_size)
    if page.modified_since:
        query["modified_since"] = page.modified_since
    return URIRef(f"{base}/catalog.{page.extension}?{urlencode(query)}")


def _add_paging(graph: Graph, catalog: URIRef, base: str, page: CatalogPage) -> None:
    """Hydra paging as harvesters (ckanext-dcat, udata) read it: the catalogue is a collection, this page a view."""
    view = page_url(base, page, page.page)
    graph.add((catalog, RDF.type, HYDRA.Collection))
    graph.add((catalog, HYDRA.totalItems, Literal(page.total, datatype=XSD.nonNegativeInteger)))
    graph.add((catalog, HYDRA.view, view))
    graph.add((view, RDF.type, HYDRA.PartialCollectionView))
    graph.add((view, HYDRA.itemsPerPage, Literal(page.page_size, datatype=XSD.nonNegativeInteger)))
    graph.add((view, HYDRA.first, page_url(base, page, 1)))
    graph.add((view, HYDRA.last, page_url(base, page, page.last)))
    if page.page < page.last:
        graph.add((view, HYDRA.next, page_url(base, page, page.page + 1)))
    if page.page > 1:
        graph.add((view, HYDRA.previous, page_url(base, page, min(page.page - 1, page.last))))


def serialize(graph: Graph, rdf_format: RdfFormat) -> bytes:
    """The graph in Turtle, RDF/XML or compact JSON-LD (with our prefixes as its context)."""
    if rdf_format.rdflib_name == "json-ld":
        context = {prefix: str(namespace) for prefix, namespace in PREFIXES.items()}
        return graph.serialize(format="json-ld", context=context, auto_compact=True, encoding="utf-8")
    return graph.serialize(format=rdf_format.rdflib_name, encoding="utf-8")


def parse_modified_since(text: str) -> datetime:
    """An ISO 8601 date or time as an aware datetime; a time without a zone is taken as UTC."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(
            "dcat.bad_modified_since",
            N_("modified_since must be an ISO 8601 date or time, e.g. 2026-01-31 or 2026-01-31T08:00:00+08:00"),
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
