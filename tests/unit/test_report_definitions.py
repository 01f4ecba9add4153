"""DESIGN §8's definitions, each worked out by hand."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from events.catalogue.vocabulary import Outcome
from services.reports.definitions import (
    HELP_ACCEPTED,
    NOT_PICKED_UP,
    bereik,
    hulpacceptatie,
    is_picked_up,
    median_days,
    nearest_rank,
    no_contact_rate,
    p90_days,
    picked_up_count,
    rate,
)
from services.reports.model import Rate


@dataclass(frozen=True)
class Closed:
    outcome: Outcome | None
    reached: bool


def test_picked_up_is_every_outcome_but_five() -> None:
    not_picked = {o for o in Outcome if not is_picked_up(o)}
    assert not_picked == {
        Outcome.REPEAT_SIGNAL,
        Outcome.UNJUSTIFIED_SIGNAL,
        Outcome.NOT_PICKED_UP_OTHER,
        Outcome.DECEASED,
        Outcome.NOT_A_RESIDENT,
    }
    assert not_picked == NOT_PICKED_UP
    assert {o for o in Outcome if is_picked_up(o)} >= HELP_ACCEPTED


CASES = [
    Closed(Outcome.ADVICE_OR_QUICK_FIX, reached=True),  # picked up, reached, help accepted
    Closed(Outcome.FOLLOW_UP_NON_FINANCIAL, reached=True),  # picked up, reached, help accepted
    Closed(Outcome.NO_HELP_NEEDED, reached=True),  # picked up, reached
    Closed(Outcome.NO_CONTACT, reached=False),  # picked up, no contact
    Closed(Outcome.NO_CONTACT, reached=False),  # picked up, no contact
    Closed(Outcome.FOLLOW_UP_FINANCIAL, reached=False),  # help accepted without a reach
    Closed(Outcome.REPEAT_SIGNAL, reached=False),  # not picked up
    Closed(Outcome.DECEASED, reached=True),  # not picked up, even though reached
    Closed(None, reached=True),  # still open: not counted at all
]


def test_bereik_counts_reached_among_picked_up() -> None:
    # picked up: the first six; reached among them: the first three.
    assert picked_up_count(CASES) == 6
    assert bereik(CASES) == Rate(3, 6, 0.5)


def test_hulpacceptatie_is_over_picked_up_and_reached() -> None:
    # help accepted: advies, vervolghulp niet financieel, vervolghulp financieel = 3;
    # picked up and reached: 3 (the deceased resident reached does not count).
    assert hulpacceptatie(CASES) == Rate(3, 3, 1.0)


def test_no_contact_rate_is_over_picked_up() -> None:
    assert no_contact_rate(CASES) == Rate(2, 6, 2 / 6)


def test_a_rate_over_nothing_has_no_value() -> None:
    assert rate(0, 0) == Rate(0, 0, None)
    assert bereik([]) == Rate(0, 0, None)
    assert hulpacceptatie([Closed(Outcome.NO_CONTACT, reached=False)]) == Rate(0, 0, None)


def test_median_of_odd_and_even_counts() -> None:
    assert median_days([7, 1, 3]) == 3.0
    assert median_days([4, 1, 10, 2]) == 3.0  # (2 + 4) / 2
    assert median_days([5]) == 5.0
    assert median_days([]) is None


def test_nearest_rank_p90() -> None:
    # n = 10: rank ceil(9.0) = 9 -> the 9th smallest.
    assert p90_days(list(range(1, 11))) == 9
    # n = 11: rank ceil(9.9) = 10.
    assert p90_days([11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]) == 10
    # n = 3: rank ceil(2.7) = 3 -> the largest.
    assert p90_days([0, 30, 2]) == 30
    assert p90_days([4]) == 4
    assert p90_days([]) is None
    assert nearest_rank([1, 2, 3, 4], 50) == 2  # rank ceil(2.0) = 2


def test_nearest_rank_needs_a_percentile_above_zero() -> None:
    with pytest.raises(ValueError, match="percentile"):
        nearest_rank([1], 0)
