"""Settings come from HUB_ environment variables, with safe defaults and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from services.settings import DEFAULT_DATABASE_URL, LogFormat, Settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("HUB_DATABASE_URL", "HUB_NATS_URL", "HUB_CONFIG_DIR", "HUB_LOG_FORMAT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env file


def test_defaults_are_the_embedded_sqlite_and_in_process_delivery() -> None:
    settings = Settings()
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.database_url.startswith("sqlite+aiosqlite:///var/")
    assert settings.nats_url is None
    assert settings.log_format is LogFormat.CONSOLE


def test_environment_variables_with_the_hub_prefix_are_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HUB_DATABASE_URL", "postgresql+asyncpg://hub:secret@db:5432/hub")
    monkeypatch.setenv("HUB_NATS_URL", "nats://nats:4222")
    monkeypatch.setenv("HUB_CONFIG_DIR", "/etc/signaalhub")
    monkeypatch.setenv("HUB_LOG_FORMAT", "json")

    settings = Settings()

    assert settings.nats_url == "nats://nats:4222"
    assert settings.config_dir == Path("/etc/signaalhub")
    assert settings.log_format is LogFormat.JSON
    assert "secret" not in settings.redacted_database_url()


def test_plain_postgres_and_sqlite_urls_get_the_async_driver(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HUB_DATABASE_URL", "postgresql://u@h/db")
    assert Settings().database_url == "postgresql+asyncpg://u@h/db"
    monkeypatch.setenv("HUB_DATABASE_URL", "sqlite:///var/x.sqlite3")
    assert Settings().database_url == "sqlite+aiosqlite:///var/x.sqlite3"


def test_empty_nats_url_means_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_NATS_URL", "")
    assert Settings().nats_url is None


def test_unsupported_database_is_refused_naming_the_field(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HUB_DATABASE_URL", "mysql://u@h/db")
    with pytest.raises(ValidationError) as raised:
        Settings()
    [problem] = raised.value.errors()
    assert problem["loc"] == ("database_url",)
    assert "'mysql'" in problem["msg"]


def test_unknown_log_format_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_LOG_FORMAT", "xml")
    with pytest.raises(ValidationError, match="log_format"):
        Settings()
