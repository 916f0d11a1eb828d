"""Read-only SQL over open datasets: hostile queries are refused, DuckDB itself is locked down, personal fields stay
masked under any filter, the row cap and time limit hold, and the HTTP route answers anyone for open data."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from factories import UserFactory
from fastapi.testclient import TestClient

from yiwang.catalog import service
from yiwang.catalog.sql import SqlTable, check_sql, open_sandbox, query_open_data, run_sql
from yiwang.core.db import Database
from yiwang.core.errors import InvalidInput
from yiwang.core.identity import Actor
from yiwang.core.settings import Settings

POLICE = "海南省公安厅"
PEOPLE = [
    ("张三", "11010519491231002X", "海口", 76),
    ("李四", "460100199001011237", "三亚", 34),
    ("王五", "460100198001011233", "海口", 44),
    ("赵六", "460100197001011235", "儋州", None),
    ("钱七", "460100196001011231", "海口", 64),
]
WEATHER = [("海口", date(2024, 1, 1), 25.5), ("海口", date(2024, 1, 2), 24.0), ("三亚", date(2024, 1, 1), 28.0)]
RAW_IDS = [row[1] for row in PEOPLE]
RAW_NAMES = [row[0] for row in PEOPLE]


# --- run_sql over Parquet files --------------------------------------------------------------------------------


@pytest.fixture
def tables(tmp_path: Path) -> list[SqlTable]:
    people, weather = tmp_path / "people.parquet", tmp_path / "weather.parquet"
    pq.write_table(
        pa.table({name: [row[i] for row in PEOPLE] for i, name in enumerate(("姓名", "身份证号", "城市", "年龄"))}),
        people,
    )
    pq.write_table(
        pa.table({name: [row[i] for row in WEATHER] for i, name in enumerate(("城市", "日期", "气温"))}), weather
    )
    return [
        SqlTable(
            "open-people", people, [("姓名", "name"), ("身份证号", "id_number"), ("城市", "none"), ("年龄", "none")]
        ),
        SqlTable("weather-daily", weather, [("城市", "none"), ("日期", "none"), ("气温", "none")]),
    ]


def run(sql: str, tables: list[SqlTable], tmp_path: Path, seconds: float = 5.0) -> list[tuple[object, ...]]:
    return run_sql(sql, tables, temp_dir=tmp_path / "tmp", seconds=seconds).rows


HOSTILE = [
    ("SELECT * FROM read_csv('/etc/passwd')", "sql.not_allowed", "read_csv"),
    ("SELECT * FROM read_csv_auto('/etc/passwd')", "sql.not_allowed", "read_csv"),
    ("SELECT * FROM read_parquet('{people}')", "sql.not_allowed", "read_parquet"),
    ("SELECT * FROM '{people}'", "sql.unknown_table", "people.parquet"),
    ("SELECT * FROM '/etc/passwd'", "sql.unknown_table", "/etc/passwd"),
    ('SELECT * FROM "/etc/passwd"', "sql.unknown_table", "/etc/passwd"),
    ("SELECT * FROM read_text('/etc/passwd')", "sql.not_allowed", "read_text"),
    ("SELECT * FROM glob('/*')", "sql.not_allowed", "glob"),
    ("SET enable_external_access = true", "sql.not_select", "SET"),
    ("RESET lock_configuration", "sql.not_select", "RESET"),
    ("CREATE TABLE t AS SELECT 1", "sql.not_select", "CREATE"),
    ("CREATE TEMP VIEW v AS SELECT 1", "sql.not_select", "CREATE"),
    ("INSERT INTO \"open-people\" VALUES ('x', 'x', 'x', 1)", "sql.not_select", "INSERT"),
    ('DELETE FROM "open-people"', "sql.not_select", "DELETE"),
    ("COPY \"open-people\" TO '/tmp/people.csv'", "sql.not_select", "COPY"),
    ("COPY (SELECT 1) TO '/tmp/out.csv'", "sql.not_select", "COPY"),
    ("ATTACH '/tmp/other.db' AS other", "sql.not_select", "ATTACH"),
    ("DETACH memory", "sql.not_select", "DETACH"),
    ("PRAGMA database_list", "sql.not_select", "PRAGMA"),
    ("EXPORT DATABASE '/tmp/export'", "sql.syntax", "not valid SQL"),
    ("INSTALL httpfs", "sql.not_select", "INSTALL"),
    ("LOAD httpfs", "sql.not_select", "LOAD"),
    ("CALL pragma_version()", "sql.not_select", "CALL"),
    ('DESCRIBE "open-people"', "sql.not_select", "DESCRIBE"),
    ("SHOW TABLES", "sql.not_select", "SHOW"),
    ("USE memory", "sql.not_select", "USE"),
    ("VALUES (1)", "sql.not_select", "VALUES"),
    ("SELECT * FROM duckdb_settings()", "sql.not_allowed", "duckdb_settings"),
    ("SELECT * FROM duckdb_views()", "sql.not_allowed", "duckdb_views"),
    ("SELECT * FROM pragma_database_list()", "sql.not_allowed", "pragma_database_list"),
    ("SELECT * FROM duckdb_tables", "sql.unknown_table", "duckdb_tables"),
    ("SELECT * FROM information_schema.tables", "sql.unknown_table", "information_schema.tables"),
    ('SELECT * FROM memory.main."open-people"', "sql.unknown_table", "memory.main"),
    ("SELECT * FROM query('SELECT 1')", "sql.not_allowed", "query"),
    ("SELECT * FROM query_table('open-people')", "sql.not_allowed", "query_table"),
    ("SELECT getenv('HOME')", "sql.not_allowed", "getenv"),
    ("SELECT current_setting('threads')", "sql.not_allowed", "current_setting"),
    ("SELECT getvariable('x')", "sql.not_allowed", "getvariable"),
    ("SELECT main.getenv('HOME')", "sql.not_allowed", "getenv"),
    ("SELECT setseed(0.5)", "sql.not_allowed", "setseed"),
    ("SELECT mask_id_number('x')", "sql.not_allowed", "mask_id_number"),
    ("SELECT * FROM range(10)", "sql.not_allowed", "range"),
    ("SELECT unnest([1, 2])", "sql.not_allowed", "unnest"),
    ("SELECT list_transform([1], x -> x)", "sql.not_allowed", "transform"),
    ("SELECT ?", "sql.not_allowed", "?"),
    ("SELECT 1; SELECT 2", "sql.multiple_statements", "one SELECT"),
    ('SELECT 1; DROP TABLE "open-people"', "sql.multiple_statements", "one SELECT"),
    ("/* hidden */ SELECT getenv('HOME') -- trailing", "sql.not_allowed", "getenv"),
    ("SELECT 1 UNION ALL (SELECT current_setting('temp_directory'))", "sql.not_allowed", "current_setting"),
    ("SELECT (SELECT max(x) FROM read_parquet('{people}'))", "sql.not_allowed", "read_parquet"),
    ("WITH t AS (SELECT * FROM query('SELECT 1')) SELECT * FROM t", "sql.not_allowed", "query"),
    ('WITH "x.csv" AS (SELECT 1) SELECT * FROM "x.csv"', "sql.bad_name", "x.csv"),
    ('SELECT * FROM "open-people" AT (VERSION => 1)', "sql.not_allowed", "AT (VERSION => 1)"),
    ("SELECT * FROM raw_0123", "sql.unknown_table", "raw_0123"),
    ("SELEC 1", "sql.syntax", "not valid SQL"),
    ("   ", "sql.empty", "SELECT"),
    ("SELECT 1" + " " * 20_000, "sql.too_long", "20000"),
]


@pytest.mark.parametrize(("sql", "code", "named"), HOSTILE, ids=[case[0][:50] for case in HOSTILE])
def test_hostile_sql_is_refused_before_it_runs(
    sql: str, code: str, named: str, tables: list[SqlTable], tmp_path: Path
) -> None:
    sql = sql.replace("{people}", str(tables[0].parquet))
    with pytest.raises(InvalidInput) as refused:
        run(sql, tables, tmp_path)
    assert refused.value.code == code
    assert named in refused.value.render()
    assert not (tmp_path / "tmp").exists()  # refused before a DuckDB connection was even opened


def test_comments_cannot_smuggle_a_second_statement(tables: list[SqlTable], tmp_path: Path) -> None:
    assert run("SELECT 1 AS one -- */ ; SELECT getenv('HOME')", tables, tmp_path) == [(1,)]
    assert run("SELECT 2 AS two /* ; SELECT getenv('HOME') */", tables, tmp_path) == [(2,)]


def test_a_recursive_cte_bomb_hits_the_time_limit(tables: list[SqlTable], tmp_path: Path) -> None:
    bomb = "WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t) SELECT count(*) FROM t"
    with pytest.raises(InvalidInput) as stopped:
        run(bomb, tables, tmp_path, seconds=0.5)
    assert stopped.value.code == "sql.timeout" and "0.5" in stopped.value.render()
    assert list((tmp_path / "tmp").iterdir()) == []  # the spill directory is gone


def test_a_cross_join_bomb_hits_the_time_limit(tables: list[SqlTable], tmp_path: Path) -> None:
    joined = ", ".join(f'"open-people" p{i}' for i in range(30))
    with pytest.raises(InvalidInput) as stopped:
        run(f"SELECT count(*) FROM {joined}", tables, tmp_path, seconds=0.5)
    assert stopped.value.code == "sql.timeout"


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        (
            'SELECT count(*), sum("年龄"), avg("年龄"), min("年龄"), max("年龄"), median("年龄") FROM "open-people"',
            [(5, 218, 54.5, 34, 76, 54.0)],
        ),
        ("SELECT quantile_cont(年龄, 0.5), stddev(年龄) > 0, count(DISTINCT 城市) FROM open_people", [(54.0, True, 3)]),
        ("SELECT string_agg(城市, ',' ORDER BY 城市) FROM weather_daily", [("三亚,海口,海口",)]),
        (
            "SELECT p.城市, count(*), max(w.气温) FROM open_people p JOIN weather_daily w ON p.城市 = w.城市 "
            "GROUP BY p.城市 ORDER BY p.城市",
            [("三亚", 1, 28.0), ("海口", 6, 25.5)],
        ),
        (
            "SELECT 城市, 年龄, rank() OVER (PARTITION BY 城市 ORDER BY 年龄 DESC NULLS LAST) AS r, "
            "lag(年龄) OVER (ORDER BY 年龄) FROM open_people WHERE 城市 = '海口' ORDER BY 年龄",
            [("海口", 44, 3, None), ("海口", 64, 2, 44), ("海口", 76, 1, 64)],
        ),
        (
            "WITH old AS (SELECT * FROM open_people WHERE 年龄 > 50), counted AS (SELECT 城市, count(*) AS n "
            "FROM old GROUP BY ALL) SELECT * FROM counted ORDER BY n DESC",
            [("海口", 2)],
        ),
        (
            "SELECT 城市 FROM open_people WHERE 年龄 IS NULL UNION SELECT 城市 FROM weather_daily WHERE 气温 > 27 "
            "ORDER BY 1",
            [("三亚",), ("儋州",)],
        ),
        (
            "SELECT strftime(日期, '%Y-%m'), date_trunc('month', 日期)::date, extract(day FROM 日期), "
            "日期 + INTERVAL 1 DAY FROM weather_daily ORDER BY 日期 DESC, 城市 LIMIT 1",
            [("2024-01", "2024-01-01", 2, "2024-01-03T00:00:00")],
        ),
        (
            "SELECT upper('ab') || lower('CD'), length(城市), substr('海口市', 1, 2), coalesce(NULL, 3), "
            "CASE WHEN 1 > 0 THEN 'yes' END, round(2.456, 2), abs(-1), greatest(1, 2), regexp_matches('a1', '[0-9]')"
            " FROM weather_daily LIMIT 1",
            [("ABcd", 2, "海口", 3, "yes", 2.46, 1, 2, True)],
        ),
        ('SELECT "weather-daily".城市 FROM "weather-daily" WHERE 气温 = 28', [("三亚",)]),
        ("SELECT weather_daily.城市 FROM weather_daily WHERE 气温 = 28", [("三亚",)]),
        ("SELECT 1 + 1 AS two", [(2,)]),
    ],
)
def test_legitimate_queries_work(
    sql: str, expected: list[tuple[object, ...]], tables: list[SqlTable], tmp_path: Path
) -> None:
    assert run(sql, tables, tmp_path) == expected


def test_personal_fields_are_masked_and_filters_see_only_masked_text(tables: list[SqlTable], tmp_path: Path) -> None:
    ids = [str(r[0]) for r in run("SELECT 身份证号 FROM open_people", tables, tmp_path)]
    assert ids[0] == "1101**********002X" and all("*" in v for v in ids)
    assert [r[0] for r in run("SELECT 姓名 FROM open_people", tables, tmp_path)] == ["张*", "李*", "王*", "赵*", "钱*"]
    matched = run("SELECT 身份证号 FROM open_people WHERE 身份证号 LIKE '4601%'", tables, tmp_path)
    assert len(matched) == 4 and all(str(v[0]).startswith("4601****") for v in matched)
    for probe in [
        "SELECT count(*) FROM open_people WHERE 身份证号 = '11010519491231002X'",
        "SELECT count(*) FROM open_people WHERE 身份证号 LIKE '110105%'",
        "SELECT count(*) FROM open_people WHERE substr(身份证号, 7, 8) = '19491231'",
        "SELECT count(*) FROM open_people WHERE 姓名 = '张三' OR 姓名 LIKE '%三'",
        "SELECT count(*) FROM open_people WHERE contains(身份证号, '1990')",
        "SELECT count(*) FROM (SELECT CAST(身份证号 AS VARCHAR) AS v FROM open_people) WHERE v LIKE '%1949%'",
    ]:
        assert run(probe, tables, tmp_path) == [(0,)], probe
    everything = json.dumps(
        run(
            "SELECT string_agg(身份证号, ','), string_agg(姓名, ','), max(身份证号), min(姓名) FROM open_people",
            tables,
            tmp_path,
        ),
        ensure_ascii=False,
    )
    assert not any(raw in everything for raw in RAW_IDS + RAW_NAMES)


def test_the_row_cap_cuts_long_results_and_says_so(tables: list[SqlTable], tmp_path: Path) -> None:
    capped = run_sql("SELECT 年龄 FROM open_people", tables, row_cap=2, temp_dir=tmp_path / "tmp")
    assert capped.columns == ["年龄"] and capped.rows == [(76,), (34,)] and capped.truncated
    whole = run_sql("SELECT 年龄 FROM open_people", tables, row_cap=5, temp_dir=tmp_path / "tmp")
    assert len(whole.rows) == 5 and not whole.truncated and whole.elapsed_ms >= 0


def test_values_come_back_json_ready(tmp_path: Path) -> None:
    path = tmp_path / "kinds.parquet"
    pq.write_table(
        pa.table(
            {
                "d": [date(2024, 2, 29)],
                "ts": [datetime(2024, 2, 29, 8, 30)],
                "money": pa.array([Decimal("12.50")], pa.decimal128(10, 2)),
                "f": [float("nan")],
                "b": [b"\x00\x01"],
            }
        ),
        path,
    )
    table = SqlTable("kinds", path, [("d", "none"), ("ts", "none"), ("money", "none"), ("f", "none"), ("b", "none")])
    result = run_sql("SELECT *, [1, 2] AS l FROM kinds", [table], temp_dir=tmp_path / "tmp")
    assert result.rows == [("2024-02-29", "2024-02-29T08:30:00", 12.5, None, "AAE=", [1, 2])]
    json.dumps(result.rows, allow_nan=False)


def test_check_sql_names_the_datasets_read_and_resolves_underscore_aliases() -> None:
    names = ["weather-daily", "open-people", "other"]
    assert check_sql('SELECT * FROM weather_daily w JOIN "open-people" p ON w.城市 = p.城市', names) == {
        "weather-daily",
        "open-people",
    }
    assert check_sql("WITH weather_daily AS (SELECT 1 AS x) SELECT * FROM weather_daily", names) == set()
    assert check_sql("SELECT * FROM a_b", ["a-b", "a_b"]) == {"a_b"}  # an exact name wins over an alias
    with pytest.raises(InvalidInput) as ambiguous:
        check_sql("SELECT * FROM a_b_c", ["a-b_c", "a_b-c"])
    assert ambiguous.value.code == "sql.ambiguous_table"
    with pytest.raises(InvalidInput) as unknown:
        check_sql("SELECT * FROM nowhere", names)
    assert unknown.value.code == "sql.unknown_table" and "nowhere" in unknown.value.render()


# --- the second barrier: DuckDB itself, with no allow-list in front -----------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT * FROM read_parquet('{people}')",
        "SELECT * FROM '{people}'",
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM read_text('/etc/passwd')",
        "SELECT * FROM glob('/*')",
        "SET enable_external_access = true",
        "SET lock_configuration = false",
        "SET memory_limit = '100GB'",
        "SET allowed_paths = ['/etc/passwd']",
        "INSTALL httpfs",
        "LOAD httpfs",
        "ATTACH '{tmp}/other.db' AS other",
        "COPY (SELECT 1) TO '{tmp}/out.csv'",
        "EXPORT DATABASE '{tmp}/export'",
        "SELECT * FROM secret_frame",
    ],
)
def test_the_sandbox_refuses_files_settings_and_extensions_on_its_own(
    statement: str, tables: list[SqlTable], tmp_path: Path
) -> None:
    secret_frame = pa.table({"secret": ["raw"]})  # a Python variable a replacement scan could find
    assert secret_frame.num_rows == 1
    spill = tmp_path / "spill"
    spill.mkdir()
    connection = open_sandbox(tables, spill, seconds=5)
    try:
        assert connection.execute('SELECT 身份证号 FROM "open-people" LIMIT 1').fetchall() == [("1101**********002X",)]
        with pytest.raises(duckdb.Error):
            connection.execute(statement.format(people=tables[0].parquet, tmp=tmp_path)).fetchall()
    finally:
        connection.close()
    assert not (tmp_path / "out.csv").exists() and not (tmp_path / "export").exists()
    assert not (tmp_path / "other.db").exists()


# --- the catalogue: only open datasets, on SQLite and PostgreSQL -------------------------------------------------


def csv_file(path: Path, header: str, rows: Sequence[tuple[object, ...]]) -> Path:
    lines = [header] + [",".join("" if v is None else str(v) for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def publisher(database: Database, settings: Settings, make_user: UserFactory, tmp_path: Path) -> Actor:
    """A department that publishes open, conditionally open, closed and withdrawn datasets."""
    actor = make_user("gongan", "dept_staff", department=POLICE)
    people = csv_file(tmp_path / "people.csv", "姓名,身份证号,城市,年龄", PEOPLE)
    weather = csv_file(tmp_path / "weather.csv", "城市,日期,气温", WEATHER)
    for name, open_type, source in (
        ("open-people", "unconditional", people),
        ("weather-daily", "unconditional", weather),
        ("closed-people", "none", people),
        ("sandbox-people", "conditional", people),
        ("withdrawn", "unconditional", weather),
    ):
        with database.session() as session:
            service.create_dataset(
                session,
                actor,
                service.DatasetInput(name=name, title=name, department=POLICE, open_type=open_type),
            )
        service.ingest_version(database, actor, settings.data_dir, name, source)
    with database.session() as session:
        empty = service.DatasetInput(name="empty-open", title="无数据", department=POLICE, open_type="unconditional")
        service.create_dataset(session, actor, empty)
        service.delete_dataset(session, actor, "withdrawn")
    return actor


def query(database: Database, settings: Settings, actor: Actor, sql: str) -> list[tuple[object, ...]]:
    with database.read_session() as session:
        return query_open_data(session, actor, settings.data_dir, sql).rows


def test_anyone_joins_two_open_datasets(database: Database, settings: Settings, publisher: Actor) -> None:
    sql = (
        'SELECT p.城市, count(*) AS n FROM open_people p JOIN "weather-daily" w ON p.城市 = w.城市 '
        "GROUP BY p.城市 ORDER BY p.城市"
    )
    assert query(database, settings, Actor.anonymous(), sql) == [("三亚", 1), ("海口", 6)]


def test_personal_fields_stay_masked_even_for_the_publisher(
    database: Database, settings: Settings, publisher: Actor
) -> None:
    rows = query(database, settings, publisher, "SELECT 姓名, 身份证号 FROM open_people WHERE 身份证号 LIKE '1101%'")
    assert rows == [("张*", "1101**********002X")]
    probe = "SELECT count(*) FROM open_people WHERE 身份证号 = '11010519491231002X' OR 姓名 = '张三'"
    assert query(database, settings, publisher, probe) == [(0,)]


@pytest.mark.parametrize("name", ["closed-people", "sandbox-people", "withdrawn", "empty-open", "no-such-thing"])
def test_only_open_datasets_with_data_can_be_queried_and_others_look_unknown(
    database: Database, settings: Settings, publisher: Actor, name: str
) -> None:
    for actor in (Actor.anonymous(), publisher):
        with pytest.raises(InvalidInput) as refused:
            query(database, settings, actor, f'SELECT count(*) FROM "{name}"')
        assert refused.value.code == "sql.unknown_table"
        assert refused.value.render() == f"There is no open dataset called {name}"


# --- HTTP ------------------------------------------------------------------------------------------------------


def test_the_http_route_answers_anonymous_get_and_post(client: TestClient, publisher: Actor) -> None:
    response = client.get("/api/v1/sql", params={"sql": "SELECT 城市, 年龄 FROM open_people ORDER BY 年龄 LIMIT 2"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["columns"] == ["城市", "年龄"] and body["rows"] == [["三亚", 34], ["海口", 44]]
    assert body["truncated"] is False and isinstance(body["elapsed_ms"], float)
    posted = client.post("/api/v1/sql", json={"sql": "SELECT 日期, 气温 FROM weather_daily ORDER BY 日期, 2 LIMIT 1"})
    assert posted.status_code == 200 and posted.json()["rows"] == [["2024-01-01", 25.5]]
    five = ", ".join(f"open_people p{i}" for i in range(5))  # 5⁵ rows, over the cap of 1000
    capped = client.post("/api/v1/sql", json={"sql": f"SELECT p0.姓名 FROM {five}"}).json()
    assert len(capped["rows"]) == 1000 and capped["truncated"] is True


@pytest.mark.parametrize(
    ("sql", "code"),
    [
        ("SELECT getenv('HOME')", "sql.not_allowed"),
        ('SELECT * FROM "closed-people"', "sql.unknown_table"),
        ("DROP TABLE open_people", "sql.not_select"),
        ("SELECT nope FROM open_people", "sql.failed"),
        ("SELECT (1", "sql.syntax"),
    ],
)
def test_refused_queries_get_the_error_envelope(client: TestClient, publisher: Actor, sql: str, code: str) -> None:
    response = client.get("/api/v1/sql", params={"sql": sql, "lang": "en"})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == code and error["message"]


def test_error_messages_are_translated(client: TestClient) -> None:
    response = client.post("/api/v1/sql", json={"sql": "SELECT getenv('HOME')"}, headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 422 and response.json()["error"]["message"] == "此处不允许使用函数 getenv"
