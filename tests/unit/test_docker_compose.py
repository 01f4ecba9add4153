"""docker-compose.yml starts what production needs, configured like the settings model."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from services.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def test_hub_environment_is_exactly_the_settings_model() -> None:
    environment = compose()["services"]["hub"]["environment"]
    expected = {f"HUB_{name.upper()}" for name in Settings.model_fields}

    assert set(environment) == expected


def test_hub_environment_values_are_valid_settings(monkeypatch: Any) -> None:
    for name, value in compose()["services"]["hub"]["environment"].items():
        monkeypatch.setenv(name, str(value))
    settings = Settings()
    assert settings.database_url.startswith("postgresql+asyncpg://")
    assert "@postgres:5432/" in settings.database_url
    nats_url = urlsplit(settings.nats_url or "")
    assert (nats_url.scheme, nats_url.username, nats_url.hostname, nats_url.port) == (
        "nats",
        "hub",
        "nats",
        4222,
    )
    assert settings.log_format == "json"


def test_postgres_16_and_nats_2_with_jetstream_on_volumes() -> None:
    services = compose()["services"]
    assert services["postgres"]["image"].startswith("postgres:16")
    assert services["nats"]["image"].startswith("nats:2")
    assert "-js" in services["nats"]["command"]
    assert services["nats"]["command"][:2] == ["-c", "/etc/nats/nats.conf"]  # per-partner users
    assert any(v.endswith(":/data") for v in services["nats"]["volumes"])
    assert any(v.endswith(":/var/lib/postgresql/data") for v in services["postgres"]["volumes"])
    assert set(compose()["volumes"]) == {"postgres-data", "nats-data"}


def test_every_service_has_a_health_check_and_the_hub_waits_for_healthy() -> None:
    services = compose()["services"]
    for name, service in services.items():
        assert "healthcheck" in service, f"{name} has no health check"
    depends = services["hub"]["depends_on"]
    assert depends == {
        "postgres": {"condition": "service_healthy"},
        "nats": {"condition": "service_healthy"},
    }


def test_the_hub_is_built_from_the_dockerfile_with_the_locked_runtime() -> None:
    assert compose()["services"]["hub"]["build"] == "."
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "--require-hashes -r requirements/runtime.txt" in dockerfile
    assert (ROOT / "requirements" / "runtime.txt").is_file()
