"""Personal data sealed per household on every backend: nothing readable in the database,
everything readable through the personal-data store, tampering detected, and a master key
rotation that keeps every record readable without rewriting one."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import os
import stat
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import typer
from pydantic import SecretStr
from sqlalchemy import select, update
from structlog.testing import capture_logs
from typer.testing import CliRunner

from adapters.cli import privacy_commands
from events.migrations import upgrade
from events.registry import EventRegistry, catalogue
from events.store import SqlEventStore
from events.store.engine import create_engine
from services.intake.commands import FieldProblem
from services.intake.tables import personal_data
from services.privacy.cipher import TamperedPersonalData
from services.privacy.household_keys import erase_data_keys, key_counts, rewrap_all
from services.privacy.keys import (
    KeyRing,
    MasterKey,
    MasterKeyError,
    keys_from_file,
    load_keyring,
    using_keyring,
)
from services.privacy.personal_store import (
    blank_plaintext_records,
    read_personal_records,
    seal_plaintext_records,
)
from services.privacy.tables import household_data_keys
from services.referrals.case_details import read_case_details
from services.settings import Settings
from tests.support.intake import BSN_A, BSN_B, intake_for, person, signal, submit

OLD = MasterKey.from_bytes(os.urandom(32))
NEW = MasterKey.from_bytes(os.urandom(32))
SECOND = person(bsn=BSN_B, postcode="7601CD", house_number=1, surname="Zwaneveld")
THIRD = person(bsn=None, postcode="7607XY", house_number=88, street="Wierdensestraat")
PLAIN = (BSN_A, BSN_B, "Hoff", "Zwaneveld", "Grotestraat", "Wierdensestraat", "7604AB", "7601CD")


@pytest.fixture
def registry() -> EventRegistry:
    return catalogue


@pytest.fixture(autouse=True)
def old_master_key() -> Iterator[KeyRing]:
    with using_keyring(KeyRing(OLD)) as keyring:
        yield keyring


async def intake_three_households_and_a_rejection(store: SqlEventStore) -> list[uuid.UUID]:
    intake = intake_for(store)
    rejected = dataclasses.replace(
        submit([FieldProblem("bedrag", "is missing")]), raw="V-9;Hoff;Grotestraat 12"
    )
    outcomes = await intake.receive(
        [
            submit(signal("S-1")),
            submit(signal("S-2", person=SECOND)),
            submit(signal("S-3", person=THIRD)),
            rejected,
        ]
    )
    assert [o.status for o in outcomes] == ["accepted"] * 3 + ["rejected"]
    return [o.signal_id or o.rejection_id for o in outcomes]  # type: ignore[misc]


async def dump(store: SqlEventStore) -> str:
    async with store.engine.connect() as conn:
        rows = (await conn.execute(select(personal_data))).all()
        keys = (await conn.execute(select(household_data_keys))).all()
    return "\n".join(repr(tuple(r)) for r in [*rows, *keys])


async def test_no_plain_personal_data_is_stored_and_all_of_it_reads_back(
    store: SqlEventStore,
) -> None:
    subjects = await intake_three_households_and_a_rejection(store)

    dumped = await dump(store)
    assert dumped.count("'v1:") == 4, "every record is sealed"
    for plain in PLAIN:
        assert plain not in dumped
    assert base64.b64encode(OLD.secret).decode() not in dumped
    async with store.engine.connect() as conn:
        records = await read_personal_records(conn, subject_ids=subjects)
        household_keys = (await conn.execute(select(household_data_keys))).all()
    assert len(household_keys) == 4  # three households, one rejected input
    assert {row.key_id for row in household_keys} == {OLD.key_id}
    first, second, third, rejected = (records[s] for s in subjects)
    assert (first.details() or {})["surname"] == "Hoff"
    assert (first.details() or {})["bsn"] == BSN_A
    assert (second.details() or {})["surname"] == "Zwaneveld"
    assert (third.details() or {})["street"] == "Wierdensestraat"
    assert rejected.content == "V-9;Hoff;Grotestraat 12"
    assert rejected.kind == "rejected-input"
    assert rejected.household_id is None


async def test_a_case_shows_its_resident_decrypted(store: SqlEventStore) -> None:
    [outcome] = await intake_for(store).receive([submit(signal("S-1"))])
    async with store.engine.connect() as conn:
        details = await read_case_details(conn, outcome.case_id)  # type: ignore[arg-type]
    assert details.resident is not None
    assert (details.resident["bsn"], details.resident["street"]) == (BSN_A, "Grotestraat")
    assert details.personal_data_erased is False


async def test_a_changed_or_swapped_record_is_detected(store: SqlEventStore) -> None:
    first, second, *_ = await intake_three_households_and_a_rejection(store)
    async with store.engine.begin() as conn:
        sealed = (
            await conn.execute(
                select(personal_data.c.data).where(personal_data.c.subject_id == first)
            )
        ).scalar_one()
        prefix, key_id, body = sealed.split(":")
        raw = bytearray(base64.b64decode(body))
        raw[20] ^= 0x80
        changed = f"{prefix}:{key_id}:{base64.b64encode(bytes(raw)).decode()}"
        await conn.execute(
            update(personal_data).where(personal_data.c.subject_id == first).values(data=changed)
        )
    async with store.engine.connect() as conn:
        with pytest.raises(TamperedPersonalData, match=str(first)):
            await read_personal_records(conn, subject_ids=[first])
        # The other household's record is untouched and still reads.
        assert not (await read_personal_records(conn, subject_ids=[second]))[second].erased

    # A record of one household copied onto another household's row does not open either.
    async with store.engine.begin() as conn:
        await conn.execute(
            update(personal_data).where(personal_data.c.subject_id == second).values(data=sealed)
        )
    async with store.engine.connect() as conn:
        with pytest.raises(TamperedPersonalData, match=str(second)):
            await read_personal_records(conn, subject_ids=[second])


async def test_rotating_the_master_key_keeps_every_record_readable(store: SqlEventStore) -> None:
    subjects = await intake_three_households_and_a_rejection(store)
    before = await dump(store)
    async with store.engine.connect() as conn:
        records_before = (await conn.execute(select(personal_data))).all()

    async with store.unit_of_work() as uow:
        report = await rewrap_all(uow.connection, KeyRing(NEW, (OLD,)))

    assert report.rewrapped == {OLD.key_id: 4}
    assert (report.already_current, report.erased, report.current_key_id) == (0, 0, NEW.key_id)
    async with store.engine.connect() as conn:
        assert await key_counts(conn) == {NEW.key_id: 4}
        assert (await conn.execute(select(personal_data))).all() == records_before
        # The old master key is gone from the configuration: everything still reads.
        with using_keyring(KeyRing(NEW)):
            records = await read_personal_records(conn, subject_ids=subjects)
    assert (records[subjects[1]].details() or {})["surname"] == "Zwaneveld"
    assert await dump(store) != before  # only the wrapped keys changed

    async with store.unit_of_work() as uow:
        again = await rewrap_all(uow.connection, KeyRing(NEW))
    assert (again.total_rewrapped, again.already_current) == (0, 4)


async def test_a_key_wrapped_under_an_unconfigured_master_key_is_named(
    store: SqlEventStore,
) -> None:
    subjects = await intake_three_households_and_a_rejection(store)
    async with store.engine.connect() as conn:
        with using_keyring(KeyRing(NEW)), pytest.raises(MasterKeyError, match=OLD.key_id):
            await read_personal_records(conn, subject_ids=subjects)
    async with store.unit_of_work() as uow:
        with pytest.raises(MasterKeyError, match=f"{OLD.key_id} \\(4 keys\\)"):
            await rewrap_all(uow.connection, KeyRing(NEW))


def test_master_keys_come_from_a_key_file_first_line_current(tmp_path: Path) -> None:
    path = tmp_path / "master.keys"
    lines = [base64.b64encode(k.secret).decode() for k in (NEW, OLD)]
    path.write_text("# rotated 2026-11-28\n" + "\n".join(lines) + "\n", encoding="ascii")
    path.chmod(0o644)
    with capture_logs() as logged:
        keyring = load_keyring(
            Settings(database_url="postgresql+asyncpg://hub@db/hub", master_key_file=path)
        )
    assert [e["event"] for e in logged] == ["master_key_file_not_private"]
    assert all(line not in repr(logged) for line in lines)
    assert (keyring.current.key_id, [k.key_id for k in keyring.older]) == (
        NEW.key_id,
        [OLD.key_id],
    )
    path.write_text("bm90IGEga2V5\n", encoding="ascii")
    with pytest.raises(MasterKeyError, match="line 1") as raised:
        keys_from_file(path)
    assert "bm90IGEga2V5" not in str(raised.value)


def test_the_embedded_default_generates_one_private_key_file(tmp_path: Path) -> None:
    generated = tmp_path / "var" / "master.key"
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite3'}")

    with capture_logs() as logged:
        first = load_keyring(settings, generated=generated)
        again = load_keyring(settings, generated=generated)

    assert stat.S_IMODE(generated.stat().st_mode) == 0o600
    assert first == again, "the same key on every later start"
    assert [e["event"] for e in logged] == ["master_key_generated"], "said once, when made"
    assert logged[0]["key_id"] == first.current.key_id
    assert base64.b64encode(first.current.secret).decode() not in repr(logged)
    assert [p.name for p in generated.parent.iterdir()] == ["master.key"]
    with pytest.raises(MasterKeyError, match="HUB_MASTER_KEY"):
        load_keyring(Settings(database_url="postgresql+asyncpg://hub@db/hub"), generated=generated)


def test_settings_with_a_configured_key_build_the_keyring() -> None:
    text = base64.b64encode(NEW.secret).decode()
    keyring = load_keyring(Settings(master_key=SecretStr(text)))
    assert keyring.current == NEW


def test_keys_rotate_and_status_on_the_command_line(tmp_path: Path) -> None:
    database = tmp_path / "hub.sqlite3"

    async def prepare() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{database}")
        await upgrade(engine)
        store = SqlEventStore(engine, catalogue)
        try:
            await intake_three_households_and_a_rejection(store)
        finally:
            await store.close()

    asyncio.run(prepare())
    app = typer.Typer()
    app.add_typer(privacy_commands.keys_app, name="keys")
    new, old = (base64.b64encode(k.secret).decode() for k in (NEW, OLD))
    url = f"sqlite+aiosqlite:///{database}"
    runner = CliRunner()

    refused = runner.invoke(
        app, ["keys", "rotate"], env={"HUB_DATABASE_URL": url, "HUB_MASTER_KEY": new}
    )
    assert refused.exit_code == 1
    assert f"{OLD.key_id} (4 keys)" in refused.output

    env = {"HUB_DATABASE_URL": url, "HUB_MASTER_KEY": new, "HUB_MASTER_KEY_PREVIOUS": old}
    rotated = runner.invoke(app, ["keys", "rotate"], env=env)
    assert rotated.exit_code == 0, rotated.output
    assert f"re-wrapped from {OLD.key_id}" in rotated.output
    assert "4 data keys re-wrapped" in rotated.output
    assert new not in rotated.output
    assert old not in rotated.output

    status = runner.invoke(
        app, ["keys", "status"], env={"HUB_DATABASE_URL": url, "HUB_MASTER_KEY": new}
    )
    assert status.exit_code == 0, status.output
    assert NEW.key_id in status.output
    assert OLD.key_id not in status.output


async def test_records_from_before_encryption_read_until_sealed_and_are_then_sealed(
    store: SqlEventStore,
) -> None:
    household, other = uuid.uuid4(), uuid.uuid4()
    subject, erased_subject, rejection = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    legacy = [
        (subject, household, "signal", '{"surname": "Hoff", "bsn": "999990019"}'),
        (erased_subject, other, "signal", '{"surname": "Zwaneveld"}'),
        (rejection, None, "rejected-input", "V-9;Hoff"),
    ]
    async with store.engine.begin() as conn:
        await conn.execute(
            personal_data.insert(),
            [
                {
                    "subject_id": s,
                    "household_id": h,
                    "kind": k,
                    "data": d,
                    "recorded_at": datetime.now(UTC),
                }
                for s, h, k, d in legacy
            ],
        )
        await erase_data_keys(conn, [other], datetime.now(UTC))  # no key row: nothing to erase
        await blank_plaintext_records(conn, [other])  # what an erasure does to old records
    subjects = [subject, erased_subject, rejection]
    async with store.engine.connect() as conn:
        before = await read_personal_records(conn, subject_ids=subjects)
    assert (before[subject].details() or {})["surname"] == "Hoff"
    assert before[erased_subject].erased
    assert before[rejection].content == "V-9;Hoff"

    async with store.unit_of_work() as uow:
        assert await seal_plaintext_records(uow.connection) == 2
    async with store.unit_of_work() as uow:
        assert await seal_plaintext_records(uow.connection) == 0  # nothing twice

    dumped = await dump(store)
    for plain in ("Hoff", "999990019", "Zwaneveld"):
        assert plain not in dumped
    async with store.engine.connect() as conn:
        after = await read_personal_records(conn, subject_ids=subjects)
    assert after[subject].details() == before[subject].details()
    assert after[rejection].content == "V-9;Hoff"
    assert after[erased_subject].erased


def test_keys_add_puts_a_new_current_key_first_in_a_private_file(tmp_path: Path) -> None:
    app = typer.Typer()
    app.add_typer(privacy_commands.keys_app, name="keys")
    path = tmp_path / "master.keys"
    runner = CliRunner()

    first = runner.invoke(app, ["keys", "add", "--file", str(path)])
    one = keys_from_file(path)
    second = runner.invoke(app, ["keys", "add", "--file", str(path)])
    two = keys_from_file(path)

    assert first.exit_code == second.exit_code == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert (one.older, two.older) == ((), (one.current,))
    assert two.current.key_id in second.output
    assert f"older: {one.current.key_id}" in second.output
    assert base64.b64encode(two.current.secret).decode() not in second.output
