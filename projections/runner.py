"""Keeping projections up to date: catch up from the checkpoint, follow live, rebuild.

Exactly-once effect: each page of events is applied and the projection's checkpoint moved in
one transaction. Several hub instances may run the same projection: each page's transaction
first takes a lock per projection (a transaction-scoped advisory lock on PostgreSQL; SQLite's
single writer) and only then reads the checkpoint, so an instance that waited continues where
the other one stopped and nothing is applied twice. The others stand by on that lock.

Batches: a projection that also offers ``apply_batch(conn, page)`` (``BatchProjection``) gets
each page at once instead of event by event, so it can fold the page in memory and write its
rows in bulk: one statement per table and page instead of one per event. The checkpoint still
moves in the same transaction, so exactly-once is unchanged. Several batch projections share
each page (``_catch_up_together``): the next page is read ahead while this one is applied,
and projections that split ``apply_batch`` into read, fold and write (``StagedProjection``)
fold while the previous projection's writes run, all in the page's one transaction.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from sqlalchemy import delete, text
from sqlalchemy.ext.asyncio import AsyncConnection

from events.envelope import RecordedEvent
from events.store import SqlEventStore
from events.store.gc_pause import paused_garbage_collection
from projections.checkpoints import forget_checkpoint, read_checkpoint, write_checkpoint
from projections.projection import Projection
from services.logging import get_logger

log = get_logger(__name__)
PAGE_SIZE = 1000
BATCH_PAGE_SIZE = 50_000
"""Pages of a ``BatchProjection``: larger, since its cost is per page, not per event (a row
changed by several events of one page is written once)."""


@runtime_checkable
class BatchProjection(Protocol):
    """A projection that applies a whole page of events, in position order, at once."""

    async def apply_batch(self, conn: AsyncConnection, page: Sequence[RecordedEvent]) -> None: ...


@runtime_checkable
class StagedProjection(Protocol):
    """A batch projection whose ``apply_batch`` is three stages: read what the page needs
    (database), fold the page in memory (Python only), write the result (database). The
    runner then overlaps one projection's fold with the previous one's writes."""

    async def read_page(self, conn: AsyncConnection, page: Sequence[RecordedEvent]) -> Any: ...

    def fold_page(self, state: Any, page: Sequence[RecordedEvent]) -> None: ...

    async def write_page(self, conn: AsyncConnection, state: Any) -> None: ...


@dataclass
class ProjectionRunner:
    store: SqlEventStore
    projections: Sequence[Projection]
    page_size: int = PAGE_SIZE
    batch_page_size: int = BATCH_PAGE_SIZE

    def named(self, name: str) -> Projection:
        for projection in self.projections:
            if projection.name == name:
                return projection
        known = ", ".join(p.name for p in self.projections)
        raise KeyError(f"unknown projection {name!r}; known: {known}")

    async def catch_up(self) -> dict[str, int]:
        """Apply every event not applied yet; returns the events applied per projection."""
        return await self._catch_up_all(list(self.projections))

    async def rebuild(self, name: str | None = None) -> dict[str, int]:
        """Empty the read model(s) and apply the whole log again."""
        chosen = [self.named(name)] if name else list(self.projections)
        for projection in chosen:
            async with self.store.unit_of_work() as uow:
                await _lock(uow.connection, projection.name)
                for table in projection.tables:
                    await uow.connection.execute(delete(table))
                await forget_checkpoint(uow.connection, projection.name)
        return await self._catch_up_all(chosen)

    async def _catch_up_all(self, projections: list[Projection]) -> dict[str, int]:
        if len(projections) > 1 and all(isinstance(p, BatchProjection) for p in projections):
            return await self._catch_up_together(projections)
        return {p.name: await self._catch_up(p) for p in projections}

    async def _catch_up_together(self, projections: list[Projection]) -> dict[str, int]:
        """Batch projections share each page: the log is read and decoded once for all of
        them instead of once each. One transaction per page takes every projection's lock
        (always in the same order, so two hubs cannot deadlock), applies to each projection
        the part of the page past its own checkpoint, and moves every checkpoint: still
        exactly once per projection.

        The next page is read ahead while this one is applied (on a connection of its own,
        outside the transaction): decoding it overlaps with the database's work on this
        page's writes. It is only a read of the log after a position; it is used when the
        next transaction's checkpoints start there, and read again otherwise."""
        applied = {p.name: 0 for p in projections}
        ahead: tuple[int, asyncio.Task[list[RecordedEvent]]] | None = None
        # The cyclic collector paused while catching up: every page allocates millions of
        # objects (decoded events, folded rows) that reference counting frees, and a full
        # collection would scan the page held in memory again and again (300,000 events:
        # 14 full collections, 3.6 s of 37 s).
        try:
            with paused_garbage_collection():
                while True:
                    async with self.store.unit_of_work() as uow:
                        conn = uow.connection
                        positions: dict[str, int] = {}
                        for projection in sorted(projections, key=lambda p: p.name):
                            await _lock(conn, projection.name)
                            positions[projection.name] = await read_checkpoint(
                                conn, projection.name
                            )
                        start = min(positions.values())
                        page = await self._page_after(start, ahead)
                        ahead = None
                        if len(page) == self.batch_page_size:
                            ahead = (page[-1].position, asyncio.create_task(self._read(page)))
                        parts: list[tuple[Projection, list[RecordedEvent]]] = []
                        for projection in projections:
                            own = positions[projection.name]
                            mine = page if own == start else [r for r in page if r.position > own]
                            if mine:
                                parts.append((projection, mine))
                        await _apply_parts(conn, parts)
                        for projection, mine in parts:
                            await write_checkpoint(conn, projection.name, mine[-1].position)
                            applied[projection.name] += len(mine)
                    if len(page) < self.batch_page_size:
                        return applied
        finally:
            if ahead is not None:
                ahead[1].cancel()
                with suppress(asyncio.CancelledError, Exception):
                    await ahead[1]

    async def _read(self, page: Sequence[RecordedEvent]) -> list[RecordedEvent]:
        return await self.store.read_all(after=page[-1].position, limit=self.batch_page_size)

    async def _page_after(
        self, start: int, ahead: tuple[int, asyncio.Task[list[RecordedEvent]]] | None
    ) -> list[RecordedEvent]:
        if ahead is not None:
            after, task = ahead
            if after == start:
                return await task
            task.cancel()
            with suppress(asyncio.CancelledError, Exception):
                await task
        return await self.store.read_all(after=start, limit=self.batch_page_size)

    async def follow(self, stop: asyncio.Event | None = None) -> None:
        """Catch up, then apply new events as they are committed, until ``stop`` is set."""
        stop = stop or asyncio.Event()
        while not stop.is_set():
            applied = await self.catch_up()
            if any(applied.values()):
                log.info("projections.applied", **applied)
            waiting = asyncio.create_task(self.store.wait_for_events(self.store.poll_interval))
            stopping = asyncio.create_task(stop.wait())
            await asyncio.wait({waiting, stopping}, return_when=asyncio.FIRST_COMPLETED)
            for task in (waiting, stopping):
                task.cancel()
                with suppress(asyncio.CancelledError):
                    await task

    async def _catch_up(self, projection: Projection) -> int:
        batched = isinstance(projection, BatchProjection)
        page_size = self.batch_page_size if batched else self.page_size
        applied = 0
        with paused_garbage_collection():  # as in _catch_up_together
            while True:
                async with self.store.unit_of_work() as uow:
                    conn = uow.connection
                    await _lock(conn, projection.name)
                    position = await read_checkpoint(conn, projection.name)
                    page = await self.store.read_all(after=position, limit=page_size)
                    if isinstance(projection, BatchProjection):
                        await projection.apply_batch(conn, page)
                    else:
                        for recorded in page:
                            await projection.apply(conn, recorded)
                    if page:
                        await write_checkpoint(conn, projection.name, page[-1].position)
                applied += len(page)
                if len(page) < page_size:
                    return applied


async def _apply_parts(
    conn: AsyncConnection, parts: Sequence[tuple[Projection, list[RecordedEvent]]]
) -> None:
    """Apply each projection's part of a shared page, in this transaction.

    Staged projections (all of them, or none: the stages of one would otherwise interleave
    with another's ``apply_batch``) first read what their parts need, one after the other;
    then each folds its part while the database still runs the previous one's writes (a
    task on this connection, awaited before the next writes start: one statement at a time,
    as the connection allows). Every write is awaited before the checkpoints move."""
    if not all(isinstance(p, StagedProjection) for p, _ in parts):
        for projection, mine in parts:
            await projection.apply_batch(conn, mine)  # type: ignore[attr-defined]
        return
    staged = [(p, mine, await p.read_page(conn, mine)) for p, mine in parts]  # type: ignore[attr-defined]
    writing: asyncio.Task[None] | None = None
    try:
        for projection, mine, state in staged:
            projection.fold_page(state, mine)  # type: ignore[attr-defined]
            if writing is not None:
                await writing
            writing = asyncio.create_task(projection.write_page(conn, state))  # type: ignore[attr-defined]
            await asyncio.sleep(0)  # let it send its first statement before the next fold
        if writing is not None:
            await writing
    finally:
        if writing is not None and not writing.done():
            with suppress(BaseException):
                await writing  # never leave the transaction with a write in flight


async def _lock(conn: AsyncConnection, name: str) -> None:
    if conn.dialect.name == "postgresql":
        # Held to the end of this page's transaction; SQLite's write lock does the same there.
        key = zlib.crc32(f"projection:{name}".encode())
        await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


async def catch_up_all(store: SqlEventStore) -> dict[str, int]:
    """Bring every projection of the hub up to date with the log (what `signaalhub queue`
    does before it reads, so a team without a running hub still sees its latest queue)."""
    from projections.catalogue import all_projections

    return await ProjectionRunner(store, all_projections()).catch_up()
