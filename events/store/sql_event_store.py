"""The event store on SQLAlchemy 2 (async): PostgreSQL in production, SQLite embedded.

Gap-free following (DESIGN §4). Positions come from a sequence (PostgreSQL) or the rowid
(SQLite) at insert time, not at commit time, so a reader following ``position > last_seen``
could skip an event whose slow transaction commits after a faster one with a higher position.
We make commit order equal position order instead of filtering at read time:

* PostgreSQL: every writing transaction takes one transaction-scoped advisory lock
  (``pg_advisory_xact_lock``) before its first insert into ``events`` and holds it until
  commit. Positions are therefore handed out to one transaction at a time, and the next
  writer only gets positions after the previous one has committed or rolled back. Readers
  take no lock and never wait. We chose this over an ``xid8`` snapshot filter because the
  filter orders the log by (transaction id, position), not by position, so consumers would
  have to checkpoint a pair and "read_all(after=position)" would not mean what it says;
  and over ``LOCK TABLE ... EXCLUSIVE`` because the advisory lock does not conflict with
  maintenance or other tables' locks. Writers are serialised only for the short
  insert-and-commit tail of their transaction; batching amortises that.
* SQLite: write transactions start with ``BEGIN IMMEDIATE``, and SQLite allows one writer
  at a time, so the same ordering holds by construction.

The same lock makes duplicate-id detection and the expected-version check race free.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager, suppress
from datetime import datetime
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from events.base import DomainEvent
from events.envelope import (
    EMPTY_METADATA,
    AppendResult,
    ExpectedVersion,
    Metadata,
    NewEvent,
    RecordedEvent,
    StreamAppend,
    StreamState,
)
from events.errors import ConcurrencyError, EventIdConflictError, StoreNotMigratedError
from events.registry import EventRegistry, catalogue
from events.store.append_plan import EMPTY_METADATA_JSON
from events.store.engine import WRITE_OPTION, create_engine
from events.store.gc_pause import paused_garbage_collection
from events.store.notifier import Notifier
from events.store.recorders import (
    PostgresRecorder,
    RawRow,
    Recorder,
    SqliteRecorder,
    utc_now,
)
from events.store.schema import events_table

# A statement trigger on the events table (migration 0002) notifies this channel on commit.
NOTIFY_CHANNEL: Final = "signaalhub_events"


class UnitOfWork:
    """One database transaction: appends to any number of streams, plus any other writes
    (outbox rows, read models) made through ``connection``. All of it commits, or none."""

    def __init__(self, store: SqlEventStore, connection: AsyncConnection) -> None:
        self._recorder = store.recorder
        self.connection = connection
        self._locked = False
        self.appended = 0

    async def append(
        self,
        stream_id: str,
        events: Sequence[NewEvent],
        expected_version: ExpectedVersion = StreamState.ANY,
    ) -> AppendResult:
        """Append ``events`` to ``stream_id`` if it is at ``expected_version``.

        Raises ``ConcurrencyError`` on a wrong version. When every event id is stored
        already, nothing is written and the result says ``duplicate``.
        """
        [result] = await self.append_many([StreamAppend(stream_id, events, expected_version)])
        return result

    async def append_many(self, appends: Sequence[StreamAppend]) -> list[AppendResult]:
        """Append to several streams with one check and one insert.

        Each append is judged on its own (duplicate, or checked against its expected
        version); a wrong version or an event id conflict in any of them raises and
        writes nothing of this call. A stream may appear more than once: later appends
        see the versions of earlier ones.
        """
        results = await self._recorder.append(self.connection, appends)
        self._locked = True
        self.appended += sum(r.appended for r in results)
        return results

    async def lock(self) -> None:
        """Take the store's write lock now rather than at the first append.

        A use case that reads state, decides, and then appends (intake matching a
        household) takes it first, so that no concurrent writer decides on the same state.
        """
        if not self._locked:
            await self._recorder.lock(self.connection)
            self._locked = True


class SqlEventStore:
    """Append-only event log with streams, idempotent appends and gap-free ``read_all``."""

    def __init__(
        self,
        engine: AsyncEngine,
        registry: EventRegistry = catalogue,
        *,
        poll_interval: float = 1.0,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        """``clock`` gives each append's ``recorded_at``; a simulation (the demo's year of
        work) or a test of ``--as-of`` reports passes its own."""
        self.engine = engine
        self.clock = clock
        """The store's time: use it for a moment that must agree with ``recorded_at``."""
        self.registry = registry
        self.poll_interval = poll_interval
        self.is_postgres = engine.dialect.name == "postgresql"
        self.recorder: Recorder = (
            PostgresRecorder(clock) if self.is_postgres else SqliteRecorder(clock)
        )
        self._notifier = Notifier()
        self._listener: AsyncConnection | None = None
        self._listener_lock = asyncio.Lock()
        self._writer_connection: AsyncConnection | None = None
        self._writer_lock = asyncio.Lock()

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    # -- writing ---------------------------------------------------------------------------

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[UnitOfWork]:
        """A write transaction; commits on normal exit, rolls back on any exception."""
        async with self.engine.connect() as conn:
            await conn.execution_options(**{WRITE_OPTION: True})
            uow = UnitOfWork(self, conn)
            async with _translate_missing_schema(), conn.begin():
                yield uow
        if uow.appended:
            self._notifier.notify()

    async def append(
        self,
        stream_id: str,
        events: Sequence[NewEvent],
        expected_version: ExpectedVersion = StreamState.ANY,
    ) -> AppendResult:
        """Append to one stream in its own transaction."""
        [result] = await self.append_many([StreamAppend(stream_id, events, expected_version)])
        return result

    async def append_many(self, appends: Sequence[StreamAppend]) -> list[AppendResult]:
        """Append to several streams in one transaction of their own."""
        async with _translate_missing_schema(), self._writer() as conn:
            results = await self.recorder.append_in_own_transaction(conn, appends)
        if any(r.appended for r in results):
            self._notifier.notify()
        return results

    @asynccontextmanager
    async def _writer(self) -> AsyncIterator[AsyncConnection]:
        """The connection kept for lone appends: writes are serialised by the database's
        write lock anyway, and checking a connection out of the pool for every single
        append costs more than the append. A failure other than a refused append drops it,
        so a broken connection is replaced on the next call."""
        async with self._writer_lock:
            if self._writer_connection is None:
                self._writer_connection = await self.engine.connect()
            try:
                yield self._writer_connection
            except (ConcurrencyError, EventIdConflictError, ValueError):
                raise
            except BaseException:
                connection, self._writer_connection = self._writer_connection, None
                with suppress(Exception):
                    await connection.close()
                raise

    # -- reading ---------------------------------------------------------------------------

    async def read_stream(self, stream_id: str, after_version: int = 0) -> list[RecordedEvent]:
        async with _translate_missing_schema(), self.engine.connect() as conn:
            rows = await self.recorder.select_stream(conn, stream_id, after_version)
        return self._decode(rows)

    async def read_all(self, after: int = 0, limit: int = 1000) -> list[RecordedEvent]:
        """Events with a position above ``after``, in position (= commit) order."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        async with _translate_missing_schema(), self.engine.connect() as conn:
            rows = await self.recorder.select_after(conn, after, limit)
        return self._decode(rows)

    async def stream_version(self, stream_id: str) -> int:
        query = select(func.coalesce(func.max(events_table.c.stream_version), 0)).where(
            events_table.c.stream_id == stream_id
        )
        async with _translate_missing_schema(), self.engine.connect() as conn:
            return int((await conn.execute(query)).scalar_one())

    async def last_position(self) -> int:
        query = select(func.coalesce(func.max(events_table.c.position), 0))
        async with _translate_missing_schema(), self.engine.connect() as conn:
            return int((await conn.execute(query)).scalar_one())

    def _decode(self, rows: list[RawRow]) -> list[RecordedEvent]:
        # ``tuple.__new__`` is what ``RecordedEvent._make`` calls, without its Python frame.
        new = tuple.__new__
        recorded = RecordedEvent
        # The events of one unit of work share their metadata (one correlation id, one
        # actor): each distinct text is parsed once a page; Metadata is frozen, so sharing
        # the object is safe.
        metadata: dict[str, Metadata] = {EMPTY_METADATA_JSON: EMPTY_METADATA}
        with paused_garbage_collection():
            events = self._decode_payloads(rows)
            return [
                new(recorded, (p, s, v, i, t, sv, e, metadata.get(m) or _parsed(metadata, m), at))
                for (p, s, v, i, t, sv, _, m, at), e in zip(rows, events, strict=True)
            ]

    def _decode_payloads(self, rows: list[RawRow]) -> list[DomainEvent]:
        """The payloads of ``rows`` decoded in row order, each type's in one batch."""
        kinds = {(row[4], row[5]) for row in rows}
        if len(kinds) == 1:
            [(event_type, schema_version)] = kinds
            return self.registry.decode_many(event_type, schema_version, [r[6] for r in rows])
        by_kind: dict[tuple[str, int], list[int]] = {kind: [] for kind in kinds}
        for index, row in enumerate(rows):
            by_kind[row[4], row[5]].append(index)
        events: list[DomainEvent] = [None] * len(rows)  # type: ignore[list-item]
        for (event_type, schema_version), indexes in by_kind.items():
            payloads = [rows[i][6] for i in indexes]
            decoded = self.registry.decode_many(event_type, schema_version, payloads)
            for index, event in zip(indexes, decoded, strict=True):
                events[index] = event
        return events

    # -- following -------------------------------------------------------------------------

    async def subscribe(
        self, after: int = 0, *, batch_size: int = 1000
    ) -> AsyncIterator[RecordedEvent]:
        """Every event after ``after``, then each new one as it is committed, forever.

        Wakes up on a commit in this process at once, on PostgreSQL on any process's commit
        (LISTEN/NOTIFY), and otherwise polls every ``poll_interval`` seconds.
        """
        wake = self._notifier.register()
        try:
            if self.is_postgres:
                await self._ensure_listener()
            position = after
            while True:
                wake.clear()  # before reading, so a commit during the read is not missed
                page = await self.read_all(after=position, limit=batch_size)
                for recorded in page:
                    position = recorded.position
                    yield recorded
                if len(page) == batch_size:
                    continue
                with suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), timeout=self.poll_interval)
                if self.is_postgres and self._listener is None:
                    await self._ensure_listener()
        finally:
            self._notifier.unregister(wake)

    async def wait_for_events(self, at_most: float) -> None:
        """Return when new events may have been committed (a notification in this process
        or, on PostgreSQL, from any process), or after ``at_most`` seconds."""
        wake = self._notifier.register()
        try:
            if self.is_postgres:
                await self._ensure_listener()
            with suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), timeout=at_most)
        finally:
            self._notifier.unregister(wake)

    async def _ensure_listener(self) -> None:
        async with self._listener_lock:
            if self._listener is not None:
                return
            try:
                conn = await self.engine.connect()
                raw = await conn.get_raw_connection()
                driver = raw.driver_connection
                assert driver is not None
                await driver.add_listener(NOTIFY_CHANNEL, self._on_notify)
                driver.add_termination_listener(self._on_listener_lost)
            except (OSError, DBAPIError):
                # Polling still delivers every event; only the wake-up is slower.
                return
            self._listener = conn

    def _on_notify(self, *_args: object) -> None:
        self._notifier.notify()

    def _on_listener_lost(self, *_args: object) -> None:
        self._listener = None

    async def close(self, *, dispose_engine: bool = True) -> None:
        """Return the kept connections; ``dispose_engine=False`` leaves the engine to another
        store that shares it."""
        if self._writer_connection is not None:
            writer, self._writer_connection = self._writer_connection, None
            with suppress(Exception):
                await writer.close()
        if self._listener is not None:
            listener, self._listener = self._listener, None
            with suppress(Exception):
                await listener.close()
        if dispose_engine:
            await self.engine.dispose()


def open_event_store(
    database_url: str, registry: EventRegistry = catalogue, **kwargs: Any
) -> SqlEventStore:
    """A store on a new engine for ``database_url`` (the schema must be migrated)."""
    return SqlEventStore(create_engine(database_url), registry, **kwargs)


def _parsed(seen: dict[str, Metadata], text: str) -> Metadata:
    parsed = seen[text] = Metadata.model_validate_json(text)
    return parsed


@asynccontextmanager
async def _translate_missing_schema() -> AsyncIterator[None]:
    try:
        yield
    except Exception as error:
        original = error.orig if isinstance(error, DBAPIError) else error
        message = str(original).lower()
        if (
            "no such table: events" in message
            or 'relation "events" does not exist' in message
            or "signaalhub_append" in message
        ):
            raise StoreNotMigratedError(
                "the database has no event store tables; run `signaalhub db upgrade`"
            ) from error
        raise
