"""Retention policy: when a household's personal data must go (DESIGN §9, issue 6). Pure.

``config/retention.toml`` gives months per way a case ended: per DDAS outcome (default 12
months after the case closed), for a case cancelled before pick-up, and for the raw input of
a rejected signal (from its receipt). A household's data expires once *every* one of its
cases ended long enough ago; an open case keeps all of it.
"""

from __future__ import annotations

import calendar
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Final

from events.base import DomainEvent
from events.catalogue.cases import CaseCancelled, CaseClosed
from events.catalogue.referrals import ReferralCancelled, ReferralClosed
from events.catalogue.routing import CaseRouted
from events.catalogue.vocabulary import Outcome
from services.config_files import ConfigError, load_toml

FILE_NAME: Final = "retention.toml"
RULE_DEFAULT: Final = "default"
RULE_CANCELLED: Final = "cancelled"
RULE_REJECTED: Final = "rejected"
RULE_REQUEST: Final = "verzoek"
_TOP_KEYS: Final = {
    "default_months",
    "cancelled_case_months",
    "rejected_signal_months",
    "outcome_months",
}


@dataclass(frozen=True)
class RetentionPolicy:
    default_months: int = 12
    cancelled_case_months: int = 3
    rejected_signal_months: int = 3
    outcome_months: Mapping[Outcome, int] = field(default_factory=dict)

    def for_outcome(self, outcome: Outcome) -> tuple[str, int]:
        """The rule and its months for a case closed with ``outcome``."""
        if outcome in self.outcome_months:
            return f"outcome:{outcome.name.lower()}", self.outcome_months[outcome]
        return RULE_DEFAULT, self.default_months


def load_retention_policy(config_dir: Path) -> RetentionPolicy:
    """The policy of ``config_dir/retention.toml``; the defaults when there is no such file."""
    path = config_dir / FILE_NAME
    if not path.exists():
        return RetentionPolicy()
    return parse_retention_policy(load_toml(path), str(path))


def parse_retention_policy(data: Mapping[str, object], source: str) -> RetentionPolicy:
    """The policy in ``data``; a ``ConfigError`` names the file and the key that is wrong."""
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise ConfigError(f"{source}: unknown key {unknown[0]!r} (known: {sorted(_TOP_KEYS)})")
    defaults = RetentionPolicy()
    outcomes_table = data.get("outcome_months", {})
    if not isinstance(outcomes_table, Mapping):
        raise ConfigError(f"{source}: outcome_months must be a table of outcome = months")
    by_value = {o.value: o for o in Outcome}
    outcome_months: dict[Outcome, int] = {}
    for name, months in outcomes_table.items():
        if name not in by_value:
            raise ConfigError(
                f"{source}: outcome_months.{name!r} is not a DDAS eindresultaat "
                f"(one of: {', '.join(sorted(by_value))})"
            )
        outcome_months[by_value[name]] = _months(months, f"outcome_months.{name!r}", source)
    return RetentionPolicy(
        default_months=_months(
            data.get("default_months", defaults.default_months), "default_months", source
        ),
        cancelled_case_months=_months(
            data.get("cancelled_case_months", defaults.cancelled_case_months),
            "cancelled_case_months",
            source,
        ),
        rejected_signal_months=_months(
            data.get("rejected_signal_months", defaults.rejected_signal_months),
            "rejected_signal_months",
            source,
        ),
        outcome_months=outcome_months,
    )


def _months(value: object, key: str, source: str) -> int:
    # bool is an int in Python; `true` months is a mistake, not 1.
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 1200:
        raise ConfigError(f"{source}: {key} must be a whole number of months (0-1200)")
    return value


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day when it has no such day."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class EndedCase:
    """A case as retention sees it: how and when it ended (``ended_on`` None: not known)."""

    case_id: uuid.UUID
    status: str  # open | closed | cancelled
    outcome: Outcome | None
    ended_on: date | None


@dataclass(frozen=True)
class Expiry:
    rule: str
    expires_on: date


def case_expiry(policy: RetentionPolicy, case: EndedCase) -> Expiry | None:
    """When the case's personal data may go; ``None`` while it is open or its end unknown."""
    if case.ended_on is None or case.status == "open":
        return None
    if case.status == "cancelled" or case.outcome is None:
        rule, months = RULE_CANCELLED, policy.cancelled_case_months
    else:
        rule, months = policy.for_outcome(case.outcome)
    return Expiry(rule, add_months(case.ended_on, months))


def household_expiry(policy: RetentionPolicy, cases: Sequence[EndedCase]) -> Expiry | None:
    """The household's data may go when its last case's data may: ``None`` while any case
    is open (or has no known end), or when it has no case at all."""
    expiries = [case_expiry(policy, case) for case in cases]
    if not expiries or any(e is None for e in expiries):
        return None
    return max((e for e in expiries if e is not None), key=lambda e: (e.expires_on, e.rule))


def rejection_expiry(policy: RetentionPolicy, received_on: date) -> Expiry:
    return Expiry(RULE_REJECTED, add_months(received_on, policy.rejected_signal_months))


def is_expired(expiry: Expiry | None, today: date) -> bool:
    return expiry is not None and expiry.expires_on <= today


def ended_on(events: Iterable[tuple[DomainEvent, datetime]]) -> date | None:
    """The day a case ended, from its case and referral events with their recorded times:
    the last closing (``CaseClosed``, ``ReferralClosed``: their own date), routing to an
    outcome or cancellation (the day it was recorded)."""
    last: date | None = None
    for event, recorded_at in events:
        day: date | None = None
        if isinstance(event, CaseClosed | ReferralClosed):
            day = event.closed_on
        elif isinstance(event, ReferralCancelled):
            day = event.cancelled_at.date()
        elif isinstance(event, CaseCancelled) or (
            isinstance(event, CaseRouted) and event.outcome is not None
        ):
            day = recorded_at.date()
        if day is not None and (last is None or day > last):
            last = day
    return last
