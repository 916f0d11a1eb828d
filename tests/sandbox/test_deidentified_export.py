"""De-identified exports: the written file reaches k on its quasi-identifiers (checked independently, in Python)."""

from __future__ import annotations

import io
import random
from collections import Counter, defaultdict
from datetime import date, timedelta

import pyarrow.parquet as pq
from factories import UserFactory, token_for
from fastapi.testclient import TestClient

from yiwang.core.db import Database
from yiwang.core.validators import citizen_id_check_digit
from yiwang.demo.datasets import generate

POLICE = "海南省公安厅"
CREDIT_CODE = "91350100M000100Y43"
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "洋", "艳", "勇", "军"]
COUNTIES = ["460105", "460106", "460107", "460108", "460202", "460203", "469001", "469002"]


def auth(token: str) -> dict[str, str]:
    return {"Authorization": token}


def registry(rows: int = 3000) -> bytes:
    rng = random.Random(11)
    lines = ["身份证号,姓名,手机,性别,出生日期,户籍地,学历"]
    for number in range(rows):
        born = date(1940, 1, 1) + timedelta(days=rng.randint(0, 30_000))
        county = rng.choice(COUNTIES)
        first17 = f"{county}{born:%Y%m%d}{number % 1000:03d}"
        person = first17 + citizen_id_check_digit(first17)
        lines.append(
            f"{person},{rng.choice('王李张刘陈杨黄吴')}{rng.choice(GIVEN)},138{number:08d},{rng.choice('男女')},{born.isoformat()},{county},"
            f"{rng.choice(['小学', '初中', '高中', '大学', '研究生'])}"
        )
    return ("\n".join(lines) + "\n").encode()


def test_an_export_reaches_k_and_drops_direct_identifiers(
    client: TestClient, database: Database, make_user: UserFactory
) -> None:
    make_user("gongan", "dept_staff", department=POLICE)
    make_user("admin", "admin")
    make_user("qiye", "enterprise")
    tokens = {name: token_for(database, name) for name in ("gongan", "admin", "qiye")}
    publisher = auth(tokens["gongan"])
    body = {"name": "people", "title": "人口", "department": POLICE, "open_type": "conditional"}
    assert client.post("/api/v1/datasets", headers=publisher, json=body).status_code == 201
    source = registry()
    uploaded = client.post(
        "/api/v1/datasets/people/versions", headers=publisher, files={"file": ("p.csv", source, "text/csv")}
    )
    assert uploaded.status_code == 201, uploaded.text
    k = 10
    track = client.post(
        "/api/v1/sandbox/tracks",
        headers=auth(tokens["admin"]),
        json={
            "name": "医疗健康",
            "datasets": ["people"],
            "epsilon": 1,
            "export": {
                "dataset": "people",
                "k": k,
                "quasi_identifiers": ["出生日期", "性别", "户籍地"],
                "sensitive": "学历",
            },
        },
    ).json()["id"]
    applied = client.post(
        f"/api/v1/sandbox/tracks/{track}/applications",
        headers=auth(tokens["qiye"]),
        json={"credit_code": CREDIT_CODE, "project": "慢病管理服务规划"},
    ).json()["id"]
    assert client.post(f"/api/v1/sandbox/tracks/{track}/exports", headers=auth(tokens["qiye"])).status_code == 403
    client.post(f"/api/v1/sandbox/applications/{applied}/approve", headers=publisher)

    made = client.post(f"/api/v1/sandbox/tracks/{track}/exports", headers=auth(tokens["qiye"]))
    assert made.status_code == 201, made.text
    report = made.json()["report"]
    assert report["k_reached"] >= k and report["rows_in"] == 3000
    assert report["suppressed"] <= 0.05 * 3000 and 0 < report["information_loss"] < 1
    assert report["removed"] == ["姓名", "手机"] and report["pseudonymised"] == ["身份证号"]

    download = client.get(f"/api/v1/sandbox/exports/{made.json()['id']}.parquet", headers=auth(tokens["qiye"]))
    assert download.status_code == 200
    table = pq.read_table(io.BytesIO(download.content))
    assert set(table.column_names) == {"出生日期", "性别", "户籍地", "身份证号", "学历"}
    rows = table.to_pylist()
    assert len(rows) == report["rows_out"]
    classes = Counter((row["出生日期"], row["性别"], row["户籍地"]) for row in rows)
    assert min(classes.values()) >= k
    diversity: defaultdict[tuple[str, str, str], set[str]] = defaultdict(set)
    for row in rows:
        diversity[(row["出生日期"], row["性别"], row["户籍地"])].add(row["学历"])
    assert min(len(values) for values in diversity.values()) == report["l_reached"]
    assert all(str(row["身份证号"]).startswith("ps_") for row in rows)
    assert not set(source.decode().split()) & {str(row["身份证号"]) for row in rows}
    csv = client.get(f"/api/v1/sandbox/exports/{made.json()['id']}.csv", headers=auth(tokens["qiye"]))
    assert csv.status_code == 200 and csv.content.startswith("\ufeff".encode())
    assert client.get(f"/api/v1/sandbox/exports/{made.json()['id']}.csv", headers=publisher).status_code == 404
    product = client.post(
        "/api/v1/sandbox/products",
        headers=auth(tokens["qiye"]),
        json={"source": "export", "id": made.json()["id"], "name": "people-k10", "title": "人口（k=10 脱敏）"},
    )
    assert product.status_code == 201, product.text
    shown = client.get("/api/v1/datasets/people-k10", headers=publisher).json()
    assert shown["open_type"] == "conditional" and "k = " in shown["description"]
    assert client.get("/api/v1/datasets/people-k10/rows").status_code in (401, 403, 404)  # open on conditions only


def test_the_demo_population_reaches_k_on_birth_date_sex_and_county(
    client: TestClient, database: Database, make_user: UserFactory
) -> None:
    """The demo's own population registry, exported at k = 5, checked by counting classes in Python."""
    make_user("gongan", "dept_staff", department=POLICE)
    make_user("admin", "admin")
    make_user("qiye", "enterprise")
    tokens = {name: token_for(database, name) for name in ("gongan", "admin", "qiye")}
    publisher = auth(tokens["gongan"])
    people = generate("population-registry", seed=1, size="small")
    buffer = io.BytesIO()
    pq.write_table(people, buffer)
    body = {"name": "population", "title": "户籍人口", "department": POLICE, "open_type": "conditional"}
    assert client.post("/api/v1/datasets", headers=publisher, json=body).status_code == 201
    uploaded = client.post(
        "/api/v1/datasets/population/versions",
        headers=publisher,
        files={"file": ("population.parquet", buffer.getvalue(), "application/octet-stream")},
    )
    assert uploaded.status_code == 201, uploaded.text
    quasi = ["birth_date", "sex", "household_division"]
    track = client.post(
        "/api/v1/sandbox/tracks",
        headers=auth(tokens["admin"]),
        json={
            "name": "人口研究",
            "datasets": ["population"],
            "epsilon": 1,
            "export": {"k": 5, "quasi_identifiers": quasi},
        },
    ).json()["id"]
    applied = client.post(
        f"/api/v1/sandbox/tracks/{track}/applications",
        headers=auth(tokens["qiye"]),
        json={"credit_code": CREDIT_CODE, "project": "人口结构研究"},
    ).json()["id"]
    client.post(f"/api/v1/sandbox/applications/{applied}/approve", headers=publisher)
    made = client.post(f"/api/v1/sandbox/tracks/{track}/exports", headers=auth(tokens["qiye"])).json()
    rows = pq.read_table(
        io.BytesIO(client.get(f"/api/v1/sandbox/exports/{made['id']}.parquet", headers=auth(tokens["qiye"])).content)
    ).to_pylist()
    classes = Counter(tuple(row[q] for q in quasi) for row in rows)
    assert min(classes.values()) >= 5 and made["report"]["k_reached"] == min(classes.values())
    assert len(rows) >= 0.95 * people.num_rows
    assert "name" not in rows[0] and "phone" not in rows[0] and str(rows[0]["person_id"]).startswith("ps_")
