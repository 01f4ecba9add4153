"""Charts as inline SVG, drawn in Python: no chart library, no script, nothing to download.

Three kinds are enough for the report: horizontal bars (one value per label), grouped columns
(series per category) and lines (series over time). Every chart is an ``<svg role="img">``
with a ``<title>`` and ``<desc>``; every drawn mark (``rect`` or ``circle``) carries
``data-plot`` (the JSON Pointer of the figure it draws) and ``data-value``; a figure written as
text in the chart carries ``data-key`` like the tables. Axis tick labels are scale, not figures,
and carry no hook.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from adapters.reports.numbers import whole

WIDTH = 760
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#999933", "#332288")
"""Okabe–Ito and Tol colours: distinguishable with the common colour-vision deficiencies."""
LONGEST_LABEL = 60
EMPTY = "Geen gegevens in deze periode"


@dataclass(frozen=True)
class Plotted:
    """One figure to draw: its count and the JSON Pointer it comes from."""

    value: int
    key: str


@dataclass(frozen=True)
class Bar:
    label: str
    figure: Plotted


@dataclass(frozen=True)
class Series:
    name: str
    figures: Sequence[Plotted | None]
    """Aligned with the chart's categories; ``None`` where the series has no figure."""


def horizontal_bars(chart_id: str, title: str, description: str, bars: Sequence[Bar]) -> str:
    """One bar per label, labels left, the count written after each bar."""
    if not bars:
        return _empty(chart_id, title, description)
    longest = max(len(_short(bar.label)) for bar in bars)
    # About 6.5 px per character at 12 px: room for the longest label, no more.
    label_width, row, bar_height = min(420, max(120, round(6.5 * longest) + 16)), 22, 14
    area = WIDTH - label_width - 70
    height = len(bars) * row + 8
    top = max(bar.figure.value for bar in bars) or 1
    parts = []
    for index, bar in enumerate(bars):
        y = 4 + index * row
        length = bar.figure.value / top * area
        parts.append(
            f'<text x="{label_width - 8}" y="{y + bar_height - 3}" text-anchor="end">'
            f"{escape(_short(bar.label))}</text>"
            f"{_mark_rect(bar.figure, label_width, y, length, bar_height, PALETTE[0])}"
            f'<text x="{label_width + length + 6:.1f}" y="{y + bar_height - 3}" '
            f'data-key="{escape(bar.figure.key)}">{whole(bar.figure.value)}</text>'
        )
    return _svg(chart_id, title, description, height, "".join(parts))


def grouped_columns(
    chart_id: str,
    title: str,
    description: str,
    categories: Sequence[str],
    series: Sequence[Series],
) -> str:
    """Per category a column for every series, side by side, with a legend above."""
    figures = [f for s in series for f in s.figures if f is not None]
    if not categories or not figures:
        return _empty(chart_id, title, description)
    frame = _Frame.for_chart(categories, series, max(f.value for f in figures))
    group = frame.band * 0.8
    width = group / len(series)
    parts = [frame.axes(categories)]
    for s_index, one in enumerate(series):
        colour = PALETTE[s_index % len(PALETTE)]
        for c_index, figure in enumerate(one.figures):
            if figure is None:
                continue
            x = frame.left + c_index * frame.band + (frame.band - group) / 2 + s_index * width
            y = frame.y(figure.value)
            parts.append(_mark_rect(figure, x, y, width, frame.bottom - y, colour))
    return _svg(chart_id, title, description, frame.height, "".join(parts))


def lines(
    chart_id: str,
    title: str,
    description: str,
    categories: Sequence[str],
    series: Sequence[Series],
) -> str:
    """A line per series over the categories (in time order), a dot on every figure."""
    figures = [f for s in series for f in s.figures if f is not None]
    if not categories or not figures:
        return _empty(chart_id, title, description)
    frame = _Frame.for_chart(categories, series, max(f.value for f in figures))
    parts = [frame.axes(categories)]
    for s_index, one in enumerate(series):
        colour = PALETTE[s_index % len(PALETTE)]
        points = [
            (frame.left + (index + 0.5) * frame.band, frame.y(figure.value), figure)
            for index, figure in enumerate(one.figures)
            if figure is not None
        ]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in points)
        parts.append(
            f'<polyline class="line" points="{path}" fill="none" stroke="{colour}" '
            'stroke-width="2"/>'
        )
        parts.extend(
            f'<circle class="mark" data-plot="{escape(figure.key)}" data-value="{figure.value}"'
            f' cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}"/>'
            for x, y, figure in points
        )
    return _svg(chart_id, title, description, frame.height, "".join(parts))


@dataclass(frozen=True)
class _Frame:
    """The geometry shared by column and line charts: legend, axes and the y scale."""

    legend: str
    top: float
    left: float
    band: float
    bottom: float
    maximum: int
    step: int
    rotate: bool

    plot_height = 220

    @classmethod
    def for_chart(
        cls, categories: Sequence[str], series: Sequence[Series], top_value: int
    ) -> _Frame:
        legend, legend_height = _legend([s.name for s in series])
        maximum, step = nice_axis(top_value)
        left = 56.0
        band = (WIDTH - left - 16) / len(categories)
        top = legend_height + 12.0
        return cls(
            legend=legend,
            top=top,
            left=left,
            band=band,
            bottom=top + cls.plot_height,
            maximum=maximum,
            step=step,
            rotate=band < 7 * max(len(c) for c in categories),
        )

    @property
    def height(self) -> float:
        return self.bottom + (84 if self.rotate else 28)

    def y(self, value: int) -> float:
        return self.bottom - value / self.maximum * self.plot_height

    def axes(self, categories: Sequence[str]) -> str:
        parts = [self.legend]
        for tick in range(0, self.maximum + 1, self.step):
            y = self.y(tick)
            parts.append(
                f'<line x1="{self.left}" x2="{WIDTH - 16}" y1="{y:.1f}" y2="{y:.1f}" '
                'class="grid"/>'
                f'<text x="{self.left - 6}" y="{y + 4:.1f}" text-anchor="end" '
                f'aria-hidden="true">{whole(tick)}</text>'
            )
        for index, category in enumerate(categories):
            x = self.left + (index + 0.5) * self.band
            label = escape(_short(category))
            if self.rotate:
                y = self.bottom + 12
                parts.append(
                    f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="end" '
                    f'transform="rotate(-45 {x:.1f} {y:.1f})">{label}</text>'
                )
            else:
                parts.append(
                    f'<text x="{x:.1f}" y="{self.bottom + 18:.1f}" text-anchor="middle">'
                    f"{label}</text>"
                )
        return "".join(parts)


def nice_axis(top_value: int) -> tuple[int, int]:
    """An axis maximum of at least ``top_value`` and a tick step of 1, 2 or 5 × 10ⁿ, so the
    axis has about four to five ticks with round numbers."""
    if top_value <= 0:
        return 1, 1
    raw = top_value / 4
    magnitude = 1
    while magnitude * 10 <= raw:
        magnitude *= 10
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    return -(-top_value // step) * step, step


def _legend(names: Sequence[str]) -> tuple[str, float]:
    """Swatches with names, wrapped over rows; the markup and its height."""
    parts, x, y = [], 0.0, 0.0
    for index, name in enumerate(names):
        label = _short(name)
        width = 22 + 7 * len(label) + 16
        if x > 0 and x + width > WIDTH:
            x, y = 0.0, y + 20
        colour = PALETTE[index % len(PALETTE)]
        parts.append(
            f'<rect x="{x:.1f}" y="{y + 4:.1f}" width="14" height="12" fill="{colour}"/>'
            f'<text x="{x + 20:.1f}" y="{y + 14:.1f}">{escape(label)}</text>'
        )
        x += width
    return f'<g class="legend">{"".join(parts)}</g>', y + 20


def _mark_rect(
    figure: Plotted, x: float, y: float, width: float, height: float, colour: str
) -> str:
    return (
        f'<rect class="mark" data-plot="{escape(figure.key)}" data-value="{figure.value}" '
        f'x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height:.1f}" fill="{colour}"/>'
    )


def _svg(chart_id: str, title: str, description: str, height: float, body: str) -> str:
    return (
        f'<svg id="{escape(chart_id)}" class="chart" role="img" '
        f'aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc" '
        f'viewBox="0 0 {WIDTH} {height:.0f}" width="{WIDTH}" height="{height:.0f}">'
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>'
        f'<desc id="{escape(chart_id)}-desc">{escape(description)}</desc>'
        f"{body}</svg>"
    )


def _empty(chart_id: str, title: str, description: str) -> str:
    body = f'<text x="{WIDTH / 2}" y="34" text-anchor="middle">{EMPTY}</text>'
    return _svg(chart_id, title, description, 60, body)


def _short(label: str) -> str:
    # The chart has no room for an endless label; the tables show it whole.
    if len(label) <= LONGEST_LABEL:
        return label
    return label[: LONGEST_LABEL - 1] + "…"
