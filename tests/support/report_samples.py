"""Hand-built ``Report`` objects for the renderer tests: synthetic figures, several projects,
teams, wijken and partner types, a rate without a denominator, and group names that try to
break out of HTML (``<script>``) and spreadsheets (formulas)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from events.catalogue.vocabulary import Outcome, PartnerType
from services.reports.model import (
    CapacityUse,
    CaseloadRow,
    LeadTime,
    OutcomeRow,
    Period,
    Rate,
    Report,
    Scope,
    SignalMix,
    TimePoint,
)

SCRIPT_GROUP = "<script>alert(1)</script>"
FORMULA_GROUP = '=HYPERLINK("x")'
FORMULA_PARTNER = "@SUM(1+1)"
SLASHED_WIJK = "noord/oost ~ samen"
"""Needs JSON Pointer escaping (``/`` and ``~``)."""

PROJECTS = ("vroeg-erop-af", "doorbraakmethode", SCRIPT_GROUP)
TEAMS = ("vroeg-erop-af-noord", "wijkteam-zuid", FORMULA_GROUP)
WIJKEN = ("centrum", "zuid", SLASHED_WIJK)
PARTNER_TYPES = (PartnerType.RENT, PartnerType.ENERGY, PartnerType.HEALTH_INSURANCE)
HISTOGRAM = ("0-7", "8-14", "15-30", "31-60", "61-90", ">90")
STEPS = (
    "signal_to_received",
    "received_to_claimed",
    "claimed_to_first_attempt",
    "first_attempt_to_first_reached",
    "received_to_closed",
    "signal_to_closed",
)
WEEKS = tuple(f"2026-W{week:02d}" for week in range(1, 14))

_NOT_PICKED_UP = {
    Outcome.REPEAT_SIGNAL,
    Outcome.UNJUSTIFIED_SIGNAL,
    Outcome.NOT_PICKED_UP_OTHER,
    Outcome.DECEASED,
    Outcome.NOT_A_RESIDENT,
}
_HELP = {Outcome.ADVICE_OR_QUICK_FIX, Outcome.FOLLOW_UP_FINANCIAL, Outcome.FOLLOW_UP_NON_FINANCIAL}


def rate(numerator: int, denominator: int) -> Rate:
    return Rate(numerator, denominator, numerator / denominator if denominator else None)


def _caseload_row(group: str, seed: int) -> CaseloadRow:
    return CaseloadRow(
        group=group,
        new=40 + 7 * seed,
        open=5 + seed,
        claimed=3 + 2 * seed,
        in_progress=11 + seed,
        closed=21 + 5 * seed,
        overdue=seed,
    )


def _outcome_row(group: str, seed: int) -> OutcomeRow:
    """Counts per outcome from the seed; seed 0 has no cases at all (every rate ``None``)."""
    by_outcome = {
        outcome.value: (seed * (index + 3)) % 11 if seed else 0
        for index, outcome in enumerate(Outcome)
    }
    return _outcome_row_from(group, by_outcome)


def _outcome_row_from(group: str, by_outcome: dict[str, int]) -> OutcomeRow:
    closed = sum(by_outcome.values())
    picked_up = sum(n for o, n in by_outcome.items() if Outcome(o) not in _NOT_PICKED_UP)
    reached = (
        picked_up - by_outcome[Outcome.NO_CONTACT] - by_outcome[Outcome.REFERRAL_WITHOUT_CONTACT]
    )
    helped = sum(n for o, n in by_outcome.items() if Outcome(o) in _HELP)
    return OutcomeRow(
        group=group,
        closed=closed,
        by_outcome=by_outcome,
        picked_up=picked_up,
        bereik=rate(reached, picked_up),
        hulpacceptatie=rate(helped, reached),
        no_contact_rate=rate(by_outcome[Outcome.NO_CONTACT], picked_up),
    )


def _outcome_rows(groups: tuple[str, ...]) -> list[OutcomeRow]:
    """One row per group (the last group with no cases) and the ``totaal`` row."""
    rows = [_outcome_row(group, seed) for seed, group in zip((3, 5, 0), groups, strict=True)]
    total = {o.value: sum(row.by_outcome[o.value] for row in rows) for o in Outcome}
    return [*rows, _outcome_row_from("totaal", total)]


def _lead_time(step: str, seed: int) -> LeadTime:
    if step == "first_attempt_to_first_reached":
        # No case reached anyone in the period: no median, no p90, an all-zero histogram.
        return LeadTime(step, 0, None, None, dict.fromkeys(HISTOGRAM, 0))
    distribution = {bucket: (seed * 7 + index * 5) % 13 for index, bucket in enumerate(HISTOGRAM)}
    return LeadTime(
        step=step,
        count=sum(distribution.values()),
        median_days=4.5 + seed * 3,
        p90_days=12 + seed * 9,
        distribution=distribution,
    )


def _signal_mix() -> SignalMix:
    by_partner_type = {
        PartnerType.RENT.value: 412,
        PartnerType.ENERGY.value: 233,
        PartnerType.HEALTH_INSURANCE.value: 1_187,
    }
    signals = sum(by_partner_type.values())
    return SignalMix(
        signals=signals,
        by_partner_type=by_partner_type,
        by_partner={
            "beter-wonen": 300,
            "sint-joseph": 112,
            "vitens": 233,
            "menzis": 1_000,
            FORMULA_PARTNER: 187,
        },
        crisis_share=rate(57, signals),
        final_delivery_share=rate(3, signals),
        inhabitants=73_000,
        signals_per_1000_inhabitants=1_790 * 1000 / 73_000,
        unique_households=1_402,
        multi_signal_households=311,
        repeat_households_12_months=97,
        resident_signals=1_790,
    )


def sample_report() -> Report:
    """A quarter of three projects, with every section filled."""
    timeline = [
        TimePoint(
            bucket=week,
            project=project,
            new=(w * 3 + p * 5) % 17 + 1,
            open_at_end=20 + (w * (p + 2)) % 23,
            closed=(w + p * 2) % 9,
        )
        for p, project in enumerate(PROJECTS)
        for w, week in enumerate(WEEKS)
    ]
    return Report(
        scope=Scope(
            period=Period("2026-Q1", "quarter", date(2026, 1, 1), date(2026, 3, 31)),
            project=None,
            team=None,
            as_of=date(2026, 4, 15),
            generated_at=datetime(2026, 4, 16, 7, 30, 5, tzinfo=UTC),
            events_up_to_position=1_234_567,
        ),
        caseload={
            "project": [_caseload_row(g, s) for s, g in enumerate(PROJECTS)],
            "team": [_caseload_row(g, s + 3) for s, g in enumerate(TEAMS)],
            "wijk": [_caseload_row(g, s + 6) for s, g in enumerate(WIJKEN)],
            "partner_type": [_caseload_row(t.value, s + 1) for s, t in enumerate(PARTNER_TYPES)],
        },
        outcomes={
            "project": _outcome_rows(PROJECTS),
            "team": _outcome_rows(TEAMS),
            "wijk": _outcome_rows(WIJKEN),
            "partner_type": _outcome_rows(tuple(t.value for t in PARTNER_TYPES)),
        },
        lead_times=[_lead_time(step, seed) for seed, step in enumerate(STEPS)],
        signal_mix=_signal_mix(),
        capacity=[CapacityUse("doorbraakmethode", 375, 213, 213 / 375)],
        caseload_over_time=timeline,
    )


def empty_report() -> Report:
    """A period in which nothing happened: every section empty."""
    return Report(
        scope=Scope(
            period=Period("2026-W09", "week", date(2026, 2, 23), date(2026, 3, 1)),
            project="vroeg-erop-af",
            team="vroeg-erop-af-noord",
            as_of=None,
            generated_at=datetime(2026, 3, 2, 6, 0, tzinfo=UTC),
            events_up_to_position=0,
        )
    )


# Reading the figures back: what the renderer tests compare the page and the files with.

NO_VALUE = "–"
_WHOLE = re.compile(r"\d{1,3}(?:\.\d{3})*")
_DECIMAL = re.compile(r"\d{1,3}(?:\.\d{3})*(?:,\d)?")


def resolve(document: Any, pointer: str) -> Any:
    """The value at an RFC 6901 JSON Pointer; ``KeyError``/``IndexError`` when there is none."""
    value = document
    for raw in pointer.split("/")[1:]:
        part = raw.replace("~1", "/").replace("~0", "~")
        value = value[int(part)] if isinstance(value, list) else value[part]
    return value


def is_fraction(pointer: str) -> bool:
    """Rates' values and capacity shares are fractions, shown as percentages."""
    return pointer.endswith(("/value", "/share"))


def shown_as(pointer: str, value: Any, text: str) -> bool:
    """Whether ``text`` on the page shows ``value`` by the HTML report's documented rules."""
    if value is None:
        return text == NO_VALUE
    if isinstance(value, str):
        return text == value
    if isinstance(value, int):
        return bool(_WHOLE.fullmatch(text)) and int(text.replace(".", "")) == value
    if is_fraction(pointer):
        number, _, sign = text.rpartition("\u00a0")
        return (
            sign == "%"
            and bool(_DECIMAL.fullmatch(number))
            and abs(_dutch_number(number) / 100 - value) <= 0.0005 + 1e-9
        )
    return bool(_DECIMAL.fullmatch(text)) and abs(_dutch_number(text) - value) <= 0.05 + 1e-9


def _dutch_number(text: str) -> float:
    return float(text.replace(".", "").replace(",", "."))


def figure_pointers(document: dict[str, Any]) -> list[str]:
    """The pointer of every number (or ``null`` figure) outside ``scope``: what the report
    must show somewhere."""
    found: list[str] = []

    def walk(value: Any, pointer: str) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, f"{pointer}/{key.replace('~', '~0').replace('/', '~1')}")
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, f"{pointer}/{index}")
        elif not isinstance(value, str):
            found.append(pointer)

    for section, content in document.items():
        if section != "scope":
            walk(content, f"/{section}")
    return found
