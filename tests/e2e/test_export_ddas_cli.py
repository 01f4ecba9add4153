"""`signaalhub export ddas` as an operator runs it, on the embedded SQLite default."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import stat
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import jsonschema
import pytest
import typer
from sqlalchemy import select, update
from typer.testing import CliRunner, Result

import events.catalogue  # noqa: F401  (registers the domain events)
from adapters.cli import export_command
from adapters.cli.running import console
from events.migrations import upgrade
from events.registry import catalogue
from events.store import SqlEventStore
from events.store.engine import create_engine
from services.intake.tables import personal_data
from services.privacy.keys import KeyRing, MasterKey, using_keyring
from tests.support.intake import BSN_A, BSN_B, person, routing_intake_for, signal, submit

CONFIG = Path(__file__).resolve().parents[2] / "config"
SCHEMA = CONFIG.parent / "services" / "ddas" / "json_schema_Uitwisselmodel.json"

app = typer.Typer()
app.add_typer(export_command.app, name="export")  # as adapters/cli/main.py registers it


@pytest.fixture(autouse=True)
def master_key() -> Iterator[KeyRing]:
    # Installed for the process, so the command (run in a thread) reads with it too.
    with using_keyring(KeyRing(MasterKey.from_bytes(os.urandom(32)))) as keyring:
        yield keyring


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "HUB_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite3'}",
        "HUB_CONFIG_DIR": str(CONFIG),
        "HUB_LOG_FORMAT": "json",
    }


async def ingest_october(database_url: str) -> None:
    """Three households in October, one in November; synthetic people only."""
    engine = create_engine(database_url)
    await upgrade(engine)
    store = SqlEventStore(engine, catalogue)
    try:
        await routing_intake_for(store).receive(
            [
                submit(signal("E-1")),
                submit(signal("E-2", person=person(postcode="7601CD", bsn=BSN_B))),
                submit(
                    signal(
                        "E-3",
                        amount=Decimal("12.00"),
                        person=person(postcode="7602EF", house_number=5, bsn=None),
                    )
                ),
                submit(
                    signal(
                        "E-4",
                        signal_date=date(2026, 11, 2),
                        person=person(postcode="7600AA", bsn=None),
                    )
                ),
            ]
        )
    finally:
        await store.close()


def temporary_files(directory: Path, name: str) -> list[Path]:
    """What ``write_delivery`` leaves while writing ``name``: nothing once it is done."""
    return list(directory.glob(f".{name}.*"))


async def invoke(args: list[str], env: dict[str, str]) -> Result:
    # The command runs its own event loop, as it does from a terminal.
    return await asyncio.to_thread(lambda: CliRunner().invoke(app, args, env=env))


async def test_export_writes_a_valid_delivery_and_prints_counts_only(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await ingest_october(env["HUB_DATABASE_URL"])
    monkeypatch.setattr(export_command, "PROGRESS_FROM_EVENTS", 1)  # the bar's path too
    monkeypatch.setattr(console, "_width", 200)
    out = tmp_path / "out" / "ddas-2026-10.json"

    result = await invoke(
        ["export", "ddas", "--from", "2026-10-01", "--to", "2026-10-31", "--out", str(out)], env
    )

    assert result.exit_code == 0, result.output
    document = json.loads(out.read_text(encoding="utf-8"))
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.validate(
        document,
        schema,
        cls=jsonschema.Draft202012Validator,
        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
    )
    [levering] = document["leveringen"]
    assert len(levering["vroegsignalen"]) == 3
    assert len(levering["vroegsignaalzaken"]) == 3
    assert stat.S_IMODE(out.stat().st_mode) == 0o600  # it holds personal data
    assert "DDAS delivery 2026-10-01 to 2026-10-31" in result.output
    assert any(line.split()[:4] == ["│", "0141", "│", "3"] for line in result.output.splitlines())
    assert any(line.split()[:4] == ["│", "all", "│", "3"] for line in result.output.splitlines())
    assert str(out) in result.output.replace("\n", "")
    assert "disclosure of 3 cases' personal data" in result.output.replace("\n", " ")
    written = out.read_text(encoding="utf-8")
    for personal in (BSN_A, BSN_B, "Hoff", "Grotestraat", "7604AB"):
        assert personal in written
        assert personal not in result.output


async def test_an_invalid_delivery_is_not_written_and_the_paths_are_listed(
    env: dict[str, str], tmp_path: Path
) -> None:
    await ingest_october(env["HUB_DATABASE_URL"])
    config = tmp_path / "config"
    shutil.copytree(CONFIG, config)
    header = (config / "ddas.toml").read_text(encoding="utf-8")
    person_block = header[header.index("[[aanleverende_organisatie.contactpersonen]]") :]
    person_block = person_block[: person_block.index("\n\n")]
    (config / "ddas.toml").write_text(header + "\n" + person_block + "\n", encoding="utf-8")
    out = tmp_path / "ddas.json"

    result = await invoke(
        ["export", "ddas", "--from", "2026-10-01", "--to", "2026-10-31", "--out", str(out)],
        {**env, "HUB_CONFIG_DIR": str(config)},
    )

    assert result.exit_code == 1, result.output
    assert not out.exists()
    assert "nothing was written" in result.output
    assert "$.leveringen[0].aanleverende_organisatie.contactpersoonen" in result.output


async def test_a_wrong_header_or_period_exits_2_and_says_why(
    env: dict[str, str], tmp_path: Path
) -> None:
    config = tmp_path / "config"
    shutil.copytree(CONFIG, config)
    header = (config / "ddas.toml").read_text(encoding="utf-8")
    (config / "ddas.toml").write_text(header.replace('kvk_nummer = "00000000"', ""), "utf-8")
    out = tmp_path / "ddas.json"
    args = ["export", "ddas", "--from", "2026-10-01", "--to", "2026-10-31", "--out", str(out)]

    missing = await invoke(args, {**env, "HUB_CONFIG_DIR": str(config)})
    backwards = await invoke(
        ["export", "ddas", "--from", "2026-10-31", "--to", "2026-10-01", "--out", str(out)], env
    )

    assert missing.exit_code == 2
    assert "aanleverende_organisatie.kvk_nummer: Field required" in missing.output
    assert backwards.exit_code == 2
    assert "ends (2026-10-01) before it starts (2026-10-31)" in backwards.output
    assert not out.exists()


async def test_an_unwritable_file_is_an_error_not_a_traceback(
    env: dict[str, str], tmp_path: Path
) -> None:
    await ingest_october(env["HUB_DATABASE_URL"])
    (tmp_path / "taken").mkdir()  # a directory where the file should go

    result = await invoke(
        [
            "export",
            "ddas",
            "--from",
            "2026-10-01",
            "--to",
            "2026-10-31",
            "--out",
            str(tmp_path / "taken"),
        ],
        env,
    )

    assert result.exit_code == 1
    assert f"cannot write {tmp_path / 'taken'}" in result.output.replace("\n", "")
    assert temporary_files(tmp_path, "taken") == []


async def test_a_tampered_personal_record_stops_the_export(
    env: dict[str, str], tmp_path: Path
) -> None:
    await ingest_october(env["HUB_DATABASE_URL"])
    engine = create_engine(env["HUB_DATABASE_URL"])
    async with engine.begin() as conn:
        [(subject_id, sealed)] = (
            await conn.execute(select(personal_data.c.subject_id, personal_data.c.data).limit(1))
        ).all()
        flipped = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
        await conn.execute(
            update(personal_data)
            .where(personal_data.c.subject_id == subject_id)
            .values(data=flipped)
        )
    await engine.dispose()
    out = tmp_path / "ddas.json"

    result = await invoke(
        ["export", "ddas", "--from", "2026-10-01", "--to", "2026-10-31", "--out", str(out)], env
    )

    assert result.exit_code == 1, result.output
    assert "cannot read the personal data" in result.output
    assert "nothing written" in result.output
    assert not out.exists()


async def test_a_quiet_period_still_reports_each_served_municipality(
    env: dict[str, str], tmp_path: Path
) -> None:
    await ingest_october(env["HUB_DATABASE_URL"])
    out = tmp_path / "ddas-2025.json"

    result = await invoke(
        ["export", "ddas", "--from", "2025-01-01", "--to", "2025-12-31", "--out", str(out)], env
    )

    assert result.exit_code == 0, result.output
    document = json.loads(out.read_text(encoding="utf-8"))
    assert [
        (lev["gemeentecode"], lev["vroegsignalen"], lev["vroegsignaalzaken"])
        for lev in document["leveringen"]
    ] == [("0141", [], [])]
