"""The HTML report in a real browser (issue 5): Debian's chromium, headless, driven by
Playwright. The charts render, every figure on the page equals the JSON report, nothing is
logged as an error and nothing is fetched from anywhere — with JavaScript switched off, so the
page needs none."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Route, sync_playwright

from adapters.reports.html import render_html
from tests.support.report_samples import (
    SCRIPT_GROUP,
    figure_pointers,
    resolve,
    sample_report,
    shown_as,
)
from tests.support.services import unavailable

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CHARTS = ["chart-caseload", "chart-outcomes", "chart-lead-times", "chart-signal-mix"]

# What the page shows, measured by the browser: layout boxes come from the renderer, not
# from the markup.
CHARTS_JS = """
svgs => svgs.map(svg => {
  const box = svg.getBoundingClientRect();
  const marks = [...svg.querySelectorAll('[data-plot]')].map(m => {
    const b = m.getBBox();
    return {tag: m.tagName, key: m.dataset.plot, value: Number(m.dataset.value),
            width: b.width, height: b.height};
  });
  const lines = [...svg.querySelectorAll('polyline')].map(l => l.getBBox().width);
  return {id: svg.id, width: box.width, height: box.height,
          title: svg.querySelector(':scope > title')?.textContent ?? '', marks, lines};
})
"""
HOOKS_JS = """
els => els.map(e => [e.dataset.key, e.getAttribute('datetime') ?? e.textContent])
"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        unavailable(
            f"Debian's chromium is not installed at {CHROMIUM}; `.ci/run` installs it "
            "(apt-get install --no-install-recommends chromium)"
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def test_the_html_report_renders_its_charts_and_the_json_figures(
    browser: Browser, tmp_path: Path
) -> None:
    report = sample_report()
    document = report.as_dict()
    page_file = tmp_path / "rapportage.html"
    page_file.write_text(render_html(report), encoding="utf-8")

    context = browser.new_context(java_script_enabled=False)
    requested: list[str] = []
    blocked: list[str] = []

    def only_the_file(route: Route) -> None:
        requested.append(route.request.url)
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", only_the_file)
    page = context.new_page()
    errors: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: dialogs.append(dialog.message))
    page.goto(page_file.as_uri(), wait_until="load")

    charts: list[dict[str, Any]] = page.eval_on_selector_all("svg.chart", CHARTS_JS)
    hooks: list[list[str]] = page.eval_on_selector_all("[data-key]", HOOKS_JS)
    shown_group = page.get_by_text(SCRIPT_GROUP, exact=True).count()
    context.close()

    assert blocked == []
    assert requested == [page_file.as_uri()]
    assert errors == []
    assert dialogs == []

    assert [chart["id"] for chart in charts] == CHARTS
    for chart in charts:
        assert chart["width"] > 0, chart["id"]
        assert chart["height"] > 0, chart["id"]
        assert chart["title"], chart["id"]
        drawn = [m for m in chart["marks"] if m["width"] > 0 and m["height"] > 0]
        assert drawn, f"{chart['id']} draws no bars or points"
        for mark in chart["marks"]:
            assert mark["value"] == resolve(document, mark["key"]), mark
        bars = [m for m in chart["marks"] if m["tag"] == "rect"]
        if bars:
            _assert_proportional(chart["id"], bars)
    caseload = charts[0]
    assert len(caseload["lines"]) == len({p.project for p in report.caseload_over_time})
    assert all(width > 0 for width in caseload["lines"])

    wrong = [
        (key, shown, resolve(document, key))
        for key, shown in hooks
        if not shown_as(key, resolve(document, key), shown)
    ]
    assert wrong == []
    assert set(figure_pointers(document)) <= {key for key, _ in hooks}
    assert shown_group > 0  # the hostile group name is shown as text, not run


def _assert_proportional(chart: str, bars: list[dict[str, Any]]) -> None:
    """A bar's length (width of a horizontal bar, height of a column) is its value times one
    scale per chart."""
    horizontal = chart != "chart-lead-times"
    lengths = [(bar["width"] if horizontal else bar["height"], bar["value"]) for bar in bars]
    scale = max(length for length, _ in lengths) / max(value for _, value in lengths)
    for length, value in lengths:
        assert length == pytest.approx(value * scale, abs=0.25), (chart, length, value)
