"""The management report as plain data (DESIGN §8): what the report builder produces and every
renderer (terminal table, JSON, CSV, XLSX, HTML, HTTP) reads. No personal data: only ids of
projects, teams, wijken, partners, partner types and counts, rates and day figures.

``as_dict`` gives the JSON form; its keys are the contract of ``--format json`` and of
``/v1/rapportages``, and the HTML report shows exactly those numbers.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any, Literal

Granularity = Literal["day", "week", "month", "quarter", "year"]
"""``day`` only for the buckets of a week's chart; a report period is a week or longer."""

Dimension = Literal["project", "team", "wijk", "partner_type"]
"""What a breakdown is grouped by."""


@dataclass(frozen=True)
class Period:
    """A reporting period: ISO week ``2026-W09``, month ``2026-03``, quarter ``2026-Q1`` or
    year ``2026``. ``starts`` and ``ends`` are both inclusive."""

    label: str
    granularity: Granularity
    starts: date
    ends: date


@dataclass(frozen=True)
class Scope:
    """What the report covers and as of when it was computed."""

    period: Period
    project: str | None
    team: str | None
    as_of: date | None
    """``None``: the report over everything recorded so far; a date: replayed up to the end
    of that day (Europe/Amsterdam), as a steering group saw it then."""
    generated_at: datetime
    events_up_to_position: int
    """The log position the figures include; the same position gives the same figures."""


@dataclass(frozen=True)
class Rate:
    """A ratio with its parts, so a reader can check it. ``value`` is ``None`` when the
    denominator is zero (shown as "–", never as 0 %)."""

    numerator: int
    denominator: int
    value: float | None


@dataclass(frozen=True)
class CaseloadRow:
    """Caseload of one group (a project, team, wijk or partner type) in the period."""

    group: str
    new: int
    """Referrals requested in the period."""
    open: int
    """Referrals not closed, rerouted or cancelled at the period's end, not yet claimed."""
    claimed: int
    """Open at the period's end, claimed, no contact attempt yet."""
    in_progress: int
    """Open at the period's end with at least one contact attempt."""
    closed: int
    """Closed in the period."""
    overdue: int
    """Open at the period's end and past a due date of the project's SLA."""


@dataclass(frozen=True)
class OutcomeRow:
    """Outcomes of the cases closed in the period, for one group."""

    group: str
    closed: int
    by_outcome: dict[str, int]
    """Every DDAS eindresultaat (value text) with its count, zeros included."""
    picked_up: int
    bereik: Rate
    hulpacceptatie: Rate
    no_contact_rate: Rate


@dataclass(frozen=True)
class LeadTime:
    """One step's lead time in calendar days over the cases whose step fell in the period."""

    step: str
    """``signal_to_received``, ``received_to_claimed``, ``claimed_to_first_attempt``,
    ``first_attempt_to_first_reached``, ``received_to_closed``, ``signal_to_closed``."""
    count: int
    median_days: float | None
    p90_days: int | None
    """Nearest-rank p90."""
    distribution: dict[str, int]
    """Histogram for the chart: bucket label (``0-7``, ``8-14``, …, ``>90``) → count."""


@dataclass(frozen=True)
class SignalMix:
    """What came in during the period."""

    signals: int
    by_partner_type: dict[str, int]
    by_partner: dict[str, int]
    crisis_share: Rate
    final_delivery_share: Rate
    """Share of ``eindeleveringssignaal``."""
    inhabitants: int
    signals_per_1000_inhabitants: float | None
    unique_households: int
    multi_signal_households: int
    """Households with signals of two or more partners in the period."""
    repeat_households_12_months: int
    """Households with a signal in the period and an earlier one in the 12 months before the
    period began."""
    resident_signals: int = 0
    """Signals about residents of a configured municipality (``in_municipality``): the
    numerator of ``signals_per_1000_inhabitants``."""


@dataclass(frozen=True)
class CapacityUse:
    project: str
    capacity: int
    households_taken: int
    """Distinct households referred to the project since it started, up to the period end."""
    share: float


@dataclass(frozen=True)
class TimePoint:
    """One bucket of the caseload-over-time chart (buckets of the period's next finer grain:
    a year by month, a quarter or month by ISO week, a week by day)."""

    bucket: str
    project: str
    new: int
    open_at_end: int
    closed: int


@dataclass(frozen=True)
class Report:
    scope: Scope
    caseload: dict[str, list[CaseloadRow]] = field(default_factory=dict)
    """Keyed by dimension (``project``, ``team``, ``wijk``, ``partner_type``)."""
    outcomes: dict[str, list[OutcomeRow]] = field(default_factory=dict)
    """Keyed by dimension, as ``caseload``; each list ends with a row ``group="totaal"``."""
    lead_times: list[LeadTime] = field(default_factory=list)
    signal_mix: SignalMix | None = None
    capacity: list[CapacityUse] = field(default_factory=list)
    caseload_over_time: list[TimePoint] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The JSON form: dates as ISO strings, everything else as is."""
        result: dict[str, Any] = _jsonable(asdict(self))
        return result


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value
