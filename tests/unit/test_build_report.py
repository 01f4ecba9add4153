"""The management report over a hand-computed history (DESIGN §8; issue 5, "Tests").

The households of ``tests.support.reports.march_2026`` (read its docstring first); the report
is for March 2026, made on 15 April 2026 unless a test says otherwise. Every expected figure
is worked out by hand in the comments from that history.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from events.catalogue.vocabulary import Outcome
from services.reports.build_report import ReportConfig, ScopeArgs, build_report
from services.reports.facts import ReportState, fold
from services.reports.load_report import end_of_day
from services.reports.model import CaseloadRow, Rate, Report
from services.reports.periods import parse_period
from tests.support.reports import config_wijken, march_2026

CONFIG = ReportConfig(capacities={"doorbraakmethode": 375}, inhabitants=73_000)
MADE_AT = datetime(2026, 4, 15, 9, 0, tzinfo=UTC)


def report(
    period: str = "2026-03",
    *,
    project: str | None = None,
    team: str | None = None,
    as_of: date | None = None,
) -> Report:
    state = ReportState(config_wijken())
    cutoff = end_of_day(as_of) if as_of else None
    for recorded in march_2026().log:
        if cutoff is None or recorded.recorded_at <= cutoff:
            fold(state, recorded)
    args = ScopeArgs(
        period=parse_period(period),
        today=date(2026, 4, 15),
        generated_at=MADE_AT,
        project=project,
        team=team,
        as_of=as_of,
        events_up_to_position=state.last_position,
    )
    return build_report(state.referral_facts(), state.signal_facts(), CONFIG, args)


def row(group: str, new: int = 0, open: int = 0, claimed: int = 0, in_progress: int = 0,
        closed: int = 0, overdue: int = 0) -> CaseloadRow:  # fmt: skip
    return CaseloadRow(group, new, open, claimed, in_progress, closed, overdue)


def test_caseload_per_project_at_the_end_of_march() -> None:
    # Relevant referrals: requested by 31-03 and not closed or ended before 01-03 (R9 closed
    # 20-02 is out). doorbraakmethode R8: attempt 13-02 -> in progress; closure due
    # 10-02 + 28 = 10-03 < 31-03 -> overdue. schuldenspecialisten R2, R10b: new, closed in
    # March. vroeg-erop-af R1, R3 (closed), R4 (never claimed, due 16-03 + 14 = 30-03 ->
    # overdue), R5 (claimed 27-03, due 01-04), R10a (rerouted 06-03: new, not open, not closed).
    assert report().caseload["project"] == [
        row("doorbraakmethode", in_progress=1, overdue=1),
        row("schuldenspecialisten", new=2, closed=2),
        row("vroeg-erop-af", new=5, open=1, claimed=1, closed=2, overdue=1),
    ]


def test_caseload_per_team_wijk_and_partner_type() -> None:
    caseload = report().caseload
    assert caseload["team"] == [
        row("doorbraak-almelo", in_progress=1, overdue=1),
        row("vroeg-erop-af-centrum", new=1, open=1, overdue=1),
        row("vroeg-erop-af-noord", new=2, closed=2),
        row("vroeg-erop-af-oost", new=1),
        row("vroeg-erop-af-west", new=1, claimed=1),
        row("wijkteam-oost", new=1, closed=1),
        row("wijkteam-zuid", new=1, closed=1),
    ]
    # PC4 7604/7605 noord (R1, R3, R8), 7601 zuid (R2), 7607 centrum (R4), 7603 west (R5),
    # 7606 oost (R10a, R10b).
    assert caseload["wijk"] == [
        row("centrum", new=1, open=1, overdue=1),
        row("noord", new=2, in_progress=1, closed=2, overdue=1),
        row("oost", new=2, closed=1),
        row("west", new=1, claimed=1),
        row("zuid", new=1, closed=1),
    ]
    # R2's case has Energie and Huur: it counts under both.
    # Energie: R2 (new, closed), R5 (new, claimed), R8 (in progress, overdue).
    # Huur: R2, R10a, R10b (all new; R2 and R10b closed). Water: R1 (closed), R4 (open,
    # overdue). Zorg: R3 (closed).
    assert caseload["partner_type"] == [
        row("Energie", new=2, claimed=1, in_progress=1, closed=1, overdue=1),
        row("Huur", new=3, closed=2),
        row("Water", new=2, open=1, closed=1, overdue=1),
        row("Zorg", new=1, closed=1),
    ]


def test_outcomes_and_the_rates_of_design_8() -> None:
    outcomes = report().outcomes["project"]
    # Closed in March: R1 advies (reached), R2 geen hulp nodig (reached), R3 definitief geen
    # contact (not reached), R10b vervolghulp financieel (reached), and H6's case closed by
    # routing "geen inwoner" (not picked up, no project: "niet doorverwezen").
    assert [r.group for r in outcomes] == [
        "niet doorverwezen",
        "schuldenspecialisten",
        "vroeg-erop-af",
        "totaal",
    ]
    total = outcomes[-1]
    assert total.closed == 5
    assert total.by_outcome[Outcome.ADVICE_OR_QUICK_FIX.value] == 1
    assert total.by_outcome[Outcome.NO_HELP_NEEDED.value] == 1
    assert total.by_outcome[Outcome.NO_CONTACT.value] == 1
    assert total.by_outcome[Outcome.FOLLOW_UP_FINANCIAL.value] == 1
    assert total.by_outcome[Outcome.NOT_A_RESIDENT.value] == 1
    assert len(total.by_outcome) == len(Outcome)
    assert sum(total.by_outcome.values()) == 5
    # picked up: 5 - 1 (geen inwoner) = 4; reached among them: R1, R2, R10b = 3.
    assert total.picked_up == 4
    assert total.bereik == Rate(3, 4, 0.75)
    # help accepted: R1 advies, R10b vervolghulp financieel = 2, over 3 reached.
    assert total.hulpacceptatie == Rate(2, 3, 2 / 3)
    # definitief geen contact: R3 = 1 over 4 picked up.
    assert total.no_contact_rate == Rate(1, 4, 0.25)

    not_referred, specialists, voa = outcomes[:3]
    assert (not_referred.closed, not_referred.picked_up) == (1, 0)
    assert not_referred.bereik == Rate(0, 0, None)
    # schuldenspecialisten: R2 (geen hulp nodig) and R10b (vervolghulp), both reached.
    assert specialists.bereik == Rate(2, 2, 1.0)
    assert specialists.hulpacceptatie == Rate(1, 2, 0.5)
    assert specialists.no_contact_rate == Rate(0, 2, 0.0)
    # vroeg-erop-af: R1 (advies, reached) and R3 (geen contact, not reached).
    assert voa.bereik == Rate(1, 2, 0.5)
    assert voa.hulpacceptatie == Rate(1, 1, 1.0)
    assert voa.no_contact_rate == Rate(1, 2, 0.5)


def test_lead_times_median_and_nearest_rank_p90() -> None:
    lead = {step.step: step for step in report().lead_times}
    # signal -> received, per case received in March: C1 20-02..02-03 = 10, C2 01-03..03-03
    # = 2, C10 02-03..05-03 = 3, C3 01-03..10-03 = 9, C4 12-03..16-03 = 4, C5 15-03..18-03
    # = 3, C6 19-03..20-03 = 1. Sorted 1 2 3 3 4 9 10: median 3, p90 rank ceil(6.3) = 7 -> 10.
    s2r = lead["signal_to_received"]
    assert (s2r.count, s2r.median_days, s2r.p90_days) == (7, 3.0, 10)
    assert s2r.distribution == {"0-7": 5, "8-14": 2, "15-28": 0, "29-60": 0, "61-90": 0, ">90": 0}
    # received -> claimed, claimed in March: R1 2, R2 2, R10b 05-03..09-03 = 4, R3 10-03..17-03
    # = 7, R5 18-03..27-03 = 9. Sorted 2 2 4 7 9: median 4, p90 rank ceil(4.5) = 5 -> 9.
    r2c = lead["received_to_claimed"]
    assert (r2c.count, r2c.median_days, r2c.p90_days) == (5, 4.0, 9)
    # claimed -> first attempt in March: R1 04..06 = 2, R2 05..06 = 1, R10b 0, R3 17..18 = 1.
    # Sorted 0 1 1 2: median (1 + 1) / 2 = 1, p90 rank ceil(3.6) = 4 -> 2.
    c2a = lead["claimed_to_first_attempt"]
    assert (c2a.count, c2a.median_days, c2a.p90_days) == (4, 1.0, 2)
    # first attempt -> first reached in March: R1 06..09 = 3, R2 0, R10b 0: median 0, p90 3.
    a2r = lead["first_attempt_to_first_reached"]
    assert (a2r.count, a2r.median_days, a2r.p90_days) == (3, 0.0, 3)
    # received -> closed, team closures in March: R1 02..20 = 18, R2 03..25 = 22, R10b
    # 05..27 = 22, R3 10..31 = 21. Sorted 18 21 22 22: median 21.5, p90 rank 4 -> 22.
    r2x = lead["received_to_closed"]
    assert (r2x.count, r2x.median_days, r2x.p90_days) == (4, 21.5, 22)
    assert r2x.distribution["15-28"] == 4
    # signal -> closed: R1 20-02..20-03 = 28, R2 01..25 = 24, R10b 02..27 = 25, R3 01..31 =
    # 30. Sorted 24 25 28 30: median 26.5, p90 30.
    s2x = lead["signal_to_closed"]
    assert (s2x.count, s2x.median_days, s2x.p90_days) == (4, 26.5, 30)
    assert (s2x.distribution["15-28"], s2x.distribution["29-60"]) == (3, 1)


def test_signal_mix() -> None:
    mix = report().signal_mix
    assert mix is not None
    # Received in March: H1 vitens Water, H2 eneco Energie (crisis) and woonstede Huur, H10
    # woonstede Huur, H3 menzis Zorg, H4 vitens Water (eindelevering), H5 eneco Energie, H6
    # menzis Zorg (outside the municipality) = 8 signals, 7 about residents.
    assert mix.signals == 8
    assert mix.by_partner_type == {"Energie": 2, "Huur": 2, "Water": 2, "Zorg": 2}
    assert mix.by_partner == {"eneco": 2, "menzis": 2, "vitens": 2, "woonstede": 2}
    assert mix.crisis_share == Rate(1, 8, 0.125)
    assert mix.final_delivery_share == Rate(1, 8, 0.125)
    assert mix.inhabitants == 73_000
    assert mix.resident_signals == 7
    assert mix.signals_per_1000_inhabitants == pytest.approx(7 / 73)
    # H1 H2 H3 H4 H5 H6 H10; only H2 has two partners.
    assert (mix.unique_households, mix.multi_signal_households) == (7, 1)
    # H1 had a signal on 10-06-2025 (within 01-03-2025..28-02-2026); H3's of 01-02-2025 is
    # older than 12 months.
    assert mix.repeat_households_12_months == 1


def test_capacity_and_caseload_over_time() -> None:
    result = report()
    # Doorbraakmethode took one household (H8) of 375.
    [capacity] = result.capacity
    assert (capacity.project, capacity.capacity, capacity.households_taken) == (
        "doorbraakmethode",
        375,
        1,
    )
    assert capacity.share == pytest.approx(1 / 375)
    points = {(p.bucket, p.project): p for p in result.caseload_over_time}
    # March by ISO week: W09 is Sunday 1 March only, ..., W14 is 30-31 March.
    assert sorted({p.bucket for p in result.caseload_over_time}) == [
        "2026-W09", "2026-W10", "2026-W11", "2026-W12", "2026-W13", "2026-W14",
    ]  # fmt: skip
    # vroeg-erop-af W10 (02..08-03): new R1, R10a; open on 08-03: R1 (R10a rerouted 06-03).
    w10 = points[("2026-W10", "vroeg-erop-af")]
    assert (w10.new, w10.open_at_end, w10.closed) == (2, 1, 0)
    # W12 (16..22-03): new R4, R5; R1 closed 20-03; open on 22-03: R3, R4, R5.
    w12 = points[("2026-W12", "vroeg-erop-af")]
    assert (w12.new, w12.open_at_end, w12.closed) == (2, 3, 1)
    w09 = points[("2026-W09", "doorbraakmethode")]
    assert (w09.new, w09.open_at_end, w09.closed) == (0, 1, 0)


def test_a_team_filter_keeps_to_the_team() -> None:
    result = report(team="vroeg-erop-af-noord")
    assert result.caseload["project"] == [row("vroeg-erop-af", new=2, closed=2)]
    # R1 and R3 only: the case routing closed has no team.
    assert [r.group for r in result.outcomes["team"]] == ["vroeg-erop-af-noord", "totaal"]
    assert result.outcomes["team"][-1].bereik == Rate(1, 2, 0.5)
    mix = result.signal_mix
    assert mix is not None
    assert (mix.signals, mix.by_partner) == (2, {"menzis": 1, "vitens": 1})
    # capacity is a project-wide figure: a team filter leaves it as it is
    assert [c.households_taken for c in result.capacity] == [1]


def test_as_of_reproduces_the_report_as_it_stood_then() -> None:
    today = report()
    then = report(as_of=date(2026, 3, 10))
    # On 10-03 (period end = the as-of day): vroeg-erop-af R1 (claimed 04-03, attempts from
    # 06-03 -> in progress), R10a (rerouted), R3 (requested 10-03, open). Nothing closed.
    assert then.caseload["project"] == [
        row("doorbraakmethode", in_progress=1),  # closure due 10-03 is not passed yet
        row("schuldenspecialisten", new=2, in_progress=2),
        row("vroeg-erop-af", new=3, open=1, in_progress=1),
    ]
    assert then.outcomes["project"][-1].closed == 0
    assert then.outcomes["project"][-1].bereik == Rate(0, 0, None)
    assert then.scope.as_of == date(2026, 3, 10)
    assert then.caseload != today.caseload
    # W12 starts after the as-of day: the chart stops at W11 (09..10-03).
    assert max(p.bucket for p in then.caseload_over_time) == "2026-W11"


def test_the_json_form_holds_the_same_figures() -> None:
    data = report().as_dict()
    assert data["scope"]["period"] == {
        "label": "2026-03",
        "granularity": "month",
        "starts": "2026-03-01",
        "ends": "2026-03-31",
    }
    assert data["outcomes"]["project"][-1]["bereik"] == {
        "numerator": 3,
        "denominator": 4,
        "value": 0.75,
    }
    assert data["signal_mix"]["signals"] == 8
