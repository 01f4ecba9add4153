"""Straight to asyncpg inside the projection's transaction (PostgreSQL only).

A page's thousands of rows cost more in SQLAlchemy's per-row parameter handling than in the
database; the projections send them to asyncpg as arrays (``unnest``) or with COPY instead,
on the connection and inside the transaction the runner began, so the checkpoint still moves
with the writes.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from events.store.bulk_rows import driver_in_transaction


async def postgres_driver(conn: AsyncConnection) -> Any:
    """The asyncpg connection under ``conn``, inside the transaction ``conn`` began."""
    return await driver_in_transaction(conn)
