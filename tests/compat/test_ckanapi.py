"""The real `ckanapi` client and a CKAN harvester's request sequence against a running demo portal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import ckanapi
import httpx2
import pytest
from live import Portal

CKANAPI = str(Path(sys.executable).parent / "ckanapi")
MARKET = "海南省市场监督管理局"


@pytest.fixture(scope="module")
def anonymous(demo_portal: Portal) -> ckanapi.RemoteCKAN:
    return ckanapi.RemoteCKAN(demo_portal.url, user_agent="yiwang-tests")


@pytest.fixture(scope="module")
def market_staff(demo_portal: Portal) -> ckanapi.RemoteCKAN:
    token = demo_portal.yiwang("token", "create", "shichang", "--name", "ckanapi").strip().splitlines()[-1]
    return ckanapi.RemoteCKAN(demo_portal.url, apikey=token, user_agent="yiwang-tests")


def test_status_and_lists(anonymous: ckanapi.RemoteCKAN) -> None:
    assert anonymous.action.status_show()["ckan_version"].startswith("2.")
    names = anonymous.action.package_list()
    assert "weather-daily" in names and "enterprise-registry" in names
    assert "population-registry" not in names  # not open: private to government users
    assert MARKET in anonymous.action.organization_list()
    assert {"id": "CC-BY-4.0"}.items() <= anonymous.action.license_list()[0].items()


def test_package_search_ranks_chinese_phrase_and_facets(anonymous: ckanapi.RemoteCKAN) -> None:
    found = anonymous.action.package_search(
        q="企业 注册资本", rows=5, **{"facet.field": json.dumps(["organization", "tags", "res_format"])}
    )
    assert found["count"] >= 1
    assert found["results"][0]["name"] == "enterprise-registry"
    assert found["results"][0]["resources"], "search results are complete package dicts"
    assert found["facets"]["organization"].get(MARKET, 0) >= 1
    items = found["search_facets"]["tags"]["items"]
    assert {"name": "注册资本", "display_name": "注册资本"}.items() <= next(
        i for i in items if i["name"] == "注册资本"
    ).items()


def test_package_search_fq_negation_and_modified_range(anonymous: ckanapi.RemoteCKAN) -> None:
    everything = anonymous.action.package_search(rows=1000)["count"]
    market = anonymous.action.package_search(fq=f'organization:"{MARKET}"', rows=1000)
    others = anonymous.action.package_search(fq=f'-organization:"{MARKET}"', rows=1000)
    assert market["count"] >= 1 and market["count"] + others["count"] == everything
    assert all(p["organization"]["name"] == MARKET for p in market["results"])
    future = anonymous.action.package_search(fq="metadata_modified:[2999-01-01T00:00:00Z TO *]")
    assert future["count"] == 0
    past = anonymous.action.package_search(fq="metadata_modified:[2000-01-01T00:00:00Z TO *]", rows=0)
    assert past["count"] == everything


def test_search_errors_are_ckan_errors(anonymous: ckanapi.RemoteCKAN) -> None:
    with pytest.raises(ckanapi.SearchQueryError):
        anonymous.action.package_search(fq="no_such_field:x")
    with pytest.raises(ckanapi.NotFound):
        anonymous.action.package_show(id="no-such-dataset")
    with pytest.raises(ckanapi.NotFound):
        anonymous.action.package_show(id="population-registry")  # exists, but not for the public


def test_datastore_search_with_filters_and_fields(anonymous: ckanapi.RemoteCKAN) -> None:
    package = anonymous.action.package_show(id="service-halls")
    resource = package["resources"][0]
    assert resource["datastore_active"] is True
    described = anonymous.action.datastore_search(resource_id=resource["id"], limit=0)
    assert described["records"] == [] and described["total"] > 0
    kinds = {f["id"]: f.get("info", {}).get("kind") for f in described["fields"]}
    assert "none" in kinds.values()
    text_field = next(f["id"] for f in described["fields"] if f["type"] == "text" and f["info"]["kind"] == "none")
    first = anonymous.action.datastore_search(resource_id=resource["id"], limit=1)["records"][0]
    narrowed = anonymous.action.datastore_search(
        resource_id=resource["id"], filters={text_field: first[text_field]}, limit=1000
    )
    assert narrowed["total"] >= 1
    assert all(r[text_field] == first[text_field] for r in narrowed["records"])
    page2 = anonymous.action.datastore_search(resource_id=resource["id"], limit=5, offset=5)
    page1 = anonymous.action.datastore_search(resource_id=resource["id"], limit=10)
    assert [r["_id"] for r in page2["records"]] == [r["_id"] for r in page1["records"][5:]]


def test_create_dataset_upload_then_read_it(market_staff: ckanapi.RemoteCKAN, tmp_path: Path) -> None:
    created = market_staff.action.package_create(
        name="ckanapi-upload-test",
        title="食品抽检结果（测试）",
        owner_org=MARKET,
        notes="由 ckanapi 上传",
        tags=[{"name": "食品安全"}],
        share_type="unconditional",
        open_type="unconditional",
        security_level="general",
        license_id="CC-BY-4.0",
    )
    assert created["organization"]["name"] == MARKET and created["open_type"] == "unconditional"
    data = tmp_path / "抽检.csv"
    data.write_bytes("样品名称,抽检结果,联系电话\n大米,合格,13800138000\n酱油,不合格,13912345678\n".encode("gbk"))
    with data.open("rb") as upload:
        resource = market_staff.action.resource_create(package_id=created["id"], name="2026 年第一批", upload=upload)
    assert resource["package_id"] == created["id"] and resource["is_current"] is True
    anonymous = ckanapi.RemoteCKAN(market_staff.address)
    rows = anonymous.action.datastore_search(resource_id=resource["id"], filters={"抽检结果": "不合格"})
    assert rows["total"] == 1 and rows["records"][0]["样品名称"] == "酱油"
    assert rows["records"][0]["联系电话"] != "13912345678", "personal fields are masked for the public"
    kinds = {f["id"]: f.get("info", {}).get("kind") for f in rows["fields"]}
    assert kinds["联系电话"] == "phone"
    shown = anonymous.action.package_show(id="ckanapi-upload-test")
    assert [r["id"] for r in shown["resources"]] == [resource["id"]]
    with pytest.raises(ckanapi.ValidationError) as refused:
        market_staff.action.package_create(name="ckanapi-upload-test", title="again", owner_org=MARKET)
    assert "name" in refused.value.error_dict
    with pytest.raises(ckanapi.NotAuthorized):
        market_staff.action.package_create(name="not-my-department", title="x", owner_org="海南省公安厅")
    with pytest.raises(ckanapi.NotAuthorized):
        anonymous.action.package_create(name="anonymous-try", title="x", owner_org=MARKET)
    market_staff.action.package_delete(id="ckanapi-upload-test")
    with pytest.raises(ckanapi.NotFound):
        anonymous.action.package_show(id="ckanapi-upload-test")


def _cli(*args: str) -> str:
    # `ckanapi dump` starts its workers as `ckanapi` from the PATH
    env = {**os.environ, "PATH": f"{Path(CKANAPI).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run([CKANAPI, *args], capture_output=True, text=True, timeout=120, check=False, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_ckanapi_cli_search_and_dump(demo_portal: Portal, anonymous: ckanapi.RemoteCKAN, tmp_path: Path) -> None:
    searched = [json.loads(line) for line in _cli("search", "datasets", "q=气象", "-r", demo_portal.url).splitlines()]
    assert "weather-daily" in {p["name"] for p in searched}
    dump = tmp_path / "datasets.jsonl"
    _cli("dump", "datasets", "--all", "-q", "-p", "1", "-O", str(dump), "-r", demo_portal.url)
    dumped = [json.loads(line) for line in dump.read_text(encoding="utf-8").splitlines()]
    assert sorted(p["name"] for p in dumped) == sorted(anonymous.action.package_list())
    assert all(p["resources"] for p in dumped if p["num_resources"])


def _harvest(url: str, **extra: Any) -> list[dict[str, Any]]:
    """What ckanext-harvest's CKAN harvester does: page package_search sorted by id, 100 at a time."""
    gathered: list[dict[str, Any]] = []
    start = 0
    while True:
        answer = httpx2.get(
            f"{url}/api/3/action/package_search", params={"rows": 100, "start": start, "sort": "id asc", **extra}
        ).json()
        assert answer["success"] is True
        page = answer["result"]["results"]
        gathered.extend(page)
        start += 100
        if start >= answer["result"]["count"]:
            return gathered


def test_harvester_pages_by_id_and_harvests_incrementally(demo_portal: Portal) -> None:
    everything = _harvest(demo_portal.url)
    ids = [p["id"] for p in everything]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    newest = max(p["metadata_modified"] for p in everything)
    since = _harvest(demo_portal.url, fq=f"metadata_modified:[{newest}Z TO *]")
    assert since and all(p["metadata_modified"] >= newest for p in since)
    assert len(since) < len(everything)


def test_error_envelope_for_every_failure(demo_portal: Portal) -> None:
    for path in ("/api/3/action/no_such_action", "/api/action/package_show?id=nope", "/api/3/action/package_create"):
        answer = httpx2.get(demo_portal.url + path)
        body = answer.json()
        assert body["success"] is False and body["error"]["__type"] and "help" in body
    unknown_parameter = httpx2.get(demo_portal.url + "/api/3/action/package_list", params={"whatever": "1"}).json()
    assert unknown_parameter["success"] is True
