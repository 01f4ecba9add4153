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
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, suppress
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import Integer, Uuid, cast, func, null, select, text, union_all
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from events.envelope import (
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
from events.store.engine import WRITE_OPTION, create_engine
from events.store.notifier import Notifier
from events.store.schema import events_table

# A statement trigger on the events table (migration 0002) notifies this channel on commit.
NOTIFY_CHANNEL: Final = "signaalhub_events"
# An arbitrary, fixed 64-bit key: "signaalhub" in hex digits, truncated.
APPEND_LOCK_KEY: Final = 0x5167_6E61_6168_7562

_COLUMNS = (
    events_table.c.position,
    events_table.c.stream_id,
    events_table.c.stream_version,
    events_table.c.event_id,
    events_table.c.event_type,
    events_table.c.schema_version,
    events_table.c.payload,
    events_table.c.metadata,
    events_table.c.recorded_at,
)


class UnitOfWork:
    """One database transaction: appends to any number of streams, plus any other writes
    (outbox rows, read models) made through ``connection``. All of it commits, or none."""

    def __init__(self, store: SqlEventStore, connection: AsyncConnection) -> None:
        self._store = store
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
        """Append to several streams with one check query and one insert.

        Each append is judged on its own (duplicate, or checked against its expected
        version); a wrong version or an event id conflict in any of them raises and
        writes nothing of this call. A stream may appear more than once: later appends
        see the versions of earlier ones.
        """
        all_ids: list[uuid.UUID] = []
        for item in appends:
            _check_stream_id(item.stream_id)
            all_ids.extend(e.event_id for e in item.events)
        if len(set(all_ids)) != len(all_ids):
            raise ValueError("the same event id appears twice in one append")
        await self.lock()
        versions, stored = await self._versions_and_stored(
            {item.stream_id for item in appends}, all_ids
        )
        now = datetime.now(UTC)
        rows: list[dict[str, Any]] = []
        results: list[AppendResult] = []
        for item in appends:
            current = versions.get(item.stream_id, 0)
            if stored and _is_duplicate(item, stored):
                results.append(AppendResult(item.stream_id, current, appended=0, duplicate=True))
                continue
            _check_expected(item.stream_id, item.expected_version, current)
            rows.extend(_rows(item, current, now))
            versions[item.stream_id] = current + len(item.events)
            results.append(
                AppendResult(item.stream_id, current + len(item.events), len(item.events), False)
            )
        if rows:
            await self.connection.execute(events_table.insert(), rows)
            self.appended += len(rows)
        return results

    async def lock(self) -> None:
        """Take the store's write lock now rather than at the first append.

        A use case that reads state, decides, and then appends (intake matching a
        household) takes it first, so that no concurrent writer decides on the same state.
        """
        if self._locked:
            return
        if self._store.is_postgres:
            await self.connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": APPEND_LOCK_KEY}
            )
        self._locked = True

    async def _versions_and_stored(
        self, stream_ids: set[str], event_ids: list[uuid.UUID]
    ) -> tuple[dict[str, int], dict[uuid.UUID, str]]:
        # One round trip for both checks: appends are on the hot path of every intake.
        c = events_table.c
        stored_query = select(c.stream_id, cast(null(), Integer), c.event_id).where(
            c.event_id.in_(event_ids)
        )
        versions_query = (
            select(c.stream_id, func.max(c.stream_version), cast(null(), Uuid()))
            .where(c.stream_id.in_(stream_ids))
            .group_by(c.stream_id)
        )
        versions: dict[str, int] = {}
        stored: dict[uuid.UUID, str] = {}
        for stream_id, version, event_id in await self.connection.execute(
            union_all(stored_query, versions_query)
        ):
            if event_id is not None:
                stored[event_id] = stream_id
            else:
                versions[stream_id] = int(version)
        return versions, stored


def _is_duplicate(item: StreamAppend, stored: dict[uuid.UUID, str]) -> bool:
    """True when every event id of ``item`` is stored in its stream; raises on a mix."""
    hits = {e.event_id: stored[e.event_id] for e in item.events if e.event_id in stored}
    if not hits:
        return False
    if len(hits) == len(item.events) and all(s == item.stream_id for s in hits.values()):
        return True
    raise EventIdConflictError(item.stream_id, sorted(str(i) for i in hits))


def _rows(item: StreamAppend, current: int, now: datetime) -> list[dict[str, Any]]:
    return [
        {
            "event_id": new.event_id,
            "stream_id": item.stream_id,
            "stream_version": current + offset,
            "event_type": new.event.event_type,
            "schema_version": new.event.schema_version,
            "payload": new.event.model_dump_json(),
            "metadata": new.metadata.model_dump_json(exclude_none=True),
            "recorded_at": now,
        }
        for offset, new in enumerate(item.events, start=1)
    ]


class SqlEventStore:
    """Append-only event log with streams, idempotent appends and gap-free ``read_all``."""

    def __init__(
        self,
        engine: AsyncEngine,
        registry: EventRegistry = catalogue,
        *,
        poll_interval: float = 1.0,
    ) -> None:
        self.engine = engine
        self.registry = registry
        self.poll_interval = poll_interval
        self.is_postgres = engine.dialect.name == "postgresql"
        self._notifier = Notifier()
        self._listener: AsyncConnection | None = None
        self._listener_lock = asyncio.Lock()

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
        async with self.unit_of_work() as uow:
            return await uow.append(stream_id, events, expected_version)

    # -- reading ---------------------------------------------------------------------------

    async def read_stream(self, stream_id: str, after_version: int = 0) -> list[RecordedEvent]:
        query = (
            select(*_COLUMNS)
            .where(events_table.c.stream_id == stream_id)
            .where(events_table.c.stream_version > after_version)
            .order_by(events_table.c.stream_version)
        )
        return await self._read(query)

    async def read_all(self, after: int = 0, limit: int = 1000) -> list[RecordedEvent]:
        """Events with a position above ``after``, in position (= commit) order."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        query = (
            select(*_COLUMNS)
            .where(events_table.c.position > after)
            .order_by(events_table.c.position)
            .limit(limit)
        )
        return await self._read(query)

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

    async def _read(self, query: Any) -> list[RecordedEvent]:
        async with _translate_missing_schema(), self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        decode = self.registry.decode
        metadata_from_json = Metadata.model_validate_json
        return [
            RecordedEvent(
                position=row[0],
                stream_id=row[1],
                stream_version=row[2],
                event_id=row[3],
                event_type=row[4],
                schema_version=row[5],
                event=decode(row[4], row[5], row[6]),
                metadata=metadata_from_json(row[7]),
                recorded_at=_as_utc(row[8]),
            )
            for row in rows
        ]

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
            except (OSError, OperationalError):
                # Polling still delivers every event; only the wake-up is slower.
                return
            self._listener = conn

    def _on_notify(self, *_args: object) -> None:
        self._notifier.notify()

    def _on_listener_lost(self, *_args: object) -> None:
        self._listener = None

    async def close(self) -> None:
        if self._listener is not None:
            listener, self._listener = self._listener, None
            with suppress(Exception):
                await listener.close()
        await self.engine.dispose()


def open_event_store(
    database_url: str, registry: EventRegistry = catalogue, **kwargs: Any
) -> SqlEventStore:
    """A store on a new engine for ``database_url`` (the schema must be migrated)."""
    return SqlEventStore(create_engine(database_url), registry, **kwargs)


def _check_stream_id(stream_id: str) -> None:
    if not stream_id or len(stream_id) > 200:
        raise ValueError("stream_id must be 1 to 200 characters")


def _check_expected(stream_id: str, expected: ExpectedVersion, current: int) -> None:
    if expected is StreamState.ANY:
        return
    if expected is StreamState.NO_STREAM:
        if current != 0:
            raise ConcurrencyError(stream_id, expected, current)
        return
    if isinstance(expected, bool) or not isinstance(expected, int) or expected < 0:
        raise ValueError(f"expected_version must be a version >= 0 or a StreamState: {expected!r}")
    if current != expected:
        raise ConcurrencyError(stream_id, f"version {expected}", current)


def _as_utc(value: datetime) -> datetime:
    # SQLite keeps no time zone; we only ever store UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


@asynccontextmanager
async def _translate_missing_schema() -> AsyncIterator[None]:
    try:
        yield
    except (OperationalError, ProgrammingError) as error:
        message = str(error.orig).lower()
        if "no such table: events" in message or 'relation "events" does not exist' in message:
            raise StoreNotMigratedError(
                "the database has no event store tables; run `signaalhub db upgrade`"
            ) from error
        raise
