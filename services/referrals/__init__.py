"""Referrals: a case in one team's queue of one project (DESIGN §7).

``lifecycle`` is the pure state machine (commands return events, ``apply`` folds them);
``sla`` computes due dates on the Dutch working-day calendar and tells what is overdue.
"""

from services.referrals.lifecycle import (
    ALLOWED,
    Command,
    ContactAttempt,
    InvalidCommandError,
    MissingReasonError,
    Referral,
    ReferralError,
    ReferralState,
    TransitionRefused,
    apply,
    cancel,
    claim,
    close,
    fold,
    record_contact_attempt,
    release,
    request,
    reroute,
)
from services.referrals.sla import (
    DEFAULT_SLA,
    DueDates,
    SlaPolicy,
    SlaTerms,
    due_dates,
    is_overdue,
)

__all__ = [
    "ALLOWED",
    "DEFAULT_SLA",
    "Command",
    "ContactAttempt",
    "DueDates",
    "InvalidCommandError",
    "MissingReasonError",
    "Referral",
    "ReferralError",
    "ReferralState",
    "SlaPolicy",
    "SlaTerms",
    "TransitionRefused",
    "apply",
    "cancel",
    "claim",
    "close",
    "due_dates",
    "fold",
    "is_overdue",
    "record_contact_attempt",
    "release",
    "request",
    "reroute",
]
