"""赛道 and 数据可用不可见 over HTTP: a track, an application, private queries within the budget, refusals."""

from __future__ import annotations

import json
import random
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import pytest
from factories import UserFactory, csrf_from, sign_in, token_for
from fastapi.testclient import TestClient
from sqlalchemy import select

from yiwang.catalog.sql import SqlTable, execute_locked, open_sandbox
from yiwang.core import accounts
from yiwang.core.db import Database
from yiwang.core.errors import Conflict, InvalidInput
from yiwang.core.identity import Actor
from yiwang.core.models import AuditEntry
from yiwang.core.settings import Settings
from yiwang.sandbox import service
from yiwang.web.app import create_app

POLICE = "海南省公安厅"
DIVISIONS = ["460105", "460106", "460107", "460108"]
CREDIT_CODE = "91350100M000100Y43"


def auth(token: str) -> dict[str, str]:
    return {"Authorization": token}


def people_csv(rows: int = 600) -> bytes:
    rng = random.Random(7)
    lines = ["身份证号,姓名,性别,年龄,区划,月收入"]
    weights = [0.5, 0.3, 0.2, 0.0]  # nobody lives in 460108: its group must still be released, as noise
    for number in range(rows):
        division = rng.choices(DIVISIONS, weights)[0]
        lines.append(
            f"46010019900101{number:04d},姓名{number},{rng.choice('男女')},{rng.randint(18, 90)},{division},"
            f"{rng.randint(2000, 20000)}"
        )
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def tokens(database: Database, make_user: UserFactory) -> dict[str, str]:
    make_user("gongan", "dept_staff", department=POLICE)
    make_user("admin", "admin")
    make_user("qiye", "enterprise")
    make_user("other", "enterprise")
    make_user("auditor", "auditor")
    return {name: token_for(database, name) for name in ("gongan", "admin", "qiye", "other", "auditor")}


def track(client: TestClient, tokens: dict[str, str], epsilon: float = 5.0, **extra: object) -> int:
    publisher = auth(tokens["gongan"])
    body = {"name": "people", "title": "人口", "department": POLICE, "open_type": "conditional"}
    assert client.post("/api/v1/datasets", headers=publisher, json=body).status_code == 201
    uploaded = client.post(
        "/api/v1/datasets/people/versions", headers=publisher, files={"file": ("p.csv", people_csv(), "text/csv")}
    )
    assert uploaded.status_code == 201, uploaded.text
    created = client.post(
        "/api/v1/sandbox/tracks",
        headers=auth(tokens["admin"]),
        json={
            "name": "普惠金融",
            "description": "以人口结构评估小微信贷需求",
            "datasets": ["people"],
            "epsilon": epsilon,
            "min_group_size": 5,
            "bounds": {"年龄": [0, 100], "月收入": [0, 50000]},
            "public_domains": {"区划": DIVISIONS, "性别": ["男", "女"]},
            **extra,
        },
    )
    assert created.status_code == 201, created.text
    return int(created.json()["id"])


def approved(client: TestClient, tokens: dict[str, str], track_id: int, who: str = "qiye") -> int:
    applied = client.post(
        f"/api/v1/sandbox/tracks/{track_id}/applications",
        headers=auth(tokens[who]),
        json={"credit_code": CREDIT_CODE, "project": "小微企业主信贷需求测算"},
    )
    assert applied.status_code == 201 and applied.json()["state"] == "pending", applied.text
    decided = client.post(
        f"/api/v1/sandbox/applications/{applied.json()['id']}/approve", headers=auth(tokens["gongan"])
    )
    assert decided.status_code == 200 and decided.json()["state"] == "approved", decided.text
    return int(applied.json()["id"])


def query(client: TestClient, token: str, track_id: int, sql: str, epsilon: float = 0.5) -> dict[str, object]:
    response = client.post(
        f"/api/v1/sandbox/tracks/{track_id}/queries", headers=auth(token), json={"sql": sql, "epsilon": epsilon}
    )
    return {"status": response.status_code, **response.json()}


def test_apply_approve_query_and_spend_the_budget(
    client: TestClient, tokens: dict[str, str], database: Database
) -> None:
    track_id = track(client, tokens, epsilon=1.0)
    not_yet = query(client, tokens["qiye"], track_id, 'SELECT count(*) FROM "people"')
    assert not_yet["status"] == 403
    bad_code = client.post(
        f"/api/v1/sandbox/tracks/{track_id}/applications",
        headers=auth(tokens["qiye"]),
        json={"credit_code": "91350100M000100Y44", "project": "x"},
    )
    assert bad_code.status_code == 422 and bad_code.json()["error"]["code"] == "credit_code.checksum"
    application = approved(client, tokens, track_id)

    result = query(
        client,
        tokens["qiye"],
        track_id,
        "SELECT 区划, count(*) AS 人数, avg(月收入) AS 平均收入 FROM people GROUP BY 区划 ORDER BY 区划",
        epsilon=0.6,
    )
    assert result["status"] == 200, result
    assert result["columns"] == ["区划", "人数", "平均收入"]
    rows = result["rows"]
    assert isinstance(rows, list) and [row[0] for row in rows] == sorted(row[0] for row in rows)
    assert {row[0] for row in rows} <= set(DIVISIONS) and len(rows) >= 3  # 460108 is empty: noise, likely suppressed
    assert result["epsilon_spent"] == 0.6 and abs(float(result["budget_left"]) - 0.4) < 1e-9
    noise = result["noise"]
    assert isinstance(noise, dict) and noise["人数"]["mechanism"] == "discrete laplace" and noise["人数"]["scale"] > 0
    assert all(
        band[1] is not None and band[1][0] <= row[1] <= band[1][1]
        for row, band in zip(rows, result["intervals"], strict=True)
    )

    exhausted = query(client, tokens["qiye"], track_id, 'SELECT count(*) FROM "people"', epsilon=0.5)
    assert exhausted["status"] == 409 and exhausted["error"]["code"] == "budget.exhausted"
    last = query(client, tokens["qiye"], track_id, 'SELECT count(*) FROM "people"', epsilon=0.4)
    assert last["status"] == 200 and last["budget_left"] == 0
    shown = client.get(f"/api/v1/sandbox/applications/{application}", headers=auth(tokens["qiye"])).json()
    assert shown["budget_left"] == 0
    history = client.get(f"/api/v1/sandbox/tracks/{track_id}/releases", headers=auth(tokens["qiye"])).json()
    assert [r["epsilon"] for r in history] == [0.4, 0.6]

    with database.read_session() as session:
        actions = [
            (e.action, e.result)
            for e in session.scalars(select(AuditEntry).order_by(AuditEntry.seq))
            if e.action.startswith(("sandbox.", "track."))
        ]
    assert ("sandbox.query", "denied") in actions and actions.count(("sandbox.release", "success")) == 2
    assert actions.count(("sandbox.budget_charge", "success")) == 2


def test_a_noisy_count_is_inside_its_interval_nineteen_times_in_twenty(
    client: TestClient, tokens: dict[str, str]
) -> None:
    runs = 60
    track_id = track(client, tokens, epsilon=runs * 1.0)
    approved(client, tokens, track_id)
    truth = {division: 0 for division in DIVISIONS}
    for line in people_csv().decode().splitlines()[1:]:
        truth[line.split(",")[4]] += 1
    inside = total = 0
    for _ in range(runs):
        result = query(client, tokens["qiye"], track_id, "SELECT 区划, count(*) AS n FROM people GROUP BY 区划", 1.0)
        assert result["status"] == 200
        for row, band in zip(result["rows"], result["intervals"], strict=True):
            low, high = band[1]
            total += 1
            inside += low <= truth[row[0]] <= high
    assert total >= runs * 3 and inside / total >= 0.90, (inside, total)


HOSTILE = [
    ('SELECT * FROM "people"', "row-level"),
    ('SELECT 姓名 FROM "people"', "a column not grouped"),
    ('SELECT 姓名, count(*) FROM "people" GROUP BY 姓名', "group by a column without a public domain"),
    ('SELECT 年龄, count(*) FROM "people" GROUP BY 年龄', "group by a high-cardinality column"),
    ('SELECT min(月收入) FROM "people"', "MIN"),
    ('SELECT max(年龄) FROM "people"', "MAX"),
    ('SELECT sum(身份证号) FROM "people"', "SUM of an unbounded column"),
    ('SELECT count(*) FROM "other-data"', "a dataset outside the track"),
    ("SELECT count(*) FROM read_csv('/etc/passwd')", "read_csv"),
    ("SELECT count(*) FROM read_text('/etc/passwd')", "read_text"),
    ("SELECT count(*) FROM read_parquet('/tmp/x.parquet')", "read_parquet"),
    ("SELECT count(*) FROM 'people.csv'", "a file as a table"),
    ("SELECT count(*) FROM glob('/*')", "glob"),
    ("SELECT count(*) FROM people WHERE getenv('HOME') = 'x'", "getenv"),
    ("COPY (SELECT 1) TO '/tmp/out.csv'", "COPY TO"),
    ("ATTACH '/tmp/x.db' AS x", "ATTACH"),
    ("INSTALL httpfs", "INSTALL"),
    ("LOAD httpfs", "LOAD"),
    ("SET enable_external_access = true", "SET"),
    ("PRAGMA database_list", "PRAGMA"),
    ("SELECT count(*) FROM duckdb_settings()", "a table function"),
    ("SELECT count(*) FROM people WHERE current_setting('threads') > 0", "current_setting"),
    ("SELECT count(*) FROM query('SELECT 1')", "query()"),
    ('SELECT count(*) FROM (SELECT * FROM "people") AS t', "a sub-query"),
    ('WITH t AS (SELECT * FROM "people") SELECT count(*) FROM t', "a CTE"),
    ('SELECT count(*) FROM "people" WHERE 年龄 IN (SELECT 年龄 FROM "people")', "a nested sub-query"),
    ('SELECT count(*) FROM "people" a JOIN "people" b ON a.年龄 = b.年龄', "a join"),
    ('SELECT count(*) FROM "people" UNION SELECT count(*) FROM "people"', "UNION"),
    ('SELECT count(*) FROM "people"; DROP TABLE people', "two statements"),
    ('SELECT /* x */ count(*) FROM "people" LIMIT 1', "LIMIT"),
    ("SELECT count(*) FROM people /*; ATTACH '/tmp/x' AS y */ WHERE 1 = 1; ATTACH '/tmp/y' AS z", "a hidden ATTACH"),
    ('SELECT count(DISTINCT 姓名) FROM "people"', "DISTINCT"),
    ('SELECT 区划, count(*) FROM "people" GROUP BY 区划 HAVING count(*) < 3', "HAVING"),
    ('SELECT count(*) OVER () FROM "people"', "a window"),
    ('CREATE TEMP TABLE t AS SELECT * FROM "people"', "a temp table"),
]


def test_refused_queries_never_run_and_are_audited(
    client: TestClient, tokens: dict[str, str], database: Database
) -> None:
    track_id = track(client, tokens)
    approved(client, tokens, track_id)
    for sql, what in HOSTILE:
        result = query(client, tokens["qiye"], track_id, sql, epsilon=0.1)
        assert result["status"] == 422, (what, result)
        assert result["error"]["code"] in ("sql.refused", "sql.syntax"), (what, result)
        assert "Traceback" not in json.dumps(result)
    left = client.get("/api/v1/sandbox/applications", headers=auth(tokens["qiye"])).json()[0]["id"]
    assert client.get(f"/api/v1/sandbox/applications/{left}", headers=auth(tokens["qiye"])).json()["budget_left"] == 5
    with database.read_session() as session:
        refusals = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "sandbox.query", AuditEntry.result == "denied")
        ).all()
    assert len(refusals) == len(HOSTILE) and len(HOSTILE) >= 25


def test_a_cross_join_that_would_run_for_minutes_is_interrupted(tmp_path: Path) -> None:
    """The second barrier alone: even a query the rules would refuse stops at the sandbox's time limit."""
    source = tmp_path / "numbers.parquet"
    duckdb.sql(f"COPY (SELECT range AS n FROM range(200000)) TO '{source}' (FORMAT parquet)")
    connection = open_sandbox([SqlTable("numbers", source, [("n", "none")])], tmp_path / "spill", 1.0)
    started = time.perf_counter()
    with pytest.raises(duckdb.InterruptException):
        execute_locked(
            connection, 'SELECT count(*) FROM "numbers" a, "numbers" b, "numbers" c WHERE a.n + b.n = c.n', 10, 1.0
        )
    assert time.perf_counter() - started < 30  # 8·10¹⁵ combinations: minutes at least, were it not stopped
    connection.close()


def test_only_the_approved_applicant_queries_and_only_reviewers_decide(
    client: TestClient, tokens: dict[str, str]
) -> None:
    track_id = track(client, tokens)
    applied = client.post(
        f"/api/v1/sandbox/tracks/{track_id}/applications",
        headers=auth(tokens["other"]),
        json={"credit_code": CREDIT_CODE, "project": "测算"},
    ).json()["id"]
    assert client.post(
        f"/api/v1/sandbox/applications/{applied}/approve", headers=auth(tokens["other"])
    ).status_code in (403, 404)
    assert (
        client.post(
            f"/api/v1/sandbox/applications/{applied}/refuse", headers=auth(tokens["gongan"]), json={}
        ).status_code
        == 422
    )
    refused = client.post(
        f"/api/v1/sandbox/applications/{applied}/refuse",
        headers=auth(tokens["admin"]),
        json={"reason": "项目与赛道无关"},
    )
    assert refused.status_code == 200 and refused.json()["state"] == "refused"
    assert query(client, tokens["other"], track_id, 'SELECT count(*) FROM "people"')["status"] == 403
    approved(client, tokens, track_id)
    assert query(client, tokens["qiye"], track_id, 'SELECT count(*) FROM "people"')["status"] == 200
    for name in ("gongan", "admin", "auditor"):
        assert query(client, tokens[name], track_id, 'SELECT count(*) FROM "people"')["status"] == 403
    assert (
        client.post(
            "/api/v1/sandbox/tracks",
            headers=auth(tokens["gongan"]),
            json={"name": "x", "datasets": ["people"], "epsilon": 1},
        ).status_code
        == 403
    )


def test_a_release_becomes_a_data_product_in_the_catalogue(client: TestClient, tokens: dict[str, str]) -> None:
    track_id = track(client, tokens)
    approved(client, tokens, track_id)
    released = query(client, tokens["qiye"], track_id, "SELECT 性别, count(*) AS 人数 FROM people GROUP BY 性别", 1.0)
    body = {"source": "release", "id": released["release_id"], "name": "sex-ratio", "title": "性别结构（差分隐私）"}
    assert client.post("/api/v1/sandbox/products", headers=auth(tokens["other"]), json=body).status_code == 404
    published = client.post("/api/v1/sandbox/products", headers=auth(tokens["qiye"]), json=body)
    assert published.status_code == 201, published.text
    assert published.json()["track"] == "普惠金融" and published.json()["credit_code"] == CREDIT_CODE
    shown = client.get("/api/v1/datasets/sex-ratio").json()  # open to everyone, anonymous included
    assert shown["department"] == POLICE and "数据产品" in shown["tags"] and "普惠金融" in shown["description"]
    rows = client.get("/api/v1/datasets/sex-ratio/rows").json()["rows"]
    assert sorted(row["性别"] for row in rows) == sorted(row[0] for row in released["rows"])
    assert [p["dataset"] for p in client.get("/api/v1/sandbox/products").json()] == ["sex-ratio"]
    again = client.post("/api/v1/sandbox/products", headers=auth(tokens["qiye"]), json=body)
    assert again.status_code == 409


def test_the_editor_keeps_a_refused_query_and_says_why(
    settings: Settings, tokens: dict[str, str], database: Database
) -> None:
    with TestClient(create_app(settings)) as client:
        track_id = track(client, tokens)
        approved(client, tokens, track_id)
        assert getattr(sign_in(client, "qiye"), "status_code", None) == 303
        page = client.get(f"/tracks/{track_id}?lang=en")
        assert 'data-testid="query-form"' in page.text and "Privacy budget left" in page.text
        refused = client.post(
            f"/tracks/{track_id}/query",
            data={"sql": "SELECT 姓名 FROM people", "epsilon": "0.5", "csrf_token": csrf_from(page.text)},
        )
        assert refused.status_code == 422
        assert 'data-testid="query-error"' in refused.text and "SELECT 姓名 FROM people" in refused.text
        ran = client.post(
            f"/tracks/{track_id}/query",
            data={"sql": "SELECT count(*) AS n FROM people", "epsilon": "0.5", "csrf_token": csrf_from(page.text)},
            follow_redirects=True,
        )
        assert ran.status_code == 200 and 'data-testid="release"' in ran.text


def test_concurrent_queries_never_spend_more_than_the_budget(
    client: TestClient, tokens: dict[str, str], database: Database, settings: Settings
) -> None:
    """Eight queries at once, each asking ε = 0.3 of a budget of 1.0: three are released, the rest refused."""
    track_id = track(client, tokens, epsilon=1.0)
    approved(client, tokens, track_id)
    with database.read_session() as session:
        enterprise: Actor = accounts.actor_for(accounts.get_user(session, "qiye"))

    def attempt(_: int) -> str:
        try:
            service.run_private_query(
                database, enterprise, settings.data_dir, track_id, "SELECT count(*) FROM people", 0.3
            )
        except (InvalidInput, Conflict) as refusal:
            return refusal.code
        return "released"

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(attempt, range(8)))
    assert outcomes.count("released") == 3 and outcomes.count("budget.exhausted") == 5, outcomes
    with database.read_session() as session:
        application = service.my_application(session, enterprise, track_id)
        assert application is not None and service.spent(session, application.id) <= 1.0
