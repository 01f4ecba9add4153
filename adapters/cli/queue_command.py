"""`signaalhub queue --team T`: a team's referral queue as a table (issue 4, item 6).

For a team without an integration: the same read model the HTTP API lists, overdue first.

The read model (``projections/referral_queue.py``) is kept by the projection runner; before
reading, the command brings every projection up to date, so the table is current even when no
hub is running.
"""

from __future__ import annotations

import typer
from rich.table import Table

from adapters.cli.running import console, load_settings, run
from projections.referral_queue import QueueEntry, team_queue
from projections.runner import catch_up_all
from services.bootstrap import open_migrated_event_store
from services.clock import today
from services.settings import Settings


def queue(
    team: str = typer.Option(..., "--team", help="The team id, e.g. wijkteam-noord."),
    include_closed: bool = typer.Option(
        False, "--all", help="Also show closed, rerouted and cancelled referrals."
    ),
) -> None:
    """Show a team's referrals: overdue first (in red), then by the next due date."""
    settings = load_settings()
    entries = run(_read_queue(settings, team, include_closed))
    if not entries:
        which = "referrals" if include_closed else "open referrals"
        console.print(f"The queue of team {team} is empty: no {which}.", highlight=False)
        return
    overdue = sum(entry.overdue for entry in entries)
    table = Table(title=f"Queue of {team}: {len(entries)} referrals, {overdue} overdue")
    for column in (
        "referral",
        "case",
        "project",
        "state",
        "urgent",
        "first contact due",
        "closure due",
        "attempts",
        "overdue",
    ):
        table.add_column(column)
    for entry in entries:
        table.add_row(*_cells(entry), style="red" if entry.overdue else None)
    console.print(table)


def _cells(entry: QueueEntry) -> tuple[str, ...]:
    return (
        str(entry.referral_id),
        str(entry.case_id),
        entry.project,
        entry.state.value,
        "yes" if entry.urgent else "",
        entry.first_contact_due.isoformat(),
        entry.closure_due.isoformat(),
        str(entry.contact_attempts),
        "OVERDUE" if entry.overdue else "",
    )


async def _read_queue(settings: Settings, team: str, include_closed: bool) -> list[QueueEntry]:
    store = await open_migrated_event_store(settings)
    try:
        await catch_up_all(store)
        async with store.engine.connect() as conn:
            return await team_queue(conn, team, today=today(), include_closed=include_closed)
    finally:
        await store.close()
