"""`signaalhub demo`: run the hub's main job on synthetic data and show what happened."""

from __future__ import annotations

import time
from datetime import date

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table

from adapters.cli.running import console, load_settings, run
from events.catalogue.cases import CaseOpened, SignalAttachedToCase
from events.catalogue.signals import SignalReceived
from events.envelope import RecordedEvent
from projections.log_summary import LogSummary, summarise_log
from services.bootstrap import open_migrated_event_store
from services.record_demo_signals import RecordingSummary, record_demo_signals
from services.settings import Settings
from services.synthetic_signals import generate_signals


def _previous_month(today: date) -> date:
    return date(today.year - 1, 12, 1) if today.month == 1 else date(today.year, today.month - 1, 1)


def demo(
    signals: int = typer.Option(
        1500, min=1, max=200_000, help="How many synthetic signals to record."
    ),
    month: str | None = typer.Option(
        None, help="The month the signals fall in, YYYY-MM (default: last month)."
    ),
    seed: int = typer.Option(2026, help="Seed of the synthetic data (same seed, same data)."),
) -> None:
    """Record a month of synthetic signals for Almelo as events, read them back, and report.

    Uses HUB_DATABASE_URL (by default a SQLite file under ./var/, no server needed). Running
    it twice with the same seed shows idempotency: the second run records only duplicates.
    """
    settings = load_settings()
    try:
        first_day = date.fromisoformat(f"{month}-01") if month else _previous_month(date.today())
    except ValueError:
        console.print(f"[red]error:[/red] --month must look like 2026-10, got {month!r}")
        raise typer.Exit(2) from None
    run(_demo(settings, signals, first_day, seed))


async def _demo(settings: Settings, count: int, first_day: date, seed: int) -> None:
    console.print(
        f"[bold]Signaalhub demo[/bold] — {count} synthetic signals for Almelo (0141), "
        f"{first_day:%B %Y}, into {settings.redacted_database_url()}"
    )
    store = await open_migrated_event_store(settings)
    try:
        started = time.perf_counter()
        with Progress(
            "{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            task = progress.add_task("Recording signals", total=count)
            recording = await record_demo_signals(
                store,
                generate_signals(count, first_day, seed=seed),
                on_signal=lambda: progress.advance(task),
            )
        recorded_in = time.perf_counter() - started
        started = time.perf_counter()
        summary = await summarise_log(store)
        read_in = time.perf_counter() - started
        example = await _example_case(store, summary)
    finally:
        await store.close()
    _print_recording(recording, recorded_in)
    _print_log(summary, read_in)
    _print_case(example)


async def _example_case(store: object, summary: LogSummary) -> list[RecordedEvent]:
    from events.store import SqlEventStore

    assert isinstance(store, SqlEventStore)
    busiest = summary.signals_per_case.most_common(1)
    if not busiest:
        return []
    return await store.read_stream(f"case-{busiest[0][0]}")


def _print_recording(recording: RecordingSummary, seconds: float) -> None:
    table = Table(title="This run")
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_row("signals accepted", str(recording.accepted))
    table.add_row("duplicates (already recorded, nothing written)", str(recording.duplicates))
    table.add_row("household cases opened", str(recording.cases_opened))
    table.add_row("signals matched to an open case", str(recording.signals_attached))
    total = recording.accepted + recording.duplicates
    table.caption = f"{total} signals in {seconds:.1f} s ({total / max(seconds, 1e-9):,.0f}/s)"
    console.print(table)


def _print_log(summary: LogSummary, seconds: float) -> None:
    table = Table(title="The event log, read back in position order")
    table.add_column("event type")
    table.add_column("events", justify="right")
    for event_type, n in sorted(summary.by_type.items()):
        table.add_row(event_type, str(n))
    table.caption = (
        f"{summary.events} events in {len(summary.streams)} streams, positions "
        f"{summary.first_position}–{summary.last_position}, read in {seconds:.2f} s"
    )
    console.print(table)

    mix = Table(title="Signals per partner type (DDAS EnumSignaalpartner)")
    mix.add_column("partner type")
    mix.add_column("signals", justify="right")
    mix.add_column("share", justify="right")
    mix.add_column("total arrears (EUR)", justify="right")
    received = sum(summary.signals_by_partner_type.values()) or 1
    for kind, n in summary.signals_by_partner_type.most_common():
        amount = summary.amount_by_partner_type[kind]
        mix.add_row(kind, str(n), f"{n / received:.0%}", f"{amount:,.2f}")
    mix.caption = (
        f"{len(summary.signals_per_case)} household cases, "
        f"{summary.multi_signal_cases} of them with more than one signal"
    )
    console.print(mix)


def _print_case(history: list[RecordedEvent]) -> None:
    if not history:
        return
    table = Table(title=f"History of one multi-signal case: {history[0].stream_id}")
    table.add_column("version", justify="right")
    table.add_column("position", justify="right")
    table.add_column("event")
    table.add_column("facts (no personal data)")
    for r in history:
        event = r.event
        if isinstance(event, CaseOpened):
            facts = f"PC4 {event.pc4}, matching window until {event.matching_window_ends}"
        elif isinstance(event, SignalAttachedToCase):
            facts = f"{event.partner_type.value} signal attached"
        elif isinstance(event, SignalReceived):
            facts = f"{event.partner_type.value} EUR {event.amount}"
        else:
            facts = ""
        table.add_row(str(r.stream_version), str(r.position), r.event_type, facts)
    console.print(table)
