"""Erasing personal data on every backend: on a person's request and by the retention policy.

The person's records read as erased, other households' records are untouched, the erasure is
recorded as ``PersonalDataErased``, and every other event stays exactly as it was.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import typer
from sqlalchemy import select
from typer.testing import CliRunner

from adapters.cli import privacy_commands
from adapters.http.app import create_app
from events.catalogue.privacy import PersonalDataErased
from events.catalogue.referrals import ReferralRequested
from events.catalogue.routing import CaseRouted
from events.catalogue.signals import SignalReceived
from events.catalogue.vocabulary import SignalKind
from events.migrations import upgrade
from events.registry import EventRegistry, catalogue
from events.store import SqlEventStore
from events.store.engine import create_engine
from services.ddas.personal_details import load_client_details
from services.intake.commands import FieldProblem
from services.intake.tables import household_keys, personal_data
from services.privacy.erase import Erasure, erase, erase_by_bsn, erase_by_case, run_retention
from services.privacy.keys import KeyRing, MasterKey, using_keyring
from services.privacy.personal_store import read_personal_records
from services.privacy.retention import RetentionPolicy, add_months
from services.referrals.case_details import read_case_details
from services.referrals.teams import Teams
from services.settings import Settings
from tests.support.intake import BSN_A, BSN_B, person, routing_intake_for, signal, submit

SECOND = person(bsn=BSN_B, postcode="7601CD", house_number=1, surname="Zwaneveld")
TOKEN = "token-van-noord-" + "n" * 24


@pytest.fixture
def registry() -> EventRegistry:
    return catalogue


@pytest.fixture(autouse=True)
def master_key() -> Iterator[KeyRing]:
    with using_keyring(KeyRing(MasterKey.from_bytes(os.urandom(32)))) as keyring:
        yield keyring


async def event_types(store: SqlEventStore) -> Counter[str]:
    return Counter(r.event_type for r in await store.read_all(limit=100_000))


async def erased_events(store: SqlEventStore) -> list[PersonalDataErased]:
    return [
        r.event
        for r in await store.read_all(limit=100_000)
        if isinstance(r.event, PersonalDataErased)
    ]


async def household_of(store: SqlEventStore, signal_id: uuid.UUID | None) -> uuid.UUID:
    for recorded in await store.read_stream(f"signal-{signal_id}"):
        if isinstance(recorded.event, SignalReceived):
            return recorded.event.household_id
    raise AssertionError("no SignalReceived")


async def test_a_person_is_erased_on_request_and_nothing_else_changes(
    store: SqlEventStore,
) -> None:
    intake = routing_intake_for(store)
    first, second = await intake.receive(
        [submit(signal("S-1")), submit(signal("S-2", person=SECOND))]
    )
    before = await event_types(store)
    household = await household_of(store, first.signal_id)

    result = await erase_by_bsn(store, BSN_A, "AVG art. 17, verzoek 2026-017", "cli:tester")

    assert result.found
    assert [(e.owner_id, e.rule, e.records) for e in result.erasures] == [(household, "verzoek", 1)]
    async with store.engine.connect() as conn:
        records = await read_personal_records(
            conn,
            subject_ids=[first.signal_id, second.signal_id],  # type: ignore[list-item]
        )
        details = await read_case_details(conn, first.case_id)  # type: ignore[arg-type]
        other = await read_case_details(conn, second.case_id)  # type: ignore[arg-type]
        clients = await load_client_details(conn, [first.signal_id, second.signal_id])  # type: ignore[list-item]
        keys_left = {row.household_id for row in (await conn.execute(select(household_keys))).all()}
    assert records[first.signal_id].erased  # type: ignore[index]
    assert (records[second.signal_id].details() or {})["surname"] == "Zwaneveld"  # type: ignore[index]
    assert details.resident is None
    assert details.personal_data_erased is True
    assert [s.amount for s in details.signals] == [Decimal("123.45")]  # the facts stay
    assert other.resident is not None
    assert other.personal_data_erased is False
    assert clients[first.signal_id] is None  # type: ignore[index]
    assert (clients[second.signal_id] or {})["surname"] == "Zwaneveld"  # type: ignore[index]
    assert household not in keys_left, "the hashed BSN and address no longer lead to it"
    assert await household_of(store, second.signal_id) in keys_left

    after = await event_types(store)
    assert after.pop("PersonalDataErased") == 1
    assert after == before, "signal, case and referral events untouched"
    [erased] = await erased_events(store)
    assert (erased.household_id, erased.rule, erased.records) == (household, "verzoek", 1)
    assert (erased.reason, erased.requested_by) == ("AVG art. 17, verzoek 2026-017", "cli:tester")
    assert BSN_A not in erased.model_dump_json()

    assert not (await erase_by_bsn(store, BSN_A, "again", "cli:tester")).found


async def test_data_sent_after_an_erasure_is_readable_and_the_erased_stays_erased(
    store: SqlEventStore,
) -> None:
    intake = routing_intake_for(store)
    [first] = await intake.receive([submit(signal("S-1"))])
    await erase_by_case(store, first.case_id, "verzoek", "cli:tester")  # type: ignore[arg-type]

    update = signal(
        kind=SignalKind.UPDATE,
        amount=Decimal("80.00"),
        signal_date=date(2026, 10, 9),
        person=person(phone="0612345678"),
    )
    [updated] = await intake.receive([submit(update)])

    assert updated.status == "accepted"
    async with store.engine.connect() as conn:
        details = await read_case_details(conn, first.case_id)  # type: ignore[arg-type]
        records = await read_personal_records(
            conn, households=[await household_of(store, first.signal_id)]
        )
    assert details.resident is not None
    assert details.resident["phone"] == "0612345678"
    assert [(r.kind, r.erased) for r in records.values()] == [
        ("signal", True),
        ("signal-update", False),
    ]


async def test_an_unknown_person_or_case_is_not_found(store: SqlEventStore) -> None:
    await routing_intake_for(store).receive([submit(signal("S-1"))])
    assert not (await erase_by_bsn(store, BSN_B, "verzoek", "cli:tester")).found
    assert not (await erase_by_case(store, uuid.uuid4(), "verzoek", "cli:tester")).found
    assert await erased_events(store) == []


async def test_retention_erases_only_what_expired_and_a_dry_run_changes_nothing(
    store: SqlEventStore,
) -> None:
    intake = routing_intake_for(store)
    rejected = dataclasses.replace(submit([FieldProblem("bedrag", "is missing")]), raw="V-9;Hoff")
    closed, still_open, refused = await intake.receive(
        [
            submit(signal("S-1", amount=Decimal("50.00"))),  # below the threshold: closed
            submit(signal("S-2", person=SECOND)),  # routed to a team: open
            rejected,
        ]
    )
    routed = [
        r
        for r in await store.read_stream(f"case-{closed.case_id}")
        if isinstance(r.event, CaseRouted)
    ]
    assert routed[-1].event.outcome is not None  # type: ignore[attr-defined]
    closed_on = routed[-1].recorded_at.date()
    async with store.engine.connect() as conn:
        received_at = (
            await conn.execute(
                select(personal_data.c.recorded_at).where(
                    personal_data.c.subject_id == refused.rejection_id
                )
            )
        ).scalar_one()
    policy = RetentionPolicy()
    subjects = [closed.signal_id, still_open.signal_id, refused.rejection_id]

    async def run(day: date, *, dry_run: bool) -> dict[str, tuple[int, int]]:
        result = await run_retention(store, policy, day, dry_run=dry_run, requested_by="retention")
        return result.per_rule()

    assert await run(received_at.date(), dry_run=True) == {}
    three_months = add_months(received_at.date(), 3)
    a_year = add_months(closed_on, 12)
    last = await store.last_position()
    assert await run(three_months, dry_run=True) == {"rejected": (1, 1)}
    assert await run(a_year, dry_run=True) == {"default": (1, 1), "rejected": (1, 1)}
    assert await store.last_position() == last, "a dry run records nothing"
    async with store.engine.connect() as conn:
        unchanged = await read_personal_records(conn, subject_ids=subjects)  # type: ignore[arg-type]
    assert not any(r.erased for r in unchanged.values())

    before = await event_types(store)
    assert await run(a_year, dry_run=False) == {"default": (1, 1), "rejected": (1, 1)}

    async with store.engine.connect() as conn:
        records = await read_personal_records(conn, subject_ids=subjects)  # type: ignore[arg-type]
    assert [records[s].erased for s in subjects] == [True, False, True]  # type: ignore[index]
    assert sorted((e.rule, e.records, e.requested_by) for e in await erased_events(store)) == [
        ("default", 1, "retention"),
        ("rejected", 1, "retention"),
    ]
    after = await event_types(store)
    assert after.pop("PersonalDataErased") == 2
    assert after == before
    assert await run(add_months(a_year, 24), dry_run=False) == {}, "nothing twice; open stays"


def test_the_commands_never_print_the_bsn(tmp_path: Path) -> None:
    database = tmp_path / "hub.sqlite3"

    async def prepare() -> uuid.UUID:
        engine = create_engine(f"sqlite+aiosqlite:///{database}")
        await upgrade(engine)
        store = SqlEventStore(engine, catalogue)
        try:
            closed = signal("S-1", amount=Decimal("50.00"))  # below the threshold: closed
            [outcome] = await routing_intake_for(store).receive([submit(closed)])
            return outcome.case_id  # type: ignore[return-value]
        finally:
            await store.close()

    case_id = asyncio.run(prepare())
    app = typer.Typer()
    app.add_typer(privacy_commands.retention_app, name="retention")
    app.command("erase")(privacy_commands.erase)
    env = {"HUB_DATABASE_URL": f"sqlite+aiosqlite:///{database}"}
    runner = CliRunner()

    dry = runner.invoke(app, ["retention", "run", "--dry-run", "--today", "2099-01-01"], env=env)
    assert dry.exit_code == 0, dry.output
    assert "default" in dry.output
    assert "1 would be erased" in dry.output

    refused = runner.invoke(app, ["erase", "--bsn", "123456789", "--reason", "x"], env=env)
    assert refused.exit_code == 2
    assert "123456789" not in refused.output

    done = runner.invoke(app, ["erase", "--bsn", BSN_A, "--reason", "verzoek"], env=env)
    assert done.exit_code == 0, done.output
    assert "1 records erased" in done.output
    assert BSN_A not in done.output

    again = runner.invoke(app, ["erase", "--case", str(case_id), "--reason", "verzoek"], env=env)
    assert again.exit_code == 0, again.output
    gone = runner.invoke(app, ["erase", "--bsn", BSN_A, "--reason", "verzoek"], env=env)
    assert gone.exit_code == 1
    assert BSN_A not in gone.output


async def test_retention_leaves_a_household_that_opened_a_case_since_it_was_found(
    store: SqlEventStore,
) -> None:
    [still_open] = await routing_intake_for(store).receive([submit(signal("S-1"))])
    household = await household_of(store, still_open.signal_id)
    found = Erasure(household, "default", 1, date(2026, 1, 1))

    erased = await erase(
        store,
        [found],
        reason=lambda _: "bewaartermijn verstreken",
        requested_by="retention",
        now=datetime.now(UTC),
        unless_open=True,
    )

    assert erased == ()
    assert await erased_events(store) == []
    async with store.engine.connect() as conn:
        records = await read_personal_records(conn, households=[household])
    assert [r.erased for r in records.values()] == [False]


async def test_the_referral_api_shows_an_erased_resident_as_null(store: SqlEventStore) -> None:
    intake = routing_intake_for(store)
    [outcome] = await intake.receive([submit(signal("S-1"))])
    referral = next(
        r.event.referral_id
        for r in await store.read_all(limit=1000)
        if isinstance(r.event, ReferralRequested)
    )
    app = create_app(Settings(), intake=intake)
    app.state.teams = Teams.from_tokens({"vroeg-erop-af-noord": TOKEN})
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://hub"
    ) as client:
        before = await client.get(f"/v1/verwijzingen/{referral}", headers=headers)
        await erase_by_case(store, outcome.case_id, "verzoek", "cli:tester")  # type: ignore[arg-type]
        after = await client.get(f"/v1/verwijzingen/{referral}", headers=headers)

    assert before.status_code == after.status_code == 200
    assert before.json()["_embedded"]["zaak"]["inwoner"]["burgerservicenummer"] == BSN_A
    case = after.json()["_embedded"]["zaak"]
    assert case["inwoner"] is None
    assert [s["bedrag"] for s in case["signalen"]] == ["123.45"]
    assert BSN_A not in after.text
