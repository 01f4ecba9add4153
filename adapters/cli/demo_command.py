"""`signaalhub demo`: generate a month of partner files, ingest them, show what happened."""

from __future__ import annotations

from datetime import date
from functools import partial
from pathlib import Path

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TimeElapsedColumn
from rich.table import Table

from adapters.cli.running import console, load_settings, run
from adapters.files.ingest_files import IngestSummary, ingest_files
from events.catalogue.cases import CaseClosed, CaseOpened, SignalAttachedToCase
from events.catalogue.routing import CaseRouted
from events.catalogue.vocabulary import Outcome
from events.envelope import RecordedEvent
from events.store import SqlEventStore
from projections.log_summary import LogSummary, summarise_log
from services.bootstrap import build_signal_intake, open_migrated_event_store
from services.clock import today
from services.settings import Settings
from services.synthetic_partner_files import SyntheticMunicipality, write_month


def _months_before(day: date, count: int) -> list[tuple[int, int]]:
    """The ``count`` whole months before ``day``'s month, oldest first."""
    months = []
    year, month = day.year, day.month
    for _ in range(count):
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
        months.append((year, month))
    return months[::-1]


def demo(
    signals: int = typer.Option(1200, min=1, max=1_000_000, help="Signals per month."),
    months: int = typer.Option(1, min=1, max=24, help="How many months, ending last month."),
    seed: int = typer.Option(2026, help="Seed of the synthetic data (same seed, same data)."),
    out: Path = typer.Option(Path("var/demo"), help="Where the partner files are written."),
) -> None:
    """Generate synthetic partner files for Almelo, ingest them through the file channel,
    and show the result.

    Uses HUB_DATABASE_URL (by default a SQLite file under ./var/, no server needed). Running
    it twice with the same seed shows idempotency: the second run records only duplicates.
    """
    settings = load_settings()
    run(_demo(settings, signals, _months_before(today(), months), seed, out))


async def _demo(
    settings: Settings, count: int, months: list[tuple[int, int]], seed: int, out: Path
) -> None:
    first, last = months[0], months[-1]
    console.print(
        f"[bold]Signaalhub demo[/bold] — {count} synthetic signals a month for Almelo (0141), "
        f"{first[0]}-{first[1]:02d} to {last[0]}-{last[1]:02d}, into "
        f"{settings.redacted_database_url()}"
    )
    store = await open_migrated_event_store(settings)
    try:
        intake = build_signal_intake(settings, store)
        partners = list(intake.partners)
        municipality = SyntheticMunicipality(seed, partners=partners)
        results: dict[str, IngestSummary] = {}
        rejects = Path("var") / "rejects"
        for year, month in months:
            folder = out / f"{year:04d}-{month:02d}"
            files = write_month(municipality, year, month, count, folder, partners)
            console.print(f"Wrote {len(files)} partner files to {folder}/")
            total = sum(path.stat().st_size for path in files)
            with Progress(
                "{task.description}",
                BarColumn(),
                DownloadColumn(),
                TimeElapsedColumn(),
                console=console,
            ) as progress:
                task = progress.add_task(f"Ingesting {year}-{month:02d}", total=total)
                advance = partial(progress.advance, task)
                for path in files:
                    partner = intake.partners.get(path.stem.split("-", 2)[2])
                    assert partner is not None
                    summary = await ingest_files(
                        intake,
                        partner,
                        [path],
                        rejects / f"{path.stem}.csv",
                        today=today(),
                        on_bytes=advance,
                    )
                    _add(results.setdefault(partner.id, IngestSummary()), summary)
        log = await summarise_log(store)
        example = await _example_case(store, log)
    finally:
        await store.close()
    _print_ingest(results, rejects)
    _print_log(log)
    _print_caseload(log)
    _print_case(example)


def _add(total: IngestSummary, part: IngestSummary) -> None:
    total.accepted += part.accepted
    total.duplicates += part.duplicates
    total.rejected += part.rejected


async def _example_case(store: SqlEventStore, summary: LogSummary) -> list[RecordedEvent]:
    busiest = summary.signals_per_case.most_common(1)
    if not busiest:
        return []
    return await store.read_stream(f"case-{busiest[0][0]}")


def _print_ingest(results: dict[str, IngestSummary], rejects: Path) -> None:
    table = Table(title="Intake through the file channel, per partner")
    for column in ("partner", "accepted", "duplicates", "rejected"):
        table.add_column(column, justify="left" if column == "partner" else "right")
    total = IngestSummary()
    for partner_id, summary in sorted(results.items()):
        table.add_row(
            partner_id, str(summary.accepted), str(summary.duplicates), str(summary.rejected)
        )
        _add(total, summary)
    table.add_row(
        "all", str(total.accepted), str(total.duplicates), str(total.rejected), style="bold"
    )
    table.caption = f"Every line ends accepted, duplicate or rejected; rejections in {rejects}/"
    console.print(table)


def _print_log(summary: LogSummary) -> None:
    table = Table(title="The event log, read back in position order")
    table.add_column("event type")
    table.add_column("events", justify="right")
    for event_type, n in sorted(summary.by_type.items()):
        table.add_row(event_type, str(n))
    table.caption = (
        f"{summary.events} events in {len(summary.streams)} streams, "
        f"positions {summary.first_position}–{summary.last_position}"
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
    repeats = summary.outcomes.get(Outcome.REPEAT_SIGNAL.value, 0)
    mix.caption = (
        f"{len(summary.households)} households, {len(summary.signals_per_case)} cases, "
        f"{summary.multi_signal_cases} with more than one signal, {repeats} closed as repeat, "
        f"{summary.outside_municipality} signals for addresses outside the municipality"
    )
    console.print(mix)


def _print_caseload(summary: LogSummary) -> None:
    caseload = summary.caseload
    if not caseload:
        return
    table = Table(title="Caseload per project and team (where routing placed each case)")
    table.add_column("project or outcome")
    table.add_column("team")
    table.add_column("cases", justify="right")
    for (target, team), n in sorted(caseload.items(), key=lambda item: (-item[1], item[0])):
        table.add_row(target, team or "— (closed)", str(n))
    table.caption = f"{sum(caseload.values())} routed cases; rules in config/routing.toml"
    console.print(table)


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
            facts = (
                f"{event.partner_type.value} signal, PC4 {event.pc4}, matching window "
                f"{event.matching_window_starts} – {event.matching_window_ends}"
            )
        elif isinstance(event, SignalAttachedToCase):
            facts = f"{event.partner_type.value} signal attached"
        elif isinstance(event, CaseClosed):
            facts = event.outcome.value
        elif isinstance(event, CaseRouted):
            facts = (
                f"→ {event.project} / {event.team} ({event.rule_id})"
                if event.project
                else f"→ {event.outcome} ({event.rule_id})"
            )
        else:
            facts = ""
        table.add_row(str(r.stream_version), str(r.position), r.event_type, facts)
    console.print(table)
