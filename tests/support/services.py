"""Finding the real PostgreSQL and NATS servers that integration tests need.

Order: ``HUB_TEST_DATABASE_URL`` / ``HUB_TEST_NATS_URL`` when set; else a testcontainers
container when a Docker engine answers; else skip with the reason — except under
``CI=true``, where a missing service fails the run instead of hiding it.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlparse

import pytest

POSTGRES_IMAGE = "postgres:16-alpine"
NATS_IMAGE = "nats:2.10-alpine"


def running_in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def unavailable(reason: str) -> None:
    """Skip outside CI; fail under CI, where every integration test must really run."""
    if running_in_ci():
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


def docker_engine_answers() -> bool:
    try:
        import docker

        client = docker.from_env(timeout=3)
        return bool(client.ping())
    except Exception:
        return False


def as_asyncpg_url(url: str) -> str:
    scheme, rest = url.split("://", 1)
    if scheme in {"postgresql", "postgres", "postgresql+psycopg2", "postgresql+psycopg"}:
        return f"postgresql+asyncpg://{rest}"
    return url


def _tcp_answers(url: str, default_port: int) -> str | None:
    """None when something accepts connections at the URL's host and port, else the problem.

    Synchronous on purpose: fixtures may be first requested while an event loop runs.
    """
    parsed = urlparse(url)
    address = (parsed.hostname or "127.0.0.1", parsed.port or default_port)
    try:
        with socket.create_connection(address, timeout=5):
            return None
    except OSError as error:
        return f"{address[0]}:{address[1]}: {error}"


@contextmanager
def postgres_server() -> Iterator[str]:
    """Yields an asyncpg SQLAlchemy URL of a reachable PostgreSQL server."""
    configured = os.environ.get("HUB_TEST_DATABASE_URL")
    if configured:
        url = as_asyncpg_url(configured)
        problem = _tcp_answers(url, 5432)
        if problem:
            unavailable(f"HUB_TEST_DATABASE_URL is set but PostgreSQL does not answer: {problem}")
        yield url
        return
    if docker_engine_answers():
        from testcontainers.community.postgres import PostgresContainer

        with PostgresContainer(POSTGRES_IMAGE, driver="asyncpg") as container:
            yield container.get_connection_url()
        return
    unavailable("no PostgreSQL: set HUB_TEST_DATABASE_URL or start a Docker engine")


@contextmanager
def nats_server() -> Iterator[str]:
    """Yields the URL of a reachable NATS server with JetStream."""
    configured = os.environ.get("HUB_TEST_NATS_URL")
    if configured:
        problem = _tcp_answers(configured, 4222)
        if problem:
            unavailable(f"HUB_TEST_NATS_URL is set but NATS does not answer: {problem}")
        yield configured
        return
    if docker_engine_answers():
        from testcontainers.community.nats import NatsContainer

        with NatsContainer(NATS_IMAGE, jetstream=True) as container:
            yield container.nats_uri()
        return
    unavailable("no NATS: set HUB_TEST_NATS_URL or start a Docker engine")
