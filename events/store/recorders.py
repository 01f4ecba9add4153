"""The SQL of the event store, per backend, at driver level.

The store's hot paths (append, read) speak to the driver directly instead of through
SQLAlchemy Core: on PostgreSQL a lone append to one stream is one plain statement, and any
other append one lock-and-check call and one ``unnest`` insert instead of hundreds of
statements; on SQLite the whole append is one hand-off to aiosqlite's worker thread instead
of one per statement (a lone append, when the write lock is free, not even that).
SQLAlchemy still owns the pool, the transactions (so other writes of a unit of work share
them) and the migrations.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Final, Protocol

import asyncpg
from sqlalchemy.ext.asyncio import AsyncConnection

from events.envelope import AppendResult, ExpectedVersion, StreamAppend, StreamState
from events.errors import ConcurrencyError, EventIdConflictError
from events.store.append_plan import (
    AppendPlan,
    check_appends,
    check_expected,
    metadata_json,
    plan_appends,
)
from events.store.engine import SQLITE_BUSY_TIMEOUT_MS
from events.store.gc_pause import paused_garbage_collection

APPEND_LOCK_KEY: Final = 0x5167_6E61_6168_7562
"""An arbitrary, fixed 64-bit key ("signaalhub" in hex digits, truncated); migration 0004
has the same number."""

_LONE_APPEND = f"""
WITH locked AS MATERIALIZED (SELECT pg_advisory_xact_lock({APPEND_LOCK_KEY}) AS done),
current AS (SELECT coalesce(max(stream_version), 0) AS version FROM events WHERE stream_id = $1),
inserted AS (
    INSERT INTO events (event_id, stream_id, stream_version, event_type, schema_version,
                        payload, metadata, recorded_at)
    SELECT t.id, $1, (SELECT version FROM current) + t.n, t.type, t.schema, t.payload,
           t.meta, $8
    FROM unnest($3::uuid[], $4::text[], $5::int[], $6::text[], $7::text[])
         WITH ORDINALITY AS t(id, type, schema, payload, meta, n)
    WHERE (SELECT done FROM locked) IS NOT NULL
      AND ($2 = -1 OR (SELECT version FROM current) = CASE WHEN $2 = -2 THEN 0 ELSE $2 END)
    ORDER BY t.n
    RETURNING 1
)
SELECT (SELECT version FROM current)::int, (SELECT count(*) FROM inserted)::int
"""
"""A lone append to one stream in one statement (its own transaction).

The append lock is taken (a one-time filter, before any row gets its position) and held to
the commit, so positions stay in commit order. The version check reads the statement's
snapshot, which may predate the lock: a writer that committed in between shows up as a
unique violation on (stream, version) or on the event id instead, and the caller then falls
back to ``signaalhub_append``. Expected versions are coded as for that function."""

RawRow = tuple[int, str, int, uuid.UUID, str, int, str, str, datetime]
"""position, stream_id, stream_version, event_id, event_type, schema_version, payload,
metadata, recorded_at (UTC)."""

_SELECT = (
    "SELECT position, stream_id, stream_version, event_id, event_type, schema_version, "
    "payload, metadata, recorded_at FROM events "
)


class Recorder(Protocol):
    async def lock(self, conn: AsyncConnection) -> None: ...

    async def append(
        self, conn: AsyncConnection, appends: Sequence[StreamAppend]
    ) -> list[AppendResult]: ...

    async def append_in_own_transaction(
        self, conn: AsyncConnection, appends: Sequence[StreamAppend]
    ) -> list[AppendResult]: ...

    async def select_after(self, conn: AsyncConnection, after: int, limit: int) -> list[RawRow]: ...

    async def select_stream(
        self, conn: AsyncConnection, stream_id: str, after_version: int
    ) -> list[RawRow]: ...


async def _driver(conn: AsyncConnection) -> Any:
    # The pooled connection is at hand on a connection in use; ``get_raw_connection`` would
    # spawn a greenlet for the same attribute, which costs more than a SQLite statement.
    sync = conn.sync_connection
    if sync is not None and not sync.invalidated:
        fairy = sync.connection
        if fairy.driver_connection is not None:
            return fairy.driver_connection
    raw = await conn.get_raw_connection()
    return raw.driver_connection


def utc_now() -> datetime:
    return datetime.now(UTC)


class PostgresRecorder:
    """asyncpg, inside the transaction SQLAlchemy began on the same connection."""

    def __init__(self, clock: Callable[[], datetime] = utc_now) -> None:
        self.clock = clock

    async def lock(self, conn: AsyncConnection) -> None:
        await self._in_transaction(conn)
        await (await _driver(conn)).execute("SELECT pg_advisory_xact_lock($1)", APPEND_LOCK_KEY)

    async def append(
        self, conn: AsyncConnection, appends: Sequence[StreamAppend]
    ) -> list[AppendResult]:
        await self._in_transaction(conn)
        return await self._append(await _driver(conn), appends)

    async def append_in_own_transaction(
        self, conn: AsyncConnection, appends: Sequence[StreamAppend]
    ) -> list[AppendResult]:
        """A lone append: to one stream a single statement, which is its own transaction;
        to several streams one driver transaction around the lock-and-check and insert."""
        driver = await _driver(conn)
        check_appends(appends)
        if len(appends) == 1 and appends[0].events:
            result = await self._append_lone_stream(driver, appends[0])
            if result is not None:
                return [result]
        if len(appends) <= 1:
            return await self._append(driver, appends)
        async with driver.transaction():
            return await self._append(driver, appends)

    async def _append_lone_stream(self, driver: Any, item: StreamAppend) -> AppendResult | None:
        """The common lone append, all new events, as one plain statement: half the server
        time of the PL/pgSQL function. None when it cannot decide alone (a retry, a wrong
        expected version, a race); the caller then asks ``signaalhub_append``, which
        decides exactly, and nothing was written meanwhile."""
        expected = _expected_code(item.expected_version)
        with paused_garbage_collection():
            columns = (
                [new.event_id for new in item.events],
                [new.event.event_type for new in item.events],
                [new.event.schema_version for new in item.events],
                [new.event.model_dump_json() for new in item.events],
                [metadata_json(new) for new in item.events],
            )
        try:
            row = await driver.fetchrow(
                _LONE_APPEND, item.stream_id, expected, *columns, self.clock()
            )
        except asyncpg.UniqueViolationError:
            return None  # an event id stored already, or a version taken since the check
        current, appended = row
        if appended != len(item.events):
            return None
        return AppendResult(item.stream_id, current + appended, appended, False)

    async def _append(self, driver: Any, appends: Sequence[StreamAppend]) -> list[AppendResult]:
        check_appends(appends)
        if not appends:
            return []
        if len(appends) == 1:
            return await self._append_one_stream(driver, appends)
        return await self._append_many_streams(driver, appends)

    async def _append_one_stream(
        self, driver: Any, appends: Sequence[StreamAppend]
    ) -> list[AppendResult]:
        # One round trip: lock, checks and insert inside signaalhub_append (migration 0005).
        events = [(item, new) for item in appends for new in item.events]
        try:
            rows = await driver.fetch(
                "SELECT stream_version, appended, duplicate FROM signaalhub_append("
                "$1::text[], $2::int[], $3::int[], $4::uuid[], $5::text[], $6::int[], "
                "$7::text[], $8::text[], $9::timestamptz)",
                [item.stream_id for item in appends],
                [_expected_code(item.expected_version) for item in appends],
                [len(item.events) for item in appends],
                [new.event_id for _, new in events],
                [new.event.event_type for _, new in events],
                [new.event.schema_version for _, new in events],
                [new.event.model_dump_json() for _, new in events],
                [metadata_json(new) for _, new in events],
                self.clock(),
            )
        except Exception as error:
            raise _append_error(error, appends) from None
        return [
            AppendResult(item.stream_id, row[0], row[1], row[2])
            for item, row in zip(appends, rows, strict=True)
        ]

    async def _append_many_streams(
        self, driver: Any, appends: Sequence[StreamAppend]
    ) -> list[AppendResult]:
        # Two round trips however many streams: lock-and-check, then one unnest insert.
        stream_ids, event_ids = check_appends(appends)
        versions: dict[str, int] = {}
        stored: dict[uuid.UUID, str] = {}
        for stream_id, version, event_id in await driver.fetch(
            "SELECT stream_id, stream_version, event_id "
            "FROM signaalhub_lock_and_check($1::text[], $2::uuid[])",
            stream_ids,
            event_ids,
        ):
            if event_id is not None:
                stored[uuid.UUID(bytes=event_id.bytes)] = stream_id
            else:
                versions[stream_id] = version
        with paused_garbage_collection():
            plan = plan_appends(appends, versions, stored, self.clock())
            columns = list(zip(*plan.rows, strict=True))
        if plan.rows:
            await driver.execute(
                "INSERT INTO events (event_id, stream_id, stream_version, event_type, "
                "schema_version, payload, metadata, recorded_at) "
                "SELECT a, b, c, d, e, f, g, h FROM unnest($1::uuid[], $2::text[], $3::int[], "
                "$4::text[], $5::int[], $6::text[], $7::text[], $8::timestamptz[]) "
                "WITH ORDINALITY AS t(a, b, c, d, e, f, g, h, n) ORDER BY n",
                *columns,
            )
        return plan.results

    async def select_after(self, conn: AsyncConnection, after: int, limit: int) -> list[RawRow]:
        driver = await _driver(conn)
        rows = await driver.fetch(
            _SELECT + "WHERE position > $1 ORDER BY position LIMIT $2", after, limit
        )
        return [tuple(r) for r in rows]

    async def select_stream(
        self, conn: AsyncConnection, stream_id: str, after_version: int
    ) -> list[RawRow]:
        driver = await _driver(conn)
        rows = await driver.fetch(
            _SELECT + "WHERE stream_id = $1 AND stream_version > $2 ORDER BY stream_version",
            stream_id,
            after_version,
        )
        return [tuple(r) for r in rows]

    @staticmethod
    async def _in_transaction(conn: AsyncConnection) -> None:
        # SQLAlchemy's asyncpg adapter sends BEGIN lazily, with its first statement. A
        # statement sent straight to the driver before that would run in autocommit, outside
        # the unit of work: make sure the transaction has really begun.
        sync = conn.sync_connection
        fairy = sync.connection if sync is not None and not sync.invalidated else None
        raw = fairy if fairy is not None else await conn.get_raw_connection()
        adapted: Any = raw.dbapi_connection
        if adapted is not None and adapted._transaction is None:
            await adapted._start_transaction()


class SqliteRecorder:
    """sqlite3 inside aiosqlite's worker thread: one hand-off for a whole append or read.

    aiosqlite runs every call on its own thread; SQLAlchemy's adapter hands over each
    statement separately, which costs far more than the statements. ``_execute`` is the same
    hand-off SQLAlchemy's adapter uses internally, with one function for all of the work.

    A lone append (``append_in_own_transaction``) skips even that hand-off when it can: it
    runs on the event loop's thread if the write lock is free at once (``busy_timeout`` 0 for
    its ``BEGIN IMMEDIATE``). It then holds the loop for the append itself, a fraction of a
    millisecond, which is less than the hand-off and the two wake-ups it replaces. When
    another connection is writing, it waits its turn on the worker thread as before, so the
    loop is never blocked on a lock. (The engine opens SQLite connections with
    ``check_same_thread=False`` for this; aiosqlite serialises nothing else on them meanwhile,
    because the store awaits each call on its writer connection before the next.)
    """

    def __init__(self, clock: Callable[[], datetime] = utc_now) -> None:
        self.clock = clock

    async def lock(self, conn: AsyncConnection) -> None:
        # Write transactions begin with BEGIN IMMEDIATE: the database lock is already held.
        return None

    async def append(
        self, conn: AsyncConnection, appends: Sequence[StreamAppend]
    ) -> list[AppendResult]:
        check_appends(appends)
        plan: AppendPlan = await self._run(conn, _sqlite_append, appends, self.clock())
        return plan.results

    async def append_in_own_transaction(
        self, conn: AsyncConnection, appends: Sequence[StreamAppend]
    ) -> list[AppendResult]:
        """BEGIN IMMEDIATE, append, COMMIT: on this thread when the write lock is free,
        else in a single hand-off to the worker thread, which waits for it."""
        check_appends(appends)
        aio = await _driver(conn)
        now = self.clock()
        try:
            plan = _sqlite_append_if_unlocked(aio._conn, appends, now)
        except _WorkerThreadNeededError:
            plan = await aio._execute(_sqlite_append_transaction, aio._conn, appends, now)
        return plan.results

    async def select_after(self, conn: AsyncConnection, after: int, limit: int) -> list[RawRow]:
        rows: list[RawRow] = await self._run(
            conn,
            _sqlite_select,
            _SELECT + "WHERE position > ? ORDER BY position LIMIT ?",
            (after, limit),
        )
        return rows

    async def select_stream(
        self, conn: AsyncConnection, stream_id: str, after_version: int
    ) -> list[RawRow]:
        rows: list[RawRow] = await self._run(
            conn,
            _sqlite_select,
            _SELECT + "WHERE stream_id = ? AND stream_version > ? ORDER BY stream_version",
            (stream_id, after_version),
        )
        return rows

    @staticmethod
    async def _run(conn: AsyncConnection, work: Callable[..., Any], *args: Any) -> Any:
        aio = await _driver(conn)
        return await aio._execute(work, aio._conn, *args)


# -- SQLite, run on aiosqlite's worker thread -----------------------------------------------
# Values are stored the way SQLAlchemy's SQLite types store them (uuid as 32 hex digits,
# timestamps as "YYYY-MM-DD HH:MM:SS.ffffff" in UTC), so both paths read each other's rows.

_INSERT = (
    "INSERT INTO events (event_id, stream_id, stream_version, event_type, "
    "schema_version, payload, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)


class _WorkerThreadNeededError(Exception):
    """The append must run on aiosqlite's worker thread: another connection holds the write
    lock (wait for it off the event loop), or the connection was opened by an engine that
    did not allow other threads (``check_same_thread``)."""


def _sqlite_append(
    db: sqlite3.Connection,
    appends: Sequence[StreamAppend],
    now: datetime,
    *,
    savepoint: bool = True,
) -> AppendPlan:
    """Append inside the caller's write transaction.

    Optimistic about event ids: the rows are inserted without first looking up every event
    id, inside a savepoint. Only when the unique index on event ids refuses one, or the
    versions do not fit (a redelivery, a retry), is the append planned again with the stored
    ids, which tells a duplicate from a conflict exactly as before. The common case, all new,
    saves a lookup per event. ``savepoint=False``: the caller rolls its whole transaction back
    on an ``IntegrityError`` instead (a lone append, whose transaction is its own).
    """
    stream_ids, _ = check_appends(appends)
    versions = dict(
        db.execute(
            "SELECT stream_id, max(stream_version) FROM events "
            f"WHERE stream_id IN {_sqlite_in(stream_ids)} GROUP BY stream_id",
            _sqlite_params(stream_ids),
        ).fetchall()
    )
    try:
        with paused_garbage_collection():
            plan = plan_appends(appends, versions, {}, now)
    except ConcurrencyError:
        # A retry of a stored append carries its old expected version: a duplicate, not
        # a conflict, if its event ids are stored. Only the stored ids can tell.
        return _sqlite_append_knowing_stored_ids(db, appends, versions, now)
    if not savepoint:
        _sqlite_insert(db, plan, now)
        return plan
    db.execute("SAVEPOINT hub_optimistic_append")
    try:
        _sqlite_insert(db, plan, now)
    except sqlite3.IntegrityError:
        db.execute("ROLLBACK TO hub_optimistic_append")
        db.execute("RELEASE hub_optimistic_append")
        return _sqlite_append_knowing_stored_ids(db, appends, versions, now)
    db.execute("RELEASE hub_optimistic_append")
    return plan


def _sqlite_append_knowing_stored_ids(
    db: sqlite3.Connection,
    appends: Sequence[StreamAppend],
    versions: dict[str, int],
    now: datetime,
) -> AppendPlan:
    _, event_ids = check_appends(appends)
    hexes = [e.hex for e in event_ids]
    stored = {
        uuid.UUID(hex=event_id): stream_id
        for event_id, stream_id in db.execute(
            f"SELECT event_id, stream_id FROM events WHERE event_id IN {_sqlite_in(hexes)}",
            _sqlite_params(hexes),
        )
    }
    with paused_garbage_collection():
        plan = plan_appends(appends, versions, stored, now)
    if plan.rows:
        _sqlite_insert(db, plan, now)
    return plan


def _sqlite_insert(db: sqlite3.Connection, plan: AppendPlan, now: datetime) -> None:
    recorded_at = _sqlite_timestamp(now)  # one moment for the whole append
    with paused_garbage_collection():
        rows = [(r[0].hex, r[1], r[2], r[3], r[4], r[5], r[6], recorded_at) for r in plan.rows]
        db.executemany(_INSERT, rows)


def _sqlite_append_transaction(
    db: sqlite3.Connection, appends: Sequence[StreamAppend], now: datetime
) -> AppendPlan:
    db.execute("BEGIN IMMEDIATE")
    return _sqlite_append_and_commit(db, appends, now)


def _sqlite_append_if_unlocked(
    db: sqlite3.Connection, appends: Sequence[StreamAppend], now: datetime
) -> AppendPlan:
    """``_sqlite_append_transaction`` if the write lock is free now and the events are
    new; raises ``_WorkerThreadNeededError``, having written nothing, instead of waiting for
    the lock or judging a retry here."""
    try:
        db.execute("PRAGMA busy_timeout=0")
    except sqlite3.ProgrammingError as error:
        raise _WorkerThreadNeededError from error
    try:
        db.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as error:
        if getattr(error, "sqlite_errorname", "") != "SQLITE_BUSY" or db.in_transaction:
            raise
        raise _WorkerThreadNeededError from error
    finally:
        db.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    try:
        plan = _sqlite_append(db, appends, now, savepoint=False)
    except sqlite3.IntegrityError as error:
        # A stored event id (a retry): judged with the stored ids on the worker thread.
        db.execute("ROLLBACK")
        raise _WorkerThreadNeededError from error
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
    return plan


def _sqlite_append_and_commit(
    db: sqlite3.Connection, appends: Sequence[StreamAppend], now: datetime
) -> AppendPlan:
    try:
        plan = _sqlite_append(db, appends, now)
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
    return plan


_UUID = uuid.UUID
_new_object = object.__new__
_set_attribute = object.__setattr__
_UNKNOWN_SAFETY = uuid.SafeUUID.unknown


def _uuid_from_hex(digits: str) -> uuid.UUID:
    """``uuid.UUID(hex=digits)`` for the 32 plain hex digits we store, without its parsing
    of braces, dashes and URNs (a third of a log read's conversion time)."""
    value = _new_object(_UUID)
    _set_attribute(value, "int", int(digits, 16))
    _set_attribute(value, "is_safe", _UNKNOWN_SAFETY)
    return value


def _sqlite_select(db: sqlite3.Connection, sql: str, params: tuple[Any, ...]) -> list[RawRow]:
    with paused_garbage_collection():
        return _sqlite_rows(db, sql, params)


def _sqlite_rows(db: sqlite3.Connection, sql: str, params: tuple[Any, ...]) -> list[RawRow]:
    # The events of one append share their timestamp text: each distinct text is parsed
    # once a page (parsing and setting the zone was a third of a row's conversion).
    recorded: dict[str, datetime] = {}
    from_iso = datetime.fromisoformat
    rows: list[RawRow] = []
    add = rows.append
    for (
        position,
        stream_id,
        version,
        event_id,
        event_type,
        schema_version,
        payload,
        metadata,
        recorded_at,
    ) in db.execute(sql, params):
        at = recorded.get(recorded_at)
        if at is None:
            at = recorded[recorded_at] = from_iso(recorded_at).replace(tzinfo=UTC)
        add(
            (
                position,
                stream_id,
                version,
                _uuid_from_hex(event_id),
                event_type,
                schema_version,
                payload,
                metadata,
                at,
            )
        )
    return rows


def _expected_code(expected: ExpectedVersion) -> int:
    """The encoding of migration 0005: -1 any, -2 no stream, n exact."""
    if expected is StreamState.ANY:
        return -1
    if expected is StreamState.NO_STREAM:
        return -2
    check_expected("", expected, expected)  # refuses a malformed expected version
    assert isinstance(expected, int)
    return expected


def _append_error(error: Exception, appends: Sequence[StreamAppend]) -> Exception:
    state = getattr(error, "sqlstate", None)
    detail = getattr(error, "detail", None) or ""
    if state == "SH001":
        stream_id, expected, actual = detail.rsplit("|", 2)
        wanted = next(a.expected_version for a in appends if a.stream_id == stream_id)
        shown: object = wanted if isinstance(wanted, StreamState) else f"version {expected}"
        return ConcurrencyError(stream_id, shown, int(actual))
    if state == "SH002":
        item = next(a for a in appends if a.stream_id == detail)
        return EventIdConflictError(detail, sorted(str(e.event_id) for e in item.events))
    return error


def _sqlite_timestamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


_FEW = 8


def _sqlite_in(values: Sequence[str]) -> str:
    """A few values as placeholders (the common lone append: plain index lookups), many as
    one JSON list (one statement however many, instead of SQLite's parameter limit)."""
    if len(values) <= _FEW:
        return "(" + ", ".join("?" * len(values)) + ")" if values else "(NULL)"
    return "(SELECT value FROM json_each(?))"


def _sqlite_params(values: Sequence[str]) -> tuple[str, ...]:
    return tuple(values) if len(values) <= _FEW else (json.dumps(list(values)),)
