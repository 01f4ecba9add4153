"""The hand-written fast paths of wire parsing agree with what they replaced."""

from __future__ import annotations

import sys
import unicodedata
from datetime import date

from adapters.signals.fields import has_unstorable_characters
from adapters.signals.wire import SignalWire, _Context, _flat_values, parse_signal
from events.catalogue.vocabulary import PartnerType, SignalKind
from services.intake.commands import ReceiveSignal
from services.partners import Partner


def test_unstorable_characters_are_exactly_the_control_and_surrogate_categories() -> None:
    disagreeing = [
        code
        for code in range(sys.maxunicode + 1)
        if has_unstorable_characters(f"a{chr(code)}b")
        != (unicodedata.category(chr(code)) in ("Cc", "Cs"))
    ]
    assert disagreeing == []


def test_enum_values_are_read_in_any_case_and_with_spaces() -> None:
    partner = Partner(id="p", name="P", types=(PartnerType.ENERGY,), source="urn:p")
    record = {
        "signaalId": "1",
        "signaalpartnerType": "  eNeRgIe ",
        "soort": "VROEGSIGNAAL",
        "bedrag": "10",
        "ontstaansdatum": "2026-01-01",
        "signaaldatum": "2026-01-02",
        "postcode": "7601 ab",
        "huisnummer": "1",
    }
    parsed = parse_signal(record, partner, today=date(2026, 2, 1))
    assert isinstance(parsed, ReceiveSignal)
    assert parsed.partner_type is PartnerType.ENERGY
    assert parsed.kind is SignalKind.EARLY_SIGNAL


def test_flat_values_are_what_model_dump_gives() -> None:
    partner = Partner(id="p", name="P", types=(PartnerType.ENERGY,), source="urn:p")
    context = _Context(partner=partner, today=date(2026, 2, 1), decimal=None, date_format=None)
    shaped = {
        "signaalId": "1",
        "soort": "update",
        "bedrag": "12,50",
        "crisissignaal": "ja",
        "client": {"postcode": "7601AB", "huisnummer": "3", "email": "a@b.nl"},
    }
    wire = SignalWire.model_validate(shaped, context=context)
    expected = wire.model_dump(by_alias=True, exclude={"client"})
    assert wire.client is not None
    expected.update({f"client.{k}": v for k, v in wire.client.model_dump().items()})
    assert _flat_values(wire) == expected
    without_client = SignalWire.model_validate({"signaalId": "2"}, context=context)
    assert _flat_values(without_client) == without_client.model_dump(
        by_alias=True, exclude={"client"}
    )
