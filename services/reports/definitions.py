"""The figures of DESIGN §8, defined once. Every report, export and renderer uses these.

Over the cases closed in a period:

- **picked up** ("opgepakt"): closed with any outcome except the three "Niet opgepakt: …",
  "Inwoner is overleden" and "Persoon is geen inwoner (meer) in de gemeente";
- **bereik** = picked-up cases with at least one reaching contact attempt ÷ picked-up cases;
- **hulpacceptatie** = cases closed with "(Budget)advies en/of quick fix", "Vervolghulp en/of
  verwijzing financieel" or "Vervolghulp en/of verwijzing niet financieel" ÷ picked-up cases
  with at least one reaching contact attempt;
- **no-contact rate** = cases closed with "Definitief geen contact kunnen krijgen" ÷
  picked-up cases;
- **lead times** count calendar days; a period's median and p90 are over the cases whose step
  happened in that period, p90 by the nearest-rank method.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Final, Protocol

from events.catalogue.vocabulary import Outcome
from services.reports.model import Rate

NOT_PICKED_UP: Final = frozenset(
    {
        Outcome.REPEAT_SIGNAL,
        Outcome.UNJUSTIFIED_SIGNAL,
        Outcome.NOT_PICKED_UP_OTHER,
        Outcome.DECEASED,
        Outcome.NOT_A_RESIDENT,
    }
)
"""Outcomes of a case that was not picked up."""

HELP_ACCEPTED: Final = frozenset(
    {
        Outcome.ADVICE_OR_QUICK_FIX,
        Outcome.FOLLOW_UP_FINANCIAL,
        Outcome.FOLLOW_UP_NON_FINANCIAL,
    }
)
"""Outcomes that count as help accepted (the numerator of hulpacceptatie)."""


class ClosedCase(Protocol):
    """What the outcome figures read of one closed case."""

    @property
    def outcome(self) -> Outcome | None: ...

    @property
    def reached(self) -> bool:
        """At least one contact attempt reached the resident."""
        ...


def is_picked_up(outcome: Outcome) -> bool:
    """Whether a case closed with ``outcome`` counts as picked up ("opgepakt")."""
    return outcome not in NOT_PICKED_UP


def rate(numerator: int, denominator: int) -> Rate:
    """A ratio with its parts; no value (shown as "–") when nothing is counted below."""
    return Rate(numerator, denominator, numerator / denominator if denominator else None)


class OutcomeTally:
    """The counts behind the three rates, added up one closed case at a time; the rates
    below are all computed from it, so each is defined in this one place."""

    __slots__ = ("accepted", "by_outcome", "closed", "no_contact", "picked_up", "reached")

    def __init__(self) -> None:
        self.closed = 0
        self.picked_up = 0
        self.reached = 0
        """Picked up, with at least one reaching contact attempt."""
        self.accepted = 0
        self.no_contact = 0
        self.by_outcome: dict[Outcome, int] = {}

    def add(self, outcome: Outcome | None, reached: bool, cases: int = 1) -> None:
        """Count one case (or ``cases`` alike); a case without an outcome is not closed and
        is not counted."""
        if outcome is None:
            return
        self.closed += cases
        self.by_outcome[outcome] = self.by_outcome.get(outcome, 0) + cases
        if outcome in NOT_PICKED_UP:
            return
        self.picked_up += cases
        self.reached += reached * cases
        self.accepted += (outcome in HELP_ACCEPTED) * cases
        self.no_contact += (outcome is Outcome.NO_CONTACT) * cases

    def bereik(self) -> Rate:
        return rate(self.reached, self.picked_up)

    def hulpacceptatie(self) -> Rate:
        return rate(self.accepted, self.reached)

    def no_contact_rate(self) -> Rate:
        return rate(self.no_contact, self.picked_up)


def tally(cases: Iterable[ClosedCase]) -> OutcomeTally:
    counts = OutcomeTally()
    for case in cases:
        counts.add(case.outcome, case.reached)
    return counts


def picked_up_count(cases: Iterable[ClosedCase]) -> int:
    """How many of the closed ``cases`` were picked up."""
    return tally(cases).picked_up


def bereik(cases: Iterable[ClosedCase]) -> Rate:
    """Picked-up cases with a reaching contact attempt ÷ picked-up cases."""
    return tally(cases).bereik()


def hulpacceptatie(cases: Iterable[ClosedCase]) -> Rate:
    """Cases closed with a help-accepted outcome ÷ picked-up cases with a reaching contact
    attempt. Every help-accepted outcome is a picked-up one; one closed without a reaching
    attempt (help by letter, say) counts above the line only, as the definition says."""
    return tally(cases).hulpacceptatie()


def no_contact_rate(cases: Iterable[ClosedCase]) -> Rate:
    """Cases closed with "Definitief geen contact kunnen krijgen" ÷ picked-up cases."""
    return tally(cases).no_contact_rate()


def nearest_rank(days: Sequence[int], percentile: float) -> int | None:
    """The nearest-rank percentile: the smallest value with at least ``percentile`` % of the
    values at or below it, i.e. the ⌈p/100 · n⌉-th smallest. ``None`` for no values."""
    if not 0 < percentile <= 100:
        raise ValueError(f"percentile must be in (0, 100], got {percentile}")
    if not days:
        return None
    ordered = sorted(days)
    rank = math.ceil(percentile / 100 * len(ordered))
    return ordered[rank - 1]


def p90_days(days: Sequence[int]) -> int | None:
    """The nearest-rank 90th percentile of calendar-day lead times."""
    return nearest_rank(days, 90)


def median_days(days: Sequence[int]) -> float | None:
    """The median of calendar-day lead times: the middle value, or the mean of the two middle
    values for an even count. ``None`` for no values."""
    if not days:
        return None
    ordered = sorted(days)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[middle])
    return (ordered[middle - 1] + ordered[middle]) / 2
