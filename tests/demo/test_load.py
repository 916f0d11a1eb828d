"""`yiwang demo --no-serve`: a fresh installation with every demo account, reusable and resettable."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
from sqlalchemy import select
from typer.testing import CliRunner

from yiwang.cli.main import app
from yiwang.core import accounts, audit
from yiwang.core.identity import Actor
from yiwang.core.installation import open_installation
from yiwang.core.models import AuditEntry
from yiwang.core.settings import Settings
from yiwang.demo.accounts import ACCOUNTS, DEMO_PASSWORD, DEPARTMENTS
from yiwang.sandbox import service as sandbox
from yiwang.sandbox.models import ApplicationState
from yiwang.sharing import service as sharing
from yiwang.sharing import usage
from yiwang.sharing.models import RequestState

runner = CliRunner()


def demo(cli_env: dict[str, str], *extra: str) -> tuple[int, str]:
    result = runner.invoke(app, ["demo", "--no-serve", "--size", "small", *extra], env=cli_env)
    return result.exit_code, result.output


def test_the_demo_loads_every_account_and_dataset(cli_env: dict[str, str]) -> None:
    code, out = demo(cli_env, "--seed", "1")
    assert code == 0, out
    assert DEMO_PASSWORD in out and all(a.username in out for a in ACCOUNTS)
    settings = Settings(data_dir=Path(cli_env["YIWANG_DATA_DIR"]), database_url=cli_env["YIWANG_DATABASE_URL"])
    database = open_installation(settings)
    try:
        with database.session() as session:
            assert len(accounts.list_departments(session, Actor.operator())) == len(DEPARTMENTS)
            for account in ACCOUNTS:
                actor = accounts.login(session, account.username, account.password).actor_or_raise()
                assert sorted(actor.roles) == sorted(account.roles)
                assert actor.department_name == (account.department or "")
        with database.read_session() as session:
            assert audit.verify(session, Actor.operator()).ok
            requests = sharing.list_requests(session, Actor.operator(), limit=500)
            assert {sharing.effective_state(r).value for r in requests} == {s.value for s in RequestState}
            assert any(sharing.is_overdue(r) for r in requests)
            edges = usage.sharing_network(session, Actor.operator())
            departments = {e.owner for e in edges} | {e.consumer for e in edges}
            assert len(departments) >= 8 and sum(e.calls for e in edges) > 0
            tracks = sandbox.list_tracks(session)
            applications = sandbox.list_applications(session, Actor.operator())
            assert len(tracks) == 3 and {a.state for a in applications} == {s.value for s in ApplicationState}
            released = session.scalars(select(AuditEntry).where(AuditEntry.action == "sandbox.release")).all()
            assert len(released) >= 3  # a history of private releases
            lookups = session.scalars(select(AuditEntry).where(AuditEntry.action == "exchange.lookup")).all()
            assert lookups  # a demo service verified people by ID number through its grant
    finally:
        database.dispose()
    sources = Path(cli_env["YIWANG_DATA_DIR"]) / "demo-sources"
    population = pq.read_table(sources / "population-registry.parquet")
    enterprises = pq.read_table(sources / "enterprise-registry.parquet")
    assert population.num_rows > 0 and "person_id" in population.column_names
    listed = runner.invoke(app, ["dataset", "list"], env=cli_env).output
    assert "population-registry" in listed and "enterprise-registry" in listed
    assert enterprises.num_rows > 0 and "credit_code" in enterprises.column_names


def test_running_the_same_demo_again_reuses_it(cli_env: dict[str, str]) -> None:
    assert demo(cli_env, "--seed", "1")[0] == 0
    code, out = demo(cli_env, "--seed", "1")
    assert code == 0 and "reusing" in out


def test_another_seed_needs_a_reset_and_reset_starts_over(cli_env: dict[str, str]) -> None:
    assert demo(cli_env, "--seed", "1")[0] == 0
    code, out = demo(cli_env, "--seed", "2")
    assert code == 2 and "demo.not_empty" in out
    code, out = demo(cli_env, "--seed", "2", "--reset")
    assert code == 0, out


def test_reset_never_empties_a_directory_the_demo_did_not_make(cli_env: dict[str, str]) -> None:
    assert runner.invoke(app, ["init"], env=cli_env).exit_code == 0
    assert (
        runner.invoke(
            app, ["user", "add", "real", "--role", "admin", "--password", "precious-1"], env=cli_env
        ).exit_code
        == 0
    )
    code, out = demo(cli_env, "--reset")
    assert code == 2 and "demo.not_empty" in out
    assert "real" in runner.invoke(app, ["user", "list"], env=cli_env).output
