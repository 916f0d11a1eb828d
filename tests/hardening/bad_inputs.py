"""The bad-input corpus: malformed and hostile files and values, generated deterministically (nothing on disk).

Sizes that would make CI slow are small by default and full-size with ``YIWANG_HARDEN_FULL=1`` (``make harden``):
the single long line is 64 MiB (past DuckDB's 2 MB `max_line_size`, NDJSON's 16 MiB `maximum_object_size` and every
head the ingest reads in Python, so it takes the same path as 1 GiB) and is streamed, never built in memory.
"""

from __future__ import annotations

import codecs
import io
import json
import os
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache

import openpyxl  # type: ignore[import-untyped]
import pyarrow as pa
import pyarrow.parquet as pq

FULL = os.environ.get("YIWANG_HARDEN_FULL") == "1"
LONG_LINE_BYTES = (1 << 30) if FULL else (64 << 20)
# under the 2 GiB upload limit at full size too, so the bomb check (not the unpacked-size check) must catch it
ZIP_BOMB_SHEET_BYTES = (15 << 27) if FULL else (256 << 20)
NESTING = 10_000
COLUMNS = 10_000
CHUNK = 1 << 20

CSV_GOOD = "姓名,年龄,区划\n张三,76,460105\n李四,34,460106\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def truncated(data: bytes, keep: float = 0.6) -> bytes:
    return data[: int(len(data) * keep)]


def workbook(rows: int = 200) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for i in range(rows):
        sheet.append([f"行{i}", i])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def parquet(rows: int = 1000) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(pa.table({"a": list(range(rows))}), buffer)
    return buffer.getvalue()


def feature_collection() -> bytes:
    features = [
        {"type": "Feature", "properties": {"名称": f"点{i}"}, "geometry": {"type": "Point", "coordinates": [110.3, 20]}}
        for i in range(50)
    ]
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False).encode()


def shift_jis() -> bytes:
    """Shift-JIS text that is neither UTF-8 nor GB18030: a half-width katakana byte then an ASCII comma."""
    data = "名前,ｱ,年\n東京,ｶ,1\n".encode("shift_jis")
    for encoding in ("utf-8", "gb18030"):
        try:
            data.decode(encoding)
        except UnicodeDecodeError:
            continue
        raise AssertionError(f"the Shift-JIS sample decodes as {encoding}")
    return data


def many_columns() -> bytes:
    header = ",".join(f"c{i}" for i in range(COLUMNS))
    row = ",".join("1" for _ in range(COLUMNS))
    return f"{header}\n{row}\n{row}\n".encode()


def nested_json() -> bytes:
    return b'[{"a": ' + b"[" * NESTING + b"1" + b"]" * NESTING + b"}]"


def nested_ndjson() -> bytes:
    return b'{"a": ' + b'{"b": ' * NESTING + b"1" + b"}" * NESTING + b"}\n"


def nested_geojson() -> bytes:
    deep = b"[" * NESTING + b"0" + b"]" * NESTING
    return (
        b'{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {"type": "Point", '
        b'"coordinates": ' + deep + b'}, "properties": {}}]}'
    )


@cache
def zip_bomb_workbook() -> bytes:
    """A small .xlsx (about 1 KiB packed per MiB) whose sheet XML inflates to `ZIP_BOMB_SHEET_BYTES`."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("xl/workbook.xml", '<?xml version="1.0"?><workbook/>')
        with archive.open("xl/worksheets/sheet1.xml", "w") as member:
            member.write(b'<?xml version="1.0"?><worksheet><sheetData>')
            row = b'<row><c t="n"><v>0</v></c></row>' * (CHUNK // 32)
            for _ in range(ZIP_BOMB_SHEET_BYTES // len(row)):
                member.write(row)
            member.write(b"</sheetData></worksheet>")
    return buffer.getvalue()


@dataclass(frozen=True)
class BadFile:
    """One corpus file for the dataset upload, and the error code it must get."""

    case: str
    filename: str
    content: Callable[[], bytes]
    code: str
    status: int = 422


def _const(data: bytes | str) -> Callable[[], bytes]:
    raw = data.encode() if isinstance(data, str) else data
    return lambda: raw


BOM8, BOM16 = codecs.BOM_UTF8, codecs.BOM_UTF16_LE

#: Files the dataset upload must refuse, each with its error code.
UPLOADS: tuple[BadFile, ...] = (
    BadFile("truncated-csv-mid-quote", "t.csv", _const('名称,说明\n甲,"正常"\n乙,"被截断的引号'), "ingest.malformed"),
    BadFile("truncated-xlsx", "t.xlsx", lambda: truncated(workbook()), "ingest.malformed"),
    BadFile("truncated-json", "t.json", _const(b'[{"a": 1}, {"a"'), "ingest.malformed"),
    BadFile("truncated-parquet", "t.parquet", lambda: truncated(parquet()), "ingest.malformed"),
    BadFile("truncated-geojson", "t.geojson", lambda: truncated(feature_collection()), "ingest.malformed"),
    BadFile("geojson-bare-feature", "f.geojson", _const(b'{"type": "Feature", "geometry": null}'), "ingest.malformed"),
    BadFile(
        "geojson-features-not-array",
        "f.geojson",
        _const(b'{"type": "FeatureCollection", "features": 1}'),
        "ingest.malformed",
    ),
    BadFile("utf16-without-bom", "u.csv", lambda: CSV_GOOD.encode("utf-16-le"), "ingest.unknown_format"),
    BadFile("latin-1", "l.csv", lambda: "name,city\nJosé,Zürich\n".encode("latin-1"), "ingest.encoding"),
    BadFile("shift-jis", "s.csv", shift_jis, "ingest.encoding"),
    BadFile(
        "utf8-bom-then-utf16-bom", "b.csv", lambda: BOM8 + BOM16 + CSV_GOOD.encode("utf-16-le"), "ingest.unknown_format"
    ),
    BadFile(
        "utf16-bom-in-the-middle", "b.csv", lambda: CSV_GOOD.encode() + BOM16 + "王五,1,2\n".encode(), "ingest.encoding"
    ),
    BadFile("utf8-bom-only", "b.csv", _const(BOM8), "ingest.empty"),
    BadFile("utf16-bom-only", "b.csv", _const(BOM16), "ingest.empty"),
    BadFile("zip-bomb-xlsx", "bomb.xlsx", zip_bomb_workbook, "ingest.zip_bomb"),
    BadFile("nested-json", "n.json", nested_json, "ingest.malformed"),
    BadFile("nested-ndjson", "n.ndjson", nested_ndjson, "ingest.malformed"),
    BadFile("nested-geojson", "n.geojson", nested_geojson, "ingest.malformed"),
    BadFile("empty", "e.csv", _const(b""), "ingest.empty"),
    BadFile("png-named-csv", "photo.csv", lambda: PNG, "ingest.unknown_format"),
    BadFile("10000-columns", "wide.csv", many_columns, "ingest.too_many_columns"),
    BadFile("nul-in-filename", "a\x00b.csv", _const(CSV_GOOD), "upload.bad_filename"),
    BadFile("control-chars-in-filename", "a\x1b[31mb.csv", _const(CSV_GOOD), "upload.bad_filename"),
)

#: File names that try to leave the upload directory; the file itself is good, so the upload is accepted, but only
#: under the base name and without writing anywhere else.
TRAVERSAL_NAMES = ("../../etc/passwd.csv", "/etc/passwd.csv", "..\\..\\windows\\passwd.csv", "C:\\Users\\a\\passwd.csv")


def _filler(size: int) -> Iterator[bytes]:
    block = b"x" * CHUNK
    for start in range(0, size, CHUNK):
        yield block[: min(CHUNK, size - start)]


def long_line(size: int = LONG_LINE_BYTES) -> Iterator[bytes]:
    """A CSV header, then one line of `size` bytes, in 1 MiB chunks."""
    yield "名称,说明\n".encode()
    yield from _filler(size)
    yield b"\n"


def long_line_size(size: int = LONG_LINE_BYTES) -> int:
    return len("名称,说明\n".encode()) + size + 1


def long_ndjson(size: int = LONG_LINE_BYTES) -> Iterator[bytes]:
    """One NDJSON record of `size` bytes on a single line, in 1 MiB chunks."""
    yield b'{"a": 1, "b": "'
    yield from _filler(size)
    yield b'"}\n'


def long_ndjson_size(size: int = LONG_LINE_BYTES) -> int:
    return len(b'{"a": 1, "b": "') + size + len(b'"}\n')
