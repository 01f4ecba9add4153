"""The demo's simulated team work: seeded plans that are valid lifecycle paths at the
configured rates."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events.base import DomainEvent
from events.catalogue.vocabulary import Outcome
from services.referrals import lifecycle
from services.referrals.lifecycle import Referral, ReferralState
from services.referrals.sla import due_dates, is_working_day
from services.simulation.team_work import (
    DEFAULT_RATES,
    HELP_OUTCOMES,
    PARTS_OF_DAY,
    Claim,
    Close,
    ContactAttemptWork,
    ReferralToWork,
    Release,
    Reroute,
    RerouteTarget,
    Step,
    WorkRates,
    plan_work,
)

TEAM = "vroeg-erop-af-noord"
TARGET = RerouteTarget("schuldenspecialisten", "wijkteam-noord", "Meer dan een achterstand")
MANY = 4000


def referral_to_work(
    n: int,
    requested_on: date = date(2026, 3, 2),
    *,
    urgent: bool = False,
    reroute_to: RerouteTarget | None = TARGET,
) -> ReferralToWork:
    due = due_dates(requested_on, urgent=urgent)
    return ReferralToWork(
        referral_id=uuid.UUID(int=n),
        team=TEAM,
        urgent=urgent,
        requested_on=requested_on,
        first_contact_due=due.first_contact_due,
        closure_due=due.closure_due,
        reroute_to=reroute_to,
    )


def play(work: ReferralToWork, steps: tuple[Step, ...]) -> Referral:
    """Run the plan through the real state machine; a refused step raises."""
    referral = lifecycle.fold(
        lifecycle.request(
            referral_id=work.referral_id,
            case_id=uuid.UUID(int=7),
            project="vroeg-erop-af",
            team=work.team,
            urgent=work.urgent,
            requested_on=work.requested_on,
            rule_id="standaard",
        )
    )
    for step in steps:
        at = datetime.combine(step.on, time(12), tzinfo=UTC)
        events: list[DomainEvent]
        match step.work:
            case Claim(worker_id=worker_id):
                events = lifecycle.claim(referral, worker_id, at)
            case Release(reason=reason):
                events = lifecycle.release(referral, reason, at)
            case ContactAttemptWork(kind=kind, reached=reached):
                events = lifecycle.record_contact_attempt(
                    referral, kind, reached, step.on, step.part_of_day
                )
            case Reroute(target=target):
                events = lifecycle.reroute(referral, target.project, target.team, target.reason, at)
            case Close(outcome=outcome):
                events = lifecycle.close(referral, outcome, step.on)
        for event in events:
            referral = lifecycle.apply(referral, event)
    return referral


def test_the_same_seed_gives_the_same_plan_and_another_seed_another() -> None:
    works = [referral_to_work(n) for n in range(50)]

    first = [plan_work(w, seed=11) for w in works]
    again = [plan_work(w, seed=11) for w in works]
    other = [plan_work(w, seed=12) for w in works]

    assert first == again
    assert sum(a != b for a, b in zip(first, other, strict=True)) > 40


@settings(max_examples=300, deadline=None)
@given(
    n=st.integers(min_value=0, max_value=2**64),
    requested_on=st.dates(min_value=date(2024, 1, 1), max_value=date(2028, 12, 31)),
    urgent=st.booleans(),
    can_reroute=st.booleans(),
    seed=st.integers(min_value=0, max_value=10**6),
)
def test_every_plan_is_a_path_of_the_state_machine_on_working_days(
    n: int, requested_on: date, urgent: bool, can_reroute: bool, seed: int
) -> None:
    work = referral_to_work(
        n, requested_on, urgent=urgent, reroute_to=TARGET if can_reroute else None
    )

    steps = plan_work(work, seed)
    referral = play(work, steps)

    assert referral.state in {ReferralState.CLOSED, ReferralState.REROUTED}
    assert isinstance(steps[0].work, Claim)
    assert all(is_working_day(step.on) and step.on >= requested_on for step in steps)
    slots = [step.slot for step in steps]
    assert slots == sorted(slots)
    assert 1 <= sum(isinstance(s.work, ContactAttemptWork) for s in steps) <= 4 or (
        referral.state is ReferralState.REROUTED
    )
    if not can_reroute:
        assert referral.state is ReferralState.CLOSED
    worker_ids = [s.work.worker_id for s in steps if isinstance(s.work, Claim)]
    assert all(w.startswith(f"{TEAM}.mw") for w in worker_ids)
    assert len(set(worker_ids)) == len(worker_ids)  # a re-claim is by a colleague


def test_a_referral_handed_over_during_the_day_starts_the_next_working_day() -> None:
    friday = date(2026, 3, 6)
    works = [
        ReferralToWork(
            referral_id=uuid.UUID(int=n),
            team=TEAM,
            urgent=False,
            requested_on=friday,
            first_contact_due=friday + timedelta(days=14),
            closure_due=friday + timedelta(days=28),
            first_day=friday + timedelta(days=1),
        )
        for n in range(200)
    ]

    first_steps = [plan_work(w, seed=3)[0] for w in works]

    assert min(step.on for step in first_steps) == date(2026, 3, 9)  # the Monday


def plans(rates: WorkRates = DEFAULT_RATES, count: int = MANY) -> list[tuple[Step, ...]]:
    # Requests spread over a year, so weekends and holidays fall everywhere in the plans.
    start = date(2026, 1, 1)
    return [
        plan_work(referral_to_work(n, start + timedelta(days=n % 365)), seed=2026, rates=rates)
        for n in range(count)
    ]


def _closed(all_plans: list[tuple[Step, ...]]) -> list[tuple[Step, ...]]:
    return [p for p in all_plans if isinstance(p[-1].work, Close)]


def _reached(plan: tuple[Step, ...]) -> bool:
    return any(isinstance(s.work, ContactAttemptWork) and s.work.reached for s in plan)


def _outcome(plan: tuple[Step, ...]) -> Outcome:
    last = plan[-1].work
    assert isinstance(last, Close)
    return last.outcome


def test_reach_help_acceptance_and_no_contact_land_near_the_configured_rates() -> None:
    rates = WorkRates()
    closed = _closed(plans(rates))
    reached = [p for p in closed if _reached(p)]
    unreached = [p for p in closed if not _reached(p)]

    bereik = len(reached) / len(closed)
    help_accepted = sum(_outcome(p) in HELP_OUTCOMES for p in reached) / len(reached)
    no_contact = sum(_outcome(p) is Outcome.NO_CONTACT for p in unreached) / len(unreached)

    assert bereik == pytest.approx(rates.reach_share, abs=0.03)
    assert help_accepted == pytest.approx(rates.help_acceptance, abs=0.03)
    assert no_contact == pytest.approx(rates.no_contact_share, abs=0.03)
    assert all(_outcome(p) is not Outcome.NO_CONTACT for p in reached)


def test_other_rates_give_other_figures() -> None:
    rates = WorkRates(reach_share=0.3, help_acceptance=0.8, release_share=0.0, reroute_share=0.0)
    all_plans = plans(rates, count=2000)
    closed = _closed(all_plans)
    reached = [p for p in closed if _reached(p)]

    assert len(closed) == len(all_plans)
    assert not any(isinstance(s.work, Release) for p in all_plans for s in p)
    assert len(reached) / len(closed) == pytest.approx(0.3, abs=0.03)
    help_accepted = sum(_outcome(p) in HELP_OUTCOMES for p in reached) / len(reached)
    assert help_accepted == pytest.approx(0.8, abs=0.04)


def test_releases_reroutes_and_the_sla_are_as_configured() -> None:
    rates = WorkRates()
    all_plans = plans(rates)
    works = [referral_to_work(n, date(2026, 1, 1) + timedelta(days=n % 365)) for n in range(MANY)]

    released = sum(any(isinstance(s.work, Release) for s in p) for p in all_plans) / MANY
    rerouted = sum(isinstance(p[-1].work, Reroute) for p in all_plans) / MANY
    first_attempt_on_time = [
        next(s.on for s in p if isinstance(s.work, ContactAttemptWork)) <= w.first_contact_due
        for p, w in zip(all_plans, works, strict=True)
        if any(isinstance(s.work, ContactAttemptWork) for s in p)
    ]
    closed_on_time = [
        p[-1].on <= w.closure_due
        for p, w in zip(all_plans, works, strict=True)
        if isinstance(p[-1].work, Close)
    ]

    assert released == pytest.approx(rates.release_share, abs=0.012)
    assert rerouted == pytest.approx(rates.reroute_share, abs=0.01)
    on_time = sum(first_attempt_on_time) / len(first_attempt_on_time)
    assert 0.8 <= on_time < 0.97  # mostly on time, some overdue
    closed_in_time = sum(closed_on_time) / len(closed_on_time)
    assert 0.7 <= closed_in_time < 0.95


def test_contact_attempts_use_ddas_kinds_and_parts_of_day_and_letters_never_reach() -> None:
    attempts = [s for p in plans(count=1000) for s in p if isinstance(s.work, ContactAttemptWork)]

    assert {s.part_of_day for s in attempts} == set(PARTS_OF_DAY)
    assert len({s.work.kind for s in attempts if isinstance(s.work, ContactAttemptWork)}) >= 5
    assert not any(
        isinstance(s.work, ContactAttemptWork) and s.work.reached and s.work.kind.value == "Brief"
        for s in attempts
    )


def test_a_share_outside_zero_to_one_is_refused() -> None:
    with pytest.raises(ValueError, match="reach_share"):
        WorkRates(reach_share=1.2)
