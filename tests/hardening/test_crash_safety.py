"""Crash safety: `yiwang serve` killed with SIGKILL at random moments while it ingests uploads, files sharing
requests, takes service applications with material files, completes their workflow tasks and appends to the audit
chain — then restarted, on SQLite and PostgreSQL.

After every kill: the audit chain verifies, the database passes its integrity check, every published version's
Parquet file is whole (its row count matches), no request or application the client was told was filed is lost or
duplicated, every application's stored workflow restores and waits on exactly the tasks the database lists as open,
every stored material file matches its checksum, and the restarted server answers.
"""

from __future__ import annotations

import base64
import hashlib
import os
import random
import signal
import threading
import time
from pathlib import Path

import httpx2
import pyarrow.parquet as pq
import pytest
from factories import TEST_SECRET, UserFactory, token_for
from live import start_server
from sqlalchemy import select, text

from yiwang.catalog.models import Dataset, DatasetVersion
from yiwang.core import audit
from yiwang.core.db import Database
from yiwang.core.identity import Actor
from yiwang.core.settings import Settings
from yiwang.services import bpmn, items, workflow
from yiwang.services.models import Application
from yiwang.sharing.models import SharingRequest

KILLS = 4
POLICE = "海南省公安厅"
HEALTH = "海南省卫生健康委员会"


def people_csv(rows: int) -> bytes:
    lines = ["编号,姓名,年龄,区划"]
    lines += [f"{n},居民{n},{18 + n % 70},46010{5 + n % 4}" for n in range(rows)]
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def installation(settings: Settings, database_url: str, database: Database, make_user: UserFactory) -> dict[str, str]:
    """The server's environment on a fresh installation with a publisher and a consumer department.

    Built in-process (the CLI has tests of its own): seven `yiwang` commands would start Python seven times.
    """
    make_user("gongan", "dept_staff", department=POLICE)
    make_user("weijian", "dept_staff", department=HEALTH)
    make_user("shimin", "citizen")
    _service(database)
    env = {name: value for name, value in os.environ.items() if not name.startswith("YIWANG_")}
    env.update(
        {
            "YIWANG_DATA_DIR": str(settings.data_dir),
            "YIWANG_DATABASE_URL": database_url,
            "YIWANG_SECRET_KEY": TEST_SECRET,
            "NO_COLOR": "1",
            "PUBLISHER_TOKEN": token_for(database, "gongan"),
            "CONSUMER_TOKEN": token_for(database, "weijian"),
            "APPLICANT_TOKEN": token_for(database, "shimin"),
        }
    )
    return env


SERVICE = "crash-certificate"
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 20_000).decode()


def _service(database: Database) -> None:
    """A citizen service of 海南省公安厅 in two steps (accept, then review) with an optional photo."""
    item = items.ServiceItemInput.model_validate(
        {
            "code": SERVICE,
            "item_code": "460000-GG-99999",
            "name": "证明开具",
            "department": POLICE,
            "category": "公共服务",
            "audience": ["citizen"],
            "legal_days": 5,
            "promised_days": 2,
            "guide": {"summary": "网上办"},
            "form": {
                "type": "object",
                "properties": {"applicant_name": {"type": "string"}},
                "required": ["applicant_name"],
            },
            "materials": [{"code": "photo", "name": "照片", "required": False, "formats": ["png"]}],
        }
    )
    steps = [bpmn.Step("accept", "受理", POLICE), bpmn.Step("review", "审查", POLICE)]
    with database.session() as session:
        items.create_item(session, Actor.operator(), item)
        items.import_process(session, Actor.operator(), SERVICE, bpmn.build("Process_crash", "证明", steps))


def _work(url: str, env: dict[str, str], stop: threading.Event, filed: list[str], round_: int, task: int) -> None:
    """One kind of work (0 uploads, 1 sharing requests, 2 audited reads, 3 applications, 4 task completions), as fast
    as the server takes it, until it dies."""
    publisher = {"Authorization": env["PUBLISHER_TOKEN"]}
    applicant = {"Authorization": env["APPLICANT_TOKEN"]}
    consumer = {"Authorization": env["CONSUMER_TOKEN"]}
    body = people_csv(60_000)
    with httpx2.Client(base_url=url, timeout=30) as client:
        number = 0
        while not stop.is_set():
            number += 1
            try:
                if task == 0:
                    client.post(
                        "/api/v1/datasets/people/versions",
                        headers=publisher,
                        files={"file": ("p.csv", body, "text/csv")},
                    )
                elif task == 1:
                    purpose = f"crash-{round_}-{number}"
                    answer = client.post(
                        "/api/v1/sharing/requests",
                        headers=consumer,
                        json={
                            "dataset": "people",
                            "fields": ["姓名"],
                            "purpose": purpose,
                            "legal_basis": "依法",
                            "days": 1,
                        },
                    )
                    if answer.status_code == 201:
                        filed.append(purpose)
                elif task == 2:
                    client.get("/api/v1/datasets/people/rows?_size=5", headers=consumer)  # an audited read
                elif task == 3:
                    name = f"applicant-{round_}-{number}"
                    answer = client.post(
                        f"/api/v1/services/{SERVICE}/applications",
                        headers=applicant,
                        json={
                            "form": {"applicant_name": name},
                            "materials": {"photo": {"filename": "p.png", "content_base64": PNG}},
                        },
                    )
                    if answer.status_code == 201:
                        filed.append(name)
                else:
                    for open_task in client.get("/api/v1/tasks", headers=publisher).json()[:5]:
                        client.post(
                            f"/api/v1/tasks/{open_task['id']}/complete", headers=publisher, json={"decision": "approve"}
                        )
            except httpx2.HTTPError:
                return


def test_sigkill_at_random_moments_loses_and_corrupts_nothing(
    installation: dict[str, str], tmp_path: Path, database_url: str
) -> None:
    env = installation
    log = tmp_path / "server.log"
    server, url = start_server(env, tmp_path, log)
    created = httpx2.post(
        f"{url}/api/v1/datasets",
        headers={"Authorization": env["PUBLISHER_TOKEN"]},
        json={"name": "people", "title": "人口", "department": POLICE, "share_type": "conditional"},
    )
    assert created.status_code == 201, created.text
    first = httpx2.post(
        f"{url}/api/v1/datasets/people/versions",
        headers={"Authorization": env["PUBLISHER_TOKEN"]},
        files={"file": ("p.csv", people_csv(1000), "text/csv")},
        timeout=60,
    )
    assert first.status_code == 201, first.text
    rng = random.Random(20261201)
    filed: list[str] = []
    for round_ in range(KILLS):
        stop = threading.Event()
        workers = [threading.Thread(target=_work, args=(url, env, stop, filed, round_, task)) for task in range(5)]
        for worker in workers:
            worker.start()
        time.sleep(rng.uniform(0.3, 2.0))
        os.kill(server.pid, signal.SIGKILL)
        server.wait(timeout=10)
        stop.set()
        for worker in workers:
            worker.join(timeout=60)
        _check(env, database_url, filed)
        server, url = start_server(env, tmp_path, log)
        assert httpx2.get(f"{url}/healthz").status_code == 200
    server.terminate()
    server.wait(timeout=10)
    assert any(f.startswith("crash-") for f in filed) and any(f.startswith("applicant-") for f in filed), (
        "the workload filed no request or no application before the kills: the test would prove nothing"
    )


def _check(env: dict[str, str], database_url: str, filed: list[str]) -> None:
    database = Database(database_url)
    try:
        with database.read_session() as session:
            assert audit.verify(session, Actor.operator()).ok, "the audit chain is broken"
            if database.is_sqlite:
                assert session.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
            dataset = session.scalar(select(Dataset).where(Dataset.name == "people"))
            assert dataset is not None and dataset.current_version is not None
            for version in session.scalars(select(DatasetVersion).where(DatasetVersion.dataset_id == dataset.id)):
                path = Path(env["YIWANG_DATA_DIR"]) / "datasets" / "people" / version.directory / "data.parquet"
                assert pq.ParquetFile(path).metadata.num_rows == version.row_count, version.directory
            purposes = list(session.scalars(select(SharingRequest.purpose)))
            names = [a.form["applicant_name"] for a in session.scalars(select(Application))]
            for application in session.scalars(select(Application)):
                _check_application(env, application)
    finally:
        database.dispose()
    assert len(purposes) == len(set(purposes)), "a request was filed twice"
    assert len(names) == len(set(names)), "an application was stored twice"
    acknowledged = set(filed)
    assert acknowledged <= set(purposes) | set(names), "a request or application the client was told of is gone"


def _check_application(env: dict[str, str], application: Application) -> None:
    """Its workflow restores and waits on exactly the open tasks; its files match their checksums."""
    instance = workflow.Instance.restore(application.instance_state, application.process.spec_state)
    waiting = {t.task_id for t in instance.open_tasks()}
    listed = {t.engine_task_id for t in application.tasks if t.state in ("open", "claimed")}
    assert waiting == listed, f"application {application.id}: engine waits on {waiting}, database lists {listed}"
    assert (application.state == "completed") == instance.is_completed
    for material in application.materials:
        stored = Path(env["YIWANG_DATA_DIR"]) / material.stored_as
        assert hashlib.sha256(stored.read_bytes()).hexdigest() == material.sha256, material.stored_as
