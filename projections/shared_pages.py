"""Pages of the event log read and decoded once for several projections catching up side by
side, each at its own pace.

A page is what ``read_all(after=k, limit=n)`` returned. Keeping it for another projection that
asks for the same ``k`` is safe even while events are being appended: the store's positions
are gap-free in commit order, so any page it returned is the first events after ``k`` and
nothing will later appear between them; events after the page are read with the next page.

Memory stays bounded: a page is dropped once every projection has moved past it, and a
projection that would read a new page while ``most_pages`` are held waits for the slowest
one, which never waits, so the projections stay within a few pages of each other.
"""

from __future__ import annotations

import asyncio
from contextlib import suppress

from events.envelope import RecordedEvent
from events.store import SqlEventStore

MOST_PAGES = 2


class SharedPages:
    def __init__(
        self,
        store: SqlEventStore,
        page_size: int,
        readers: list[str],
        most_pages: int = MOST_PAGES,
    ) -> None:
        self._store = store
        self._page_size = page_size
        self._most_pages = most_pages
        self._pages: dict[int, asyncio.Task[list[RecordedEvent]]] = {}
        self._wanted: dict[str, int | None] = dict.fromkeys(readers)
        """The page each reader asked for last (None: not yet); finished readers are gone."""
        self._moved = asyncio.Condition()

    async def after(self, reader: str, position: int) -> list[RecordedEvent]:
        """The page after ``position`` for ``reader``; the one after it is read ahead."""
        async with self._moved:
            self._wanted[reader] = position
            self._drop_passed()
            self._moved.notify_all()
            while position not in self._pages and not self._may_read(position):
                await self._moved.wait()
            task = self._read(position)
        page = await task
        if len(page) == self._page_size and self._may_read(page[-1].position):
            self._read(page[-1].position)  # read ahead, within the same bound
        return page

    async def finished(self, reader: str) -> None:
        """``reader`` asks for no more pages."""
        async with self._moved:
            self._wanted.pop(reader, None)
            self._drop_passed()
            self._moved.notify_all()

    async def close(self) -> None:
        """Cancel what is still being read (after a failure, or a read ahead nobody took)."""
        pages, self._pages = self._pages, {}
        for task in pages.values():
            task.cancel()
        for task in pages.values():
            with suppress(asyncio.CancelledError, Exception):
                await task

    def _read(self, position: int) -> asyncio.Task[list[RecordedEvent]]:
        task = self._pages.get(position)
        if task is None:
            task = self._pages[position] = asyncio.create_task(
                self._store.read_all(after=position, limit=self._page_size)
            )
        return task

    def _may_read(self, position: int) -> bool:
        return len(self._pages) < self._most_pages or position <= self._slowest()

    def _slowest(self) -> int:
        asked = [p for p in self._wanted.values() if p is not None]
        return min(asked, default=0)

    def _drop_passed(self) -> None:
        if any(p is None for p in self._wanted.values()):
            return  # a reader that has not asked yet may still want the first pages
        slowest = self._slowest()
        for position in [p for p in self._pages if p < slowest]:
            task = self._pages.pop(position)
            if not task.done():
                task.cancel()
