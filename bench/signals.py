"""The benchmark's workload: realistic, PII-free payment-arrears signals from a seeded RNG."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from events.base import DomainEvent
from events.envelope import NewEvent
from events.registry import EventRegistry

bench_registry = EventRegistry()
"""Kept apart from the application's catalogue so the benchmark cannot collide with it."""


class PartnerType(StrEnum):
    HOUSING = "woningcorporatie"
    HEALTH_INSURER = "zorgverzekeraar"
    ENERGY = "energieleverancier"
    WATER = "drinkwaterbedrijf"


class ArrearsKind(StrEnum):
    RENT = "huurachterstand"
    HEALTH_PREMIUM = "zorgpremieachterstand"
    ENERGY = "energieachterstand"
    WATER = "waterachterstand"


KIND_OF_PARTNER: dict[PartnerType, ArrearsKind] = {
    PartnerType.HOUSING: ArrearsKind.RENT,
    PartnerType.HEALTH_INSURER: ArrearsKind.HEALTH_PREMIUM,
    PartnerType.ENERGY: ArrearsKind.ENERGY,
    PartnerType.WATER: ArrearsKind.WATER,
}


@bench_registry.register
class ArrearsSignalled(DomainEvent):
    """A partner reports a household's payment arrears (no personal data, only references)."""

    event_type = "bench.ArrearsSignalled"

    signal_id: uuid.UUID
    partner_id: uuid.UUID
    partner_type: PartnerType
    kind: ArrearsKind
    amount: Decimal
    arrears_since: date
    signalled_on: date
    days_in_arrears: int
    payment_arrangement: bool
    previously_signalled: bool
    postcode_pc4: str
    gemeentecode: str
    household_ref: uuid.UUID


@dataclass(frozen=True, slots=True)
class Workload:
    """The same events, ids and stream names for every contender and every run."""

    events: list[ArrearsSignalled]
    event_ids: list[uuid.UUID]
    payloads: list[str]
    batch_size: int
    batch_stream_ids: list[uuid.UUID]

    def __len__(self) -> int:
        return len(self.events)

    def new_events(self) -> list[NewEvent]:
        return [NewEvent(e, event_id=i) for e, i in zip(self.events, self.event_ids, strict=True)]

    def batches(self) -> list[range]:
        """Index ranges of the batches, in order; batch ``k`` goes to ``batch_stream_ids[k]``."""
        total, size = len(self.events), self.batch_size
        return [range(start, min(start + size, total)) for start in range(0, total, size)]

    def head(self, count: int) -> Workload:
        """The first ``count`` events, for the measurements that cannot afford all of them."""
        return Workload(
            events=self.events[:count],
            event_ids=self.event_ids[:count],
            payloads=self.payloads[:count],
            batch_size=self.batch_size,
            batch_stream_ids=self.batch_stream_ids[: -(-count // self.batch_size)],
        )

    def average_payload_bytes(self) -> float:
        return sum(len(p.encode()) for p in self.payloads) / len(self.payloads)


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def make_workload(count: int, batch_size: int, seed: int = 20_241_128) -> Workload:
    rng = random.Random(seed)
    partners = [(_uuid(rng), rng.choice(list(PartnerType))) for _ in range(25)]
    first_day = date(2024, 1, 1)
    events: list[ArrearsSignalled] = []
    for _ in range(count):
        partner_id, partner_type = rng.choice(partners)
        signalled_on = first_day + timedelta(days=rng.randrange(365))
        days = rng.randint(30, 240)
        events.append(
            ArrearsSignalled(
                signal_id=_uuid(rng),
                partner_id=partner_id,
                partner_type=partner_type,
                kind=KIND_OF_PARTNER[partner_type],
                amount=Decimal(rng.randint(5_000, 450_000)) / 100,
                arrears_since=signalled_on - timedelta(days=days),
                signalled_on=signalled_on,
                days_in_arrears=days,
                payment_arrangement=rng.random() < 0.2,
                previously_signalled=rng.random() < 0.35,
                postcode_pc4="7604",
                gemeentecode="0141",
                household_ref=_uuid(rng),
            )
        )
    batch_count = -(-count // batch_size)
    return Workload(
        events=events,
        event_ids=[_uuid(rng) for _ in range(count)],
        payloads=[e.model_dump_json() for e in events],
        batch_size=batch_size,
        batch_stream_ids=[_uuid(rng) for _ in range(batch_count)],
    )
