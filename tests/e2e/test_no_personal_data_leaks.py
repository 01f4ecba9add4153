"""Personal data stays in the personal-data store: after ingesting a month of partner files,
no BSN, name, street, postcode, phone number, e-mail address or customer number appears in
the logs, the events or intake's lookup tables (DESIGN §9)."""

from __future__ import annotations

import json
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


PERSONAL_STORE = {"personal_data", "household_data_keys"}
"""The only tables that may hold personal data (sealed, and the wrapped keys of the seals)."""
SEPTEMBER = ("2026-09-01", "2026-09-30")
FIGURES = ("caseload", "outcomes", "lead_times", "signal_mix", "capacity", "caseload_over_time")


def test_read_models_messages_and_reports_hold_no_personal_data_and_survive_erasure(
    tmp_path: Path,
) -> None:
    partners = list(load_partners(CONFIG))
    municipality = SyntheticMunicipality(91, households=150, partners=partners)
    rows = municipality.month_of_signals(2026, 9, 120)
    files = write_month(
        SyntheticMunicipality(91, households=150, partners=partners),
        2026,
        9,
        120,
        tmp_path / "files",
        partners,
    )
    database = tmp_path / "hub.sqlite3"
    env = {
        "HUB_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "HUB_LOG_FORMAT": "json",
        "HUB_MASTER_KEY": "c2lnbmFhbGh1Yi10ZXN0LW1hc3Rlci1rZXktMzJieSE=",
    }
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(app, list(args), env=env)
        assert result.exit_code == 0, result.output
        return result.output

    outputs = [
        run("ingest", "--partner", path.stem.split("-", 2)[2], str(path), "--json")
        for path in files
    ]
    outputs.append(run("projections", "rebuild"))
    html, before, after = tmp_path / "r.html", tmp_path / "before.json", tmp_path / "after.json"
    delivery_before, delivery_after = tmp_path / "d1.json", tmp_path / "d2.json"
    outputs.append(run("report", "--period", "2026", "--format", "html", "--out", str(html)))
    run("report", "--period", "2026", "--format", "json", "--out", str(before))
    run(
        "export",
        "ddas",
        "--from",
        "2026-09-01",
        "--to",
        "2026-09-30",
        "--out",
        str(delivery_before),
    )

    secrets = personal_values(rows)
    assert len(secrets) > 100, "the test must look for many real values"
    connection = sqlite3.connect(database)
    tables = [
        name
        for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        if name not in PERSONAL_STORE
    ]
    assert {"referral_queue", "outbox", "report_cases", "audit_trail"} <= set(tables)
    places = {
        table: "\n".join(repr(r) for r in connection.execute(f'SELECT * FROM "{table}"'))
        for table in tables
    }
    [case_id] = connection.execute(
        "SELECT json_extract(payload, '$.case_id') FROM events "
        "WHERE event_type = 'CaseOpened' ORDER BY position LIMIT 1"
    ).fetchone()
    connection.close()
    places["command output"] = "\n".join(outputs)
    places["HTML report"] = html.read_text(encoding="utf-8")
    for place, text in places.items():
        leaked = sorted(secret for secret in secrets if secret in text)
        assert not leaked, f"personal data in {place}: {len(leaked)} values"

    run("erase", "--case", case_id, "--reason", "verzoek van de inwoner (test)")
    run("retention", "run", "--today", "2099-01-01")
    run("report", "--period", "2026", "--format", "json", "--out", str(after))
    run(
        "export", "ddas", "--from", "2026-09-01", "--to", "2026-09-30", "--out", str(delivery_after)
    )

    first, second = json.loads(before.read_text()), json.loads(after.read_text())
    for figure in FIGURES:
        assert first[figure] == second[figure], f"{figure} changed by the erasure"
    old, new = json.loads(delivery_before.read_text()), json.loads(delivery_after.read_text())
    for a, b in zip(old["leveringen"], new["leveringen"], strict=True):
        assert len(a["vroegsignalen"]) == len(b["vroegsignalen"])
        assert len(a["vroegsignaalzaken"]) == len(b["vroegsignaalzaken"])
    erased = [s for lev in new["leveringen"] for s in lev["vroegsignalen"] if not s["client"]]
    assert erased, "the erased household's signals are delivered without client details"
