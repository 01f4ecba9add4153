"""SLA due dates of a referral (DESIGN §7) and the Dutch working-day calendar behind them.

Defaults follow Vroeg Eropaf: a first contact attempt within 14 calendar days and closure
within 28 calendar days of the request; an urgent referral gets its first contact attempt
within 3 working days. Projects override these in configuration (``SlaPolicy``).

Holidays are those of the Algemene termijnenwet (art. 3), the law that decides when a
statutory deadline moves past a day off: New Year's Day, Easter Monday, Ascension Day, Whit
Monday, King's Day, Liberation Day (5 May, every year under that law), Christmas and Boxing
Day. Good Friday is not in it. Easter Sunday and Whit Sunday are Sundays anyway.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from services.referrals.lifecycle import Referral


class SlaTerms(Protocol):
    """What a due-date calculation reads. ``SlaPolicy`` and the ``[project.sla]`` model of the
    routing configuration both fit, so a project's configured SLA is passed as is."""

    @property
    def first_contact_days(self) -> int: ...

    @property
    def closure_days(self) -> int: ...

    @property
    def urgent_working_days(self) -> int: ...


@dataclass(frozen=True, slots=True)
class SlaPolicy:
    """A project's SLA. Urgency shortens only the first contact attempt; closure keeps its
    calendar-day target, because a crisis case is not expected to be finished sooner."""

    first_contact_days: int = 14
    closure_days: int = 28
    urgent_working_days: int = 3

    def __post_init__(self) -> None:
        for name in ("first_contact_days", "closure_days", "urgent_working_days"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.closure_days < self.first_contact_days:
            raise ValueError("closure_days must not be shorter than first_contact_days")


DEFAULT_SLA = SlaPolicy()


@dataclass(frozen=True, slots=True)
class DueDates:
    """The last day on which the step still counts as on time."""

    first_contact_due: date
    closure_due: date


def due_dates(requested_on: date, *, urgent: bool, policy: SlaTerms = DEFAULT_SLA) -> DueDates:
    """Due dates counted from the day of the request (day 0).

    Released referrals keep these dates: the resident has been waiting since the request,
    whoever holds the referral.
    """
    if urgent:
        first = add_working_days(requested_on, policy.urgent_working_days)
    else:
        first = requested_on + timedelta(days=policy.first_contact_days)
    closure = max(requested_on + timedelta(days=policy.closure_days), first)
    return DueDates(first_contact_due=first, closure_due=closure)


def is_overdue(referral: Referral, today: date) -> bool:
    """Whether an open referral missed a due date by ``today``.

    Overdue when no contact attempt was made after ``first_contact_due``, or when it is
    still open after ``closure_due``. Closed, rerouted and cancelled referrals are never
    overdue: they no longer sit in a queue.
    """
    if referral.is_final:
        return False
    if not referral.attempts and today > referral.first_contact_due:
        return True
    return today > referral.closure_due


def add_working_days(start: date, days: int) -> date:
    """The date ``days`` working days after ``start`` (``start`` itself does not count)."""
    if days < 0:
        raise ValueError(f"days must not be negative, got {days}")
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if is_working_day(current):
            remaining -= 1
    return current


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in dutch_holidays(day.year)


@lru_cache(maxsize=64)
def dutch_holidays(year: int) -> frozenset[date]:
    """The national holidays of the Algemene termijnenwet in ``year``."""
    easter = easter_sunday(year)
    kings_day = date(year, 4, 27)
    # King's Day moves to Saturday 26 April when the 27th is a Sunday.
    if kings_day.weekday() == 6:
        kings_day = date(year, 4, 26)
    return frozenset(
        {
            date(year, 1, 1),
            easter + timedelta(days=1),  # Easter Monday
            kings_day,
            date(year, 5, 5),  # Liberation Day
            easter + timedelta(days=39),  # Ascension Day
            easter + timedelta(days=50),  # Whit Monday
            date(year, 12, 25),
            date(year, 12, 26),
        }
    )


def easter_sunday(year: int) -> date:
    """Gregorian Easter Sunday (the anonymous Gregorian algorithm, Meeus/Jones/Butcher)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    leap = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * leap) // 451
    month, day = divmod(h + leap - 7 * m + 114, 31)
    return date(year, month, day + 1)
