"""A missing PostgreSQL or NATS skips a test locally but fails it under CI=true."""

from __future__ import annotations

import socket

import pytest

from tests.support import services


def test_missing_service_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true and no PostgreSQL"):
        services.unavailable("no PostgreSQL")


def test_missing_service_skips_outside_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no NATS"):
        services.unavailable("no NATS")


def test_port_probe_tells_open_from_closed() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert services._tcp_answers(f"nats://127.0.0.1:{port}", 4222) is None
    problem = services._tcp_answers(f"nats://127.0.0.1:{port}", 4222)
    assert problem is not None
    assert f"127.0.0.1:{port}" in problem


def test_sqlalchemy_urls_get_the_asyncpg_driver() -> None:
    assert services.as_asyncpg_url("postgresql://u@h/db") == "postgresql+asyncpg://u@h/db"
    assert services.as_asyncpg_url("postgresql+asyncpg://u@h/db") == "postgresql+asyncpg://u@h/db"
