"""The PII-free facts the management report is computed from, and the pure fold that keeps
them from the event log (DESIGN §8).

Three kinds of facts, kept by one fold:

- ``CaseFacts``: per case, what the referrals of the case share (household, wijk, partner
  types, earliest signal date, the day the first signal was received) and, when intake or
  routing closed the case itself, its outcome;
- ``ReferralRecord``: per referral, its own dates (requested, SLA due dates, claimed, first
  attempt, first reached, closed or ended) and outcome;
- ``SignalFacts``: per signal, what the signal mix counts.

A report reads ``ReferralFacts``: a referral record joined with its case. **Cases closed
without a team** count in the outcome figures too: routing closes a case with an outcome
(``CaseRouted`` with an outcome, always followed by ``CaseClosed``) and intake closes a repeat
signal's case (``CaseClosed`` "Niet opgepakt: herhaalde melding"); neither has a referral.
Each ``CaseClosed`` therefore becomes one more closed item, ``kind="case"``, keyed by the
case id, with no project or team. Its outcome is always one of the "not picked up" outcomes,
so it adds to the closed count and the outcome counts but never to bereik, hulpacceptatie or
the no-contact rate. A case a team closes ends with ``ReferralClosed`` only (nothing writes
``CaseClosed`` for it), so no case is counted twice. ``CaseRouted`` itself adds nothing:
the referral it places is a ``ReferralRequested``, the outcome it closes with a ``CaseClosed``.

Decisions:

- dates of the municipality: a datetime (``claimed_at``, ``rerouted_at``, ``recorded_at``)
  becomes its Europe/Amsterdam date;
- ``received_on`` is the day the case's first signal was recorded; the earliest signal date
  is the lowest ``signal_date`` of the signals received for the case (a later update with a
  new signal date does not move it);
- partner types of a case are those of every signal ever attached (a withdrawn signal still
  shows what came in);
- ``claimed_on`` is the first claim: a release puts the referral back in the queue but the
  case was picked up once (DDAS datum opgepakt stays), so caseload counts it as claimed
  from then on.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from events.catalogue.cases import CaseClosed, CaseOpened, SignalAttachedToCase
from events.catalogue.referrals import (
    ContactAttemptRecorded,
    ReferralCancelled,
    ReferralClaimed,
    ReferralClosed,
    ReferralRequested,
    ReferralRerouted,
)
from events.catalogue.signals import SignalReceived
from events.catalogue.vocabulary import Outcome
from events.envelope import RecordedEvent
from services.clock import MUNICIPAL_TIME_ZONE

FactKind = Literal["referral", "case"]


def municipal_date(moment: datetime) -> date:
    """The Dutch calendar day of an aware moment."""
    return moment.astimezone(MUNICIPAL_TIME_ZONE).date()


@dataclass(slots=True)
class CaseFacts:
    case_id: uuid.UUID
    household_id: uuid.UUID
    gemeentecode: str
    pc4: str
    wijk: str | None
    """From the PC4 via ``wijken.toml``; ``None`` outside every wijk."""
    partner_types: tuple[str, ...]
    """Sorted, distinct DDAS partner types of the case's signals."""
    earliest_signal_date: date | None
    received_on: date
    outcome: Outcome | None = None
    """Set when intake or routing closed the case itself (``CaseClosed``)."""
    closed_on: date | None = None


@dataclass(slots=True)
class ReferralRecord:
    """A referral's own facts, without those of its case."""

    referral_id: uuid.UUID
    case_id: uuid.UUID
    project: str
    team: str
    urgent: bool
    requested_on: date
    first_contact_due: date
    closure_due: date
    claimed_on: date | None = None
    first_attempt_on: date | None = None
    first_reached_on: date | None = None
    attempts: int = 0
    closed_on: date | None = None
    outcome: Outcome | None = None
    ended_on: date | None = None
    """The day it was rerouted or cancelled."""
    ended_how: Literal["rerouted", "cancelled"] | None = None


@dataclass(slots=True)
class SignalFacts:
    signal_id: uuid.UUID
    partner_id: str
    partner_type: str
    kind: str
    crisis: bool
    signal_date: date
    received_on: date
    household_id: uuid.UUID
    gemeentecode: str
    in_municipality: bool
    case_id: uuid.UUID | None = None


@dataclass(slots=True)
class ReferralFacts:
    """One item of work as reports count it: a referral joined with its case, or
    (``kind="case"``) a case closed without a team (see the module docstring)."""

    kind: FactKind
    referral_id: uuid.UUID
    """The referral id; for ``kind="case"`` the case id."""
    case_id: uuid.UUID
    household_id: uuid.UUID | None
    """``None`` only for a referral whose ``CaseOpened`` the fold never saw."""
    project: str | None
    team: str | None
    wijk: str | None
    partner_types: tuple[str, ...]
    earliest_signal_date: date | None
    received_on: date | None
    urgent: bool
    requested_on: date | None
    first_contact_due: date | None
    closure_due: date | None
    claimed_on: date | None
    first_attempt_on: date | None
    first_reached_on: date | None
    attempts: int
    closed_on: date | None
    outcome: Outcome | None
    ended_on: date | None
    ended_how: str | None

    @property
    def reached(self) -> bool:
        """At least one contact attempt reached the resident."""
        return self.first_reached_on is not None


def join(record: ReferralRecord, case: CaseFacts | None) -> ReferralFacts:
    return ReferralFacts(
        kind="referral",
        referral_id=record.referral_id,
        case_id=record.case_id,
        household_id=case.household_id if case else None,
        project=record.project,
        team=record.team,
        wijk=case.wijk if case else None,
        partner_types=case.partner_types if case else (),
        earliest_signal_date=case.earliest_signal_date if case else None,
        received_on=case.received_on if case else None,
        urgent=record.urgent,
        requested_on=record.requested_on,
        first_contact_due=record.first_contact_due,
        closure_due=record.closure_due,
        claimed_on=record.claimed_on,
        first_attempt_on=record.first_attempt_on,
        first_reached_on=record.first_reached_on,
        attempts=record.attempts,
        closed_on=record.closed_on,
        outcome=record.outcome,
        ended_on=record.ended_on,
        ended_how=record.ended_how,
    )


def case_closure(case: CaseFacts) -> ReferralFacts:
    """A case closed by intake or routing, as one closed item without project or team."""
    return ReferralFacts(
        kind="case",
        referral_id=case.case_id,
        case_id=case.case_id,
        household_id=case.household_id,
        project=None,
        team=None,
        wijk=case.wijk,
        partner_types=case.partner_types,
        earliest_signal_date=case.earliest_signal_date,
        received_on=case.received_on,
        urgent=False,
        requested_on=None,
        first_contact_due=None,
        closure_due=None,
        claimed_on=None,
        first_attempt_on=None,
        first_reached_on=None,
        attempts=0,
        closed_on=case.closed_on,
        outcome=case.outcome,
        ended_on=None,
        ended_how=None,
    )


@dataclass
class ReportState:
    """The facts as far as the fold has got. ``changed_*`` name the rows a fold touched, so
    the projection writes only those back."""

    wijk_of: Mapping[tuple[str, str], str]
    """``(gemeentecode, pc4)`` → wijk id, from ``wijken.toml``."""
    cases: dict[uuid.UUID, CaseFacts] = field(default_factory=dict)
    referrals: dict[uuid.UUID, ReferralRecord] = field(default_factory=dict)
    signals: dict[uuid.UUID, SignalFacts] = field(default_factory=dict)
    last_position: int = 0
    changed_cases: set[uuid.UUID] = field(default_factory=set)
    changed_referrals: set[uuid.UUID] = field(default_factory=set)
    changed_signals: set[uuid.UUID] = field(default_factory=set)

    def referral_facts(self) -> list[ReferralFacts]:
        """Every referral joined with its case, then every case closed without a team; in
        id order, so two states with the same facts give equal lists."""
        items = [join(r, self.cases.get(r.case_id)) for r in self.referrals.values()]
        items += [case_closure(c) for c in self.cases.values() if c.outcome is not None]
        return sorted(items, key=lambda item: (item.kind, item.referral_id))

    def signal_facts(self) -> list[SignalFacts]:
        return sorted(self.signals.values(), key=lambda signal: signal.signal_id)


def wijk_lookup(wijken: Iterable[tuple[str, Iterable[str], str]]) -> dict[tuple[str, str], str]:
    """``(gemeentecode, pc4)`` → wijk id from ``(gemeentecode, pc4s, wijk id)`` triples."""
    return {(code, pc4): wijk for code, pc4s, wijk in wijken for pc4 in pc4s}


def needed_ids(
    page: Iterable[RecordedEvent],
) -> tuple[set[uuid.UUID], set[uuid.UUID], set[uuid.UUID]]:
    """The case, referral and signal ids whose stored facts folding ``page`` reads or changes.

    An id whose first event in the page creates it (``SignalReceived``, ``CaseOpened``,
    ``ReferralRequested``) has no stored facts to read: each of those is the first event of a
    new stream, appended once.
    """
    cases: set[uuid.UUID] = set()
    referrals: set[uuid.UUID] = set()
    signals: set[uuid.UUID] = set()
    created: set[uuid.UUID] = set()

    def need(ids: set[uuid.UUID], key: uuid.UUID) -> None:
        if key not in created:
            ids.add(key)

    for recorded in page:
        event: Any = recorded.event
        kind = type(event)
        if kind is SignalReceived:
            if event.signal_id not in signals:
                created.add(event.signal_id)
        elif kind is CaseOpened:
            if event.case_id not in cases:
                created.add(event.case_id)
            need(signals, event.first_signal_id)
        elif kind is SignalAttachedToCase:
            need(cases, event.case_id)
            need(signals, event.signal_id)
        elif kind is CaseClosed:
            need(cases, event.case_id)
        elif kind is ReferralRequested:
            if event.referral_id not in referrals:
                created.add(event.referral_id)
        elif kind in _REFERRAL_CHANGES:
            need(referrals, event.referral_id)
    return cases, referrals, signals


def fold(state: ReportState, recorded: RecordedEvent) -> ReportState:
    """Fold one event into ``state`` (changed in place, and returned). Pure: no I/O, and the
    result depends only on the state and the event. Events of other kinds are skipped."""
    if recorded.position > state.last_position:
        state.last_position = recorded.position
    # By exact type, not isinstance: pydantic's ABC checks cost more than the fold itself.
    handler = _HANDLERS.get(type(recorded.event))
    if handler is not None:
        handler(state, recorded)
    return state


def _signal_received(state: ReportState, recorded: RecordedEvent) -> None:
    event: SignalReceived = recorded.event  # type: ignore[assignment]
    known = state.signals.get(event.signal_id)
    state.signals[event.signal_id] = SignalFacts(
        signal_id=event.signal_id,
        partner_id=event.partner_id,
        partner_type=event.partner_type.value,
        kind=event.kind.value,
        crisis=event.crisis,
        signal_date=event.signal_date,
        received_on=municipal_date(recorded.recorded_at),
        household_id=event.household_id,
        gemeentecode=event.gemeentecode,
        in_municipality=event.in_municipality,
        case_id=known.case_id if known else None,
    )
    state.changed_signals.add(event.signal_id)


def _case_opened(state: ReportState, recorded: RecordedEvent) -> None:
    event: CaseOpened = recorded.event  # type: ignore[assignment]
    first = state.signals.get(event.first_signal_id)
    state.cases[event.case_id] = CaseFacts(
        case_id=event.case_id,
        household_id=event.household_id,
        gemeentecode=event.gemeentecode,
        pc4=event.pc4,
        wijk=state.wijk_of.get((event.gemeentecode, event.pc4)),
        partner_types=(event.partner_type.value,),
        earliest_signal_date=first.signal_date if first else None,
        received_on=first.received_on if first else municipal_date(recorded.recorded_at),
    )
    state.changed_cases.add(event.case_id)
    _attach_signal(state, event.first_signal_id, event.case_id)


def _signal_attached(state: ReportState, recorded: RecordedEvent) -> None:
    event: SignalAttachedToCase = recorded.event  # type: ignore[assignment]
    case = state.cases.get(event.case_id)
    if case is not None:
        case.partner_types = tuple(sorted({*case.partner_types, event.partner_type.value}))
        signal = state.signals.get(event.signal_id)
        if signal is not None and (
            case.earliest_signal_date is None or signal.signal_date < case.earliest_signal_date
        ):
            case.earliest_signal_date = signal.signal_date
        state.changed_cases.add(event.case_id)
    _attach_signal(state, event.signal_id, event.case_id)


def _case_closed(state: ReportState, recorded: RecordedEvent) -> None:
    event: CaseClosed = recorded.event  # type: ignore[assignment]
    case = state.cases.get(event.case_id)
    if case is not None:
        case.outcome, case.closed_on = event.outcome, event.closed_on
        state.changed_cases.add(event.case_id)


def _referral_requested(state: ReportState, recorded: RecordedEvent) -> None:
    event: ReferralRequested = recorded.event  # type: ignore[assignment]
    if event.referral_id in state.referrals:
        return
    state.referrals[event.referral_id] = ReferralRecord(
        referral_id=event.referral_id,
        case_id=event.case_id,
        project=event.project,
        team=event.team,
        urgent=event.urgent,
        requested_on=event.requested_on,
        first_contact_due=event.first_contact_due,
        closure_due=event.closure_due,
    )
    state.changed_referrals.add(event.referral_id)


def _referral_changed(state: ReportState, recorded: RecordedEvent) -> None:
    event: Any = recorded.event
    record = state.referrals.get(event.referral_id)
    if record is not None:
        _fold_referral(record, event)
        state.changed_referrals.add(event.referral_id)


def _attach_signal(state: ReportState, signal_id: uuid.UUID, case_id: uuid.UUID) -> None:
    signal = state.signals.get(signal_id)
    if signal is not None and signal.case_id != case_id:
        signal.case_id = case_id
        state.changed_signals.add(signal_id)


def _fold_referral(record: ReferralRecord, event: object) -> None:
    match event:
        case ReferralClaimed():
            if record.claimed_on is None:
                record.claimed_on = municipal_date(event.claimed_at)
        case ContactAttemptRecorded():
            record.attempts += 1
            on = event.attempted_on
            if record.first_attempt_on is None or on < record.first_attempt_on:
                record.first_attempt_on = on
            if event.reached and (record.first_reached_on is None or on < record.first_reached_on):
                record.first_reached_on = on
        case ReferralClosed():
            record.closed_on, record.outcome = event.closed_on, event.outcome
        case ReferralRerouted():
            record.ended_on, record.ended_how = municipal_date(event.rerouted_at), "rerouted"
        case ReferralCancelled():
            record.ended_on, record.ended_how = municipal_date(event.cancelled_at), "cancelled"


_REFERRAL_CHANGES: frozenset[type] = frozenset(
    {
        ReferralClaimed,
        ContactAttemptRecorded,
        ReferralClosed,
        ReferralRerouted,
        ReferralCancelled,
    }
)
_HANDLERS: dict[type, Callable[[ReportState, RecordedEvent], None]] = {
    SignalReceived: _signal_received,
    CaseOpened: _case_opened,
    SignalAttachedToCase: _signal_attached,
    CaseClosed: _case_closed,
    ReferralRequested: _referral_requested,
    **dict.fromkeys(_REFERRAL_CHANGES, _referral_changed),
}
