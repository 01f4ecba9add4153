"""Exact JSON round trip of the value types events carry (property-based)."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from events.registry import EventRegistry
from tests.support.events import Colour, ThingHappened

registry = EventRegistry()
registry.register(ThingHappened)

amounts = st.decimals(min_value=Decimal(0), max_value=Decimal(1_000_000), places=2, allow_nan=False)
offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
aware_datetimes = st.datetimes(
    min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1), timezones=offsets
)


@given(
    thing_id=st.uuids(),
    amount=amounts,
    on=st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)),
    at=aware_datetimes,
    colour=st.sampled_from(Colour),
    note=st.text(max_size=50),
)
def test_payload_round_trips_exactly(
    thing_id: uuid.UUID, amount: Decimal, on: date, at: datetime, colour: Colour, note: str
) -> None:
    event = ThingHappened(thing_id=thing_id, amount=amount, on=on, at=at, colour=colour, note=note)

    decoded = registry.decode(event.event_type, event.schema_version, event.model_dump_json())

    assert decoded == event
    assert isinstance(decoded, ThingHappened)
    assert decoded.amount.as_tuple() == amount.as_tuple()  # same digits and exponent: 1.50 ≠ 1.5
    assert decoded.at.utcoffset() == at.utcoffset()
    assert type(decoded.colour) is Colour
    assert type(decoded.thing_id) is uuid.UUID
