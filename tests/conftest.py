"""Fixtures shared by every tier: real PostgreSQL and NATS, and a fresh event store per test."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from events.migrations import upgrade
from events.registry import EventRegistry
from events.store import SqlEventStore
from events.store.engine import create_engine
from tests.support.events import test_registry
from tests.support.services import nats_server, postgres_server


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    with postgres_server() as url:
        yield url


@pytest.fixture(scope="session")
def nats_url() -> Iterator[str]:
    with nats_server() as url:
        yield url


@pytest.fixture
def registry() -> EventRegistry:
    return test_registry


async def _sqlite_store(directory: Path, registry: EventRegistry) -> SqlEventStore:
    engine = create_engine(f"sqlite+aiosqlite:///{directory / 'events.sqlite3'}")
    await upgrade(engine)
    return SqlEventStore(engine, registry, poll_interval=0.05)


@asynccontextmanager
async def fresh_postgres_schema(postgres_url: str) -> AsyncIterator[str]:
    """A new, empty schema, dropped afterwards: each test gets a clean database."""
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_url, pool_size=1)
    async with admin.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield schema
    finally:
        async with admin.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()


def postgres_engine_in_schema(postgres_url: str, schema: str, **kwargs: Any) -> AsyncEngine:
    return create_engine(
        postgres_url, connect_args={"server_settings": {"search_path": schema}}, **kwargs
    )


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def store(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path, registry: EventRegistry
) -> AsyncIterator[SqlEventStore]:
    """The event store on every backend: the contract suite runs unchanged against each."""
    if backend == "sqlite":
        sqlite = await _sqlite_store(tmp_path, registry)
        yield sqlite
        await sqlite.close()
        return
    url = request.getfixturevalue("postgres_url")
    async with fresh_postgres_schema(url) as schema:
        engine = postgres_engine_in_schema(url, schema)
        await upgrade(engine)
        postgres = SqlEventStore(engine, registry, poll_interval=0.05)
        yield postgres
        await postgres.close()


@pytest.fixture
async def postgres_store(
    postgres_url: str, registry: EventRegistry
) -> AsyncIterator[SqlEventStore]:
    async with fresh_postgres_schema(postgres_url) as schema:
        engine = postgres_engine_in_schema(postgres_url, schema)
        await upgrade(engine)
        postgres = SqlEventStore(engine, registry, poll_interval=0.05)
        yield postgres
        await postgres.close()
