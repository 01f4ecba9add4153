"""The DDAS delivery of a period as a pure fold over the event log (DESIGN §8, issue 5 item 4).

No I/O: feed it ``RecordedEvent``s in log order (``DeliveryFold.apply`` or ``fold_delivery``),
get the period's ``vroegsignalen`` and ``vroegsignaalzaken`` as plain data, and render them as
DDAS uitwisselmodel v0.9 fragments with ``vroegsignaal`` and ``vroegsignaalzaak``. Personal
data is not in the events; the ``client`` block is made from what ``personal_details`` loads.

Which period a fact belongs to
------------------------------
Every event has a *date*: the business date it carries (a signal's ``signaal_date``, a
referral's ``requested_on``, a claim's ``claimed_at``, a contact attempt's ``attempted_on``,
a closure's ``closed_on``; instants as dates in Europe/Amsterdam). A case event written by
intake together with a signal event has that signal event's date (``CaseOpened``: its first
signal; ``SignalAttachedToCase``, ``CaseSignalUpdated``, ``CaseSignalWithdrawn``: the signal's
message; ``CaseCancelled``: the withdrawal that emptied the case).

* **As at the end of the period.** Events dated after the period's last day are left out, so
  a delivery describes the period as it stood at its end and a re-run gives the same file
  whenever it is made, until a fact dated inside the period is recorded late (a correction).
* **vroegsignalen**: every accepted signal whose ``signaaldatum`` (of its ``SignalReceived``)
  lies in the period; consecutive periods deliver each signal exactly once.
* **vroegsignaalzaken**: every case with DDAS-visible activity in the period: opened or a
  signal matched to it, first picked up, a contact attempt, or closed or cancelled. A case
  that runs for months is delivered in each period in which something happened to it, with
  its state at that period's end; its ``vroegsignalen`` ids (the zaak has no id of its own in
  DDAS) tie the deliveries together.

Field mapping
-------------
* ``ID``: the hub's signal id (the partner's own id is the partner's business).
* ``bedrag``: the amount after every update dated in or before the period, in whole euros
  (the schema's ``bedrag`` is an integer), rounded half up.
* ``status`` (EnumSignaalstatus, only not-picked-up states exist in DDAS):
  the case was picked up (claimed) → no ``status`` (``datum_opgepakt`` and ``resultaat`` of its
  zaak tell what happened); the case ended unclaimed with an outcome that is a signal status
  (herhaalde melding, onterecht signaal, overleden, geen inwoner, andere reden) → that value;
  ended unclaimed otherwise (cancelled, or another outcome) or the signal was withdrawn →
  "Niet opgepakt: andere reden"; else → "Nog niet opgepakt".
* ``resultaat``: the ``ReferralClosed`` outcome; else the ``CaseClosed`` outcome (routing or the
  DDAS repeat rule); a case cancelled because all its signals were withdrawn → "Niet opgepakt:
  andere reden"; an open case has none.
* ``matchingsdatum``: the day (Europe/Amsterdam) the hub recorded ``CaseOpened`` — the hub
  matches as it receives; ``startdatum_matchtingperiode`` / ``einddatum_matchingperiode``: the
  case's matching window (the schema's spelling of "matchting" is kept).
* ``datum_opgepakt``: the first ``ReferralClaimed`` of any of the case's referrals (a release
  and re-claim does not move it).
* ``contactpogingen``: every ``ContactAttemptRecorded`` of the case's referrals, by date.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Final

from events.catalogue.cases import (
    CaseCancelled,
    CaseClosed,
    CaseOpened,
    CaseSignalUpdated,
    CaseSignalWithdrawn,
    SignalAttachedToCase,
)
from events.catalogue.referrals import (
    ContactAttemptRecorded,
    PartOfDay,
    ReferralCancelled,
    ReferralClaimed,
    ReferralClosed,
    ReferralReleased,
    ReferralRequested,
    ReferralRerouted,
)
from events.catalogue.signals import SignalReceived, SignalUpdated, SignalWithdrawn
from events.catalogue.vocabulary import Outcome, PartnerType
from events.envelope import RecordedEvent
from services.clock import MUNICIPAL_TIME_ZONE

NOT_YET_PICKED_UP: Final = "Nog niet opgepakt"
"""EnumSignaalstatus for a signal whose case nobody has picked up or ended yet."""

OUTCOMES_THAT_ARE_SIGNAL_STATUSES: Final = frozenset(
    {
        Outcome.UNJUSTIFIED_SIGNAL,
        Outcome.DECEASED,
        Outcome.NOT_A_RESIDENT,
        Outcome.REPEAT_SIGNAL,
        Outcome.NOT_PICKED_UP_OTHER,
    }
)
"""The eindresultaten that EnumSignaalstatus also has: why a signal was not picked up."""

SIGNAL_STATUSES: Final = (NOT_YET_PICKED_UP, *(o.value for o in OUTCOMES_THAT_ARE_SIGNAL_STATUSES))


@dataclass(frozen=True, slots=True)
class Period:
    """The delivery period; both days inclusive."""

    starts: date
    ends: date

    def __post_init__(self) -> None:
        if self.ends < self.starts:
            raise ValueError(f"the period ends ({self.ends}) before it starts ({self.starts})")

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.starts <= day <= self.ends


@dataclass(frozen=True, slots=True)
class ContactAttempt:
    """DDAS ``contactpoging``."""

    kind: str
    reached: bool
    attempted_on: date
    part_of_day: PartOfDay | None


@dataclass(frozen=True, slots=True)
class ExportedSignal:
    """One ``vroegsignaal`` of the delivery, without its client (personal data)."""

    signal_id: uuid.UUID
    case_id: uuid.UUID | None
    """The case the signal was matched to (always one for a signal intake accepted)."""
    gemeentecode: str
    partner_type: PartnerType
    crisis: bool
    warm_handover: bool
    amount: Decimal
    origin_date: date | None
    signal_date: date
    status: str | None


@dataclass(frozen=True, slots=True)
class ExportedCase:
    """One ``vroegsignaalzaak`` of the delivery."""

    case_id: uuid.UUID
    gemeentecode: str
    outcome: Outcome | None
    matched_on: date
    window_starts: date
    window_ends: date
    picked_up_on: date | None
    signal_ids: tuple[uuid.UUID, ...]
    attempts: tuple[ContactAttempt, ...]


@dataclass(frozen=True, slots=True)
class DeliveryContent:
    """What the period delivers, in log order (signals by ``SignalReceived``, cases by
    ``CaseOpened``)."""

    period: Period
    signals: tuple[ExportedSignal, ...]
    cases: tuple[ExportedCase, ...]

    @property
    def contact_attempts(self) -> int:
        return sum(len(case.attempts) for case in self.cases)

    def gemeentecodes(self) -> list[str]:
        return sorted({s.gemeentecode for s in self.signals} | {c.gemeentecode for c in self.cases})


# -- the fold -----------------------------------------------------------------------------


@dataclass(slots=True)
class _Signal:
    received: SignalReceived
    amount: Decimal
    withdrawn: bool = False
    case_id: uuid.UUID | None = None


@dataclass(slots=True)
class _Case:
    opened: CaseOpened
    matched_on: date
    signal_ids: list[uuid.UUID]
    active: bool = False
    closed_outcome: Outcome | None = None
    cancelled: bool = False
    referral_outcome: Outcome | None = None
    picked_up_on: date | None = None
    attempts: list[ContactAttempt] = field(default_factory=list)

    @property
    def ended(self) -> bool:
        closed = self.closed_outcome is not None or self.referral_outcome is not None
        return self.cancelled or closed


def local_date(moment: datetime) -> date:
    """The municipality's calendar day of an instant."""
    return moment.astimezone(MUNICIPAL_TIME_ZONE).date()


class DeliveryFold:
    """Folds the log, event by event in position order, into one period's delivery."""

    def __init__(self, period: Period) -> None:
        self.period = period
        self._signals: dict[uuid.UUID, _Signal] = {}
        self._cases: dict[uuid.UUID, _Case] = {}
        self._referral_case: dict[uuid.UUID, uuid.UUID] = {}
        # The date of each signal's latest message and of each case's latest withdrawal,
        # also for events left out: the case events intake wrote with them take that date.
        self._signal_dates: dict[uuid.UUID, date] = {}
        self._withdrawal_dates: dict[uuid.UUID, date] = {}

    def apply_all(self, events: Iterable[RecordedEvent]) -> None:
        for recorded in events:
            self.apply(recorded)

    def apply(self, recorded: RecordedEvent) -> None:
        day = self._date_of(recorded)
        if day > self.period.ends:
            return  # after the period: the delivery shows the state at the period's end
        match recorded.event:
            case SignalReceived() as event:
                self._signals[event.signal_id] = _Signal(event, event.amount)
            case SignalUpdated(signal_id=signal_id, amount=amount):
                if (signal := self._signals.get(signal_id)) is not None:
                    signal.amount = amount
            case SignalWithdrawn(signal_id=signal_id):
                if (signal := self._signals.get(signal_id)) is not None:
                    signal.withdrawn = True
            case CaseOpened() as event:
                self._open(event, recorded.recorded_at, day)
            case SignalAttachedToCase(case_id=case_id, signal_id=signal_id):
                self._attach(case_id, signal_id, day)
            case CaseSignalUpdated() | CaseSignalWithdrawn():
                pass  # the signal's own event already changed the amount or withdrew it
            case CaseClosed(case_id=case_id, outcome=outcome):
                if (case := self._case(case_id, day)) is not None:
                    case.closed_outcome = outcome
            case CaseCancelled(case_id=case_id):
                if (case := self._case(case_id, day)) is not None:
                    case.cancelled = True
            case ReferralRequested(referral_id=referral_id, case_id=case_id):
                self._referral_case[referral_id] = case_id
            case ReferralClaimed(referral_id=referral_id):
                case = self._case_of_referral(referral_id, None)
                if case is not None and case.picked_up_on is None:
                    case.picked_up_on = day
                    case.active = case.active or day in self.period
            case ContactAttemptRecorded() as event:
                if (case := self._case_of_referral(event.referral_id, day)) is not None:
                    case.attempts.append(
                        ContactAttempt(
                            event.kind.value, event.reached, event.attempted_on, event.part_of_day
                        )
                    )
            case ReferralClosed(referral_id=referral_id, outcome=outcome):
                if (case := self._case_of_referral(referral_id, day)) is not None:
                    case.referral_outcome = outcome
            case _:
                pass  # routing decisions, releases, reroutes, cancels: not in DDAS

    def result(self) -> DeliveryContent:
        signals = tuple(
            self._exported_signal(signal)
            for signal in self._signals.values()
            if signal.received.signal_date in self.period
        )
        cases = tuple(self._exported_case(case) for case in self._cases.values() if case.active)
        return DeliveryContent(self.period, signals, cases)

    # -- dates ----------------------------------------------------------------------------

    def _date_of(self, recorded: RecordedEvent) -> date:
        event = recorded.event
        match event:
            case SignalReceived() | SignalUpdated() | SignalWithdrawn():
                self._signal_dates[event.signal_id] = event.signal_date
                return event.signal_date
            case CaseOpened():
                found = self._signal_dates.get(event.first_signal_id)
            case SignalAttachedToCase() | CaseSignalUpdated():
                found = self._signal_dates.get(event.signal_id)
            case CaseSignalWithdrawn():
                found = self._signal_dates.get(event.signal_id)
                if found is not None:
                    self._withdrawal_dates[event.case_id] = found
            case CaseCancelled():
                found = self._withdrawal_dates.get(event.case_id)
            case CaseClosed() | ReferralClosed():
                return event.closed_on
            case ReferralRequested():
                return event.requested_on
            case ReferralClaimed():
                return local_date(event.claimed_at)
            case ContactAttemptRecorded():
                return event.attempted_on
            case ReferralReleased():
                return local_date(event.released_at)
            case ReferralRerouted():
                return local_date(event.rerouted_at)
            case ReferralCancelled():
                return local_date(event.cancelled_at)
            case _:
                found = None
        # An event without a date of its own, or one written apart from its signal.
        return found if found is not None else local_date(recorded.recorded_at)

    # -- cases ----------------------------------------------------------------------------

    def _open(self, event: CaseOpened, recorded_at: datetime, day: date) -> None:
        case = _Case(event, matched_on=local_date(recorded_at), signal_ids=[])
        self._cases[event.case_id] = case
        self._attach(event.case_id, event.first_signal_id, day)

    def _attach(self, case_id: uuid.UUID, signal_id: uuid.UUID, day: date) -> None:
        case = self._case(case_id, day)
        if case is None:
            return
        if signal_id not in case.signal_ids:
            case.signal_ids.append(signal_id)
        if (signal := self._signals.get(signal_id)) is not None:
            signal.case_id = case_id

    def _case(self, case_id: uuid.UUID, activity_on: date | None) -> _Case | None:
        """The case, marked active when ``activity_on`` lies in the period."""
        case = self._cases.get(case_id)
        if case is not None and activity_on in self.period:
            case.active = True
        return case

    def _case_of_referral(self, referral_id: uuid.UUID, activity_on: date | None) -> _Case | None:
        case_id = self._referral_case.get(referral_id)
        return None if case_id is None else self._case(case_id, activity_on)

    # -- results --------------------------------------------------------------------------

    def _exported_signal(self, signal: _Signal) -> ExportedSignal:
        received = signal.received
        case = self._cases.get(signal.case_id) if signal.case_id is not None else None
        return ExportedSignal(
            signal_id=received.signal_id,
            case_id=signal.case_id,
            gemeentecode=received.gemeentecode,
            partner_type=received.partner_type,
            crisis=received.crisis,
            warm_handover=received.warm_handover,
            amount=signal.amount,
            origin_date=received.origin_date,
            signal_date=received.signal_date,
            status=signal_status(
                picked_up=case is not None and case.picked_up_on is not None,
                ended=case is not None and case.ended,
                outcome=case_outcome(case) if case is not None else None,
                withdrawn=signal.withdrawn,
            ),
        )

    @staticmethod
    def _exported_case(case: _Case) -> ExportedCase:
        opened = case.opened
        return ExportedCase(
            case_id=opened.case_id,
            gemeentecode=opened.gemeentecode,
            outcome=case_outcome(case),
            matched_on=case.matched_on,
            window_starts=opened.matching_window_starts,
            window_ends=opened.matching_window_ends,
            picked_up_on=case.picked_up_on,
            signal_ids=tuple(case.signal_ids),
            attempts=tuple(sorted(case.attempts, key=lambda a: a.attempted_on)),
        )


def case_outcome(case: _Case) -> Outcome | None:
    """The zaak's eindresultaat: the team's, else intake's or routing's, else cancelled."""
    if case.referral_outcome is not None:
        return case.referral_outcome
    if case.closed_outcome is not None:
        return case.closed_outcome
    return Outcome.NOT_PICKED_UP_OTHER if case.cancelled else None


def signal_status(
    *, picked_up: bool, ended: bool, outcome: Outcome | None, withdrawn: bool
) -> str | None:
    """EnumSignaalstatus of a signal, from the state of its case (module docstring)."""
    if picked_up:
        return None
    if ended:
        if outcome in OUTCOMES_THAT_ARE_SIGNAL_STATUSES:
            assert outcome is not None
            return outcome.value
        return Outcome.NOT_PICKED_UP_OTHER.value
    if withdrawn:
        return Outcome.NOT_PICKED_UP_OTHER.value
    return NOT_YET_PICKED_UP


def fold_delivery(events: Iterable[RecordedEvent], period: Period) -> DeliveryContent:
    """The period's delivery from the whole log (position order)."""
    fold = DeliveryFold(period)
    fold.apply_all(events)
    return fold.result()


# -- DDAS fragments -----------------------------------------------------------------------


def whole_euros(amount: Decimal) -> int:
    """DDAS ``bedrag`` is an integer number of euros; half a euro rounds up."""
    return int(amount.quantize(Decimal(1), rounding=ROUND_HALF_UP))


_CLIENT_FIELDS: Final = (
    ("bsn", "Burgerservicenummer"),
    ("initials", "Voorletters"),
    ("surname_prefix", "Voorvoegsel"),
    ("surname", "Achternaam"),
    ("birth_date", "Geboortedatum"),
    ("street", "Straatnaam"),
    ("postcode", "Postcode"),
    ("house_number", "Huisnummer"),
    ("house_number_addition", "Huisnummertoevoeging"),
    ("city", "Plaatsnaam"),
)
"""``personal_data`` JSON key (``services.intake.commands.PersonalDetails``) → DDAS ``client``
field. Phone, e-mail and customer number have no place in DDAS and are never exported."""


def client_block(details: Mapping[str, Any] | None) -> dict[str, str]:
    """DDAS ``client`` from a signal's personal data. Missing (erased) data, or an erased
    field (absent, ``None`` or empty), is left out: ``client`` itself is required, none of
    its fields is, so the signal still counts."""
    if not details:
        return {}
    block: dict[str, str] = {}
    for key, ddas_name in _CLIENT_FIELDS:
        value = details.get(key)
        if value is None or value == "":
            continue
        block[ddas_name] = value.isoformat() if isinstance(value, date) else str(value)
    return block


def vroegsignaal(signal: ExportedSignal, details: Mapping[str, Any] | None) -> dict[str, Any]:
    """A DDAS ``vroegsignaal``; ``details`` is the signal's personal data (None if erased)."""
    fragment: dict[str, Any] = {
        "ID": str(signal.signal_id),
        "crisissignaal": signal.crisis,
        "warmeOverdracht": signal.warm_handover,
        "bedrag": whole_euros(signal.amount),
    }
    if signal.origin_date is not None:
        fragment["ontstaansdatum"] = signal.origin_date.isoformat()
    fragment["signaaldatum"] = signal.signal_date.isoformat()
    if signal.status is not None:
        fragment["status"] = signal.status
    fragment["signaalpartner"] = {"type": signal.partner_type.value}
    fragment["client"] = client_block(details)
    return fragment


def contactpoging(attempt: ContactAttempt) -> dict[str, Any]:
    fragment: dict[str, Any] = {
        "soort": attempt.kind,
        "bereikt": attempt.reached,
        "datum": attempt.attempted_on.isoformat(),
    }
    if attempt.part_of_day is not None:
        fragment["dagdeel"] = attempt.part_of_day.value
    return fragment


def vroegsignaalzaak(case: ExportedCase) -> dict[str, Any]:
    """A DDAS ``vroegsignaalzaak``."""
    fragment: dict[str, Any] = {}
    if case.outcome is not None:
        fragment["resultaat"] = case.outcome.value
    fragment["matchingsdatum"] = case.matched_on.isoformat()
    fragment["startdatum_matchtingperiode"] = case.window_starts.isoformat()
    if case.picked_up_on is not None:
        fragment["datum_opgepakt"] = case.picked_up_on.isoformat()
    fragment["einddatum_matchingperiode"] = case.window_ends.isoformat()
    fragment["vroegsignalen"] = [{"ID": str(signal_id)} for signal_id in case.signal_ids]
    fragment["contactpogingen"] = [contactpoging(attempt) for attempt in case.attempts]
    return fragment
