"""What a projection is: a read model kept from the event log, PII-free (DESIGN §8)."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection

from events.envelope import RecordedEvent


class Projection(Protocol):
    """A read model. The runner calls ``apply`` for every event in position order, inside the
    transaction that also moves the projection's checkpoint, so each event takes effect
    exactly once; ``tables`` are emptied on a rebuild."""

    @property
    def name(self) -> str: ...

    @property
    def tables(self) -> tuple[Table, ...]: ...

    async def apply(self, conn: AsyncConnection, recorded: RecordedEvent) -> None: ...
