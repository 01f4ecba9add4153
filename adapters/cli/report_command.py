"""`signaalhub report`: the management report (DESIGN §8; issue 5, item 3).

Per project and team for a period (``2026-W09``, ``2026-03``, ``2026-Q1``, ``2026``; default:
the current year), as terminal tables, JSON (``Report.as_dict()``), CSV, XLSX or one
self-contained HTML page. ``--as-of DATE`` replays the event log up to the end of that day
and shows the report as it stood then. Before reading, the command brings every projection
up to date, so the figures are current even when no hub is running.
"""

from __future__ import annotations

import json
import tempfile
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import NoReturn

import typer
from rich.console import Console
from rich.table import Table

from adapters.cli.running import console, errors, load_settings, run
from projections.report_facts import ReportFactsProjection
from projections.runner import catch_up_all
from services.bootstrap import open_migrated_event_store
from services.clock import today
from services.config_files import ConfigError
from services.reports.load_report import ReportRequest, load_report, load_report_config
from services.reports.model import CaseloadRow, OutcomeRow, Rate, Report
from services.reports.periods import PeriodError, current_year, parse_period
from services.routing.config import load_projects
from services.settings import Settings


class ReportFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"
    XLSX = "xlsx"
    HTML = "html"


def report(
    project: str | None = typer.Option(None, "--project", help="Only this project's referrals."),
    team: str | None = typer.Option(None, "--team", help="Only this team's referrals."),
    period: str | None = typer.Option(
        None, "--period", help="2026-W09, 2026-03, 2026-Q1 or 2026 (default: the current year)."
    ),
    as_of: str | None = typer.Option(
        None, "--as-of", help="YYYY-MM-DD: the report as it stood at the end of that day."
    ),
    output_format: ReportFormat = typer.Option(
        ReportFormat.TABLE, "--format", help="table, json, csv, xlsx or html."
    ),
    out: Path | None = typer.Option(
        None, "--out", help="Write to this file (required for xlsx; else standard output)."
    ),
) -> None:
    """Caseload, outcomes, lead times, signal mix and capacity per project, team and period."""
    settings = load_settings()
    request = _request(settings, project, team, period, as_of)
    if output_format is ReportFormat.XLSX and out is None:
        _fail("--format xlsx writes a workbook: give --out FILE.xlsx")
    try:
        result = run(_load(settings, request))
    except ConfigError as error:
        _fail(str(error))
    _emit(result, output_format, out)


def _request(
    settings: Settings,
    project: str | None,
    team: str | None,
    period: str | None,
    as_of: str | None,
) -> ReportRequest:
    try:
        chosen = parse_period(period) if period else current_year(today())
    except PeriodError as error:
        _fail(f"--period: {error}")
    day: date | None = None
    if as_of is not None:
        try:
            day = date.fromisoformat(as_of)
        except ValueError:
            _fail(f"--as-of: {as_of!r} is not a date (YYYY-MM-DD)")
    if project is not None:
        try:
            known = [p.id for p in load_projects(settings.config_dir)]
        except ConfigError as error:
            _fail(str(error))
        if project not in known:
            _fail(f"--project: unknown project {project!r}; known: {', '.join(known)}")
    return ReportRequest(chosen, project=project, team=team, as_of=day)


def _fail(message: str) -> NoReturn:
    errors.print(f"[red]error:[/red] {message}", highlight=False)
    raise typer.Exit(2)


async def _load(settings: Settings, request: ReportRequest) -> Report:
    config = load_report_config(settings.config_dir)
    projection = ReportFactsProjection.from_config(settings.config_dir)
    store = await open_migrated_event_store(settings)
    try:
        await catch_up_all(store)
        return await load_report(store, request, config, projection, today=today())
    finally:
        await store.close()


def _emit(result: Report, output_format: ReportFormat, out: Path | None) -> None:
    if output_format is ReportFormat.TABLE:
        if out is None:
            print_report(result, console)
        else:
            with out.open("w", encoding="utf-8") as file:
                print_report(result, Console(file=file, width=140, color_system=None))
    elif output_format is ReportFormat.JSON:
        _write_text(json.dumps(result.as_dict(), ensure_ascii=False, indent=2), out)
    elif output_format is ReportFormat.HTML:
        from adapters.reports.html import render_html

        _write_text(render_html(result), out)
    elif output_format is ReportFormat.CSV:
        from adapters.reports.spreadsheet import write_csv

        if out is None:
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / "report.csv"
                write_csv(result, path)
                typer.echo(path.read_text(encoding="utf-8-sig"), nl=False)
        else:
            write_csv(result, out)
    else:
        from adapters.reports.spreadsheet import write_xlsx

        assert out is not None
        write_xlsx(result, out)
    if out is not None:
        errors.print(f"Report written to {out}", highlight=False)


def _write_text(text: str, out: Path | None) -> None:
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text + "\n", encoding="utf-8")


# -- terminal tables ------------------------------------------------------------------------


def print_report(result: Report, target: Console) -> None:
    scope = result.scope
    period = scope.period
    where = ", ".join(
        part
        for part in (
            f"project {scope.project}" if scope.project else "",
            f"team {scope.team}" if scope.team else "",
        )
        if part
    )
    target.print(
        f"[bold]Management report {period.label}[/bold] "
        f"({period.starts.isoformat()} to {period.ends.isoformat()})"
        + (f", {where}" if where else ""),
        highlight=False,
    )
    standing = f"as of the end of {scope.as_of.isoformat()}" if scope.as_of else "now"
    target.print(
        f"Figures {standing}, up to log position {scope.events_up_to_position}.",
        highlight=False,
    )
    for dimension, rows in result.caseload.items():
        target.print(_caseload_table(dimension, rows))
    for dimension, outcome_rows in result.outcomes.items():
        target.print(_rates_table(dimension, outcome_rows))
    if result.outcomes:
        target.print(_outcome_counts(next(iter(result.outcomes.values()))[-1]))
    target.print(_lead_time_table(result))
    target.print(_signal_mix_table(result))
    if result.capacity:
        target.print(_capacity_table(result))


def _table(title: str, first: str, *columns: str) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column(first)
    for column in columns:
        table.add_column(column, justify="right")
    return table


def _caseload_table(dimension: str, rows: list[CaseloadRow]) -> Table:
    table = _table(
        f"Caseload per {dimension}",
        dimension,
        "new",
        "open",
        "claimed",
        "in progress",
        "closed",
        "overdue",
    )
    for row in rows:
        table.add_row(
            row.group,
            *(str(n) for n in (row.new, row.open, row.claimed, row.in_progress, row.closed)),
            str(row.overdue),
            style="red" if row.overdue else None,
        )
    return table


def _rate(rate: Rate) -> str:
    if rate.value is None:
        return "–"
    return f"{rate.value * 100:.1f} % ({rate.numerator}/{rate.denominator})"


def _rates_table(dimension: str, rows: list[OutcomeRow]) -> Table:
    table = _table(
        f"Outcomes per {dimension} (cases closed in the period)",
        dimension,
        "closed",
        "picked up",
        "bereik",
        "hulpacceptatie",
        "no contact",
    )
    for row in rows:
        table.add_row(
            row.group,
            str(row.closed),
            str(row.picked_up),
            _rate(row.bereik),
            _rate(row.hulpacceptatie),
            _rate(row.no_contact_rate),
            style="bold" if row is rows[-1] else None,
        )
    return table


def _outcome_counts(total: OutcomeRow) -> Table:
    table = _table("Eindresultaat (all cases closed in the period)", "eindresultaat", "cases")
    for outcome, count in total.by_outcome.items():
        table.add_row(outcome, str(count))
    table.add_row("totaal", str(total.closed), style="bold")
    return table


def _days(value: float | int | None) -> str:
    if value is None:
        return "–"
    return f"{value:g}"


def _lead_time_table(result: Report) -> Table:
    table = _table("Lead times in calendar days", "step", "cases", "median", "p90")
    for lead in result.lead_times:
        table.add_row(
            lead.step.replace("_", " "),
            str(lead.count),
            _days(lead.median_days),
            _days(lead.p90_days),
        )
    return table


def _signal_mix_table(result: Report) -> Table:
    table = _table("Signals received in the period", "measure", "value")
    mix = result.signal_mix
    if mix is None:
        return table
    per_1000 = mix.signals_per_1000_inhabitants
    table.add_row("signals", str(mix.signals))
    for partner_type, count in mix.by_partner_type.items():
        table.add_row(f"  partner type {partner_type}", str(count))
    for partner, count in mix.by_partner.items():
        table.add_row(f"  partner {partner}", str(count))
    table.add_row("crisis signals", _rate(mix.crisis_share))
    table.add_row("eindeleveringssignalen", _rate(mix.final_delivery_share))
    table.add_row(
        f"per 1,000 inhabitants ({mix.inhabitants})", "–" if per_1000 is None else f"{per_1000:.2f}"
    )
    table.add_row("unique households", str(mix.unique_households))
    table.add_row("households with 2+ partners", str(mix.multi_signal_households))
    table.add_row("repeat households (12 months)", str(mix.repeat_households_12_months))
    return table


def _capacity_table(result: Report) -> Table:
    table = _table("Capacity use", "project", "households taken", "capacity", "share")
    for use in result.capacity:
        table.add_row(
            use.project, str(use.households_taken), str(use.capacity), f"{use.share * 100:.1f} %"
        )
    return table
