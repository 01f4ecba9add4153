"""Events of a household case's stream (``case-<uuid>``)."""

from __future__ import annotations

import uuid
from datetime import date

from events.base import DomainEvent
from events.catalogue.vocabulary import PartnerType
from events.registry import catalogue


@catalogue.register
class CaseOpened(DomainEvent):
    """A signal for a household without an open case started a new case."""

    event_type = "CaseOpened"

    case_id: uuid.UUID
    household_id: uuid.UUID
    gemeentecode: str
    pc4: str
    first_signal_id: uuid.UUID
    matching_window_ends: date


@catalogue.register
class SignalAttachedToCase(DomainEvent):
    """A signal matched the household's open case within its matching window."""

    event_type = "SignalAttachedToCase"

    case_id: uuid.UUID
    signal_id: uuid.UUID
    partner_type: PartnerType
