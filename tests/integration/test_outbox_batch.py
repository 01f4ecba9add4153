"""The outbox applied a page at a time writes what it writes applied event by event (issue 5).

A varied log of several households (requests, claims, a release and re-claim, reroutes by
routing and by hand, a cancel, closes with and without help accepted, a signal joining a
claimed case) is projected event by event (``apply``), and by the runner's ``apply_batch``
in pages of 1, 7 and 1,000 events: the outbox rows (ids in the same order, subjects, bodies)
and the helper tables come out the same, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Table, delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

import events.catalogue  # noqa: F401  (registers the domain events)
from events.catalogue.cases import SignalAttachedToCase
from events.catalogue.referrals import ContactKind, ReferralRequested
from events.catalogue.vocabulary import Outcome, PartnerType
from events.envelope import RecordedEvent
from events.registry import EventRegistry, catalogue
from events.store import SqlEventStore
from projections.outbox import (
    FEEDBACK,
    REFERRAL_CANCELLED,
    REFERRAL_REQUESTED,
    REFERRAL_REROUTED,
    OutboxProjection,
    outbox,
    outbox_referrals,
    outbox_signals,
)
from projections.runner import ProjectionRunner
from services.referrals.act_on_referral import ReferralActions
from tests.integration.test_outbox import NOON, cancelled_case, requests, two_partner_case
from tests.support.intake import person, routing_intake_for, signal, submit

CLOSED_ON = date(2026, 10, 20)
Snapshot = tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]


@pytest.fixture
def registry() -> EventRegistry:
    return catalogue


def synthetic_bsn(number: int) -> str:
    """A BSN from the 99xxxxxxx test range that passes the eleven-test."""
    for base in range(99_990_000 + number * 10, 99_990_000 + number * 10 + 10):
        digits = [int(d) for d in f"{base:08d}"]
        check = sum(d * w for d, w in zip(digits, range(9, 1, -1), strict=True)) % 11
        if check < 10:
            return f"{base:08d}{check}"
    raise AssertionError("no BSN")


def household(number: int) -> Any:
    return person(
        bsn=synthetic_bsn(number),
        surname=f"Testpersoon{number}",
        street="Testlaan",
        house_number=100 + number,
    )


async def request_of(store: SqlEventStore, case_id: uuid.UUID | None) -> ReferralRequested:
    """The newest referral requested for the case."""
    return [r for r in await requests(store) if r.case_id == case_id][-1]


async def varied_log(store: SqlEventStore) -> None:
    actions = ReferralActions(store, clock=lambda: NOON)
    intake = routing_intake_for(store)

    # Two partners, rerouted by routing; the new team claims and closes: help accepted.
    await two_partner_case(store)
    _, second = await requests(store)
    await actions.claim(second.team, second.referral_id, "w-1")
    await actions.record_contact_attempt(
        second.team, second.referral_id, ContactKind.PHONE, True, date(2026, 10, 6)
    )
    await actions.close(second.team, second.referral_id, Outcome.ADVICE_OR_QUICK_FIX, CLOSED_ON)

    # Cancelled before any contact.
    await cancelled_case(store)

    # Claimed, released, claimed again by a colleague, closed without help accepted.
    [c] = await intake.receive([submit(signal("W-3", person=household(3)))])
    third = await request_of(store, c.case_id)
    await actions.claim(third.team, third.referral_id, "w-2")
    await actions.release(third.team, third.referral_id, "vakantie")
    await actions.claim(third.team, third.referral_id, "w-3")
    await actions.record_contact_attempt(
        third.team, third.referral_id, ContactKind.HOME_VISIT, True, date(2026, 10, 7)
    )
    await actions.close(third.team, third.referral_id, Outcome.NO_HELP_NEEDED, CLOSED_ON)

    # Claimed; a second partner's signal joins the claimed case; closed: not picked up.
    [d] = await intake.receive([submit(signal("W-4", person=household(4)))])
    fourth = await request_of(store, d.case_id)
    await actions.claim(fourth.team, fourth.referral_id, "w-4")
    joining = signal(
        "H-4",
        partner_id="beter-wonen",
        partner_type=PartnerType.RENT,
        signal_date=date(2026, 10, 10),
        person=household(4),
    )
    await intake.receive([submit(joining, partner_id="beter-wonen")])
    await actions.record_contact_attempt(
        fourth.team, fourth.referral_id, ContactKind.PHONE, True, date(2026, 10, 8)
    )
    await actions.close(fourth.team, fourth.referral_id, Outcome.UNJUSTIFIED_SIGNAL, CLOSED_ON)

    # Claimed, then rerouted by hand to another team, which claims and closes it.
    [e] = await intake.receive([submit(signal("W-5", person=household(5)))])
    fifth = await request_of(store, e.case_id)
    await actions.claim(fifth.team, fifth.referral_id, "w-5")
    await actions.reroute(
        fifth.team, fifth.referral_id, "schuldenspecialisten", "team-oost", "past beter"
    )
    moved = await request_of(store, e.case_id)
    await actions.claim(moved.team, moved.referral_id, "w-6")
    await actions.record_contact_attempt(
        moved.team, moved.referral_id, ContactKind.PHONE, True, date(2026, 10, 9)
    )
    await actions.close(moved.team, moved.referral_id, Outcome.FOLLOW_UP_FINANCIAL, CLOSED_ON)

    # Still waiting in a queue.
    await intake.receive([submit(signal("W-6", person=household(6)))])


async def table_rows(conn: AsyncConnection, table: Table) -> list[tuple[Any, ...]]:
    key = table.primary_key.columns.values()[0]
    return [tuple(row) for row in (await conn.execute(select(table).order_by(key))).all()]


async def snapshot(store: SqlEventStore) -> Snapshot:
    """The outbox rows in id order (the relay's order), and both helper tables."""
    async with store.engine.connect() as conn:
        query = select(outbox.c.message_id, outbox.c.subject, outbox.c.body).order_by(outbox.c.id)
        messages = [tuple(row) for row in (await conn.execute(query)).all()]
        return (
            messages,
            await table_rows(conn, outbox_referrals),
            await table_rows(conn, outbox_signals),
        )


class OneByOne:
    """The outbox without ``apply_batch``: the runner applies it event by event."""

    def __init__(self) -> None:
        self.projection = OutboxProjection()
        self.name = self.projection.name
        self.tables = self.projection.tables

    async def apply(self, conn: AsyncConnection, recorded: RecordedEvent) -> None:
        await self.projection.apply(conn, recorded)


async def rebuilt(store: SqlEventStore, page_size: int | None) -> Snapshot:
    """The outbox rebuilt event by event (``None``) or in pages of ``page_size`` events,
    its messages made anew too (a rebuild keeps them; here each page size must make them)."""
    async with store.engine.begin() as conn:
        await conn.execute(delete(outbox))
    if page_size is None:
        runner = ProjectionRunner(store, [OneByOne()])
    else:
        runner = ProjectionRunner(
            store, [OutboxProjection()], page_size=page_size, batch_page_size=page_size
        )
    await runner.rebuild("outbox")
    return await snapshot(store)


async def test_pages_of_any_size_write_the_rows_of_event_by_event(store: SqlEventStore) -> None:
    await varied_log(store)
    log = await store.read_all(limit=10_000)

    one_by_one = await rebuilt(store, None)
    assert await rebuilt(store, 1) == one_by_one
    assert await rebuilt(store, 7) == one_by_one
    assert await rebuilt(store, 1000) == one_by_one

    messages, referrals, signals = one_by_one
    assert len(log) < 1000  # the largest page is the whole log at once
    assert len(referrals) == len([r for r in log if isinstance(r.event, ReferralRequested)]) == 8
    assert len(signals) == 8
    assert not any(row[-1] for row in referrals)  # nobody holds a referral at the end
    types = Counter(json.loads(body)["type"] for _, _, body in messages)
    assert types == {
        REFERRAL_REQUESTED: 8,
        REFERRAL_REROUTED: 2,
        REFERRAL_CANCELLED: 1,
        # picked up: 2 + 1 (once, despite the re-claim) + 1 + 1 (the joining signal)
        # + 1 + 1 (before and after the reroute by hand); closed: 2 + 1 + 2 + 1
        FEEDBACK: 13,
    }
    assert len({message_id for message_id, _, _ in messages}) == len(messages)
    assert any(isinstance(r.event, SignalAttachedToCase) for r in log)
    joined = [
        json.loads(body)["data"]
        for _, subject, body in messages
        if subject == "terugkoppeling.beter-wonen"
    ]
    assert {"signaalId": "H-4", "opgepakt": True} in joined  # at once: the case was claimed
    assert {"signaalId": "H-4", "opgepakt": False, "hulpGeaccepteerd": False} in joined


async def test_a_page_applied_again_adds_no_row(store: SqlEventStore) -> None:
    await varied_log(store)
    before = await rebuilt(store, 1000)

    projection = OutboxProjection()
    log = await store.read_all(limit=10_000)
    async with store.unit_of_work() as uow:  # a replay of the whole log as one page
        await projection.apply_batch(uow.connection, log)
    async with store.unit_of_work() as uow:  # and of its second half, event by event
        for recorded in log[len(log) // 2 :]:
            await projection.apply(uow.connection, recorded)
    assert await snapshot(store) == before


async def test_an_empty_page_writes_nothing(store: SqlEventStore) -> None:
    async with store.unit_of_work() as uow:
        await OutboxProjection().apply_batch(uow.connection, [])
    assert await snapshot(store) == ([], [], [])
