"""The floor under our batched append: the same rows loaded raw, with no store logic at all.

The table is compiled from the store's own ``events_table``, so columns, types and unique
constraints stay exactly in step with what the store writes.
"""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url
from sqlalchemy.schema import CreateTable

from bench.databases import PostgresTarget, SqliteTarget, Target, store_sqlite_pragmas
from bench.signals import ArrearsSignalled, Workload
from bench.timing import Operation, Timings, stopwatch
from events.store.schema import events_table

COLUMNS = (
    "event_id",
    "stream_id",
    "stream_version",
    "event_type",
    "schema_version",
    "payload",
    "metadata",
    "recorded_at",
)
EMPTY_METADATA_JSON = "{}"


def _create_table_ddl(store_url: str) -> str:
    """``CREATE TABLE events`` exactly as the store's own driver dialect would emit it."""
    return str(CreateTable(events_table).compile(dialect=make_url(store_url).get_dialect()()))


def _batches_of_rows(workload: Workload, *, sqlite: bool) -> list[list[tuple[Any, ...]]]:
    recorded_at = datetime.now(UTC)
    # SQLAlchemy keeps UUIDs as 32 hex digits and datetimes as naive text on SQLite.
    stamp: Any = recorded_at.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else recorded_at
    batches = []
    for stream, indexes in zip(workload.batch_stream_ids, workload.batches(), strict=True):
        stream_id = f"signals-{stream}"
        batches.append(
            [
                (
                    workload.event_ids[i].hex if sqlite else workload.event_ids[i],
                    stream_id,
                    version,
                    ArrearsSignalled.event_type,
                    ArrearsSignalled.schema_version,
                    workload.payloads[i],
                    EMPTY_METADATA_JSON,
                    stamp,
                )
                for version, i in enumerate(indexes, start=1)
            ]
        )
    return batches


async def _copy_postgres(target: PostgresTarget, workload: Workload) -> Timings:
    batches = _batches_of_rows(workload, sqlite=False)
    conn = await asyncpg.connect(target.dsn, server_settings={"search_path": target.schema})
    try:
        await conn.execute(_create_table_ddl(target.url))
        with stopwatch() as watch:
            for rows in batches:
                async with conn.transaction():
                    await conn.copy_records_to_table("events", records=rows, columns=COLUMNS)
        return {Operation.APPEND_BATCH: watch.seconds}
    finally:
        await conn.close()


def _insert_sqlite(target: SqliteTarget, workload: Workload) -> Timings:
    batches = _batches_of_rows(workload, sqlite=True)
    # The store's own pragmas, so that only the store's own work differs.
    pragmas = store_sqlite_pragmas(target)
    conn = sqlite3.connect(target.path, isolation_level=None)
    try:
        for name, value in pragmas.items():
            conn.execute(f"PRAGMA {name}={value}")
        conn.execute(_create_table_ddl("sqlite+aiosqlite://"))
        insert = (
            f"INSERT INTO events ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
        )
        with stopwatch() as watch:
            for rows in batches:
                conn.execute("BEGIN IMMEDIATE")
                conn.executemany(insert, rows)
                conn.execute("COMMIT")
        return {Operation.APPEND_BATCH: watch.seconds}
    finally:
        conn.close()


def load_batches(target: Target, workload: Workload) -> Timings:
    if isinstance(target, PostgresTarget):
        return asyncio.run(_copy_postgres(target, workload))
    return _insert_sqlite(target, workload)
