"""The projection runner: exactly-once effect, resume after a failure, rebuild equals live,
competing instances, following live (DESIGN §8, issue 5 item 1)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from events.envelope import RecordedEvent
from events.store import SqlEventStore
from projections.checkpoints import read_checkpoint
from projections.runner import ProjectionRunner
from tests.support.events import counted

test_metadata = MetaData()
counts = Table(
    "test_event_counts",
    test_metadata,
    Column("stream_prefix", String(50), primary_key=True),
    Column("n", Integer(), nullable=False),
)


class BoomError(Exception):
    pass


class CountPerStreamPrefix:
    """Counts events per stream prefix; fails on a chosen event number when asked to."""

    name = "test-counts"
    tables = (counts,)

    def __init__(self, fail_at: int | None = None) -> None:
        self.fail_at = fail_at
        self.seen = 0

    async def apply(self, conn: AsyncConnection, recorded: RecordedEvent) -> None:
        self.seen += 1
        if self.fail_at is not None and self.seen == self.fail_at:
            raise BoomError
        prefix = recorded.stream_id.split("-", 1)[0]
        insert = postgresql_insert if conn.dialect.name == "postgresql" else sqlite_insert
        await conn.execute(
            insert(counts)
            .values(stream_prefix=prefix, n=1)
            .on_conflict_do_update(index_elements=["stream_prefix"], set_={"n": counts.c.n + 1})
        )


@pytest.fixture
async def counted_store(store: SqlEventStore) -> SqlEventStore:
    async with store.engine.begin() as conn:
        await conn.run_sync(test_metadata.create_all)
    return store


async def read_counts(store: SqlEventStore) -> dict[str, int]:
    async with store.engine.connect() as conn:
        return {row.stream_prefix: row.n for row in await conn.execute(select(counts))}


async def append_events(store: SqlEventStore, streams: dict[str, int]) -> None:
    for stream, n in streams.items():
        await store.append(stream, [counted(i) for i in range(n)])


async def test_catch_up_applies_each_event_once_and_moves_the_checkpoint(
    counted_store: SqlEventStore,
) -> None:
    store = counted_store
    await append_events(store, {"a-1": 3, "b-1": 2, "a-2": 1})
    runner = ProjectionRunner(store, [CountPerStreamPrefix()], page_size=2)

    first = await runner.catch_up()
    again = await runner.catch_up()

    assert first == {"test-counts": 6}
    assert again == {"test-counts": 0}
    assert await read_counts(store) == {"a": 4, "b": 2}
    async with store.engine.connect() as conn:
        assert await read_checkpoint(conn, "test-counts") == await store.last_position()


async def test_a_failing_page_leaves_neither_writes_nor_checkpoint(
    counted_store: SqlEventStore,
) -> None:
    store = counted_store
    await append_events(store, {"a-1": 5})
    failing = ProjectionRunner(store, [CountPerStreamPrefix(fail_at=4)], page_size=3)

    with pytest.raises(BoomError):
        await failing.catch_up()

    assert await read_counts(store) == {"a": 3}  # the first page committed, the second did not
    await ProjectionRunner(store, [CountPerStreamPrefix()], page_size=3).catch_up()
    assert await read_counts(store) == {"a": 5}


async def test_rebuild_gives_what_live_following_gave(counted_store: SqlEventStore) -> None:
    store = counted_store
    runner = ProjectionRunner(store, [CountPerStreamPrefix()], page_size=4)
    await append_events(store, {"a-1": 3, "b-1": 1})
    await runner.catch_up()
    await append_events(store, {"b-2": 2, "c-1": 1})
    await runner.catch_up()
    live = await read_counts(store)

    rebuilt = await runner.rebuild("test-counts")

    assert rebuilt == {"test-counts": 7}
    assert await read_counts(store) == live == {"a": 3, "b": 3, "c": 1}
    with pytest.raises(KeyError, match="unknown projection 'nope'"):
        await runner.rebuild("nope")


async def test_competing_instances_never_apply_an_event_twice(
    counted_store: SqlEventStore,
) -> None:
    store = counted_store
    await append_events(store, {f"s{i}-x": 5 for i in range(20)})
    instances = [ProjectionRunner(store, [CountPerStreamPrefix()], page_size=7) for _ in range(3)]

    results = await asyncio.gather(*(runner.catch_up() for runner in instances))

    assert sum(r["test-counts"] for r in results) == 100
    assert sum((await read_counts(store)).values()) == 100


async def test_competing_instances_of_projections_sharing_pages_apply_each_event_once(
    counted_store: SqlEventStore,
) -> None:
    store = counted_store
    await append_events(store, {f"s{i}-x": 5 for i in range(20)})
    instances = [
        ProjectionRunner(store, [StagedCounts("first"), StagedCounts("second")], batch_page_size=7)
        for _ in range(3)
    ]

    results = await asyncio.gather(*(runner.catch_up() for runner in instances))

    assert sum(r["first"] for r in results) == sum(r["second"] for r in results) == 100
    counts = await read_counts(store)
    assert sum(n for key, n in counts.items() if key.startswith("first:")) == 100
    assert sum(n for key, n in counts.items() if key.startswith("second:")) == 100


@pytest.mark.parametrize("together", [True, False], ids=["side by side", "alone"])
async def test_each_committed_page_is_reported_up_to_the_end_of_the_log(
    counted_store: SqlEventStore, together: bool
) -> None:
    store = counted_store
    await append_events(store, {"a-1": 10, "b-1": 7})
    projections: list[Any] = (
        [StagedCounts("first"), StagedCounts("second")] if together else [CountPerStreamPrefix()]
    )
    reported: list[tuple[str, int]] = []
    runner = ProjectionRunner(
        store,
        projections,
        page_size=5,
        batch_page_size=5,
        on_page=lambda name, position: reported.append((name, position)),
    )

    await runner.rebuild()

    for projection in projections:
        positions = [p for name, p in reported if name == projection.name]
        assert positions == [5, 10, 15, 17]


async def test_follow_applies_new_events_as_they_are_committed(
    counted_store: SqlEventStore,
) -> None:
    store = counted_store
    store.poll_interval = 5.0  # so only a wake-up makes it fast
    runner = ProjectionRunner(store, [CountPerStreamPrefix()])
    stop = asyncio.Event()
    following = asyncio.create_task(runner.follow(stop))
    await asyncio.sleep(0.2)

    await append_events(store, {"a-1": 2})
    for _ in range(100):
        if (await read_counts(store)).get("a") == 2:
            break
        await asyncio.sleep(0.02)
    stop.set()
    await asyncio.wait_for(following, timeout=10)

    assert await read_counts(store) == {"a": 2}


class SeenPositions:
    """A batch projection that remembers, in memory, the positions each page gave it."""

    tables: tuple[Any, ...] = ()

    def __init__(self, name: str) -> None:
        self.name = name
        self.pages: list[list[int]] = []

    async def apply(self, conn: AsyncConnection, recorded: RecordedEvent) -> None:
        self.pages.append([recorded.position])

    async def apply_batch(self, conn: AsyncConnection, page: Sequence[RecordedEvent]) -> None:
        self.pages.append([r.position for r in page])


async def test_batch_projections_share_pages_yet_each_starts_at_its_own_checkpoint(
    store: SqlEventStore,
) -> None:
    await append_events(store, {"a-1": 5})
    ahead, behind = SeenPositions("ahead"), SeenPositions("behind")
    await ProjectionRunner(store, [ahead]).catch_up()  # "ahead" has seen positions 1-5
    await append_events(store, {"a-2": 3})

    applied = await ProjectionRunner(store, [ahead, behind], batch_page_size=4).catch_up()

    assert applied == {"ahead": 3, "behind": 8}
    assert [p for page in ahead.pages for p in page] == list(range(1, 9))  # each once, in order
    assert [p for page in behind.pages for p in page] == list(range(1, 9))
    assert max(len(page) for page in behind.pages) <= 4
    async with store.engine.connect() as conn:
        assert await read_checkpoint(conn, "ahead") == await read_checkpoint(conn, "behind") == 8
    assert await ProjectionRunner(store, [ahead, behind]).catch_up() == {"ahead": 0, "behind": 0}


class StagedCounts:
    """A staged batch projection (read, fold, write) counting events per stream prefix into
    its own prefix's rows of ``test_event_counts``; its write fails on a chosen page."""

    tables: tuple[Any, ...] = ()

    def __init__(self, name: str, fail_on_page: int | None = None) -> None:
        self.name = name
        self.fail_on_page = fail_on_page
        self.pages = 0

    async def apply(self, conn: AsyncConnection, recorded: RecordedEvent) -> None:
        await self.apply_batch(conn, [recorded])

    async def apply_batch(self, conn: AsyncConnection, page: Sequence[RecordedEvent]) -> None:
        state = await self.read_page(conn, page)
        self.fold_page(state, page)
        await self.write_page(conn, state)

    async def read_page(self, conn: AsyncConnection, page: Sequence[RecordedEvent]) -> Any:
        return {}

    def fold_page(self, state: Any, page: Sequence[RecordedEvent]) -> None:
        for recorded in page:
            key = f"{self.name}:{recorded.stream_id.split('-', 1)[0]}"
            state[key] = state.get(key, 0) + 1

    async def write_page(self, conn: AsyncConnection, state: Any) -> None:
        self.pages += 1
        insert = postgresql_insert if conn.dialect.name == "postgresql" else sqlite_insert
        for key, n in state.items():
            await conn.execute(
                insert(counts)
                .values(stream_prefix=key, n=n)
                .on_conflict_do_update(index_elements=["stream_prefix"], set_={"n": counts.c.n + n})
            )
        if self.pages == self.fail_on_page:
            raise BoomError


async def test_a_failing_projection_holds_back_only_itself_and_undoes_its_own_page(
    counted_store: SqlEventStore,
) -> None:
    store = counted_store
    await append_events(store, {"a-1": 5, "b-1": 4})
    first, failing = StagedCounts("first"), StagedCounts("second", fail_on_page=2)

    with pytest.raises(BoomError):
        await ProjectionRunner(store, [first, failing], batch_page_size=4).catch_up()

    # The first projection caught up; the failing one kept its first page (4 events) and
    # nothing of the second: its writes and its checkpoint were rolled back together.
    assert await read_counts(store) == {"first:a": 5, "first:b": 4, "second:a": 4}
    async with store.engine.connect() as conn:
        assert await read_checkpoint(conn, "first") == 9
        assert await read_checkpoint(conn, "second") == 4
    again = [StagedCounts("first"), StagedCounts("second")]
    assert await ProjectionRunner(store, again, batch_page_size=4).catch_up() == {
        "first": 0,
        "second": 5,
    }
    assert await read_counts(store) == {"first:a": 5, "first:b": 4, "second:a": 5, "second:b": 4}
