"""`signaalhub db ...`: the database schema."""

from __future__ import annotations

import typer

from adapters.cli.running import console, load_settings, run
from events.migrations import current_revision, head_revision, upgrade
from services.bootstrap import build_event_store

app = typer.Typer(help="Create and inspect the database schema.", no_args_is_help=True)


@app.command("upgrade")
def upgrade_command() -> None:
    """Create or migrate the event store schema to the newest version (safe to repeat)."""
    settings = load_settings()

    async def go() -> str | None:
        store = build_event_store(settings)
        try:
            await upgrade(store.engine)
            return await current_revision(store.engine)
        finally:
            await store.close()

    revision = run(go())
    console.print(f"Database {settings.redacted_database_url()} is at revision {revision}.")


@app.command("status")
def status_command() -> None:
    """Show the schema revision and how many events the store holds."""
    settings = load_settings()

    async def go() -> tuple[str | None, int]:
        store = build_event_store(settings)
        try:
            revision = await current_revision(store.engine)
            last = await store.last_position() if revision else 0
            return revision, last
        finally:
            await store.close()

    revision, last = run(go())
    head = head_revision()
    console.print(f"Database:       {settings.redacted_database_url()}")
    console.print(f"Schema:         {revision or 'none'} (newest: {head})")
    console.print(f"Last position:  {last}")
    if revision != head:
        console.print("Run `signaalhub db upgrade` to bring the schema up to date.")
        raise typer.Exit(1)
