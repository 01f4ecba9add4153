"""The demo's simulated year on SQLite: partner files through the file channel, teams at work
through the referral use cases, on a clock that follows the simulated days."""

from __future__ import annotations

import io
import uuid
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy import insert, select

from adapters.cli.demo_year import DemoYear, open_simulation_store, run_demo_year
from events.catalogue.referrals import (
    ContactAttemptRecorded,
    ContactKind,
    PartOfDay,
    ReferralCancelled,
    ReferralClaimed,
    ReferralClosed,
    ReferralReleased,
    ReferralRequested,
    ReferralRerouted,
)
from events.catalogue.signals import SignalReceived
from events.catalogue.vocabulary import Outcome
from events.envelope import NewEvent, RecordedEvent
from events.errors import ConcurrencyError
from events.registry import EventRegistry, catalogue
from events.store import SqlEventStore
from services.clock import MUNICIPAL_TIME_ZONE
from services.intake.tables import household_cases
from services.referrals import lifecycle
from services.referrals.act_in_batches import (
    ClaimReferral,
    CloseReferral,
    LoadedReferral,
    RecordContactAttempt,
    ReleaseReferral,
    RerouteReferral,
    TeamAction,
    act_in_one_unit_of_work,
)
from services.referrals.act_on_referral import (
    NotYourReferral,
    ReferralNotFoundError,
    stream_of,
)
from services.referrals.lifecycle import ALLOWED, Command, ReferralState, TransitionRefused
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


async def _run(
    settings: Settings, tmp_path: Path, today: date = TODAY
) -> tuple[DemoYear, list[RecordedEvent]]:
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
            today=today,
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


async def test_a_second_run_on_the_same_database_records_nothing_twice_and_a_later_one_goes_on(
    tmp_path: Path,
) -> None:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite3'}", config_dir=CONFIG
    )
    first, first_log = await _run(settings, tmp_path)

    second, second_log = await _run(settings, tmp_path)
    a_week_later, later_log = await _run(settings, tmp_path, TODAY + timedelta(days=7))

    assert sum(s.duplicates for s in second.ingest.values()) == SIGNALS_PER_MONTH * len(MONTHS)
    assert sum(s.accepted for s in second.ingest.values()) == 0
    assert second.work.actions == 0
    assert second.work.played_after == _local_day(first_log[-1])
    assert [r.event_id for r in second_log] == [r.event_id for r in first_log]
    assert second.work.referrals == first.work.referrals

    # A week later the teams go on where they stopped: the week is played, nothing else.
    assert a_week_later.work.refused == []
    assert a_week_later.work.actions > 0
    assert a_week_later.work.played_after == second.work.played_after
    new = later_log[len(second_log) :]
    assert new
    assert all(TODAY <= _local_day(r) < TODAY + timedelta(days=7) for r in new)
    moments = [r.recorded_at for r in later_log]
    assert moments == sorted(moments)


# -- the batch entry point the simulation records the teams' work with --------------------

NOON = datetime(2026, 3, 3, 12, 0, tzinfo=UTC)
REQUESTED_ON = date(2026, 3, 2)


@pytest.fixture
def registry() -> EventRegistry:
    return catalogue


async def _requested(store: SqlEventStore, team: str = "wijkteam-noord") -> uuid.UUID:
    """A referral in ``team``'s queue with its case row in intake's state."""
    referral_id, case_id = uuid.uuid4(), uuid.uuid4()
    events = lifecycle.request(
        referral_id=referral_id,
        case_id=case_id,
        project="schuldenspecialisten",
        team=team,
        urgent=False,
        requested_on=REQUESTED_ON,
        rule_id="meerdere-partners",
    )
    async with store.unit_of_work() as uow:
        await uow.append(stream_of(referral_id), [NewEvent(e) for e in events])
        await uow.connection.execute(
            insert(household_cases).values(
                case_id=case_id,
                household_id=uuid.uuid4(),
                window_starts=REQUESTED_ON,
                window_ends=REQUESTED_ON,
                status="open",
                active_signals=1,
                picked_up=False,
                project="schuldenspecialisten",
                team=team,
                referral_id=referral_id,
            )
        )
    return referral_id


async def _case_row(store: SqlEventStore, referral_id: uuid.UUID) -> dict[str, object]:
    async with store.engine.connect() as conn:
        row = (
            await conn.execute(
                select(household_cases).where(household_cases.c.referral_id == referral_id)
            )
        ).one()
    return dict(row._mapping)


async def test_a_batch_records_what_is_allowed_and_reports_every_refusal(
    store: SqlEventStore,
) -> None:
    worked, untouched, other_team = (
        await _requested(store),
        await _requested(store),
        await _requested(store, "wijkteam-zuid"),
    )
    unknown = uuid.uuid4()
    actions: list[TeamAction] = [
        ClaimReferral("wijkteam-noord", worked, "wijkteam-noord.mw01", NOON),
        RecordContactAttempt(
            "wijkteam-noord", worked, ContactKind.PHONE, True, date(2026, 3, 3), PartOfDay.MORNING
        ),
        CloseReferral("wijkteam-noord", untouched, Outcome.NO_HELP_NEEDED, date(2026, 3, 3)),
        ClaimReferral("wijkteam-noord", other_team, "wijkteam-noord.mw02", NOON),
        ClaimReferral("wijkteam-noord", unknown, "wijkteam-noord.mw02", NOON),
        CloseReferral("wijkteam-noord", worked, Outcome.ADVICE_OR_QUICK_FIX, date(2026, 3, 4)),
    ]

    result = await act_in_one_unit_of_work(store, actions)

    refused = {(type(a).__name__, a.referral_id): type(e) for a, e in result.refused}
    assert refused == {
        ("CloseReferral", untouched): TransitionRefused,  # nobody had claimed it
        ("ClaimReferral", other_team): NotYourReferral,
        ("ClaimReferral", unknown): ReferralNotFoundError,
    }
    assert result.appended == 3
    stored = lifecycle.fold(r.event for r in await store.read_stream(stream_of(worked)))
    assert stored.state is ReferralState.CLOSED
    assert stored.outcome is Outcome.ADVICE_OR_QUICK_FIX
    assert result.referrals[worked] == LoadedReferral(stored, 4)
    assert await store.stream_version(stream_of(untouched)) == 1
    row = await _case_row(store, worked)
    assert (row["picked_up"], row["status"], row["outcome"]) == (
        True,
        "closed",
        Outcome.ADVICE_OR_QUICK_FIX.value,
    )
    assert (await _case_row(store, untouched))["picked_up"] is False


async def test_a_batch_reroute_requests_the_new_referral_and_moves_the_case(
    store: SqlEventStore,
) -> None:
    referral_id = await _requested(store)
    new_id = uuid.uuid4()

    result = await act_in_one_unit_of_work(
        store,
        [
            ClaimReferral("wijkteam-noord", referral_id, "wijkteam-noord.mw03", NOON),
            RerouteReferral(
                "wijkteam-noord", referral_id, "vroeg-erop-af", "vroeg-erop-af-noord", "past", NOON
            ),
        ],
        new_referral_id=lambda: new_id,
    )

    assert result.refused == []
    assert result.created == [new_id]
    [requested] = await store.read_stream(stream_of(new_id))
    assert isinstance(requested.event, ReferralRequested)
    assert (requested.event.team, requested.event.requested_on) == (
        "vroeg-erop-af-noord",
        NOON.date(),
    )
    row = await _case_row(store, new_id)
    assert (row["project"], row["team"], row["picked_up"]) == (
        "vroeg-erop-af",
        "vroeg-erop-af-noord",
        True,
    )


async def test_a_batch_on_a_stale_referral_writes_nothing(store: SqlEventStore) -> None:
    referral_id = await _requested(store)
    [requested] = await store.read_stream(stream_of(referral_id))
    stale = {referral_id: LoadedReferral(lifecycle.apply(None, requested.event), 1)}
    await act_in_one_unit_of_work(
        store, [ClaimReferral("wijkteam-noord", referral_id, "wijkteam-noord.mw01", NOON)]
    )

    with pytest.raises(ConcurrencyError):
        await act_in_one_unit_of_work(
            store,
            [
                ReleaseReferral("wijkteam-noord", referral_id, "ziek", NOON),
                ClaimReferral("wijkteam-noord", referral_id, "wijkteam-noord.mw02", NOON),
            ],
            known=stale,
        )
    assert await store.stream_version(stream_of(referral_id)) == 2
