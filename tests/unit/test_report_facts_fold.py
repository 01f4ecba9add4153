"""The report's fold, event by event: what each referral and case event does to the facts."""

from __future__ import annotations

import uuid
from datetime import date

from events.catalogue.referrals import ReferralReleased
from events.catalogue.vocabulary import Outcome, PartnerType, SignalKind
from services.reports.facts import ReportState, fold, needed_ids
from tests.support.reports import History, at, config_wijken, d


def folded(history: History) -> ReportState:
    state = ReportState(config_wijken())
    for recorded in history.log:
        fold(state, recorded)
    return state


def test_a_case_gathers_partner_types_and_its_earliest_signal_date() -> None:
    h = History()
    household = uuid.uuid4()
    first = h.signal(household, "vitens", PartnerType.WATER, signal_date=d(3, 5), received=d(3, 6))
    case = h.open_case(first, d(3, 6))
    second = h.signal(
        household,
        "eneco",
        PartnerType.ENERGY,
        signal_date=d(2, 20),
        received=d(3, 8),
        kind=SignalKind.FINAL_DELIVERY_SIGNAL,
    )
    h.attach(case, second, d(3, 8))

    state = folded(h)

    facts = state.cases[case]
    assert facts.partner_types == ("Energie", "Water")
    assert facts.earliest_signal_date == d(2, 20)  # the attached signal is older
    assert facts.received_on == d(3, 6)  # the day the first signal came in
    assert facts.wijk == "noord"  # PC4 7604
    assert state.signals[second].case_id == case


def test_release_keeps_the_first_claim_and_cancel_ends_the_referral() -> None:
    h = History()
    signal = h.signal(
        uuid.uuid4(), "vitens", PartnerType.WATER, signal_date=d(3, 1), received=d(3, 2)
    )
    case = h.open_case(signal, d(3, 2))
    kept = h.refer(case, "vroeg-erop-af", "vroeg-erop-af-noord", d(3, 2))
    h.claim(kept, d(3, 3))
    h.record(
        f"referral-{kept}",
        ReferralReleased(referral_id=kept, reason="ziek", released_at=at(d(3, 4))),
        d(3, 4),
    )
    h.claim(kept, d(3, 9))
    h.attempt(kept, d(3, 12), reached=False)
    h.attempt(kept, d(3, 10), reached=True)  # recorded late: the earliest day still counts
    h.close(kept, Outcome.ALREADY_PAID, d(3, 20))
    other = h.signal(
        uuid.uuid4(), "eneco", PartnerType.ENERGY, signal_date=d(3, 1), received=d(3, 2)
    )
    other_case = h.open_case(other, d(3, 2))
    cancelled = h.refer(other_case, "vroeg-erop-af", "vroeg-erop-af-noord", d(3, 2))
    h.cancel(cancelled, d(3, 5))

    state = folded(h)

    record = state.referrals[kept]
    assert record.claimed_on == d(3, 3)
    assert (record.first_attempt_on, record.first_reached_on, record.attempts) == (
        d(3, 10),
        d(3, 10),
        2,
    )
    assert (record.closed_on, record.outcome) == (d(3, 20), Outcome.ALREADY_PAID)
    gone = state.referrals[cancelled]
    assert (gone.ended_on, gone.ended_how, gone.outcome) == (d(3, 5), "cancelled", None)


def test_routing_closures_become_closed_items_without_a_team() -> None:
    h = History()
    signal = h.signal(
        uuid.uuid4(),
        "menzis",
        PartnerType.HEALTH_INSURANCE,
        signal_date=d(3, 1),
        received=d(3, 2),
        pc4="7500",
        in_municipality=False,
    )
    case = h.open_case(signal, d(3, 2))
    h.close_case(case, Outcome.NOT_A_RESIDENT, d(3, 2))

    [item] = folded(h).referral_facts()

    assert (item.kind, item.referral_id, item.project, item.team, item.wijk) == (
        "case",
        case,
        None,
        None,
        None,
    )
    assert (item.outcome, item.closed_on, item.reached) == (
        Outcome.NOT_A_RESIDENT,
        d(3, 2),
        False,
    )


def test_a_page_reads_only_what_it_did_not_create_itself() -> None:
    h = History()
    household = uuid.uuid4()
    signal = h.signal(household, "vitens", PartnerType.WATER, signal_date=d(3, 1), received=d(3, 2))
    case = h.open_case(signal, d(3, 2))
    referral = h.refer(case, "vroeg-erop-af", "vroeg-erop-af-noord", d(3, 2))
    h.claim(referral, d(3, 3))
    first_page, second_page = h.log[:3], h.log[3:]

    assert needed_ids(first_page) == (set(), set(), set())
    assert needed_ids(second_page) == (set(), {referral}, set())
    assert needed_ids(h.log) == (set(), set(), set())
    assert folded(h).referrals[referral].requested_on == date(2026, 3, 2)
