"""The retention policy: its file, month arithmetic, and when a household's data may go."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from events.catalogue.cases import CaseCancelled, CaseClosed, CaseOpened
from events.catalogue.referrals import ReferralCancelled, ReferralClosed
from events.catalogue.routing import CaseRouted
from events.catalogue.vocabulary import Outcome, PartnerType
from services.config_files import ConfigError
from services.privacy.retention import (
    EndedCase,
    Expiry,
    RetentionPolicy,
    add_months,
    case_expiry,
    ended_on,
    household_expiry,
    is_expired,
    parse_retention_policy,
    rejection_expiry,
)

CASE = uuid.UUID("00000000-0000-4000-8000-00000000c001")
POLICY = RetentionPolicy(
    default_months=12,
    cancelled_case_months=3,
    rejected_signal_months=3,
    outcome_months={Outcome.DECEASED: 1},
)


def closed(outcome: Outcome, on: date, status: str = "closed") -> EndedCase:
    return EndedCase(uuid.uuid4(), status, outcome, on)


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2025, 1, 31), 1, date(2025, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2025, 11, 15), 3, date(2026, 2, 15)),
        (date(2025, 3, 1), 12, date(2026, 3, 1)),
        (date(2025, 3, 1), 0, date(2025, 3, 1)),
    ],
)
def test_months_are_calendar_months(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


def test_the_file_gives_months_per_outcome_and_defaults_the_rest() -> None:
    policy = parse_retention_policy(
        {"default_months": 24, "outcome_months": {"Inwoner is overleden": 1}}, "retention.toml"
    )
    assert policy.default_months == 24
    assert policy.cancelled_case_months == 3
    assert policy.rejected_signal_months == 3
    assert policy.for_outcome(Outcome.DECEASED) == ("outcome:deceased", 1)
    assert policy.for_outcome(Outcome.NO_CONTACT) == ("default", 24)


@pytest.mark.parametrize(
    ("data", "named"),
    [
        ({"default_month": 12}, "default_month"),
        ({"default_months": "12"}, "default_months"),
        ({"cancelled_case_months": True}, "cancelled_case_months"),
        ({"rejected_signal_months": -1}, "rejected_signal_months"),
        ({"outcome_months": {"Opgelost": 3}}, "Opgelost"),
        ({"outcome_months": {"Inwoner is overleden": 2.5}}, "Inwoner is overleden"),
        ({"outcome_months": 3}, "outcome_months"),
    ],
)
def test_a_wrong_file_is_refused_naming_the_key(data: dict[str, object], named: str) -> None:
    with pytest.raises(ConfigError, match=r"retention\.toml") as raised:
        parse_retention_policy(data, "config/retention.toml")
    assert named in str(raised.value)


def test_each_way_a_case_ends_has_its_own_period() -> None:
    end = date(2025, 6, 10)
    assert case_expiry(POLICY, closed(Outcome.NO_CONTACT, end)) == Expiry(
        "default", date(2026, 6, 10)
    )
    assert case_expiry(POLICY, closed(Outcome.DECEASED, end)) == Expiry(
        "outcome:deceased", date(2025, 7, 10)
    )
    cancelled = EndedCase(CASE, "cancelled", None, end)
    assert case_expiry(POLICY, cancelled) == Expiry("cancelled", date(2025, 9, 10))
    assert case_expiry(POLICY, EndedCase(CASE, "open", None, None)) is None
    assert case_expiry(POLICY, EndedCase(CASE, "closed", Outcome.NO_CONTACT, None)) is None


def test_a_household_expires_with_its_last_case_and_never_while_one_is_open() -> None:
    early = closed(Outcome.DECEASED, date(2025, 1, 1))  # expires 2025-02-01
    late = closed(Outcome.NO_CONTACT, date(2025, 3, 1))  # expires 2026-03-01
    expiry = household_expiry(POLICY, [early, late])

    assert expiry == Expiry("default", date(2026, 3, 1))
    assert not is_expired(expiry, date(2026, 2, 28))
    assert is_expired(expiry, date(2026, 3, 1))
    assert household_expiry(POLICY, [late, EndedCase(CASE, "open", None, None)]) is None
    assert household_expiry(POLICY, []) is None


def test_rejected_input_goes_three_months_after_it_arrived() -> None:
    expiry = rejection_expiry(POLICY, date(2025, 11, 30))
    assert expiry == Expiry("rejected", date(2026, 2, 28))


def test_the_end_of_a_case_comes_from_its_last_closing_event() -> None:
    at = datetime(2025, 5, 2, 9, tzinfo=UTC)
    opened = CaseOpened(
        case_id=CASE,
        household_id=uuid.uuid4(),
        gemeentecode="0141",
        pc4="7604",
        first_signal_id=uuid.uuid4(),
        partner_type=PartnerType.WATER,
        matching_window_starts=date(2025, 4, 1),
        matching_window_ends=date(2025, 6, 1),
    )
    referral = uuid.uuid4()
    closed_by_team = ReferralClosed(
        referral_id=referral, outcome=Outcome.NO_CONTACT, closed_on=date(2025, 7, 1)
    )
    assert ended_on([(opened, at)]) is None
    assert ended_on([(opened, at), (closed_by_team, at)]) == date(2025, 7, 1)
    routed_away = CaseRouted(
        case_id=CASE,
        outcome=Outcome.UNJUSTIFIED_SIGNAL,
        rule_id="onder-drempelbedrag",
        rules_version="1",
        explanation="below",
        facts={},
    )
    assert ended_on([(opened, at), (routed_away, at)]) == date(2025, 5, 2)
    cancelled = CaseCancelled(case_id=CASE, reason="withdrawn")
    assert ended_on([(cancelled, datetime(2025, 8, 3, tzinfo=UTC))]) == date(2025, 8, 3)
    referral_cancelled = ReferralCancelled(
        referral_id=referral, reason="paid", cancelled_at=datetime(2025, 9, 4, 8, tzinfo=UTC)
    )
    repeat = CaseClosed(
        case_id=CASE, outcome=Outcome.REPEAT_SIGNAL, closed_on=date(2025, 6, 1), reason="x"
    )
    assert ended_on([(repeat, at), (referral_cancelled, at)]) == date(2025, 9, 4)
