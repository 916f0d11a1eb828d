"""The catalogue over HTTP: find, read, publish, upload (with size limits), classify; and its pages."""

from __future__ import annotations

import pytest
from factories import UserFactory, token_for
from fastapi.testclient import TestClient

from yiwang.core.db import Database
from yiwang.core.settings import Settings
from yiwang.web.app import create_app

POLICE = "海南省公安厅"
CSV = "姓名,身份证号,年龄\n张三,11010519491231002X,76\n李四,460100199001011237,34\n".encode("gbk")


@pytest.fixture
def staff_token(database: Database, make_user: UserFactory) -> str:
    make_user("gongan", "dept_staff", department=POLICE)
    return token_for(database, "gongan")


def create(client: TestClient, token: str, name: str = "household", **extra: object) -> dict[str, object]:
    response = client.post(
        "/api/v1/datasets",
        headers={"Authorization": token},
        json={"name": name, "title": "户籍人口", "department": POLICE, **extra},
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_publish_upload_and_read_back(client: TestClient, staff_token: str) -> None:
    create(client, staff_token, tags=["人口"])
    upload = client.post(
        "/api/v1/datasets/household/versions",
        headers={"Authorization": staff_token},
        files={"file": ("人口.csv", CSV, "text/csv")},
    )
    assert upload.status_code == 201, upload.text
    assert upload.json()["number"] == 1 and upload.json()["encoding"] == "gb18030"
    detail = client.get("/api/v1/datasets/household", headers={"Authorization": staff_token}).json()
    assert detail["tags"] == ["人口"] and detail["versions"][0]["row_count"] == 2
    assert {f["name"]: f["kind"] for f in detail["fields"]}["身份证号"] == "id_number"
    assert detail["quality"]["row_count"] == 2


def test_anonymous_visitors_see_only_open_datasets(client: TestClient, staff_token: str) -> None:
    create(client, staff_token, "closed")
    create(client, staff_token, "open-one", open_type="unconditional")
    listed = client.get("/api/v1/datasets").json()
    assert [d["name"] for d in listed["datasets"]] == ["open-one"]
    assert client.get("/api/v1/datasets/closed").status_code == 404
    assert client.get("/api/v1/datasets", headers={"Authorization": "yw_wrong"}).status_code == 401


def test_a_malformed_upload_is_a_clear_422_and_changes_nothing(client: TestClient, staff_token: str) -> None:
    create(client, staff_token)
    response = client.post(
        "/api/v1/datasets/household/versions",
        headers={"Authorization": staff_token},
        files={"file": ("x.json", b'[{"a": 1}, {"a"', "application/json")},
    )
    assert response.status_code == 422 and response.json()["error"]["code"].startswith("ingest.")
    assert client.get("/api/v1/datasets/household", headers={"Authorization": staff_token}).json()["versions"] == []


def test_an_oversized_upload_is_refused_with_413(
    settings: Settings, database: Database, make_user: UserFactory
) -> None:
    make_user("gongan", "dept_staff", department=POLICE)
    token = token_for(database, "gongan")
    small = settings.model_copy(update={"max_upload_mb": 1})
    with TestClient(create_app(small)) as client:
        create(client, token)
        response = client.post(
            "/api/v1/datasets/household/versions",
            headers={"Authorization": token},
            files={"file": ("big.csv", b"a\n" + b"1\n" * 600_000, "text/csv")},
        )
        assert response.status_code == 413 and response.json()["error"]["code"] == "upload.too_large"
        assert client.get("/api/v1/datasets/household", headers={"Authorization": token}).json()["versions"] == []
    assert not list((settings.data_dir / "tmp" / "uploads").glob("*"))


def test_only_admins_classify(client: TestClient, database: Database, staff_token: str, make_user: UserFactory) -> None:
    create(client, staff_token)
    body = {"share_type": "unconditional", "open_type": "unconditional", "security_level": "general"}
    assert (
        client.put(
            "/api/v1/datasets/household/classification", headers={"Authorization": staff_token}, json=body
        ).status_code
        == 403
    )
    make_user("admin", "admin")
    admin = token_for(database, "admin")
    answer = client.put("/api/v1/datasets/household/classification", headers={"Authorization": admin}, json=body)
    assert answer.status_code == 200 and answer.json()["open_type"] == "unconditional"
    core = {**body, "security_level": "core"}
    refused = client.put("/api/v1/datasets/household/classification", headers={"Authorization": admin}, json=core)
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "dataset.core_not_open"


def test_the_catalogue_pages(client: TestClient, staff_token: str) -> None:
    create(client, staff_token, "open-one", open_type="unconditional", description="海南旅游统计")
    client.post(
        "/api/v1/datasets/open-one/versions",
        headers={"Authorization": staff_token},
        files={"file": ("a.csv", CSV, "text/csv")},
    )
    listing = client.get("/datasets?q=旅游")
    assert listing.status_code == 200 and "/datasets/open-one" in listing.text
    assert "/datasets/open-one" not in client.get("/datasets?q=不存在的词").text
    page = client.get("/datasets/open-one?lang=en")
    assert page.status_code == 200 and 'data-testid="field-身份证号"' in page.text and "ID number" in page.text
    assert "data-chart=" in page.text and 'data-testid="quality-score"' in page.text
    assert 'data-testid="quality-table"' in page.text and "citizen_id" in page.text
    assert client.get("/datasets/nothing-here").status_code == 404
