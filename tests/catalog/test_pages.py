"""The catalogue's pages over HTTP: facets, the dataset page's preview and chart, departments, the review queue."""

from __future__ import annotations

import pytest
from factories import UserFactory, csrf_from, sign_in, token_for
from fastapi.testclient import TestClient

from yiwang.core.db import Database

MARKET, POLICE = "海南省市场监督管理局", "海南省公安厅"
CSV = "名称,类型,注册资本,联系电话\n甲公司,有限公司,100,13800138000\n乙公司,个体,5,13912345678\n丙公司,有限公司,300,\n"


@pytest.fixture
def staff(database: Database, make_user: UserFactory) -> str:
    make_user("shichang", "dept_staff", department=MARKET)
    make_user("admin", "admin")
    return token_for(database, "shichang")


def publish(client: TestClient, token: str, name: str, title: str, tags: list[str], open_type: str) -> None:
    created = client.post(
        "/api/v1/datasets",
        headers={"Authorization": token},
        json={
            "name": name,
            "title": title,
            "department": MARKET,
            "open_type": open_type,
            "tags": tags,
            "themes": ["经贸工商"],
            "update_frequency": "monthly",
        },
    )
    assert created.status_code == 201, created.text
    uploaded = client.post(
        f"/api/v1/datasets/{name}/versions",
        headers={"Authorization": token},
        files={"file": ("data.csv", CSV.encode(), "text/csv")},
    )
    assert uploaded.status_code == 201, uploaded.text


def preview_of(html: str) -> str:
    start = html.index('data-testid="preview-table"')
    return html[start : html.index("</table>", start)]


def test_catalogue_search_and_facets(client: TestClient, staff: str) -> None:
    publish(client, staff, "firms", "市场主体登记信息", ["企业", "注册资本"], "unconditional")
    publish(client, staff, "halls", "政务服务大厅", ["大厅"], "unconditional")
    publish(client, staff, "closed", "内部名册", ["企业"], "none")
    page = client.get("/datasets", params={"q": "企业 注册资本"})
    assert page.status_code == 200
    assert page.text.index("市场主体登记信息") < page.text.find("政务服务大厅") or "政务服务大厅" not in page.text
    assert "内部名册" not in page.text, "the public never sees a closed dataset"
    faceted = client.get("/datasets", params={"tag": "大厅"})
    assert "政务服务大厅" in faceted.text and "市场主体登记信息" not in faceted.text
    assert 'aria-current="true"' in faceted.text and "facet-department" in faceted.text


def test_dataset_page_previews_filters_and_charts(client: TestClient, staff: str) -> None:
    publish(client, staff, "firms", "市场主体登记信息", ["企业"], "unconditional")
    page = client.get("/datasets/firms")
    assert page.status_code == 200
    assert 'data-testid="preview-table"' in page.text and "甲公司" in page.text
    assert "13800138000" not in page.text, "the public sees phone numbers masked"
    assert 'data-testid="values-chart"' in page.text and "/datasets/firms/download.csv" in page.text
    filtered = client.get("/datasets/firms", params={"f": "类型", "op": "exact", "v": "个体"})
    assert "乙公司" in preview_of(filtered.text) and "甲公司" not in preview_of(filtered.text)
    sorted_page = client.get("/datasets/firms", params={"sort": "注册资本", "desc": "1"})
    assert preview_of(sorted_page.text).index("丙公司") < preview_of(sorted_page.text).index("甲公司")
    probing = client.get("/datasets/firms", params={"f": "联系电话", "op": "startswith", "v": "138"})
    assert probing.status_code == 200 and 'role="alert"' in probing.text
    charted = client.get("/datasets/firms", params={"chart": "类型"})
    assert "有限公司" in charted.text


def test_closed_rows_are_not_previewed_for_other_departments(
    client: TestClient, database: Database, staff: str, make_user: UserFactory
) -> None:
    publish(client, staff, "closed", "内部名册", ["企业"], "none")
    make_user("gongan", "dept_staff", department=POLICE)
    sign_in(client, "gongan")
    page = client.get("/datasets/closed")
    assert page.status_code == 200 and "preview-table" not in page.text and "download.csv" not in page.text


def test_departments_pages(client: TestClient, staff: str) -> None:
    publish(client, staff, "firms", "市场主体登记信息", ["企业"], "unconditional")
    listing = client.get("/departments")
    assert listing.status_code == 200 and MARKET in listing.text and "data-chart" in listing.text
    one = client.get(f"/departments/{MARKET}")
    assert one.status_code == 200 and "市场主体登记信息" in one.text
    assert client.get("/departments/no-such").status_code == 404


def test_review_queue_classifies(client: TestClient, staff: str) -> None:
    publish(client, staff, "firms", "市场主体登记信息", ["企业"], "unconditional")
    sign_in(client, "shichang")
    assert client.get("/review").status_code == 403
    client.cookies.clear()
    sign_in(client, "admin")
    queue = client.get("/review")
    assert queue.status_code == 200 and "firms" in queue.text
    assert "联系电话" in queue.text, "open data with unconfirmed personal fields is flagged"
    done = client.post(
        "/review/firms",
        data={
            "share_type": "unconditional",
            "open_type": "conditional",
            "security_level": "important",
            "csrf_token": csrf_from(queue.text),
        },
        follow_redirects=False,
    )
    assert done.status_code == 303
    after = client.get("/review")
    assert 'action="/review/firms"' not in after.text
    refused = client.post("/review/firms", data={"share_type": "none", "open_type": "none", "security_level": "core"})
    assert refused.status_code == 403, "a post without the CSRF token is refused"


def test_staff_publish_upload_and_confirm_fields_on_the_web(client: TestClient, staff: str) -> None:
    sign_in(client, "shichang")
    form = client.get("/datasets/new")
    assert form.status_code == 200 and MARKET in form.text
    created = client.post(
        "/datasets/new",
        data={
            "name": "food-sampling",
            "title": "食品抽检结果",
            "department": MARKET,
            "tags": "食品，抽检",
            "themes": ["卫生健康"],
            "update_frequency": "monthly",
            "open_type": "unconditional",
            "csrf_token": csrf_from(form.text),
        },
        follow_redirects=False,
    )
    assert created.status_code == 303 and created.headers["location"] == "/datasets/food-sampling"
    page = client.get("/datasets/food-sampling")
    assert 'data-testid="upload-form"' in page.text
    uploaded = client.post(
        "/datasets/food-sampling/versions",
        data={"csrf_token": csrf_from(page.text), "title": "第一批"},
        files={"file": ("抽检.csv", "样品,结果,电话\n大米,合格,13800138000\n".encode("gbk"), "text/csv")},
        follow_redirects=False,
    )
    assert uploaded.status_code == 303, uploaded.text
    page = client.get(uploaded.headers["location"])
    assert 'data-testid="fields-form"' in page.text and "大米" in page.text
    confirmed = client.post(
        "/datasets/food-sampling/fields",
        data={
            "csrf_token": csrf_from(page.text),
            "kind:电话": "phone",
            "kind:样品": "none",
            "description:样品": "抽检样品名称",
            "unit:结果": "",
        },
        follow_redirects=False,
    )
    assert confirmed.status_code == 303
    detail = client.get("/api/v1/datasets/food-sampling", headers={"Authorization": staff}).json()
    fields = {f["name"]: f for f in detail["fields"]}
    assert fields["电话"]["kind_confirmed"] and fields["样品"]["description"] == "抽检样品名称"
    assert detail["tags"] == ["抽检", "食品"] and detail["themes"] == ["卫生健康"]


def test_citizens_cannot_publish(client: TestClient, staff: str, make_user: UserFactory) -> None:
    make_user("shimin", "citizen")
    sign_in(client, "shimin")
    assert client.get("/datasets/new").status_code == 403
    client.cookies.clear()
    assert client.get("/datasets/new", follow_redirects=False).status_code in (303, 307)
