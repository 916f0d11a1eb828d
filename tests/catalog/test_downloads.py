"""Downloads as CSV (UTF-8 with BOM), JSON and Parquet: content, masking, versions, rules and audit."""

from __future__ import annotations

import csv
import io
import json

import pyarrow.parquet as pq
import pytest
from factories import UserFactory, token_for
from fastapi.testclient import TestClient

from yiwang.catalog import downloads
from yiwang.core import audit
from yiwang.core.db import Database
from yiwang.core.identity import Actor

MARKET = "海南省市场监督管理局"
CSV = "名称,类型,联系电话\n甲公司,有限公司,13800138000\n乙公司,个体,13912345678\n丙公司,有限公司,\n"


@pytest.fixture
def token(database: Database, make_user: UserFactory) -> str:
    make_user("shichang", "dept_staff", department=MARKET)
    make_user("gongan", "dept_staff", department="海南省公安厅")
    return token_for(database, "shichang")


def publish(client: TestClient, token: str, name: str, open_type: str, content: str = CSV) -> None:
    created = client.post(
        "/api/v1/datasets",
        headers={"Authorization": token},
        json={"name": name, "title": "企业", "department": MARKET, "open_type": open_type},
    )
    assert created.status_code == 201, created.text
    uploaded = client.post(
        f"/api/v1/datasets/{name}/versions",
        headers={"Authorization": token},
        files={"file": ("企业.csv", content.encode("gbk"), "text/csv")},
    )
    assert uploaded.status_code == 201, uploaded.text


def test_csv_has_a_bom_chinese_text_and_masked_phones(client: TestClient, token: str) -> None:
    publish(client, token, "firms", "unconditional")
    response = client.get("/datasets/firms/download.csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert "firms-v1.csv" in response.headers["content-disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [r["名称"] for r in rows] == ["甲公司", "乙公司", "丙公司"]
    assert "13800138000" not in response.text and rows[0]["联系电话"].startswith("138")
    own = client.get("/datasets/firms/download.csv", headers={"Authorization": token})
    assert "13800138000" in own.content.decode("utf-8-sig"), "the publisher downloads its own data raw"


def test_json_and_parquet_carry_the_same_rows(client: TestClient, token: str) -> None:
    publish(client, token, "firms", "unconditional")
    as_json = client.get("/datasets/firms/download.json")
    assert as_json.status_code == 200
    records = json.loads(as_json.content)
    assert [r["名称"] for r in records] == ["甲公司", "乙公司", "丙公司"]
    as_parquet = client.get("/datasets/firms/download.parquet")
    table = pq.read_table(io.BytesIO(as_parquet.content))
    assert table.column("名称").to_pylist() == ["甲公司", "乙公司", "丙公司"]
    assert "13800138000" not in [str(v) for v in table.column("联系电话").to_pylist()]


def test_earlier_versions_stay_downloadable(client: TestClient, token: str) -> None:
    publish(client, token, "firms", "unconditional")
    client.post(
        "/api/v1/datasets/firms/versions",
        headers={"Authorization": token},
        files={"file": ("v2.csv", "名称,类型\n丁公司,个体\n".encode(), "text/csv")},
    )
    assert "丁公司" in client.get("/datasets/firms/download.csv").content.decode("utf-8-sig")
    first = client.get("/datasets/firms/download.csv", params={"version": 1}).content.decode("utf-8-sig")
    assert "甲公司" in first and "丁公司" not in first
    assert client.get("/datasets/firms/download.csv", params={"version": 9}).status_code == 404


def test_rules_errors_and_audit(client: TestClient, database: Database, token: str) -> None:
    publish(client, token, "closed", "none")
    assert client.get("/datasets/closed/download.csv").status_code in (302, 303, 307, 401, 404)
    other = token_for(database, "gongan")
    assert client.get("/datasets/closed/download.csv", headers={"Authorization": other}).status_code == 403
    assert client.get("/datasets/closed/download.xlsx", headers={"Authorization": token}).status_code == 422
    assert client.get("/datasets/closed/download.csv", headers={"Authorization": token}).status_code == 200
    with database.session() as session:
        entries = audit.search(session, Actor.operator(), audit.AuditFilter(action="dataset.download")).entries
    assert [e.actor_name for e in entries] == ["shichang"]


def test_a_large_download_streams_in_batches(client: TestClient, token: str, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = "".join(f"公司{i},有限公司,\n" for i in range(2500))
    publish(client, token, "many", "unconditional", "名称,类型,联系电话\n" + rows)
    monkeypatch.setattr(downloads, "BATCH_ROWS", 1000)
    with client.stream("GET", "/datasets/many/download.parquet") as response:
        chunks = [chunk for chunk in response.iter_raw() if chunk]
    assert len(chunks) >= 3
    assert pq.read_table(io.BytesIO(b"".join(chunks))).num_rows == 2500
    csv_rows = client.get("/datasets/many/download.csv").content.decode("utf-8-sig").splitlines()
    assert len(csv_rows) == 2501
