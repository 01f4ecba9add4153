"""Our event store, used the way the application uses it: ``append`` and ``read_all``."""

from __future__ import annotations

import asyncio
from typing import Any

from bench.databases import PostgresTarget, Target
from bench.signals import Workload, bench_registry
from bench.timing import Operation, Timings, stopwatch
from events.envelope import StreamState
from events.migrations import upgrade
from events.store import SqlEventStore
from events.store.engine import create_engine

READ_PAGE = 1000


async def _open(target: Target) -> SqlEventStore:
    engine_kwargs: dict[str, Any] = {}
    if isinstance(target, PostgresTarget):
        url = target.url
        # The same way tests/conftest.py isolates a store in its own schema.
        engine_kwargs["connect_args"] = {"server_settings": {"search_path": target.schema}}
    else:
        url = f"sqlite+aiosqlite:///{target.path}"
    engine = create_engine(url, **engine_kwargs)
    await upgrade(engine)
    return SqlEventStore(engine, bench_registry)


async def _append_one_each(target: Target, workload: Workload) -> Timings:
    store = await _open(target)
    calls = [
        (f"signal-{event.signal_id}", [new])
        for event, new in zip(workload.events, workload.new_events(), strict=True)
    ]
    try:
        with stopwatch() as watch:
            for stream_id, events in calls:
                await store.append(stream_id, events, StreamState.NO_STREAM)
        return {Operation.APPEND_ONE: watch.seconds}
    finally:
        await store.close()


async def _append_batches_then_read(target: Target, workload: Workload) -> Timings:
    store = await _open(target)
    new_events = workload.new_events()
    batches = [
        (f"signals-{stream}", new_events[indexes.start : indexes.stop])
        for stream, indexes in zip(workload.batch_stream_ids, workload.batches(), strict=True)
    ]
    try:
        with stopwatch() as append_watch:
            for stream_id, batch in batches:
                await store.append(stream_id, batch, StreamState.NO_STREAM)
        read = 0
        with stopwatch() as read_watch:
            position = 0
            while True:
                page = await store.read_all(after=position, limit=READ_PAGE)
                read += len(page)
                if len(page) < READ_PAGE:
                    break
                position = page[-1].position
        if read != len(workload):
            raise RuntimeError(f"read_all returned {read} events, expected {len(workload)}")
        return {
            Operation.APPEND_BATCH: append_watch.seconds,
            Operation.READ_ALL: read_watch.seconds,
        }
    finally:
        await store.close()


def append_one_each(target: Target, workload: Workload) -> Timings:
    return asyncio.run(_append_one_each(target, workload))


def append_batches_then_read(target: Target, workload: Workload) -> Timings:
    return asyncio.run(_append_batches_then_read(target, workload))
