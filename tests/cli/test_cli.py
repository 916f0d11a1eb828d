"""The `yiwang` command as scripts use it: exit codes, the token on the last line, clear errors."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from yiwang.cli.main import app
from yiwang.core import accounts
from yiwang.core.models import AuditEntry
from yiwang.core.settings import Settings

runner = CliRunner()


def yiwang(cli_env: dict[str, str], *args: str, input: str | None = None) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env=cli_env, input=input)
    return result.exit_code, result.output


def test_init_creates_the_data_dir_with_a_private_secret(tmp_path: Path) -> None:
    code, out = yiwang({"YIWANG_DATA_DIR": str(tmp_path / "fresh")}, "init")
    assert code == 0, out
    secret = tmp_path / "fresh" / "secret_key"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600 and len(secret.read_text()) >= 32
    assert (tmp_path / "fresh" / "yiwang.db").exists()
    assert yiwang({"YIWANG_DATA_DIR": str(tmp_path / "fresh")}, "migrate")[0] == 0


def test_accounts_from_the_command_line(cli_env: dict[str, str]) -> None:
    assert yiwang(cli_env, "init")[0] == 0
    assert yiwang(cli_env, "department", "add", "海南省公安厅", "--division", "460000")[0] == 0
    code, out = yiwang(
        cli_env,
        "user",
        "add",
        "chen",
        "--role",
        "dept_staff",
        "--department",
        "海南省公安厅",
        "--password",
        "secret-pass-1",
    )
    assert code == 0, out
    code, out = yiwang(cli_env, "token", "create", "chen", "--expires-days", "30")
    assert code == 0, out
    token = out.strip().splitlines()[-1]
    assert token.startswith("yw_")
    database = Settings(data_dir=Path(cli_env["YIWANG_DATA_DIR"]), database_url=cli_env["YIWANG_DATABASE_URL"])
    from yiwang.core.installation import open_installation

    db = open_installation(database)
    try:
        with db.read_session() as session:
            assert accounts.check_token(session, token).actor.department_name == "海南省公安厅"
    finally:
        db.dispose()
    assert "chen" in yiwang(cli_env, "user", "list")[1] and "海南省公安厅" in yiwang(cli_env, "department", "list")[1]
    assert yiwang(cli_env, "user", "passwd", "chen", "--password", "another-pass-2")[0] == 0
    assert yiwang(cli_env, "token", "list", "chen")[1].count("yw_") == 1  # the prefix only
    assert yiwang(cli_env, "token", "revoke", "1")[0] == 0


def test_the_password_can_be_typed_at_a_prompt(cli_env: dict[str, str]) -> None:
    yiwang(cli_env, "init")
    code, out = yiwang(cli_env, "user", "add", "lin", "--role", "auditor", input="typed-secret-1\ntyped-secret-1\n")
    assert code == 0, out and "typed-secret-1" not in out


@pytest.mark.parametrize(
    "args, code_text",
    [
        (("user", "add", "xy", "--role", "king", "--password", "long-enough"), "role.unknown"),
        (("user", "add", "xy", "--role", "dept_staff", "--password", "long-enough"), "user.department_required"),
        (("user", "add", "xy", "--role", "citizen", "--password", "short"), "password.too_short"),
        (("department", "add", "某局", "--division", "12345"), "division."),
        (("token", "create", "nobody"), "user.not_found"),
    ],
)
def test_refusals_exit_2_with_a_coded_message(cli_env: dict[str, str], args: tuple[str, ...], code_text: str) -> None:
    yiwang(cli_env, "init")
    code, out = yiwang(cli_env, *args)
    assert code == 2 and code_text in out and "Traceback" not in out


def test_audit_verify_exits_1_naming_the_first_bad_entry(cli_env: dict[str, str]) -> None:
    yiwang(cli_env, "init")
    for name in ("甲部门", "乙部门", "丙部门"):
        yiwang(cli_env, "department", "add", name)
    code, out = yiwang(cli_env, "audit", "verify")
    assert code == 0 and "3" in out
    settings = Settings(data_dir=Path(cli_env["YIWANG_DATA_DIR"]), database_url=cli_env["YIWANG_DATABASE_URL"])
    from yiwang.core.installation import open_installation

    db = open_installation(settings)
    with db.session() as session:
        session.execute(update(AuditEntry).where(AuditEntry.seq == 2).values(resource_id="篡改"))
    db.dispose()
    code, out = yiwang(cli_env, "audit", "verify")
    assert code == 1 and "2" in out and "audit.hash_mismatch" in out


def test_a_missing_data_dir_is_explained(tmp_path: Path) -> None:
    code, out = yiwang({"YIWANG_DATA_DIR": str(tmp_path / "nowhere")}, "serve")
    assert code == 2 and "data_dir.missing" in out and "yiwang init" in out


@pytest.mark.parametrize(
    "name, value",
    [("YIWANG_PORT", "eighty"), ("YIWANG_ENVIRONMENT", "production"), ("YIWANG_DATABASE_URL", "oracle://x")],
)
def test_bad_settings_are_explained(tmp_path: Path, name: str, value: str) -> None:
    code, out = yiwang({"YIWANG_DATA_DIR": str(tmp_path), name: value}, "init")
    assert code == 2 and "settings.invalid" in out and "Traceback" not in out


def test_a_schema_older_than_the_code_is_explained(cli_env: dict[str, str]) -> None:
    yiwang(cli_env, "init")
    settings = Settings(data_dir=Path(cli_env["YIWANG_DATA_DIR"]), database_url=cli_env["YIWANG_DATABASE_URL"])
    from yiwang.core import migrate
    from yiwang.core.installation import database_for

    db = database_for(settings)
    migrate.downgrade_to_empty(db)
    db.dispose()
    code, out = yiwang(cli_env, "user", "list")
    assert code == 2 and "yiwang migrate" in out
    assert yiwang(cli_env, "migrate")[0] == 0 and yiwang(cli_env, "user", "list")[0] == 0


def test_help_is_bilingual() -> None:
    out = runner.invoke(app, ["--help"]).output
    assert "一网" in out and "demo" in out and os.linesep in out
