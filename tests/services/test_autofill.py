"""免证办: with the applicant's consent, the serving department fills a field from shared data under its grant."""

from __future__ import annotations

from typing import Any

from conftest import Tokens
from fastapi.testclient import TestClient
from sqlalchemy import select

from yiwang.core.db import Database
from yiwang.core.models import AuditEntry
from yiwang.core.settings import Settings
from yiwang.services import items
from yiwang.web.app import create_app

POLICE = "海南省公安厅"
HAIKOU = "海口市政务服务中心"
PEOPLE = "身份证号,姓名,户籍地\n11010519491231002X,张三,460106\n460100199001011237,李四,460105\n"
ITEM = "household-certificate"


def item_body() -> dict[str, Any]:
    return {
        "code": ITEM,
        "item_code": "460100-GG-90001",
        "name": "户籍证明开具",
        "department": HAIKOU,
        "category": "公共服务",
        "audience": ["citizen"],
        "life_events": ["housing"],
        "legal_days": 5,
        "promised_days": 1,
        "guide": {"summary": "同意授权后，户籍地自动填写，不用带户口簿。"},
        "form": {
            "type": "object",
            "properties": {
                "applicant_name": {"type": "string", "title": "姓名"},
                "id_number": {"type": "string", "title": "公民身份号码", "format": "id-number"},
                "household_division": {"type": "string", "title": "户籍地", "format": "division-code"},
            },
            "required": ["applicant_name", "id_number", "household_division"],
        },
        "autofill": [
            {
                "field": "household_division",
                "dataset": "population",
                "key_field": "身份证号",
                "key_from": "id_number",
                "value_field": "户籍地",
            }
        ],
    }


def _setup(client: TestClient, auth: Tokens) -> str:
    created = client.post(
        "/api/v1/datasets",
        headers=auth("gongan"),
        json={"name": "population", "title": "户籍人口", "department": POLICE, "share_type": "conditional"},
    )
    assert created.status_code == 201, created.text
    uploaded = client.post(
        "/api/v1/datasets/population/versions",
        headers=auth("gongan"),
        files={"file": ("人口.csv", PEOPLE.encode(), "text/csv")},
    )
    assert uploaded.status_code == 201, uploaded.text
    request = {
        "dataset": "population",
        "fields": ["身份证号", "户籍地"],
        "purpose": "户籍证明免提交户口簿",
        "legal_basis": "《海南省政务数据共享管理办法》",
        "days": 30,
    }
    asked = client.post("/api/v1/sharing/requests", headers=auth("haikou"), json=request)
    assert asked.status_code == 201, asked.text
    approved = client.post(f"/api/v1/sharing/requests/{asked.json()['id']}/approve", headers=auth("gongan"), json={})
    assert approved.status_code == 200, approved.text
    assert client.post("/api/v1/services", headers=auth("haikou"), json=item_body()).status_code == 201
    xml = items.steps_process(ITEM, "户籍证明", [{"id": "issue", "name": "开具", "department": HAIKOU}], parallel=False)
    imported = client.put(
        f"/api/v1/services/{ITEM}/process.bpmn",
        content=xml,
        headers={**auth("admin"), "Content-Type": "application/xml"},
    )
    assert imported.status_code == 200, imported.text
    return str(approved.json()["grant_id"])


def test_consent_fills_the_field_from_the_departments_grant(
    settings: Settings, services: Database, auth: Tokens
) -> None:
    with TestClient(create_app(settings)) as client:
        grant = _setup(client, auth)
        form = {"applicant_name": "张三", "id_number": "11010519491231002x"}
        url = f"/api/v1/services/{ITEM}/applications"
        without = client.post(url, json={"form": form}, headers=auth("shimin"))
        assert without.status_code == 422 and "household_division" in without.json()["error"]["fields"]
        filled = client.post(url, json={"form": form, "consent_autofill": True}, headers=auth("shimin"))
        assert filled.status_code == 201, filled.text
        application = client.get(f"/api/v1/applications/{filled.json()['id']}", headers=auth("shimin")).json()
        assert application["form"]["household_division"] == "460106"
        assert application["autofilled"] == [
            {"field": "household_division", "dataset": "population", "grant": grant, "source_field": "户籍地"}
        ]
        # the applicant's own answer wins over shared data
        typed = client.post(
            url,
            json={"form": {**form, "household_division": "460105"}, "consent_autofill": True},
            headers=auth("shimin"),
        ).json()
        assert client.get(f"/api/v1/applications/{typed['id']}", headers=auth("shimin")).json()["autofilled"] == []
        revoked = client.post(f"/api/v1/grants/{grant}/revoke", headers=auth("gongan"), json={"reason": "到期"})
        assert revoked.status_code == 200, revoked.text
        after = client.post(url, json={"form": form, "consent_autofill": True}, headers=auth("shimin"))
        assert after.status_code == 422  # no grant, no auto-fill: the applicant is asked instead
    with services.read_session() as session:
        lookups = session.scalars(select(AuditEntry).where(AuditEntry.action == "exchange.lookup")).all()
    assert [entry.actor_name for entry in lookups] == ["autofill:shimin"]
    assert "11010519491231002" not in " ".join(entry.detail for entry in lookups)
