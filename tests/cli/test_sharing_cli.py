"""`yiwang sharing requests|approve|refuse|revoke` as an administrator's script uses them."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from yiwang.cli.main import app
from yiwang.core import accounts
from yiwang.core.db import Database
from yiwang.core.identity import Actor
from yiwang.sharing import service

runner = CliRunner()
POLICE = "海南省公安厅"
HEALTH = "海南省卫生健康委员会"


def ask(database: Database, consumer: Actor) -> int:
    data = service.RequestInput("people", ["姓名", "身份证号"], "核验户籍", "《户口登记条例》", 30)
    with database.session() as session:
        return service.create_request(session, consumer, data, service.SharingPolicy()).id


def test_list_approve_refuse_and_revoke(cli_env: dict[str, str], tmp_path: Path) -> None:
    def yiwang(*args: str) -> tuple[int, str]:
        result = runner.invoke(app, list(args), env=cli_env)
        return result.exit_code, result.output

    assert yiwang("init")[0] == 0
    for department in (POLICE, HEALTH):
        assert yiwang("department", "add", department)[0] == 0
    source = tmp_path / "people.csv"
    source.write_text("姓名,身份证号\n张三,11010519491231002X\n", encoding="utf-8")
    assert yiwang("ingest", str(source), "--dataset", "people", "--department", POLICE)[0] == 0
    database = Database(cli_env["YIWANG_DATABASE_URL"])
    try:
        with database.session() as session:
            user = accounts.create_user(session, Actor.operator(), "weijian", "pw-123456789", ["dept_staff"], HEALTH)
            consumer = accounts.actor_for(user)
        first, second = ask(database, consumer), ask(database, consumer)
    finally:
        database.dispose()

    code, out = yiwang("sharing", "requests", "--json")
    assert code == 0, out
    listed = [json.loads(line) for line in out.splitlines()]
    assert [(r["id"], r["state"], r["consumer"]) for r in listed] == [
        (second, "pending", HEALTH),
        (first, "pending", HEALTH),
    ]

    code, out = yiwang("sharing", "approve", str(first), "--fields", "身份证号", "--mask", "身份证号=raw")
    assert code == 2 and "sharing.raw_id_number" in out
    code, out = yiwang("sharing", "approve", str(first), "--mask", "身份证号=pseudonym", "--days", "7")
    assert code == 0, out
    grant_id = out.strip().splitlines()[-1]
    assert len(grant_id) == 32
    code, out = yiwang("sharing", "refuse", str(second), "--reason", "重复申请")
    assert code == 0, out
    assert yiwang("sharing", "refuse", str(second), "--reason", "again")[0] == 2
    assert yiwang("sharing", "revoke", grant_id, "--reason", "停止使用")[0] == 0
    states = [json.loads(line)["state"] for line in yiwang("sharing", "requests", "--json")[1].splitlines()]
    assert states == ["refused", "revoked"]
    table = yiwang("sharing", "requests", "--state", "revoked")[1]
    assert "people" in table and str(first) in table
    assert yiwang("sharing", "revoke", "nope")[0] == 2
