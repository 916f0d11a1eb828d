"""The investment single window end to end over HTTP: one submission, four departments in parallel, a restart in
the middle, completion, an electronic licence, a rating — and the audit chain intact afterwards."""

from __future__ import annotations

import itertools

import pytest
from conftest import Tokens
from fastapi.testclient import TestClient

from yiwang.core import audit
from yiwang.core.db import Database
from yiwang.core.identity import Actor
from yiwang.core.settings import Settings
from yiwang.web.app import create_app

CODE = "investment-single-window"
DEPARTMENT_STAFF = {
    "海南省市场监督管理局": "shichang",
    "海南省税务局": "shuiwu",
    "海口海关": "haiguan",
    "国家外汇管理局海南省分局": "waihui",
}


@pytest.mark.parametrize("order", [0, 23])
def test_single_window_completes_when_all_four_departments_approve(
    settings: Settings, services: Database, auth: Tokens, order: int
) -> None:
    with TestClient(create_app(settings)) as client:
        item = client.get(f"/api/v1/services/{CODE}").json()
        assert item["form_schema"]["type"] == "object" and item["guide"]["steps"]
        created = client.post(
            f"/api/v1/services/{CODE}/applications", json=item["example_application"], headers=auth("touzi")
        )
        assert created.status_code == 201, created.text
        application_id = created.json()["id"]
        assert created.json()["receipt"].startswith("YW") and created.json()["state"] == "in_progress"
        tasks = client.get(f"/api/v1/applications/{application_id}", headers=auth("touzi")).json()["tasks"]
        assert sorted(t["department"] for t in tasks) == sorted(DEPARTMENT_STAFF)
        assert all(t["state"] == "open" for t in tasks)
        sequence = list(itertools.permutations(tasks))[order]
        first, second = sequence[0], sequence[1]
        for task in (first, second):
            done = client.post(
                f"/api/v1/tasks/{task['id']}/complete",
                json={"decision": "approve", "comment": "同意"},
                headers=auth(DEPARTMENT_STAFF[task["department"]]),
            )
            assert done.status_code == 200, done.text
            assert done.json()["state"] == "in_progress"
    # A restart: a new app with new connections reads everything back from the database.
    with TestClient(create_app(settings)) as client:
        progress = client.get(f"/api/v1/applications/{application_id}", headers=auth("touzi")).json()
        states = {t["id"]: t["state"] for t in progress["tasks"]}
        assert states[first["id"]] == states[second["id"]] == "completed"
        assert sum(state == "open" for state in states.values()) == 2
        for task in sequence[2:]:
            done = client.post(
                f"/api/v1/tasks/{task['id']}/complete",
                json={"decision": "approve", "comment": ""},
                headers=auth(DEPARTMENT_STAFF[task["department"]]),
            )
            assert done.status_code == 200, done.text
        assert done.json()["state"] == "completed"
        finished = client.get(f"/api/v1/applications/{application_id}", headers=auth("touzi")).json()
        assert finished["state"] == "completed" and finished["finished_at"]
        licence = finished["licence"]
        assert (
            licence["licence_type"] == "business-licence"
            and licence["holder_name"] == item["example_application"]["form"]["enterprise_name"]
        )
        held = client.get("/api/v1/licences", headers=auth("touzi")).json()
        assert [h["number"] for h in held] == [licence["number"]]
        checked = client.get(
            f"/api/v1/licences/{licence['number']}/verify", params={"purpose": "核验营业执照"}, headers=auth("shuiwu")
        )
        assert checked.status_code == 200 and checked.json()["valid"] is True
        rated = client.post(
            f"/api/v1/applications/{application_id}/rating",
            json={"level": 5, "comment": "一次都没跑"},
            headers=auth("touzi"),
        )
        assert rated.status_code == 201, rated.text
        again = client.post(f"/api/v1/applications/{application_id}/rating", json={"level": 4}, headers=auth("touzi"))
        assert again.status_code == 409 and again.json()["error"]["code"] == "rating.exists"
        stats = client.get("/api/v1/ratings/stats", params={"by": "item"}).json()
        assert next(s for s in stats if s["key"] == CODE)["levels"]["5"] == 1
    with services.session() as session:
        assert audit.verify(session, Actor.operator()).ok
        trail = audit.search(
            session, Actor.operator(), audit.AuditFilter(resource_type="application", resource_id=str(application_id))
        )
        actions = [entry.action for entry in trail.entries]
        assert actions.count("task.complete") == 4 and "application.submit" in actions and "application.rate" in actions


def test_only_the_tasks_department_may_complete_it(settings: Settings, services: Database, auth: Tokens) -> None:
    with TestClient(create_app(settings)) as client:
        item = client.get(f"/api/v1/services/{CODE}").json()
        application_id = client.post(
            f"/api/v1/services/{CODE}/applications", json=item["example_application"], headers=auth("touzi")
        ).json()["id"]
        tasks = client.get(f"/api/v1/applications/{application_id}", headers=auth("touzi")).json()["tasks"]
        customs = next(t for t in tasks if t["department"] == "海口海关")
        for outsider in ("shuiwu", "gongan", "admin", "touzi", "shimin", "auditor"):
            refused = client.post(
                f"/api/v1/tasks/{customs['id']}/complete", json={"decision": "approve"}, headers=auth(outsider)
            )
            assert refused.status_code == 403, (outsider, refused.text)
        for stranger in ("shimin", "gongan", "qiye"):
            assert client.get(f"/api/v1/applications/{application_id}", headers=auth(stranger)).status_code == 403
        assert client.get(f"/api/v1/applications/{application_id}").status_code == 401
        # the departments with a task, the admin and the auditor may read it
        for reader in ("haiguan", "waihui", "admin", "auditor"):
            assert client.get(f"/api/v1/applications/{application_id}", headers=auth(reader)).status_code == 200
        assert (
            client.post(
                f"/api/v1/tasks/{customs['id']}/complete", json={"decision": "approve"}, headers=auth("haiguan")
            ).status_code
            == 200
        )
        twice = client.post(
            f"/api/v1/tasks/{customs['id']}/complete", json={"decision": "approve"}, headers=auth("haiguan")
        )
        assert twice.status_code == 409 and twice.json()["error"]["code"] == "task.not_open"


def test_a_rejection_ends_the_application_and_cancels_the_other_tasks(
    settings: Settings, services: Database, auth: Tokens
) -> None:
    with TestClient(create_app(settings)) as client:
        item = client.get(f"/api/v1/services/{CODE}").json()
        application_id = client.post(
            f"/api/v1/services/{CODE}/applications", json=item["example_application"], headers=auth("touzi")
        ).json()["id"]
        tasks = client.get(f"/api/v1/applications/{application_id}", headers=auth("touzi")).json()["tasks"]
        tax = next(t for t in tasks if t["department"] == "海南省税务局")
        no_reason = client.post(
            f"/api/v1/tasks/{tax['id']}/complete", json={"decision": "reject"}, headers=auth("shuiwu")
        )
        assert no_reason.status_code == 422 and no_reason.json()["error"]["code"] == "task.reason_required"
        rejected = client.post(
            f"/api/v1/tasks/{tax['id']}/complete",
            json={"decision": "reject", "comment": "注册地址与实际经营地不符"},
            headers=auth("shuiwu"),
        )
        assert rejected.json()["state"] == "rejected"
        final = client.get(f"/api/v1/applications/{application_id}", headers=auth("touzi")).json()
        assert final["state"] == "rejected" and final["result_note"] == "注册地址与实际经营地不符"
        assert sorted(t["state"] for t in final["tasks"]) == ["cancelled", "cancelled", "cancelled", "completed"]
        assert final["licence"] is None
        late = next(t for t in final["tasks"] if t["state"] == "cancelled")
        staff = DEPARTMENT_STAFF[late["department"]]
        assert (
            client.post(
                f"/api/v1/tasks/{late['id']}/complete", json={"decision": "approve"}, headers=auth(staff)
            ).status_code
            == 409
        )
