"""Events of a signal's stream (``signal-<uuid>``) and of rejected input (``rejection-<uuid>``).

No personal data: ids, PC4, age band and amounts only. Names, BSN, address and contact
details live in the personal-data store, keyed by the signal id (DESIGN §4, §9).
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from events.base import DomainEvent
from events.catalogue.vocabulary import Channel, PartnerType, SignalKind
from events.registry import catalogue


@catalogue.register
class SignalReceived(DomainEvent):
    """A partner's arrears signal passed validation and was accepted."""

    event_type = "SignalReceived"

    signal_id: uuid.UUID
    partner_id: str
    partner_signal_id: str
    partner_type: PartnerType
    kind: SignalKind
    amount: Decimal
    origin_date: date | None = None
    signal_date: date
    days_in_arrears: int | None = None
    months_in_arrears: int | None = None
    crisis: bool = False
    warm_handover: bool = False
    household_id: uuid.UUID
    gemeentecode: str
    in_municipality: bool = True
    pc4: str
    age_band: str | None = None
    channel: Channel = Channel.FILE


@catalogue.register
class SignalUpdated(DomainEvent):
    """The partner sent ``soort=update`` for a known signal: new amount and arrears."""

    event_type = "SignalUpdated"

    signal_id: uuid.UUID
    amount: Decimal
    previous_amount: Decimal
    signal_date: date
    days_in_arrears: int | None = None
    months_in_arrears: int | None = None
    channel: Channel = Channel.FILE


@catalogue.register
class SignalWithdrawn(DomainEvent):
    """The partner sent ``soort=intrekking``: the arrears are gone or the signal was wrong."""

    event_type = "SignalWithdrawn"

    signal_id: uuid.UUID
    signal_date: date
    channel: Channel = Channel.FILE


class RejectionReason(BaseModel):
    """One problem with one wire field, in the partner's vocabulary."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    field: str
    problem: str


@catalogue.register
class SignalRejected(DomainEvent):
    """Input that could not be accepted, with every reason. The raw input is kept in the
    personal-data store under ``rejection_id`` so that nothing vanishes."""

    event_type = "SignalRejected"

    rejection_id: uuid.UUID
    partner_id: str
    partner_signal_id: str | None = None
    channel: Channel
    reasons: tuple[RejectionReason, ...]
    line_number: int | None = None
