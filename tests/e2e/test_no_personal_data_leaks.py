"""Personal data stays in the personal-data store: after ingesting a month of partner files,
no BSN, name, street, postcode, phone number, e-mail address or customer number appears in
the logs, the events or intake's lookup tables (DESIGN §9)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from typer.testing import CliRunner

from adapters.cli.main import app
from services.partners import load_partners
from services.synthetic_partner_files import SignalRow, SyntheticMunicipality, write_month

CONFIG = Path(__file__).resolve().parents[2] / "config"
TABLES_WITHOUT_PERSONAL_DATA = ("events", "intake_signals", "household_keys", "household_cases")


def personal_values(rows: list[SignalRow]) -> set[str]:
    values: set[str] = set()
    for row in rows:
        person, address = row.person, row.household.address
        values |= {person.achternaam, address.straatnaam, address.postcode, row.customer_number}
        values |= {v for v in (row.bsn, row.phone, row.email) if v}
    return {v for v in values if len(v) >= 5}  # short values ("Smit") match by accident


def test_a_month_of_signals_leaves_no_personal_data_outside_its_store(tmp_path: Path) -> None:
    partners = list(load_partners(CONFIG))
    months = SyntheticMunicipality(77, households=400, partners=partners)
    rows = months.month_of_signals(2026, 9, 300)
    files = write_month(
        SyntheticMunicipality(77, households=400, partners=partners),
        2026,
        9,
        300,
        tmp_path / "files",
        partners,
    )
    database = tmp_path / "hub.sqlite3"
    env = {"HUB_DATABASE_URL": f"sqlite+aiosqlite:///{database}", "HUB_LOG_FORMAT": "json"}
    logs = []
    for path in files:
        partner = path.stem.split("-", 2)[2]
        result = CliRunner().invoke(
            app,
            [
                "ingest",
                "--partner",
                partner,
                str(path),
                "--json",
                "--rejects",
                str(tmp_path / "r.csv"),
            ],
            env=env,
        )
        assert result.exit_code == 0, result.output
        logs.append(result.output)

    secrets = personal_values(rows)
    assert len(secrets) > 300, "the test must look for many real values"
    connection = sqlite3.connect(database)
    dumped = {
        table: "\n".join(repr(r) for r in connection.execute(f"SELECT * FROM {table}"))
        for table in TABLES_WITHOUT_PERSONAL_DATA
    }
    kept = "\n".join(repr(r) for r in connection.execute("SELECT data FROM personal_data"))
    connection.close()

    bsns = {row.bsn for row in rows if row.bsn}
    assert bsns, "the month must carry BSNs"
    assert kept.count("'v1:") == len(kept.splitlines()), "every record is sealed"
    assert not any(bsn in kept for bsn in bsns), "not even the personal-data store shows one"
    for place, text in {"logs": "\n".join(logs), **dumped}.items():
        leaked = sorted(secret for secret in secrets if secret in text)
        assert not leaked, f"personal data in {place}: {len(leaked)} values"
