"""Intake's digests and personal-data JSON stay exactly what was stored before: written
faster, compared here with the plain way of writing them."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import uuid
from datetime import date
from decimal import Decimal

import pytest

from events.catalogue.vocabulary import PartnerType, SignalKind
from services.intake.commands import PersonalDetails, ReceiveSignal
from services.intake.identity import SIGNAL_NAMESPACE, signal_id_for
from services.intake.receive_signals import _person_json, content_hash, prepare
from services.intake.state import match_keys

PEOPLE = [
    PersonalDetails(postcode="7601AB", house_number=1),
    PersonalDetails(
        postcode="7604BV",
        house_number=25,
        house_number_addition="a 2",
        bsn="999990019",
        initials="K.H.",
        surname_prefix="van 't",
        surname="Çelik-Schröder",
        birth_date=date(1961, 2, 3),
        street="Breitnerstraat",
        city="Almelo",
        phone="+31612345678",
        email="k@example.nl",
        customer_number="SJ-1",
    ),
]


def command(person: PersonalDetails | None) -> ReceiveSignal:
    return ReceiveSignal(
        partner_id="vitens",
        partner_signal_id="V-1",
        partner_type=PartnerType.WATER,
        kind=SignalKind.EARLY_SIGNAL,
        amount=Decimal("1234.50"),
        origin_date=date(2026, 8, 1),
        signal_date=date(2026, 10, 1),
        days_in_arrears=61,
        months_in_arrears=None,
        crisis=False,
        warm_handover=True,
        person=person,
    )


@pytest.mark.parametrize("person", [None, *PEOPLE])
def test_the_content_hash_is_the_digest_of_every_field_in_order(
    person: PersonalDetails | None,
) -> None:
    signal = command(person)
    values = [getattr(signal, f.name) for f in dataclasses.fields(signal) if f.name != "person"]
    if person is not None:
        values += [getattr(person, f.name) for f in dataclasses.fields(person)]
    text = "\x1f".join("" if v is None else str(v) for v in values)
    assert content_hash(signal) == hashlib.sha256(text.encode("utf-8")).hexdigest()


@pytest.mark.parametrize("person", PEOPLE)
def test_personal_data_json_is_the_sorted_dump_of_the_fields(person: PersonalDetails) -> None:
    plain = {f.name: getattr(person, f.name) for f in dataclasses.fields(person)}
    expected = json.dumps(plain, default=str, ensure_ascii=False, sort_keys=True)
    assert _person_json(person) == expected


def test_signal_ids_and_match_keys_do_not_change() -> None:
    for _ in range(2):  # computed, then remembered
        assert signal_id_for("vitens", "V-1") == uuid.uuid5(SIGNAL_NAMESPACE, "vitens/V-1")
    assert signal_id_for("vitens", "V-2") == uuid.uuid5(SIGNAL_NAMESPACE, "vitens/V-2")
    [bsn_key, address_key] = match_keys(PEOPLE[1])
    assert bsn_key == hashlib.sha256(b"bsn:999990019").hexdigest()
    assert address_key == hashlib.sha256(b"address:7604BV|25|A2").hexdigest()


@pytest.mark.parametrize("person", [None, *PEOPLE])
def test_prepared_ahead_is_what_intake_derives_itself(person: PersonalDetails | None) -> None:
    signal = command(person)
    prepared = prepare(signal)
    assert prepared.digest == content_hash(signal)
    assert prepared.match_keys == (tuple(match_keys(person)) if person else ())
    assert prepared.person_json == (_person_json(person) if person else None)
