"""The DDAS export over the real intake, routing and referral actions, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from sqlalchemy import delete

import events.catalogue  # noqa: F401  (registers the domain events)
from events.catalogue.cases import CaseOpened
from events.catalogue.referrals import ContactKind, PartOfDay, ReferralRequested
from events.catalogue.vocabulary import Outcome
from events.registry import EventRegistry, catalogue
from events.store import SqlEventStore
from services.ddas.config import load_ddas_config
from services.ddas.delivery import Period, local_date
from services.ddas.export_ddas import export_ddas
from services.ddas.validation import InvalidDeliveryError
from services.intake.rules import IntakeRules
from services.intake.tables import personal_data
from services.privacy.erase import erase_by_case
from services.privacy.keys import KeyRing, MasterKey, using_keyring
from services.referrals.act_on_referral import ReferralActions
from tests.support.intake import BSN_B, person, routing_intake_for, signal, submit

CONFIG = Path(__file__).resolve().parents[2] / "config"
SCHEMA = (
    Path(__file__).resolve().parents[2] / "services" / "ddas" / "json_schema_Uitwisselmodel.json"
)
OCTOBER = Period(date(2026, 10, 1), date(2026, 10, 31))
DELIVERED_AT = datetime(2026, 11, 3, 8, 0, tzinfo=UTC)


@pytest.fixture
def registry() -> EventRegistry:
    return catalogue


@pytest.fixture(autouse=True)
def master_key() -> Iterator[KeyRing]:
    with using_keyring(KeyRing(MasterKey.from_bytes(os.urandom(32)))) as keyring:
        yield keyring


async def referral_of(store: SqlEventStore, case_id: uuid.UUID) -> ReferralRequested:
    for recorded in await store.read_all(limit=10_000):
        event = recorded.event
        if isinstance(event, ReferralRequested) and event.case_id == case_id:
            return event
    raise AssertionError(f"case {case_id} has no referral")


async def matched_on(store: SqlEventStore, case_id: uuid.UUID) -> str:
    opened = (await store.read_stream(f"case-{case_id}"))[0]
    assert isinstance(opened.event, CaseOpened)
    return local_date(opened.recorded_at).isoformat()


def by_id(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {item["ID"]: item for item in items}


async def test_a_month_of_signals_exports_a_valid_delivery_with_the_right_numbers(
    store: SqlEventStore,
) -> None:
    intake = routing_intake_for(store, today=date(2026, 10, 2))
    worked, small, waiting, forgotten = await intake.receive(
        [
            submit(signal("W-1")),  # 123.45, Almelo 7604: Vroeg erop af!
            submit(
                signal(
                    "W-2",
                    amount=Decimal("40.00"),  # under the threshold: closed by routing
                    person=person(postcode="7601CD", house_number=3, bsn=BSN_B),
                )
            ),
            submit(signal("W-3", person=person(postcode="7602EF", house_number=5, bsn=None))),
            submit(signal("W-5", person=person(postcode="7605GH", house_number=7, bsn=None))),
        ]
    )
    [november] = await routing_intake_for(store, today=date(2026, 11, 4)).receive(
        [
            submit(
                signal(
                    "W-4",
                    signal_date=date(2026, 11, 3),
                    person=person(postcode="7600AA", house_number=9, bsn=None),
                )
            )
        ]
    )
    assert worked.case_id is not None
    referral = await referral_of(store, worked.case_id)
    actions = ReferralActions(store, clock=lambda: datetime(2026, 10, 5, 7, 45, tzinfo=UTC))
    team, rid = referral.team, referral.referral_id
    await actions.claim(team, rid, "w-17")
    await actions.record_contact_attempt(
        team, rid, ContactKind.PHONE, False, date(2026, 10, 5), PartOfDay.MORNING
    )
    await actions.record_contact_attempt(
        team, rid, ContactKind.HOME_VISIT, True, date(2026, 10, 8), PartOfDay.AFTERNOON
    )
    await actions.close(team, rid, Outcome.ADVICE_OR_QUICK_FIX, date(2026, 10, 12))
    # One household's record is gone; another was erased on request (its key shredded).
    async with store.engine.begin() as conn:
        await conn.execute(
            delete(personal_data).where(personal_data.c.subject_id == waiting.signal_id)
        )
    assert forgotten.case_id is not None
    erased = await erase_by_case(store, forgotten.case_id, "verzoek van de inwoner", "cli:test")
    assert erased.found
    pages: list[tuple[int, int]] = []
    stages: list[str] = []
    last = await store.last_position()

    export = await export_ddas(
        store,
        OCTOBER,
        load_ddas_config(CONFIG),
        DELIVERED_AT,
        reader="cli:test",
        served_gemeentecodes=["0141"],
        progress=lambda position, last: pages.append((position, last)),
        stage=stages.append,
        page_size=4,
    )

    document = export.document
    schema = jsonschema.Draft202012Validator(
        json.loads(SCHEMA.read_text(encoding="utf-8")),
        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
    )
    assert list(schema.iter_errors(document)) == []
    assert document["aanleverdatumEnTijd"] == "2026-11-03T08:00:00Z"
    [levering] = document["leveringen"]
    assert (levering["teller"], levering["gemeentecode"]) == (1, "0141")
    signals = by_id(levering["vroegsignalen"])
    assert list(signals) == [
        str(worked.signal_id),
        str(small.signal_id),
        str(waiting.signal_id),
        str(forgotten.signal_id),
    ]
    assert str(november.signal_id) not in signals
    assert [signals[str(s.signal_id)].get("status") for s in (worked, small, waiting)] == [
        None,
        "Niet opgepakt: onterecht signaal",
        "Nog niet opgepakt",
    ]
    assert [signals[str(s.signal_id)]["bedrag"] for s in (worked, small, waiting)] == [123, 40, 123]
    assert signals[str(worked.signal_id)]["client"] == {
        "Burgerservicenummer": "999990019",
        "Voorletters": "J.",
        "Voorvoegsel": "van 't",
        "Achternaam": "Hoff",
        "Geboortedatum": "1990-05-17",
        "Straatnaam": "Grotestraat",
        "Postcode": "7604AB",
        "Huisnummer": "12",
        "Plaatsnaam": "Almelo",
    }
    assert signals[str(waiting.signal_id)]["client"] == {}
    assert signals[str(forgotten.signal_id)]["client"] == {}
    assert signals[str(forgotten.signal_id)]["status"] == "Nog niet opgepakt"  # the facts stay
    zaken = {z["vroegsignalen"][0]["ID"]: z for z in levering["vroegsignaalzaken"]}
    assert len(zaken) == 4
    assert zaken[str(worked.signal_id)] == {
        "resultaat": "(Budget)advies en/of quick fix",
        "matchingsdatum": await matched_on(store, worked.case_id),
        "startdatum_matchtingperiode": "2026-10-01",
        "datum_opgepakt": "2026-10-05",
        "einddatum_matchingperiode": (
            date(2026, 10, 1) + timedelta(days=IntakeRules().window_days)
        ).isoformat(),
        "vroegsignalen": [{"ID": str(worked.signal_id)}],
        "contactpogingen": [
            {"soort": "Telefoon", "bereikt": False, "datum": "2026-10-05", "dagdeel": "Ochtend"},
            {"soort": "Huisbezoek", "bereikt": True, "datum": "2026-10-08", "dagdeel": "Middag"},
        ],
    }
    assert zaken[str(small.signal_id)]["resultaat"] == "Niet opgepakt: onterecht signaal"
    assert "resultaat" not in zaken[str(waiting.signal_id)]
    assert (export.signals, export.cases, export.contact_attempts) == (4, 4, 2)
    assert export.signals_without_client == 2
    assert export.up_to_position == last
    assert [p for p, _ in pages] == sorted(p for p, _ in pages)
    assert len(pages) > 1
    assert pages[-1] == (last, last)
    assert stages == ["Loading client details", "Validating against the DDAS schema"]
    # The disclosure is in the audit trail: one read per case whose client it holds.
    audit = await store.read_stream("audit-2026-11-03")
    assert [type(r.event).__name__ for r in audit] == ["PersonalDataViewed"] * 2
    assert [getattr(r.event, "case_id", None) for r in audit] == [worked.case_id, small.case_id]
    assert {(getattr(r.event, "resource", ""), r.metadata.actor) for r in audit} == {
        ("ddas-levering", "cli:test")
    }
    assert export.reads_recorded == 2
    assert audit[0].position > last  # recorded after the log the delivery read


async def test_the_next_month_holds_only_what_happened_in_it(store: SqlEventStore) -> None:
    intake = routing_intake_for(store, today=date(2026, 10, 2))
    [october] = await intake.receive([submit(signal("N-1"))])
    [november] = await routing_intake_for(store, today=date(2026, 11, 4)).receive(
        [submit(signal("N-2", signal_date=date(2026, 11, 3), person=person(postcode="7600AA")))]
    )

    export = await export_ddas(
        store,
        Period(date(2026, 11, 1), date(2026, 11, 30)),
        load_ddas_config(CONFIG),
        DELIVERED_AT,
        reader="cli:test",
    )

    [levering] = export.document["leveringen"]
    assert [s["ID"] for s in levering["vroegsignalen"]] == [str(november.signal_id)]
    assert [z["vroegsignalen"] for z in levering["vroegsignaalzaken"]] == [
        [{"ID": str(november.signal_id)}]
    ]
    assert str(october.signal_id) not in str(export.document)


async def test_an_invalid_header_is_refused_with_its_path(store: SqlEventStore) -> None:
    await routing_intake_for(store).receive([submit(signal("I-1"))])
    config = load_ddas_config(CONFIG)
    organisation = config.aanleverende_organisatie
    twice = organisation.model_copy(
        update={"contactpersonen": (*organisation.contactpersonen, *organisation.contactpersonen)}
    )
    broken = config.model_copy(update={"aanleverende_organisatie": twice})

    with pytest.raises(InvalidDeliveryError) as raised:
        await export_ddas(store, OCTOBER, broken, DELIVERED_AT, reader="cli:test")

    assert [p.path for p in raised.value.problems] == [
        "$.leveringen[0].aanleverende_organisatie.contactpersoonen"
    ]
    assert await store.read_stream("audit-2026-11-03") == []  # nothing disclosed
