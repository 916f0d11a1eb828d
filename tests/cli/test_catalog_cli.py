"""`yiwang ingest` and `yiwang dataset list` as a script uses them."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from yiwang.cli.main import app

runner = CliRunner()


def test_ingest_creates_the_dataset_and_reports_personal_fields(cli_env: dict[str, str], tmp_path: Path) -> None:
    assert runner.invoke(app, ["init"], env=cli_env).exit_code == 0
    assert runner.invoke(app, ["department", "add", "海南省公安厅"], env=cli_env).exit_code == 0
    source = tmp_path / "people.csv"
    source.write_bytes("姓名,手机号\n张三,13812345678\n李四,13987654321\n".encode("gbk"))
    result = runner.invoke(
        app,
        ["ingest", str(source), "--dataset", "people", "--department", "海南省公安厅", "--title", "人员"],
        env=cli_env,
    )
    assert result.exit_code == 0, result.output
    assert "people" in result.output and "手机号 (phone)" in result.output
    again = runner.invoke(app, ["ingest", str(source), "--dataset", "people"], env=cli_env)
    assert again.exit_code == 0 and "version 2" in again.output
    listed = runner.invoke(app, ["dataset", "list"], env=cli_env).output
    assert "people" in listed and "人员" in listed


def test_ingest_refuses_an_unknown_dataset_and_a_broken_file(cli_env: dict[str, str], tmp_path: Path) -> None:
    runner.invoke(app, ["init"], env=cli_env)
    runner.invoke(app, ["department", "add", "海南省公安厅"], env=cli_env)
    source = tmp_path / "x.csv"
    source.write_text("a\n1\n", encoding="utf-8")
    missing = runner.invoke(app, ["ingest", str(source), "--dataset", "nope"], env=cli_env)
    assert missing.exit_code == 2 and "dataset.not_found" in missing.output
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"PAR1\x00\x00garbage")
    result = runner.invoke(app, ["ingest", str(broken), "--dataset", "x1", "--department", "海南省公安厅"], env=cli_env)
    assert result.exit_code == 2 and "ingest." in result.output and "Traceback" not in result.output
