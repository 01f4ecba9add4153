"""The report renderers: one self-contained, escaped HTML page whose every figure is hooked to
the JSON report, and CSV/XLSX files that read back to the same figures with formulas
neutralised."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.reports.cells import FORMULA_TRIGGERS, neutralise
from adapters.reports.html import render_html
from adapters.reports.keys import json_pointer
from adapters.reports.numbers import one_decimal, percent, whole
from adapters.reports.spreadsheet import CSV_HEADER, write_csv, write_xlsx
from adapters.reports.svg_charts import nice_axis
from tests.support.report_samples import (
    FORMULA_GROUP,
    FORMULA_PARTNER,
    SCRIPT_GROUP,
    SLASHED_WIJK,
    empty_report,
    figure_pointers,
    resolve,
    sample_report,
    shown_as,
)

CHART_IDS = ["chart-caseload", "chart-outcomes", "chart-lead-times", "chart-signal-mix"]


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    text: list[str] = field(default_factory=list)
    children: list[str] = field(default_factory=list)


class PageParser(HTMLParser):
    """Every element with its attributes; the text of hooked elements and of SVG titles; the
    direct children of every ``svg``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self.open: list[Element] = []
        self.svgs: list[Element] = []
        self.style = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {name: value or "" for name, value in attrs})
        self.elements.append(element)
        if self.svgs and self.open and self.open[-1] is self.svgs[-1]:
            self.svgs[-1].children.append(tag)
        if tag == "svg":
            self.svgs.append(element)
        self.open.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        self.open.pop()

    def handle_endtag(self, tag: str) -> None:
        while self.open:
            if self.open.pop().tag == tag:
                break

    def handle_data(self, data: str) -> None:
        for element in self.open:
            element.text.append(data)
        if self.open and self.open[-1].tag == "style":
            self.style += data


def parse(page: str) -> PageParser:
    parser = PageParser()
    parser.feed(page)
    parser.close()
    return parser


@pytest.fixture(scope="module")
def page() -> str:
    return render_html(sample_report())


@pytest.fixture(scope="module")
def parsed(page: str) -> PageParser:
    return parse(page)


# HTML: safe and self-contained


def test_group_names_from_configuration_are_escaped(page: str, parsed: PageParser) -> None:
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "=HYPERLINK(&quot;x&quot;)" in page
    shown = {"".join(e.text) for e in parsed.elements if "data-key" in e.attrs}
    assert {SCRIPT_GROUP, FORMULA_GROUP, SLASHED_WIJK} <= shown


def test_the_page_references_nothing_outside_itself(page: str, parsed: PageParser) -> None:
    assert "http://" not in page
    assert "https://" not in page
    tags = {e.tag for e in parsed.elements}
    assert not tags & {"script", "link", "img", "iframe", "object", "embed", "image", "use"}
    for element in parsed.elements:
        assert "src" not in element.attrs, element
        assert "xlink:href" not in element.attrs, element
        if "href" in element.attrs:
            assert element.attrs["href"].startswith("#"), element
    assert "url(" not in parsed.style
    assert "@import" not in parsed.style
    policy = next(
        e for e in parsed.elements if e.attrs.get("http-equiv") == "Content-Security-Policy"
    )
    assert "default-src 'none'" in policy.attrs["content"]


def test_there_is_one_accessible_svg_per_chart(parsed: PageParser) -> None:
    assert [svg.attrs["id"] for svg in parsed.svgs] == CHART_IDS
    for svg in parsed.svgs:
        assert svg.attrs["role"] == "img"
        assert svg.children[0] == "title"
        assert svg.attrs["aria-labelledby"].split()[0] == f"{svg.attrs['id']}-title"
        marks = [e for e in _inside(parsed, svg) if "data-plot" in e.attrs]
        assert any(float(m.attrs["data-value"]) > 0 for m in marks), svg.attrs["id"]


def _inside(parsed: PageParser, svg: Element) -> list[Element]:
    start = parsed.elements.index(svg)
    following = parsed.svgs[parsed.svgs.index(svg) + 1 :]
    end = parsed.elements.index(following[0]) if following else len(parsed.elements)
    return parsed.elements[start:end]


# HTML: the figures are the JSON's


def test_every_hooked_figure_shows_the_value_of_the_json_report(parsed: PageParser) -> None:
    document = sample_report().as_dict()
    hooked = [e for e in parsed.elements if "data-key" in e.attrs]
    wrong = []
    for element in hooked:
        key = element.attrs["data-key"]
        shown = element.attrs.get("datetime") or "".join(element.text)
        if not shown_as(key, resolve(document, key), shown):
            wrong.append((key, shown, resolve(document, key)))
    assert wrong == []
    assert len(hooked) > 400


def test_every_figure_of_the_report_is_on_the_page(parsed: PageParser) -> None:
    document = sample_report().as_dict()
    keys = {e.attrs["data-key"] for e in parsed.elements if "data-key" in e.attrs}
    assert set(figure_pointers(document)) - keys == set()
    for scope_key in ("/scope/period/label", "/scope/as_of", "/scope/events_up_to_position"):
        assert scope_key in keys


def test_a_rate_without_denominator_shows_a_dash_not_zero(parsed: PageParser) -> None:
    document = sample_report().as_dict()
    row = next(
        i for i, r in enumerate(document["outcomes"]["project"]) if r["group"] == SCRIPT_GROUP
    )
    for rate in ("bereik", "hulpacceptatie", "no_contact_rate"):
        key = json_pointer("outcomes", "project", row, rate, "value")
        assert document["outcomes"]["project"][row][rate]["value"] is None
        [element] = [e for e in parsed.elements if e.attrs.get("data-key") == key]
        assert "".join(element.text) == "–"


def test_chart_marks_draw_the_json_figures(parsed: PageParser) -> None:
    document = sample_report().as_dict()
    marks = [e for e in parsed.elements if "data-plot" in e.attrs]
    assert marks
    for mark in marks:
        assert float(mark.attrs["data-value"]) == resolve(document, mark.attrs["data-plot"])
    # The outcome bars: lengths proportional to the counts.
    outcome_bars = [
        m for m in _inside(parsed, parsed.svgs[1]) if m.tag == "rect" and "data-plot" in m.attrs
    ]
    scale = max(float(m.attrs["width"]) for m in outcome_bars) / max(
        float(m.attrs["data-value"]) for m in outcome_bars
    )
    for bar in outcome_bars:
        assert float(bar.attrs["width"]) == pytest.approx(
            float(bar.attrs["data-value"]) * scale, abs=0.1
        )


def test_an_empty_period_still_renders_every_chart_without_marks() -> None:
    report = empty_report()
    parsed = parse(render_html(report))
    assert [svg.attrs["id"] for svg in parsed.svgs] == CHART_IDS
    assert not [e for e in parsed.elements if "data-plot" in e.attrs]
    hooked = {
        e.attrs["data-key"]: "".join(e.text) for e in parsed.elements if "data-key" in e.attrs
    }
    assert hooked["/scope/project"] == "vroeg-erop-af"
    assert hooked["/scope/events_up_to_position"] == "0"
    assert "/scope/as_of" not in hooked  # "now", not a date


# Building blocks


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('=HYPERLINK("x")', '\'=HYPERLINK("x")'),
        ("+31 6", "'+31 6"),
        ("-2+3", "'-2+3"),
        ("@SUM(1+1)", "'@SUM(1+1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("vroeg-erop-af", "vroeg-erop-af"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_neutralise_prefixes_formula_starts_only(text: str, expected: str) -> None:
    assert neutralise(text) == expected


@given(st.text())
def test_neutralised_text_never_starts_a_formula_and_keeps_the_text(text: str) -> None:
    safe = neutralise(text)
    assert not safe.startswith(FORMULA_TRIGGERS)
    assert safe in {text, "'" + text}


@given(st.integers(min_value=0, max_value=10**9))
def test_the_axis_covers_the_largest_value_in_round_steps(top: int) -> None:
    maximum, step = nice_axis(top)
    assert maximum >= top
    assert maximum % step == 0
    assert maximum // step <= 8
    assert re.fullmatch(r"[125]0*", str(step))


def test_pointers_escape_slash_and_tilde() -> None:
    assert json_pointer("caseload", "wijk", 2, "new") == "/caseload/wijk/2/new"
    assert json_pointer("by_outcome", "betaald/regeling ~") == "/by_outcome/betaald~1regeling ~0"


def test_dutch_numbers() -> None:
    assert whole(1_234_567) == "1.234.567"
    assert whole(None) == "–"
    assert one_decimal(4.5) == "4,5"
    assert one_decimal(4.0) == "4"
    assert one_decimal(1234.56) == "1.234,6"
    assert percent(0.75) == "75,0\u00a0%"
    assert percent(None) == "–"


# CSV


def test_csv_reads_back_to_every_figure_of_the_report(tmp_path: Path) -> None:
    report = sample_report()
    out = tmp_path / "rapportage.csv"
    write_csv(report, out)
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    with out.open(encoding="utf-8-sig", newline="") as file:
        rows = list(csv.reader(file, delimiter=";"))
    assert tuple(rows[0]) == CSV_HEADER
    read: dict[tuple[str, ...], Any] = {}
    for section, dimension, group, bucket, measure, value in rows[1:]:
        where = (
            section,
            dimension,
            _unneutralise(group),
            _unneutralise(bucket),
            _unneutralise(measure),
        )
        assert where not in read, where
        read[where] = _csv_value(value)
    assert read == _expected_long(report.as_dict())


def test_csv_neutralises_formulas_in_text_cells(tmp_path: Path) -> None:
    out = tmp_path / "rapportage.csv"
    write_csv(sample_report(), out)
    with out.open(encoding="utf-8-sig", newline="") as file:
        cells = [cell for row in csv.reader(file, delimiter=";") for cell in row]
    assert "'" + FORMULA_GROUP in cells
    assert "'" + FORMULA_PARTNER in cells
    assert SCRIPT_GROUP in cells  # not a formula: left alone
    assert [c for c in cells if c.startswith(FORMULA_TRIGGERS)] == []


def _unneutralise(text: str) -> str:
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_TRIGGERS) else text


def _csv_value(text: str) -> Any:
    if text == "":
        return None
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    if re.fullmatch(r"-?\d+,\d+(e-?\d+)?", text):
        return float(text.replace(",", "."))
    return text


def _expected_long(document: dict[str, Any]) -> dict[tuple[str, ...], Any]:
    """The long format, derived from the JSON report by its documented rules."""
    expected: dict[tuple[str, ...], Any] = {}

    def flat(values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in values.items():
            if isinstance(value, dict):
                result.update(flat(value, f"{prefix}{key}."))
            else:
                result[f"{prefix}{key}"] = value
        return result

    for measure, value in flat(document["scope"]).items():
        expected["scope", "", "", "", measure] = value
    for section in ("caseload", "outcomes"):
        for dimension, rows in document[section].items():
            for row in rows:
                for measure, value in flat({k: v for k, v in row.items() if k != "group"}).items():
                    expected[section, dimension, row["group"], "", measure] = value
    for lead in document["lead_times"]:
        for measure in ("count", "median_days", "p90_days"):
            expected["lead_times", "step", lead["step"], "", measure] = lead[measure]
        for bucket, count in lead["distribution"].items():
            expected["lead_times", "step", lead["step"], bucket, "distribution"] = count
    mix = document["signal_mix"]
    totals = {k: v for k, v in mix.items() if k not in {"by_partner_type", "by_partner"}}
    for measure, value in flat(totals).items():
        expected["signal_mix", "", "", "", measure] = value
    for dimension, counts in (
        ("partner_type", mix["by_partner_type"]),
        ("partner", mix["by_partner"]),
    ):
        for group, count in counts.items():
            expected["signal_mix", dimension, group, "", "signals"] = count
    for use in document["capacity"]:
        for measure in ("capacity", "households_taken", "share"):
            expected["capacity", "project", use["project"], "", measure] = use[measure]
    for point in document["caseload_over_time"]:
        for measure in ("new", "open_at_end", "closed"):
            expected[
                "caseload_over_time", "project", point["project"], point["bucket"], measure
            ] = point[measure]
    return expected


# XLSX


def test_xlsx_has_a_sheet_per_section_with_bold_headers_and_real_numbers(tmp_path: Path) -> None:
    report = sample_report()
    out = tmp_path / "rapportage.xlsx"
    write_xlsx(report, out)
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == [
        "Rapportage",
        "Caseload",
        "Caseload in de tijd",
        "Resultaten",
        "Doorlooptijden",
        "Signaalmix",
        "Capaciteit",
    ]
    for sheet in book.worksheets:
        assert all(cell.font.bold for cell in sheet[1]), sheet.title
        assert sheet.max_row > 1, sheet.title
    caseload = [list(row) for row in book["Caseload"].iter_rows(min_row=2, values_only=True)]
    dutch = {
        "project": "project",
        "team": "team",
        "wijk": "wijk",
        "partner_type": "type signaalpartner",
    }
    expected = [
        [
            dutch[dimension],
            neutralise(row.group),
            *(row.new, row.open, row.claimed, row.in_progress, row.closed, row.overdue),
        ]
        for dimension, rows in report.caseload.items()
        for row in rows
    ]
    assert caseload == expected
    assert all(isinstance(value, int) for row in caseload for value in row[2:])


def test_xlsx_shows_rates_as_percentages_and_missing_rates_as_empty(tmp_path: Path) -> None:
    report = sample_report()
    out = tmp_path / "rapportage.xlsx"
    write_xlsx(report, out)
    sheet = openpyxl.load_workbook(out)["Resultaten"]
    header = [cell.value for cell in sheet[1]]
    bereik = header.index("Bereik") + 1
    rows = [(d, r) for d, rows in report.outcomes.items() for r in rows]
    for number, (_, row) in enumerate(rows, start=2):
        cell = sheet.cell(row=number, column=bereik)
        assert cell.value == row.bereik.value
        assert cell.number_format == "0.0%"
        assert sheet.cell(row=number, column=bereik - 2).value == row.bereik.numerator
        assert sheet.cell(row=number, column=bereik - 1).value == row.bereik.denominator
    assert any(row.bereik.value is None for _, row in rows)
    capacity = openpyxl.load_workbook(out)["Capaciteit"]
    assert capacity["D2"].value == pytest.approx(213 / 375)
    assert capacity["D2"].number_format == "0.0%"


def test_xlsx_neutralises_formulas_and_holds_no_formula_cell(tmp_path: Path) -> None:
    out = tmp_path / "rapportage.xlsx"
    write_xlsx(sample_report(), out)
    book = openpyxl.load_workbook(out)
    cells = [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]
    texts = [cell.value for cell in cells if isinstance(cell.value, str)]
    assert "'" + FORMULA_GROUP in texts
    assert "'" + FORMULA_PARTNER in texts
    assert [cell.coordinate for cell in cells if cell.data_type == "f"] == []
    assert [t for t in texts if t.startswith(FORMULA_TRIGGERS)] == []


def test_xlsx_of_an_empty_period_has_headers_only(tmp_path: Path) -> None:
    out = tmp_path / "leeg.xlsx"
    write_xlsx(empty_report(), out)
    book = openpyxl.load_workbook(out)
    assert book["Caseload"].max_row == 1
    assert book["Rapportage"]["B7"].value == "vroeg-erop-af-noord"
