"""Event classes by type name, and upcasting old payloads into the current model."""

from __future__ import annotations

from decimal import Decimal

import pytest

from events.base import DomainEvent
from events.errors import UnknownEventTypeError, UpcastError
from events.registry import EventRegistry, Payload


def old_and_new_registries() -> tuple[EventRegistry, EventRegistry]:
    """v1 stored the amount in cents; v2 in euros with the partner type split off."""
    old = EventRegistry()
    new = EventRegistry()

    @old.register
    class ArrearsRecordedV1(DomainEvent):
        event_type = "ArrearsRecorded"
        schema_version = 1
        amount_cents: int

    @new.register
    class ArrearsRecorded(DomainEvent):
        event_type = "ArrearsRecorded"
        schema_version = 2
        amount: Decimal
        partner_type: str

    @new.upcaster("ArrearsRecorded", from_version=1)
    def cents_to_euros(payload: Payload) -> Payload:
        cents = payload.pop("amount_cents")
        return {**payload, "amount": str(Decimal(cents) / 100), "partner_type": "Overige"}

    return old, new


def test_current_version_decodes_directly() -> None:
    _, new = old_and_new_registries()
    event = new.decode("ArrearsRecorded", 2, '{"amount": "12.30", "partner_type": "Huur"}')
    assert event.model_dump() == {"amount": Decimal("12.30"), "partner_type": "Huur"}


def test_v1_payload_is_upcast_to_the_v2_model() -> None:
    old, new = old_and_new_registries()
    stored = (
        old.event_class("ArrearsRecorded")
        .model_validate({"amount_cents": 123456})
        .model_dump_json()
    )

    event = new.decode("ArrearsRecorded", 1, stored)

    assert type(event).schema_version == 2
    assert event.model_dump() == {"amount": Decimal("1234.56"), "partner_type": "Overige"}


def test_missing_upcaster_step_is_an_error_naming_the_step() -> None:
    registry = EventRegistry()

    @registry.register
    class Thing(DomainEvent):
        schema_version = 3
        n: int

    registry.upcaster("Thing", 1)(lambda p: p)
    with pytest.raises(UpcastError, match="from v2 to v3"):
        registry.decode("Thing", 1, '{"n": 1}')


def test_payload_newer_than_the_code_is_refused() -> None:
    _, new = old_and_new_registries()
    with pytest.raises(UpcastError, match="newer than this code"):
        new.decode("ArrearsRecorded", 3, "{}")


def test_unknown_type_is_refused_by_name() -> None:
    with pytest.raises(UnknownEventTypeError, match="'Nope'"):
        EventRegistry().decode("Nope", 1, "{}")


def test_two_classes_cannot_share_a_type_name() -> None:
    registry = EventRegistry()

    class First(DomainEvent):
        event_type = "Same"

    class Second(DomainEvent):
        event_type = "Same"

    registry.register(First)
    registry.register(First)  # registering the same class again is harmless
    with pytest.raises(ValueError, match="already registered"):
        registry.register(Second)


def test_type_name_defaults_to_the_class_name() -> None:
    class SomethingHappened(DomainEvent):
        pass

    assert SomethingHappened.event_type == "SomethingHappened"
    assert SomethingHappened.schema_version == 1


def test_events_are_immutable_and_strict() -> None:
    class Counted(DomainEvent):
        number: int

    event = Counted(number=1)
    with pytest.raises(ValueError, match="frozen"):
        event.number = 2  # type: ignore[misc]
    with pytest.raises(ValueError, match="Extra inputs"):
        Counted(number=1, extra=True)  # type: ignore[call-arg]


def test_decode_many_gives_what_decode_gives_one_by_one_for_current_and_old_payloads() -> None:
    _, new = old_and_new_registries()
    current = [
        '{"amount": "12.30", "partner_type": "Huur"}',
        '{"amount": "0.01", "partner_type": "Water"}',
        '{"amount": "999", "partner_type": "Energie"}',
    ]
    old_payloads = ['{"amount_cents": 5}', '{"amount_cents": 123456}']

    assert new.decode_many("ArrearsRecorded", 2, current) == [
        new.decode("ArrearsRecorded", 2, p) for p in current
    ]
    assert new.decode_many("ArrearsRecorded", 1, old_payloads) == [
        new.decode("ArrearsRecorded", 1, p) for p in old_payloads
    ]


def test_decode_many_refuses_a_payload_that_does_not_fit_the_model() -> None:
    _, new = old_and_new_registries()
    with pytest.raises(ValueError, match="partner_type"):
        new.decode_many(
            "ArrearsRecorded",
            2,
            ['{"amount": "1", "partner_type": "Huur"}', '{"amount": "2"}'],
        )
