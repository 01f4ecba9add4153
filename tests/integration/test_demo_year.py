"""The demo's simulated year on SQLite: partner files through the file channel, teams at work
through the referral use cases, on a clock that follows the simulated days."""

from __future__ import annotations

import io
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

from rich.console import Console

from adapters.cli.demo_year import DemoYear, open_simulation_store, run_demo_year
from events.catalogue.referrals import (
    ContactAttemptRecorded,
    ReferralCancelled,
    ReferralClaimed,
    ReferralClosed,
    ReferralReleased,
    ReferralRerouted,
)
from events.catalogue.signals import SignalReceived
from events.envelope import RecordedEvent
from events.store import SqlEventStore
from services.clock import MUNICIPAL_TIME_ZONE
from services.referrals import lifecycle
from services.referrals.lifecycle import ALLOWED, Command, ReferralState
from services.settings import Settings
from services.simulation.simulate_year import months_before

CONFIG = Path(__file__).resolve().parents[2] / "config"
TODAY = date(2026, 6, 17)
MONTHS = months_before(TODAY, 12)
SIGNALS_PER_MONTH = 15
COMMAND_OF = {
    ReferralClaimed: Command.CLAIM,
    ContactAttemptRecorded: Command.RECORD_CONTACT_ATTEMPT,
    ReferralClosed: Command.CLOSE,
    ReferralReleased: Command.RELEASE,
    ReferralRerouted: Command.REROUTE,
    ReferralCancelled: Command.CANCEL,
}


async def _run(settings: Settings, tmp_path: Path) -> tuple[DemoYear, list[RecordedEvent]]:
    store, clock = await open_simulation_store(settings, MONTHS)
    try:
        year = await run_demo_year(
            settings,
            store,
            clock,
            months=MONTHS,
            signals_per_month=SIGNALS_PER_MONTH,
            seed=7,
            out=tmp_path / "files",
            rejects=tmp_path / "rejects",
            today=TODAY,
            console=Console(file=io.StringIO()),
        )
        return year, await _whole_log(store)
    finally:
        await store.close()


async def _whole_log(store: SqlEventStore) -> list[RecordedEvent]:
    log: list[RecordedEvent] = []
    while page := await store.read_all(after=log[-1].position if log else 0, limit=5000):
        log.extend(page)
    return log


def _local_day(recorded: RecordedEvent) -> date:
    return recorded.recorded_at.astimezone(MUNICIPAL_TIME_ZONE).date()


async def test_a_simulated_year_is_a_chronological_log_of_valid_referral_lives(
    tmp_path: Path,
) -> None:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite3'}", config_dir=CONFIG
    )

    year, log = await _run(settings, tmp_path)

    accepted = sum(s.accepted for s in year.ingest.values())
    assert accepted == SIGNALS_PER_MONTH * len(MONTHS)
    assert year.work.refused == []
    assert year.projections, "the projections were not brought up to date"

    # recorded_at follows the simulated days: never back in position order.
    moments = [r.recorded_at for r in log]
    assert moments == sorted(moments)
    assert _local_day(log[0]) == date(2025, 6, 30)  # the first month's files
    assert _local_day(log[-1]) < TODAY

    # Each month's signals are dated within it and recorded on its last day.
    for r in log:
        if isinstance(r.event, SignalReceived):
            received = _local_day(r)
            assert (r.event.signal_date.year, r.event.signal_date.month) in MONTHS
            assert r.event.signal_date <= received
            assert received.month == r.event.signal_date.month

    # The teams' work happened on the day it is recorded, not later.
    team_events = [r for r in log if (r.metadata.actor or "").startswith("team:")]
    for r in team_events:
        event = r.event
        day = _local_day(r)
        if isinstance(event, ReferralClaimed):
            assert event.claimed_at <= r.recorded_at
        elif isinstance(event, ContactAttemptRecorded):
            assert event.attempted_on == day
        elif isinstance(event, ReferralClosed):
            assert event.closed_on == day
    kinds = Counter(type(r.event) for r in team_events)
    assert kinds[ReferralClaimed] > 0
    assert kinds[ContactAttemptRecorded] > kinds[ReferralClosed] > 0

    # Every referral went only through transitions the state machine allows.
    streams: dict[str, list[RecordedEvent]] = defaultdict(list)
    for r in log:
        if r.stream_id.startswith("referral-"):
            streams[r.stream_id].append(r)
    states: Counter[ReferralState] = Counter()
    for recorded in streams.values():
        referral = lifecycle.apply(None, recorded[0].event)
        for r in recorded[1:]:
            assert COMMAND_OF[type(r.event)] in ALLOWED[referral.state], (r, referral)
            referral = lifecycle.apply(referral, r.event)
        states[referral.state] += 1
        assert year.work.referrals[referral.referral_id].referral == referral
    assert states[ReferralState.CLOSED] > 0
    still_open = sum(n for state, n in states.items() if state not in lifecycle.FINAL_STATES)
    assert still_open > 0, "the queue is empty at the end"


async def test_a_second_run_on_the_same_database_records_nothing_twice(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite3'}", config_dir=CONFIG
    )
    first, first_log = await _run(settings, tmp_path)

    second, second_log = await _run(settings, tmp_path)

    assert sum(s.duplicates for s in second.ingest.values()) == SIGNALS_PER_MONTH * len(MONTHS)
    assert sum(s.accepted for s in second.ingest.values()) == 0
    assert second.work.actions == 0
    assert second.work.played_after == _local_day(first_log[-1])
    assert [r.event_id for r in second_log] == [r.event_id for r in first_log]
    assert second.work.referrals == first.work.referrals
