"""Settings: one pydantic-settings class; every field has a default, a description and validation.

Sources, strongest first: explicit arguments, ``YIWANG_*`` environment variables, the TOML config file
(``YIWANG_CONFIG`` or ``yiwang.toml`` in the working directory), then the defaults below.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

from yiwang.core.errors import InvalidInput
from yiwang.core.i18n import N_

CONFIG_ENV = "YIWANG_CONFIG"
DEFAULT_CONFIG_FILE = "yiwang.toml"
SECRET_KEY_FILE = "secret_key"
# Values people paste from examples; refused outside development so nobody runs production on them.
PLACEHOLDER_SECRETS = frozenset({"changeme", "change-me", "secret", "yiwang", "dev", "development", "please-change"})
MIN_SECRET_LENGTH = 32


def config_file_path() -> Path | None:
    """The TOML config file in effect: ``$YIWANG_CONFIG`` if set, else ``./yiwang.toml`` if it exists."""
    explicit = os.environ.get(CONFIG_ENV)
    if explicit:
        return Path(explicit)
    local = Path(DEFAULT_CONFIG_FILE)
    return local if local.exists() else None


class Settings(BaseSettings):
    """Every setting of a yiwang installation (``YIWANG_<NAME>`` in the environment, ``name`` in the TOML file)."""

    model_config = SettingsConfigDict(env_prefix="YIWANG_", extra="forbid", validate_default=True)

    environment: Literal["development", "production"] = Field(
        "development",
        description="`production` refuses placeholder secrets and sets secure cookies.",
    )
    data_dir: Path = Field(
        Path("yiwang-data"),
        description="Directory holding the SQLite database, dataset files and keys (created by `yiwang init`).",
    )
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL of the metadata database; default SQLite file `<data_dir>/yiwang.db`. "
        "PostgreSQL: `postgresql+psycopg://user:pass@host/db`.",
    )
    secret_key: SecretStr | None = Field(
        None,
        description="Key signing session cookies and keyed pseudonyms (at least 32 characters). In development "
        "a random key is generated once into `<data_dir>/secret_key`; required in production.",
    )
    default_locale: Literal["zh_CN", "en"] = Field("zh_CN", description="Language of pages when the user chose none.")
    session_max_age: int = Field(
        8 * 3600, ge=300, le=30 * 24 * 3600, description="Seconds a web login stays valid (300 … 2,592,000)."
    )
    cookie_secure: bool | None = Field(
        None, description="Send cookies over HTTPS only; default: true in production, false in development."
    )
    audit_algorithm: Literal["auto", "sm3", "sha256"] = Field(
        "auto", description="Hash of the audit chain: `auto` uses SM3 where the installed cryptography offers it."
    )
    login_max_failures: int = Field(
        5, ge=1, le=100, description="Failed logins in a row after which an account is locked for a while."
    )
    login_lock_minutes: int = Field(15, ge=1, le=24 * 60, description="Minutes an account stays locked.")
    login_address_max_failures: int = Field(
        30,
        ge=1,
        le=100_000,
        description="Failed sign-ins from one client address (any accounts) after which it must wait for the window.",
    )
    login_address_window_minutes: int = Field(
        15, ge=1, le=24 * 60, description="Minutes of the window in which one address's failed sign-ins are counted."
    )
    max_upload_mb: int = Field(
        2048, ge=1, le=1024 * 1024, description="Largest file accepted by an upload or `yiwang ingest`, in MiB."
    )
    sharing_review_days: int = Field(
        10,
        ge=1,
        le=60,
        description="Working days (the calendar's: weekends and public holidays off, make-up days worked) an owner "
        "department has to decide a sharing request before it is flagged overdue.",
    )
    sharing_rate_limit: int = Field(
        600, ge=1, le=100_000, description="Exchange calls a grant allows per minute unless its approval says less."
    )
    services_warning_days: int = Field(
        2,
        ge=0,
        le=30,
        description="Working days before an application's promised time limit when it is flagged as nearly due.",
    )
    services_rectification_days: int = Field(
        5, ge=1, le=60, description="Working days a department has to rectify and explain a bad rating (差评)."
    )
    host: str = Field("127.0.0.1", description="Address `yiwang serve` listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port `yiwang serve` listens on.")
    trusted_proxies: str = Field(
        "",
        max_length=2000,
        description="Comma-separated addresses of reverse proxies whose X-Forwarded-For names the client; empty: none.",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        path = config_file_path()
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("sqlite:", "sqlite+pysqlite:", "postgresql:", "postgresql+psycopg:")):
            raise ValueError("must start with sqlite:// or postgresql+psycopg://")
        if value.startswith("postgresql://"):
            # psycopg 3 is the driver we install; plain postgresql:// would look for psycopg2.
            return "postgresql+psycopg://" + value.removeprefix("postgresql://")
        return value

    @model_validator(mode="after")
    def _production_needs_a_real_secret(self) -> Settings:
        if self.environment == "production":
            key = self.secret_key.get_secret_value() if self.secret_key else ""
            if not key or key.lower() in PLACEHOLDER_SECRETS or len(key) < MIN_SECRET_LENGTH:
                raise ValueError(
                    f"secret_key must be set to a random value of at least {MIN_SECRET_LENGTH} characters in production"
                )
        elif self.secret_key is not None and len(self.secret_key.get_secret_value()) < MIN_SECRET_LENGTH:
            raise ValueError(f"secret_key must be at least {MIN_SECRET_LENGTH} characters")
        return self

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to the SQLite file inside the data directory."""
        return self.database_url or f"sqlite:///{self.data_dir.resolve() / 'yiwang.db'}"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")

    @property
    def secure_cookies(self) -> bool:
        return self.cookie_secure if self.cookie_secure is not None else self.environment == "production"

    def secret(self) -> str:
        """The signing key: configured, or the one generated into the data directory by `yiwang init`."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        path = self.data_dir / SECRET_KEY_FILE
        try:
            return path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            raise InvalidInput(
                "settings.secret_missing",
                N_("No secret key: set YIWANG_SECRET_KEY or run `yiwang init` to create {path}"),
                path=str(path),
            ) from None


def load_settings(**overrides: Any) -> Settings:
    """Build the settings, turning validation failures into one clear, translatable error."""
    path = config_file_path()
    if path is not None and not path.is_file():
        raise InvalidInput("settings.config_missing", N_("Config file {path} does not exist"), path=str(path))
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'settings'}: {err['msg']}" for err in exc.errors()
        )
        raise InvalidInput("settings.invalid", N_("Invalid settings: {problems}"), problems=problems) from None
    except ValueError as exc:  # a TOML syntax error surfaces as ValueError
        raise InvalidInput("settings.invalid", N_("Invalid settings: {problems}"), problems=str(exc)) from None


def ensure_secret_file(settings: Settings) -> None:
    """Create the data directory's random secret key once (development installs without YIWANG_SECRET_KEY)."""
    path = settings.data_dir / SECRET_KEY_FILE
    if settings.secret_key is not None or path.exists():
        return
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(secrets.token_urlsafe(48))
