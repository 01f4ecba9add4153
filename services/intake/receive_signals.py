"""Intake's use case: record a batch of submitted signals, each ending accepted, duplicate or
rejected with reasons — all of the batch in one transaction (DESIGN §5).

validate (the adapter did) → deduplicate → record the signal → match the household → open,
attach, update, withdraw or close as repeat. Personal data goes to the personal-data store;
events carry ids, PC4, age band and amounts only.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from operator import attrgetter
from typing import Literal

from events.catalogue.cases import (
    CaseCancelled,
    CaseClosed,
    CaseOpened,
    CaseSignalUpdated,
    CaseSignalWithdrawn,
    SignalAttachedToCase,
)
from events.catalogue.referrals import ReferralCancelled
from events.catalogue.signals import (
    RejectionReason,
    SignalReceived,
    SignalRejected,
    SignalUpdated,
    SignalWithdrawn,
)
from events.catalogue.vocabulary import Channel, Outcome
from events.envelope import Metadata, NewEvent, StreamAppend, StreamState
from events.store import SqlEventStore
from events.store.gc_pause import paused_garbage_collection
from services.clock import today
from services.intake.commands import FieldProblem, PersonalDetails, ReceiveSignal
from services.intake.decide import (
    AttachToCase,
    CaseState,
    Decision,
    Duplicate,
    KnownSignal,
    OpenCase,
    Rejected,
    UpdateSignal,
    WithdrawSignal,
    decide,
)
from services.intake.identity import signal_id_for
from services.intake.rules import IntakeRules
from services.intake.state import IntakeState, load_state, match_keys, save_state
from services.municipalities import Municipalities
from services.partners import Partners
from services.routing.route_case import CaseRouter

_COMMAND_FIELDS = tuple(f.name for f in fields(ReceiveSignal) if f.name != "person")
_PERSON_FIELDS = tuple(f.name for f in fields(PersonalDetails))
_command_values = attrgetter(*_COMMAND_FIELDS)
_person_values = attrgetter(*_PERSON_FIELDS)
_PERSON_FIELDS_SORTED = tuple(sorted(_PERSON_FIELDS))
REJECTION_NAMESPACE = uuid.UUID("9b5e0c1a-2d3f-4e5a-8b6c-0141de1ec7ed")


@dataclass(frozen=True)
class Prepared:
    """What intake derives from a command alone, whatever it knows: computed ahead where the
    adapter has the time for it (the file channel's parser process), else by intake."""

    digest: str
    """``content_hash`` of the command."""
    match_keys: tuple[str, ...]
    """``match_keys`` of its person; empty without one."""
    person_json: str | None
    """Its person as kept in the personal-data store; ``None`` without one."""


def prepare(command: ReceiveSignal) -> Prepared:
    person = command.person
    if person is None:
        return Prepared(content_hash(command), (), None)
    return Prepared(content_hash(command), tuple(match_keys(person)), _person_json(person))


@dataclass(frozen=True)
class Submission:
    """One message as an adapter received it: parsed into a command, or the problems found."""

    partner_id: str
    channel: Channel
    raw: str
    parsed: ReceiveSignal | Sequence[FieldProblem]
    line_number: int | None = None
    correlation_id: str | None = None
    message_id: str | None = None  # the CloudEvent id, file:line, ...
    prepared: Prepared | None = None
    """``prepare(parsed)``, when the adapter computed it already."""


@dataclass(frozen=True)
class IntakeOutcome:
    status: Literal["accepted", "duplicate", "rejected"]
    signal_id: uuid.UUID | None = None
    case_id: uuid.UUID | None = None
    reasons: tuple[FieldProblem, ...] = ()
    rejection_id: uuid.UUID | None = None
    line_number: int | None = None


def content_hash(command: ReceiveSignal) -> str:
    """A digest of everything the partner said. Stored, so it must not change with the
    Python version: plain ``str`` of each value in field order (enums are StrEnums, whose
    ``str`` is their value)."""
    values = list(_command_values(command))
    person = command.person
    if person is not None:
        values += _person_values(person)
    text = "\x1f".join(["" if v is None else str(v) for v in values])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def age_band(birth_date: date | None, on: date) -> str | None:
    if birth_date is None:
        return None
    age = on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))
    for upper, band in ((17, "0-17"), (27, "18-27"), (44, "28-44"), (66, "45-66")):
        if age <= upper:
            return band
    return "67+"


@dataclass
class _Batch:
    state: IntakeState
    prepared: dict[int, Prepared] = field(default_factory=dict)
    """``prepare`` of each command, by ``id`` of the command (computed once)."""
    appends: list[StreamAppend] = field(default_factory=list)
    rejection_ids: set[uuid.UUID] = field(default_factory=set)


class SignalIntake:
    def __init__(
        self,
        store: SqlEventStore,
        partners: Partners,
        municipalities: Municipalities,
        rules: IntakeRules,
        router: CaseRouter | None = None,
        clock: Callable[[], date] = today,
    ) -> None:
        self.store = store
        self.partners = partners
        self.municipalities = municipalities
        self.rules = rules
        self.router = router
        self.clock = clock

    async def receive(self, submissions: Sequence[Submission]) -> list[IntakeOutcome]:
        """Record every submission; returns one outcome per submission, in order."""
        commands = [s.parsed for s in submissions if isinstance(s.parsed, ReceiveSignal)]
        prepared = {
            id(s.parsed): s.prepared or prepare(s.parsed)
            for s in submissions
            if isinstance(s.parsed, ReceiveSignal)
        }
        # The cyclic collector waits for the whole batch: a batch builds tens of thousands of
        # objects that all live until it commits, and full collections kept rescanning them
        # (100,000 signals: ~5 s of collections); reference counting frees them afterwards.
        with paused_garbage_collection():
            async with self.store.unit_of_work() as uow:
                # Decide on a consistent picture: no other writer changes intake state meanwhile.
                await uow.lock()
                state = await load_state(
                    uow.connection,
                    [(c.partner_id, c.partner_signal_id) for c in commands],
                    [k for p in prepared.values() for k in p.match_keys],
                )
                batch = _Batch(state, prepared=prepared)
                outcomes = [self._receive_one(batch, s) for s in submissions]
                await save_state(uow.connection, state)
                await uow.append_many(batch.appends)
        return outcomes

    def _receive_one(self, batch: _Batch, submission: Submission) -> IntakeOutcome:
        command = submission.parsed
        if not isinstance(command, ReceiveSignal):
            return self._reject(batch, submission, tuple(command), None)
        partner = self.partners.get(command.partner_id)
        if partner is None or not partner.may_send(command.partner_type):
            problem = FieldProblem(
                "signaalpartnerType",
                f"partner {command.partner_id} may not send {command.partner_type.value}",
            )
            return self._reject(batch, submission, (problem,), command.partner_signal_id)
        digest = self._prepared(batch, command).digest
        known = batch.state.signals.get((command.partner_id, command.partner_signal_id))
        household = self._household(batch, command, known)
        decision = decide(command, digest, known, batch.state.history(household), self.rules)
        return self._apply(batch, submission, command, digest, household, decision)

    def _household(
        self, batch: _Batch, command: ReceiveSignal, known: KnownSignal | None
    ) -> uuid.UUID:
        if known is not None:
            return known.household_id
        if command.person is None:
            return uuid.uuid4()  # an intrekking of an unknown signal: rejected anyway
        return batch.state.resolve_household(list(self._prepared(batch, command).match_keys))

    @staticmethod
    def _prepared(batch: _Batch, command: ReceiveSignal) -> Prepared:
        prepared = batch.prepared.get(id(command))
        if prepared is None:  # not submitted through receive (never, but cheap to be sure)
            prepared = batch.prepared[id(command)] = prepare(command)
        return prepared

    def _apply(
        self,
        batch: _Batch,
        submission: Submission,
        command: ReceiveSignal,
        digest: str,
        household: uuid.UUID,
        decision: Decision,
    ) -> IntakeOutcome:
        line = submission.line_number
        match decision:
            case Duplicate(signal_id):
                known = batch.state.signals[(command.partner_id, command.partner_signal_id)]
                return IntakeOutcome("duplicate", signal_id, known.case_id, line_number=line)
            case Rejected(reasons):
                return self._reject(batch, submission, reasons, command.partner_signal_id)
            case OpenCase() | AttachToCase():
                return self._accept_new(batch, submission, command, digest, household, decision)
            case UpdateSignal(known):
                return self._update(batch, submission, command, digest, known)
            case WithdrawSignal():
                return self._withdraw(batch, submission, command, decision)
        raise AssertionError(f"unhandled decision {decision!r}")  # pragma: no cover

    def _metadata(self, submission: Submission, signal_id: uuid.UUID) -> Metadata:
        partner = self.partners.get(submission.partner_id)
        return Metadata(
            correlation_id=submission.correlation_id or str(signal_id),
            causation_id=submission.message_id,
            actor=f"partner:{submission.partner_id}",
            source=partner.source if partner else None,
        )

    def _accept_new(
        self,
        batch: _Batch,
        submission: Submission,
        command: ReceiveSignal,
        digest: str,
        household: uuid.UUID,
        decision: OpenCase | AttachToCase,
    ) -> IntakeOutcome:
        assert command.person is not None
        assert command.amount is not None
        state = batch.state
        signal_id = signal_id_for(command.partner_id, command.partner_signal_id)
        metadata = self._metadata(submission, signal_id)
        pc4 = command.person.postcode[:4]
        municipality = self.municipalities.for_pc4(pc4)
        received = SignalReceived(
            signal_id=signal_id,
            partner_id=command.partner_id,
            partner_signal_id=command.partner_signal_id,
            partner_type=command.partner_type,
            kind=command.kind,
            amount=command.amount,
            origin_date=command.origin_date,
            signal_date=command.signal_date,
            days_in_arrears=command.days_in_arrears,
            months_in_arrears=command.months_in_arrears,
            crisis=command.crisis,
            warm_handover=command.warm_handover,
            household_id=household,
            gemeentecode=(municipality or self.municipalities.default).code,
            in_municipality=municipality is not None,
            pc4=pc4,
            age_band=age_band(command.person.birth_date, command.signal_date),
            channel=submission.channel,
        )
        event_id = _event_ids(signal_id, digest)
        batch.appends.append(
            StreamAppend(
                f"signal-{signal_id}",
                [NewEvent(received, metadata, next(event_id))],
                StreamState.NO_STREAM,
            )
        )
        if isinstance(decision, AttachToCase):
            case = decision.case
            case.active_signals += 1
            state.case_changed(case)
            attached = SignalAttachedToCase(
                case_id=case.case_id, signal_id=signal_id, partner_type=command.partner_type
            )
            batch.appends.append(
                StreamAppend(f"case-{case.case_id}", [NewEvent(attached, metadata, next(event_id))])
            )
        else:
            case = self._open_case(batch, command, household, signal_id, metadata, event_id)
            if decision.repeat_of is not None:
                self._close_as_repeat(batch, case, command, decision.repeat_of, metadata, event_id)
        state.add_signal(
            KnownSignal(
                partner_id=command.partner_id,
                partner_signal_id=command.partner_signal_id,
                signal_id=signal_id,
                household_id=household,
                case_id=case.case_id,
                original_hash=digest,
                last_hash=digest,
                amount=command.amount,
                signal_date=command.signal_date,
                partner_type=command.partner_type.value,
                kind=command.kind.value,
                crisis=command.crisis,
                warm_handover=command.warm_handover,
                age_band=received.age_band,
            )
        )
        person_json = self._prepared(batch, command).person_json
        assert person_json is not None  # a new signal has a person
        state.keep_personal_data(signal_id, household, "signal", person_json)
        self._route(batch, case, household, metadata, event_id)
        return IntakeOutcome(
            "accepted", signal_id, case.case_id, line_number=submission.line_number
        )

    def _route(
        self,
        batch: _Batch,
        case: CaseState,
        household: uuid.UUID,
        metadata: Metadata,
        event_id: _EventIds,
    ) -> None:
        """(Re)route the case now that this signal is part of it (after every signal of the
        same household earlier in the batch, so the facts are complete)."""
        if self.router is None:
            return
        state = batch.state
        routed = self.router.route_case(
            case,
            state.history(household),
            state.project_load,
            self.clock(),
            at=self.store.clock(),
        )
        if routed is None:
            return
        state.case_changed(case)
        batch.appends.append(
            StreamAppend(
                f"case-{case.case_id}",
                [NewEvent(e, metadata, next(event_id)) for e in routed.case_events],
            )
        )
        for referral_id, events in routed.referral_events.items():
            batch.appends.append(
                StreamAppend(
                    f"referral-{referral_id}",
                    [NewEvent(e, metadata, next(event_id)) for e in events],
                )
            )

    def _open_case(
        self,
        batch: _Batch,
        command: ReceiveSignal,
        household: uuid.UUID,
        signal_id: uuid.UUID,
        metadata: Metadata,
        event_id: _EventIds,
    ) -> CaseState:
        assert command.person is not None
        pc4 = command.person.postcode[:4]
        local = self.municipalities.for_pc4(pc4)
        municipality = local or self.municipalities.default
        case = CaseState(
            case_id=uuid.uuid5(signal_id, "case"),
            household_id=household,
            window_starts=command.signal_date,
            window_ends=command.signal_date + timedelta(days=self.rules.window_days),
            gemeentecode=municipality.code,
            pc4=pc4,
            in_municipality=local is not None,
        )
        batch.state.add_case(case)
        opened = CaseOpened(
            case_id=case.case_id,
            household_id=household,
            gemeentecode=municipality.code,
            pc4=pc4,
            first_signal_id=signal_id,
            partner_type=command.partner_type,
            matching_window_starts=case.window_starts,
            matching_window_ends=case.window_ends,
        )
        batch.appends.append(
            StreamAppend(
                f"case-{case.case_id}",
                [NewEvent(opened, metadata, next(event_id))],
                StreamState.NO_STREAM,
            )
        )
        return case

    def _close_as_repeat(
        self,
        batch: _Batch,
        case: CaseState,
        command: ReceiveSignal,
        earlier: KnownSignal,
        metadata: Metadata,
        event_id: _EventIds,
    ) -> None:
        case.status = "closed"
        case.outcome = Outcome.REPEAT_SIGNAL.value
        closed = CaseClosed(
            case_id=case.case_id,
            outcome=Outcome.REPEAT_SIGNAL,
            closed_on=command.signal_date,
            reason=(
                f"same partner signalled this household on {earlier.signal_date} for "
                f"EUR {earlier.amount}; the new amount is not higher"
            ),
        )
        batch.appends.append(
            StreamAppend(f"case-{case.case_id}", [NewEvent(closed, metadata, next(event_id))])
        )

    def _update(
        self,
        batch: _Batch,
        submission: Submission,
        command: ReceiveSignal,
        digest: str,
        known: KnownSignal,
    ) -> IntakeOutcome:
        assert command.amount is not None
        metadata = self._metadata(submission, known.signal_id)
        event_id = _event_ids(known.signal_id, digest)
        updated = SignalUpdated(
            signal_id=known.signal_id,
            amount=command.amount,
            previous_amount=known.amount,
            signal_date=command.signal_date,
            days_in_arrears=command.days_in_arrears,
            months_in_arrears=command.months_in_arrears,
            channel=submission.channel,
        )
        on_case = CaseSignalUpdated(
            case_id=known.case_id, signal_id=known.signal_id, amount=command.amount
        )
        batch.appends.append(
            StreamAppend(f"signal-{known.signal_id}", [NewEvent(updated, metadata, next(event_id))])
        )
        batch.appends.append(
            StreamAppend(f"case-{known.case_id}", [NewEvent(on_case, metadata, next(event_id))])
        )
        known.amount = command.amount
        known.signal_date = command.signal_date
        known.last_hash = digest
        batch.state.signal_changed(known)
        person_json = self._prepared(batch, command).person_json
        if person_json is not None:
            batch.state.keep_personal_data(
                next(event_id), known.household_id, "signal-update", person_json
            )
        return IntakeOutcome(
            "accepted", known.signal_id, known.case_id, line_number=submission.line_number
        )

    def _withdraw(
        self,
        batch: _Batch,
        submission: Submission,
        command: ReceiveSignal,
        decision: WithdrawSignal,
    ) -> IntakeOutcome:
        known = decision.known
        metadata = self._metadata(submission, known.signal_id)
        event_id = _event_ids(known.signal_id, "withdrawn")
        withdrawn = SignalWithdrawn(
            signal_id=known.signal_id, signal_date=command.signal_date, channel=submission.channel
        )
        batch.appends.append(
            StreamAppend(
                f"signal-{known.signal_id}", [NewEvent(withdrawn, metadata, next(event_id))]
            )
        )
        known.withdrawn = True
        batch.state.signal_changed(known)
        case = decision.case
        if case is not None:
            case.active_signals = max(0, case.active_signals - 1)
            case_events = [
                NewEvent(
                    CaseSignalWithdrawn(
                        case_id=case.case_id,
                        signal_id=known.signal_id,
                        signals_left=case.active_signals,
                    ),
                    metadata,
                    next(event_id),
                )
            ]
            if decision.cancel_case:
                reason = "every signal was withdrawn before the case was picked up"
                case.status = "cancelled"
                case_events.append(
                    NewEvent(
                        CaseCancelled(case_id=case.case_id, reason=reason),
                        metadata,
                        next(event_id),
                    )
                )
                if case.referral_id is not None:
                    # The team's queue must not keep a referral for a case that is gone; the
                    # cancel also tells the team over its subject (outbox).
                    cancelled = ReferralCancelled(
                        referral_id=case.referral_id,
                        reason=reason,
                        cancelled_at=self.store.clock(),
                    )
                    batch.appends.append(
                        StreamAppend(
                            f"referral-{case.referral_id}",
                            [NewEvent(cancelled, metadata, next(event_id))],
                        )
                    )
                    load = batch.state.project_load
                    if case.project is not None and load.get(case.project, 0) > 0:
                        load[case.project] -= 1
            batch.state.case_changed(case)
            batch.appends.append(StreamAppend(f"case-{case.case_id}", case_events))
        return IntakeOutcome(
            "accepted", known.signal_id, known.case_id, line_number=submission.line_number
        )

    def _reject(
        self,
        batch: _Batch,
        submission: Submission,
        reasons: tuple[FieldProblem, ...],
        partner_signal_id: str | None,
    ) -> IntakeOutcome:
        if not reasons:
            reasons = (FieldProblem("(signal)", "the signal could not be read"),)
        # Derived from the message, so a redelivered rejected message is recorded once.
        rejection_id = uuid.uuid5(
            REJECTION_NAMESPACE,
            f"{submission.partner_id}/{submission.message_id}/{submission.line_number}/"
            + hashlib.sha256(submission.raw.encode("utf-8", "replace")).hexdigest(),
        )
        if rejection_id in batch.rejection_ids:
            return IntakeOutcome(
                "rejected",
                reasons=reasons,
                rejection_id=rejection_id,
                line_number=submission.line_number,
            )
        batch.rejection_ids.add(rejection_id)
        rejected = SignalRejected(
            rejection_id=rejection_id,
            partner_id=submission.partner_id,
            partner_signal_id=(partner_signal_id or "")[:100] or None,
            channel=submission.channel,
            reasons=tuple(RejectionReason(field=r.field, problem=r.problem) for r in reasons),
            line_number=submission.line_number,
        )
        metadata = self._metadata(submission, rejection_id)
        batch.appends.append(
            StreamAppend(
                f"rejection-{rejection_id}",
                [NewEvent(rejected, metadata, rejection_id)],
                StreamState.NO_STREAM,
            )
        )
        batch.state.keep_personal_data(rejection_id, None, "rejected-input", submission.raw)
        return IntakeOutcome(
            "rejected",
            reasons=reasons,
            rejection_id=rejection_id,
            line_number=submission.line_number,
        )


class _EventIds:
    """Deterministic event ids per signal message: a redelivered message gets the same ids,
    so the store reports it as a duplicate even if the intake index were bypassed."""

    def __init__(self, signal_id: uuid.UUID, digest: str) -> None:
        self._signal_id = signal_id
        self._digest = digest
        self._n = 0

    def __next__(self) -> uuid.UUID:
        self._n += 1
        return uuid.uuid5(self._signal_id, f"{self._digest}/{self._n}")


def _event_ids(signal_id: uuid.UUID, digest: str) -> _EventIds:
    return _EventIds(signal_id, digest)


def _person_json(person: PersonalDetails) -> str:
    # As json.dumps(<the fields>, default=str, ensure_ascii=False, sort_keys=True) writes it:
    # keys in sorted order, the birth date (the one non-JSON value) as its str().
    values = {}
    for name in _PERSON_FIELDS_SORTED:
        value = getattr(person, name)
        values[name] = str(value) if isinstance(value, date) else value
    return _PERSON_ENCODER.encode(values)


_PERSON_ENCODER = json.JSONEncoder(ensure_ascii=False)
