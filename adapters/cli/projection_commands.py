"""`signaalhub projections ...`: keep the read models up to date, rebuild them, see their lag."""

from __future__ import annotations

import asyncio

import typer
from rich.table import Table

from adapters.cli.running import console, load_settings, progress_bars, run
from projections.catalogue import all_projections
from projections.checkpoints import read_checkpoint
from projections.runner import ProjectionRunner
from services.bootstrap import open_migrated_event_store

app = typer.Typer(help="Read models built from the event log.", no_args_is_help=True)


@app.command("status")
def status() -> None:
    """Show each projection's position in the log and how far behind it is."""
    settings = load_settings()

    async def go() -> tuple[int, dict[str, int]]:
        store = await open_migrated_event_store(settings)
        try:
            async with store.engine.connect() as conn:
                positions = {p.name: await read_checkpoint(conn, p.name) for p in all_projections()}
            return await store.last_position(), positions
        finally:
            await store.close()

    last, positions = run(go())
    table = Table(title=f"Projections (the log is at position {last})")
    for column in ("projection", "position", "behind"):
        table.add_column(column, justify="left" if column == "projection" else "right")
    for name, position in positions.items():
        table.add_row(name, str(position), str(last - position))
    console.print(table)


@app.command("rebuild")
def rebuild(
    name: str | None = typer.Argument(None, help="One projection; all when left out."),
) -> None:
    """Empty the read model(s) and apply the whole event log again (same result as live)."""
    settings = load_settings()

    async def go() -> dict[str, int]:
        store = await open_migrated_event_store(settings)
        try:
            runner = ProjectionRunner(store, all_projections())
            chosen = [runner.named(name).name] if name else [p.name for p in runner.projections]
            last = await store.last_position()
            with progress_bars() as progress:
                tasks = {n: progress.add_task(f"{n} (log position)", total=last) for n in chosen}
                runner.on_page = lambda n, position: progress.update(
                    tasks[n], completed=min(position, last)
                )
                applied = await runner.rebuild(name)
                for task in tasks.values():
                    progress.update(task, completed=last)
                return applied
        finally:
            await store.close()

    try:
        applied = run(go())
    except KeyError as error:
        console.print(f"[red]error:[/red] {error.args[0]}")
        raise typer.Exit(2) from None
    for projection, count in applied.items():
        console.print(f"{projection}: {count} events applied")


@app.command("run")
def run_projections() -> None:
    """Catch up, then keep applying new events as they are committed (Ctrl-C stops).

    Several instances may run at once: each page of events is applied under a lock per
    projection, so an instance that waits takes over where the other one stopped."""
    settings = load_settings()

    async def go() -> None:
        store = await open_migrated_event_store(settings)
        try:
            await ProjectionRunner(store, all_projections()).follow(asyncio.Event())
        finally:
            await store.close()

    try:
        run(go())
    except KeyboardInterrupt:
        raise typer.Exit(0) from None
