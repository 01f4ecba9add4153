"""Where a measurement runs: a fresh PostgreSQL schema or a fresh SQLite file, removed after."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import asyncpg
from sqlalchemy.engine import make_url

from events.store.engine import create_engine

Backend = Literal["sqlite", "postgres"]
BACKENDS: tuple[Backend, ...] = ("sqlite", "postgres")
DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


def postgres_url_from_env() -> str:
    return (
        os.environ.get("HUB_BENCH_DATABASE_URL")
        or os.environ.get("HUB_TEST_DATABASE_URL")
        or DEFAULT_POSTGRES_URL
    )


@dataclass(frozen=True, slots=True)
class PostgresTarget:
    url: str
    """SQLAlchemy URL of the server (``postgresql+asyncpg://...``)."""
    schema: str

    @property
    def dsn(self) -> str:
        """The URL in the plain libpq form that asyncpg and psycopg take."""
        return plain_dsn(self.url)


@dataclass(frozen=True, slots=True)
class SqliteTarget:
    path: Path


Target = PostgresTarget | SqliteTarget


def plain_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _execute(url: str, statement: str) -> None:
    conn = await asyncpg.connect(plain_dsn(url))
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@contextmanager
def fresh_target(backend: Backend, postgres_url: str) -> Iterator[Target]:
    """A new, empty schema or SQLite file; synchronous so both sync and async contenders fit."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="hub-bench-") as directory:
            yield SqliteTarget(Path(directory) / "events.sqlite3")
        return
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    asyncio.run(_execute(postgres_url, f'CREATE SCHEMA "{schema}"'))
    try:
        yield PostgresTarget(postgres_url, schema)
    finally:
        asyncio.run(_execute(postgres_url, f'DROP SCHEMA "{schema}" CASCADE'))


async def _server_version(url: str) -> str:
    conn = await asyncpg.connect(plain_dsn(url))
    try:
        return str(await conn.fetchval("SHOW server_version"))
    finally:
        await conn.close()


def postgres_server_version(url: str) -> str:
    return asyncio.run(_server_version(url))


def sqlite_version() -> str:
    return sqlite3.sqlite_version


SQLITE_PRAGMAS = ("journal_mode", "synchronous", "busy_timeout", "foreign_keys")


async def _store_pragmas(path: Path) -> dict[str, object]:
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with engine.connect() as conn:
            return {
                name: (await conn.exec_driver_sql(f"PRAGMA {name}")).scalar_one()
                for name in SQLITE_PRAGMAS
            }
    finally:
        await engine.dispose()


def store_sqlite_pragmas(target: SqliteTarget) -> dict[str, object]:
    """The pragmas our engine sets on a connection to the file, read back from SQLite.

    Read rather than copied from events/store/engine.py, so the raw limit keeps using the
    store's settings when they change.
    """
    return asyncio.run(_store_pragmas(target.path))
