"""Wakes in-process subscribers when new events may be readable."""

from __future__ import annotations

import asyncio


class Notifier:
    def __init__(self) -> None:
        self._waiters: set[asyncio.Event] = set()

    def register(self) -> asyncio.Event:
        wake = asyncio.Event()
        self._waiters.add(wake)
        return wake

    def unregister(self, wake: asyncio.Event) -> None:
        self._waiters.discard(wake)

    def notify(self) -> None:
        for wake in self._waiters:
            wake.set()
