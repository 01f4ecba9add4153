"""SLA due dates on the Dutch working-day calendar, and what counts as overdue."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest
from pydantic import BaseModel, ConfigDict

from events.catalogue.referrals import ContactKind
from events.catalogue.vocabulary import Outcome
from services.referrals import (
    DueDates,
    Referral,
    SlaPolicy,
    apply,
    cancel,
    claim,
    close,
    due_dates,
    fold,
    is_overdue,
    record_contact_attempt,
    request,
)
from services.referrals.sla import add_working_days, dutch_holidays, easter_sunday, is_working_day

AT = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("year", "easter"),
    [
        (2000, date(2000, 4, 23)),
        (2019, date(2019, 4, 21)),
        (2024, date(2024, 3, 31)),
        (2025, date(2025, 4, 20)),
        (2026, date(2026, 4, 5)),
        (2027, date(2027, 3, 28)),
        (2038, date(2038, 4, 25)),
    ],
)
def test_easter_sunday(year: int, easter: date) -> None:
    assert easter_sunday(year) == easter


def test_dutch_holidays_2026() -> None:
    assert dutch_holidays(2026) == {
        date(2026, 1, 1),  # Nieuwjaarsdag
        date(2026, 4, 6),  # Tweede Paasdag
        date(2026, 4, 27),  # Koningsdag
        date(2026, 5, 5),  # Bevrijdingsdag
        date(2026, 5, 14),  # Hemelvaartsdag
        date(2026, 5, 25),  # Tweede Pinksterdag
        date(2026, 12, 25),
        date(2026, 12, 26),
    }


def test_kings_day_moves_to_saturday_when_the_27th_is_a_sunday() -> None:
    assert date(2025, 4, 26) in dutch_holidays(2025)
    assert date(2025, 4, 27) not in dutch_holidays(2025)


def test_good_friday_is_a_working_day() -> None:
    assert is_working_day(date(2026, 4, 3))


@pytest.mark.parametrize(
    ("requested_on", "due", "why"),
    [
        (date(2026, 3, 2), date(2026, 3, 5), "Monday: plain week"),
        (date(2026, 3, 5), date(2026, 3, 10), "Thursday: over a weekend"),
        (date(2026, 3, 7), date(2026, 3, 11), "Saturday: counting starts Monday"),
        (date(2026, 4, 24), date(2026, 4, 30), "Friday before King's Day (Monday 27 April)"),
        (date(2026, 4, 2), date(2026, 4, 8), "Thursday before Easter Monday; Good Friday counts"),
        (date(2026, 5, 13), date(2026, 5, 19), "day before Ascension, then a weekend"),
        (date(2026, 12, 23), date(2026, 12, 29), "over Christmas"),
        (date(2026, 12, 30), date(2027, 1, 5), "over New Year's Day"),
    ],
)
def test_urgent_first_contact_counts_working_days(requested_on: date, due: date, why: str) -> None:
    dates = due_dates(requested_on, urgent=True)
    assert dates.first_contact_due == due, why
    assert dates.closure_due == date.fromordinal(requested_on.toordinal() + 28)


def test_normal_referral_counts_calendar_days_through_holidays() -> None:
    dates = due_dates(date(2026, 4, 24), urgent=False)
    assert (dates.first_contact_due, dates.closure_due) == (date(2026, 5, 8), date(2026, 5, 22))


def test_project_policy_overrides_the_defaults() -> None:
    policy = SlaPolicy(first_contact_days=7, closure_days=56, urgent_working_days=1)
    assert due_dates(date(2026, 3, 2), urgent=False, policy=policy).first_contact_due == date(
        2026, 3, 9
    )
    assert due_dates(date(2026, 3, 6), urgent=True, policy=policy).first_contact_due == date(
        2026, 3, 9
    )
    assert due_dates(date(2026, 3, 2), urgent=True, policy=policy).closure_due == date(2026, 4, 27)


class ConfiguredSla(BaseModel):
    """Shaped like ``[project.sla]`` in projects.toml: any such model is accepted as is."""

    model_config = ConfigDict(frozen=True)

    first_contact_days: int = 14
    closure_days: int = 56
    urgent_working_days: int = 2


def test_a_configured_sla_model_is_accepted_as_is() -> None:
    dates = due_dates(date(2026, 4, 24), urgent=True, policy=ConfiguredSla())
    assert dates == DueDates(first_contact_due=date(2026, 4, 29), closure_due=date(2026, 6, 19))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"first_contact_days": 0},
        {"closure_days": -1},
        {"urgent_working_days": 0},
        {"first_contact_days": 30, "closure_days": 28},
    ],
)
def test_policy_rejects_nonsense(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="days"):
        SlaPolicy(**kwargs)


def test_add_zero_working_days_is_the_same_day() -> None:
    assert add_working_days(date(2026, 4, 27), 0) == date(2026, 4, 27)
    with pytest.raises(ValueError, match="negative"):
        add_working_days(date(2026, 4, 27), -1)


# -- overdue --------------------------------------------------------------------------------


def new_referral(urgent: bool = False) -> Referral:
    return fold(
        request(
            referral_id=uuid.uuid4(),
            case_id=uuid.uuid4(),
            project="vroeg-erop-af",
            team="wijkteam-noord",
            urgent=urgent,
            requested_on=date(2026, 4, 1),
            rule_id="R01",
        )
    )


def test_overdue_without_a_contact_attempt_after_the_first_contact_due_date() -> None:
    referral = new_referral()
    assert referral.first_contact_due == date(2026, 4, 15)
    assert not is_overdue(referral, date(2026, 4, 15))
    assert is_overdue(referral, date(2026, 4, 16))


def test_urgent_referral_is_overdue_after_three_working_days() -> None:
    referral = new_referral(urgent=True)
    # 1 April 2026 is a Wednesday: Thursday, Friday (Good Friday works), Tuesday after Easter.
    assert referral.first_contact_due == date(2026, 4, 7)
    assert not is_overdue(referral, date(2026, 4, 7))
    assert is_overdue(referral, date(2026, 4, 8))


def test_a_contact_attempt_stops_the_first_clock_but_not_the_closure_clock() -> None:
    referral = new_referral()
    referral = apply(referral, claim(referral, "w-17", AT)[0])
    attempt = record_contact_attempt(referral, ContactKind.PHONE, False, date(2026, 4, 20))
    referral = apply(referral, attempt[0])
    assert not is_overdue(referral, date(2026, 4, 29))
    assert not is_overdue(referral, referral.closure_due)
    assert is_overdue(referral, date(2026, 4, 30))


def test_closed_and_cancelled_referrals_are_never_overdue() -> None:
    referral = new_referral()
    referral = apply(referral, claim(referral, "w-17", AT)[0])
    closed = apply(referral, close(referral, Outcome.REFERRAL_WITHOUT_CONTACT, date(2026, 6, 1))[0])
    cancelled = apply(referral, cancel(referral, "signaal ingetrokken", AT)[0])
    far_future = date(2027, 1, 1)
    assert is_overdue(referral, far_future)
    assert not is_overdue(closed, far_future)
    assert not is_overdue(cancelled, far_future)
