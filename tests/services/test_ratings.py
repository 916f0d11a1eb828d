"""好差评: one rating per finished application by its applicant; a 差评 opens a rectification with a deadline that
the department explains or appeals, the admin reviews appeals, and statistics leave out upheld appeals."""

from __future__ import annotations

from conftest import Tokens
from fastapi.testclient import TestClient

from yiwang.core.db import Database
from yiwang.core.settings import Settings
from yiwang.web.app import create_app

ITEM = "no-criminal-record-certificate"


def finished_application(client: TestClient, auth: Tokens, decision: str = "approve") -> int:
    body = client.get(f"/api/v1/services/{ITEM}").json()["example_application"]
    created = client.post(f"/api/v1/services/{ITEM}/applications", json=body, headers=auth("shimin"))
    assert created.status_code == 201, created.text
    application_id = int(created.json()["id"])
    task = client.get(f"/api/v1/applications/{application_id}", headers=auth("shimin")).json()["tasks"][0]
    rate_early = client.post(f"/api/v1/applications/{application_id}/rating", json={"level": 5}, headers=auth("shimin"))
    assert rate_early.status_code == 409 and rate_early.json()["error"]["code"] == "rating.not_finished"
    done = client.post(
        f"/api/v1/tasks/{task['id']}/complete",
        json={"decision": decision, "comment": "材料不全"},
        headers=auth("gongan"),
    )
    assert done.status_code == 200, done.text
    return application_id


def test_ratings_rectifications_appeals_and_statistics(settings: Settings, services: Database, auth: Tokens) -> None:
    with TestClient(create_app(settings)) as client:
        good, fair, bad, unfair, rejected = (finished_application(client, auth) for _ in range(5))
        for outsider in ("gongan", "admin", "qiye"):
            assert (
                client.post(
                    f"/api/v1/applications/{good}/rating", json={"level": 5}, headers=auth(outsider)
                ).status_code
                == 403
            )
        assert (
            client.post(f"/api/v1/applications/{good}/rating", json={"level": 6}, headers=auth("shimin")).status_code
            == 422
        )
        silent = client.post(f"/api/v1/applications/{bad}/rating", json={"level": 1}, headers=auth("shimin"))
        assert silent.status_code == 422 and silent.json()["error"]["code"] == "rating.text_required"
        rated = {
            good: client.post(f"/api/v1/applications/{good}/rating", json={"level": 5}, headers=auth("shimin")),
            fair: client.post(f"/api/v1/applications/{fair}/rating", json={"level": 3}, headers=auth("shimin")),
            bad: client.post(
                f"/api/v1/applications/{bad}/rating",
                json={"level": 1, "comment": "来回跑了三次"},
                headers=auth("shimin"),
            ),
            unfair: client.post(
                f"/api/v1/applications/{unfair}/rating", json={"level": 2, "comment": "太慢"}, headers=auth("shimin")
            ),
            rejected: client.post(f"/api/v1/applications/{rejected}/rating", json={"level": 4}, headers=auth("shimin")),
        }
        assert all(r.status_code == 201 for r in rated.values())
        assert rated[good].json()["rectification_id"] is None and rated[fair].json()["rectification_id"] is None
        bad_fix, unfair_fix = rated[bad].json()["rectification_id"], rated[unfair].json()["rectification_id"]
        listed = client.get("/api/v1/rectifications", headers=auth("gongan")).json()
        assert sorted(r["id"] for r in listed) == sorted([bad_fix, unfair_fix])
        assert all(r["state"] == "open" and r["department"] == "海南省公安厅" for r in listed)
        assert client.get("/api/v1/rectifications", headers=auth("weijian")).json() == []
        assert (
            client.post(
                f"/api/v1/rectifications/{bad_fix}/explain", json={"text": "已整改"}, headers=auth("weijian")
            ).status_code
            == 403
        )
        explained = client.post(
            f"/api/v1/rectifications/{bad_fix}/explain", json={"text": "已在指南中列明全部材料"}, headers=auth("gongan")
        )
        assert explained.status_code == 200 and explained.json()["state"] == "explained"
        seen_by_applicant = client.get(f"/api/v1/applications/{bad}", headers=auth("shimin")).json()["rating"]
        assert seen_by_applicant["rectification"]["explanation"] == "已在指南中列明全部材料"
        appealed = client.post(
            f"/api/v1/rectifications/{unfair_fix}/appeal", json={"text": "按期办结，有短信记录"}, headers=auth("gongan")
        )
        assert appealed.json()["state"] == "appealed"
        assert (
            client.post(
                f"/api/v1/rectifications/{unfair_fix}/appeal", json={"text": "再次申诉"}, headers=auth("gongan")
            ).status_code
            == 409
        )
        assert (
            client.post(
                f"/api/v1/rectifications/{unfair_fix}/review",
                json={"upheld": True, "note": "属实"},
                headers=auth("gongan"),
            ).status_code
            == 403
        )
        before = next(s for s in client.get("/api/v1/ratings/stats").json() if s["key"] == ITEM)
        assert before["count"] == 5 and before["bad"] == 2 and before["rectified"] == 1
        reviewed = client.post(
            f"/api/v1/rectifications/{unfair_fix}/review", json={"upheld": True, "note": "属实"}, headers=auth("admin")
        )
        assert reviewed.status_code == 200 and reviewed.json()["state"] == "appeal_upheld"
        after = next(s for s in client.get("/api/v1/ratings/stats").json() if s["key"] == ITEM)
        assert after["count"] == 4 and after["bad"] == 1
        assert after["levels"] == {"1": 1, "2": 0, "3": 1, "4": 1, "5": 1}
        assert after["average"] == 3.25 and after["satisfaction"] == 0.5
        departments = client.get("/api/v1/ratings/stats", params={"by": "department"}).json()
        assert [d["key"] for d in departments] == ["海南省公安厅"]
