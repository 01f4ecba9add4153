"""Pages shared by projections catching up side by side: read once, bounded, never stuck."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest

from events.envelope import RecordedEvent
from events.store import SqlEventStore
from projections.shared_pages import SharedPages


class LogOfPositions:
    """Stands in for the store's ``read_all``: a log of positions 1..n, counting the reads."""

    def __init__(self, events: int) -> None:
        self.events = events
        self.reads: list[int] = []

    async def read_all(self, after: int = 0, limit: int = 1000) -> list[Any]:
        self.reads.append(after)
        await asyncio.sleep(0)
        return [Position(p) for p in range(after + 1, min(after + limit, self.events) + 1)]


class Position:
    def __init__(self, position: int) -> None:
        self.position = position


def shared(log: LogOfPositions, readers: list[str], most_pages: int = 3) -> SharedPages:
    return SharedPages(cast(SqlEventStore, log), 10, readers, most_pages=most_pages)


def positions(page: list[RecordedEvent]) -> list[int]:
    return [r.position for r in page]


async def read_through(pages: SharedPages, reader: str) -> list[int]:
    seen: list[int] = []
    position = 0
    while True:
        page = await pages.after(reader, position)
        seen += positions(page)
        if len(page) < 10:
            await pages.finished(reader)
            return seen
        position = page[-1].position


async def test_readers_at_the_same_place_read_each_page_once() -> None:
    log = LogOfPositions(35)
    pages = shared(log, ["a", "b"])

    a, b = await asyncio.gather(read_through(pages, "a"), read_through(pages, "b"))
    await pages.close()

    assert a == b == list(range(1, 36))
    assert sorted(log.reads) == [0, 10, 20, 30]


async def test_a_fast_reader_waits_for_the_slow_one_once_enough_pages_are_held() -> None:
    log = LogOfPositions(1000)
    pages = shared(log, ["fast", "slow"], most_pages=3)
    await pages.after("slow", 0)  # the slow reader stays on its first page for now

    fast = asyncio.create_task(read_through(pages, "fast"))
    await asyncio.sleep(0.05)

    assert not fast.done()  # held back: it may not run ahead of the slow one without bound
    assert len(set(log.reads)) <= 4  # the pages held, and one read ahead
    await pages.finished("slow")  # the slow one is gone: nothing holds the fast one back
    assert await asyncio.wait_for(fast, timeout=5) == list(range(1, 1001))
    await pages.close()


async def test_the_slowest_reader_never_waits() -> None:
    log = LogOfPositions(100)
    pages = shared(log, ["ahead", "behind"], most_pages=1)
    await pages.after("ahead", 50)  # far ahead, holding a page (and reading one ahead)

    page = await asyncio.wait_for(pages.after("behind", 0), timeout=5)

    assert positions(page) == list(range(1, 11))
    await pages.close()


async def test_pages_every_reader_has_passed_are_let_go() -> None:
    log = LogOfPositions(100)
    pages = shared(log, ["a", "b"])
    for position in (0, 10, 20):
        await pages.after("a", position)
        await pages.after("b", position)

    await pages.after("a", 30)
    await pages.after("b", 30)

    assert sorted(pages._pages) == [30, 40]  # this page and the one read ahead
    await pages.close()


async def test_no_read_ahead_after_the_end_of_the_log() -> None:
    log = LogOfPositions(15)
    pages = shared(log, ["a"])

    assert positions(await pages.after("a", 10)) == list(range(11, 16))

    await asyncio.sleep(0)
    assert log.reads == [10]
    await pages.close()


async def test_close_cancels_what_is_still_being_read() -> None:
    log = LogOfPositions(100)
    pages = shared(log, ["a"])
    await pages.after("a", 0)  # reads ahead from 10
    ahead = pages._pages[10]

    await pages.close()

    assert ahead.cancelled() or ahead.done()
    with pytest.raises(KeyError):
        pages._pages[10]
