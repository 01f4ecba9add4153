"""`signaalhub events ...`: look into the event log (ids and types only, never payloads)."""

from __future__ import annotations

import typer
from rich.table import Table

from adapters.cli.running import console, load_settings, run
from events.envelope import RecordedEvent
from services.bootstrap import build_event_store

app = typer.Typer(help="Inspect the event log.", no_args_is_help=True)


@app.command("list")
def list_events(
    after: int = typer.Option(0, min=0, help="Show events after this global position."),
    limit: int = typer.Option(20, min=1, max=10_000, help="How many events at most."),
    stream: str | None = typer.Option(None, help="Only this stream, e.g. case-<uuid>."),
) -> None:
    """List events in position order: position, stream, version, type, time."""
    settings = load_settings()

    async def go() -> list[RecordedEvent]:
        store = build_event_store(settings)
        try:
            if stream:
                return (await store.read_stream(stream))[:limit]
            return await store.read_all(after=after, limit=limit)
        finally:
            await store.close()

    recorded = run(go())
    table = Table(title=f"{len(recorded)} events")
    for column in ("position", "stream", "version", "type", "recorded at (UTC)"):
        table.add_column(column)
    for r in recorded:
        table.add_row(
            str(r.position),
            r.stream_id,
            str(r.stream_version),
            f"{r.event_type} v{r.schema_version}",
            r.recorded_at.strftime("%Y-%m-%d %H:%M:%S"),
        )
    console.print(table)


@app.command("follow")
def follow_events(
    after: int = typer.Option(0, min=0, help="Start after this global position."),
) -> None:
    """Print events as they are committed, like `tail -f` on the log (Ctrl-C stops).

    On PostgreSQL it wakes on LISTEN/NOTIFY; on SQLite it polls once a second.
    """
    settings = load_settings()

    async def go() -> None:
        store = build_event_store(settings)
        try:
            async for r in store.subscribe(after=after):
                console.print(
                    f"{r.position:>10}  {r.recorded_at:%Y-%m-%d %H:%M:%S}  "
                    f"{r.event_type:<24} {r.stream_id}@{r.stream_version}",
                    highlight=False,
                )
        finally:
            await store.close()

    try:
        run(go())
    except KeyboardInterrupt:
        raise typer.Exit(0) from None
