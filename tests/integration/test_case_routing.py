"""Cases are routed as intake records them, on every backend (DESIGN §6, §7)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

import events.catalogue  # noqa: F401  (registers the domain events)
from events.catalogue.cases import CaseCancelled, CaseClosed
from events.catalogue.referrals import ReferralCancelled, ReferralRequested, ReferralRerouted
from events.catalogue.routing import CaseRouted
from events.catalogue.vocabulary import Outcome, PartnerType, SignalKind
from events.registry import EventRegistry, catalogue
from events.store import SqlEventStore
from tests.support.intake import person, routing_intake_for, signal, submit


@pytest.fixture
def registry() -> EventRegistry:
    return catalogue


async def routed(store: SqlEventStore, case_id: object) -> list[object]:
    return [r.event for r in await store.read_stream(f"case-{case_id}")]


async def referrals(store: SqlEventStore) -> list[object]:
    return [
        r.event for r in await store.read_all(limit=1000) if r.stream_id.startswith("referral-")
    ]


async def test_an_ordinary_signal_goes_to_vroeg_erop_af_of_its_wijk(store: SqlEventStore) -> None:
    [outcome] = await routing_intake_for(store).receive([submit(signal())])

    decision = (await routed(store, outcome.case_id))[-1]
    assert isinstance(decision, CaseRouted)
    assert (decision.project, decision.team, decision.rule_id) == (
        "vroeg-erop-af",
        "vroeg-erop-af-noord",
        "vroeg-erop-af",
    )
    assert decision.facts["pc4"] == "7604"
    [requested] = await referrals(store)
    assert isinstance(requested, ReferralRequested)
    assert requested.case_id == outcome.case_id
    assert (requested.requested_on, requested.first_contact_due, requested.closure_due) == (
        date(2026, 10, 2),
        date(2026, 10, 16),
        date(2026, 10, 30),
    )


async def test_a_crisis_signal_goes_to_the_wijkteam_urgently(store: SqlEventStore) -> None:
    [outcome] = await routing_intake_for(store).receive([submit(signal(crisis=True))])

    decision = (await routed(store, outcome.case_id))[-1]
    assert isinstance(decision, CaseRouted)
    assert (decision.project, decision.team, decision.urgent) == (
        "schuldenspecialisten",
        "wijkteam-noord",
        True,
    )
    [requested] = await referrals(store)
    assert isinstance(requested, ReferralRequested)
    assert requested.first_contact_due == date(2026, 10, 7)  # 3 working days from Friday 2 Oct


async def test_below_the_threshold_or_outside_the_municipality_closes_the_case(
    store: SqlEventStore,
) -> None:
    small, elsewhere = await routing_intake_for(store).receive(
        [
            submit(signal("S", amount=Decimal("40.00"))),
            submit(signal("E", person=person(postcode="7550AA", bsn=None))),
        ]
    )

    closed_small = (await routed(store, small.case_id))[-1]
    closed_elsewhere = (await routed(store, elsewhere.case_id))[-1]
    assert isinstance(closed_small, CaseClosed)
    assert closed_small.outcome is Outcome.UNJUSTIFIED_SIGNAL
    assert isinstance(closed_elsewhere, CaseClosed)
    assert closed_elsewhere.outcome is Outcome.NOT_A_RESIDENT
    assert await referrals(store) == []


async def test_a_second_partner_type_reroutes_the_unclaimed_case(store: SqlEventStore) -> None:
    moment = datetime(2026, 10, 10, 16, 30, tzinfo=UTC)
    clocked = SqlEventStore(store.engine, store.registry, clock=lambda: moment)
    intake = routing_intake_for(clocked)
    [first] = await intake.receive([submit(signal("W-1"))])
    [second] = await intake.receive(
        [
            submit(
                signal(
                    "H-1",
                    partner_id="beter-wonen",
                    partner_type=PartnerType.RENT,
                    signal_date=date(2026, 10, 10),
                ),
                partner_id="beter-wonen",
            )
        ]
    )

    assert first.case_id == second.case_id
    decisions = [e for e in await routed(store, first.case_id) if isinstance(e, CaseRouted)]
    assert [(d.project, d.rule_id) for d in decisions] == [
        ("vroeg-erop-af", "vroeg-erop-af"),
        ("schuldenspecialisten", "meerdere-partners"),
    ]
    referral_events = await referrals(store)
    assert [type(e).__name__ for e in referral_events] == [
        "ReferralRequested",
        "ReferralRerouted",
        "ReferralRequested",
    ]
    rerouted = referral_events[1]
    assert isinstance(rerouted, ReferralRerouted)
    assert (rerouted.to_project, rerouted.to_team) == ("schuldenspecialisten", "wijkteam-noord")
    assert rerouted.rerouted_at == moment  # the store's time, as its recorded_at
    await clocked.close(dispose_engine=False)


async def test_the_same_facts_again_do_not_route_twice(store: SqlEventStore) -> None:
    intake = routing_intake_for(store)
    await intake.receive([submit(signal("W-1"))])
    await intake.receive([submit(signal("W-2", signal_date=date(2026, 10, 5)))])  # same partner

    assert len([e for e in await referrals(store) if isinstance(e, ReferralRequested)]) == 1


async def test_a_young_resident_goes_to_the_jongeren_perspectief_fonds(
    store: SqlEventStore,
) -> None:
    [outcome] = await routing_intake_for(store).receive(
        [submit(signal(person=person(birth_date=date(2004, 3, 1))))]
    )
    decision = (await routed(store, outcome.case_id))[-1]
    assert isinstance(decision, CaseRouted)
    assert (decision.project, decision.team) == ("jongeren-perspectief-fonds", "jpf-almelo")


async def test_withdrawing_the_only_signal_cancels_the_case_and_its_referral(
    store: SqlEventStore,
) -> None:
    intake = routing_intake_for(store)
    [outcome] = await intake.receive([submit(signal())])
    [requested] = await referrals(store)
    assert isinstance(requested, ReferralRequested)

    await intake.receive(
        [submit(signal(kind=SignalKind.WITHDRAWAL, signal_date=date(2026, 10, 2)))]
    )

    assert isinstance((await routed(store, outcome.case_id))[-1], CaseCancelled)
    requested_again, cancelled = await referrals(store)
    assert requested_again == requested
    assert isinstance(cancelled, ReferralCancelled)
    assert cancelled.referral_id == requested.referral_id
    assert "withdrawn" in cancelled.reason
