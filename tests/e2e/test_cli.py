"""The `signaalhub` command as an operator uses it, on the embedded SQLite default."""

from __future__ import annotations

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


def test_demo_records_reads_back_and_is_idempotent(env: dict[str, str]) -> None:
    first = runner.invoke(app, ["demo", "--signals", "150", "--month", "2026-10"], env=env)
    assert first.exit_code == 0, first.output
    assert re.search(r"signals accepted\s+│\s+150 │", first.output)
    opened = int(re.search(r"household cases opened\s+│\s+(\d+) │", first.output)[1])  # type: ignore[index]
    attached = int(re.search(r"matched to an open case\s+│\s+(\d+) │", first.output)[1])  # type: ignore[index]
    assert opened + attached == 150
    assert re.search(r"SignalReceived\s+│\s+150 │", first.output)
    assert "History of one multi-signal case" in first.output

    second = runner.invoke(app, ["demo", "--signals", "150", "--month", "2026-10"], env=env)
    assert second.exit_code == 0, second.output
    assert re.search(r"signals accepted\s+│\s+0 │", second.output)
    assert re.search(r"nothing written\)\s+│\s+150 │", second.output)
    assert re.search(r"SignalReceived\s+│\s+150 │", second.output)  # still 150 in the log

    listed = runner.invoke(app, ["events", "list", "--limit", "3"], env=env)
    assert listed.exit_code == 0
    assert "SignalReceived v1" in listed.output
    assert "3 events" in listed.output


def test_demo_refuses_a_malformed_month(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["demo", "--month", "oktober"], env=env)
    assert result.exit_code == 2
    assert "--month must look like 2026-10" in result.output


def test_bad_setting_is_named(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["db", "status"], env={**env, "HUB_DATABASE_URL": "mysql://x"})
    assert result.exit_code == 2
    assert "HUB_DATABASE_URL" in result.output


def test_settings_hides_the_database_password(env: dict[str, str]) -> None:
    url = "postgresql+asyncpg://hub:topsecret@db:5432/hub"
    result = runner.invoke(app, ["settings"], env={**env, "HUB_DATABASE_URL": url})
    assert result.exit_code == 0
    assert "topsecret" not in result.output
    assert "HUB_DATABASE_URL" in result.output


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
