"""`signaalhub demo`: a simulated year of the hub for Almelo, on the embedded default.

Synthetic partner files for every month are ingested through the file channel on the month's
last day, the teams work their queues day by day through the referral use cases, the
projections catch up, and the command prints what happened, then the management report.

Volume: 500 signals a month, 6,000 a year. Dutch municipalities received on average 4
signals per 1,000 inhabitants per month in 2023 (Divosa Monitor Vroegsignalering Schulden);
Almelo (about 73,000 inhabitants) has more households with arrears than the average, which
we assume at 1.7 times: about 6.8 per 1,000 a month, 500 signals. An assumption of the demo.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from adapters.cli.demo_year import DemoYear, add_summary, open_simulation_store, run_demo_year
from adapters.cli.running import console, load_settings, run
from adapters.files.ingest_files import IngestSummary
from events.catalogue.cases import CaseClosed, CaseOpened, SignalAttachedToCase
from events.catalogue.routing import CaseRouted
from events.catalogue.vocabulary import Outcome
from events.envelope import RecordedEvent
from events.store import SqlEventStore
from projections.log_summary import LogSummary
from services.clock import today
from services.referrals.lifecycle import ReferralState
from services.settings import Settings
from services.simulation.simulate_year import last_day, months_before

SIGNALS_PER_MONTH = 500
REJECTS = Path("var") / "rejects"


def demo(
    signals: int = typer.Option(SIGNALS_PER_MONTH, min=1, max=1_000_000, help="Signals per month."),
    months: int = typer.Option(12, min=1, max=24, help="How many months, ending last month."),
    seed: int = typer.Option(2026, help="Seed of the synthetic data (same seed, same data)."),
    out: Path = typer.Option(Path("var/demo"), help="Where the partner files are written."),
) -> None:
    """Simulate a year of the hub for Almelo: partner files ingested month by month, teams
    working their queues day by day, projections, and the management report.

    Uses HUB_DATABASE_URL (by default a SQLite file under ./var/, no server needed). Running
    it again on the same database records no signal twice (every one is reported as a
    duplicate) and simulates the teams' work only for the days after the last recorded event.
    """
    settings = load_settings()
    chosen = months_before(today(), months)
    run(_demo(settings, signals, chosen, seed, out))
    print_management_report(chosen, out)


async def _demo(
    settings: Settings, count: int, months: list[tuple[int, int]], seed: int, out: Path
) -> None:
    first, last = months[0], months[-1]
    on = today()
    console.print(
        f"[bold]Signaalhub demo[/bold] — {count} synthetic signals a month for Almelo (0141), "
        f"{first[0]}-{first[1]:02d} to {last[0]}-{last[1]:02d}, teams at work until "
        f"yesterday, into {settings.redacted_database_url()}"
    )
    store, clock = await open_simulation_store(settings, months)
    try:
        year = await run_demo_year(
            settings,
            store,
            clock,
            months=months,
            signals_per_month=count,
            seed=seed,
            out=out,
            rejects=REJECTS,
            today=on,
            console=console,
        )
        log = await _summarise_log(store)
        example = await _example_case(store, log)
    finally:
        await store.close()
    _print_ingest(year.ingest, REJECTS)
    _print_log(log)
    _print_caseload(year, log, on)
    _print_outcomes(year)
    _print_case(example)
    _print_where(year, out)


def print_management_report(months: list[tuple[int, int]], out: Path) -> None:
    """REPORT HOOK (issue 5, item 5) — the one place where the demo ends with the management
    report: printed in the terminal, written as HTML, and the DDAS delivery of the simulated
    months written, both beside the partner files (``var/`` by default).

    Runs the user's own commands (``signaalhub report``, ``signaalhub export ddas``) after the
    simulation, on the real clock: the export records its disclosure of personal data in the
    audit trail now, not on a simulated day."""
    from adapters.cli.export_command import ddas
    from adapters.cli.report_command import ReportFormat, report

    folder = out.parent
    folder.mkdir(parents=True, exist_ok=True)
    starts, ends = date(*months[0], 1), last_day(*months[-1])
    html = folder / "demo-report.html"
    delivery = folder / f"ddas-{starts.isoformat()}-{ends.isoformat()}.json"
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=console
    ) as progress:
        task = progress.add_task("Management report, HTML and DDAS export", total=3)
        report(None, None, None, None, ReportFormat.TABLE, None)
        progress.advance(task)
        report(None, None, None, None, ReportFormat.HTML, html)
        progress.advance(task)
        ddas(datetime.combine(starts, time()), datetime.combine(ends, time()), delivery)
        progress.advance(task)
    console.print(
        f"Open [bold]{html}[/bold] in a browser for the charts; the DDAS delivery of "
        f"{starts} to {ends} is [bold]{delivery}[/bold] (synthetic personal data)."
    )


async def _summarise_log(store: SqlEventStore) -> LogSummary:
    """``projections.log_summary.summarise_log`` with a progress bar: a year is 50,000 events."""
    summary = LogSummary()
    last = await store.last_position()
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=console
    ) as progress:
        task = progress.add_task("Reading the event log back (events)", total=last)
        position = 0
        while page := await store.read_all(after=position, limit=5000):
            for recorded in page:
                summary.apply(recorded)
            position = page[-1].position
            progress.update(task, completed=min(position, last))
    return summary


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
        add_summary(total, summary)
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


_STATES = (
    ("waiting", (ReferralState.REQUESTED,)),
    ("in hand", (ReferralState.CLAIMED, ReferralState.IN_PROGRESS)),
    ("closed", (ReferralState.CLOSED,)),
    ("moved", (ReferralState.REROUTED, ReferralState.CANCELLED)),
)


def _print_caseload(year: DemoYear, log: LogSummary, on: date) -> None:
    caseload = year.work.caseload(on)
    if not caseload:
        return
    table = Table(title=f"Caseload per project and team on {on} (referrals)")
    table.add_column("project / team")
    table.add_column("total", justify="right")
    for name, _ in _STATES:
        table.add_column(name, justify="right")
    table.add_column("overdue", justify="right")
    by_project: dict[str, dict[str, Counter[str]]] = {}
    for (project, team), counts in caseload.items():
        by_project.setdefault(project, {})[team] = counts
    total: Counter[str] = Counter()
    for project, teams in sorted(by_project.items()):
        project_total: Counter[str] = sum(teams.values(), Counter())
        table.add_row(*_caseload_row(project, project_total), style="bold")
        for team, counts in sorted(teams.items()):
            table.add_row(*_caseload_row(f"  {team}", counts))
        total.update(project_total)
    table.add_section()
    table.add_row(*_caseload_row("all projects", total), style="bold")
    closed_by_rules = sum(n for (_, team), n in log.caseload.items() if not team)
    table.caption = (
        "in hand: claimed or in progress; moved: rerouted or cancelled; overdue: open past "
        f"its SLA due date. {closed_by_rules} cases were closed by routing rules without a "
        "referral."
    )
    console.print(table)


def _caseload_row(name: str, counts: Counter[str]) -> list[str]:
    states = [sum(counts[s.value] for s in group) for _, group in _STATES]
    return [name, str(sum(states)), *map(str, states), str(counts["overdue"])]


def _print_outcomes(year: DemoYear) -> None:
    outcomes = year.work.outcomes()
    if not outcomes:
        return
    table = Table(title="How the teams closed their referrals (DDAS eindresultaat)")
    table.add_column("outcome")
    table.add_column("referrals", justify="right")
    table.add_column("share", justify="right")
    closed = sum(outcomes.values())
    for outcome, n in outcomes.most_common():
        table.add_row(outcome, str(n), f"{n / closed:.0%}")
    work = year.work
    table.caption = f"{work.actions} team actions recorded on {work.days} simulated days" + (
        f", {len(work.refused)} refused" if work.refused else ""
    )
    console.print(table)


def _print_where(year: DemoYear, out: Path) -> None:
    files = sum(len(paths) for paths in year.files.values())
    seconds = ", ".join(f"{step} {s:.1f} s" for step, s in year.seconds.items())
    console.print(
        f"Partner files: {files} in {out}/ (one folder per month); rejections in {REJECTS}/"
    )
    console.print(f"Took {seconds}; projections applied {sum(year.projections.values())} events.")
    if year.work.played_after is not None:
        console.print(
            f"The database already held events up to {year.work.played_after} (an earlier run): "
            "nothing was recorded twice, and the teams' work was simulated only after that day."
        )


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
