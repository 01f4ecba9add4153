"""Period labels and the chart buckets of the next finer grain."""

from __future__ import annotations

from datetime import date

import pytest

from services.reports.periods import PeriodError, buckets, current_year, parse_period


@pytest.mark.parametrize(
    ("label", "granularity", "starts", "ends"),
    [
        ("2026-W09", "week", date(2026, 2, 23), date(2026, 3, 1)),
        ("2026-W01", "week", date(2025, 12, 29), date(2026, 1, 4)),  # ISO week 1 starts in 2025
        ("2026-W53", "week", date(2026, 12, 28), date(2027, 1, 3)),  # 2026 has 53 ISO weeks
        ("2026-03", "month", date(2026, 3, 1), date(2026, 3, 31)),
        ("2028-02", "month", date(2028, 2, 1), date(2028, 2, 29)),  # leap year
        ("2026-12", "month", date(2026, 12, 1), date(2026, 12, 31)),
        ("2026-Q1", "quarter", date(2026, 1, 1), date(2026, 3, 31)),
        ("2026-Q4", "quarter", date(2026, 10, 1), date(2026, 12, 31)),
        ("2026", "year", date(2026, 1, 1), date(2026, 12, 31)),
    ],
)
def test_labels(label: str, granularity: str, starts: date, ends: date) -> None:
    period = parse_period(label)
    assert (period.label, period.granularity, period.starts, period.ends) == (
        label,
        granularity,
        starts,
        ends,
    )


@pytest.mark.parametrize(
    ("label", "problem"),
    [
        ("2026-13", "there is no month 13"),
        ("2026-00", "there is no month 0"),
        ("2026-Q5", "there is no quarter 5"),
        ("2025-W53", "2025 has ISO weeks 01 to 52"),
        ("2026-W00", "2026 has ISO weeks 01 to 53"),
        ("0000", "there is no year 0"),
        ("maart", "is not a period: use 2026-W09"),
        ("2026-3", "is not a period"),
        ("", "is not a period"),
    ],
)
def test_a_bad_label_names_the_problem(label: str, problem: str) -> None:
    with pytest.raises(PeriodError, match=problem):
        parse_period(label)


def test_a_year_is_charted_by_month() -> None:
    months = buckets(parse_period("2026"))
    assert [b.label for b in months] == [f"2026-{m:02d}" for m in range(1, 13)]
    assert months[1].ends == date(2026, 2, 28)


def test_a_month_is_charted_by_iso_week_cut_at_its_edges() -> None:
    weeks = buckets(parse_period("2026-03"))
    # 1 March 2026 is a Sunday (the end of W09); 30-31 March start W14.
    assert [(w.label, w.starts.day, w.ends.day) for w in weeks] == [
        ("2026-W09", 1, 1),
        ("2026-W10", 2, 8),
        ("2026-W11", 9, 15),
        ("2026-W12", 16, 22),
        ("2026-W13", 23, 29),
        ("2026-W14", 30, 31),
    ]


def test_a_quarter_is_charted_by_iso_week_covering_it_exactly() -> None:
    quarter = parse_period("2026-Q1")
    weeks = buckets(quarter)
    assert weeks[0].label == "2026-W01"
    assert weeks[0].starts == quarter.starts  # W01 runs from 29-12-2025, cut at 1 January
    assert weeks[-1].ends == quarter.ends
    days = sum((w.ends - w.starts).days + 1 for w in weeks)
    assert days == 90  # 31 + 28 + 31


def test_a_week_is_charted_by_day() -> None:
    days = buckets(parse_period("2026-W09"))
    assert [b.label for b in days][0::6] == ["2026-02-23", "2026-03-01"]
    assert {b.granularity for b in days} == {"day"}


def test_the_default_period_is_the_current_year() -> None:
    assert current_year(date(2026, 11, 28)).label == "2026"
