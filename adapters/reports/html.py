"""The management report as ONE self-contained HTML page (DESIGN §8, issue 5 item 3).

Nothing is fetched: styles are inline, charts are inline SVG drawn in Python
(``svg_charts``), there is no script and no font, image or link to elsewhere; a
Content-Security-Policy of ``default-src 'none'`` makes the browser refuse anything else. Every
text from the report (group names and labels come from configuration) is HTML-escaped.

Hooks: every figure on the page carries ``data-key``, the JSON Pointer (RFC 6901) of that
figure in ``Report.as_dict()``, e.g. ``<td data-key="/caseload/project/0/new">12</td>`` —
lists by index, dict keys as they are, ``~`` written ``~0`` and ``/`` written ``~1``. What the
element shows is, by the JSON value's type:

- an integer: the number with dots between thousands (``1.234``);
- a fraction (a rate's ``value``, a capacity ``share``): a percentage to one decimal
  (``75,0 %``);
- another number (median days, signals per 1,000 inhabitants): one decimal, decimal comma
  (``4,5``), without a trailing ``,0``;
- ``null``: ``–`` (never ``0`` or ``0 %``);
- a string: the text itself — except a ``<time>`` element, whose ``datetime`` attribute holds
  the ISO string while the text is the date in Dutch.

Chart marks carry ``data-plot`` (the pointer of the figure drawn) and ``data-value``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from html import escape

from adapters.reports import labels
from adapters.reports.keys import json_pointer
from adapters.reports.numbers import one_decimal, percent, whole
from adapters.reports.svg_charts import (
    Bar,
    Plotted,
    Series,
    grouped_columns,
    horizontal_bars,
    lines,
)
from services.clock import MUNICIPAL_TIME_ZONE
from services.reports.model import (
    CaseloadRow,
    LeadTime,
    OutcomeRow,
    Rate,
    Report,
    Scope,
    SignalMix,
)

MONTHS = (
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
)
TOTAL_GROUP = "totaal"

STYLE = """
:root { color-scheme: light; }
body { font-family: system-ui, "Segoe UI", Roboto, Arial, sans-serif; color: #1a1a1a;
  margin: 0 auto; max-width: 64rem; padding: 1.5rem; line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: .25rem; }
h2 { font-size: 1.3rem; border-bottom: 2px solid #0072B2; padding-bottom: .2rem;
  margin-top: 2.5rem; }
h3 { font-size: 1.05rem; margin-top: 1.5rem; }
dl.scope { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; }
dl.scope dt { font-weight: 600; }
dl.scope dd { margin: 0; }
nav ul { display: flex; flex-wrap: wrap; gap: .4rem 1.2rem; padding: 0; list-style: none; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: .9rem; }
th, td { border: 1px solid #c8c8c8; padding: .25rem .5rem; vertical-align: top; }
thead th { background: #eef3f8; text-align: left; }
tbody th { text-align: left; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.scroll { overflow-x: auto; }
figure { margin: 1rem 0; }
svg.chart { max-width: 100%; height: auto; font-size: 12px; }
svg.chart text { fill: #1a1a1a; }
svg.chart .grid { stroke: #dddddd; stroke-width: 1; }
.note { color: #555; font-size: .9rem; }
@media print { body { max-width: none; } h2 { break-before: page; } }
"""

CSP = "default-src 'none'; style-src 'unsafe-inline'"


def render_html(report: Report) -> str:
    """The whole page, ready to write to a ``.html`` file."""
    title = f"Rapportage vroegsignalering {report.scope.period.label}"
    body = "".join(
        (
            _header(report.scope),
            _contents(),
            _caseload(report),
            _outcomes(report),
            _lead_times(report.lead_times),
            _signal_mix(report.signal_mix),
            _capacity(report),
            _footer(),
        )
    )
    return (
        '<!DOCTYPE html>\n<html lang="nl">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n"
        f"<body>\n{body}\n</body>\n</html>\n"
    )


# Scope


def _header(scope: Scope) -> str:
    period = scope.period
    project = _text(("scope", "project"), scope.project) if scope.project else "alle projecten"
    team = _text(("scope", "team"), scope.team) if scope.team else "alle teams"
    as_of = (
        f"{_time(('scope', 'as_of'), scope.as_of)} (teruggerekend tot het eind van die dag)"
        if scope.as_of
        else "nu: alles wat tot nu toe is vastgelegd"
    )
    rows = (
        (
            "Periode",
            f"{_text(('scope', 'period', 'label'), period.label)} "
            f"({escape(labels.granularity(period.granularity))}, "
            f"{_time(('scope', 'period', 'starts'), period.starts)} t/m "
            f"{_time(('scope', 'period', 'ends'), period.ends)})",
        ),
        ("Project", project),
        ("Team", team),
        ("Stand per", as_of),
        (
            "Tot en met logpositie",
            _span(("scope", "events_up_to_position"), whole(scope.events_up_to_position)),
        ),
        ("Gemaakt op", _time(("scope", "generated_at"), scope.generated_at)),
    )
    items = "".join(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in rows)
    return (
        "<header>\n<h1>Rapportage vroegsignalering</h1>\n"
        '<p class="note">Geen persoonsgegevens: alleen aantallen per project, team, wijk en '
        f'signaalpartner.</p>\n<dl class="scope">{items}</dl>\n</header>\n'
    )


def _contents() -> str:
    links = (
        ("caseload", "Caseload"),
        ("resultaten", "Resultaten"),
        ("doorlooptijden", "Doorlooptijden"),
        ("signaalmix", "Signaalmix"),
        ("capaciteit", "Capaciteit"),
    )
    items = "".join(f'<li><a href="#{anchor}">{name}</a></li>' for anchor, name in links)
    return f'<nav aria-label="Inhoud"><ul>{items}</ul></nav>\n'


# Caseload


def _caseload(report: Report) -> str:
    timeline = report.caseload_over_time
    buckets = sorted({point.bucket for point in timeline})
    projects = list(dict.fromkeys(point.project for point in timeline))
    where = {(p.bucket, p.project): index for index, p in enumerate(timeline)}
    series = [
        Series(
            project,
            [
                Plotted(
                    timeline[where[bucket, project]].open_at_end,
                    json_pointer("caseload_over_time", where[bucket, project], "open_at_end"),
                )
                if (bucket, project) in where
                else None
                for bucket in buckets
            ],
        )
        for project in projects
    ]
    chart = lines(
        "chart-caseload",
        "Caseload in de tijd per project",
        "Openstaande verwijzingen aan het eind van elke deelperiode, één lijn per project.",
        buckets,
        series,
    )
    parts = [f'<section id="caseload">\n<h2>Caseload</h2>\n<figure>{chart}</figure>\n']
    for dimension, rows in report.caseload.items():
        parts.append(_caseload_table(dimension, rows))
    header = _head(("Deelperiode", "Project", "Nieuw", "Open aan eind", "Afgesloten"))
    body = "".join(
        "<tr>"
        f"<td>{_text(('caseload_over_time', i, 'bucket'), p.bucket)}</td>"
        f"<td>{_text(('caseload_over_time', i, 'project'), p.project)}</td>"
        f"{_number(('caseload_over_time', i, 'new'), p.new)}"
        f"{_number(('caseload_over_time', i, 'open_at_end'), p.open_at_end)}"
        f"{_number(('caseload_over_time', i, 'closed'), p.closed)}"
        "</tr>"
        for i, p in enumerate(timeline)
    )
    parts.append(_table("Caseload in de tijd", header, body))
    parts.append("</section>\n")
    return "".join(parts)


def _caseload_table(dimension: str, rows: Sequence[CaseloadRow]) -> str:
    measures = labels.CASELOAD_MEASURES
    header = _head((labels.dimension(dimension).capitalize(), *measures.values()))
    body = "".join(
        f"<tr>{_group(('caseload', dimension, i, 'group'), row.group)}"
        + "".join(
            _number(("caseload", dimension, i, measure), getattr(row, measure))
            for measure in measures
        )
        + "</tr>"
        for i, row in enumerate(rows)
    )
    return _table(f"Caseload per {labels.dimension(dimension)}", header, body)


# Outcomes


def _outcomes(report: Report) -> str:
    parts = ['<section id="resultaten">\n<h2>Resultaten</h2>\n']
    parts.append(f"<figure>{_outcome_chart(report.outcomes)}</figure>\n")
    for dimension, rows in report.outcomes.items():
        parts.append(_rates_table(dimension, rows))
        parts.append(_by_outcome_table(dimension, rows))
    parts.append(
        '<p class="note">Bereik: opgepakte zaken met minstens één contactpoging die de inwoner '
        "bereikte ÷ opgepakte zaken. Hulpacceptatie: zaken afgesloten met advies/quick fix of "
        "vervolghulp ÷ opgepakte zaken met contact. Geen contact: zaken afgesloten met "
        "“Definitief geen contact kunnen krijgen” ÷ opgepakte zaken. “–”: niets om door te "
        "delen.</p>\n</section>\n"
    )
    return "".join(parts)


def _outcome_chart(outcomes: dict[str, list[OutcomeRow]]) -> str:
    title = "Verdeling van de eindresultaten"
    dimension = "project" if "project" in outcomes else next(iter(outcomes), None)
    rows = outcomes.get(dimension, []) if dimension else []
    if dimension is None or not rows:
        return horizontal_bars("chart-outcomes", title, "Geen afgesloten zaken.", [])
    index = next((i for i, row in enumerate(rows) if row.group == TOTAL_GROUP), len(rows) - 1)
    bars = [
        Bar(
            outcome,
            Plotted(count, json_pointer("outcomes", dimension, index, "by_outcome", outcome)),
        )
        for outcome, count in rows[index].by_outcome.items()
    ]
    description = "Aantal afgesloten zaken per eindresultaat (DDAS), alle groepen samen."
    return horizontal_bars("chart-outcomes", title, description, bars)


def _rates_table(dimension: str, rows: Sequence[OutcomeRow]) -> str:
    header = _head(
        (labels.dimension(dimension).capitalize(), "Afgesloten", "Opgepakt", *labels.RATES.values())
    )
    body = "".join(
        f"<tr>{_group(('outcomes', dimension, i, 'group'), row.group)}"
        f"{_number(('outcomes', dimension, i, 'closed'), row.closed)}"
        f"{_number(('outcomes', dimension, i, 'picked_up'), row.picked_up)}"
        + "".join(
            _rate(("outcomes", dimension, i, name), getattr(row, name)) for name in labels.RATES
        )
        + "</tr>"
        for i, row in enumerate(rows)
    )
    return _table(f"Resultaten per {labels.dimension(dimension)}", header, body)


def _by_outcome_table(dimension: str, rows: Sequence[OutcomeRow]) -> str:
    outcomes = list(dict.fromkeys(o for row in rows for o in row.by_outcome))
    header = (
        '<tr><th scope="col">Eindresultaat</th>'
        + "".join(f'<th scope="col">{escape(row.group)}</th>' for row in rows)
        + "</tr>"
    )
    body = "".join(
        f'<tr><th scope="row">{escape(outcome)}</th>'
        + "".join(
            _number(("outcomes", dimension, i, "by_outcome", outcome), row.by_outcome[outcome])
            if outcome in row.by_outcome
            else "<td></td>"
            for i, row in enumerate(rows)
        )
        + "</tr>"
        for outcome in outcomes
    )
    return _table(f"Eindresultaten per {labels.dimension(dimension)}", header, body)


# Lead times


def _lead_times(lead_times: Sequence[LeadTime]) -> str:
    buckets = list(dict.fromkeys(b for lead in lead_times for b in lead.distribution))
    series = [
        Series(
            labels.step(lead.step),
            [
                Plotted(lead.distribution[b], json_pointer("lead_times", i, "distribution", b))
                if b in lead.distribution
                else None
                for b in buckets
            ],
        )
        for i, lead in enumerate(lead_times)
    ]
    chart = grouped_columns(
        "chart-lead-times",
        "Verdeling van de doorlooptijden",
        "Aantal zaken per doorlooptijd in kalenderdagen, één kleur per stap.",
        buckets,
        series,
    )
    header = _head(("Stap", "Aantal", "Mediaan (dagen)", "P90 (dagen)"))
    body = "".join(
        f'<tr><th scope="row">{escape(labels.step(lead.step))}</th>'
        f"{_number(('lead_times', i, 'count'), lead.count)}"
        f"{_cell(('lead_times', i, 'median_days'), one_decimal(lead.median_days))}"
        f"{_number(('lead_times', i, 'p90_days'), lead.p90_days)}</tr>"
        for i, lead in enumerate(lead_times)
    )
    spread_header = _head(("Stap", *(f"{b} dagen" for b in buckets)))
    spread_body = "".join(
        f'<tr><th scope="row">{escape(labels.step(lead.step))}</th>'
        + "".join(
            _number(("lead_times", i, "distribution", b), lead.distribution[b])
            if b in lead.distribution
            else "<td></td>"
            for b in buckets
        )
        + "</tr>"
        for i, lead in enumerate(lead_times)
    )
    return (
        f'<section id="doorlooptijden">\n<h2>Doorlooptijden</h2>\n<figure>{chart}</figure>\n'
        f"{_table('Mediaan en 90e percentiel', header, body)}"
        f"{_table('Verdeling in kalenderdagen', spread_header, spread_body)}"
        '<p class="note">In kalenderdagen, over de zaken waarvan de stap in de periode viel; '
        "P90 volgens de nearest-rank-methode.</p>\n</section>\n"
    )


# Signal mix


def _signal_mix(mix: SignalMix | None) -> str:
    title = "Signaalmix per type signaalpartner"
    if mix is None:
        chart = horizontal_bars("chart-signal-mix", title, "Geen signalen.", [])
        return (
            f'<section id="signaalmix">\n<h2>Signaalmix</h2>\n<figure>{chart}</figure>\n'
            "<p>Geen signalen in deze periode.</p>\n</section>\n"
        )
    bars = [
        Bar(kind, Plotted(count, json_pointer("signal_mix", "by_partner_type", kind)))
        for kind, count in mix.by_partner_type.items()
    ]
    chart = horizontal_bars(
        "chart-signal-mix", title, "Aantal ontvangen signalen per type signaalpartner.", bars
    )
    key = ("signal_mix",)
    figures = (
        ("Signalen", _number((*key, "signals"), mix.signals)),
        ("Aandeel crisissignalen", _rate((*key, "crisis_share"), mix.crisis_share)),
        (
            "Aandeel eindeleveringssignalen",
            _rate((*key, "final_delivery_share"), mix.final_delivery_share),
        ),
        ("Inwoners", _number((*key, "inhabitants"), mix.inhabitants)),
        (
            "Signalen over inwoners van de gemeente",
            _number((*key, "resident_signals"), mix.resident_signals),
        ),
        (
            "Signalen per 1.000 inwoners",
            _cell(
                (*key, "signals_per_1000_inhabitants"),
                one_decimal(mix.signals_per_1000_inhabitants),
            ),
        ),
        ("Unieke huishoudens", _number((*key, "unique_households"), mix.unique_households)),
        (
            "Huishoudens met signalen van twee of meer partners",
            _number((*key, "multi_signal_households"), mix.multi_signal_households),
        ),
        (
            "Huishoudens met ook een signaal in de 12 maanden ervoor",
            _number((*key, "repeat_households_12_months"), mix.repeat_households_12_months),
        ),
    )
    figures_body = "".join(f'<tr><th scope="row">{name}</th>{cell}</tr>' for name, cell in figures)
    per_type = _counts_table(
        "Signalen per type signaalpartner",
        "Type signaalpartner",
        (*key, "by_partner_type"),
        mix.by_partner_type,
    )
    per_partner = _counts_table(
        "Signalen per signaalpartner", "Signaalpartner", (*key, "by_partner"), mix.by_partner
    )
    return (
        f'<section id="signaalmix">\n<h2>Signaalmix</h2>\n<figure>{chart}</figure>\n'
        f"{_table('Kerncijfers', _head(('Maat', 'Waarde')), figures_body)}"
        f"{per_type}{per_partner}</section>\n"
    )


def _counts_table(caption: str, name: str, key: tuple[str, ...], counts: dict[str, int]) -> str:
    body = "".join(
        f'<tr><th scope="row">{escape(group)}</th>{_number((*key, group), count)}</tr>'
        for group, count in counts.items()
    )
    return _table(caption, _head((name, "Signalen")), body)


# Capacity


def _capacity(report: Report) -> str:
    header = _head(("Project", "Capaciteit (huishoudens)", "Opgenomen huishoudens", "Benut"))
    body = "".join(
        f"<tr>{_group(('capacity', i, 'project'), use.project)}"
        f"{_number(('capacity', i, 'capacity'), use.capacity)}"
        f"{_number(('capacity', i, 'households_taken'), use.households_taken)}"
        f"{_cell(('capacity', i, 'share'), percent(use.share))}</tr>"
        for i, use in enumerate(report.capacity)
    )
    return (
        '<section id="capaciteit">\n<h2>Capaciteit</h2>\n'
        f"{_table('Capaciteitsbenutting per project (Doorbraakmethode)', header, body)}"
        '<p class="note">Opgenomen huishoudens: verschillende huishoudens die sinds de start '
        "van het project zijn doorverwezen, tot het eind van de periode.</p>\n</section>\n"
    )


def _footer() -> str:
    return (
        '<footer><p class="note">Gemaakt door Signaalhub. Dezelfde cijfers staan in de '
        "JSON-rapportage; elk getal op deze pagina verwijst ernaar met <code>data-key</code>."
        "</p></footer>\n"
    )


# Building blocks


Path = tuple[str | int, ...]


def _key(path: Path) -> str:
    return escape(json_pointer(*path))


def _cell(path: Path, text: str) -> str:
    return f'<td class="num" data-key="{_key(path)}">{escape(text)}</td>'


def _number(path: Path, value: int | None) -> str:
    return _cell(path, whole(value))


def _span(path: Path, text: str) -> str:
    return f'<span data-key="{_key(path)}">{escape(text)}</span>'


def _text(path: Path, value: str) -> str:
    return _span(path, value)


def _group(path: Path, name: str) -> str:
    return f'<th scope="row" data-key="{_key(path)}">{escape(name)}</th>'


def _time(path: Path, moment: date | datetime) -> str:
    return (
        f'<time data-key="{_key(path)}" datetime="{escape(moment.isoformat())}">'
        f"{escape(_dutch_moment(moment))}</time>"
    )


def _rate(path: Path, rate: Rate) -> str:
    """``n/d = x %``, each part with its own hook."""
    return (
        '<td class="num">'
        f"{_span((*path, 'numerator'), whole(rate.numerator))}/"
        f"{_span((*path, 'denominator'), whole(rate.denominator))} = "
        f"{_span((*path, 'value'), percent(rate.value))}</td>"
    )


def _head(names: Iterable[str]) -> str:
    return "<tr>" + "".join(f'<th scope="col">{escape(name)}</th>' for name in names) + "</tr>"


def _table(caption: str, header: str, body: str) -> str:
    if not body:
        return f"<h3>{escape(caption)}</h3>\n<p>Geen gegevens in deze periode.</p>\n"
    return (
        f'<h3>{escape(caption)}</h3>\n<div class="scroll"><table>'
        f"<thead>{header}</thead><tbody>{body}</tbody></table></div>\n"
    )


def _dutch_moment(moment: date | datetime) -> str:
    if isinstance(moment, datetime):
        local = moment.astimezone(MUNICIPAL_TIME_ZONE) if moment.tzinfo else moment
        return f"{_dutch_date(local.date())}, {local:%H:%M}"
    return _dutch_date(moment)


def _dutch_date(day: date) -> str:
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"
