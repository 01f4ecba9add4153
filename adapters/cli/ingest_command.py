"""`signaalhub ingest`: import partner files (CSV or JSON lines) through intake."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TimeElapsedColumn
from rich.table import Table

from adapters.cli.running import console, errors, load_settings, run
from adapters.files.ingest_files import IngestSummary, ingest_files
from adapters.files.signal_file import UnreadableFileError
from services.bootstrap import build_signal_intake, open_migrated_event_store
from services.clock import today
from services.config_files import ConfigError
from services.partners import load_partners
from services.settings import Settings


def ingest(
    files: list[Path] = typer.Argument(..., help="CSV (.csv) or JSON lines (.jsonl) files."),
    partner: str = typer.Option(..., "--partner", help="The partner id from partners.toml."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object with the counts."),
    rejects: Path | None = typer.Option(
        None, help="Where to write the rejections (default: ./var/rejects/...)."
    ),
) -> None:
    """Import a partner's files: every line ends accepted, duplicate or rejected.

    Rejected lines are written with line number, field and reason to the rejects file.
    Exit code 0 when the files were processed (rejections are normal business), 1 for an
    unreadable file, 2 for an unknown partner or bad configuration.
    """
    settings = load_settings()
    try:
        chosen = load_partners(settings.config_dir).get(partner)
    except ConfigError as error:
        errors.print(f"[red]error:[/red] {error}")
        raise typer.Exit(2) from None
    if chosen is None:
        known = ", ".join(p.id for p in load_partners(settings.config_dir))
        errors.print(f"[red]error:[/red] unknown partner {partner!r}; known partners: {known}")
        raise typer.Exit(2)
    for path in files:
        if not path.is_file():
            errors.print(f"[red]error:[/red] {path}: no such file")
            raise typer.Exit(1)
    stamp = datetime.now().strftime("%Y%m%dT%H%M%S")
    rejects_path = rejects or Path("var") / "rejects" / f"{stamp}-{partner}.csv"
    progress_console = Console(stderr=True) if as_json else console
    try:
        summary = run(_ingest(settings, chosen.id, files, rejects_path, progress_console))
    except UnreadableFileError as error:
        errors.print(f"[red]error:[/red] {error}")
        raise typer.Exit(1) from None
    except ConfigError as error:
        errors.print(f"[red]error:[/red] {error}")
        raise typer.Exit(2) from None
    if as_json:
        print(json.dumps(_as_dict(summary)))
    else:
        _print_summary(summary, files)


async def _ingest(
    settings: Settings, partner_id: str, files: list[Path], rejects: Path, out: Console
) -> IngestSummary:
    store = await open_migrated_event_store(settings)
    try:
        intake = build_signal_intake(settings, store)
        partner = intake.partners.get(partner_id)
        assert partner is not None
        total = sum(path.stat().st_size for path in files)
        with Progress(
            "{task.description}", BarColumn(), DownloadColumn(), TimeElapsedColumn(), console=out
        ) as progress:
            task = progress.add_task(f"Ingesting {partner_id}", total=total)
            return await ingest_files(
                intake,
                partner,
                files,
                rejects,
                today=today(),
                on_bytes=lambda n: progress.advance(task, n),
            )
    finally:
        await store.close()


def _as_dict(summary: IngestSummary) -> dict[str, object]:
    return {
        "accepted": summary.accepted,
        "duplicates": summary.duplicates,
        "rejected": summary.rejected,
        "rejects_file": str(summary.rejects_file),
    }


def _print_summary(summary: IngestSummary, files: list[Path]) -> None:
    table = Table(title=f"Ingested {len(files)} file(s)")
    table.add_column("outcome")
    table.add_column("signals", justify="right")
    table.add_row("accepted", str(summary.accepted))
    table.add_row("duplicates (nothing written twice)", str(summary.duplicates))
    table.add_row("rejected (see the rejects file)", str(summary.rejected))
    table.caption = f"Rejections: {summary.rejects_file}"
    console.print(table)
