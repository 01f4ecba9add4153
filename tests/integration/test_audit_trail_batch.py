"""The audit trail applied a page at a time writes what it writes event by event (issue 5).

The outbox's varied log (requests, claims, a release and re-claim, reroutes, a cancel,
closes) is projected into ``audit_trail`` event by event (``apply``) and by the runner in
pages of 1, 7 and 1,000 events, alone and together with every other view: the rows come out
the same on SQLite and PostgreSQL, and every referral row names its case, also when the
referral's request was in an earlier page (the lookup of migration 0013).
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

import events.catalogue  # noqa: F401  (registers the domain events)
from events.envelope import RecordedEvent
from events.registry import EventRegistry, catalogue
from events.store import SqlEventStore
from projections.audit_trail import AuditTrailProjection, audit_trail
from projections.catalogue import all_projections
from projections.runner import ProjectionRunner
from tests.integration.test_outbox_batch import varied_log
from tests.support.intake import CONFIG


@pytest.fixture
def registry() -> EventRegistry:
    return catalogue


class OneByOne:
    """The audit trail without ``apply_batch``: the runner applies it event by event."""

    def __init__(self) -> None:
        self.projection = AuditTrailProjection()
        self.name = self.projection.name
        self.tables = self.projection.tables

    async def apply(self, conn: AsyncConnection, recorded: RecordedEvent) -> None:
        await self.projection.apply(conn, recorded)


async def snapshot(store: SqlEventStore) -> list[tuple[Any, ...]]:
    async with store.engine.connect() as conn:
        rows = await conn.execute(select(audit_trail).order_by(audit_trail.c.position))
        return [tuple(row) for row in rows]


async def rebuilt(store: SqlEventStore, page_size: int | None) -> list[tuple[Any, ...]]:
    if page_size is None:
        runner = ProjectionRunner(store, [OneByOne()])
    else:
        runner = ProjectionRunner(
            store, [AuditTrailProjection()], page_size=page_size, batch_page_size=page_size
        )
    await runner.rebuild("audit_trail")
    return await snapshot(store)


async def test_pages_of_any_size_write_the_rows_of_event_by_event(store: SqlEventStore) -> None:
    await varied_log(store)
    log: list[RecordedEvent] = await store.read_all(limit=10_000)

    one_by_one = await rebuilt(store, None)
    assert await rebuilt(store, 1) == one_by_one
    assert await rebuilt(store, 7) == one_by_one
    assert await rebuilt(store, 1000) == one_by_one
    # Every view together, in shared pages of 7 (read ahead while the last one is applied).
    await ProjectionRunner(store, all_projections(CONFIG), batch_page_size=7).rebuild()
    assert await snapshot(store) == one_by_one

    columns = [c.name for c in audit_trail.columns]
    rows = [dict(zip(columns, row, strict=True)) for row in one_by_one]
    referral_rows = [r for r in rows if r["resource"] == "verwijzing"]
    assert len(log) > len(rows) > 0
    assert {r["actie"] for r in referral_rows} >= {"aanmaken", "oppakken", "afsluiten"}
    assert all(r["hoofd_object"] and r["hoofd_object"].startswith("zaak:") for r in referral_rows)
