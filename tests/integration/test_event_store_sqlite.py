"""SQLite specifics of the event store: where a lone append runs."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy.ext.asyncio import create_async_engine

from events.envelope import StreamState
from events.migrations import upgrade
from events.store import SqlEventStore
from events.store.engine import create_engine
from tests.support.events import counted, test_registry


async def test_a_lone_append_runs_on_the_loop_thread_when_the_write_lock_is_free(
    tmp_path: Path,
) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'events.sqlite3'}")
    await upgrade(engine)
    store = SqlEventStore(engine, test_registry)
    threads: list[str] = []
    try:
        await store.append("warm", [counted(0)])  # opens the writer connection
        async with store._writer() as conn:
            raw = await conn.get_raw_connection()
            raw.driver_connection._conn.set_trace_callback(  # type: ignore[union-attr]
                lambda sql: (
                    threads.append(threading.current_thread().name)
                    if sql.startswith("INSERT INTO events")
                    else None
                )
            )
        await store.append("lone", [counted(1)], StreamState.NO_STREAM)
    finally:
        await store.close()

    assert threads == [threading.main_thread().name]


async def test_a_store_on_an_engine_that_keeps_connections_to_their_thread_still_appends(
    tmp_path: Path,
) -> None:
    """An engine whose connections refuse other threads (not made by ``create_engine``):
    lone appends go to aiosqlite's worker thread instead of failing."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'events.sqlite3'}"
    migrated = create_engine(url)
    await upgrade(migrated)
    await migrated.dispose()
    own_thread = create_async_engine(url, connect_args={"check_same_thread": True})
    store = SqlEventStore(own_thread, test_registry)
    try:
        first = await store.append("s", [counted(1)], StreamState.NO_STREAM)
        second = await store.append("s", [counted(2)], 1)
        events = [r.event for r in await store.read_stream("s")]
    finally:
        await store.close()

    assert (first.stream_version, second.stream_version) == (1, 2)
    assert [e.number for e in events] == [1, 2]  # type: ignore[attr-defined]
