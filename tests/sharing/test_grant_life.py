"""A grant's life and limits: rate limits with Retry-After, expiry, overdue reviews, usage figures, the network."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from factories import UserFactory, csrf_from, sign_in, token_for
from fastapi.testclient import TestClient
from sqlalchemy import select

from yiwang.core.db import Database
from yiwang.core.models import AuditEntry, utcnow
from yiwang.core.settings import Settings
from yiwang.sharing.models import Grant, SharingRequest
from yiwang.web.app import create_app

POLICE = "海南省公安厅"
HEALTH = "海南省卫生健康委员会"
PEOPLE = "身份证号,姓名,年龄\n11010519491231002X,张三,76\n460100199001011237,李四,35\n"


def auth(token: str) -> dict[str, str]:
    return {"Authorization": token}


@pytest.fixture
def world(database: Database, make_user: UserFactory) -> dict[str, str]:
    make_user("gongan", "dept_staff", department=POLICE)
    make_user("weijian", "dept_staff", department=HEALTH)
    make_user("admin", "admin")
    make_user("auditor", "auditor")
    return {name: token_for(database, name) for name in ("gongan", "weijian", "admin", "auditor")}


def granted(client: TestClient, tokens: dict[str, str], **approval: object) -> tuple[int, str]:
    publisher = auth(tokens["gongan"])
    if client.get("/api/v1/datasets/people", headers=publisher).status_code == 404:
        body = {"name": "people", "title": "人口", "department": POLICE}
        assert client.post("/api/v1/datasets", headers=publisher, json=body).status_code == 201
        uploaded = client.post(
            "/api/v1/datasets/people/versions",
            headers=publisher,
            files={"file": ("p.csv", PEOPLE.encode(), "text/csv")},
        )
        assert uploaded.status_code == 201, uploaded.text
    asked = client.post(
        "/api/v1/sharing/requests",
        headers=auth(tokens["weijian"]),
        json={"dataset": "people", "fields": ["姓名", "年龄"], "purpose": "核验", "legal_basis": "依法", "days": 30},
    ).json()
    approved = client.post(f"/api/v1/sharing/requests/{asked['id']}/approve", headers=publisher, json=approval)
    assert approved.status_code == 200, approved.text
    return int(asked["id"]), str(approved.json()["grant_id"])


def test_the_rate_limit_answers_429_with_retry_after_and_is_remembered_once(
    client: TestClient, world: dict[str, str], database: Database
) -> None:
    _, grant_id = granted(client, world, rate_limit=2)
    statuses = [
        client.get(f"/api/v1/exchange/{grant_id}/rows", headers=auth(world["weijian"])).status_code for _ in range(4)
    ]
    if statuses[:2] != [200, 200]:  # a minute boundary fell between the calls: the counter started again
        statuses = [
            client.get(f"/api/v1/exchange/{grant_id}/rows", headers=auth(world["weijian"])).status_code
            for _ in range(4)
        ]
    assert statuses.count(429) >= 1
    limited = client.get(f"/api/v1/exchange/{grant_id}/rows", headers=auth(world["weijian"]))
    if limited.status_code == 429:
        assert 1 <= int(limited.headers["retry-after"]) <= 61
        assert limited.json()["error"]["code"] == "grant.rate_limited"
    with database.read_session() as session:
        refusals = session.scalars(select(AuditEntry).where(AuditEntry.action == "exchange.rate_limited")).all()
    assert 1 <= len(refusals) <= 2 and all(e.result == "denied" for e in refusals)
    too_generous = client.post(
        "/api/v1/sharing/requests",
        headers=auth(world["weijian"]),
        json={"dataset": "people", "fields": ["姓名"], "purpose": "核验", "legal_basis": "依法", "days": 3},
    ).json()["id"]
    refused = client.post(
        f"/api/v1/sharing/requests/{too_generous}/approve", headers=auth(world["gongan"]), json={"rate_limit": 10**6}
    )
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "sharing.bad_rate_limit"


def test_an_expired_grant_stops_at_once_and_reads_as_expired(
    client: TestClient, world: dict[str, str], database: Database
) -> None:
    request_id, grant_id = granted(client, world)
    assert client.get(f"/api/v1/exchange/{grant_id}/rows", headers=auth(world["weijian"])).status_code == 200
    with database.session() as session:
        grant = session.get(Grant, grant_id)
        assert grant is not None
        grant.valid_to = utcnow() - timedelta(seconds=1)
    expired = client.get(f"/api/v1/exchange/{grant_id}/lookup?姓名=张三", headers=auth(world["weijian"]))
    assert expired.status_code == 403 and expired.json()["error"]["code"] == "grant.expired"
    shown = client.get(f"/api/v1/sharing/requests/{request_id}", headers=auth(world["weijian"])).json()
    assert shown["state"] == "expired" and shown["grant"]["live"] is False
    expired_list = client.get("/api/v1/sharing/requests?state=expired", headers=auth(world["gongan"])).json()
    assert [r["id"] for r in expired_list] == [request_id]
    assert client.get("/api/v1/sharing/requests?state=granted", headers=auth(world["gongan"])).json() == []
    with database.read_session() as session:
        denied = session.scalars(select(AuditEntry).where(AuditEntry.result == "denied")).all()
    assert [(e.action, json.loads(e.detail)["reason"]) for e in denied] == [("exchange.read", "grant.expired")]


def test_a_dataset_withdrawn_from_sharing_stops_its_grants(client: TestClient, world: dict[str, str]) -> None:
    _, grant_id = granted(client, world)
    reclassified = client.put(
        "/api/v1/datasets/people/classification",
        headers=auth(world["admin"]),
        json={"share_type": "none", "open_type": "none", "security_level": "important"},
    )
    assert reclassified.status_code == 200, reclassified.text
    stopped = client.get(f"/api/v1/exchange/{grant_id}/rows", headers=auth(world["weijian"]))
    assert stopped.status_code == 403 and stopped.json()["error"]["code"] == "grant.dataset_withdrawn"


def test_overdue_requests_are_flagged_in_the_review_queue(
    client: TestClient, world: dict[str, str], database: Database
) -> None:
    granted(client, world)
    late = client.post(
        "/api/v1/sharing/requests",
        headers=auth(world["weijian"]),
        json={"dataset": "people", "fields": ["年龄"], "purpose": "统计", "legal_basis": "依法", "days": 10},
    ).json()["id"]
    with database.session() as session:
        request = session.get(SharingRequest, late)
        assert request is not None
        request.review_due_at = utcnow() - timedelta(hours=1)
    queue = client.get("/api/v1/sharing/review", headers=auth(world["gongan"])).json()
    assert [(r["id"], r["overdue"]) for r in queue] == [(late, True)]
    assert [r["id"] for r in client.get("/api/v1/sharing/review", headers=auth(world["admin"])).json()] == [late]


def test_usage_counts_calls_and_rows_and_the_network_shows_who_shares_with_whom(
    client: TestClient, world: dict[str, str]
) -> None:
    _, grant_id = granted(client, world)
    for _ in range(3):
        client.get(f"/api/v1/exchange/{grant_id}/rows", headers=auth(world["weijian"]))
    client.get(f"/api/v1/exchange/{grant_id}/lookup?姓名=李四", headers=auth(world["weijian"]))
    daily = client.get(f"/api/v1/grants/{grant_id}/usage?days=7", headers=auth(world["gongan"])).json()
    assert len(daily) == 7 and daily[-1]["calls"] + daily[-2]["calls"] == 4
    assert daily[-1]["rows"] + daily[-2]["rows"] == 3 * 2 + 1
    uses = client.get("/api/v1/sharing/usage", headers=auth(world["gongan"])).json()
    assert [(u["consumer"], u["calls"], u["rows"], u["purpose"]) for u in uses] == [(HEALTH, 4, 7, "核验")]
    network = client.get("/api/v1/sharing/network", headers=auth(world["auditor"])).json()
    assert network == [{"owner": POLICE, "consumer": HEALTH, "grants": 1, "calls": 4, "rows": 7}]
    assert client.get("/api/v1/sharing/network", headers=auth(world["gongan"])).status_code == 403


def test_pages_show_the_queue_the_decision_forms_and_the_network(
    settings: Settings, world: dict[str, str], database: Database
) -> None:
    with TestClient(create_app(settings)) as client:
        request_id, grant_id = granted(client, world)
        pending = client.post(
            "/api/v1/sharing/requests",
            headers=auth(world["weijian"]),
            json={
                "dataset": "people",
                "fields": ["姓名", "身份证号"],
                "purpose": "复核",
                "legal_basis": "依法",
                "days": 9,
            },
        ).json()["id"]
        assert getattr(sign_in(client, "gongan"), "status_code", None) == 303
        hub = client.get("/sharing?lang=en")
        assert hub.status_code == 200 and f"/sharing/requests/{pending}" in hub.text
        page = client.get(f"/sharing/requests/{pending}?lang=en")
        assert 'data-testid="approve-form"' in page.text and "身份证号" in page.text
        approved = client.post(
            f"/sharing/requests/{pending}/approve",
            data={"field": "身份证号", "disclosure:身份证号": "raw", "csrf_token": csrf_from(page.text)},
            follow_redirects=False,
        )
        assert approved.status_code == 422 and "raw_id_number" in approved.text  # the flag is not ticked
        approved = client.post(
            f"/sharing/requests/{pending}/approve",
            data={
                "field": "身份证号",
                "disclosure:身份证号": "raw",
                "raw_id_number": "1",
                "days": "5",
                "csrf_token": csrf_from(page.text),
            },
            follow_redirects=False,
        )
        assert approved.status_code == 303
        shown = client.get(f"/sharing/requests/{pending}?lang=en").text
        assert "Raw ID numbers approved" in shown and "Approved with narrower scope" in shown
        grant_page = client.get(f"/sharing/grants/{grant_id}?lang=en")
        assert grant_page.status_code == 200 and 'data-testid="usage-chart"' in grant_page.text
        assert client.get(f"/sharing/requests/{request_id}").status_code == 200
        assert client.get("/sharing/network").status_code == 403
        client.post("/logout", data={"csrf_token": csrf_from(shown)})
        client.cookies.clear()
        assert getattr(sign_in(client, "auditor"), "status_code", None) == 303
        trail = client.get("/audit?action=sharing.grant&lang=en").text
        assert trail.count('data-testid="raw-id"') == 1  # the approval of raw ID numbers stands out; the other not
