"""Time the outbox rebuild: ``python -m bench.outbox FILE [--on WHERE] [--reference R]``.

``FILE`` (SQLite) holds a hub's event log, e.g. the demo year (``HUB_DATABASE_URL=
sqlite+aiosqlite:////tmp/demo.db signaalhub demo --months 12``: some 45,000 events). The
script rebuilds the outbox there (``signaalhub projections rebuild outbox`` does the same)
and prints the time. With ``--on postgres`` (or ``both``) it copies the log, events and all,
into a fresh schema on the PostgreSQL server of HUB_BENCH_DATABASE_URL (a
``postgresql+asyncpg://`` URL) or HUB_TEST_DATABASE_URL, dropped afterwards, and times the
rebuild there.

With ``--reference R`` it also rebuilds with ``projections/outbox.py`` as it was at git
revision ``R`` (e.g. the event-by-event version before ``apply_batch``), times that, and
checks that both leave the same outbox rows (message id, subject, body, in id order) and the
same helper tables. The log is only read; the outbox tables are rebuilt in place.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

import events.catalogue  # noqa: F401  (registers the domain events)
from bench.databases import PostgresTarget, fresh_target, postgres_url_from_env
from events.envelope import NewEvent, StreamAppend
from events.migrations import upgrade
from events.registry import catalogue
from events.store import SqlEventStore
from projections.outbox import OutboxProjection, outbox, outbox_referrals, outbox_signals
from projections.projection import Projection
from projections.runner import ProjectionRunner

COPY_BATCH = 2000

Snapshot = tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]


def reference_module(revision: str) -> ModuleType:
    """``projections/outbox.py`` at ``revision``, loaded as a module of its own."""
    source = subprocess.run(
        ["git", "show", f"{revision}:projections/outbox.py"],
        check=True,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    ).stdout
    path = Path(tempfile.mkdtemp(prefix="outbox-reference-")) / "reference_outbox.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("reference_outbox", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["reference_outbox"] = module
    spec.loader.exec_module(module)
    return module


async def snapshot(store: SqlEventStore) -> Snapshot:
    async with store.engine.connect() as conn:
        rows = await conn.execute(
            select(outbox.c.message_id, outbox.c.subject, outbox.c.body).order_by(outbox.c.id)
        )
        referrals = await conn.execute(
            select(outbox_referrals).order_by(outbox_referrals.c.referral_id)
        )
        signals = await conn.execute(select(outbox_signals).order_by(outbox_signals.c.signal_id))
        return (
            [tuple(r) for r in rows.all()],
            [tuple(r) for r in referrals.all()],
            [tuple(r) for r in signals.all()],
        )


async def timed_rebuild(store: SqlEventStore, projection: Projection) -> tuple[float, int]:
    started = time.perf_counter()
    applied = await ProjectionRunner(store, [projection]).rebuild("outbox")
    return time.perf_counter() - started, applied["outbox"]


async def measure(label: str, store: SqlEventStore, reference: ModuleType | None) -> bool:
    seconds, events = await timed_rebuild(store, OutboxProjection())
    batched = await snapshot(store)
    print(f"{label}: apply_batch rebuild of {events} events: {seconds:.2f} s", flush=True)
    print(
        f"{label}: {len(batched[0])} outbox rows, {len(batched[1])} referrals, "
        f"{len(batched[2])} signals",
        flush=True,
    )
    if reference is None:
        return True
    seconds, _ = await timed_rebuild(store, reference.OutboxProjection())
    one_by_one = await snapshot(store)
    same = one_by_one == batched
    print(f"{label}: reference rebuild: {seconds:.2f} s; same rows: {same}", flush=True)
    return same


def clock_of(stamps: list[datetime]) -> Callable[[], datetime]:
    return lambda: stamps[-1] if stamps else datetime.now(UTC)


async def copy_log(source: SqlEventStore, target: PostgresTarget) -> SqlEventStore:
    """The log of ``source`` in ``target``'s schema: same ids, streams, order and times."""
    stamps: list[datetime] = []
    engine = create_async_engine(
        target.url, connect_args={"server_settings": {"search_path": target.schema}}
    )
    store = SqlEventStore(engine, catalogue, clock=clock_of(stamps))
    await upgrade(engine)
    position = 0
    while page := await source.read_all(after=position, limit=COPY_BATCH):
        # One append per run of events with the same time, so each keeps its recorded_at.
        run: list[Any] = []
        for recorded in [*page, None]:
            if run and (recorded is None or recorded.recorded_at != run[0].recorded_at):
                stamps.append(run[0].recorded_at)
                await store.append_many(
                    [
                        StreamAppend(r.stream_id, [NewEvent(r.event, r.metadata, r.event_id)])
                        for r in run
                    ]
                )
                run = []
            if recorded is not None:
                run.append(recorded)
        position = page[-1].position
    return store


async def on_sqlite(path: Path, reference: ModuleType | None) -> bool:
    engine = create_async_engine(f"sqlite+aiosqlite:///{path}")
    store = SqlEventStore(engine, catalogue)
    try:
        await upgrade(engine)
        return await measure("sqlite", store, reference)
    finally:
        await store.close()


async def on_postgres(path: Path, target: PostgresTarget, reference: ModuleType | None) -> bool:
    engine = create_async_engine(f"sqlite+aiosqlite:///{path}")
    source = SqlEventStore(engine, catalogue)
    copy = await copy_log(source, target)
    try:
        return await measure("postgres", copy, reference)
    finally:
        await copy.close()
        await source.close()


def main(arguments: argparse.Namespace) -> int:
    reference = reference_module(arguments.reference) if arguments.reference else None
    same = True
    if arguments.on in ("sqlite", "both"):
        same = asyncio.run(on_sqlite(arguments.sqlite_file, reference)) and same
    if arguments.on in ("postgres", "both"):
        with fresh_target("postgres", postgres_url_from_env()) as target:
            assert isinstance(target, PostgresTarget)
            same = asyncio.run(on_postgres(arguments.sqlite_file, target, reference)) and same
    return 0 if same else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sqlite_file", type=Path)
    parser.add_argument("--on", choices=("sqlite", "postgres", "both"), default="sqlite")
    parser.add_argument("--reference", metavar="R")
    raise SystemExit(main(parser.parse_args()))
