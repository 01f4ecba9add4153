"""Keeping projections up to date: catch up from the checkpoint, follow live, rebuild.

Exactly-once effect: each page of events is applied and the projection's checkpoint moved in
one transaction. Several hub instances may run the same projection: each page's transaction
first takes a lock per projection (a transaction-scoped advisory lock on PostgreSQL; SQLite's
single writer) and only then reads the checkpoint, so an instance that waited continues where
the other one stopped and nothing is applied twice. The others stand by on that lock.

Batches: a projection that also offers ``apply_batch(conn, page)`` (``BatchProjection``) gets
each page at once instead of event by event, so it can fold the page in memory and write its
rows in bulk: one statement per table and page instead of one per event. The checkpoint still
moves in the same transaction, so exactly-once is unchanged. Several batch projections catch
up side by side (``_catch_up_together``), each in its own transactions, on pages of the log
read and decoded once for all of them (``SharedPages``): while one projection's writes run in
the database, another folds its page, and a failing projection holds back only itself.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Callable, Sequence
from contextlib import nullcontext, suppress
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from sqlalchemy import delete, text
from sqlalchemy.ext.asyncio import AsyncConnection

from events.envelope import RecordedEvent
from events.store import SqlEventStore
from events.store.gc_pause import paused_garbage_collection
from projections.checkpoints import forget_checkpoint, read_checkpoint, write_checkpoint
from projections.projection import Projection
from projections.shared_pages import SharedPages
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


@dataclass
class ProjectionRunner:
    store: SqlEventStore
    projections: Sequence[Projection]
    page_size: int = PAGE_SIZE
    batch_page_size: int = BATCH_PAGE_SIZE
    on_page: Callable[[str, int], None] | None = None
    """Told (projection name, its new checkpoint) after each page it committed: progress."""

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
        """Batch projections catch up side by side, each in transactions of its own (its
        lock, its checkpoint, its writes: exactly once per projection, as alone), sharing
        the pages of the log: each page is read and decoded once for all of them, and the
        next one is read ahead. While one projection's writes run in the database, another
        folds its page. A projection that fails stops only itself: the others still catch
        up, and then the first failure is raised.

        On SQLite, whose database has one writer at a time, their transactions take turns
        instead of waiting for each other's write lock."""
        pages = SharedPages(self.store, self.batch_page_size, [p.name for p in projections])
        turns = None if self.store.is_postgres else asyncio.Lock()
        # The cyclic collector paused while catching up: every page allocates millions of
        # objects (decoded events, folded rows) that reference counting frees, and a full
        # collection would scan the pages held in memory again and again (300,000 events:
        # 14 full collections, 3.6 s of 37 s).
        try:
            with paused_garbage_collection():
                outcomes = await asyncio.gather(
                    *(self._catch_up_sharing(p, pages, turns) for p in projections),
                    return_exceptions=True,
                )
        finally:
            await pages.close()
        applied: dict[str, int] = {}
        for projection, outcome in zip(projections, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                raise outcome
            applied[projection.name] = outcome
        return applied

    async def _catch_up_sharing(
        self, projection: Projection, pages: SharedPages, turns: asyncio.Lock | None
    ) -> int:
        """One projection's catch-up on shared pages. The page is taken before the
        transaction, at the checkpoint as last seen, so that waiting for slower projections
        holds no lock; in the transaction, after the projection's lock, the checkpoint is
        read again, and if another instance moved it meanwhile the page is read afresh."""
        assert isinstance(projection, BatchProjection)
        applied = 0
        try:
            while True:
                seen = await self._checkpoint(projection.name)
                page = await pages.after(projection.name, seen)
                async with turns or nullcontext(), self.store.unit_of_work() as uow:
                    conn = uow.connection
                    await _lock(conn, projection.name)
                    position = await read_checkpoint(conn, projection.name)
                    if position != seen:
                        page = await self.store.read_all(after=position, limit=self.batch_page_size)
                    if page:
                        await projection.apply_batch(conn, page)
                        await write_checkpoint(conn, projection.name, page[-1].position)
                self._committed(projection, page)
                applied += len(page)
                if len(page) < self.batch_page_size:
                    return applied
        finally:
            await pages.finished(projection.name)

    async def _checkpoint(self, name: str) -> int:
        async with self.store.engine.connect() as conn:
            return await read_checkpoint(conn, name)

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
                self._committed(projection, page)
                applied += len(page)
                if len(page) < page_size:
                    return applied

    def _committed(self, projection: Projection, page: Sequence[RecordedEvent]) -> None:
        if page and self.on_page is not None:
            self.on_page(projection.name, page[-1].position)


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
