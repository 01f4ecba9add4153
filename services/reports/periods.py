"""Reporting periods: ``2026-W09`` (ISO week), ``2026-03``, ``2026-Q1`` and ``2026``, and the
buckets of the next finer grain that the caseload-over-time chart uses."""

from __future__ import annotations

import re
from datetime import date, timedelta

from services.reports.model import Period

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-Q(\d)$")
_YEAR = re.compile(r"^(\d{4})$")
_FORMS = "2026-W09 (ISO week), 2026-03 (month), 2026-Q1 (quarter) or 2026 (year)"


class PeriodError(ValueError):
    """A period label that is not one of the four forms, or names a week, month or quarter
    that does not exist; the message says which."""


def parse_period(label: str) -> Period:
    """The period a label names; raises ``PeriodError`` naming the problem."""
    text = label.strip()
    if match := _WEEK.match(text):
        return week(int(match[1]), int(match[2]))
    if match := _MONTH.match(text):
        year, number = int(match[1]), int(match[2])
        if not 1 <= number <= 12:
            raise PeriodError(f"period {label!r}: there is no month {number} (01 to 12)")
        return month(year, number)
    if match := _QUARTER.match(text):
        year, number = int(match[1]), int(match[2])
        if not 1 <= number <= 4:
            raise PeriodError(f"period {label!r}: there is no quarter {number} (Q1 to Q4)")
        return quarter(year, number)
    if match := _YEAR.match(text):
        return year_period(int(match[1]))
    raise PeriodError(f"period {label!r} is not a period: use {_FORMS}")


def week(year: int, number: int) -> Period:
    weeks_in_year = date(year, 12, 28).isocalendar().week  # 28 December is always in the last
    if not 1 <= number <= weeks_in_year:
        raise PeriodError(
            f"period '{year}-W{number:02d}': {year} has ISO weeks 01 to {weeks_in_year}"
        )
    starts = date.fromisocalendar(year, number, 1)
    return Period(f"{year}-W{number:02d}", "week", starts, starts + timedelta(days=6))


def month(year: int, number: int) -> Period:
    starts = date(year, number, 1)
    return Period(f"{year}-{number:02d}", "month", starts, _next_month(starts) - timedelta(days=1))


def quarter(year: int, number: int) -> Period:
    starts = date(year, 3 * number - 2, 1)
    ends = month(year, 3 * number).ends
    return Period(f"{year}-Q{number}", "quarter", starts, ends)


def year_period(year: int) -> Period:
    if year < 1:
        raise PeriodError(f"period '{year}': there is no year {year}")
    return Period(str(year), "year", date(year, 1, 1), date(year, 12, 31))


def day(on: date) -> Period:
    return Period(on.isoformat(), "day", on, on)


def current_year(today: date) -> Period:
    """The default period of a report: the year ``today`` is in."""
    return year_period(today.year)


def buckets(period: Period) -> list[Period]:
    """The chart buckets of the next finer grain: a year by month, a quarter or month by ISO
    week, a week by day. A week that runs over the period's edge is cut off at the edge (its
    label stays the ISO week's), so the buckets exactly cover the period."""
    if period.granularity == "year":
        return [month(period.starts.year, number) for number in range(1, 13)]
    if period.granularity in ("quarter", "month"):
        result: list[Period] = []
        monday = period.starts - timedelta(days=period.starts.weekday())
        while monday <= period.ends:
            iso = monday.isocalendar()
            result.append(
                Period(
                    f"{iso.year}-W{iso.week:02d}",
                    "week",
                    max(monday, period.starts),
                    min(monday + timedelta(days=6), period.ends),
                )
            )
            monday += timedelta(days=7)
        return result
    if period.granularity == "week":
        return [day(period.starts + timedelta(days=offset)) for offset in range(7)]
    return [period]


def _next_month(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)
