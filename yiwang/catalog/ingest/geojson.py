"""GeoJSON: a FeatureCollection streamed one feature at a time into NDJSON records, then read by DuckDB."""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO, cast

from yiwang.catalog.ingest.common import CHUNK_BYTES, Job, literal, malformed
from yiwang.core.errors import InvalidInput
from yiwang.core.i18n import N_

MAX_VALUE_CHARS = 256 * 1024**2
JSON_OBJECT_BYTES = 16 * 1024**2
_WHITESPACE = re.compile(r"[ \t\r\n]*")


class _JsonStream:
    """Reads a UTF-8 JSON text one value at a time, holding only a chunk and the value being decoded."""

    def __init__(self, handle: BinaryIO, on_read: Callable[[int], None]) -> None:
        self._handle, self._on_read = handle, on_read
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self._json = json.JSONDecoder()
        self._buffer, self._pos, self._dropped, self._eof = "", 0, 0, False

    def _fill(self, at_least: int) -> bool:
        if self._eof:
            return False
        raw = self._handle.read(max(at_least, CHUNK_BYTES))
        try:
            text = self._decoder.decode(raw, final=not raw)
        except UnicodeDecodeError:
            raise InvalidInput("ingest.encoding", N_("The {format} file is not UTF-8 text"), format="GeoJSON") from None
        self._eof = not raw
        self._dropped += self._pos
        self._buffer, self._pos = self._buffer[self._pos :] + text, 0
        self._on_read(len(raw))
        return True

    def peek(self) -> str:
        while True:
            self._pos = cast(re.Match[str], _WHITESPACE.match(self._buffer, self._pos)).end()
            if self._pos < len(self._buffer):
                return self._buffer[self._pos]
            if not self._fill(CHUNK_BYTES):
                return ""

    def take(self) -> str:
        char = self.peek()
        self._pos += len(char)
        return char

    def value(self) -> Any:
        self.peek()
        while True:
            try:
                value, end = self._json.raw_decode(self._buffer, self._pos)
                if end < len(self._buffer) or self._eof:  # a number at the buffer's end may go on in the next chunk
                    self._pos = end
                    return value
            except json.JSONDecodeError as exc:
                if self._eof:
                    raise malformed("geojson", f"{exc.msg} at character {self._dropped + exc.pos}") from None
            except RecursionError:  # Python's decoder recurses once per level: a hostile file nests thousands deep
                raise malformed("geojson", "values nested too deeply") from None
            pending = len(self._buffer) - self._pos
            if pending > MAX_VALUE_CHARS:
                raise malformed("geojson", f"a value longer than {MAX_VALUE_CHARS} characters")
            self._fill(pending)


def _feature_row(feature: Any) -> dict[str, Any]:
    """A Feature as one flat record: its properties, its ``id`` and its geometry as GeoJSON text."""
    if not isinstance(feature, dict) or feature.get("type", "Feature") != "Feature":
        raise malformed("geojson", "a member of features is not a Feature")
    properties = feature.get("properties") or {}
    geometry = feature.get("geometry")
    if not isinstance(properties, dict) or not (geometry is None or isinstance(geometry, dict)):
        raise malformed("geojson", "a Feature has invalid properties or geometry")
    row: dict[str, Any] = {}
    if "id" in feature and "id" not in properties:
        row["id"] = feature["id"]
    for key, value in properties.items():
        row["geometry_2" if key == "geometry" else key] = value
    row["geometry"] = None if geometry is None else json.dumps(geometry, ensure_ascii=False, separators=(",", ":"))
    return row


def ingest_geojson(job: Job, target: Path, source_format: str) -> tuple[str | None, str | None]:
    job.progress.stage(0.0, 0.1)
    job.hash_source()
    job.progress.stage(0.1, 0.6)
    features = job.workspace / "features.ndjson"
    count, longest = _write_features(job, features)
    if count == 0:
        raise InvalidInput("ingest.empty", N_("The file has no data rows"))
    job.progress.stage(0.6, 1.0)
    options = f"format = 'newline_delimited', records = true, sample_size = -1, maximum_object_size = {longest}"
    job.copy(
        f'SELECT * EXCLUDE ("geometry"), CAST("geometry" AS VARCHAR) AS "geometry" '
        f"FROM read_json({literal(features)}, {options})",
        target,
    )
    return None, None


def _write_features(job: Job, path: Path) -> tuple[int, int]:
    """Stream the FeatureCollection's features into NDJSON records; return their count and the longest's bytes."""
    done = 0

    def on_read(size: int) -> None:
        nonlocal done
        done += size
        job.progress.update(done / job.size)

    count, longest, kind, has_features = 0, JSON_OBJECT_BYTES, None, False
    with job.source.open("rb") as handle, path.open("wb") as sink:
        stream = _JsonStream(handle, on_read)
        if stream.take() != "{":
            raise _not_a_feature_collection()
        separator = stream.take() if stream.peek() == "}" else ","
        while separator == ",":
            key = stream.value()
            if not isinstance(key, str) or stream.take() != ":":
                raise malformed("geojson", "expected a member name and ':'")
            if key == "features" and stream.take() == "[":
                has_features = True
                item = stream.take() if stream.peek() == "]" else ","
                while item == ",":
                    line = (json.dumps(_feature_row(stream.value()), ensure_ascii=False) + "\n").encode("utf-8")
                    sink.write(line)
                    count, longest = count + 1, max(longest, len(line) + 1)
                    item = stream.take()
                if item != "]":
                    raise malformed("geojson", "expected ',' or ']' between features")
            elif key == "features":
                raise malformed("geojson", "features is not an array")
            else:
                value = stream.value()
                kind = value if key == "type" else kind
            separator = stream.take()
        if separator != "}" or stream.peek() != "":
            raise malformed("geojson", "expected ',' or '}' to end the FeatureCollection")
    if kind != "FeatureCollection" or not has_features:
        raise _not_a_feature_collection()
    return count, longest


def _not_a_feature_collection() -> InvalidInput:
    return InvalidInput("ingest.malformed", N_("A GeoJSON file must hold one FeatureCollection"))
