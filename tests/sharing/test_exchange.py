"""一网协同 end to end over HTTP: request → narrower approval → masked rows and lookups → revocation; audited."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from factories import UserFactory, token_for
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from yiwang.cli.main import app as cli_app
from yiwang.core.db import Database
from yiwang.core.models import AuditEntry

POLICE = "海南省公安厅"
HEALTH = "海南省卫生健康委员会"
CIVIL = "海南省民政厅"
PEOPLE = (
    "身份证号,姓名,户籍地,手机,年龄\n"
    "11010519491231002X,张三,460106,13812345678,76\n"
    "460100199001011237,李四,460105,13900001111,35\n"
    "460106198505050012,王五,460106,,40\n"
)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": token}


@pytest.fixture
def tokens(database: Database, make_user: UserFactory) -> dict[str, str]:
    make_user("gongan", "dept_staff", department=POLICE)
    make_user("weijian", "dept_staff", department=HEALTH)
    make_user("minzheng", "dept_staff", department=CIVIL)
    make_user("admin", "admin")
    make_user("auditor", "auditor")
    make_user("qiye", "enterprise")
    return {name: token_for(database, name) for name in ("gongan", "weijian", "minzheng", "admin", "auditor", "qiye")}


def publish(client: TestClient, token: str, name: str = "population", share_type: str = "conditional") -> None:
    created = client.post(
        "/api/v1/datasets",
        headers=auth(token),
        json={"name": name, "title": "户籍人口", "department": POLICE, "share_type": share_type},
    )
    assert created.status_code == 201, created.text
    upload = client.post(
        f"/api/v1/datasets/{name}/versions",
        headers=auth(token),
        files={"file": ("人口.csv", PEOPLE.encode("gbk"), "text/csv")},
    )
    assert upload.status_code == 201, upload.text


def ask(client: TestClient, token: str, **overrides: object) -> dict[str, object]:
    body = {
        "dataset": "population",
        "fields": ["身份证号", "姓名"],
        "purpose": "新生儿出生医学证明办理核验户籍",
        "legal_basis": "《出生医学证明管理办法》",
        "days": 30,
        **overrides,
    }
    response = client.post("/api/v1/sharing/requests", headers=auth(token), json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_request_narrow_approval_masked_rows_lookup_and_revocation(
    client: TestClient, tokens: dict[str, str], database: Database, tmp_path: Path
) -> None:
    publish(client, tokens["gongan"])
    created = ask(client, tokens["weijian"])
    assert created["state"] == "pending" and created["grant_id"] is None
    request_id = created["id"]

    queue = client.get("/api/v1/sharing/review", headers=auth(tokens["gongan"])).json()
    assert [r["id"] for r in queue] == [request_id] and queue[0]["overdue"] is False
    assert client.get("/api/v1/sharing/review", headers=auth(tokens["weijian"])).json() == []

    approved = client.post(
        f"/api/v1/sharing/requests/{request_id}/approve",
        headers=auth(tokens["gongan"]),
        json={"fields": ["姓名"], "masking": {"姓名": "masked"}},
    )
    assert approved.status_code == 200, approved.text
    grant_id = approved.json()["grant_id"]

    rows = client.get(f"/api/v1/exchange/{grant_id}/rows", headers=auth(tokens["weijian"]))
    assert rows.status_code == 200, rows.text
    assert rows.json()["rows"] == [{"姓名": "张*"}, {"姓名": "李*"}, {"姓名": "王*"}]
    assert rows.json()["next"] is None and rows.json()["fields"] == [{"name": "姓名", "disclosure": "masked"}]

    found = client.get(f"/api/v1/exchange/{grant_id}/lookup", params={"姓名": "李四"}, headers=auth(tokens["weijian"]))
    assert found.status_code == 200, found.text
    assert found.json()["rows"] == [{"姓名": "李*"}]
    not_granted = client.get(
        f"/api/v1/exchange/{grant_id}/lookup",
        params={"身份证号": "460100199001011237"},
        headers=auth(tokens["weijian"]),
    )
    assert not_granted.status_code == 422 and not_granted.json()["error"]["code"] == "rows.unknown_field"

    detail = client.get(f"/api/v1/sharing/requests/{request_id}", headers=auth(tokens["weijian"])).json()
    assert detail["state"] == "granted" and [e["event"] for e in detail["history"]] == ["submitted", "narrowed"]

    revoked = client.post(
        f"/api/v1/grants/{grant_id}/revoke", headers=auth(tokens["gongan"]), json={"reason": "用途已完成"}
    )
    assert revoked.status_code == 200 and revoked.json()["live"] is False
    after = client.get(f"/api/v1/exchange/{grant_id}/rows", headers=auth(tokens["weijian"]))
    assert after.status_code == 403 and after.json()["error"]["code"] == "grant.revoked"
    assert client.get(f"/api/v1/sharing/requests/{request_id}", headers=auth(tokens["weijian"])).json()["state"] == (
        "revoked"
    )

    with database.read_session() as session:
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
    sharing = [(e.action, e.result) for e in entries if e.action.startswith(("sharing.", "exchange.", "grant."))]
    assert sharing == [
        ("sharing.request", "success"),
        ("sharing.grant", "success"),
        ("exchange.rows", "success"),
        ("exchange.lookup", "success"),
        ("grant.revoke", "success"),
        ("exchange.read", "denied"),
    ]
    calls = [e for e in entries if e.action in ("exchange.rows", "exchange.lookup")]
    assert all(e.purpose == "新生儿出生医学证明办理核验户籍" and e.actor_name == "weijian" for e in calls)
    assert json.loads(calls[0].detail)["rows"] == 3 and json.loads(calls[1].detail)["rows"] == 1
    assert "460100199001011237" not in "".join(e.detail + e.resource_id for e in entries)

    env = {
        "YIWANG_DATA_DIR": str(tmp_path / "data"),
        "YIWANG_DATABASE_URL": database.url,
        "YIWANG_SECRET_KEY": "test-secret-" + "k" * 40,
    }
    verified = CliRunner().invoke(cli_app, ["audit", "verify"], env=env)
    assert verified.exit_code == 0, verified.output


def test_no_grant_no_rows_and_a_grant_serves_only_its_department(client: TestClient, tokens: dict[str, str]) -> None:
    publish(client, tokens["gongan"])
    request_id = ask(client, tokens["weijian"])["id"]
    pending_grant = client.get(f"/api/v1/sharing/requests/{request_id}", headers=auth(tokens["weijian"])).json()
    assert pending_grant["grant"] is None
    for name in tokens:
        missing = client.get("/api/v1/exchange/0123456789abcdef0123456789abcdef/rows", headers=auth(tokens[name]))
        assert missing.status_code == 404, name
    grant_id = client.post(
        f"/api/v1/sharing/requests/{request_id}/approve", headers=auth(tokens["gongan"]), json={}
    ).json()["grant_id"]
    for name in ("gongan", "minzheng", "admin", "auditor", "qiye"):
        refused = client.get(f"/api/v1/exchange/{grant_id}/rows", headers=auth(tokens[name]))
        assert refused.status_code == 403, name
    assert client.get(f"/api/v1/exchange/{grant_id}/rows").status_code == 401
    assert client.get(f"/api/v1/exchange/{grant_id}/rows", headers=auth(tokens["weijian"])).status_code == 200


def test_the_row_filter_cannot_be_widened(client: TestClient, tokens: dict[str, str]) -> None:
    publish(client, tokens["gongan"])
    request_id = ask(client, tokens["weijian"], fields=["姓名", "户籍地"], row_filter={"户籍地": "460106"})["id"]
    grant_id = client.post(
        f"/api/v1/sharing/requests/{request_id}/approve", headers=auth(tokens["gongan"]), json={}
    ).json()["grant_id"]

    def names(**params: str) -> list[str]:
        response = client.get(f"/api/v1/exchange/{grant_id}/rows", params=params, headers=auth(tokens["weijian"]))
        assert response.status_code == 200, response.text
        return [row["姓名"] for row in response.json()["rows"]]

    assert names() == ["张*", "王*"]
    assert names(户籍地="460105") == []
    assert names(户籍地__in="460105,460106") == ["张*", "王*"]
    assert names(户籍地__ne="460106") == []
    assert names(**{"户籍地__isnull": "false"}) == ["张*", "王*"]


def test_disclosures_raw_pseudonym_withheld_and_the_raw_id_flag(
    client: TestClient, tokens: dict[str, str], database: Database
) -> None:
    publish(client, tokens["gongan"])
    request_id = ask(client, tokens["weijian"], fields=["身份证号", "姓名", "手机", "年龄"])["id"]
    raw_id = client.post(
        f"/api/v1/sharing/requests/{request_id}/approve",
        headers=auth(tokens["gongan"]),
        json={"masking": {"身份证号": "raw"}},
    )
    assert raw_id.status_code == 422 and raw_id.json()["error"]["code"] == "sharing.raw_id_number"
    not_personal = client.post(
        f"/api/v1/sharing/requests/{request_id}/approve",
        headers=auth(tokens["gongan"]),
        json={"masking": {"年龄": "masked"}},
    )
    assert not_personal.status_code == 422 and not_personal.json()["error"]["code"] == "sharing.nothing_to_mask"
    grant_id = client.post(
        f"/api/v1/sharing/requests/{request_id}/approve",
        headers=auth(tokens["gongan"]),
        json={"masking": {"身份证号": "withheld", "姓名": "pseudonym", "手机": "masked"}},
    ).json()["grant_id"]
    page = client.get(f"/api/v1/exchange/{grant_id}/rows", headers=auth(tokens["weijian"])).json()
    assert [set(row) for row in page["rows"]] == [{"姓名", "手机", "年龄"}] * 3
    first = page["rows"][0]
    assert first["手机"] == "138****5678" and first["年龄"] == 76 and first["姓名"].startswith("ps_")
    again = client.get(f"/api/v1/exchange/{grant_id}/rows", headers=auth(tokens["weijian"])).json()
    assert again["rows"][0]["姓名"] == first["姓名"]  # the same person, the same token
    verified = client.get(
        f"/api/v1/exchange/{grant_id}/lookup",
        params={"身份证号": "11010519491231002x"},
        headers=auth(tokens["weijian"]),
    )
    assert verified.status_code == 200 and verified.json()["rows"] == [first]  # an ID's check letter in any case
    missing = client.get(
        f"/api/v1/exchange/{grant_id}/lookup",
        params={"身份证号": "110105194912310021"},
        headers=auth(tokens["weijian"]),
    )
    assert missing.status_code == 200 and missing.json()["rows"] == []
    probing = client.get(
        f"/api/v1/exchange/{grant_id}/rows", params={"身份证号__startswith": "1101"}, headers=auth(tokens["weijian"])
    )
    assert probing.status_code == 422 and probing.json()["error"]["code"] == "rows.personal_filter"
    sorting = client.get(f"/api/v1/exchange/{grant_id}/rows", params={"sort": "手机"}, headers=auth(tokens["weijian"]))
    assert sorting.status_code == 422

    export = client.get(f"/api/v1/exchange/{grant_id}/export.parquet", headers=auth(tokens["weijian"]))
    assert export.status_code == 200 and export.headers["x-row-count"] == "3"
    table = pq.read_table(io.BytesIO(export.content))
    assert table.column_names == ["姓名", "手机", "年龄"] and table.column("姓名")[0].as_py() == first["姓名"]
    csv = client.get(f"/api/v1/exchange/{grant_id}/export.csv", headers=auth(tokens["weijian"]))
    assert csv.content.startswith("\ufeff".encode()) and "138****5678" in csv.content.decode("utf-8-sig")
    assert "13812345678" not in csv.text

    second = ask(client, tokens["weijian"], fields=["身份证号"])["id"]
    flagged = client.post(
        f"/api/v1/sharing/requests/{second}/approve",
        headers=auth(tokens["gongan"]),
        json={"masking": {"身份证号": "raw"}, "raw_id_number": True},
    ).json()["grant_id"]
    grant = client.get(f"/api/v1/grants/{flagged}", headers=auth(tokens["weijian"])).json()
    assert grant["raw_id_number"] is True
    raw_rows = client.get(f"/api/v1/exchange/{flagged}/rows", headers=auth(tokens["weijian"])).json()["rows"]
    assert raw_rows[0] == {"身份证号": "11010519491231002X"}
    with database.read_session() as session:
        raw_calls = session.scalars(select(AuditEntry).where(AuditEntry.action == "exchange.rows")).all()
    assert [json.loads(e.detail)["raw_id_number"] for e in raw_calls] == [False, False, True]


def test_share_types_decide_how_a_request_starts(client: TestClient, tokens: dict[str, str]) -> None:
    publish(client, tokens["gongan"], "open-registry", share_type="unconditional")
    publish(client, tokens["gongan"], "secret-registry", share_type="none")
    granted = ask(client, tokens["weijian"], dataset="open-registry")
    assert granted["state"] == "granted" and granted["grant_id"]
    rows = client.get(f"/api/v1/exchange/{granted['grant_id']}/rows", headers=auth(tokens["weijian"])).json()
    assert rows["rows"][0] == {"身份证号": "1101**********002X", "姓名": "张*"}
    refused = client.post(
        "/api/v1/sharing/requests",
        headers=auth(tokens["weijian"]),
        json={"dataset": "secret-registry", "fields": ["姓名"], "purpose": "x", "legal_basis": "y", "days": 1},
    )
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "sharing.not_shared"
    own = client.post(
        "/api/v1/sharing/requests",
        headers=auth(tokens["gongan"]),
        json={"dataset": "open-registry", "fields": ["姓名"], "purpose": "x", "legal_basis": "y", "days": 1},
    )
    assert own.status_code == 409 and own.json()["error"]["code"] == "sharing.own_dataset"
    enterprise = client.post(
        "/api/v1/sharing/requests",
        headers=auth(tokens["qiye"]),
        json={"dataset": "open-registry", "fields": ["姓名"], "purpose": "x", "legal_basis": "y", "days": 1},
    )
    assert enterprise.status_code in (403, 404)


def test_refuse_withdraw_and_states(client: TestClient, tokens: dict[str, str]) -> None:
    publish(client, tokens["gongan"])
    first = ask(client, tokens["weijian"])["id"]
    no_reason = client.post(f"/api/v1/sharing/requests/{first}/refuse", headers=auth(tokens["gongan"]), json={})
    assert no_reason.status_code == 422
    by_consumer = client.post(
        f"/api/v1/sharing/requests/{first}/refuse", headers=auth(tokens["weijian"]), json={"reason": "x"}
    )
    assert by_consumer.status_code == 403
    refused = client.post(
        f"/api/v1/sharing/requests/{first}/refuse", headers=auth(tokens["gongan"]), json={"reason": "用途不明确"}
    )
    assert refused.status_code == 200 and refused.json()["state"] == "refused"
    again = client.post(f"/api/v1/sharing/requests/{first}/approve", headers=auth(tokens["gongan"]), json={})
    assert again.status_code == 409 and again.json()["error"]["code"] == "sharing.not_pending"

    second = ask(client, tokens["weijian"])["id"]
    withdrawn = client.post(f"/api/v1/sharing/requests/{second}/withdraw", headers=auth(tokens["weijian"]), json={})
    assert withdrawn.status_code == 200 and withdrawn.json()["state"] == "withdrawn"

    third = ask(client, tokens["weijian"])["id"]
    grant_id = client.post(
        f"/api/v1/sharing/requests/{third}/approve", headers=auth(tokens["gongan"]), json={"days": 10}
    ).json()["grant_id"]
    assert client.post(f"/api/v1/grants/{grant_id}/revoke", headers=auth(tokens["weijian"])).status_code == 403
    assert client.post(f"/api/v1/sharing/requests/{third}/withdraw", headers=auth(tokens["weijian"])).status_code == 200
    assert client.get(f"/api/v1/exchange/{grant_id}/rows", headers=auth(tokens["weijian"])).status_code == 403

    listed = client.get("/api/v1/sharing/requests?direction=outgoing", headers=auth(tokens["weijian"])).json()
    assert [r["state"] for r in listed] == ["withdrawn", "withdrawn", "refused"]
    assert client.get("/api/v1/sharing/requests", headers=auth(tokens["minzheng"])).json() == []
    assert len(client.get("/api/v1/sharing/requests", headers=auth(tokens["auditor"])).json()) == 3
    assert client.get(f"/api/v1/sharing/requests/{first}", headers=auth(tokens["minzheng"])).status_code == 404
