"""Events of a household case's stream (``case-<uuid>``)."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from events.base import DomainEvent
from events.catalogue.vocabulary import Outcome, PartnerType
from events.registry import catalogue


@catalogue.register
class CaseOpened(DomainEvent):
    """A signal for a household without a matching open case started a new case."""

    event_type = "CaseOpened"

    case_id: uuid.UUID
    household_id: uuid.UUID
    gemeentecode: str
    pc4: str
    first_signal_id: uuid.UUID
    partner_type: PartnerType
    matching_window_starts: date
    matching_window_ends: date


@catalogue.register
class SignalAttachedToCase(DomainEvent):
    """A signal matched the household's open case within its matching window."""

    event_type = "SignalAttachedToCase"

    case_id: uuid.UUID
    signal_id: uuid.UUID
    partner_type: PartnerType


@catalogue.register
class CaseSignalUpdated(DomainEvent):
    """One of the case's signals got a new amount (``soort=update``)."""

    event_type = "CaseSignalUpdated"

    case_id: uuid.UUID
    signal_id: uuid.UUID
    amount: Decimal


@catalogue.register
class CaseSignalWithdrawn(DomainEvent):
    event_type = "CaseSignalWithdrawn"

    case_id: uuid.UUID
    signal_id: uuid.UUID
    signals_left: int


@catalogue.register
class CaseCancelled(DomainEvent):
    """Every signal of the case was withdrawn before anyone picked it up."""

    event_type = "CaseCancelled"

    case_id: uuid.UUID
    reason: str


@catalogue.register
class CaseClosed(DomainEvent):
    """The case ended with a DDAS eindresultaat."""

    event_type = "CaseClosed"

    case_id: uuid.UUID
    outcome: Outcome
    closed_on: date
    reason: str
