"""The event store contract (DESIGN §4), run unchanged against SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from events.envelope import Metadata, NewEvent, StreamAppend, StreamState
from events.errors import ConcurrencyError, EventIdConflictError
from events.store import SqlEventStore
from tests.support.events import Colour, Counted, ThingHappened, counted


async def test_append_to_new_stream_then_read_it_back(store: SqlEventStore) -> None:
    result = await store.append("case-1", [counted(1), counted(2)], StreamState.NO_STREAM)

    assert (result.stream_version, result.appended, result.duplicate) == (2, 2, False)
    recorded = await store.read_stream("case-1")
    assert [r.event for r in recorded] == [Counted(number=1), Counted(number=2)]
    assert [r.stream_version for r in recorded] == [1, 2]
    assert recorded[0].position < recorded[1].position


async def test_exact_expected_version_appends_and_wrong_one_raises(store: SqlEventStore) -> None:
    await store.append("s", [counted(1)], StreamState.NO_STREAM)
    await store.append("s", [counted(2)], 1)

    with pytest.raises(ConcurrencyError) as raised:
        await store.append("s", [counted(3)], 1)

    assert raised.value.actual == 2
    assert "expected version 1" in str(raised.value)
    assert [r.event.number for r in await store.read_stream("s")] == [1, 2]  # type: ignore[attr-defined]


async def test_no_stream_refuses_an_existing_stream(store: SqlEventStore) -> None:
    await store.append("s", [counted(1)])

    with pytest.raises(ConcurrencyError, match="expected no stream"):
        await store.append("s", [counted(2)], StreamState.NO_STREAM)

    assert await store.stream_version("s") == 1


async def test_exact_version_on_missing_stream_raises(store: SqlEventStore) -> None:
    with pytest.raises(ConcurrencyError, match="no stream"):
        await store.append("missing", [counted(1)], 3)
    assert await store.read_stream("missing") == []


async def test_any_appends_whatever_the_version(store: SqlEventStore) -> None:
    await store.append("s", [counted(1)], StreamState.ANY)
    result = await store.append("s", [counted(2)], StreamState.ANY)
    assert result.stream_version == 2


async def test_reappending_stored_event_ids_is_reported_duplicate_and_writes_nothing(
    store: SqlEventStore,
) -> None:
    events = [counted(1), counted(2)]
    await store.append("s", events, StreamState.NO_STREAM)
    before = await store.last_position()

    # A retry carries the same expected version it had the first time.
    retry = await store.append("s", events, StreamState.NO_STREAM)

    assert retry.duplicate is True
    assert retry.appended == 0
    assert retry.stream_version == 2
    assert await store.last_position() == before
    assert len(await store.read_all()) == 2


async def test_partly_stored_event_ids_are_refused(store: SqlEventStore) -> None:
    first = counted(1)
    await store.append("s", [first])

    with pytest.raises(EventIdConflictError):
        await store.append("s", [first, counted(2)])

    assert len(await store.read_all()) == 1


async def test_stored_event_id_in_another_stream_is_refused(store: SqlEventStore) -> None:
    event = counted(1)
    await store.append("a", [event])

    with pytest.raises(EventIdConflictError):
        await store.append("b", [event])
    assert await store.read_stream("b") == []


async def test_same_event_id_twice_in_one_append_is_refused(store: SqlEventStore) -> None:
    event = counted(1)
    with pytest.raises(ValueError, match="twice"):
        await store.append("s", [event, event])
    assert await store.read_all() == []


async def test_unit_of_work_appends_several_streams_atomically(store: SqlEventStore) -> None:
    async with store.unit_of_work() as uow:
        await uow.append("signal-1", [counted(1)], StreamState.NO_STREAM)
        await uow.append("case-1", [counted(2), counted(3)], StreamState.NO_STREAM)
        await uow.append("signal-1", [counted(4)], 1)

    assert [r.stream_id for r in await store.read_all()] == [
        "signal-1",
        "case-1",
        "case-1",
        "signal-1",
    ]
    assert await store.stream_version("signal-1") == 2


async def test_a_transaction_failing_half_way_leaves_nothing(store: SqlEventStore) -> None:
    await store.append("case-1", [counted(0)])

    with pytest.raises(ConcurrencyError):
        async with store.unit_of_work() as uow:
            await uow.append("signal-1", [counted(1)], StreamState.NO_STREAM)
            await uow.append("case-1", [counted(2)], StreamState.NO_STREAM)  # conflicts

    assert await store.read_stream("signal-1") == []
    assert len(await store.read_all()) == 1


async def test_an_exception_after_appending_rolls_back(store: SqlEventStore) -> None:
    class BoomError(Exception):
        pass

    with pytest.raises(BoomError):
        async with store.unit_of_work() as uow:
            await uow.append("s", [counted(1)])
            raise BoomError
    assert await store.read_all() == []


async def test_read_all_pages_in_position_order(store: SqlEventStore) -> None:
    for n in range(10):
        await store.append(f"s-{n % 3}", [counted(n)])

    first = await store.read_all(after=0, limit=4)
    rest = await store.read_all(after=first[-1].position, limit=100)

    numbers = [r.event.number for r in first + rest]  # type: ignore[attr-defined]
    assert numbers == list(range(10))
    positions = [r.position for r in first + rest]
    assert positions == sorted(positions)
    assert len(set(positions)) == 10
    assert await store.read_all(after=positions[-1]) == []


async def test_payload_types_round_trip_exactly(store: SqlEventStore) -> None:
    amsterdam_winter = timezone(timedelta(hours=1))
    event = ThingHappened(
        thing_id=uuid.uuid4(),
        amount=Decimal("1234.50"),
        on=date(2026, 2, 29 - 1),
        at=datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=amsterdam_winter),
        colour=Colour.GREEN,
        note="Zoë van 't Hoff — ĳ",
    )
    metadata = Metadata(correlation_id="c-1", causation_id="k-1", actor="test", source="urn:x")
    new = NewEvent(event, metadata)

    await store.append("s", [new])
    [recorded] = await store.read_stream("s")

    assert recorded.event == event
    read = recorded.event
    assert isinstance(read, ThingHappened)
    assert str(read.amount) == "1234.50"
    assert read.at.utcoffset() == timedelta(hours=1)
    assert read.colour is Colour.GREEN
    assert recorded.metadata == metadata
    assert recorded.event_id == new.event_id
    assert recorded.event_type == "test.ThingHappened"
    assert recorded.recorded_at.tzinfo is not None
    assert abs(recorded.recorded_at - datetime.now(UTC)) < timedelta(minutes=1)


async def test_subscription_catches_up_then_wakes_on_new_events(store: SqlEventStore) -> None:
    await store.append("s", [counted(1), counted(2)])
    seen: list[int] = []

    async def follow() -> None:
        async for recorded in store.subscribe(after=0):
            seen.append(recorded.event.number)  # type: ignore[attr-defined]
            if len(seen) == 4:
                return

    follower = asyncio.create_task(follow())
    await asyncio.sleep(0.2)
    await store.append("t", [counted(3)])
    await store.append("t", [counted(4)])
    await asyncio.wait_for(follower, timeout=10)

    assert seen == [1, 2, 3, 4]


async def test_events_written_by_old_code_are_upcast_when_new_code_reads(
    store: SqlEventStore,
) -> None:
    from events.envelope import NewEvent as New
    from tests.unit.test_event_registry import old_and_new_registries

    old, new = old_and_new_registries()
    old_code = SqlEventStore(store.engine, old)
    stored_by_old_code = old.event_class("ArrearsRecorded").model_validate({"amount_cents": 9950})
    async with old_code.unit_of_work() as uow:  # shares the engine: no store of its own to close
        await uow.append("s", [New(stored_by_old_code)])

    [recorded] = await SqlEventStore(store.engine, new).read_stream("s")

    assert recorded.schema_version == 1  # as stored; the payload was upcast on read
    assert recorded.event.model_dump() == {"amount": Decimal("99.50"), "partner_type": "Overige"}


async def test_append_many_writes_several_streams_in_one_call(store: SqlEventStore) -> None:
    from events.envelope import StreamAppend

    await store.append("existing", [counted(0)])
    async with store.unit_of_work() as uow:
        results = await uow.append_many(
            [
                StreamAppend("new", [counted(1)], StreamState.NO_STREAM),
                StreamAppend("existing", [counted(2), counted(3)], 1),
                StreamAppend("new", [counted(4)], 1),  # sees the version of the first part
            ]
        )

    assert [(r.stream_id, r.stream_version, r.appended) for r in results] == [
        ("new", 1, 1),
        ("existing", 3, 2),
        ("new", 2, 1),
    ]
    assert [r.event.number for r in await store.read_all()] == [0, 1, 2, 3, 4]  # type: ignore[attr-defined]


async def test_append_many_reports_duplicates_per_stream(store: SqlEventStore) -> None:
    from events.envelope import StreamAppend

    first = counted(1)
    await store.append("a", [first], StreamState.NO_STREAM)
    async with store.unit_of_work() as uow:
        results = await uow.append_many(
            [
                StreamAppend("a", [first], StreamState.NO_STREAM),  # a retry
                StreamAppend("b", [counted(2)], StreamState.NO_STREAM),
            ]
        )

    assert [r.duplicate for r in results] == [True, False]
    assert len(await store.read_all()) == 2


async def test_append_many_with_one_conflict_writes_nothing(store: SqlEventStore) -> None:
    from events.envelope import StreamAppend

    await store.append("taken", [counted(0)])
    with pytest.raises(ConcurrencyError):
        async with store.unit_of_work() as uow:
            await uow.append_many(
                [
                    StreamAppend("free", [counted(1)], StreamState.NO_STREAM),
                    StreamAppend("taken", [counted(2)], StreamState.NO_STREAM),
                ]
            )
    assert await store.read_stream("free") == []


async def test_recorded_at_comes_from_the_stores_clock(store: SqlEventStore) -> None:
    moment = datetime(2026, 3, 31, 22, 15, tzinfo=UTC)
    clocked = SqlEventStore(store.engine, store.registry, clock=lambda: moment)
    await clocked.append("clocked-lone", [counted(1)], StreamState.NO_STREAM)
    async with clocked.unit_of_work() as uow:
        await uow.append_many(
            [
                StreamAppend("clocked-a", [counted(2)], StreamState.NO_STREAM),
                StreamAppend("clocked-b", [counted(3)], StreamState.NO_STREAM),
            ]
        )
    await clocked.close(dispose_engine=False)
    recorded = [e for e in await store.read_all() if e.stream_id.startswith("clocked-")]
    assert len(recorded) == 3
    assert {e.recorded_at for e in recorded} == {moment}


async def test_each_append_reads_back_with_its_own_time_when_a_page_holds_several(
    store: SqlEventStore,
) -> None:
    moments = iter(datetime(2026, 3, 31, 22, 15, second, tzinfo=UTC) for second in range(3))
    clocked = SqlEventStore(store.engine, store.registry, clock=lambda: next(moments))
    await clocked.append("ticking-a", [counted(1), counted(2)], StreamState.NO_STREAM)
    await clocked.append("ticking-b", [counted(3)], StreamState.NO_STREAM)
    await clocked.append("ticking-a", [counted(4)], StreamState.ANY)
    await clocked.close(dispose_engine=False)

    recorded = [e for e in await store.read_all() if e.stream_id.startswith("ticking-")]

    assert [(e.event.number, e.recorded_at.second) for e in recorded] == [  # type: ignore[attr-defined]
        (1, 0),
        (2, 0),
        (3, 1),
        (4, 2),
    ]
    assert all(e.recorded_at.tzinfo is not None for e in recorded)


async def test_a_retry_inside_a_unit_of_work_keeps_the_appends_before_and_after_it(
    store: SqlEventStore,
) -> None:
    stored = counted(1)
    await store.append("s", [stored], StreamState.NO_STREAM)
    async with store.unit_of_work() as uow:
        before = await uow.append("before", [counted(2)], StreamState.NO_STREAM)
        retry = await uow.append("s", [stored], StreamState.NO_STREAM)
        after = await uow.append("after", [counted(3)], StreamState.NO_STREAM)

    assert (before.appended, retry.duplicate, after.appended) == (1, True, 1)
    assert [r.stream_id for r in await store.read_all()] == ["s", "before", "after"]


async def test_a_lone_append_waits_for_a_writing_unit_of_work_then_follows_it(
    store: SqlEventStore,
) -> None:
    async with store.unit_of_work() as uow:
        await uow.append("first", [counted(1)], StreamState.NO_STREAM)
        lone = asyncio.create_task(store.append("second", [counted(2)], StreamState.NO_STREAM))
        await asyncio.sleep(0.3)
        assert not lone.done()  # it waits for the write lock instead of failing or overtaking

    result = await asyncio.wait_for(lone, timeout=10)

    assert result.appended == 1
    assert [r.stream_id for r in await store.read_all()] == ["first", "second"]


async def test_a_page_of_mixed_event_types_reads_back_in_position_order(
    store: SqlEventStore,
) -> None:
    things = [
        ThingHappened(
            thing_id=uuid.uuid4(),
            amount=Decimal(n),
            on=date(2026, 1, 1 + n),
            at=datetime(2026, 1, 1, n, tzinfo=UTC),
            colour=Colour.RED,
        )
        for n in range(3)
    ]
    async with store.unit_of_work() as uow:
        for n, thing in enumerate(things):
            await uow.append(f"mixed-{n}", [counted(n), NewEvent(thing), counted(10 + n)])

    events = [r.event for r in await store.read_all(limit=100)]

    assert events == [
        e
        for n, thing in enumerate(things)
        for e in (Counted(number=n), thing, Counted(number=10 + n))
    ]


async def test_a_retry_with_any_version_is_a_duplicate_and_the_next_append_follows_it(
    store: SqlEventStore,
) -> None:
    events = [counted(1), counted(2)]
    await store.append("s", events, StreamState.ANY)

    retry = await store.append("s", events, StreamState.ANY)
    following = await store.append("s", [counted(3)], StreamState.ANY)

    assert (retry.duplicate, retry.appended, retry.stream_version) == (True, 0, 2)
    assert (following.appended, following.stream_version) == (1, 3)
    assert [r.stream_version for r in await store.read_all()] == [1, 2, 3]


async def test_metadata_reads_back_per_event_when_a_page_mixes_several(
    store: SqlEventStore,
) -> None:
    first = Metadata(correlation_id="c-1", actor="team:noord")
    second = Metadata(correlation_id="c-2", actor="team:zuid")
    async with store.unit_of_work() as uow:
        await uow.append(
            "m",
            [
                NewEvent(Counted(number=1), first),
                NewEvent(Counted(number=2), second),
                NewEvent(Counted(number=3)),
                NewEvent(Counted(number=4), first),
            ],
        )

    read = [r.metadata for r in await store.read_all()]

    assert read == [first, second, Metadata(), first]
