"""The management report for spreadsheets: one CSV file and one XLSX workbook.

CSV — a long format, one figure per line, ``;``-separated, UTF-8 with a byte-order mark and
CRLF line ends, so Dutch Excel opens it as it is. Header::

    section;dimension;group;bucket;measure;value

- ``section``: a key of ``Report.as_dict()`` (``scope``, ``caseload``, ``outcomes``,
  ``lead_times``, ``signal_mix``, ``capacity``, ``caseload_over_time``);
- ``dimension`` and ``group``: what the figure is about (``project`` / ``vroeg-erop-af``;
  ``step`` / ``received_to_claimed`` for lead times; ``partner_type`` or ``partner`` for the
  signal mix); empty for a section's totals;
- ``bucket``: a histogram bucket (``8-14``) or a time bucket (``2026-W03``), else empty;
- ``measure``: the field's path inside its row as in ``as_dict()``, dotted
  (``new``, ``bereik.numerator``, ``bereik.value``, ``by_outcome.Inwoner is overleden``,
  ``distribution``, ``period.label``);
- ``value``: a whole number as is, a fraction or day figure with a decimal comma (``0,75``),
  empty when the figure has no value (a rate without denominator), a date ISO ``2026-03-31``.

XLSX — one sheet per section with Dutch headers, the header row bold; numbers are numbers,
rates and shares are fractions shown as percentages, a missing figure is an empty cell.

Both pass every text cell through ``cells.neutralise`` (formula injection).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from adapters.reports import labels
from adapters.reports.cells import neutralise
from services.reports.model import OutcomeRow, Rate, Report

Cell = str | int | float | None
CSV_HEADER = ("section", "dimension", "group", "bucket", "measure", "value")
PERCENT = "0.0%"
RATE_NAMES = tuple(labels.RATES)


def write_csv(report: Report, out: Path) -> None:
    """The report in the long format above, to ``out`` (overwritten)."""
    with out.open("w", encoding="utf-8-sig", newline="") as file:
        writer = csv.writer(file, delimiter=";", lineterminator="\r\n")
        writer.writerow(CSV_HEADER)
        for *where, value in long_rows(report):
            writer.writerow([*(neutralise(text) for text in where), _csv_value(value)])


Row = tuple[str, str, str, str, str, Cell]


def long_rows(report: Report) -> Iterator[Row]:
    """Every figure of the report as ``(section, dimension, group, bucket, measure, value)``."""
    yield from _scope_rows(report)
    yield from _caseload_rows(report)
    yield from _outcome_rows(report)
    yield from _lead_time_rows(report)
    yield from _signal_mix_rows(report)
    yield from _capacity_rows(report)
    yield from _timeline_rows(report)


def _scope_rows(report: Report) -> Iterator[Row]:
    scope, period = report.scope, report.scope.period
    figures: list[tuple[str, Cell]] = [
        ("period.label", period.label),
        ("period.granularity", period.granularity),
        ("period.starts", period.starts.isoformat()),
        ("period.ends", period.ends.isoformat()),
        ("project", scope.project),
        ("team", scope.team),
        ("as_of", scope.as_of.isoformat() if scope.as_of else None),
        ("generated_at", scope.generated_at.isoformat()),
        ("events_up_to_position", scope.events_up_to_position),
    ]
    for measure, value in figures:
        yield "scope", "", "", "", measure, value


def _caseload_rows(report: Report) -> Iterator[Row]:
    for dimension, rows in report.caseload.items():
        for row in rows:
            for measure in labels.CASELOAD_MEASURES:
                yield "caseload", dimension, row.group, "", measure, getattr(row, measure)


def _outcome_rows(report: Report) -> Iterator[Row]:
    for dimension, rows in report.outcomes.items():
        for row in rows:
            for measure, value in _outcome_figures(row):
                yield "outcomes", dimension, row.group, "", measure, value


def _lead_time_rows(report: Report) -> Iterator[Row]:
    for lead in report.lead_times:
        yield "lead_times", "step", lead.step, "", "count", lead.count
        yield "lead_times", "step", lead.step, "", "median_days", lead.median_days
        yield "lead_times", "step", lead.step, "", "p90_days", lead.p90_days
        for bucket, count in lead.distribution.items():
            yield "lead_times", "step", lead.step, bucket, "distribution", count


def _signal_mix_rows(report: Report) -> Iterator[Row]:
    mix = report.signal_mix
    if mix is None:
        return
    totals: list[tuple[str, Cell]] = [("signals", mix.signals)]
    totals += _rate_figures("crisis_share", mix.crisis_share)
    totals += _rate_figures("final_delivery_share", mix.final_delivery_share)
    totals += [
        ("inhabitants", mix.inhabitants),
        ("resident_signals", mix.resident_signals),
        ("signals_per_1000_inhabitants", mix.signals_per_1000_inhabitants),
        ("unique_households", mix.unique_households),
        ("multi_signal_households", mix.multi_signal_households),
        ("repeat_households_12_months", mix.repeat_households_12_months),
    ]
    for measure, value in totals:
        yield "signal_mix", "", "", "", measure, value
    for kind, count in mix.by_partner_type.items():
        yield "signal_mix", "partner_type", kind, "", "signals", count
    for partner, count in mix.by_partner.items():
        yield "signal_mix", "partner", partner, "", "signals", count


def _capacity_rows(report: Report) -> Iterator[Row]:
    for use in report.capacity:
        yield "capacity", "project", use.project, "", "capacity", use.capacity
        yield "capacity", "project", use.project, "", "households_taken", use.households_taken
        yield "capacity", "project", use.project, "", "share", use.share


def _timeline_rows(report: Report) -> Iterator[Row]:
    for point in report.caseload_over_time:
        for measure in ("new", "open_at_end", "closed"):
            value = getattr(point, measure)
            yield "caseload_over_time", "project", point.project, point.bucket, measure, value


def _outcome_figures(row: OutcomeRow) -> list[tuple[str, Cell]]:
    figures: list[tuple[str, Cell]] = [("closed", row.closed), ("picked_up", row.picked_up)]
    for name in RATE_NAMES:
        figures += _rate_figures(name, getattr(row, name))
    figures += [(f"by_outcome.{outcome}", n) for outcome, n in row.by_outcome.items()]
    return figures


def _rate_figures(name: str, rate: Rate) -> list[tuple[str, Cell]]:
    return [
        (f"{name}.numerator", rate.numerator),
        (f"{name}.denominator", rate.denominator),
        (f"{name}.value", rate.value),
    ]


def _csv_value(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return neutralise(value)
    if isinstance(value, float):
        # Dutch Excel reads a decimal comma; repr keeps every digit of the figure.
        return repr(value).replace(".", ",")
    return str(value)


# XLSX


def write_xlsx(report: Report, out: Path) -> None:
    """The report as a workbook, one sheet per section, to ``out`` (overwritten)."""
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    _scope_sheet(book, report)
    _caseload_sheets(book, report)
    _outcomes_sheet(book, report)
    _lead_times_sheet(book, report)
    _signal_mix_sheet(book, report)
    _capacity_sheet(book, report)
    book.save(out)


def _scope_sheet(book: Workbook, report: Report) -> None:
    scope, period = report.scope, report.scope.period
    rows: list[list[Cell]] = [
        ["Periode", period.label],
        ["Soort periode", labels.granularity(period.granularity)],
        ["Van", period.starts.isoformat()],
        ["Tot en met", period.ends.isoformat()],
        ["Project", scope.project or "alle projecten"],
        ["Team", scope.team or "alle teams"],
        ["Stand per", scope.as_of.isoformat() if scope.as_of else "nu"],
        ["Tot en met logpositie", scope.events_up_to_position],
        ["Gemaakt op", scope.generated_at.isoformat()],
    ]
    _sheet(book, "Rapportage", ["Maat", "Waarde"], rows)


def _caseload_sheets(book: Workbook, report: Report) -> None:
    measures = labels.CASELOAD_MEASURES
    rows: list[list[Cell]] = [
        [labels.dimension(dimension), row.group, *(getattr(row, m) for m in measures)]
        for dimension, caseload in report.caseload.items()
        for row in caseload
    ]
    _sheet(book, "Caseload", ["Dimensie", "Groep", *measures.values()], rows)
    timeline: list[list[Cell]] = [
        [p.bucket, p.project, p.new, p.open_at_end, p.closed] for p in report.caseload_over_time
    ]
    header = ["Deelperiode", "Project", "Nieuw", "Open aan eind", "Afgesloten"]
    _sheet(book, "Caseload in de tijd", header, timeline)


def _outcomes_sheet(book: Workbook, report: Report) -> None:
    every_row = [row for rows in report.outcomes.values() for row in rows]
    outcomes = list(dict.fromkeys(o for row in every_row for o in row.by_outcome))
    header = ["Dimensie", "Groep", "Afgesloten", "Opgepakt"]
    percent_columns = []
    for name in RATE_NAMES:
        label = labels.RATES[name]
        header += [f"{label} (teller)", f"{label} (noemer)", label]
        percent_columns.append(len(header))
    header += outcomes
    rows: list[list[Cell]] = []
    for dimension, outcome_rows in report.outcomes.items():
        for row in outcome_rows:
            cells: list[Cell] = [labels.dimension(dimension), row.group, row.closed, row.picked_up]
            for name in RATE_NAMES:
                rate: Rate = getattr(row, name)
                cells += [rate.numerator, rate.denominator, rate.value]
            cells += [row.by_outcome.get(outcome) for outcome in outcomes]
            rows.append(cells)
    _sheet(book, "Resultaten", header, rows, percent_columns=percent_columns)


def _lead_times_sheet(book: Workbook, report: Report) -> None:
    buckets = list(dict.fromkeys(b for lead in report.lead_times for b in lead.distribution))
    header = ["Stap", "Stap (code)", "Aantal", "Mediaan (dagen)", "P90 (dagen)"]
    header += [f"{bucket} dagen" for bucket in buckets]
    rows: list[list[Cell]] = [
        [
            labels.step(lead.step),
            lead.step,
            lead.count,
            lead.median_days,
            lead.p90_days,
            *(lead.distribution.get(bucket) for bucket in buckets),
        ]
        for lead in report.lead_times
    ]
    _sheet(book, "Doorlooptijden", header, rows)


def _signal_mix_sheet(book: Workbook, report: Report) -> None:
    mix = report.signal_mix
    rows: list[list[Cell]] = []
    percent_rows = []
    if mix is not None:
        rows.append(["Signalen", "", mix.signals])
        for name, rate in (
            ("Aandeel crisissignalen", mix.crisis_share),
            ("Aandeel eindeleveringssignalen", mix.final_delivery_share),
        ):
            rows += [
                [f"{name} (teller)", "", rate.numerator],
                [f"{name} (noemer)", "", rate.denominator],
                [name, "", rate.value],
            ]
            percent_rows.append(len(rows) + 1)
        rows += [
            ["Inwoners", "", mix.inhabitants],
            ["Signalen over inwoners van de gemeente", "", mix.resident_signals],
            ["Signalen per 1.000 inwoners", "", mix.signals_per_1000_inhabitants],
            ["Unieke huishoudens", "", mix.unique_households],
            ["Huishoudens met signalen van twee of meer partners", "", mix.multi_signal_households],
            [
                "Huishoudens met ook een signaal in de 12 maanden ervoor",
                "",
                mix.repeat_households_12_months,
            ],
        ]
        rows += [["Signalen per type signaalpartner", k, n] for k, n in mix.by_partner_type.items()]
        rows += [["Signalen per signaalpartner", p, n] for p, n in mix.by_partner.items()]
    sheet = _sheet(book, "Signaalmix", ["Maat", "Groep", "Waarde"], rows)
    for row_number in percent_rows:
        sheet.cell(row=row_number, column=3).number_format = PERCENT


def _capacity_sheet(book: Workbook, report: Report) -> None:
    rows: list[list[Cell]] = [
        [use.project, use.capacity, use.households_taken, use.share] for use in report.capacity
    ]
    header = ["Project", "Capaciteit (huishoudens)", "Opgenomen huishoudens", "Benut"]
    _sheet(book, "Capaciteit", header, rows, percent_columns=[4])


def _sheet(
    book: Workbook,
    title: str,
    header: Sequence[str],
    rows: Iterable[Sequence[Cell]],
    *,
    percent_columns: Sequence[int] = (),
) -> Worksheet:
    """A sheet with a bold header row, frozen below it; ``percent_columns`` (1-based) show
    their fractions as percentages."""
    sheet: Worksheet = book.create_sheet(title)
    sheet.append([_xlsx_value(name) for name in header])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([_xlsx_value(value) for value in row])
    for column in percent_columns:
        for (cell,) in sheet.iter_rows(min_row=2, min_col=column, max_col=column):
            cell.number_format = PERCENT
    sheet.freeze_panes = "A2"
    for index, name in enumerate(header, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = max(10, min(48, len(name) + 2))
    return sheet


def _xlsx_value(value: Cell) -> Cell:
    if isinstance(value, str):
        # XML cannot hold most control characters; openpyxl refuses them rather than drop them.
        return neutralise(ILLEGAL_CHARACTERS_RE.sub("\ufffd", value))
    return value
