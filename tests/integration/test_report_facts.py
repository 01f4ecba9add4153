"""The report's read model on SQLite and PostgreSQL: following the log live, rebuilding it and
folding the log in memory give the same facts, and the report read from it equals the report
replayed from the log (DESIGN §8; issue 5, items 1-3)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner, Result

import events.catalogue  # noqa: F401  (registers the domain events)
from adapters.cli.main import app
from events.envelope import NewEvent, RecordedEvent
from events.registry import EventRegistry, catalogue
from events.store import SqlEventStore
from projections.report_facts import (
    ReportFactsProjection,
    load_state,
    report_cases,
    report_referrals,
    report_signals,
)
from projections.runner import ProjectionRunner
from services.bootstrap import open_migrated_event_store
from services.reports.build_report import ReportConfig
from services.reports.facts import ReportState, fold
from services.reports.load_report import ReportRequest, load_report
from services.reports.model import Report
from services.reports.periods import parse_period
from services.settings import Settings
from tests.support.intake import CONFIG as CONFIG_DIR
from tests.support.reports import config_wijken, march_2026

CONFIG = ReportConfig(capacities={"doorbraakmethode": 375}, inhabitants=73_000)
TODAY = date(2026, 4, 15)
NOW = datetime(2026, 4, 15, 8, 0, tzinfo=UTC)


@pytest.fixture
def registry() -> EventRegistry:
    return catalogue


@pytest.fixture
async def clocked(store: SqlEventStore) -> AsyncIterator[tuple[SqlEventStore, list[datetime]]]:
    """A store on the test database whose ``recorded_at`` is whatever the test sets."""
    moment = [NOW]
    clocked = SqlEventStore(store.engine, catalogue, poll_interval=0.05, clock=lambda: moment[0])
    yield clocked, moment
    await clocked.close()


async def record(store: SqlEventStore, moment: list[datetime], log: list[RecordedEvent]) -> None:
    """Append each event on its own day, as the hub would have recorded it."""
    for recorded in log:
        moment[0] = recorded.recorded_at
        await store.append(recorded.stream_id, [NewEvent(recorded.event)])


async def stored_state(store: SqlEventStore) -> ReportState:
    async with store.engine.connect() as conn:
        ids = [
            set((await conn.execute(select(table.c[key]))).scalars())
            for table, key in (
                (report_cases, "case_id"),
                (report_referrals, "referral_id"),
                (report_signals, "signal_id"),
            )
        ]
        return await load_state(conn, config_wijken(), *ids)


async def folded_log(store: SqlEventStore) -> ReportState:
    state = ReportState(config_wijken())
    for recorded in await store.read_all(after=0, limit=100_000):
        fold(state, recorded)
    return state


def without_generation(report: Report) -> Report:
    scope = dataclasses.replace(report.scope, as_of=None, generated_at=NOW)
    return dataclasses.replace(report, scope=scope)


async def test_live_equals_rebuild_equals_the_fold_in_memory(
    clocked: tuple[SqlEventStore, list[datetime]],
) -> None:
    store, moment = clocked
    log = march_2026().log
    projection = ReportFactsProjection(config_wijken())
    # Small pages, so a referral's claim and close come in other pages than its request.
    runner = ProjectionRunner(store, [projection], batch_page_size=7)
    await record(store, moment, log[:30])
    assert await runner.catch_up() == {"report_facts": 30}
    await record(store, moment, log[30:])
    assert await runner.catch_up() == {"report_facts": len(log) - 30}
    live = await stored_state(store)

    assert await runner.rebuild("report_facts") == {"report_facts": len(log)}
    rebuilt = await stored_state(store)
    in_memory = await folded_log(store)

    assert live.referral_facts() == rebuilt.referral_facts() == in_memory.referral_facts()
    assert live.signal_facts() == rebuilt.signal_facts() == in_memory.signal_facts()
    # R1 R2 R3 R4 R5 R8 R9 R10a R10b + the cases of H1 and H3 in 2025 and of H6; 12 signals.
    assert len(live.referral_facts()) == 12
    assert len(live.signal_facts()) == 12


@pytest.mark.parametrize(
    ("period", "project", "team"),
    [
        ("2026-03", None, None),
        ("2026-Q1", None, None),
        ("2026", "vroeg-erop-af", None),
        ("2026-W10", None, "wijkteam-zuid"),
        ("2025", None, None),
        ("2026-03", "doorbraakmethode", None),
        ("2026-02", None, "doorbraak-almelo"),
    ],
)
async def test_the_read_model_report_equals_the_replay_up_to_now(
    clocked: tuple[SqlEventStore, list[datetime]],
    period: str,
    project: str | None,
    team: str | None,
) -> None:
    store, moment = clocked
    await record(store, moment, march_2026().log)
    projection = ReportFactsProjection(config_wijken())
    await ProjectionRunner(store, [projection], batch_page_size=10).catch_up()
    request = ReportRequest(parse_period(period), project=project, team=team)

    from_model = await load_report(store, request, CONFIG, projection, today=TODAY, now=NOW)
    replayed = await load_report(
        store,
        dataclasses.replace(request, as_of=TODAY),
        CONFIG,
        projection,
        today=TODAY,
        now=NOW,
    )

    assert without_generation(from_model) == without_generation(replayed)
    assert from_model.scope.events_up_to_position == await store.last_position()


async def test_as_of_replays_the_log_up_to_the_end_of_that_day(
    clocked: tuple[SqlEventStore, list[datetime]],
) -> None:
    store, moment = clocked
    await record(store, moment, march_2026().log)
    projection = ReportFactsProjection(config_wijken())
    await ProjectionRunner(store, [projection]).catch_up()
    request = ReportRequest(parse_period("2026-03"))

    now = await load_report(store, request, CONFIG, projection, today=TODAY, now=NOW)
    then = await load_report(
        store,
        dataclasses.replace(request, as_of=date(2026, 3, 10)),
        CONFIG,
        projection,
        today=TODAY,
        now=NOW,
    )

    voa_now = next(r for r in now.caseload["project"] if r.group == "vroeg-erop-af")
    voa_then = next(r for r in then.caseload["project"] if r.group == "vroeg-erop-af")
    # By 10 March: R1, R10a and R3 were requested; R1 was being worked; nothing closed.
    assert (voa_then.new, voa_then.open, voa_then.in_progress, voa_then.closed) == (3, 1, 1, 0)
    assert (voa_now.new, voa_now.closed) == (5, 2)
    assert then.scope.events_up_to_position < now.scope.events_up_to_position


# -- the command line -----------------------------------------------------------------------


@pytest.fixture
async def hub_file(tmp_path: Path) -> str:
    """A SQLite hub holding the March 2026 history, as the CLI opens it."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite3'}"
    moment = [NOW]
    store = await open_migrated_event_store(Settings(database_url=url), clock=lambda: moment[0])
    try:
        await record(store, moment, march_2026().log)
    finally:
        await store.close()
    return url


def report_cli(url: str, *args: str) -> Result:
    env = {"HUB_DATABASE_URL": url, "HUB_LOG_FORMAT": "json", "HUB_CONFIG_DIR": str(CONFIG_DIR)}
    return CliRunner().invoke(app, ["report", *args], env=env)


async def test_the_report_command_catches_up_and_prints_json(hub_file: str) -> None:
    result = await asyncio.to_thread(
        report_cli, hub_file, "--period", "2026-03", "--format", "json"
    )

    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    # The figures of tests/unit/test_build_report.py, through the projection the command
    # brought up to date itself.
    assert data["caseload"]["project"][2] == {
        "group": "vroeg-erop-af",
        "new": 5,
        "open": 1,
        "claimed": 1,
        "in_progress": 0,
        "closed": 2,
        "overdue": 1,
    }
    assert data["outcomes"]["project"][-1]["bereik"] == {
        "numerator": 3,
        "denominator": 4,
        "value": 0.75,
    }
    assert data["scope"]["events_up_to_position"] == len(march_2026().log)


async def test_the_report_command_as_of_and_its_errors(hub_file: str, tmp_path: Path) -> None:
    then = await asyncio.to_thread(
        report_cli, hub_file, "--period", "2026-03", "--as-of", "2026-03-10", "--format", "json"
    )
    assert then.exit_code == 0, then.output
    data = json.loads(then.stdout)
    assert data["scope"]["as_of"] == "2026-03-10"
    assert [r["closed"] for r in data["caseload"]["project"]] == [0, 0, 0]

    table = await asyncio.to_thread(report_cli, hub_file, "--period", "2026-03")
    assert table.exit_code == 0, table.output
    assert "Management report 2026-03" in table.stdout
    assert "75.0 % (3/4)" in table.stdout

    bad = await asyncio.to_thread(report_cli, hub_file, "--period", "2026-13")
    assert bad.exit_code == 2
    assert "there is no month 13" in bad.output
    no_out = await asyncio.to_thread(report_cli, hub_file, "--format", "xlsx")
    assert no_out.exit_code == 2
    assert "--out" in no_out.output
    workbook = tmp_path / "report.xlsx"
    written = await asyncio.to_thread(
        report_cli, hub_file, "--period", "2026-03", "--format", "xlsx", "--out", str(workbook)
    )
    assert written.exit_code == 0, written.output
    assert workbook.stat().st_size > 0
