"""The management report computed from the facts (DESIGN §8): one pure function.

``build_report`` gets the facts and the scope and returns ``Report``. It selects what it needs
from the facts itself, by the dates in them, so it gives the same report for all facts and
for any superset of the facts the period needs (which is what ``load_report`` reads from the
read model): the figures never depend on which extra facts were passed.

Counting rules (the definitions of rates and percentiles are in ``definitions``):

- the report's **reference day** is ``as_of``, or else today; a period still running ends
  there ("open at the period's end" is open now, not on 31 December);
- a referral is **relevant** to a period when it was requested on or before its end and did
  not close or end before its start. Caseload counts relevant referrals only;
- **caseload** states at the period's end: ``in_progress`` from the first contact attempt,
  ``claimed`` from the first claim, otherwise ``open``; ``closed`` counts referrals closed in
  the period; ``overdue`` is ``services.referrals.sla.is_overdue`` at the period's end;
- **outcomes** count the referrals a team closed in the period and the cases intake or
  routing closed in the period (``facts`` explains why). The latter have no project or team:
  in those breakdowns they are the group ``niet doorverwezen``, and a report filtered on a
  project or team leaves them out;
- by **partner type** an item counts once under each partner type of its case, so those rows
  can add up to more than the total;
- **lead times** per step over the items whose step fell in the period, taken from the
  relevant referrals and the cases closed without a team in the period: signal → received
  per case (received in the period), then per referral received → claimed, claimed → first
  attempt, first attempt → first reached, and received → closed and signal → closed for the
  referrals a team closed in the period;
- the **signal mix** counts signals received in the period; filtered on a project or team,
  the signals of the cases with a relevant referral of it. Signals per 1,000 inhabitants
  count the signals about residents (``in_municipality``) over the inhabitants of every
  configured municipality. A household is a **repeat** household when it has a signal in
  the period and another one received in the 12 months before the period began (any
  partner, any project);
- **capacity**: distinct households ever referred to a project with a configured capacity,
  up to the period's end (a project-wide figure; a team filter does not change it);
- **caseload over time**: per bucket of the next finer grain up to the reference day, per
  project: requested in the bucket, open at its end, closed in it.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from events.catalogue.vocabulary import Outcome, SignalKind
from services.reports.definitions import OutcomeTally, median_days, p90_days, rate
from services.reports.facts import ReferralFacts, SignalFacts
from services.reports.model import (
    CapacityUse,
    CaseloadRow,
    Dimension,
    LeadTime,
    OutcomeRow,
    Period,
    Report,
    Scope,
    SignalMix,
    TimePoint,
)
from services.reports.periods import buckets

DIMENSIONS: tuple[Dimension, ...] = ("project", "team", "wijk", "partner_type")
NOT_REFERRED = "niet doorverwezen"
"""The project and team group of cases closed by intake or routing."""
NO_WIJK = "geen wijk"
NO_PARTNER_TYPE = "onbekend"
TOTAL = "totaal"

LEAD_TIME_STEPS = (
    "signal_to_received",
    "received_to_claimed",
    "claimed_to_first_attempt",
    "first_attempt_to_first_reached",
    "received_to_closed",
    "signal_to_closed",
)
HISTOGRAM: tuple[tuple[str, int, int | None], ...] = (
    ("0-7", 0, 7),
    ("8-14", 8, 14),
    ("15-28", 15, 28),
    ("29-60", 29, 60),
    ("61-90", 61, 90),
    (">90", 91, None),
)
"""Lead-time chart buckets in calendar days (a negative lead time falls in the first)."""


@dataclass(frozen=True)
class ReportConfig:
    """What the report needs of the configuration."""

    capacities: Mapping[str, int] = field(default_factory=dict)
    """Project id → households it can take (``capacity`` in ``projects.toml``)."""
    inhabitants: int = 0
    """Of every configured municipality (``municipalities.toml``)."""


@dataclass(frozen=True)
class ScopeArgs:
    """What to report on: the filters, the period and the reference day."""

    period: Period
    today: date
    """The day the report is made (Europe/Amsterdam); ``as_of`` replaces it when given."""
    generated_at: datetime
    project: str | None = None
    team: str | None = None
    as_of: date | None = None
    events_up_to_position: int = 0

    @property
    def reference_day(self) -> date:
        return self.as_of or self.today

    @property
    def period_end(self) -> date:
        """The period's last day, or the reference day while the period is still running."""
        return min(self.period.ends, self.reference_day)


@dataclass(frozen=True)
class Aggregates:
    """Two figures whose facts reach far beyond the period, counted by the database instead
    (``load_report`` on PostgreSQL), so that their facts need not be passed at all.

    ``None`` means "count it from the facts passed", as ``build_report`` does without them.
    Each is exactly what ``build_report`` would make of all the facts."""

    capacity_taken: Mapping[str, int] | None = None
    """Project → distinct households referred to it up to the period's end (any team),
    for the projects with a configured capacity (a missing project: 0)."""
    earlier_households: frozenset[uuid.UUID] | None = None
    """Households with a signal received in the 12 months before the period began, out of
    (at least) the households with a signal received in the period."""


def build_report(
    referrals: Iterable[ReferralFacts],
    signals: Iterable[SignalFacts],
    config: ReportConfig,
    scope_args: ScopeArgs,
    aggregates: Aggregates = Aggregates(),
) -> Report:
    """Every figure of ``Report`` for the scope, from the facts (see the module docstring)
    and, where given, the ``aggregates`` the database counted."""
    args = scope_args
    all_items = list(referrals)
    all_signals = list(signals)
    start, end = args.period.starts, args.period_end
    items = [item for item in all_items if _in_scope(item, args)]
    work = [i for i in items if i.kind == "referral" and _relevant(i, start, end)]
    closed = [i for i in items if i.outcome is not None and _between(i.closed_on, start, end)]
    scope = Scope(
        period=args.period,
        project=args.project,
        team=args.team,
        as_of=args.as_of,
        generated_at=args.generated_at,
        events_up_to_position=args.events_up_to_position,
    )
    return Report(
        scope=scope,
        caseload=_caseloads(work, start, end),
        outcomes=_outcomes(closed),
        lead_times=_lead_times(work + [i for i in closed if i.kind == "case"], start, end),
        signal_mix=_signal_mix(all_signals, work, config, args, aggregates.earlier_households),
        capacity=_capacity(all_items, config, args, end, aggregates.capacity_taken),
        caseload_over_time=_over_time(work, args),
    )


# -- selection ------------------------------------------------------------------------------


def _in_scope(item: ReferralFacts, args: ScopeArgs) -> bool:
    if args.project is not None and item.project != args.project:
        return False
    return args.team is None or item.team == args.team


def _between(day: date | None, start: date, end: date) -> bool:
    return day is not None and start <= day <= end


def _final_on(item: ReferralFacts) -> date | None:
    """Closed or ended, never before the request (a clock out of step cannot make a referral
    end before it began)."""
    final = item.closed_on or item.ended_on
    if final is None or item.requested_on is None:
        return final
    return max(final, item.requested_on)


def _relevant(item: ReferralFacts, start: date, end: date) -> bool:
    """Requested by the end, and not closed or ended before the start."""
    final = _final_on(item)
    return (
        item.requested_on is not None
        and item.requested_on <= end
        and (final is None or final >= start)
    )


def _open_at(item: ReferralFacts, day: date) -> bool:
    final = _final_on(item)
    return (
        item.requested_on is not None
        and item.requested_on <= day
        and (final is None or final > day)
    )


def _on_or_before(step: date | None, day: date) -> bool:
    return step is not None and step <= day


def _overdue_at(item: ReferralFacts, day: date) -> bool:
    """``services.referrals.sla.is_overdue`` on the day, for an open referral."""
    assert item.first_contact_due is not None
    assert item.closure_due is not None
    if not _on_or_before(item.first_attempt_on, day) and day > item.first_contact_due:
        return True
    return day > item.closure_due


def _groups(item: ReferralFacts, dimension: Dimension) -> Sequence[str]:
    if dimension == "project":
        return [item.project or NOT_REFERRED]
    if dimension == "team":
        return [item.team or NOT_REFERRED]
    if dimension == "wijk":
        return [item.wijk or NO_WIJK]
    return item.partner_types or (NO_PARTNER_TYPE,)


def _grouped(
    items: Iterable[ReferralFacts], dimension: Dimension
) -> dict[str, list[ReferralFacts]]:
    grouped: dict[str, list[ReferralFacts]] = defaultdict(list)
    for item in items:
        for group in _groups(item, dimension):
            grouped[group].append(item)
    return dict(sorted(grouped.items()))


# -- caseload and outcomes ------------------------------------------------------------------

_CASELOAD = ("new", "open", "claimed", "in_progress", "closed", "overdue")


def _caseload_figures(item: ReferralFacts, start: date, end: date) -> tuple[int, ...]:
    """What one referral adds to its groups' caseload row, in ``_CASELOAD`` order."""
    new = int(_between(item.requested_on, start, end))
    closed = int(item.outcome is not None and _between(item.closed_on, start, end))
    if not _open_at(item, end):
        return (new, 0, 0, 0, closed, 0)
    overdue = int(_overdue_at(item, end))
    if _on_or_before(item.first_attempt_on, end):
        return (new, 0, 0, 1, closed, overdue)
    if _on_or_before(item.claimed_on, end):
        return (new, 0, 1, 0, closed, overdue)
    return (new, 1, 0, 0, closed, overdue)


def _caseloads(
    work: Sequence[ReferralFacts], start: date, end: date
) -> dict[str, list[CaseloadRow]]:
    # Summed first per combination of the dimensions' values (far fewer than the items),
    # then per group of each dimension: the same integer sums, in fewer additions.
    by_key: dict[tuple[str | None, str | None, str | None, tuple[str, ...]], list[int]] = {}
    for item in work:
        key = (item.project, item.team, item.wijk, item.partner_types)
        counts = _caseload_figures(item, start, end)
        total = by_key.get(key)
        if total is None:
            by_key[key] = list(counts)
        else:
            for index, count in enumerate(counts):
                total[index] += count
    result: dict[str, list[CaseloadRow]] = {}
    for dimension in DIMENSIONS:
        sums: dict[str, list[int]] = {}
        for (project, team, wijk, partner_types), summed in by_key.items():
            if dimension == "project":
                groups: Sequence[str] = [project or NOT_REFERRED]
            elif dimension == "team":
                groups = [team or NOT_REFERRED]
            elif dimension == "wijk":
                groups = [wijk or NO_WIJK]
            else:
                groups = partner_types or (NO_PARTNER_TYPE,)
            for group in groups:
                total = sums.setdefault(group, [0] * len(_CASELOAD))
                for index, count in enumerate(summed):
                    total[index] += count
        result[dimension] = [CaseloadRow(group, *sums[group]) for group in sorted(sums)]
    return result


def _outcomes(closed: Sequence[ReferralFacts]) -> dict[str, list[OutcomeRow]]:
    total = OutcomeTally()
    tallies: dict[Dimension, dict[str, OutcomeTally]] = {d: {} for d in DIMENSIONS}
    # Counted first per combination of the dimensions' values, outcome and reach (far fewer
    # than the items), then added to the groups: the same counts, in fewer additions.
    alike = Counter(
        (item.project, item.team, item.wijk, item.partner_types, item.outcome, item.reached)
        for item in closed
    )
    for (project, team, wijk, partner_types, outcome, reached), cases in alike.items():
        total.add(outcome, reached, cases)
        for dimension, groups in tallies.items():
            if dimension == "project":
                names: Sequence[str] = [project or NOT_REFERRED]
            elif dimension == "team":
                names = [team or NOT_REFERRED]
            elif dimension == "wijk":
                names = [wijk or NO_WIJK]
            else:
                names = partner_types or (NO_PARTNER_TYPE,)
            for group in names:
                tally = groups.get(group)
                if tally is None:
                    tally = groups[group] = OutcomeTally()
                tally.add(outcome, reached, cases)
    total_row = _outcome_row(TOTAL, total)
    return {
        dimension: [_outcome_row(group, groups[group]) for group in sorted(groups)] + [total_row]
        for dimension, groups in tallies.items()
    }


def _outcome_row(group: str, counts: OutcomeTally) -> OutcomeRow:
    return OutcomeRow(
        group=group,
        closed=counts.closed,
        by_outcome={outcome.value: counts.by_outcome.get(outcome, 0) for outcome in Outcome},
        picked_up=counts.picked_up,
        bereik=counts.bereik(),
        hulpacceptatie=counts.hulpacceptatie(),
        no_contact_rate=counts.no_contact_rate(),
    )


# -- lead times -----------------------------------------------------------------------------


def _lead_times(items: Sequence[ReferralFacts], start: date, end: date) -> list[LeadTime]:
    """Per step the days from one moment to the next, for the steps whose second moment
    fell in the period (written out per step: this runs for every item of a report)."""
    steps: dict[str, list[int]] = {step: [] for step in LEAD_TIME_STEPS}
    signal_to_received = steps["signal_to_received"]
    received_to_claimed = steps["received_to_claimed"]
    claimed_to_attempt = steps["claimed_to_first_attempt"]
    attempt_to_reached = steps["first_attempt_to_first_reached"]
    received_to_closed = steps["received_to_closed"]
    signal_to_closed = steps["signal_to_closed"]
    cases_seen: set[uuid.UUID] = set()
    # Cases closed without a team first, then by id (``int``: the UUIDs' own order).
    for item in sorted(items, key=lambda i: (i.kind != "case", i.referral_id.int)):
        signal, received = item.earliest_signal_date, item.received_on
        if item.case_id not in cases_seen:
            cases_seen.add(item.case_id)
            if signal is not None and received is not None and start <= received <= end:
                signal_to_received.append((received - signal).days)
        if item.kind != "referral":
            continue
        claimed, attempt, reached = item.claimed_on, item.first_attempt_on, item.first_reached_on
        if received is not None and claimed is not None and start <= claimed <= end:
            received_to_claimed.append((claimed - received).days)
        if claimed is not None and attempt is not None and start <= attempt <= end:
            claimed_to_attempt.append((attempt - claimed).days)
        if attempt is not None and reached is not None and start <= reached <= end:
            attempt_to_reached.append((reached - attempt).days)
        closed = item.closed_on
        if item.outcome is not None and closed is not None and start <= closed <= end:
            if received is not None:
                received_to_closed.append((closed - received).days)
            if signal is not None:
                signal_to_closed.append((closed - signal).days)
    return [_lead_time(step, days) for step, days in steps.items()]


def _lead_time(step: str, days: Sequence[int]) -> LeadTime:
    return LeadTime(
        step=step,
        count=len(days),
        median_days=median_days(days),
        p90_days=p90_days(days),
        distribution=histogram(days),
    )


def histogram(days: Iterable[int]) -> dict[str, int]:
    """Lead times counted into the chart's day buckets (``HISTOGRAM``)."""
    counts = dict.fromkeys((label for label, _, _ in HISTOGRAM), 0)
    for value in days:
        for label, _, high in HISTOGRAM:
            if high is None or value <= high:
                counts[label] += 1
                break
    return counts


# -- signal mix, capacity, caseload over time -----------------------------------------------


def _signal_mix(
    signals: Sequence[SignalFacts],
    work: Sequence[ReferralFacts],
    config: ReportConfig,
    args: ScopeArgs,
    earlier_households: frozenset[uuid.UUID] | None = None,
) -> SignalMix:
    start, end = args.period.starts, args.period_end
    in_period = [s for s in signals if _between(s.received_on, start, end)]
    if args.project is not None or args.team is not None:
        cases = {item.case_id for item in work}
        in_period = [s for s in in_period if s.case_id in cases]
    total = len(in_period)
    residents = sum(1 for s in in_period if s.in_municipality)
    partners_of: dict[uuid.UUID, set[str]] = defaultdict(set)
    for signal in in_period:
        partners_of[signal.household_id].add(signal.partner_id)
    return SignalMix(
        signals=total,
        by_partner_type=dict(sorted(Counter(s.partner_type for s in in_period).items())),
        by_partner=dict(sorted(Counter(s.partner_id for s in in_period).items())),
        crisis_share=rate(sum(1 for s in in_period if s.crisis), total),
        final_delivery_share=rate(
            sum(1 for s in in_period if s.kind == SignalKind.FINAL_DELIVERY_SIGNAL.value), total
        ),
        inhabitants=config.inhabitants,
        signals_per_1000_inhabitants=(
            residents / config.inhabitants * 1000 if config.inhabitants else None
        ),
        unique_households=len(partners_of),
        multi_signal_households=sum(1 for partners in partners_of.values() if len(partners) > 1),
        repeat_households_12_months=(
            _repeat_households(in_period, signals, start)
            if earlier_households is None
            else len(partners_of.keys() & earlier_households)
        ),
        resident_signals=residents,
    )


def _repeat_households(
    in_period: Sequence[SignalFacts], signals: Sequence[SignalFacts], start: date
) -> int:
    households = {s.household_id for s in in_period}
    since = twelve_months_before(start)
    return len(
        {
            s.household_id
            for s in signals
            if s.household_id in households and since <= s.received_on < start
        }
    )


def twelve_months_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def _capacity(
    items: Sequence[ReferralFacts],
    config: ReportConfig,
    args: ScopeArgs,
    end: date,
    counted: Mapping[str, int] | None = None,
) -> list[CapacityUse]:
    result: list[CapacityUse] = []
    for project, capacity in sorted(config.capacities.items()):
        if args.project is not None and project != args.project:
            continue
        if counted is not None:
            taken = counted.get(project, 0)
            result.append(CapacityUse(project, capacity, taken, taken / capacity))
            continue
        taken = len(
            {
                item.household_id
                for item in items
                if item.kind == "referral"
                and item.project == project
                and _on_or_before(item.requested_on, end)
            }
        )
        result.append(CapacityUse(project, capacity, taken, taken / capacity))
    return result


def _over_time(work: Sequence[ReferralFacts], args: ScopeArgs) -> list[TimePoint]:
    reference = args.reference_day
    # Per project the three days that place a referral in a bucket, worked out once.
    spans: dict[str, list[tuple[date, date | None, date | None]]] = defaultdict(list)
    for item in work:
        assert item.requested_on is not None
        closed_on = item.closed_on if item.outcome is not None else None
        spans[item.project or NOT_REFERRED].append((item.requested_on, _final_on(item), closed_on))
    points: list[TimePoint] = []
    for bucket in buckets(args.period):
        if bucket.starts > reference:
            break
        start, end = bucket.starts, min(bucket.ends, reference)
        for project in sorted(spans):
            new = open_at_end = closed = 0
            for requested_on, final_on, closed_on in spans[project]:
                if requested_on > end:
                    continue
                new += requested_on >= start
                open_at_end += final_on is None or final_on > end
                closed += closed_on is not None and start <= closed_on <= end
            points.append(TimePoint(bucket.label, project, new, open_at_end, closed))
    return points
