"""The peer: the ``eventsourcing`` library's application recorder on the same database.

It gets the very payload bytes our store writes. Its recorder takes events already
serialised (its ``Mapper`` does that one layer up), so its appends do no JSON work while ours
serialise pydantic models inside ``append``. Reads are decoded with the peer's own ``Mapper``
and ``JSONTranscoder`` into its domain event objects. Our JSON carries none of the
transcoder's ``_type_`` markers, so the peer's objects keep UUIDs, the amount and the dates
as strings where ours validates them into typed values: the read comparison flatters the peer.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TypeVar

from eventsourcing.persistence import (
    ApplicationRecorder,
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Mapper,
    StoredEvent,
    Transcoding,
    UUIDAsHex,
)
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore
from eventsourcing.utils import get_topic
from sqlalchemy.engine import make_url

from bench.databases import SQLITE_PRAGMAS, PostgresTarget, SqliteTarget, Target
from bench.signals import ArrearsKind, PartnerType, Workload
from bench.timing import Operation, Timings, stopwatch

READ_PAGE = 1000
_Item = TypeVar("_Item")


@dataclass(frozen=True)
class PeerArrearsSignalled:
    """The peer's domain event for our payload, with the types its transcoder hands back."""

    originator_id: uuid.UUID
    originator_version: int
    signal_id: str
    partner_id: str
    partner_type: str
    kind: str
    amount: str
    arrears_since: str
    signalled_on: str
    days_in_arrears: int
    payment_arrangement: bool
    previously_signalled: bool
    postcode_pc4: str
    gemeentecode: str
    household_ref: str


TOPIC = get_topic(PeerArrearsSignalled)


@dataclass(frozen=True)
class PeerArrearsToStore:
    """The same event with typed values, as an ``eventsourcing`` application hands it to its
    Mapper to serialise before the recorder stores it."""

    originator_id: uuid.UUID
    originator_version: int
    signal_id: uuid.UUID
    partner_id: uuid.UUID
    partner_type: PartnerType
    kind: ArrearsKind
    amount: Decimal
    arrears_since: date
    signalled_on: date
    days_in_arrears: int
    payment_arrangement: bool
    previously_signalled: bool
    postcode_pc4: str
    gemeentecode: str
    household_ref: uuid.UUID


class DateAsISO(Transcoding):
    """``date`` as an ISO string: the transcoder has none for dates of its own."""

    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class _Peer:
    """A recorder on a fresh table, and its datastore to close afterwards."""

    def __init__(self, target: Target) -> None:
        self.datastore: PostgresDatastore | SQLiteDatastore
        self.recorder: ApplicationRecorder
        if isinstance(target, PostgresTarget):
            url = make_url(target.url)
            postgres = PostgresDatastore(
                dbname=url.database or "",
                host=url.host or "127.0.0.1",
                port=url.port or 5432,
                user=url.username or "",
                password=url.password or "",
                schema=target.schema,
            )
            self.datastore = postgres
            pg_recorder = PostgresApplicationRecorder(postgres)
            pg_recorder.create_table()
            self.recorder = pg_recorder
        else:
            sqlite = SQLiteDatastore(db_name=str(target.path))
            self.datastore = sqlite
            sqlite_recorder = SQLiteApplicationRecorder(sqlite)
            sqlite_recorder.create_table()
            self.recorder = sqlite_recorder

    def close(self) -> None:
        self.datastore.close()


def sqlite_pragmas(target: SqliteTarget) -> dict[str, object]:
    """The pragmas the peer's SQLite connections run with (its defaults: we set none)."""
    datastore = SQLiteDatastore(db_name=str(target.path))
    try:
        with datastore.transaction(commit=False) as cursor:
            values: dict[str, object] = {}
            for name in SQLITE_PRAGMAS:
                cursor.execute(f"PRAGMA {name}")
                values[name] = cursor.fetchone()[0]
            return values
    finally:
        datastore.close()


def _mapper() -> Mapper[uuid.UUID]:
    transcoder = JSONTranscoder()
    # What eventsourcing's Application registers by default.
    transcoder.register(UUIDAsHex())
    transcoder.register(DecimalAsStr())
    transcoder.register(DatetimeAsISO())
    transcoder.register(DateAsISO())
    return Mapper(transcoder=transcoder)


def _batches(workload: Workload, make: Callable[[uuid.UUID, int, int], _Item]) -> list[list[_Item]]:
    """``make(stream, version, index)`` for every event, in the workload's batches."""
    return [
        [make(stream, version, i) for version, i in enumerate(indexes, start=1)]
        for stream, indexes in zip(workload.batch_stream_ids, workload.batches(), strict=True)
    ]


def append_one_each(target: Target, workload: Workload) -> Timings:
    stored = [
        StoredEvent(
            originator_id=event.signal_id,
            originator_version=1,
            topic=TOPIC,
            state=payload.encode(),
        )
        for event, payload in zip(workload.events, workload.payloads, strict=True)
    ]
    peer = _Peer(target)
    try:
        recorder = peer.recorder
        with stopwatch() as watch:
            for one in stored:
                recorder.insert_events([one])
        return {Operation.APPEND_ONE: watch.seconds}
    finally:
        peer.close()


def append_batches_then_read(target: Target, workload: Workload) -> Timings:
    batches = _batches(
        workload,
        lambda stream, version, i: StoredEvent(
            originator_id=stream,
            originator_version=version,
            topic=TOPIC,
            state=workload.payloads[i].encode(),
        ),
    )
    mapper = _mapper()
    peer = _Peer(target)
    try:
        recorder = peer.recorder
        with stopwatch() as append_watch:
            for batch in batches:
                recorder.insert_events(batch)
        read = 0
        with stopwatch() as read_watch:
            start = 1
            while True:
                page = recorder.select_notifications(start, limit=READ_PAGE)
                decoded = [mapper.to_domain_event(notification) for notification in page]
                read += len(decoded)
                if len(page) < READ_PAGE:
                    break
                start = page[-1].id + 1
        if read != len(workload):
            raise RuntimeError(f"the peer read {read} events, expected {len(workload)}")
        return {
            Operation.APPEND_BATCH: append_watch.seconds,
            Operation.READ_ALL: read_watch.seconds,
        }
    finally:
        peer.close()


def append_batches_serialising(target: Target, workload: Workload) -> Timings:
    """The peer's batched append with the serialisation that our ``append`` does inside:
    its Mapper turns each event object into a stored event, then the recorder inserts the
    batch. Not a target's reference (that is the recorder alone); it shows the two like for
    like."""
    batches = _batches(
        workload,
        lambda stream, version, i: PeerArrearsToStore(
            originator_id=stream, originator_version=version, **workload.events[i].model_dump()
        ),
    )
    mapper = _mapper()
    peer = _Peer(target)
    try:
        recorder = peer.recorder
        with stopwatch() as watch:
            for batch in batches:
                recorder.insert_events([mapper.to_stored_event(event) for event in batch])
        return {Operation.APPEND_BATCH: watch.seconds}
    finally:
        peer.close()
