"""Submitting applications: field-level errors in zh-CN and English, materials checked by type and size, nothing
stored half-way, licences replacing materials (免提交), time limits in working days."""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from conftest import Tokens
from factories import sign_in
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from yiwang.core.db import Database
from yiwang.core.identity import Actor
from yiwang.core.models import AuditEntry, User
from yiwang.core.settings import Settings
from yiwang.core.workdays import load_calendar
from yiwang.demo.accounts import DEMO_PASSWORD
from yiwang.services import handling, licences
from yiwang.services.models import Application, ApplicationMaterial
from yiwang.web.app import create_app

CITIZEN_ITEM = "no-criminal-record-certificate"
PDF = b"%PDF-1.4\n% test\n%%EOF\n"


def _b64(content: bytes) -> str:
    return base64.b64encode(content).decode()


def _stored(database: Database) -> tuple[int, int]:
    with database.read_session() as session:
        return (
            session.scalar(select(func.count()).select_from(Application)) or 0,
            session.scalar(select(func.count()).select_from(ApplicationMaterial)) or 0,
        )


def _files(settings: Settings) -> list[Path]:
    root = settings.data_dir / "applications"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_every_bad_field_is_named_in_the_users_language_and_nothing_is_stored(
    settings: Settings, services: Database, auth: Tokens
) -> None:
    with TestClient(create_app(settings)) as client:
        example = client.get(f"/api/v1/services/{CITIZEN_ITEM}").json()["example_application"]
        form: dict[str, Any] = dict(example["form"])
        form["id_number"] = form["id_number"][:-1] + ("0" if form["id_number"][-1] != "0" else "1")  # checksum broken
        form["phone"] = "12345"
        form["purpose"] = "随便"
        form["unexpected"] = "x"
        del form["applicant_name"]
        body = {"form": form, "materials": {}}  # the required ID card copy is missing
        zh = client.post(f"/api/v1/services/{CITIZEN_ITEM}/applications", json=body, headers=auth("shimin"))
        assert zh.status_code == 422
        error = zh.json()["error"]
        assert error["code"] == "form.invalid"
        fields = error["fields"]
        assert set(fields) == {"id_number", "phone", "purpose", "unexpected", "applicant_name", "materials.id_card"}
        assert "校验" in fields["id_number"] or "身份" in fields["id_number"]
        assert fields["applicant_name"] == "此项为必填项" and fields["materials.id_card"] == "此材料为必交材料"
        assert form["id_number"] not in zh.text  # the ID number is never echoed raw
        en = client.post(f"/api/v1/services/{CITIZEN_ITEM}/applications?lang=en", json=body, headers=auth("shimin"))
        assert en.json()["error"]["fields"]["applicant_name"] == "This field is required"
        assert en.json()["error"]["fields"]["materials.id_card"] == "This material is required"
    assert _stored(services) == (0, 0) and _files(settings) == []


def test_materials_are_checked_by_type_content_and_size(settings: Settings, services: Database, auth: Tokens) -> None:
    with TestClient(create_app(settings)) as client:
        form = client.get(f"/api/v1/services/{CITIZEN_ITEM}").json()["example_application"]["form"]
        url = f"/api/v1/services/{CITIZEN_ITEM}/applications"
        cases = {
            "exe.exe": (PDF, "不接受 exe 类型的文件"),
            "id.pdf": (b"MZ\x90\x00 a program renamed", "文件内容不是 PDF 文件"),
            "big.pdf": (PDF + b"0" * (2 * 1024 * 1024), "2 MiB 的上限"),
            "empty.pdf": (b"", "文件为空"),
        }
        for filename, (content, message) in cases.items():
            body = {"form": form, "materials": {"id_card": {"filename": filename, "content_base64": _b64(content)}}}
            refused = client.post(url, json=body, headers=auth("shimin"))
            assert refused.status_code == 422, filename
            assert message in refused.json()["error"]["fields"]["materials.id_card"], refused.text
        not_base64 = {"form": form, "materials": {"id_card": {"filename": "a.pdf", "content_base64": "%%%"}}}
        assert client.post(url, json=not_base64, headers=auth("shimin")).status_code == 422
        traversal = {
            "form": form,
            "materials": {"id_card": {"filename": "../../etc/passwd.pdf", "content_base64": _b64(PDF)}},
        }
        accepted = client.post(url, json=traversal, headers=auth("shimin"))
        assert accepted.status_code == 201, accepted.text
        application = client.get(f"/api/v1/applications/{accepted.json()['id']}", headers=auth("shimin")).json()
        assert application["materials"][0]["filename"] == "passwd.pdf"
        download = client.get(f"/api/v1/applications/{application['id']}/materials/id_card", headers=auth("shimin"))
        assert download.content == PDF and download.headers["content-type"] == "application/pdf"
        assert (
            client.get(f"/api/v1/applications/{application['id']}/materials/id_card", headers=auth("qiye")).status_code
            == 403
        )
    assert _stored(services) == (1, 1)
    assert [p.parent.name for p in _files(settings)] == [str(application["id"])]


def test_a_held_licence_replaces_its_material(settings: Settings, services: Database, auth: Tokens) -> None:
    """免提交: the food licence asks for the business licence, which the platform verifies instead."""
    with services.session() as session:
        qiye = session.scalar(select(User.id).where(User.username == "qiye"))
        licences.import_licence(
            session,
            Actor.operator(),
            licence_type="business-licence",
            name="营业执照",
            number="BL-TEST-1",
            holder_name="海口椰风餐饮管理有限公司",
            holder_code="91460100MA5T3K2L02",
            holder_user_id=qiye,
            issuer_department_id=1,
            valid_from=date(2024, 1, 1),
            valid_to=None,
        )
    with TestClient(create_app(settings)) as client:
        item = client.get("/api/v1/services/food-business-licence").json()
        body = item["example_application"]
        body["materials"].pop("business_licence")
        without = client.post("/api/v1/services/food-business-licence/applications", json=body, headers=auth("touzi"))
        assert without.status_code == 422 and "materials.business_licence" in without.json()["error"]["fields"]
        created = client.post("/api/v1/services/food-business-licence/applications", json=body, headers=auth("qiye"))
        assert created.status_code == 201, created.text
        application = client.get(f"/api/v1/applications/{created.json()['id']}", headers=auth("qiye")).json()
        by_code = {m["code"]: m for m in application["materials"]}
        assert (
            by_code["business_licence"]["source"] == "licence"
            and by_code["business_licence"]["licence_number"] == "BL-TEST-1"
        )


def test_citizens_cannot_apply_for_enterprise_services(settings: Settings, services: Database, auth: Tokens) -> None:
    with TestClient(create_app(settings)) as client:
        body = client.get("/api/v1/services/food-business-licence").json()["example_application"]
        refused = client.post("/api/v1/services/food-business-licence/applications", json=body, headers=auth("shimin"))
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "application.wrong_audience"
        staff = client.post("/api/v1/services/food-business-licence/applications", json=body, headers=auth("gongan"))
        assert staff.status_code == 403
        assert client.post("/api/v1/services/food-business-licence/applications", json=body).status_code == 401
        missing = client.post("/api/v1/services/no-such-item/applications", json=body, headers=auth("qiye"))
        assert missing.status_code == 404


def test_time_limits_count_working_days_and_flag_overdue(settings: Settings, services: Database, auth: Tokens) -> None:
    with TestClient(create_app(settings)) as client:
        body = client.get(f"/api/v1/services/{CITIZEN_ITEM}").json()["example_application"]
        created = client.post(f"/api/v1/services/{CITIZEN_ITEM}/applications", json=body, headers=auth("shimin")).json()
    with services.session() as session:
        application = session.get(Application, created["id"])
        assert application is not None
        calendar = load_calendar(session)
        # Submitted on the 2026 Mid-autumn holiday: 9-28, 9-29, 9-30, then National Day off until 10-7, then 10-8,
        # 10-9, the make-up Saturday 10-10 and Monday 10-12 make seven working days.
        application.submitted_at = datetime(2026, 9, 25, 2, 0, tzinfo=UTC)
        application.promised_due_at = calendar.add_working_days(application.submitted_at, 7)
        assert application.promised_due_at.astimezone(UTC).date() == date(2026, 10, 12)
        assert handling.deadline(application, calendar, 2, now=datetime(2026, 10, 9, 2, tzinfo=UTC)) == "nearly_due"
        assert handling.deadline(application, calendar, 2, now=datetime(2026, 10, 13, 2, tzinfo=UTC)) == "overdue"
        assert handling.deadline(application, calendar, 2, now=datetime(2026, 9, 28, 2, tzinfo=UTC)) == "on_time"
    with TestClient(create_app(settings)) as client:
        overdue = client.get("/api/v1/tasks", params={"flag": "overdue"}, headers=auth("gongan")).json()
        assert [t["application_id"] for t in overdue] == [created["id"]]
        assert client.get("/api/v1/tasks", params={"flag": "overdue"}, headers=auth("shichang")).json() == []
        everyone = client.get("/api/v1/tasks", params={"flag": "overdue"}, headers=auth("admin")).json()
        assert [t["application_id"] for t in everyone] == [created["id"]]


def test_readings_by_anyone_but_the_applicant_are_audited(settings: Settings, services: Database, auth: Tokens) -> None:
    """The applicant's own readings write nothing; handling staff's and the auditor's are in the audit chain (the
    application holds personal data), whether read through the API or as a page."""
    with TestClient(create_app(settings)) as client:
        body = client.get(f"/api/v1/services/{CITIZEN_ITEM}").json()["example_application"]
        made = client.post(f"/api/v1/services/{CITIZEN_ITEM}/applications", json=body, headers=auth("shimin"))
        application_id = made.json()["id"]

        def readings() -> list[str]:
            with services.read_session() as session:
                entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "application.read")).all()
                return [e.actor_name for e in entries if e.resource_id == str(application_id)]

        assert client.get(f"/api/v1/applications/{application_id}", headers=auth("shimin")).status_code == 200
        assert readings() == []
        assert client.get(f"/api/v1/applications/{application_id}", headers=auth("gongan")).status_code == 200
        assert client.get(f"/api/v1/applications/{application_id}", headers=auth("auditor")).status_code == 200
        assert client.get(f"/api/v1/applications/{application_id}", headers=auth("weijian")).status_code == 403
        assert readings() == ["gongan", "auditor"]
        assert sign_in(client, "gongan", DEMO_PASSWORD).status_code == 303  # type: ignore[attr-defined]
        assert client.get(f"/applications/{application_id}").status_code == 200
        assert readings() == ["gongan", "auditor", "gongan"]
