"""Runtime settings, read from the environment (prefix ``HUB_``) and an optional ``.env`` file."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/signaalhub.sqlite3"


class LogFormat(StrEnum):
    CONSOLE = "console"
    JSON = "json"


class Settings(BaseSettings):
    """Everything an operator can set. Names are the environment variables without ``HUB_``."""

    model_config = SettingsConfigDict(env_prefix="HUB_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        description="SQLAlchemy async URL: sqlite+aiosqlite:///path or postgresql+asyncpg://...",
    )
    nats_url: str | None = Field(
        default=None,
        description="NATS server URL (nats://host:4222); empty means in-process delivery.",
    )
    config_dir: Path = Field(
        default=Path("config"),
        description="Folder with partners, projects, routing and wijken configuration.",
    )
    log_format: LogFormat = Field(default=LogFormat.CONSOLE, description="console or json")
    log_level: str = Field(default="INFO", description="Python log level name.")
    master_key: SecretStr | None = Field(
        default=None,
        description=(
            "Current master key (base64 of 32 bytes) that wraps the households' data keys; "
            "required with PostgreSQL. Never stored in the database."
        ),
    )
    master_key_previous: SecretStr | None = Field(
        default=None,
        description="Older master keys (comma-separated base64), kept until `keys rotate` ran.",
    )
    master_key_file: Path | None = Field(
        default=None,
        description=(
            "File with master keys instead of HUB_MASTER_KEY: one base64 key a line, the "
            "first is current. Without either on SQLite, var/master.key is generated."
        ),
    )

    @field_validator(
        "nats_url", "master_key", "master_key_previous", "master_key_file", mode="before"
    )
    @classmethod
    def _empty_means_none(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("database_url")
    @classmethod
    def _supported_driver(cls, value: str) -> str:
        if value.startswith("postgresql://") or value.startswith("postgres://"):
            return "postgresql+asyncpg://" + value.split("://", 1)[1]
        if value.startswith("sqlite:///"):
            return "sqlite+aiosqlite:///" + value.removeprefix("sqlite:///")
        if not value.startswith(("postgresql+asyncpg://", "sqlite+aiosqlite://")):
            raise ValueError(
                "database_url must start with postgresql+asyncpg:// or sqlite+aiosqlite:// "
                f"(got scheme {value.split('://', 1)[0]!r})"
            )
        return value

    def redacted_nats_url(self) -> str | None:
        """The NATS URL with any password masked, for printing."""
        if not self.nats_url:
            return self.nats_url
        from urllib.parse import urlsplit, urlunsplit

        parts = urlsplit(self.nats_url)
        if parts.password is None:
            return self.nats_url
        host = parts.hostname or ""
        netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
        return urlunsplit(parts._replace(netloc=netloc))

    def redacted_database_url(self) -> str:
        """The database URL with any password masked, for printing."""
        from sqlalchemy.engine import make_url

        return make_url(self.database_url).render_as_string(hide_password=True)
