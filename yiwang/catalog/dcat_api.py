"""DCAT-AP 3 over HTTP: the catalogue (`/catalog.ttl|rdf|jsonld`, paged) and one dataset (`/dataset/{name}.ttl` …)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from yiwang.catalog import dcat, service
from yiwang.catalog.models import DatasetVersion
from yiwang.core.errors import NotFound
from yiwang.core.i18n import N_
from yiwang.web.deps import DatabaseDep, OptionalApiActor, ReadSessionDep, SettingsDep

router = APIRouter(tags=["catalogue"])

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
Extension = Annotated[str, Path(description="RDF 格式 `ttl` (Turtle), `rdf` (RDF/XML) or `jsonld` (JSON-LD).")]


def _rdf_format(extension: str) -> dcat.RdfFormat:
    if extension not in dcat.RDF_FORMATS:
        raise NotFound("dcat.unknown_format", N_("No RDF format has the extension {extension}"), extension=extension)
    return dcat.RDF_FORMATS[extension]


def _base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _byte_size(settings: SettingsDep) -> dcat.ByteSize:
    """Sizes known before download: the Parquet distribution is the stored file itself; the others are converted."""

    def size(version: DatasetVersion, download: dcat.DownloadFormat) -> int | None:
        if download.extension != "parquet":
            return None
        path = service.version_file(settings.data_dir, version)
        return path.stat().st_size if path.is_file() else None

    return size


@router.get("/catalog.{extension}", response_class=Response, summary="DCAT-AP 目录 The catalogue in DCAT-AP 3")
def read_catalog(
    extension: Extension,
    request: Request,
    actor: OptionalApiActor,
    session: ReadSessionDep,
    settings: SettingsDep,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    modified_since: Annotated[
        str | None, Query(max_length=64, description="Only datasets changed at or after this ISO 8601 date or time.")
    ] = None,
) -> Response:
    """The datasets the caller may see, oldest change first, with Hydra links to the other pages (for harvesters)."""
    rdf_format = _rdf_format(extension)
    since = dcat.parse_modified_since(modified_since) if modified_since else None
    datasets, total = service.list_visible_datasets(
        session, actor, modified_since=since, offset=(page - 1) * page_size, limit=page_size
    )
    paging = dcat.CatalogPage(
        page=page,
        page_size=page_size,
        total=total,
        extension=extension,
        modified_since=modified_since or None,
        page_size_in_links=page_size != DEFAULT_PAGE_SIZE,
    )
    graph = dcat.catalog_graph(datasets, _base_url(request), paging, byte_size=_byte_size(settings))
    return Response(dcat.serialize(graph, rdf_format), media_type=rdf_format.media_type)


@router.get("/dataset/{name}.{extension}", response_class=Response, summary="DCAT-AP 数据资源 A dataset in DCAT-AP 3")
def read_dataset_dcat(
    name: str,
    extension: Extension,
    request: Request,
    actor: OptionalApiActor,
    session: ReadSessionDep,
    settings: SettingsDep,
    database: DatabaseDep,
) -> Response:
    """One dataset the caller may see, with a distribution per download format of its current version."""
    rdf_format = _rdf_format(extension)
    dataset = service.get_dataset(session, actor, name)
    service.record_metadata_read(database, actor, dataset)
    graph = dcat.dataset_graph(dataset, _base_url(request), byte_size=_byte_size(settings))
    return Response(dcat.serialize(graph, rdf_format), media_type=rdf_format.media_type)
