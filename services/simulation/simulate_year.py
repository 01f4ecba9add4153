"""A simulated year of the hub: monthly partner files arrive, teams work their queues day by day.

The driver behind ``signaalhub demo``. It owns the timeline; how a month's signals get in is
the caller's (the CLI writes partner files and ingests them through the file channel, an
adapter this module must not import), passed as ``ingest_month``.

The timeline, in Dutch time:

* on the last day of each month, at 07:00, that month's signals are ingested; intake routes
  them and requests referrals dated that day;
* on every day after the first ingest up to yesterday, the teams do the steps that
  ``team_work.plan_work`` planned for their referrals (each at its part of the day), and the
  day's work is recorded at 21:30 in one batch through ``services.referrals.act_in_batches``;
* before each step the store's clock is set to that moment (``SimulatedClock``), so each
  event's ``recorded_at`` is when it happened in the simulation and a report ``--as-of`` a
  past date sees what was known then. The clock never goes back, so ``recorded_at`` is
  non-decreasing in position order even on a database that already holds later events.

Steps planned after yesterday are not done: the last weeks' referrals are still open.

Referral state is followed from the log itself (every referral event, the intake's reroutes
and cancellations included), so a plan is dropped as soon as its referral is final, and a
second run on the same database knows what the first did: plans are deterministic, and it
plays only the days after the last day of simulated work in the log (found by the
correlation id ``demo-teams-<date>``; on a log without simulated work, after its newest
event, so that nothing is recorded before what is already there).
"""

from __future__ import annotations

import calendar
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from events.catalogue.cases import CaseOpened
from events.catalogue.referrals import PartOfDay, ReferralRequested
from events.envelope import RecordedEvent
from events.store import SqlEventStore
from services.clock import MUNICIPAL_TIME_ZONE
from services.referrals import lifecycle
from services.referrals.act_in_batches import (
    ClaimReferral,
    CloseReferral,
    LoadedReferral,
    RecordContactAttempt,
    ReleaseReferral,
    RerouteReferral,
    TeamAction,
    act_in_one_unit_of_work,
)
from services.referrals.act_on_referral import MANUAL_REROUTE
from services.referrals.lifecycle import Referral
from services.referrals.sla import is_overdue
from services.routing.config import Projects, Wijken
from services.simulation.team_work import (
    DEFAULT_RATES,
    Claim,
    Close,
    ContactAttemptWork,
    ReferralToWork,
    Release,
    Reroute,
    RerouteTarget,
    Step,
    WorkRates,
    plan_work,
)

INGEST_TIME = time(7, 0)
# When the work of a part of the day is done; the day's work is recorded after all of it.
WORK_TIME: dict[PartOfDay, time] = {
    PartOfDay.MORNING: time(10, 0),
    PartOfDay.AFTERNOON: time(14, 30),
    PartOfDay.EVENING: time(19, 30),
}
RECORD_TIME = time(21, 30)
READ_PAGE = 5000
TEAM_WORK = "demo-teams-"
"""Correlation id prefix of a simulated day's work, followed by the ISO date: a later run
reads from the log which days were played."""

# Where a team hands a referral that is not theirs after all (demo assumption), and why.
REROUTES: dict[str, tuple[str, str]] = {
    "vroeg-erop-af": (
        "schuldenspecialisten",
        "Meer dan een betalingsachterstand: naar de schuldenspecialist van de wijk",
    ),
    "schuldenspecialisten": (
        "vroeg-erop-af",
        "Eén betalingsachterstand zonder verdere schulden: past bij Vroeg erop af!",
    ),
    "jongeren-perspectief-fonds": (
        "schuldenspecialisten",
        "Inwoner valt buiten de doelgroep van het fonds: naar de schuldenspecialist",
    ),
}

IngestMonth = Callable[[int, int, date], Awaitable[None]]
"""Ingest the signals of (year, month), received on the given day (the store's clock is set)."""


class SimulatedClock:
    """A settable clock for the event store that never goes back."""

    def __init__(self, start: datetime) -> None:
        _require_aware(start)
        self._now = start

    def set(self, moment: datetime) -> None:
        _require_aware(moment)
        self._now = max(self._now, moment)

    def __call__(self) -> datetime:
        return self._now


def _require_aware(moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("the simulated clock keeps instants: give a time zone")


def municipal_moment(day: date, at: time) -> datetime:
    """``at`` o'clock on ``day`` in Almelo."""
    return datetime.combine(day, at, tzinfo=MUNICIPAL_TIME_ZONE)


def months_before(day: date, count: int) -> list[tuple[int, int]]:
    """The ``count`` whole months before ``day``'s month, oldest first."""
    months = []
    year, month = day.year, day.month
    for _ in range(count):
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
        months.append((year, month))
    return months[::-1]


def last_day(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def reroute_target(
    referral: Referral, place: tuple[str, str] | None, projects: Projects, wijken: Wijken
) -> RerouteTarget | None:
    """The team of the other project in the same wijk, when there is one that takes referrals.
    A referral a person placed by hand is not handed on again."""
    if referral.rule_id == MANUAL_REROUTE or place is None:
        return None
    target = REROUTES.get(referral.project)
    wijk = wijken.for_pc4(*place)
    if target is None or wijk is None:
        return None
    project_id, reason = target
    project = projects.get(project_id)
    team = wijken.team(wijk, project_id)
    if project is None or not project.receives_referrals or team is None:
        return None
    return RerouteTarget(project_id, team, reason)


@dataclass
class YearOfWork:
    """What the simulation did, and the referrals as they stand at its end."""

    days: int = 0
    actions: int = 0
    refused: list[str] = field(default_factory=list)
    played_after: date | None = None
    """Days up to this one were already in the log (an earlier run); none was played again."""
    referrals: dict[uuid.UUID, LoadedReferral] = field(default_factory=dict)

    def caseload(self, today: date) -> dict[tuple[str, str], Counter[str]]:
        """Per (project, team): referrals by state, and how many open ones are overdue."""
        load: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
        for loaded in self.referrals.values():
            referral = loaded.referral
            counts = load[(referral.project, referral.team)]
            counts[referral.state.value] += 1
            counts["overdue"] += is_overdue(referral, today)
        return dict(load)

    def outcomes(self) -> Counter[str]:
        return Counter(
            r.referral.outcome.value for r in self.referrals.values() if r.referral.outcome
        )


@dataclass
class _Scheduled:
    referral_id: uuid.UUID
    step: Step


@dataclass
class TeamWorkSimulation:
    """Follows the log's referrals, plans their work, and plays it one day at a time."""

    store: SqlEventStore
    clock: SimulatedClock
    seed: int
    projects: Projects
    wijken: Wijken
    rates: WorkRates = DEFAULT_RATES
    last_day: date = date.max
    played_after: date | None = None
    position: int = 0
    referrals: dict[uuid.UUID, LoadedReferral] = field(default_factory=dict)
    places: dict[uuid.UUID, tuple[str, str]] = field(default_factory=dict)
    schedule: dict[date, list[_Scheduled]] = field(default_factory=lambda: defaultdict(list))
    actions: int = 0
    refused: list[str] = field(default_factory=list)
    last_team_day: date | None = None
    """The last day whose simulated team work is in the log."""

    async def follow_log(self) -> None:
        """Fold every event recorded since the last call; plan each new referral."""
        while page := await self.store.read_all(after=self.position, limit=READ_PAGE):
            for recorded in page:
                self._fold(recorded)
            self.position = page[-1].position

    def resume_after(self, day: date) -> None:
        """Play nothing up to ``day``: an earlier run did (or the log already goes past it)."""
        self.played_after = day
        for planned_day in [d for d in self.schedule if d <= day]:
            del self.schedule[planned_day]

    def _fold(self, recorded: RecordedEvent) -> None:
        event = recorded.event
        correlation = recorded.metadata.correlation_id or ""
        if correlation.startswith(TEAM_WORK):
            played = date.fromisoformat(correlation.removeprefix(TEAM_WORK))
            self.last_team_day = max(played, self.last_team_day or played)
        if isinstance(event, CaseOpened):
            self.places[event.case_id] = (event.gemeentecode, event.pc4)
            return
        if not recorded.stream_id.startswith("referral-"):
            return
        if isinstance(event, ReferralRequested):
            referral = lifecycle.apply(None, event)
            self.referrals[referral.referral_id] = LoadedReferral(referral, recorded.stream_version)
            self._plan(referral)
            return
        referral_id = uuid.UUID(recorded.stream_id.removeprefix("referral-"))
        held = self.referrals[referral_id]
        self.referrals[referral_id] = LoadedReferral(
            lifecycle.apply(held.referral, event), recorded.stream_version
        )

    def _plan(self, referral: Referral) -> None:
        target = reroute_target(
            referral, self.places.get(referral.case_id), self.projects, self.wijken
        )
        work = ReferralToWork(
            referral_id=referral.referral_id,
            team=referral.team,
            urgent=referral.urgent,
            requested_on=referral.requested_on,
            first_contact_due=referral.first_contact_due,
            closure_due=referral.closure_due,
            reroute_to=target,
            # Handed over during a working day: the receiving team starts the next day.
            first_day=(
                referral.requested_on + timedelta(days=1)
                if referral.rule_id == MANUAL_REROUTE
                else None
            ),
        )
        for step in plan_work(work, self.seed, self.rates):
            if step.on > self.last_day:
                break
            if self.played_after is None or step.on > self.played_after:
                self.schedule[step.on].append(_Scheduled(referral.referral_id, step))

    async def play_day(self, day: date) -> None:
        """The day's planned steps, morning to evening, recorded in one transaction at the end
        of the day (a team's day of work is one batch: one commit instead of one per step)."""
        if self.played_after is not None and day <= self.played_after:
            return
        planned = sorted(self.schedule.pop(day, []), key=lambda s: s.step.slot)  # stable
        actions = [action for scheduled in planned if (action := self._action(scheduled))]
        if not actions:
            return
        self.clock.set(municipal_moment(day, RECORD_TIME))
        result = await act_in_one_unit_of_work(
            self.store,
            actions,
            known=self.referrals,
            projects=self.projects,
            correlation_id=f"{TEAM_WORK}{day.isoformat()}",
        )
        self.actions += len(actions) - len(result.refused)
        self.refused.extend(f"{day} {action}: {refusal}" for action, refusal in result.refused)
        await self.follow_log()

    def _action(self, scheduled: _Scheduled) -> TeamAction | None:
        held = self.referrals.get(scheduled.referral_id)
        if held is None or held.referral.is_final:
            return None  # intake rerouted or cancelled it before the team got to it
        referral, step = held.referral, scheduled.step
        at = municipal_moment(step.on, WORK_TIME[step.part_of_day])
        team, rid = referral.team, referral.referral_id
        match step.work:
            case Claim(worker_id=worker_id):
                return ClaimReferral(team, rid, worker_id, at)
            case Release(reason=reason):
                return ReleaseReferral(team, rid, reason, at)
            case ContactAttemptWork(kind=kind, reached=reached):
                return RecordContactAttempt(team, rid, kind, reached, step.on, step.part_of_day)
            case Reroute(target=target):
                return RerouteReferral(team, rid, target.project, target.team, target.reason, at)
            case Close(outcome=outcome):
                return CloseReferral(team, rid, outcome, step.on)
        raise AssertionError(f"unhandled work {step.work!r}")  # pragma: no cover


def simulation_days(months: Iterable[tuple[int, int]], today: date) -> list[date]:
    """From the first month's last day (its ingest) up to yesterday."""
    first = last_day(*min(months))
    return [first + timedelta(days=n) for n in range((today - first).days)]


async def last_recorded_day(store: SqlEventStore) -> tuple[datetime | None, date | None]:
    """When the newest event was recorded, and that day in Almelo (None for an empty log)."""
    last = await store.last_position()
    if last == 0:
        return None, None
    [newest] = await store.read_all(after=last - 1, limit=1)
    return newest.recorded_at, newest.recorded_at.astimezone(MUNICIPAL_TIME_ZONE).date()


async def simulate_year(
    store: SqlEventStore,
    clock: SimulatedClock,
    *,
    months: list[tuple[int, int]],
    today: date,
    ingest_month: IngestMonth,
    seed: int,
    projects: Projects,
    wijken: Wijken,
    rates: WorkRates = DEFAULT_RATES,
    on_day: Callable[[date], None] | None = None,
) -> YearOfWork:
    """Ingest each month on its last day and play the teams' work on every day until
    yesterday. ``clock`` must be the store's clock."""
    newest, newest_day = await last_recorded_day(store)
    if newest is not None:
        clock.set(newest)
    days = simulation_days(months, today)
    simulation = TeamWorkSimulation(
        store, clock, seed, projects, wijken, rates, last_day=today - timedelta(days=1)
    )
    await simulation.follow_log()  # what an earlier run (or anything else) left in the log
    # Resume after the last simulated day of work; a log written by something else is not
    # rewritten before its newest event.
    played_after = simulation.last_team_day or newest_day
    if played_after is not None:
        simulation.resume_after(played_after)
    ingest_days = {last_day(year, month): (year, month) for year, month in months}
    for day in days:
        if day in ingest_days:
            clock.set(municipal_moment(day, INGEST_TIME))
            await ingest_month(*ingest_days[day], day)
            await simulation.follow_log()
        await simulation.play_day(day)
        if on_day is not None:
            on_day(day)
    await simulation.follow_log()
    return YearOfWork(
        days=len(days),
        actions=simulation.actions,
        refused=simulation.refused,
        played_after=played_after,
        referrals=simulation.referrals,
    )
