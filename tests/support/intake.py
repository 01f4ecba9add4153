"""Building intake commands and the intake service for tests (synthetic people only)."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from events.catalogue.vocabulary import Channel, PartnerType, SignalKind
from events.store import SqlEventStore
from services.intake.commands import FieldProblem, PersonalDetails, ReceiveSignal
from services.intake.receive_signals import SignalIntake, Submission
from services.intake.rules import IntakeRules
from services.municipalities import load_municipalities
from services.partners import load_partners
from services.routing.route_case import CaseRouter

CONFIG = Path(__file__).resolve().parents[2] / "config"

# Synthetic BSNs that pass the eleven-test, from the range 99xxxxxxx.
BSN_A = "999990019"
BSN_B = "999990032"


def person(**changes: Any) -> PersonalDetails:
    base = PersonalDetails(
        postcode="7604AB",
        house_number=12,
        bsn=BSN_A,
        initials="J.",
        surname_prefix="van 't",
        surname="Hoff",
        birth_date=date(1990, 5, 17),
        street="Grotestraat",
        city="Almelo",
    )
    return dataclasses.replace(base, **changes)


def signal(partner_signal_id: str = "S-1", **changes: Any) -> ReceiveSignal:
    base = ReceiveSignal(
        partner_id="vitens",
        partner_signal_id=partner_signal_id,
        partner_type=PartnerType.WATER,
        kind=SignalKind.EARLY_SIGNAL,
        amount=Decimal("123.45"),
        origin_date=date(2026, 8, 1),
        signal_date=date(2026, 10, 1),
        days_in_arrears=61,
        months_in_arrears=None,
        crisis=False,
        warm_handover=False,
        person=person(),
    )
    return dataclasses.replace(base, **changes)


def submit(command: ReceiveSignal | list[FieldProblem], partner_id: str = "vitens") -> Submission:
    return Submission(
        partner_id=partner_id, channel=Channel.FILE, raw=repr(command), parsed=command
    )


def intake_for(store: SqlEventStore, **rules: int) -> SignalIntake:
    """Intake without routing: its tests look at intake's own events."""
    return SignalIntake(
        store, load_partners(CONFIG), load_municipalities(CONFIG), IntakeRules(**rules)
    )


def routing_intake_for(store: SqlEventStore, today: date = date(2026, 10, 2)) -> SignalIntake:
    """Intake that routes every case it opens or changes, as the hub runs it."""
    return SignalIntake(
        store,
        load_partners(CONFIG),
        load_municipalities(CONFIG),
        IntakeRules(),
        router=CaseRouter.from_config(CONFIG),
        clock=lambda: today,
    )


PARTNER_KEYS = {
    "vitens": "test-key-van-vitens-" + "v" * 24,
    "menzis": "test-key-van-menzis-" + "m" * 24,
}
"""HTTP API keys of two partners in tests; the intake's partners carry their hashes."""


def with_partner_keys(intake: SignalIntake) -> SignalIntake:
    intake.partners = intake.partners.with_api_keys(PARTNER_KEYS)
    return intake


def partner_key(partner_id: str = "vitens") -> dict[str, str]:
    return {"Authorization": f"Bearer {PARTNER_KEYS[partner_id]}"}
