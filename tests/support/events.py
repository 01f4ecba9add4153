"""Small event classes used only by the store's tests."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from events.base import DomainEvent
from events.envelope import NewEvent
from events.registry import EventRegistry

test_registry = EventRegistry()


class Colour(StrEnum):
    RED = "rood"
    GREEN = "groen"


@test_registry.register
class ThingHappened(DomainEvent):
    event_type = "test.ThingHappened"

    thing_id: uuid.UUID
    amount: Decimal
    on: date
    at: datetime
    colour: Colour
    note: str = ""


@test_registry.register
class Counted(DomainEvent):
    event_type = "test.Counted"

    number: int


def counted(number: int) -> NewEvent:
    return NewEvent(Counted(number=number))
