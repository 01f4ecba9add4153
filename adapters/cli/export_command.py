"""`signaalhub export ...`: deliveries to the outside world; `export ddas` for the CBS.

``signaalhub export ddas --from 2026-01-01 --to 2026-03-31 --out var/ddas-2026-Q1.json``
writes the DDAS uitwisselmodel v0.9 delivery of the period after validating it against the
national schema; an invalid document is not written (exit 1, the first problems with their
JSON paths). The header comes from ``HUB_CONFIG_DIR/ddas.toml``, the municipalities from
``municipalities.toml`` (each gets a ``levering``, also when it had nothing in the period).

The file holds personal data (the DDAS ``client`` blocks); the terminal shows counts only.
"""

from __future__ import annotations

import getpass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Final

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn
from rich.table import Table

from adapters.cli.running import console, errors, load_settings, run
from services.bootstrap import open_migrated_event_store
from services.config_files import ConfigError, load_toml
from services.ddas.config import DdasConfig, load_ddas_config
from services.ddas.delivery import Period
from services.ddas.export_ddas import DdasExport, export_ddas, write_delivery
from services.ddas.validation import InvalidDeliveryError
from services.municipalities import load_municipalities
from services.privacy.cipher import TamperedPersonalData
from services.privacy.keys import MasterKeyError
from services.settings import Settings

app = typer.Typer(help="Deliveries to the outside world (DDAS for the CBS).", no_args_is_help=True)

PROGRESS_FROM_EVENTS: Final = 20_000
"""Show a progress bar when the log holds at least this many events (about a second's read)."""

_DATE_FORMATS: Final = ["%Y-%m-%d"]


class _ReadProgress:
    """A progress bar over the log, started only once the log turns out to be long."""

    def __init__(self) -> None:
        self._bar: Progress | None = None
        self._task: TaskID | None = None

    def __call__(self, position: int, last: int) -> None:
        if self._bar is None:
            if last < PROGRESS_FROM_EVENTS:
                return
            self._bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                console=console,
                transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task("Reading the event log", total=last)
        assert self._task is not None
        self._bar.update(self._task, completed=position)

    def stage(self, description: str) -> None:
        """A step after reading: shown in place of the bar's text once a bar is showing."""
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, description=description)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()


@app.command("ddas")
def ddas(
    starts: datetime = typer.Option(
        ..., "--from", formats=_DATE_FORMATS, help="First day of the period (YYYY-MM-DD)."
    ),
    ends: datetime = typer.Option(
        ..., "--to", formats=_DATE_FORMATS, help="Last day of the period, inclusive."
    ),
    out: Path = typer.Option(..., "--out", help="The JSON file to write (holds personal data)."),
) -> None:
    """Write the DDAS uitwisselmodel v0.9 delivery of a period, validated against the schema."""
    try:
        period = Period(starts.date(), ends.date())
    except ValueError as error:
        errors.print(f"[red]error:[/red] --to: {error}")
        raise typer.Exit(2) from None
    settings = load_settings()
    try:
        config = load_ddas_config(settings.config_dir)
        served = _served_gemeentecodes(settings.config_dir)
    except ConfigError as error:
        errors.print(f"[red]error:[/red] {error}")
        raise typer.Exit(2) from None
    progress = _ReadProgress()
    try:
        export = run(_export(settings, period, config, served, progress))
    except InvalidDeliveryError as error:
        errors.print(
            "[red]error:[/red] the delivery does not match the DDAS schema; "
            f"nothing was written to {out}. First problems:"
        )
        for problem in error.problems:
            errors.print(f"  {problem.path}: {problem.message}", highlight=False, markup=False)
        raise typer.Exit(1) from None
    except (MasterKeyError, TamperedPersonalData) as error:
        # Neither message holds personal data: a setting, a key id or a record id.
        errors.print(f"[red]error:[/red] cannot read the personal data: {error}; nothing written")
        raise typer.Exit(1) from None
    finally:
        progress.close()
    try:
        write_delivery(out, export.document)
    except OSError as error:
        errors.print(f"[red]error:[/red] cannot write {out}: {error.strerror or error}")
        raise typer.Exit(1) from None
    _print_summary(export, period, out)


async def _export(
    settings: Settings,
    period: Period,
    config: DdasConfig,
    served: list[str],
    progress: _ReadProgress,
) -> DdasExport:
    store = await open_migrated_event_store(settings)
    try:
        return await export_ddas(
            store,
            period,
            config,
            datetime.now(UTC),
            reader=_reader(),
            served_gemeentecodes=served,
            progress=progress,
            stage=progress.stage,
        )
    finally:
        await store.close()


def _print_summary(export: DdasExport, period: Period, out: Path) -> None:
    table = Table(title=f"DDAS delivery {_day(period.starts)} to {_day(period.ends)}")
    for column in ("gemeente", "signals", "cases", "contact attempts", "signals without client"):
        table.add_column(column, justify="left" if column == "gemeente" else "right")
    for counts in export.per_municipality:
        table.add_row(
            counts.gemeentecode,
            str(counts.signals),
            str(counts.cases),
            str(counts.contact_attempts),
            str(counts.signals_without_client),
        )
    table.add_row(
        "all",
        str(export.signals),
        str(export.cases),
        str(export.contact_attempts),
        str(export.signals_without_client),
        style="bold",
    )
    console.print(table)
    console.print(
        f"Wrote {out} (valid against the DDAS v0.9 schema; the log up to position "
        f"{export.up_to_position}). It holds personal data: only its owner can read it.",
        highlight=False,
    )
    console.print(
        f"Recorded the disclosure of {export.reads_recorded} cases' personal data in the "
        "audit trail.",
        highlight=False,
    )


def _reader() -> str:
    # The operator's login as an opaque id for the audit trail, as `signaalhub privacy` does.
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


def _served_gemeentecodes(config_dir: Path) -> list[str]:
    """The CBS codes of ``municipalities.toml``, checked by its loader first."""
    load_municipalities(config_dir)  # raises ConfigError naming what is wrong
    entries = load_toml(config_dir / "municipalities.toml").get("gemeente", [])
    assert isinstance(entries, list)
    return [str(entry["code"]) for entry in entries]


def _day(day: date) -> str:
    return day.isoformat()
