"""The team referral queue read model, on every backend (DESIGN §7, issue 4 item 6)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import typer
from sqlalchemy import select
from typer.testing import CliRunner

import events.catalogue  # noqa: F401  (registers the domain events)
from adapters.cli import queue_command
from adapters.cli.running import console
from events.base import DomainEvent
from events.catalogue.cases import CaseClosed
from events.catalogue.referrals import ContactKind
from events.catalogue.vocabulary import Outcome
from events.envelope import NewEvent
from events.registry import EventRegistry, catalogue
from events.store import SqlEventStore
from projections.referral_queue import (
    QueueEntry,
    ReferralQueueProjection,
    referral_queue,
    team_queue,
)
from services.bootstrap import open_migrated_event_store
from services.referrals import lifecycle
from services.referrals.lifecycle import Referral, ReferralState
from services.referrals.sla import is_overdue
from services.settings import Settings

NOON = datetime(2026, 10, 5, 12, 0, tzinfo=UTC)
TODAY = date(2026, 11, 2)


@pytest.fixture
def registry() -> EventRegistry:
    return catalogue


class Stream:
    """A referral's events, built through the state machine so that every one is valid."""

    def __init__(self, team: str = "wijkteam-noord", *, requested_on: date, urgent: bool = False):
        self.referral_id = uuid.uuid4()
        self.events: list[DomainEvent] = lifecycle.request(
            referral_id=self.referral_id,
            case_id=uuid.uuid4(),
            project="vroeg-erop-af",
            team=team,
            urgent=urgent,
            requested_on=requested_on,
            rule_id="vroeg-erop-af",
        )

    @property
    def referral(self) -> Referral:
        return lifecycle.fold(self.events)

    def claim(self, worker: str = "w-17") -> Stream:
        self.events += lifecycle.claim(self.referral, worker, NOON)
        return self

    def attempt(self, on: date, *, reached: bool = False) -> Stream:
        self.events += lifecycle.record_contact_attempt(
            self.referral, ContactKind.PHONE, reached, on
        )
        return self

    def close(self, outcome: Outcome, on: date) -> Stream:
        self.events += lifecycle.close(self.referral, outcome, on)
        return self

    def release(self) -> Stream:
        self.events += lifecycle.release(self.referral, "ziek", NOON)
        return self

    def reroute(self) -> Stream:
        self.events += lifecycle.reroute(
            self.referral, "schuldenspecialisten", "wijkteam-zuid", "crisis", NOON
        )
        return self

    def cancel(self) -> Stream:
        self.events += lifecycle.cancel(self.referral, "betaald", NOON)
        return self


async def apply_log(store: SqlEventStore, after: int = 0) -> int:
    """Run the events after ``after`` through the projection, as the runner does; returns
    the last position applied."""
    projection = ReferralQueueProjection()
    async with store.unit_of_work() as uow:
        for recorded in await store.read_all(after=after, limit=10_000):
            await projection.apply(uow.connection, recorded)
            after = recorded.position
    return after


async def project(store: SqlEventStore, *streams: Stream) -> int:
    """Append each stream, then run every event of the log through the projection."""
    for stream in streams:
        await store.append(
            f"referral-{stream.referral_id}", [NewEvent(event) for event in stream.events]
        )
    return await apply_log(store)


async def queue(
    store: SqlEventStore, team: str = "wijkteam-noord", *, include_closed: bool = False
) -> list[QueueEntry]:
    async with store.engine.connect() as conn:
        return await team_queue(conn, team, today=TODAY, include_closed=include_closed)


async def row(store: SqlEventStore, referral_id: uuid.UUID) -> dict[str, object]:
    async with store.engine.connect() as conn:
        result = await conn.execute(
            select(referral_queue).where(referral_queue.c.referral_id == referral_id)
        )
        return dict(result.mappings().one())


async def test_a_request_becomes_a_row_with_its_due_dates(store: SqlEventStore) -> None:
    stream = Stream(requested_on=date(2026, 10, 2))
    await project(store, stream)

    found = await row(store, stream.referral_id)
    referral = stream.referral
    assert found == {
        "referral_id": referral.referral_id,
        "case_id": referral.case_id,
        "project": "vroeg-erop-af",
        "team": "wijkteam-noord",
        "state": "requested",
        "urgent": False,
        "requested_on": date(2026, 10, 2),
        "first_contact_due": date(2026, 10, 16),
        "closure_due": date(2026, 10, 30),
        "claimed_by": None,
        "contact_attempts": 0,
        "reached": False,
        "outcome": None,
        "updated_position": 1,
        "next_due": date(2026, 10, 16),  # the first contact is what the team works towards
    }


async def test_the_row_follows_the_lifecycle(store: SqlEventStore) -> None:
    claimed = Stream(requested_on=date(2026, 10, 20)).claim()
    working = Stream(requested_on=date(2026, 10, 20)).claim().attempt(date(2026, 10, 21))
    reached = (
        Stream(requested_on=date(2026, 10, 20))
        .claim()
        .attempt(date(2026, 10, 21))
        .attempt(date(2026, 10, 22), reached=True)
        .attempt(date(2026, 10, 23))
    )
    closed = (
        Stream(requested_on=date(2026, 10, 20))
        .claim()
        .attempt(date(2026, 10, 21), reached=True)
        .close(Outcome.ADVICE_OR_QUICK_FIX, date(2026, 10, 22))
    )
    await project(store, claimed, working, reached, closed)

    claimed_row = await row(store, claimed.referral_id)
    assert (claimed_row["state"], claimed_row["claimed_by"]) == ("claimed", "w-17")
    working_row = await row(store, working.referral_id)
    assert (working_row["state"], working_row["contact_attempts"], working_row["reached"]) == (
        "in_progress",
        1,
        False,
    )
    reached_row = await row(store, reached.referral_id)
    assert (reached_row["contact_attempts"], reached_row["reached"]) == (3, True)
    closed_row = await row(store, closed.referral_id)
    assert (closed_row["state"], closed_row["outcome"]) == (
        "closed",
        Outcome.ADVICE_OR_QUICK_FIX.value,
    )


async def test_release_puts_the_referral_back_and_a_reclaim_keeps_its_attempts(
    store: SqlEventStore,
) -> None:
    released = Stream(requested_on=date(2026, 10, 20)).claim().release()
    worked = (
        Stream(requested_on=date(2026, 10, 20)).claim("w-1").attempt(date(2026, 10, 21)).release()
    )
    applied = await project(store, released, worked)

    released_row = await row(store, released.referral_id)
    assert (released_row["state"], released_row["claimed_by"]) == ("requested", None)
    worked_row = await row(store, worked.referral_id)
    assert (worked_row["state"], worked_row["contact_attempts"]) == ("requested", 1)
    assert [e.referral_id for e in await queue(store)] == [
        released.referral_id,  # no attempt: first contact due 3 Nov comes first
        worked.referral_id,  # attempted: works towards closure on 17 Nov
    ]

    worked.claim("w-2")
    await store.append(
        f"referral-{worked.referral_id}", [NewEvent(worked.events[-1])], expected_version=4
    )
    await apply_log(store, after=applied)
    reclaimed = await row(store, worked.referral_id)
    assert (reclaimed["state"], reclaimed["claimed_by"], reclaimed["contact_attempts"]) == (
        "in_progress",
        "w-2",
        1,
    )


async def test_the_queue_lists_overdue_first_then_by_due_date(store: SqlEventStore) -> None:
    # Today is 2 November 2026.
    fresh = Stream(requested_on=date(2026, 10, 30))  # first contact due 13 Nov
    soon = Stream(requested_on=date(2026, 10, 22))  # first contact due 5 Nov
    late_contact = Stream(requested_on=date(2026, 10, 15))  # first contact was due 29 Oct
    late_closure = (  # contacted in time, closure was due 30 Oct
        Stream(requested_on=date(2026, 10, 2)).claim().attempt(date(2026, 10, 5))
    )
    contacted = (  # contacted, closure due 19 Nov: not overdue though past 14 days
        Stream(requested_on=date(2026, 10, 22)).claim().attempt(date(2026, 10, 23))
    )
    urgent = Stream(requested_on=date(2026, 10, 30), urgent=True)  # due Wed 4 Nov
    await project(store, fresh, soon, late_contact, late_closure, contacted, urgent)

    entries = await queue(store)

    assert [e.referral_id for e in entries] == [
        late_contact.referral_id,  # overdue, due 29 Oct
        late_closure.referral_id,  # overdue, due 30 Oct
        urgent.referral_id,  # 4 Nov
        soon.referral_id,  # 5 Nov
        fresh.referral_id,  # 13 Nov
        contacted.referral_id,  # 19 Nov (closure)
    ]
    assert [e.overdue for e in entries] == [True, True, False, False, False, False]
    by_id = {s.referral_id: s for s in (fresh, soon, late_contact, late_closure, contacted, urgent)}
    for entry in entries:
        # The SQL rule agrees with the SLA rule of services/referrals/sla.py.
        assert entry.overdue == is_overdue(by_id[entry.referral_id].referral, TODAY)
        assert entry.state == by_id[entry.referral_id].referral.state


async def test_a_team_sees_only_its_own_referrals(store: SqlEventStore) -> None:
    ours = Stream("wijkteam-noord", requested_on=date(2026, 10, 30))
    theirs = Stream("wijkteam-zuid", requested_on=date(2026, 10, 1))  # overdue, but not ours
    await project(store, ours, theirs)

    assert [e.referral_id for e in await queue(store, "wijkteam-noord")] == [ours.referral_id]
    assert [e.referral_id for e in await queue(store, "wijkteam-zuid")] == [theirs.referral_id]
    assert await queue(store, "wijkteam-oost", include_closed=True) == []


async def test_ended_referrals_leave_the_open_queue(store: SqlEventStore) -> None:
    open_one = Stream(requested_on=date(2026, 10, 30))
    closed = (
        Stream(requested_on=date(2026, 10, 1))
        .claim()
        .attempt(date(2026, 10, 2), reached=True)
        .close(Outcome.FOLLOW_UP_FINANCIAL, date(2026, 10, 20))
    )
    rerouted = Stream(requested_on=date(2026, 10, 1)).claim().reroute()
    cancelled = Stream(requested_on=date(2026, 10, 1)).cancel()
    await project(store, open_one, closed, rerouted, cancelled)

    assert [e.referral_id for e in await queue(store)] == [open_one.referral_id]

    everything = await queue(store, include_closed=True)
    assert everything[0].referral_id == open_one.referral_id  # open before ended
    assert {e.referral_id: e.state for e in everything[1:]} == {
        closed.referral_id: ReferralState.CLOSED,
        rerouted.referral_id: ReferralState.REROUTED,
        cancelled.referral_id: ReferralState.CANCELLED,
    }
    assert not any(e.overdue for e in everything)  # ended referrals are never overdue
    # A reroute ends the row in the old team; routing requests a new referral elsewhere.
    assert await queue(store, "wijkteam-zuid") == []


async def test_applying_an_event_twice_changes_nothing(store: SqlEventStore) -> None:
    stream = Stream(requested_on=date(2026, 10, 20)).claim().attempt(date(2026, 10, 21))
    await project(store, stream)
    before = await row(store, stream.referral_id)

    await apply_log(store)  # the whole log again

    assert await row(store, stream.referral_id) == before


async def test_other_events_are_ignored(store: SqlEventStore) -> None:
    case_id = uuid.uuid4()
    closed = CaseClosed(
        case_id=case_id, outcome=Outcome.NO_HELP_NEEDED, closed_on=TODAY, reason="test"
    )
    await store.append(f"case-{case_id}", [NewEvent(closed)])

    assert await apply_log(store) == 1
    assert await queue(store, include_closed=True) == []


async def test_the_queue_command_prints_overdue_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUB_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite3'}")
    monkeypatch.setattr(console, "_width", 250)  # keep each row on one line
    store = await open_migrated_event_store(Settings())
    try:
        late = Stream(requested_on=date(2000, 1, 3))  # long overdue, whatever today is
        later = Stream(requested_on=date(2999, 1, 4))
        elsewhere = Stream("wijkteam-zuid", requested_on=date(2000, 1, 3))
        await project(store, later, late, elsewhere)
    finally:
        await store.close()
    app = typer.Typer()
    app.command()(queue_command.queue)

    # The command runs its own event loop, as it does from a terminal.
    shown = await asyncio.to_thread(CliRunner().invoke, app, ["--team", "wijkteam-noord"])

    assert shown.exit_code == 0, shown.output
    assert "2 referrals, 1 overdue" in shown.output
    assert shown.output.index(str(late.referral_id)) < shown.output.index(str(later.referral_id))
    assert str(elsewhere.referral_id) not in shown.output
    assert "OVERDUE" in shown.output

    empty = await asyncio.to_thread(CliRunner().invoke, app, ["--team", "wijkteam-oost", "--all"])
    assert empty.exit_code == 0, empty.output
    assert "queue of team wijkteam-oost is empty" in empty.output


def test_next_due_is_first_contact_until_an_attempt_then_closure() -> None:
    from projections.referral_queue import next_due

    first, closure = date(2026, 10, 16), date(2026, 10, 30)
    assert next_due(0, first, closure) == first
    assert next_due(2, first, closure) == closure
    assert next_due(0, closure, first) == first  # never later than closure
