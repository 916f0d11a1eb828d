"""The row API: filters, sort, keyset paging, facets, masking of personal fields, audit of non-open reads; and the
same reads on one shared analytics database, as the app makes them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from factories import UserFactory, token_for
from fastapi.testclient import TestClient
from sqlalchemy import select

from yiwang.catalog.models import DatasetField, DatasetVersion
from yiwang.catalog.rows import RowAccess, parse_query, read_rows
from yiwang.core.analytics import Analytics
from yiwang.core.db import Database
from yiwang.core.errors import InvalidInput
from yiwang.core.models import AuditEntry

POLICE = "海南省公安厅"
PEOPLE = (
    "姓名,身份证号,城市,年龄\n"
    "张三,11010519491231002X,海口,76\n李四,460100199001011237,三亚,34\n王五,460100198001011233,海口,44\n"
    "赵六,460100197001011235,儋州,\n钱七,460100196001011231,海口,64\n"
).encode("gbk")


@pytest.fixture
def tokens(client: TestClient, database: Database, make_user: UserFactory) -> dict[str, str]:
    make_user("gongan", "dept_staff", department=POLICE)
    make_user("shichang", "dept_staff", department="海南省市场监督管理局")
    make_user("shimin", "citizen")
    tokens = {name: token_for(database, name) for name in ("gongan", "shichang", "shimin")}
    owner = {"Authorization": tokens["gongan"]}
    for name, open_type, share_type in (
        ("people", "none", "conditional"),
        ("open-people", "unconditional", "unconditional"),
    ):
        created = client.post(
            "/api/v1/datasets",
            headers=owner,
            json={
                "name": name,
                "title": "人员",
                "department": POLICE,
                "open_type": open_type,
                "share_type": share_type,
            },
        )
        assert created.status_code == 201, created.text
        upload = client.post(
            f"/api/v1/datasets/{name}/versions", headers=owner, files={"file": ("p.csv", PEOPLE, "text/csv")}
        )
        assert upload.status_code == 201, upload.text
    return tokens


def rows(client: TestClient, name: str, token: str | None = None, **params: object) -> dict[str, object]:
    headers = {"Authorization": token} if token else {}
    response = client.get(f"/api/v1/datasets/{name}/rows", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_the_publisher_reads_raw_rows_with_filters_and_sort(client: TestClient, tokens: dict[str, str]) -> None:
    page = rows(client, "people", tokens["gongan"], 城市="海口", _sort_desc="年龄", _fields="姓名,身份证号,年龄")
    assert page["columns"] == ["姓名", "身份证号", "年龄"] and page["total"] == 3 and page["masked"] == []
    assert [r["姓名"] for r in page["rows"]] == ["张三", "钱七", "王五"]  # type: ignore[index, union-attr]
    assert page["rows"][0]["身份证号"] == "11010519491231002X"  # type: ignore[index]
    assert rows(client, "people", tokens["gongan"], 年龄__gte="44", 年龄__lt="70")["total"] == 2
    assert rows(client, "people", tokens["gongan"], 年龄__isnull="1")["total"] == 1
    assert rows(client, "people", tokens["gongan"], 城市__in="三亚,儋州")["total"] == 2
    assert rows(client, "people", tokens["gongan"], 姓名__contains="三")["total"] == 1


def test_keyset_paging_walks_every_row_once(client: TestClient, tokens: dict[str, str]) -> None:
    for sort in ({}, {"_sort": "年龄"}, {"_sort_desc": "年龄"}):
        seen, cursor = [], None
        while True:
            params = {"_size": 2, **sort, **({"_next": cursor} if cursor else {})}
            page = rows(client, "people", tokens["gongan"], **params)
            seen += [r["姓名"] for r in page["rows"]]  # type: ignore[union-attr, index]
            cursor = page["next"]  # type: ignore[assignment]
            if cursor is None:
                break
        assert sorted(seen) == sorted(["张三", "李四", "王五", "赵六", "钱七"]), sort


def test_facets_count_values(client: TestClient, tokens: dict[str, str]) -> None:
    page = rows(client, "people", tokens["gongan"], _facet="城市", _size=1)
    assert page["facets"] == {"城市": [["海口", 3], ["三亚", 1], ["儋州", 1]]}


def test_open_data_is_masked_for_the_public_and_personal_filters_are_refused(
    client: TestClient, tokens: dict[str, str]
) -> None:
    page = rows(client, "open-people")
    assert set(page["masked"]) >= {"姓名", "身份证号"}  # type: ignore[arg-type]
    first = page["rows"][0]  # type: ignore[index]
    assert first["身份证号"] == "1101**********002X" and first["姓名"] == "张*"
    probe = client.get("/api/v1/datasets/open-people/rows", params={"身份证号": "11010519491231002X"})
    assert probe.status_code == 422 and probe.json()["error"]["code"] == "rows.personal_filter"


def test_restricted_rows_are_refused_to_others_and_reads_are_audited(
    client: TestClient, database: Database, tokens: dict[str, str]
) -> None:
    assert client.get("/api/v1/datasets/people/rows").status_code == 404  # not visible to the public at all
    assert client.get("/api/v1/datasets/people/rows", headers={"Authorization": tokens["shichang"]}).status_code == 403
    rows(client, "people", tokens["gongan"], _size=2)
    rows(client, "open-people")
    with database.read_session() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "dataset.read_rows")).all()
    assert [(e.actor_name, e.resource_id, e.result) for e in entries] == [
        ("shichang", "people", "denied"),
        ("gongan", "people", "success"),
    ]
    assert json.loads(entries[1].detail)["rows"] == 2


@pytest.mark.parametrize(
    "params, code",
    [
        ({"nope": "1"}, "rows.unknown_field"),
        ({"年龄__near": "1"}, "rows.bad_operator"),
        ({"_size": "5000"}, "rows.bad_size"),
        ({"_next": "garbage!"}, "rows.bad_cursor"),
        ({"年龄__gt": "old"}, "rows.bad_value"),
        ({"_sql": "select 1"}, "rows.bad_parameter"),
        ({'城市" OR 1=1 --': "x"}, "rows.unknown_field"),
    ],
)
def test_bad_row_queries_get_a_clear_422(
    client: TestClient, tokens: dict[str, str], params: dict[str, str], code: str
) -> None:
    response = client.get("/api/v1/datasets/people/rows", params=params, headers={"Authorization": tokens["gongan"]})
    assert response.status_code == 422 and response.json()["error"]["code"] == code


# ---- reading on a shared analytics database (as the app does) -------------------------------------------------


@pytest.fixture
def analytics() -> Iterator[Analytics]:
    with Analytics(threads=1) as opened:
        yield opened


def write_people(path: Path, ages: list[int | None]) -> DatasetVersion:
    """A Parquet file of people aged `ages`, in that order, and a version whose fields describe it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.table({"姓名": [f"人{i}" for i in range(len(ages))], "年龄": pa.array(ages, pa.int64())})
    pq.write_table(table, path, row_group_size=3)  # several row groups, so pages cross them
    return DatasetVersion(
        fields=[
            DatasetField(name="姓名", type="VARCHAR", kind="name", position=0),
            DatasetField(name="年龄", type="BIGINT", kind="none", position=1),
        ]
    )


def test_pages_in_file_order_walk_the_matching_rows_once_in_order(analytics: Analytics, tmp_path: Path) -> None:
    ages = [30, None, 41, 52, 18, 41, 63, 41, 29, 41, 70]
    version = write_people(tmp_path / "data.parquet", ages)
    matching = [n for n, age in enumerate(ages) if age is not None and age >= 30]
    seen: list[int] = []
    token: str | None = None
    while True:
        params = [("年龄__gte", "30"), ("_size", "2"), *([("_next", token)] if token else [])]
        page = read_rows(
            analytics,
            tmp_path / "data.parquet",
            version,
            parse_query(params),
            RowAccess.catalogue(version, raw_allowed=False),
        )
        assert page.total == len(matching) and page.masked == ["姓名"]
        assert all(set(row["姓名"][1:]) == {"*"} for row in page.rows)  # masked: "人1" shows as "人*"
        assert [row["年龄"] for row in page.rows] == [ages[n] for n in page.row_numbers]
        seen += page.row_numbers
        token = page.next
        if token is None:
            break
    assert seen == matching


def test_a_new_file_is_counted_afresh(analytics: Analytics, tmp_path: Path) -> None:
    path = tmp_path / "data.parquet"
    version = write_people(path, [30, 40, 50])
    assert (
        read_rows(
            analytics, path, version, parse_query([("年龄__gt", "35")]), RowAccess.catalogue(version, raw_allowed=True)
        ).total
        == 2
    )
    version = write_people(path, [30, 40, 50, 60, 70])  # the same path with other rows: the remembered count is stale
    page = read_rows(
        analytics, path, version, parse_query([("年龄__gt", "35")]), RowAccess.catalogue(version, raw_allowed=True)
    )
    assert page.total == 4 and [row["年龄"] for row in page.rows] == [40, 50, 60, 70]


def test_facets_and_totals_follow_the_filter_on_a_shared_database(analytics: Analytics, tmp_path: Path) -> None:
    path = tmp_path / "data.parquet"
    version = write_people(path, [41, 30, 41, None, 30, 41])
    every = read_rows(
        analytics,
        path,
        version,
        parse_query([("_facet", "年龄"), ("_size", "1")]),
        RowAccess.catalogue(version, raw_allowed=True),
    )
    assert every.total == 6 and every.facets == {"年龄": [(41, 3), (30, 2), (None, 1)]}
    some = read_rows(
        analytics,
        path,
        version,
        parse_query([("年龄__lt", "41"), ("_facet", "年龄")]),
        RowAccess.catalogue(version, raw_allowed=True),
    )
    assert some.total == 2 and some.facets == {"年龄": [(30, 2)]}
    with pytest.raises(InvalidInput) as refused:
        read_rows(
            analytics, path, version, parse_query([("_facet", "姓名")]), RowAccess.catalogue(version, raw_allowed=False)
        )
    assert refused.value.code == "rows.personal_filter"


def test_a_read_past_the_time_limit_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "data.parquet"
    ages = pa.array(range(3_000_000), pa.int64())
    pq.write_table(pa.table({"姓名": pa.array(["人"] * len(ages)), "年龄": ages}), path)
    version = write_people(tmp_path / "unused.parquet", [1])
    with Analytics(threads=1, query_seconds=0.001) as hurried, pytest.raises(InvalidInput) as refused:
        read_rows(
            hurried,
            path,
            version,
            parse_query([("_facet", "年龄"), ("_sort_desc", "年龄")]),
            RowAccess.catalogue(version, raw_allowed=True),
        )
    assert refused.value.code == "rows.timeout"
