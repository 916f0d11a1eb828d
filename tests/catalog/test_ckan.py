"""The CKAN Action API over HTTP on both databases: envelopes, parameter forms, actions, rules and audit."""

from __future__ import annotations

import json
from typing import Any

import pytest
from factories import UserFactory, token_for
from fastapi.testclient import TestClient

from yiwang.core import audit
from yiwang.core.db import Database
from yiwang.core.identity import Actor

POLICE, MARKET = "海南省公安厅", "海南省市场监督管理局"
CSV = "名称,类型,注册资本,联系电话\n甲公司,有限公司,100,13800138000\n乙公司,个体,5,13912345678\n丙公司,有限公司,300,\n"


@pytest.fixture
def tokens(database: Database, make_user: UserFactory) -> dict[str, str]:
    make_user("admin", "admin")
    make_user("shichang", "dept_staff", department=MARKET)
    make_user("gongan", "dept_staff", department=POLICE)
    make_user("qiye", "enterprise")
    return {name: token_for(database, name) for name in ("admin", "shichang", "gongan", "qiye")}


def call(client: TestClient, action: str, token: str | None = None, /, **data: Any) -> dict[str, Any]:
    headers = {"Authorization": token} if token else {}
    body: dict[str, Any] = client.post(f"/api/action/{action}", json=data, headers=headers).json()
    return body


def ok(client: TestClient, action: str, token: str | None = None, /, **data: Any) -> Any:
    body = call(client, action, token, **data)
    assert body["success"] is True, body
    return body["result"]


def publish(client: TestClient, token: str, name: str, open_type: str = "unconditional", **extra: Any) -> str:
    created = ok(
        client,
        "package_create",
        token,
        name=name,
        title=extra.pop("title", "企业登记"),
        owner_org=MARKET,
        open_type=open_type,
        share_type="unconditional",
        **extra,
    )
    upload = client.post(
        "/api/3/action/resource_create",
        headers={"Authorization": token},
        data={"package_id": created["id"], "name": "第一版"},
        files={"upload": ("企业.csv", CSV.encode("gbk"), "text/csv")},
    )
    assert upload.json()["success"] is True, upload.text
    return str(upload.json()["result"]["id"])


def test_every_answer_is_an_envelope(client: TestClient, tokens: dict[str, str]) -> None:
    shown = client.get("/api/3/action/status_show")
    assert shown.status_code == 200 and shown.json()["success"] is True
    assert shown.json()["help"].endswith("/api/3/action/help_show?name=status_show")
    cases = [
        (client.get("/api/3/action/package_show", params={"id": "missing"}), 404, "Not Found Error"),
        (
            client.post("/api/action/package_create", json={"name": "x", "owner_org": MARKET}),
            403,
            "Authorization Error",
        ),
        (client.get("/api/3/action/package_search", params={"fq": "bogus:1"}), 400, "Search Query Error"),
        (
            client.post(
                "/api/action/package_create",
                json={"name": "Bad Name!", "owner_org": MARKET},
                headers={"Authorization": tokens["shichang"]},
            ),
            409,
            "Validation Error",
        ),
        (client.get("/api/3/action/nothing_like_this"), 400, "Bad Request"),
        (client.get("/api/3/action/package_create"), 400, "Bad Request"),
        (
            client.post("/api/action/package_show", content=b"{not json", headers={"Content-Type": "application/json"}),
            409,
            "Validation Error",
        ),
    ]
    for response, status, kind in cases:
        body = response.json()
        assert (response.status_code, body["success"], body["error"]["__type"]) == (status, False, kind), body
        assert "Traceback" not in response.text


def test_validation_errors_name_the_field(client: TestClient, tokens: dict[str, str]) -> None:
    publish(client, tokens["shichang"], "firms")
    again = call(client, "package_create", tokens["shichang"], name="firms", owner_org=MARKET)
    assert again["error"]["__type"] == "Validation Error" and again["error"]["name"]
    missing = call(client, "package_create", tokens["shichang"], title="x", owner_org=MARKET)
    assert missing["error"]["name"] == ["缺少值"]  # CKAN's "Missing value", in the caller's language
    core_open = call(
        client,
        "package_create",
        tokens["shichang"],
        name="core-one",
        owner_org=MARKET,
        security_level="core",
        open_type="unconditional",
    )
    assert "open_type" in core_open["error"]


def test_get_parameters_are_strings_and_repeated_keys_lists(client: TestClient, tokens: dict[str, str]) -> None:
    publish(client, tokens["shichang"], "firms", tags=[{"name": "企业"}, {"name": "注册资本"}])
    publish(client, tokens["shichang"], "halls", title="政务服务大厅", tags=[{"name": "大厅"}])
    found = client.get(
        "/api/3/action/package_search",
        params=[("q", "企业"), ("rows", "5"), ("facet.field", '["tags","organization"]'), ("ignored", "x")],
    ).json()["result"]
    assert [p["name"] for p in found["results"]] == ["firms"]
    assert found["facets"]["tags"] == {"企业": 1, "注册资本": 1}
    rows = client.get(
        "/api/3/action/datastore_search",
        params=[("resource_id", found["results"][0]["resources"][0]["id"]), ("fields", "名称"), ("fields", "类型")],
    ).json()["result"]
    assert [f["id"] for f in rows["fields"]] == ["_id", "名称", "类型"]
    assert set(rows["records"][0]) == {"_id", "名称", "类型"}


def test_package_search_paging_sorting_and_private(client: TestClient, tokens: dict[str, str]) -> None:
    for i in range(5):
        publish(client, tokens["shichang"], f"set-{i}")
    publish(client, tokens["shichang"], "closed", open_type="none")
    everything = ok(client, "package_search", rows=1000)
    assert everything["count"] == 5 and "closed" not in {p["name"] for p in everything["results"]}
    paged = [
        p["id"]
        for start in range(0, 5, 2)
        for p in ok(client, "package_search", rows=2, start=start, sort="id asc")["results"]
    ]
    assert paged == sorted(p["id"] for p in everything["results"])
    assert ok(client, "package_search", tokens["gongan"], rows=1000)["count"] == 5
    with_private = ok(client, "package_search", tokens["gongan"], include_private=True, rows=1000)
    assert with_private["count"] == 6 and any(p["private"] for p in with_private["results"])
    assert ok(client, "package_search", include_private=True, rows=1000)["count"] == 5  # anonymous: still only open
    assert ok(client, "package_search", rows=5000)["count"] == 5  # rows above 1000 are capped, as CKAN does
    newest = ok(client, "package_search", sort="metadata_modified desc", rows=1)["results"][0]["name"]
    assert newest == "set-4"


def test_package_dict_and_datastore(client: TestClient, tokens: dict[str, str]) -> None:
    resource_id = publish(client, tokens["shichang"], "firms", groups=[{"name": "economy"}], license_id="CC-BY-4.0")
    package = ok(client, "package_show", id="firms")
    assert package["organization"]["name"] == MARKET and package["groups"][0]["name"] == "economy"
    assert package["license_url"].startswith("https://creativecommons.org/") and package["isopen"] is True
    assert package["resources"][0]["id"] == resource_id and package["num_resources"] == 1
    assert ok(client, "package_show", id=package["id"])["name"] == "firms"
    assert ok(client, "resource_show", id=resource_id)["name"] == "第一版"
    fields = ok(client, "datastore_search", resource_id=resource_id, limit=0)
    assert fields["records"] == [] and fields["total"] == 3
    assert {f["id"]: f["info"]["kind"] for f in fields["fields"][1:]}["联系电话"] == "phone"
    text = ok(client, "datastore_search", resource_id=resource_id, q="有限")
    assert text["total"] == 2
    by_phone = ok(client, "datastore_search", resource_id=resource_id, q="13800138000")
    assert by_phone["total"] == 0, "the public cannot search personal fields"
    filtered = ok(
        client,
        "datastore_search",
        resource_id=resource_id,
        filters={"类型": ["个体", "有限公司"]},
        sort="注册资本 desc",
    )
    assert [r["名称"] for r in filtered["records"]] == ["丙公司", "甲公司", "乙公司"]
    assert "13800138000" not in json.dumps(filtered["records"])
    own = ok(client, "datastore_search", tokens["shichang"], resource_id=resource_id, filters={"名称": "甲公司"})
    assert str(own["records"][0]["联系电话"]) == "13800138000", "the publisher sees its own data raw"
    assert ok(client, "resource_view_list", id=resource_id)[0]["view_type"] == "datatables_view"


def test_a_second_upload_is_a_new_current_resource(client: TestClient, tokens: dict[str, str]) -> None:
    first = publish(client, tokens["shichang"], "firms")
    second = client.post(
        "/api/action/resource_patch",
        headers={"Authorization": tokens["shichang"]},
        data={"id": first},
        files={"upload": ("v2.csv", "名称,类型\n丁公司,有限公司\n".encode(), "text/csv")},
    ).json()["result"]
    package = ok(client, "package_show", id="firms")
    assert [r["id"] for r in package["resources"]] == [second["id"], first]
    assert package["resources"][0]["is_current"] and not package["resources"][1]["is_current"]
    assert ok(client, "datastore_search", resource_id=first)["total"] == 3, "earlier versions stay readable"
    renamed = ok(client, "resource_patch", tokens["shichang"], id=second["id"], name="第二版")
    assert renamed["name"] == "第二版"


def test_update_patch_classify_delete(client: TestClient, database: Database, tokens: dict[str, str]) -> None:
    publish(client, tokens["shichang"], "firms", tags=[{"name": "企业"}], notes="旧说明")
    patched = ok(client, "package_patch", tokens["shichang"], id="firms", notes="新说明")
    assert patched["notes"] == "新说明" and [t["name"] for t in patched["tags"]] == ["企业"]
    updated = ok(client, "package_update", tokens["shichang"], id="firms", title="新标题")
    assert updated["title"] == "新标题" and updated["tags"] == [] and updated["notes"] == ""
    refused = call(client, "package_patch", tokens["shichang"], id="firms", open_type="none")
    assert refused["error"]["__type"] == "Authorization Error"
    classified = ok(client, "package_patch", tokens["admin"], id="firms", open_type="none", security_level="important")
    assert classified["private"] is True and classified["security_level"] == "important"
    other = call(client, "package_delete", tokens["gongan"], id="firms")
    assert other["error"]["__type"] == "Authorization Error"
    assert ok(client, "package_delete", tokens["shichang"], id="firms") is None
    assert call(client, "package_show", tokens["admin"], id="firms")["error"]["__type"] == "Not Found Error"
    publish(client, tokens["shichang"], "firms")  # the name is free again
    with database.session() as session:
        actions = [
            e.action for e in audit.search(session, Actor.operator(), audit.AuditFilter(resource_id="firms")).entries
        ]
    assert {"dataset.update", "dataset.classify", "dataset.delete", "dataset.ingest"} <= set(actions)


def test_organisations_groups_tags_licences_users(client: TestClient, tokens: dict[str, str]) -> None:
    publish(client, tokens["shichang"], "firms", groups=[{"name": "economy"}], tags=[{"name": "企业"}])
    publish(client, tokens["shichang"], "closed", open_type="none", tags=[{"name": "秘密"}])
    assert MARKET in ok(client, "organization_list")
    market = next(o for o in ok(client, "organization_list", all_fields=True) if o["name"] == MARKET)
    assert market["package_count"] == 1
    shown = ok(client, "organization_show", id=market["id"], include_datasets=True)
    assert [p["name"] for p in shown["packages"]] == ["firms"]
    assert "economy" in ok(client, "group_list")
    assert [p["name"] for p in ok(client, "group_show", id="economy", include_datasets="true")["packages"]] == ["firms"]
    assert ok(client, "tag_list") == ["企业"]
    assert any(licence["id"] == "CC-BY-4.0" for licence in ok(client, "license_list"))
    assert "Search datasets" in ok(client, "help_show", name="package_search")
    assert call(client, "user_list", tokens["qiye"])["error"]["__type"] == "Authorization Error"
    assert "admin" in {u["name"] for u in ok(client, "user_list", tokens["admin"])}
    assert ok(client, "current_package_list_with_resources")[0]["name"] == "firms"


def test_datastore_search_sql_reads_open_data_only(client: TestClient, tokens: dict[str, str]) -> None:
    resource_id = publish(client, tokens["shichang"], "firms")
    publish(client, tokens["shichang"], "closed", open_type="none")
    by_id = ok(client, "datastore_search_sql", sql=f'SELECT count(*) AS n FROM "{resource_id}"')
    assert by_id["records"] == [{"n": 3}]
    by_name = ok(
        client, "datastore_search_sql", sql='SELECT "类型", sum("注册资本") AS s FROM firms GROUP BY 1 ORDER BY 1'
    )
    assert [r["类型"] for r in by_name["records"]] == ["个体", "有限公司"]
    assert call(client, "datastore_search_sql", sql="SELECT * FROM closed")["success"] is False
    hostile = call(client, "datastore_search_sql", sql="SELECT * FROM read_csv('/etc/passwd')")
    assert hostile["error"]["__type"] == "Validation Error"


def test_form_posts_work_like_json(client: TestClient, tokens: dict[str, str]) -> None:
    created = client.post(
        "/api/3/action/package_create",
        data={"name": "form-made", "title": "表单", "owner_org": MARKET, "tags": json.dumps([{"name": "表"}])},
        headers={"Authorization": tokens["shichang"]},
    ).json()
    assert created["success"] is True and created["result"]["tags"][0]["name"] == "表"


def test_reading_a_closed_datasets_description_is_audited(
    client: TestClient, database: Database, tokens: dict[str, str]
) -> None:
    publish(client, tokens["shichang"], "closed", open_type="none")
    publish(client, tokens["shichang"], "open-one")
    ok(client, "package_show", tokens["gongan"], id="closed")
    ok(client, "package_show", tokens["gongan"], id="open-one")
    assert client.get("/api/v1/datasets/closed", headers={"Authorization": tokens["gongan"]}).status_code == 200
    with database.session() as session:
        trail = audit.search(session, Actor.operator(), audit.AuditFilter(action="dataset.view")).entries
    assert [(e.actor_name, e.resource_id) for e in trail] == [("gongan", "closed"), ("gongan", "closed")]


def test_a_broken_multipart_body_is_a_bad_request(client: TestClient, tokens: dict[str, str]) -> None:
    response = client.post(
        "/api/action/resource_create",
        content=b"--x\r\nContent-Disposition: form-data\r\n\r\nfirms\r\n--x--",  # a part without a name
        headers={"Authorization": tokens["shichang"], "Content-Type": "multipart/form-data; boundary=x"},
    )
    body = response.json()
    assert response.status_code == 400 and body["success"] is False and body["error"]["__type"] == "Bad Request"
