"""The intake use case on every backend: every signal ends accepted, duplicate or rejected."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

import events.catalogue  # noqa: F401  (registers the domain events)
from events.catalogue.cases import CaseCancelled, CaseClosed, CaseOpened
from events.catalogue.signals import SignalReceived, SignalRejected, SignalUpdated
from events.catalogue.vocabulary import Outcome, PartnerType, SignalKind
from events.registry import EventRegistry, catalogue
from events.store import SqlEventStore
from services.intake.commands import FieldProblem
from services.intake.tables import personal_data
from services.privacy.personal_store import read_personal_records
from tests.support.intake import BSN_B, intake_for, person, signal, submit


@pytest.fixture
def registry() -> EventRegistry:
    return catalogue


async def types_in_log(store: SqlEventStore) -> list[str]:
    return [r.event_type for r in await store.read_all(limit=10_000)]


async def test_a_new_signal_opens_a_case_and_keeps_personal_data_apart(
    store: SqlEventStore,
) -> None:
    intake = intake_for(store)
    [outcome] = await intake.receive([submit(signal())])

    assert outcome.status == "accepted"
    recorded = await store.read_all()
    assert [r.event_type for r in recorded] == ["SignalReceived", "CaseOpened"]
    received, opened = recorded[0].event, recorded[1].event
    assert isinstance(received, SignalReceived)
    assert isinstance(opened, CaseOpened)
    assert received.signal_id == outcome.signal_id
    assert opened.case_id == outcome.case_id
    assert (received.pc4, received.gemeentecode, received.in_municipality) == ("7604", "0141", True)
    assert received.age_band == "28-44"
    assert received.amount == Decimal("123.45")
    everything = " ".join(
        r.event.model_dump_json() + r.metadata.model_dump_json() for r in recorded
    )
    for personal in ("999990019", "Hoff", "Grotestraat", "7604AB", "1990-05-17"):
        assert personal not in everything
    async with store.engine.connect() as conn:
        [row] = (await conn.execute(select(personal_data))).all()
        records = await read_personal_records(conn, subject_ids=[row.subject_id])
    assert row.subject_id == outcome.signal_id
    assert "Hoff" not in row.data  # sealed under the household's data key
    assert (records[row.subject_id].details() or {})["surname"] == "Hoff"


async def test_the_same_signal_again_is_a_duplicate_and_writes_nothing(
    store: SqlEventStore,
) -> None:
    intake = intake_for(store)
    [first] = await intake.receive([submit(signal())])
    before = await store.last_position()

    [again] = await intake.receive([submit(signal())])

    assert again.status == "duplicate"
    assert (again.signal_id, again.case_id) == (first.signal_id, first.case_id)
    assert await store.last_position() == before


async def test_known_signal_id_with_other_content_is_rejected(store: SqlEventStore) -> None:
    intake = intake_for(store)
    await intake.receive([submit(signal())])

    [outcome] = await intake.receive([submit(signal(amount=Decimal("999.00")))])

    assert outcome.status == "rejected"
    assert outcome.reasons[0].field == "signaalId"
    assert "send soort=update" in outcome.reasons[0].problem
    rejected = (await store.read_all(limit=100))[-1].event
    assert isinstance(rejected, SignalRejected)
    assert rejected.reasons[0].field == "signaalId"


async def test_signals_of_one_household_within_the_window_share_a_case(
    store: SqlEventStore,
) -> None:
    intake = intake_for(store, window_days=30)
    water, rent, by_bsn_elsewhere = await intake.receive(
        [
            submit(signal("W-1")),
            submit(
                signal(
                    "H-1",
                    partner_id="beter-wonen",
                    partner_type=PartnerType.RENT,
                    signal_date=date(2026, 10, 20),
                    person=person(bsn=None, surname="Jansen"),  # same address
                ),
                partner_id="beter-wonen",
            ),
            submit(
                signal(
                    "Z-1",
                    partner_id="menzis",
                    partner_type=PartnerType.HEALTH_INSURANCE,
                    signal_date=date(2026, 10, 25),
                    person=person(postcode="7609ZZ", house_number=3),  # same BSN, new address
                ),
                partner_id="menzis",
            ),
        ]
    )

    assert [o.status for o in (water, rent, by_bsn_elsewhere)] == ["accepted"] * 3
    assert water.case_id == rent.case_id == by_bsn_elsewhere.case_id
    assert (await types_in_log(store)).count("SignalAttachedToCase") == 2


async def test_a_signal_after_the_window_opens_a_new_case(store: SqlEventStore) -> None:
    intake = intake_for(store, window_days=30, repeat_window_days=0)
    [first] = await intake.receive([submit(signal("A"))])
    [later] = await intake.receive([submit(signal("B", signal_date=date(2026, 11, 5)))])

    assert later.status == "accepted"
    assert later.case_id != first.case_id


async def test_same_partner_again_for_no_more_money_is_closed_as_repeat(
    store: SqlEventStore,
) -> None:
    intake = intake_for(store, window_days=30, repeat_window_days=90)
    await intake.receive([submit(signal("A", amount=Decimal("200.00")))])

    [repeat] = await intake.receive(
        [submit(signal("B", amount=Decimal("150.00"), signal_date=date(2026, 11, 20)))]
    )
    [higher] = await intake.receive(
        [submit(signal("C", amount=Decimal("450.00"), signal_date=date(2026, 11, 25)))]
    )

    assert repeat.status == higher.status == "accepted"
    closed = [r.event for r in await store.read_stream(f"case-{repeat.case_id}")]
    assert isinstance(closed[-1], CaseClosed)
    assert closed[-1].outcome is Outcome.REPEAT_SIGNAL
    assert [
        type(e) for e in (r.event for r in await store.read_stream(f"case-{higher.case_id}"))
    ] == [CaseOpened]


async def test_update_changes_the_amount_and_a_repeated_update_is_a_duplicate(
    store: SqlEventStore,
) -> None:
    intake = intake_for(store)
    [original] = await intake.receive([submit(signal())])
    update = signal(kind=SignalKind.UPDATE, amount=Decimal("80.00"), signal_date=date(2026, 10, 9))

    [updated] = await intake.receive([submit(update)])
    [again] = await intake.receive([submit(update)])

    assert (updated.status, again.status) == ("accepted", "duplicate")
    signal_stream = [r.event for r in await store.read_stream(f"signal-{original.signal_id}")]
    assert isinstance(signal_stream[-1], SignalUpdated)
    assert (signal_stream[-1].previous_amount, signal_stream[-1].amount) == (
        Decimal("123.45"),
        Decimal("80.00"),
    )
    # The original vroegsignaal sent once more is still a duplicate, not a conflict.
    [resent] = await intake.receive([submit(signal())])
    assert resent.status == "duplicate"


async def test_update_or_withdrawal_of_an_unknown_signal_is_rejected(store: SqlEventStore) -> None:
    intake = intake_for(store)
    outcomes = await intake.receive(
        [
            submit(signal("nope", kind=SignalKind.UPDATE)),
            submit(signal("nope", kind=SignalKind.WITHDRAWAL, person=None, amount=None)),
        ]
    )
    assert [o.status for o in outcomes] == ["rejected", "rejected"]
    assert all("never sent" in o.reasons[0].problem for o in outcomes)


async def test_withdrawing_the_only_signal_cancels_the_case_once(store: SqlEventStore) -> None:
    intake = intake_for(store)
    [original] = await intake.receive([submit(signal())])
    withdrawal = signal(kind=SignalKind.WITHDRAWAL, person=None, amount=None)

    [withdrawn] = await intake.receive([submit(withdrawal)])
    [again] = await intake.receive([submit(withdrawal)])

    assert (withdrawn.status, again.status) == ("accepted", "duplicate")
    case_events = [r.event for r in await store.read_stream(f"case-{original.case_id}")]
    assert isinstance(case_events[-1], CaseCancelled)
    [update_after] = await intake.receive([submit(signal(kind=SignalKind.UPDATE))])
    assert update_after.status == "rejected"


async def test_withdrawing_one_of_two_signals_keeps_the_case(store: SqlEventStore) -> None:
    intake = intake_for(store)
    first, second = await intake.receive(
        [
            submit(signal("A")),
            submit(
                signal("B", partner_id="menzis", partner_type=PartnerType.HEALTH_INSURANCE),
                partner_id="menzis",
            ),
        ]
    )
    await intake.receive([submit(signal("A", kind=SignalKind.WITHDRAWAL, person=None))])
    assert first.case_id == second.case_id
    assert "CaseCancelled" not in await types_in_log(store)


async def test_invalid_input_is_recorded_as_rejected_with_its_raw_text(
    store: SqlEventStore,
) -> None:
    intake = intake_for(store)
    problems = [
        FieldProblem("client.postcode", "must look like 1234AB"),
        FieldProblem("bedrag", "must not be negative"),
    ]
    [outcome] = await intake.receive([dataclasses.replace(submit(problems), raw="raw;line")])

    assert outcome.status == "rejected"
    assert outcome.reasons == tuple(problems)
    [recorded] = await store.read_all()
    assert isinstance(recorded.event, SignalRejected)
    assert [r.field for r in recorded.event.reasons] == ["client.postcode", "bedrag"]
    async with store.engine.connect() as conn:
        records = await read_personal_records(conn, subject_ids=[recorded.event.rejection_id])
    assert records[recorded.event.rejection_id].content == "raw;line"


async def test_a_partner_cannot_send_a_type_it_is_not_registered_for(
    store: SqlEventStore,
) -> None:
    intake = intake_for(store)
    [outcome] = await intake.receive([submit(signal(partner_type=PartnerType.RENT))])
    assert outcome.status == "rejected"
    assert outcome.reasons[0].field == "signaalpartnerType"


async def test_an_address_outside_the_municipality_is_accepted_and_marked(
    store: SqlEventStore,
) -> None:
    intake = intake_for(store)
    [outcome] = await intake.receive([submit(signal(person=person(postcode="7550AA")))])
    received = (await store.read_all())[0].event
    assert outcome.status == "accepted"
    assert isinstance(received, SignalReceived)
    assert (received.in_municipality, received.gemeentecode, received.pc4) == (
        False,
        "0141",
        "7550",
    )


async def test_every_submission_gets_exactly_one_outcome(store: SqlEventStore) -> None:
    intake = intake_for(store)
    batch = [
        submit(signal("A")),
        submit(signal("A")),  # duplicate within the batch
        submit([FieldProblem("bedrag", "is missing")]),
        submit(signal("B", partner_type=PartnerType.ENERGY)),  # not registered
        submit(signal("C", person=person(postcode="7601CD", house_number=1, bsn=BSN_B))),
    ]
    outcomes = await intake.receive(batch)

    assert [o.status for o in outcomes] == [
        "accepted",
        "duplicate",
        "rejected",
        "rejected",
        "accepted",
    ]
    async with store.engine.connect() as conn:
        kept = (await conn.execute(select(func.count()).select_from(personal_data))).scalar()
    assert kept == 4  # two accepted signals, two rejected inputs
    assert (await types_in_log(store)).count("SignalAttachedToCase") == 0
    assert isinstance((await store.read_all())[0].event, SignalReceived)


async def test_the_same_rejected_message_delivered_again_is_recorded_once(
    store: SqlEventStore,
) -> None:
    intake = intake_for(store)
    bad = dataclasses.replace(
        submit([FieldProblem("bedrag", "is missing")]), raw="V-9;;", message_id="msg-9"
    )
    [first] = await intake.receive([bad])
    [again] = await intake.receive([bad])
    in_one_batch = await intake.receive([bad, bad])

    assert first.status == again.status == "rejected"
    assert first.rejection_id == again.rejection_id == in_one_batch[1].rejection_id
    assert await types_in_log(store) == ["SignalRejected"]
    async with store.engine.connect() as conn:
        kept = (await conn.execute(select(func.count()).select_from(personal_data))).scalar()
    assert kept == 1
