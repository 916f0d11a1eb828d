"""Format sniffing: which of the supported formats a file holds, by its content first."""

from __future__ import annotations

import codecs
import json
import re
import zipfile
from pathlib import Path
from typing import cast

from yiwang.catalog.ingest.common import SourceFormat
from yiwang.core.errors import InvalidInput
from yiwang.core.i18n import N_

_HINTS: dict[str, SourceFormat] = {  # declared formats, MIME types and extensions, lower-case
    name: cast(SourceFormat, source_format)
    for source_format, names in (
        ("csv", "csv tsv txt text/csv text/tab-separated-values"),
        ("xlsx", "xlsx xlsm application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("json", "json application/json"),
        ("ndjson", "ndjson jsonl jsonlines json-lines application/x-ndjson application/jsonl"),
        ("parquet", "parquet pq application/vnd.apache.parquet application/x-parquet"),
        ("geojson", "geojson application/geo+json"),
    )
    for name in names.split()
}
_UNSUPPORTED_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\xd0\xcf\x11\xe0", "XLS/OLE2"),
    (b"%PDF", "PDF"),
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bzip2"),
    (b"7z\xbc\xaf", "7z"),
    (b"Rar!", "RAR"),
    (b"\x89PNG", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"SQLite format 3", "SQLite"),
)
_FEATURE_COLLECTION = re.compile(rb'"type"\s*:\s*"FeatureCollection"|"features"\s*:\s*\[')


def detect_format(path: Path, declared: str | None = None) -> SourceFormat:
    """The format of `path`, by its content first; the declared format, then the extension, only break ties."""
    with Path(path).open("rb") as handle:
        head = handle.read(64 * 1024)
    hint = _hint(declared) or _hint(Path(path).suffix)
    if not head:
        raise InvalidInput("ingest.empty", N_("The file is empty"))
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _zip_format(Path(path))
    if head.startswith(b"PAR1"):
        return "parquet"
    for magic, kind in _UNSUPPORTED_MAGIC:
        if head.startswith(magic):
            raise _unknown_format(kind)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "csv"
    if b"\x00" in head:
        raise _unknown_format("binary")
    text = head.removeprefix(codecs.BOM_UTF8).lstrip()
    if text.startswith(b"["):
        after = text[1:].lstrip()[:1]
        return "json" if after in (b"{", b"]") or (hint == "json" and after in (b"", b"[")) else "csv"
    if text.startswith(b"{"):
        try:
            first = json.loads(text.split(b"\n", 1)[0])
        except (ValueError, RecursionError):
            # an object over several lines, a first line longer than the head, or one nested past Python's
            # recursion limit (DuckDB's reader then names the problem)
            return "geojson" if hint == "geojson" or _FEATURE_COLLECTION.search(head) else "json"
        if isinstance(first, dict) and (
            first.get("type") == "FeatureCollection" or (hint == "geojson" and "type" in first)
        ):
            return "geojson"
        return "ndjson"
    return "csv"


def _unknown_format(kind: str) -> InvalidInput:
    return InvalidInput(
        "ingest.unknown_format",
        N_("Unsupported file type ({kind}): upload CSV, XLSX, JSON, NDJSON, Parquet or GeoJSON"),
        kind=kind,
    )


def _hint(value: str | None) -> SourceFormat | None:
    if not value:
        return None
    return _HINTS.get(value.strip().lower().removeprefix("."))


def _zip_format(path: Path) -> SourceFormat:
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return "xlsx"  # a damaged workbook: reading it reports what is wrong
    if any(name.startswith("xl/") for name in names):
        return "xlsx"
    raise _unknown_format("ZIP")
