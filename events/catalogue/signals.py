"""Events of a signal's stream (``signal-<uuid>``). No personal data: ids, PC4 and amounts only."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from events.base import DomainEvent
from events.catalogue.vocabulary import PartnerType, SignalKind
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
    origin_date: date
    signal_date: date
    days_in_arrears: int | None = None
    crisis: bool = False
    warm_handover: bool = False
    household_id: uuid.UUID
    gemeentecode: str
    pc4: str
