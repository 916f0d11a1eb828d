"""Ingest: every supported file becomes one Parquet file with its values intact, or a clear error and no file."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import itertools
import json
import re
import tempfile
import threading
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from yiwang.catalog import ingest
from yiwang.catalog.ingest import IngestResult, common, delimited, detect_format, geojson, ingest_file
from yiwang.core.errors import InvalidInput
from yiwang.core.i18n import translator

Rows = list[dict[str, Any]]


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "out"
    directory.mkdir()
    return directory


def write(tmp_path: Path, name: str, data: bytes | str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode(encoding) if isinstance(data, str) else data)
    return path


def ingest_rows(source: Path, out_dir: Path, **options: Any) -> tuple[IngestResult, Rows]:
    result = ingest_file(source, out_dir / f"{source.name}.parquet", **options)
    assert result.parquet.exists() and sorted(p.name for p in out_dir.iterdir()) == [result.parquet.name]
    return result, pq.read_table(result.parquet).to_pylist()


def types(result: IngestResult) -> dict[str, str]:
    return {field.name: field.type for field in result.fields}


def csv_text(rows: list[list[Any]], delimiter: str = ",") -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


CHINESE_TABLE: list[list[Any]] = [["名称", "统一社会信用代码", "注册资本", "成立日期"]]
CHINESE_TABLE += [["北京某某科技有限公司", "91350100M000100Y43", 1000, "2020-03-01"]]
CHINESE_TABLE += [["上海「测试」贸易公司", "91110000100000000X", 25, "2019-12-31"]]
CHINESE_ROWS = [dict(zip(CHINESE_TABLE[0], row, strict=True)) for row in CHINESE_TABLE[1:]]
for _row in CHINESE_ROWS:
    _row["成立日期"] = dt.date.fromisoformat(_row["成立日期"])


# --- CSV ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("encoding", "reported"), [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gbk", "gb18030")])
def test_chinese_csv_round_trips_in_each_encoding(tmp_path: Path, out_dir: Path, encoding: str, reported: str) -> None:
    source = write(tmp_path, "企业.csv", csv_text(CHINESE_TABLE), encoding)
    result, rows = ingest_rows(source, out_dir)
    assert rows == CHINESE_ROWS
    assert (result.source_format, result.encoding, result.delimiter, result.row_count) == ("csv", reported, ",", 2)
    assert types(result) == {"名称": "VARCHAR", "统一社会信用代码": "VARCHAR", "注册资本": "BIGINT", "成立日期": "DATE"}
    assert result.source_bytes == source.stat().st_size and len(result.sha256) == 64


def test_gb18030_decoding_survives_characters_split_across_chunks(
    tmp_path: Path, out_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(delimited, "CHUNK_BYTES", 5)
    source = write(tmp_path, "gbk.csv", csv_text(CHINESE_TABLE), "gb18030")
    result, rows = ingest_rows(source, out_dir)
    assert rows == CHINESE_ROWS and result.encoding == "gb18030"


@pytest.mark.parametrize("delimiter", [";", "\t", "|", ","])
def test_the_delimiter_is_sniffed(tmp_path: Path, out_dir: Path, delimiter: str) -> None:
    table = [["地区", "金额", "备注"], ["东城区", "1.5", "含,逗号;分号|竖线"], ["西城区", "2", "无"]]
    result, rows = ingest_rows(write(tmp_path, "d.txt", csv_text(table, delimiter)), out_dir)
    assert result.delimiter == delimiter
    assert rows == [
        {"地区": "东城区", "金额": 1.5, "备注": "含,逗号;分号|竖线"},
        {"地区": "西城区", "金额": 2.0, "备注": "无"},
    ]


def test_quoted_fields_keep_delimiters_quotes_and_newlines(tmp_path: Path, out_dir: Path) -> None:
    values = ["北京市,朝阳区\n建国路 1 号", 'He said "你好"', "#not a comment", '5" screen']
    table: list[list[Any]] = [["地址", "编号"], *[[value, i] for i, value in enumerate(values)]]
    _, rows = ingest_rows(write(tmp_path, "q.csv", csv_text(table)), out_dir)
    assert rows == [{"地址": value, "编号": i} for i, value in enumerate(values)]


def test_header_names_are_trimmed_and_made_unique(tmp_path: Path, out_dir: Path) -> None:
    source = write(tmp_path, "h.csv", " 名称 ,名称,,NAME,name\n甲,乙,丙,1,2\n")
    result, rows = ingest_rows(source, out_dir)
    assert [field.name for field in result.fields] == ["名称", "名称_2", "column_3", "NAME", "name_2"]
    assert rows == [{"名称": "甲", "名称_2": "乙", "column_3": "丙", "NAME": 1, "name_2": 2}]


def test_a_type_broken_after_the_sample_is_inferred_from_the_whole_file(tmp_path: Path, out_dir: Path) -> None:
    lines = ["编号,名称", *(f"{i},x" for i in range(delimited.CSV_SAMPLE_ROWS + 100)), "A-17,y"]
    result, rows = ingest_rows(write(tmp_path, "late.csv", "\n".join(lines) + "\n"), out_dir)
    assert types(result)["编号"] == "VARCHAR" and rows[-1] == {"编号": "A-17", "名称": "y"}
    assert result.row_count == delimited.CSV_SAMPLE_ROWS + 101


def test_leading_blank_lines_are_skipped(tmp_path: Path, out_dir: Path) -> None:
    _, rows = ingest_rows(write(tmp_path, "b.csv", "\r\n \r\n名称,数量\r\n甲,1\r\n"), out_dir)
    assert rows == [{"名称": "甲", "数量": 1}]


def test_utf16_csv_from_excel_is_transcoded(tmp_path: Path, out_dir: Path) -> None:
    result, rows = ingest_rows(write(tmp_path, "u.txt", "名称\t数量\n甲\t1\n", "utf-16"), out_dir)
    assert rows == [{"名称": "甲", "数量": 1}] and (result.encoding, result.delimiter) == ("utf-16", "\t")


TEXT = st.text(st.sampled_from("甲乙丙丁中华人民共和国北京上海深圳企业abcXYZ ,;|\t\"'\n"), min_size=0, max_size=10)
HEADER = st.text(st.sampled_from("名称地址金额日期编号abcdefXYZ"), min_size=1, max_size=6)


def is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@st.composite
def tables(draw: st.DrawFn) -> tuple[list[str], list[list[Any]]]:
    names = draw(st.lists(HEADER, min_size=1, max_size=4, unique_by=str.casefold))
    columns = [draw(st.sampled_from(["text", "int"])) for _ in names]
    text = st.one_of(st.none(), TEXT.map(lambda value: "企" + value + "业"))
    integer = st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1))
    rows = draw(st.lists(st.tuples(*[text if kind == "text" else integer for kind in columns]), min_size=1, max_size=8))
    return names, [list(row) for row in rows]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(table=tables())
def test_csv_in_utf8_and_gb18030_ingest_to_the_same_values(tmp_path: Path, table: tuple[list[str], list[Any]]) -> None:
    names, rows = table
    text = csv_text([list(names), *rows])
    # UTF-8 wins when the bytes are valid in both: only a few GB18030 characters (女 = C5 AE) are also valid UTF-8
    assume(not is_utf8(text.encode("gb18030")) or text.isascii())
    results = []
    for encoding in ("utf-8", "gb18030"):
        directory = Path(tempfile.mkdtemp(dir=tmp_path))
        source = write(directory, "t.csv", text, encoding)
        result = ingest_file(source, directory / "t.parquet")
        assert result.encoding == ("utf-8" if text.isascii() else encoding)
        results.append(pq.read_table(result.parquet).to_pylist())
    assert results[0] == results[1] == [dict(zip(names, row, strict=True)) for row in rows]


# --- XLSX --------------------------------------------------------------------------------------------------------


def test_xlsx_streams_the_first_sheet_with_types_per_column(tmp_path: Path, out_dir: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["名称", "成立日期", "登记时间", "注册资本", "比例", "是否有效", "混合", None, "名称"])
    sheet.append(["甲公司", dt.date(2020, 3, 1), dt.datetime(2020, 3, 1, 9, 30, 15), 1000, 0.25, True, "x", None, "甲"])
    sheet.append([None] * 9)  # an empty row in the middle is skipped
    sheet.append(["乙公司", dt.date(1999, 12, 31), dt.datetime(2001, 1, 1, 0, 0, 1), 7, 3, False, 5, "孤值", "乙"])
    book.create_sheet("第二页").append(["ignored"])
    book.save(tmp_path / "企业.xlsx")
    result, rows = ingest_rows(tmp_path / "企业.xlsx", out_dir)
    assert types(result) == {
        "名称": "VARCHAR",
        "成立日期": "DATE",
        "登记时间": "TIMESTAMP",
        "注册资本": "BIGINT",
        "比例": "DOUBLE",
        "是否有效": "BOOLEAN",
        "混合": "VARCHAR",
        "column_8": "VARCHAR",
        "名称_2": "VARCHAR",
    }
    assert rows[1] == {
        "名称": "乙公司",
        "成立日期": dt.date(1999, 12, 31),
        "登记时间": dt.datetime(2001, 1, 1, 0, 0, 1),
        "注册资本": 7,
        "比例": 3.0,
        "是否有效": False,
        "混合": "5",
        "column_8": "孤值",
        "名称_2": "乙",
    }
    assert rows[0]["比例"] == 0.25 and rows[0]["混合"] == "x" and result.row_count == 2
    assert (result.source_format, result.encoding, result.delimiter) == ("xlsx", None, None)


def test_xlsx_values_under_no_header_get_a_column_name(tmp_path: Path, out_dir: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet["A1"], sheet["A2"], sheet["C3"] = "名称", "甲", "无表头"
    book.save(tmp_path / "w.xlsx")
    result, rows = ingest_rows(tmp_path / "w.xlsx", out_dir)
    assert rows == [{"名称": "甲", "column_3": None}, {"名称": None, "column_3": "无表头"}]
    assert [field.name for field in result.fields] == ["名称", "column_3"]


# --- JSON, NDJSON, Parquet, GeoJSON ------------------------------------------------------------------------------


def test_json_array_keeps_nested_values(tmp_path: Path, out_dir: Path) -> None:
    records = [{"名称": "甲", "数量": 1, "标签": ["a", "b"], "地址": {"区": "东城"}}, {"名称": "乙", "数量": None}]
    result, rows = ingest_rows(write(tmp_path, "a.json", json.dumps(records, ensure_ascii=False, indent=2)), out_dir)
    assert result.source_format == "json"
    assert rows[0] == {"名称": "甲", "数量": 1, "标签": ["a", "b"], "地址": {"区": "东城"}}
    assert types(result)["标签"] == "VARCHAR[]" and types(result)["地址"].startswith("STRUCT")


def test_ndjson_keeps_keys_first_seen_late(tmp_path: Path, out_dir: Path) -> None:
    lines = [json.dumps({"编号": i}) for i in range(30)] + [
        json.dumps({"编号": 30, "备注": "迟到"}, ensure_ascii=False)
    ]
    result, rows = ingest_rows(write(tmp_path, "a.ndjson", "\n".join(lines) + "\n"), out_dir)
    assert result.source_format == "ndjson" and result.row_count == 31
    assert rows[-1] == {"编号": 30, "备注": "迟到"} and rows[0] == {"编号": 0, "备注": None}


def test_parquet_is_validated_and_copied(tmp_path: Path, out_dir: Path) -> None:
    table = pa.table({"名称": ["甲", "乙"], "数量": pa.array([1, None], pa.int32()), "日期": [dt.date(2024, 1, 2)] * 2})
    pq.write_table(table, tmp_path / "a.bin", compression="snappy")
    result, rows = ingest_rows(tmp_path / "a.bin", out_dir)
    assert result.source_format == "parquet" and rows == table.to_pylist()
    assert types(result) == {"名称": "VARCHAR", "数量": "INTEGER", "日期": "DATE"}
    assert pq.ParquetFile(result.parquet).metadata.row_group(0).column(0).compression == "ZSTD"


POINT = {"type": "Point", "coordinates": [116.391, 39.907]}
POLYGON = {"type": "Polygon", "coordinates": [[[116.0, 39.0], [117.0, 39.0], [117.0, 40.0], [116.0, 39.0]]]}
COLLECTION = {
    "type": "FeatureCollection",
    "name": "图层",
    "features": [
        {"type": "Feature", "id": "A1", "properties": {"名称": "天安门", "面积": 1}, "geometry": POINT},
        {"type": "Feature", "properties": {"名称": "北京", "面积": 2.5, "geometry": "属性"}, "geometry": POLYGON},
        {"type": "Feature", "properties": None, "geometry": None},
    ],
    "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4490"}},
}


@pytest.mark.parametrize("chunk", [1 << 20, 3])
def test_geojson_features_become_rows_with_their_geometry(
    tmp_path: Path, out_dir: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    monkeypatch.setattr(geojson, "CHUNK_BYTES", chunk)  # 3 bytes: every value and character spans chunks
    source = write(tmp_path, "layer.json", json.dumps(COLLECTION, ensure_ascii=False, indent=1))
    result, rows = ingest_rows(source, out_dir)
    assert result.source_format == "geojson" and result.row_count == 3
    assert [field.name for field in result.fields] == ["id", "名称", "面积", "geometry_2", "geometry"]
    assert types(result)["geometry"] == "VARCHAR"
    assert [json.loads(row["geometry"]) if row["geometry"] else None for row in rows] == [POINT, POLYGON, None]
    assert rows[0]["id"] == "A1" and rows[1]["名称"] == "北京" and rows[1]["geometry_2"] == "属性"


# --- formats and progress ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "declared", "expected"),
    [
        ("a.json", b"a,b\n1,2\n", None, "csv"),
        ("a.csv", b'[{"a": 1}]', None, "json"),
        ("a.csv", b"[name],b\n1,2\n", None, "csv"),
        ("upload", b'{"a": 1}\n{"a": 2}\n', None, "ndjson"),
        ("upload", b'{\n  "a": 1\n}\n', None, "json"),
        ("upload", b'{"type": "FeatureCollection", "features": []}', None, "geojson"),
        ("upload", b'{"features": [], "type": "FeatureCollection"}', None, "geojson"),
        ("upload", b"\xef\xbb\xbf[]", None, "json"),
        ("upload", b"PAR1xxxx", "csv", "parquet"),
        ("a.geojson", b'{"type": "Feature"}', "geojson", "geojson"),
    ],
)
def test_content_decides_the_format(
    tmp_path: Path, name: str, data: bytes, declared: str | None, expected: str
) -> None:
    assert detect_format(write(tmp_path, name, data), declared) == expected


@pytest.mark.parametrize(
    "data", [b"%PDF-1.7\n", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"\x1f\x8b\x08\x00", b"a\x00b\x00c"]
)
def test_unsupported_files_are_named(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(InvalidInput) as caught:
        detect_format(write(tmp_path, "x.csv", data))
    assert caught.value.code == "ingest.unknown_format"


def test_a_zip_that_is_not_a_workbook_is_unsupported(tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "a.xlsx", "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(InvalidInput) as caught:
        detect_format(tmp_path / "a.xlsx")
    assert caught.value.code == "ingest.unknown_format"


def test_progress_rises_to_the_total_on_the_callers_thread(tmp_path: Path, out_dir: Path) -> None:
    source = write(tmp_path, "p.csv", "编号,名称\n" + "".join(f"{i},名称{i}\n" for i in range(50_000)))
    calls: list[tuple[int, int, int]] = []
    ingest_file(
        source, out_dir / "p.parquet", progress=lambda done, total: calls.append((done, total, threading.get_ident()))
    )
    size = source.stat().st_size
    assert calls[-1][:2] == (size, size) and {total for _, total, _ in calls} == {size}
    assert all(a[0] < b[0] for a, b in itertools.pairwise(calls))
    assert {thread for _, _, thread in calls} == {threading.get_ident()}


def test_duckdb_spills_next_to_the_target_and_never_fetches_extensions(
    tmp_path: Path, out_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    configs: list[dict[str, Any]] = []
    connect = duckdb.connect

    def spy(database: str, config: dict[str, Any]) -> Any:
        configs.append(config)
        return connect(database, config=config)

    monkeypatch.setattr(duckdb, "connect", spy)
    ingest_file(write(tmp_path, "a.csv", "a\n1\n"), out_dir / "a.parquet", memory_limit="300MB", threads=1)
    assert configs[0]["autoinstall_known_extensions"] is False and configs[0]["autoload_known_extensions"] is False
    assert (configs[0]["memory_limit"], configs[0]["threads"]) == ("300MB", 1)
    assert Path(configs[0]["temp_directory"]).parent.parent == out_dir


def test_an_existing_target_is_never_replaced(tmp_path: Path, out_dir: Path) -> None:
    (out_dir / "t.parquet").write_bytes(b"version 1")
    with pytest.raises(FileExistsError):
        ingest_file(write(tmp_path, "a.csv", "a\n1\n"), out_dir / "t.parquet")
    assert (out_dir / "t.parquet").read_bytes() == b"version 1"


# --- failures: a code, and nothing left behind -------------------------------------------------------------------


def zip_bomb(directory: Path) -> Path:
    """A workbook-shaped zip whose sheet unpacks to 60 MiB of zeros from ~60 KiB."""
    with zipfile.ZipFile(directory / "bomb.xlsx", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("xl/worksheets/sheet1.xml", "w") as member:
            for _ in range(60):
                member.write(bytes(1 << 20))
    return directory / "bomb.xlsx"


def small_workbook(directory: Path, name: str = "w.xlsx") -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for i in range(200):
        sheet.append([f"行{i}", i])
    book.save(directory / name)
    return directory / name


def truncated(data: bytes, keep: float = 0.6) -> bytes:
    return data[: int(len(data) * keep)]


def parquet_bytes(path: Path) -> bytes:
    pq.write_table(pa.table({"a": list(range(1000))}), path)
    return path.read_bytes()


def collection_bytes() -> bytes:
    return json.dumps(COLLECTION, ensure_ascii=False).encode()


Maker = Callable[[Path], Path]
FAILURES: list[tuple[str, Maker, dict[str, Any], str]] = [
    ("empty", lambda d: write(d, "e.csv", b""), {}, "ingest.empty"),
    ("blank lines", lambda d: write(d, "e.csv", b"\n \n\n"), {}, "ingest.empty"),
    ("header only", lambda d: write(d, "h.csv", "名称,数量\n"), {}, "ingest.empty"),
    ("empty json", lambda d: write(d, "e.json", b"[ ]"), {}, "ingest.empty"),
    ("no features", lambda d: write(d, "e.geojson", b'{"type":"FeatureCollection","features":[]}'), {}, "ingest.empty"),
    ("too large", lambda d: write(d, "big.csv", "a\n" + "1\n" * 100), {"max_bytes": 100}, "ingest.too_large"),
    ("latin-1", lambda d: write(d, "l.csv", "name,city\nJosé,Zürich\n", "latin-1"), {}, "ingest.encoding"),
    ("bad bytes", lambda d: write(d, "b.csv", b"a,b\n\x80\xff,1\n"), {}, "ingest.encoding"),
    ("ragged csv", lambda d: write(d, "r.csv", b"a,b\n1,2\n3,4,5\n"), {}, "ingest.malformed"),
    ("truncated json", lambda d: write(d, "t.json", b'[{"a": 1}, {"a": 2}, {"a":'), {}, "ingest.malformed"),
    ("truncated ndjson", lambda d: write(d, "t.ndjson", b'{"a": 1}\n{"a": 2, "b'), {}, "ingest.malformed"),
    ("truncated parquet", lambda d: write(d, "t.parquet", truncated(parquet_bytes(d / "p"))), {}, "ingest.malformed"),
    ("truncated geojson", lambda d: write(d, "t.geojson", truncated(collection_bytes())), {}, "ingest.malformed"),
    ("bare feature", lambda d: write(d, "f.geojson", b'{"type": "Feature", "geometry": null}'), {}, "ingest.malformed"),
    ("zip bomb", zip_bomb, {}, "ingest.zip_bomb"),
    ("unpacks too large", small_workbook, {"max_bytes": 10_000}, "ingest.too_large"),
    (
        "truncated xlsx",
        lambda d: write(d, "t.xlsx", truncated(small_workbook(d, "w").read_bytes())),
        {},
        "ingest.malformed",
    ),
    ("pdf", lambda d: write(d, "x.pdf", b"%PDF-1.4 ..."), {}, "ingest.unknown_format"),
]


@pytest.mark.parametrize(("maker", "options", "code"), [f[1:] for f in FAILURES], ids=[f[0] for f in FAILURES])
def test_a_bad_file_gets_its_code_and_leaves_nothing(
    tmp_path: Path, maker: Maker, options: dict[str, Any], code: str
) -> None:
    source = maker(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    target = tmp_path / "datasets" / "d1" / "v1" / "data.parquet"  # directories made for it go too
    with pytest.raises(InvalidInput) as caught:
        ingest_file(source, target, progress=lambda done, total: None, **options)
    assert caught.value.code == code
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert "Traceback" not in caught.value.render()


def test_the_encoding_error_names_the_line_and_byte(tmp_path: Path, out_dir: Path) -> None:
    source = write(tmp_path, "l.csv", "name,city\nA,B\nJosé ok,x\n", "latin-1")
    with pytest.raises(InvalidInput) as caught:
        ingest_file(source, out_dir / "l.parquet")
    assert caught.value.params == {"encoding": "UTF-8", "line": 3, "offset": 17}
    assert "line 3, byte 17" in caught.value.render() and list(out_dir.iterdir()) == []


def test_a_malformed_row_past_the_sample_is_reported_without_its_contents(tmp_path: Path, out_dir: Path) -> None:
    lines = ["姓名,电话", *(f"用户{i},13800000000" for i in range(60_000)), "张三,13912345678,秘密"]
    source = write(tmp_path, "r.csv", "\n".join(lines) + "\n")
    with pytest.raises(InvalidInput) as caught:
        ingest_file(source, out_dir / "r.parquet")
    message = caught.value.render()
    assert caught.value.code == "ingest.malformed" and "60002" in message
    assert "秘密" not in message and "13912345678" not in message and str(tmp_path) not in message
    assert caught.value.__suppress_context__ and list(out_dir.iterdir()) == []


def test_every_ingest_message_is_translated() -> None:
    zh = translator("zh_CN")
    source = "".join(path.read_text(encoding="utf-8") for path in Path(ingest.__file__).parent.glob("*.py"))
    messages = [json.loads(f'"{m}"') for m in re.findall(r'N_\(\s*"((?:[^"\\]|\\.)*)"', source)]
    assert len(messages) > 10 and [m for m in messages if zh(m) == m] == []


# --- files larger than the head Python decodes: DuckDB judges the rest ----------------------------------------------


def test_a_bad_byte_past_the_decoded_head_is_named_by_line_and_byte(
    tmp_path: Path, out_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(delimited, "HEAD_BYTES", 64)
    data = ("编号,名称\n" + "".join(f"{i},名称{i}\n" for i in range(200))).encode() + b"201,\x80bad\n202,ok\n"
    source = write(tmp_path, "late.csv", data)
    with pytest.raises(InvalidInput) as caught:
        ingest_file(source, out_dir / "late.parquet", progress=lambda done, total: None)
    assert caught.value.code == "ingest.encoding" and caught.value.params["encoding"] == "UTF-8"
    assert (caught.value.params["line"], caught.value.params["offset"]) == (202, data.index(b"\x80"))
    assert list(out_dir.iterdir()) == []


def test_gb18030_text_after_an_ascii_head_is_still_found(
    tmp_path: Path, out_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(delimited, "HEAD_BYTES", 64)
    lines = ["id,name", *(f"{i},x{i}" for i in range(50)), "50,北京某某科技有限公司"]
    source = write(tmp_path, "gbk.csv", "\n".join(lines) + "\n", "gb18030")
    result, rows = ingest_rows(source, out_dir)
    assert result.encoding == "gb18030" and rows[-1] == {"id": 50, "name": "北京某某科技有限公司"}
    assert result.sha256 == hashlib.sha256(source.read_bytes()).hexdigest()


@pytest.mark.parametrize("progress", [None, lambda done, total: None])
def test_a_large_utf8_file_is_hashed_while_duckdb_reads_it(
    tmp_path: Path, out_dir: Path, monkeypatch: pytest.MonkeyPatch, progress: Callable[[int, int], None] | None
) -> None:
    monkeypatch.setattr(delimited, "HEAD_BYTES", 64)
    monkeypatch.setattr(common, "HASH_CHUNK_BYTES", 100)  # many chunks
    source = write(tmp_path, "big.csv", "编号,名称\n" + "".join(f"{i},名称{i}\n" for i in range(5000)))
    result, rows = ingest_rows(source, out_dir, progress=progress)
    assert result.encoding == "utf-8" and result.row_count == 5000 and rows[-1] == {"编号": 4999, "名称": "名称4999"}
    assert result.sha256 == hashlib.sha256(source.read_bytes()).hexdigest()


def test_a_ragged_row_past_the_decoded_head_is_malformed_not_an_encoding_error(
    tmp_path: Path, out_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(delimited, "HEAD_BYTES", 64)
    source = write(tmp_path, "r.csv", "a,b\n" + "1,2\n" * 100 + "3,4,5\n")
    with pytest.raises(InvalidInput) as caught:
        ingest_file(source, out_dir / "r.parquet")
    assert caught.value.code == "ingest.malformed" and list(out_dir.iterdir()) == []


def test_the_sha256_is_of_the_source_bytes_in_each_encoding(tmp_path: Path, out_dir: Path) -> None:
    for encoding in ("utf-8", "utf-8-sig", "gb18030", "utf-16"):
        source = write(tmp_path, f"{encoding}.csv", csv_text(CHINESE_TABLE), encoding)
        result = ingest_file(source, out_dir / f"{encoding}.parquet")
        assert result.sha256 == hashlib.sha256(source.read_bytes()).hexdigest(), encoding


@pytest.mark.parametrize("head_bytes", [1 << 20, 64])
@pytest.mark.parametrize("bom", [b"", codecs.BOM_UTF8])
def test_the_bad_byte_is_counted_in_the_files_own_bytes(
    tmp_path: Path, out_dir: Path, monkeypatch: pytest.MonkeyPatch, head_bytes: int, bom: bytes
) -> None:
    monkeypatch.setattr(delimited, "HEAD_BYTES", head_bytes)
    data = bom + "编号,名称\n".encode() + b"1,ok\n" * 40 + b"2,\xff\n"
    with pytest.raises(InvalidInput) as caught:
        ingest_file(write(tmp_path, "b.csv", data), out_dir / "b.parquet")
    assert (caught.value.params["line"], caught.value.params["offset"]) == (42, data.index(b"\xff"))
