"""The `signaalhub` command as an operator uses it, on the embedded SQLite default."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from adapters.cli.main import app

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "HUB_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite3'}",
        "HUB_LOG_FORMAT": "json",
    }


def _all_command_paths() -> list[list[str]]:
    root = typer.main.get_command(app)
    paths: list[list[str]] = []

    def walk(command: Any, path: list[str]) -> None:
        paths.append(path)
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, [*path, name])

    walk(root, [])
    assert len(paths) > 5, "the command tree was not walked"
    return paths


@pytest.mark.parametrize("path", _all_command_paths(), ids=lambda p: " ".join(p) or "signaalhub")
def test_every_command_has_help(path: list[str]) -> None:
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    assert len(result.output.splitlines()) > 3


def test_db_upgrade_then_status(env: dict[str, str]) -> None:
    before = runner.invoke(app, ["db", "status"], env=env)
    assert before.exit_code == 1
    assert "Schema:         none" in before.output
    assert "signaalhub db upgrade" in before.output

    upgraded = runner.invoke(app, ["db", "upgrade"], env=env)
    assert upgraded.exit_code == 0, upgraded.output
    again = runner.invoke(app, ["db", "upgrade"], env=env)  # idempotent
    assert again.exit_code == 0

    after = runner.invoke(app, ["db", "status"], env=env)
    assert after.exit_code == 0, after.output
    assert re.search(r"Schema:\s+(\d+) \(newest: \1\)", after.output)
    assert "Last position:  0" in after.output


def test_reading_an_unmigrated_database_says_what_to_do(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["events", "list"], env=env)
    assert result.exit_code == 1
    assert "signaalhub db upgrade" in result.output


def test_demo_ingests_generated_files_and_is_idempotent(
    env: dict[str, str], tmp_path: Path
) -> None:
    args = ["demo", "--signals", "150", "--months", "2", "--out", str(tmp_path / "demo")]
    first = runner.invoke(app, args, env=env)
    assert first.exit_code == 0, first.output
    assert re.search(r"│ all\s+│\s+300 │\s+0 │\s+0 │", first.output), first.output
    assert re.search(r"SignalReceived\s+│\s+300 │", first.output)
    assert "History of one multi-signal case" in first.output
    assert len(list((tmp_path / "demo").glob("*/*.csv"))) == 2 * 9  # two months, nine partners

    second = runner.invoke(app, args, env=env)
    assert second.exit_code == 0, second.output
    assert re.search(r"│ all\s+│\s+0 │\s+300 │\s+0 │", second.output)
    assert re.search(r"SignalReceived\s+│\s+300 │", second.output)  # still 300 in the log

    listed = runner.invoke(app, ["events", "list", "--limit", "3"], env=env)
    assert listed.exit_code == 0
    assert "SignalReceived v1" in listed.output
    assert "3 events" in listed.output


def test_projections_rebuild_shows_its_progress_and_ends_level_with_the_log(
    env: dict[str, str], tmp_path: Path
) -> None:
    demo = ["demo", "--signals", "60", "--months", "1", "--out", str(tmp_path / "demo")]
    assert runner.invoke(app, demo, env=env).exit_code == 0

    rebuilt = runner.invoke(app, ["projections", "rebuild"], env=env)
    status = runner.invoke(app, ["projections", "status"], env=env)
    unknown = runner.invoke(app, ["projections", "rebuild", "nope"], env=env)

    assert rebuilt.exit_code == 0, rebuilt.output
    last = re.search(r"the log is at position\s+(\d+)", status.output)
    assert last, status.output
    for name in ("audit_trail", "outbox", "report_facts", "referral_queue"):
        assert re.search(rf"{name} \(log position\).*{last[1]}/{last[1]}", rebuilt.output)
        assert re.search(rf"{name}\s+│\s+{last[1]} │\s+0 │", status.output), status.output
    assert unknown.exit_code == 2
    assert "unknown projection 'nope'" in unknown.output


def test_ingest_reports_json_and_exit_codes(env: dict[str, str], tmp_path: Path) -> None:
    from services.partners import WIRE_FIELDS

    good = {
        "signaalId": "V-1",
        "signaalpartnerType": "Water",
        "soort": "vroegsignaal",
        "bedrag": "12,50",
        "ontstaansdatum": "01-08-2026",
        "signaaldatum": "01-10-2026",
        "postcode": "7604AB",
        "huisnummer": "12",
    }
    bad = {**good, "signaalId": "V-2", "postcode": "nope"}
    lines = [";".join(WIRE_FIELDS)] + [
        ";".join(row.get(name, "") for name in WIRE_FIELDS) for row in (good, bad)
    ]
    data = tmp_path / "vitens.csv"
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rejects = tmp_path / "rejects.csv"

    result = runner.invoke(
        app,
        ["ingest", "--partner", "vitens", str(data), "--json", "--rejects", str(rejects)],
        env=env,
    )

    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary == {
        "accepted": 1,
        "duplicates": 0,
        "rejected": 1,
        "rejects_file": str(rejects),
    }
    assert ";3;postcode;" in rejects.read_text(encoding="utf-8")

    unknown = runner.invoke(app, ["ingest", "--partner", "nobody", str(data)], env=env)
    assert unknown.exit_code == 2
    assert "unknown partner 'nobody'" in unknown.output
    missing = runner.invoke(
        app, ["ingest", "--partner", "vitens", str(tmp_path / "no.csv")], env=env
    )
    assert missing.exit_code == 1
    assert "no such file" in missing.output


def test_bad_setting_is_named(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["db", "status"], env={**env, "HUB_DATABASE_URL": "mysql://x"})
    assert result.exit_code == 2
    assert "HUB_DATABASE_URL" in result.output


def test_settings_hides_passwords_and_keys(env: dict[str, str]) -> None:
    url = "postgresql+asyncpg://hub:topsecret@db:5432/hub"
    nats = "nats://hub:natssecret@nats:4222"
    key = "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE="  # base64 of 32 bytes
    result = runner.invoke(
        app,
        ["settings"],
        env={**env, "HUB_DATABASE_URL": url, "HUB_NATS_URL": nats, "HUB_MASTER_KEY": key},
    )
    assert result.exit_code == 0, result.output
    for secret in ("topsecret", "natssecret", key):
        assert secret not in result.output
    assert "nats://hub:***@nats:4222" in result.output
    assert "HUB_DATABASE_URL" in result.output


def test_serve_on_postgresql_refuses_to_start_without_a_master_key(env: dict[str, str]) -> None:
    url = "postgresql+asyncpg://hub:secret@127.0.0.1:1/hub"
    result = runner.invoke(app, ["serve", "--port", "1"], env={**env, "HUB_DATABASE_URL": url})
    assert result.exit_code == 1
    assert "HUB_MASTER_KEY" in result.output


def test_installed_console_script_runs(tmp_path: Path, env: dict[str, str]) -> None:
    script = Path(sys.executable).with_name("signaalhub")
    completed = subprocess.run(
        [str(script), "db", "upgrade"],
        env={**env, "PATH": str(script.parent)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert "is at revision" in completed.stdout


def test_rules_explain_tells_why_a_case_went_where_it_went(
    env: dict[str, str], tmp_path: Path
) -> None:
    import sqlite3

    from services.partners import WIRE_FIELDS

    def partner_file(name: str, row: dict[str, str]) -> Path:
        path = tmp_path / f"{name}.csv"
        line = ";".join(row.get(field, "") for field in WIRE_FIELDS)
        path.write_text(";".join(WIRE_FIELDS) + "\n" + line + "\n", encoding="utf-8")
        return path

    household = {"postcode": "7604AB", "huisnummer": "12", "geboortedatum": "1980-01-01"}
    water = {
        "signaalId": "V-1",
        "signaalpartnerType": "Water",
        "soort": "vroegsignaal",
        "bedrag": "250.00",
        "ontstaansdatum": "2026-08-01",
        "signaaldatum": "2026-10-01",
        **household,
    }
    rent = {**water, "signaalId": "H-1", "signaalpartnerType": "Huur", "signaaldatum": "2026-10-03"}
    for partner, path in (
        ("vitens", partner_file("vitens", water)),
        ("beter-wonen", partner_file("beter-wonen", rent)),
    ):
        result = runner.invoke(app, ["ingest", "--partner", partner, str(path), "--json"], env=env)
        assert result.exit_code == 0, result.output
    database = env["HUB_DATABASE_URL"].removeprefix("sqlite+aiosqlite:///")
    with sqlite3.connect(database) as connection:
        [(stream,)] = connection.execute(
            "SELECT DISTINCT stream_id FROM events WHERE event_type = 'CaseRouted'"
        ).fetchall()

    explained = runner.invoke(app, ["rules", "explain", stream], env=env)
    unknown = runner.invoke(app, ["rules", "explain", "not-a-case"], env=env)

    assert explained.exit_code == 0, explained.output
    assert "Decision 1 of 2: vroeg-erop-af / vroeg-erop-af-noord" in explained.output
    assert "Decision 2 of 2: schuldenspecialisten / wijkteam-noord" in explained.output
    assert "meerdere-partners" in explained.output
    assert "7604AB" not in explained.output  # the facts carry PC4 only
    assert unknown.exit_code == 2


def test_serve_refuses_to_start_on_a_broken_teams_file(env: dict[str, str], tmp_path: Path) -> None:
    import shutil

    config = tmp_path / "config"
    shutil.copytree(Path(__file__).resolve().parents[2] / "config", config)
    (config / "teams.toml").write_text('[[team]]\nid = "wijkteam-noord"\n', encoding="utf-8")

    result = runner.invoke(
        app, ["serve", "--port", "1"], env={**env, "HUB_CONFIG_DIR": str(config)}
    )

    assert result.exit_code == 1
    assert "teams.toml" in result.output
    assert "token_sha256" in result.output
