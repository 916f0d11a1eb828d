"""Settings: environment, config file, defaults, and clear errors for bad values."""

from __future__ import annotations

from pathlib import Path

import pytest

from yiwang.core.errors import InvalidInput
from yiwang.core.settings import Settings, load_settings


def test_defaults_use_embedded_sqlite_in_the_data_dir(tmp_path: Path) -> None:
    settings = load_settings()
    assert settings.environment == "development" and settings.default_locale == "zh_CN"
    assert settings.resolved_database_url == f"sqlite:///{tmp_path / 'yiwang-data' / 'yiwang.db'}"
    assert not settings.secure_cookies


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("YIWANG_DATA_DIR", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("YIWANG_DATABASE_URL", "postgresql://u:p@db.example/yiwang")
    settings = load_settings()
    assert settings.data_dir == tmp_path / "elsewhere"
    assert settings.resolved_database_url == "postgresql+psycopg://u:p@db.example/yiwang"


def test_a_config_file_is_read_and_the_environment_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "yiwang.toml").write_text('port = 9000\ndefault_locale = "en"\n', encoding="utf-8")
    monkeypatch.setenv("YIWANG_PORT", "9100")
    settings = load_settings()
    assert settings.port == 9100 and settings.default_locale == "en"


@pytest.mark.parametrize(
    "name, value, words",
    [
        ("YIWANG_PORT", "eighty", "port"),
        ("YIWANG_PORT", "70000", "port"),
        ("YIWANG_DATABASE_URL", "mysql://x", "database_url"),
        ("YIWANG_ENVIRONMENT", "staging", "environment"),
        ("YIWANG_SECRET_KEY", "short", "secret_key"),
    ],
)
def test_bad_values_get_one_clear_error(monkeypatch: pytest.MonkeyPatch, name: str, value: str, words: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(InvalidInput) as bad:
        load_settings()
    assert bad.value.code == "settings.invalid" and words in bad.value.render()


@pytest.mark.parametrize("secret", [None, "changeme", "x" * 31])
def test_production_refuses_missing_or_placeholder_secrets(monkeypatch: pytest.MonkeyPatch, secret: str | None) -> None:
    monkeypatch.setenv("YIWANG_ENVIRONMENT", "production")
    if secret is not None:
        monkeypatch.setenv("YIWANG_SECRET_KEY", secret)
    with pytest.raises(InvalidInput, match="settings.invalid"):
        load_settings()


def test_production_with_a_real_secret_sets_secure_cookies(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YIWANG_ENVIRONMENT", "production")
    monkeypatch.setenv("YIWANG_SECRET_KEY", "0123456789abcdef0123456789abcdef-real")
    assert load_settings().secure_cookies


def test_unknown_keys_and_a_missing_config_file_are_errors(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "yiwang.toml").write_text("prot = 1\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="settings.invalid"):
        load_settings()
    monkeypatch.setenv("YIWANG_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(InvalidInput, match="settings.config_missing"):
        load_settings()


def test_a_broken_config_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "yiwang.toml").write_text("port = = 1\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="settings.invalid"):
        load_settings()


def test_every_setting_is_documented() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "configuration.md").read_text(encoding="utf-8")
    for name, field in Settings.model_fields.items():
        assert field.description, name
        assert f"`YIWANG_{name.upper()}`" in doc, f"{name} missing from docs/configuration.md"
