"""A seeded generator of synthetic, PII-free signal facts for a municipality like Almelo.

Only for the demo, tests and benchmarks. The mix follows the national picture (about 41%
health insurance, 20% rent, 20% energy, 18% water, a little mortgage and municipal tax), with
some households signalled by several partners and some signalled again later.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from events.catalogue.vocabulary import PartnerType, SignalKind

ALMELO_GEMEENTECODE = "0141"
ALMELO_PC4 = tuple(str(pc4) for pc4 in range(7600, 7610))

PARTNERS_BY_TYPE: dict[PartnerType, tuple[str, ...]] = {
    PartnerType.HEALTH_INSURANCE: ("menzis", "zilveren-kruis"),
    PartnerType.RENT: ("beter-wonen", "sint-joseph"),
    PartnerType.ENERGY: ("energieleverancier",),
    PartnerType.WATER: ("vitens",),
    PartnerType.MORTGAGE: ("ing",),
    PartnerType.OTHER: ("gbt",),
}
MIX: tuple[tuple[PartnerType, float], ...] = (
    (PartnerType.HEALTH_INSURANCE, 0.41),
    (PartnerType.RENT, 0.20),
    (PartnerType.ENERGY, 0.20),
    (PartnerType.WATER, 0.18),
    (PartnerType.MORTGAGE, 0.006),
    (PartnerType.OTHER, 0.004),
)
# About one signal in five concerns a household that another partner (or the same one)
# signalled already: multi-signal households and repeats.
SHARE_OF_ALREADY_SIGNALLED_HOUSEHOLDS = 0.2
AMOUNT_RANGE: dict[PartnerType, tuple[int, int]] = {
    PartnerType.HEALTH_INSURANCE: (120, 1400),
    PartnerType.RENT: (450, 3200),
    PartnerType.ENERGY: (150, 1800),
    PartnerType.WATER: (60, 420),
    PartnerType.MORTGAGE: (900, 6500),
    PartnerType.OTHER: (80, 900),
}


@dataclass(frozen=True, slots=True)
class SyntheticSignal:
    partner_id: str
    partner_signal_id: str
    partner_type: PartnerType
    kind: SignalKind
    amount: Decimal
    origin_date: date
    signal_date: date
    days_in_arrears: int
    crisis: bool
    warm_handover: bool
    household_id: uuid.UUID
    pc4: str


def generate_signals(
    count: int, first_day: date, days: int = 30, seed: int = 2026
) -> Iterator[SyntheticSignal]:
    """``count`` signals spread over ``days`` days from ``first_day``, in signal-date order."""
    rng = random.Random(seed)
    signalled: list[tuple[uuid.UUID, str]] = []
    types = [t for t, _ in MIX]
    weights = [w for _, w in MIX]
    dates = sorted(first_day + timedelta(days=rng.randrange(days)) for _ in range(count))
    for number, signal_date in enumerate(dates, start=1):
        partner_type = rng.choices(types, weights)[0]
        if signalled and rng.random() < SHARE_OF_ALREADY_SIGNALLED_HOUSEHOLDS:
            household_id, pc4 = rng.choice(signalled)
        else:
            household_id, pc4 = (
                uuid.UUID(int=rng.getrandbits(128), version=4),
                rng.choice(ALMELO_PC4),
            )
            signalled.append((household_id, pc4))
        low, high = AMOUNT_RANGE[partner_type]
        days_in_arrears = rng.randint(30, 120)
        final = partner_type is PartnerType.ENERGY and rng.random() < 0.05
        yield SyntheticSignal(
            partner_id=rng.choice(PARTNERS_BY_TYPE[partner_type]),
            partner_signal_id=f"S{first_day:%Y%m}-{number:06d}",
            partner_type=partner_type,
            kind=SignalKind.FINAL_DELIVERY_SIGNAL if final else SignalKind.EARLY_SIGNAL,
            amount=Decimal(rng.randint(low * 100, high * 100)) / 100,
            origin_date=signal_date - timedelta(days=days_in_arrears),
            signal_date=signal_date,
            days_in_arrears=days_in_arrears,
            crisis=rng.random() < 0.02,
            warm_handover=rng.random() < 0.01,
            household_id=household_id,
            pc4=pc4,
        )
