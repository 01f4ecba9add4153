"""What to do with one validated signal: pure decisions over plain data, no I/O.

The caller loads the facts (the signal index entry, the household's cases and signals),
asks ``decide``, writes the outcome, and updates its in-memory facts so that the next signal
of the same batch sees this one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from events.catalogue.vocabulary import SignalKind
from services.intake.commands import FieldProblem, ReceiveSignal
from services.intake.rules import IntakeRules


@dataclass
class KnownSignal:
    """What intake remembers of an accepted signal (a row of ``intake_signals``)."""

    partner_id: str
    partner_signal_id: str
    signal_id: uuid.UUID
    household_id: uuid.UUID
    case_id: uuid.UUID
    original_hash: str
    last_hash: str
    amount: Decimal
    signal_date: date
    withdrawn: bool = False
    partner_type: str = ""
    kind: str = ""
    crisis: bool = False
    warm_handover: bool = False
    age_band: str | None = None


@dataclass
class CaseState:
    """A household case as intake sees it (a row of ``household_cases``)."""

    case_id: uuid.UUID
    household_id: uuid.UUID
    window_starts: date
    window_ends: date
    status: str = "open"  # open | closed | cancelled
    active_signals: int = 1
    picked_up: bool = False
    gemeentecode: str = ""
    pc4: str = ""
    in_municipality: bool = True
    project: str | None = None
    team: str | None = None
    referral_id: uuid.UUID | None = None
    outcome: str | None = None


@dataclass
class HouseholdHistory:
    cases: list[CaseState] = field(default_factory=list)
    signals: list[KnownSignal] = field(default_factory=list)


@dataclass(frozen=True)
class Duplicate:
    signal_id: uuid.UUID


@dataclass(frozen=True)
class Rejected:
    reasons: tuple[FieldProblem, ...]


@dataclass(frozen=True)
class OpenCase:
    """A new case; ``repeat_of`` set means it is closed at once as a repeat signal."""

    repeat_of: KnownSignal | None = None


@dataclass(frozen=True)
class AttachToCase:
    case: CaseState


@dataclass(frozen=True)
class UpdateSignal:
    known: KnownSignal


@dataclass(frozen=True)
class WithdrawSignal:
    known: KnownSignal
    case: CaseState | None
    cancel_case: bool


Decision = Duplicate | Rejected | OpenCase | AttachToCase | UpdateSignal | WithdrawSignal

NEW_SIGNAL_KINDS = (SignalKind.EARLY_SIGNAL, SignalKind.FINAL_DELIVERY_SIGNAL)


def decide(
    command: ReceiveSignal,
    content_hash: str,
    known: KnownSignal | None,
    history: HouseholdHistory,
    rules: IntakeRules,
) -> Decision:
    if command.kind in NEW_SIGNAL_KINDS:
        return _decide_new(command, content_hash, known, history, rules)
    if known is None:
        return _reject(
            "signaalId",
            f"soort={command.kind.value} names a signaalId that partner "
            f"{command.partner_id} never sent; send soort=vroegsignaal first",
        )
    if command.kind is SignalKind.UPDATE:
        return _decide_update(content_hash, known)
    return _decide_withdrawal(known, history)


def _decide_new(
    command: ReceiveSignal,
    content_hash: str,
    known: KnownSignal | None,
    history: HouseholdHistory,
    rules: IntakeRules,
) -> Decision:
    if known is not None:
        if known.original_hash == content_hash:
            return Duplicate(known.signal_id)
        return _reject(
            "signaalId",
            "this signaalId was received before with different content; "
            "send soort=update to change it",
        )
    case = open_case_for(history, command.signal_date)
    if case is not None:
        return AttachToCase(case)
    earlier = repeat_of(command, history, rules)
    return OpenCase(repeat_of=earlier)


def open_case_for(history: HouseholdHistory, signal_date: date) -> CaseState | None:
    """The household's open case whose matching window covers ``signal_date``.

    Partners deliver in their own rhythm, so a signal dated before the case's first signal
    can arrive after it: the window reaches as far back as it reaches forward.
    """
    for case in history.cases:
        reach = case.window_ends - case.window_starts
        earliest = case.window_starts - reach
        if case.status == "open" and earliest <= signal_date <= case.window_ends:
            return case
    return None


def repeat_of(
    command: ReceiveSignal, history: HouseholdHistory, rules: IntakeRules
) -> KnownSignal | None:
    """DDAS repeat rule: an earlier signal of the same partner for this household, within the
    repeat window, for an amount at least as high. Crisis and final-delivery signals are
    never treated as repeats: they are urgent by definition."""
    if command.crisis or command.kind is SignalKind.FINAL_DELIVERY_SIGNAL:
        return None
    if command.amount is None or rules.repeat_window_days == 0:
        return None
    since = command.signal_date - timedelta(days=rules.repeat_window_days)
    candidates = [
        s
        for s in history.signals
        if s.partner_id == command.partner_id
        and not s.withdrawn
        and since <= s.signal_date <= command.signal_date
        and command.amount <= s.amount
    ]
    return max(candidates, key=lambda s: s.signal_date, default=None)


def _decide_update(content_hash: str, known: KnownSignal) -> Decision:
    if known.withdrawn:
        return _reject("soort", "the signal was withdrawn (soort=intrekking); it cannot change")
    if known.last_hash == content_hash:
        return Duplicate(known.signal_id)
    return UpdateSignal(known)


def _decide_withdrawal(known: KnownSignal, history: HouseholdHistory) -> Decision:
    if known.withdrawn:
        return Duplicate(known.signal_id)
    case = next((c for c in history.cases if c.case_id == known.case_id), None)
    cancel = (
        case is not None
        and case.status == "open"
        and not case.picked_up
        and case.active_signals <= 1
    )
    return WithdrawSignal(known, case, cancel_case=cancel)


def _reject(field_name: str, problem: str) -> Rejected:
    return Rejected((FieldProblem(field_name, problem),))
