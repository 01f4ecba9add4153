"""Benchmark the report's projections and queries: ``python -m bench.reports [--events N]``.

On PostgreSQL (HUB_BENCH_DATABASE_URL, else HUB_TEST_DATABASE_URL, else the local server), in a
fresh schema dropped afterwards:

1. N events (default 1,000,000) of a synthetic hub's life up to October 2026 at an
   Almelo-sized pace (``--per-day`` household episodes a day, default 30: some 11,000 a
   year), so a million events are about thirteen years of history. They are appended day by
   day through the store in large units of work with the store's clock set to the simulated
   day: per household episode a signal, the case opened and routed, and
   then either routing's closing outcome or a referral that is claimed, contacted one to
   three times and closed (some second signals, reroutes, cancellations, and recent
   referrals still open). Ids, dates and DDAS values only; no personal data.
2. ``projections rebuild`` of every view of the hub (``all_projections``), timed per view and
   together, in events per second of the log; target ≥ 20,000 events/s together. The
   outbox's messages, which a rebuild keeps, are emptied first: each rebuild writes them all.
3. The store's ``read_all`` over the same log, page by page as the runner reads it: the rate
   every projection's rebuild is bounded by.
4. The report of one month from the read model (``load_report``), R runs (default 50):
   p50 / p95 in ms; target p95 < 100 ms. A quarter and a year are timed alongside. Before
   them the report tables are settled with ``VACUUM (ANALYZE)`` (timed and printed apart),
   which autovacuum would do on its own some time after a rebuild: a rebuild's upserts leave
   dead row versions behind and the planner's statistics are those of an empty table.

Prints a figure table and exits 0 even when a target is missed (it then says MISSED).

While iterating, ``--keep-schema NAME`` writes the log into schema ``NAME`` once and keeps it:
a later run with the same name reuses that log (its size is what the first run wrote) instead
of loading it again; drop it with ``DROP SCHEMA NAME CASCADE``. ``--together-only`` skips the
per-view rebuilds.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import asyncpg
from rich.console import Console
from rich.table import Table
from sqlalchemy import delete, text
from sqlalchemy.ext.asyncio import create_async_engine

import events.catalogue  # noqa: F401  (registers the domain events)
from bench.databases import (
    PostgresTarget,
    fresh_target,
    plain_dsn,
    postgres_server_version,
    postgres_url_from_env,
)
from events.base import DomainEvent
from events.catalogue.cases import CaseClosed, CaseOpened, SignalAttachedToCase
from events.catalogue.referrals import (
    ContactAttemptRecorded,
    ContactKind,
    ReferralCancelled,
    ReferralClaimed,
    ReferralClosed,
    ReferralRequested,
    ReferralRerouted,
)
from events.catalogue.routing import CaseRouted
from events.catalogue.signals import SignalReceived
from events.catalogue.vocabulary import Outcome, PartnerType, SignalKind
from events.envelope import NewEvent, StreamAppend
from events.migrations import upgrade
from events.registry import catalogue
from events.store import SqlEventStore
from projections.catalogue import all_projections
from projections.outbox import outbox
from projections.report_facts import ReportFactsProjection
from projections.runner import ProjectionRunner
from services.referrals.sla import due_dates
from services.reports.load_report import ReportRequest, load_report, load_report_config
from services.reports.periods import parse_period

CONFIG_DIR = Path(__file__).resolve().parents[1] / "config"
LAST_DAY = date(2026, 10, 31)
TODAY = date(2026, 11, 28)
REBUILD_TARGET = 20_000.0
QUERY_TARGET_MS = 100.0
APPEND_BATCH = 5000
EVENTS_PER_EPISODE = 7.0
"""Measured: what one household episode writes on average."""

PARTNERS = (
    ("vitens", PartnerType.WATER),
    ("eneco", PartnerType.ENERGY),
    ("essent", PartnerType.ENERGY),
    ("woonstede", PartnerType.RENT),
    ("st-joseph", PartnerType.RENT),
    ("menzis", PartnerType.HEALTH_INSURANCE),
    ("cak", PartnerType.CAK_HEALTH_INSURANCE),
    ("rabobank", PartnerType.MORTGAGE),
)
PC4 = (*(str(n) for n in range(7600, 7610)), "7550")  # one outside Almelo
TEAMS = {
    "vroeg-erop-af": ("vroeg-erop-af-noord", "vroeg-erop-af-zuid", "vroeg-erop-af-oost"),
    "schuldenspecialisten": ("wijkteam-noord", "wijkteam-zuid", "wijkteam-centrum"),
    "doorbraakmethode": ("doorbraak-almelo",),
    "rub": ("rub-twente-almelo",),
}
PICKED_UP_REACHED = (
    (Outcome.ADVICE_OR_QUICK_FIX, 30),
    (Outcome.FOLLOW_UP_FINANCIAL, 20),
    (Outcome.FOLLOW_UP_NON_FINANCIAL, 10),
    (Outcome.NO_HELP_NEEDED, 20),
    (Outcome.ALREADY_PAID, 15),
    (Outcome.KNOWN_TO_DEBT_SERVICES, 5),
)


def noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 11, 0, tzinfo=UTC)


@dataclass
class Simulation:
    """The synthetic hub's events, scheduled per day (an episode's later steps go to later
    days), so the log is in time order as a real hub's would be."""

    rng: random.Random
    households: list[uuid.UUID]
    schedule: dict[date, list[StreamAppend]]

    def put(self, day: date, stream: str, event: DomainEvent) -> int:
        if day > LAST_DAY:
            return 0  # not happened yet: the referral stays open
        self.schedule[day].append(StreamAppend(stream, [NewEvent(event)]))
        return 1

    def episode(self, day: date) -> int:
        rng = self.rng
        household = rng.choice(self.households)
        pc4 = rng.choice(PC4)
        partner, partner_type = rng.choice(PARTNERS)
        signal_id, case_id = uuid.uuid4(), uuid.uuid4()
        written = self.put(
            day,
            f"signal-{signal_id}",
            _signal(rng, signal_id, partner, partner_type, household, pc4, day),
        )
        written += self.put(
            day,
            f"case-{case_id}",
            CaseOpened(
                case_id=case_id,
                household_id=household,
                gemeentecode="0141",
                pc4=pc4,
                first_signal_id=signal_id,
                partner_type=partner_type,
                matching_window_starts=day,
                matching_window_ends=day + timedelta(days=90),
            ),
        )
        if pc4 == "7550" or rng.random() < 0.06:
            outcome = Outcome.NOT_A_RESIDENT if pc4 == "7550" else Outcome.UNJUSTIFIED_SIGNAL
            written += self.put(day, f"case-{case_id}", _routed(case_id, None, None, outcome))
            written += self.put(
                day,
                f"case-{case_id}",
                CaseClosed(case_id=case_id, outcome=outcome, closed_on=day, reason="routing"),
            )
            return written
        project = rng.choices(tuple(TEAMS), weights=(60, 30, 0.5, 5))[0]
        team = rng.choice(TEAMS[project])
        written += self.put(day, f"case-{case_id}", _routed(case_id, project, team, None))
        if rng.random() < 0.15:
            second = uuid.uuid4()
            other, other_type = rng.choice(PARTNERS)
            later = day + timedelta(days=rng.randrange(0, 10))
            written += self.put(
                later,
                f"signal-{second}",
                _signal(rng, second, other, other_type, household, pc4, later),
            )
            written += self.put(
                later,
                f"case-{case_id}",
                SignalAttachedToCase(case_id=case_id, signal_id=second, partner_type=other_type),
            )
        return written + self.referral(case_id, project, team, day)

    def referral(self, case_id: uuid.UUID, project: str, team: str, day: date) -> int:
        rng = self.rng
        referral_id = uuid.uuid4()
        stream = f"referral-{referral_id}"
        urgent = rng.random() < 0.08
        due = due_dates(day, urgent=urgent)
        written = self.put(
            day,
            stream,
            ReferralRequested(
                referral_id=referral_id,
                case_id=case_id,
                project=project,
                team=team,
                urgent=urgent,
                requested_on=day,
                first_contact_due=due.first_contact_due,
                closure_due=due.closure_due,
                rule_id="bench",
            ),
        )
        claimed = day + timedelta(days=rng.randrange(0, 12))
        if rng.random() < 0.04:
            return written + self.put(
                claimed,
                stream,
                ReferralCancelled(
                    referral_id=referral_id, reason="betaald", cancelled_at=noon(claimed)
                ),
            )
        if rng.random() < 0.03:
            to_project = "schuldenspecialisten"
            to_team = TEAMS[to_project][0]
            written += self.put(
                claimed,
                stream,
                ReferralRerouted(
                    referral_id=referral_id,
                    to_project=to_project,
                    to_team=to_team,
                    reason="crisis",
                    rerouted_at=noon(claimed),
                ),
            )
            return written + self.referral(case_id, to_project, to_team, claimed)
        written += self.put(
            claimed,
            stream,
            ReferralClaimed(referral_id=referral_id, worker_id="mw-1", claimed_at=noon(claimed)),
        )
        attempt_day, reached = claimed, False
        for _ in range(rng.randrange(1, 4)):
            attempt_day += timedelta(days=rng.randrange(0, 8))
            reached = rng.random() < 0.55
            written += self.put(
                attempt_day,
                stream,
                ContactAttemptRecorded(
                    referral_id=referral_id,
                    kind=ContactKind.PHONE,
                    reached=reached,
                    attempted_on=attempt_day,
                ),
            )
            if reached:
                break
        if reached:
            outcomes, weights = zip(*PICKED_UP_REACHED, strict=True)
            outcome = rng.choices(outcomes, weights=weights)[0]
        else:
            outcome = Outcome.NO_CONTACT
        closed = attempt_day + timedelta(days=rng.randrange(0, 21))
        return written + self.put(
            closed,
            stream,
            ReferralClosed(referral_id=referral_id, outcome=outcome, closed_on=closed),
        )


def _signal(
    rng: random.Random,
    signal_id: uuid.UUID,
    partner: str,
    partner_type: PartnerType,
    household: uuid.UUID,
    pc4: str,
    day: date,
) -> SignalReceived:
    return SignalReceived(
        signal_id=signal_id,
        partner_id=partner,
        partner_signal_id=signal_id.hex[:12],
        partner_type=partner_type,
        kind=SignalKind.FINAL_DELIVERY_SIGNAL if rng.random() < 0.03 else SignalKind.EARLY_SIGNAL,
        amount=Decimal(rng.randrange(5000, 300000)) / 100,
        signal_date=day - timedelta(days=rng.randrange(0, 20)),
        crisis=rng.random() < 0.04,
        household_id=household,
        gemeentecode="0141",
        in_municipality=pc4 != "7550",
        pc4=pc4,
    )


def _routed(
    case_id: uuid.UUID, project: str | None, team: str | None, outcome: Outcome | None
) -> CaseRouted:
    return CaseRouted(
        case_id=case_id,
        project=project,
        team=team,
        outcome=outcome,
        rule_id="bench",
        rules_version="bench",
        explanation="synthetic",
        facts={"pc4": "7604"},
    )


def first_day(events: int, per_day: float) -> date:
    return LAST_DAY - timedelta(days=round(events / EVENTS_PER_EPISODE / per_day))


async def write_log(
    store: SqlEventStore, moment: list[datetime], events: int, per_day: float, seed: int
) -> int:
    """About ``events`` events, day by day; returns how many were written."""
    rng = random.Random(seed)
    simulation = Simulation(rng, [uuid.uuid4() for _ in range(60_000)], defaultdict(list))
    written = 0
    day = first_day(events, per_day)
    pending: list[tuple[date, list[StreamAppend]]] = []
    size = 0
    analysed = 1000
    while day <= LAST_DAY:
        for _ in range(int(per_day) + (rng.random() < per_day % 1)):
            simulation.episode(day)
        todays = simulation.schedule.pop(day, [])
        pending.append((day, todays))
        size += len(todays)
        if size >= APPEND_BATCH or day == LAST_DAY:
            # One unit of work for many days, one append per day, stamped with that day.
            async with store.unit_of_work() as uow:
                for when, appends in pending:
                    if appends:
                        moment[0] = noon(when)
                        await uow.append_many(appends)
            written += size
            if written >= analysed * 2:
                # A bulk load outruns autovacuum: without fresh statistics the append
                # functions keep a plan made for an empty table and slow to seconds a call.
                async with store.engine.begin() as conn:
                    await conn.execute(text("ANALYZE events"))
                analysed = written
            pending, size = [], 0
        day += timedelta(days=1)
    return written


async def forget_outbox_messages(store: SqlEventStore) -> None:
    """Empty the outbox's messages, untimed. A rebuild keeps them (what was sent stays sent)
    and then only finds each one there already; the bench times the heavier first build,
    which writes every message."""
    async with store.engine.begin() as conn:
        await conn.execute(delete(outbox))


async def read_all_rate(store: SqlEventStore, page_size: int) -> tuple[int, float]:
    started = time.perf_counter()
    position = count = 0
    while page := await store.read_all(after=position, limit=page_size):
        count += len(page)
        position = page[-1].position
    return count, time.perf_counter() - started


def percentile(values: list[float], share: float) -> float:
    """Nearest rank, as the report's p90."""
    ordered = sorted(values)
    return ordered[max(0, -(-int(share * 100) * len(ordered) // 100) - 1)]


async def time_reports(
    store: SqlEventStore, projection: ReportFactsProjection, runs: int
) -> dict[str, list[float]]:
    config = load_report_config(CONFIG_DIR)
    timings: dict[str, list[float]] = {}
    requests = {
        "month 2026-06": ReportRequest(parse_period("2026-06")),
        "month 2026-06, one team": ReportRequest(parse_period("2026-06"), team="wijkteam-noord"),
        "quarter 2026-Q2": ReportRequest(parse_period("2026-Q2")),
        "year 2026": ReportRequest(parse_period("2026")),
    }
    for name, request in requests.items():
        await load_report(store, request, config, projection, today=TODAY)  # warm up
        for _ in range(runs if name.startswith("month") else max(5, runs // 10)):
            started = time.perf_counter()
            await load_report(store, request, config, projection, today=TODAY)
            timings.setdefault(name, []).append((time.perf_counter() - started) * 1000)
    return timings


@dataclass
class Figures:
    events: int
    write_seconds: float
    """0 when a kept log was reused."""
    rebuild_seconds: dict[str, float]
    read_events: int
    read_seconds: float
    query_ms: dict[str, list[float]]
    together_seconds: float
    """One rebuild of every view at once (the runner shares each page among them)."""
    settle_seconds: float
    """``VACUUM (ANALYZE)`` of the report tables before the report runs."""


async def settle_report_tables(target: PostgresTarget) -> None:
    """What autovacuum does some time after a rebuild, now (VACUUM runs outside a
    transaction, so on a connection of its own)."""
    conn = await asyncpg.connect(target.dsn, server_settings={"search_path": target.schema})
    try:
        await conn.execute("VACUUM (ANALYZE) report_cases, report_referrals, report_signals")
    finally:
        await conn.close()


@contextmanager
def kept_target(url: str, schema: str) -> Iterator[PostgresTarget]:
    """Schema ``schema``, created when missing and kept afterwards (``--keep-schema``)."""
    if not schema.isidentifier():
        raise SystemExit(f"--keep-schema: {schema!r} is not a plain identifier")

    async def create() -> None:
        conn = await asyncpg.connect(plain_dsn(url))
        try:
            await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        finally:
            await conn.close()

    asyncio.run(create())
    yield PostgresTarget(url, schema)


async def measure(
    target: PostgresTarget,
    events: int,
    per_day: float,
    runs: int,
    seed: int,
    views: Sequence[str] = (),
    *,
    together_only: bool = False,
) -> Figures:
    engine = create_async_engine(
        target.url, connect_args={"server_settings": {"search_path": target.schema}}
    )
    moment = [noon(first_day(events, per_day))]
    clock: Callable[[], datetime] = lambda: moment[0]  # noqa: E731
    store = SqlEventStore(engine, catalogue, clock=clock)
    try:
        await upgrade(engine)
        started = time.perf_counter()
        written = await store.last_position()  # a kept log (--keep-schema) is reused
        write_seconds = 0.0
        if not written:
            written = await write_log(store, moment, events, per_day, seed)
            write_seconds = time.perf_counter() - started
        projections = [p for p in all_projections(CONFIG_DIR) if not views or p.name in views]
        runner = ProjectionRunner(store, projections)
        rebuild: dict[str, float] = {}
        for projection in [] if together_only else projections:
            await forget_outbox_messages(store)
            started = time.perf_counter()
            await runner.rebuild(projection.name)
            rebuild[projection.name] = time.perf_counter() - started
        await forget_outbox_messages(store)
        started = time.perf_counter()
        await runner.rebuild()  # every view at once: each page read and decoded once for all
        together = time.perf_counter() - started
        read_events, read_seconds = await read_all_rate(store, runner.page_size)
        started = time.perf_counter()
        await settle_report_tables(target)
        settle_seconds = time.perf_counter() - started
        report_view = ReportFactsProjection.from_config(CONFIG_DIR)
        query_ms = await time_reports(store, report_view, runs)
        return Figures(
            written,
            write_seconds,
            rebuild,
            read_events,
            read_seconds,
            query_ms,
            together,
            settle_seconds,
        )
    finally:
        await store.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="Events in the log.")
    parser.add_argument("--runs", type=int, default=50, help="Timed runs of a month's report.")
    parser.add_argument(
        "--per-day", type=float, default=30.0, help="Household episodes a day (Almelo: 30)."
    )
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--keep-schema",
        default="",
        metavar="NAME",
        help="Load the log into schema NAME once and keep it; reuse it when it is there.",
    )
    parser.add_argument("--together-only", action="store_true", help="Skip the per-view rebuilds.")
    parser.add_argument(
        "--views",
        default="",
        help="Comma-separated views to rebuild (default: all; report_facts must be one).",
    )
    args = parser.parse_args(argv)
    views = [name for name in args.views.split(",") if name]
    console = Console()
    url = postgres_url_from_env()
    console.print(
        f"[bold]Report projections and queries[/bold] — PostgreSQL {postgres_server_version(url)}, "
        f"about {args.events:,} events ({first_day(args.events, args.per_day)} to {LAST_DAY}, "
        f"{args.per_day:g} household episodes a day), {args.runs} report runs"
    )
    place = (
        kept_target(url, args.keep_schema) if args.keep_schema else fresh_target("postgres", url)
    )
    with place as target:
        assert isinstance(target, PostgresTarget)
        figures = asyncio.run(
            measure(
                target,
                args.events,
                args.per_day,
                args.runs,
                args.seed,
                views,
                together_only=args.together_only,
            )
        )
    n = figures.events
    if figures.write_seconds:
        console.print(
            f"Wrote {n:,} events in {figures.write_seconds:.1f} s "
            f"({n / figures.write_seconds:,.0f} events/s)."
        )
    else:
        console.print(f"Reused the {n:,} events kept in schema {args.keep_schema}.")
    rates = Table(title="Rebuild from the start of the log (events of the log per second)")
    for column in ("what", "seconds", "events/s", "vs read_all"):
        rates.add_column(column, justify="left" if column == "what" else "right")
    read_rate = figures.read_events / figures.read_seconds
    for name, seconds in figures.rebuild_seconds.items():
        rates.add_row(
            name, f"{seconds:.1f}", f"{n / seconds:,.0f}", f"{n / seconds / read_rate:.2f}"
        )
    together = figures.together_seconds
    rates.add_row(
        "all views together",
        f"{together:.1f}",
        f"{n / together:,.0f}",
        f"{n / together / read_rate:.2f}",
        style="bold",
    )
    rates.add_row(
        "store read_all (the ratio's base)",
        f"{figures.read_seconds:.1f}",
        f"{read_rate:,.0f}",
        "1.00",
    )
    console.print(rates)
    console.print(
        f"Report tables settled (VACUUM ANALYZE) in {figures.settle_seconds:.1f} s "
        "before the report runs."
    )
    queries = Table(title="Report from the read model (load_report: SQL, then build_report)")
    for column in ("report", "runs", "p50 ms", "p95 ms", "max ms"):
        queries.add_column(column, justify="left" if column == "report" else "right")
    for name, values in figures.query_ms.items():
        queries.add_row(
            name,
            str(len(values)),
            f"{statistics.median(values):.1f}",
            f"{percentile(values, 0.95):.1f}",
            f"{max(values):.1f}",
        )
    console.print(queries)
    all_rate = n / together
    verdict = "met" if all_rate >= REBUILD_TARGET else "MISSED"
    which = "all views" if not views else "views " + ", ".join(figures.rebuild_seconds)
    console.print(
        f"target rebuild ≥ {REBUILD_TARGET:,.0f} events/s ({which}): {all_rate:,.0f} — {verdict}"
    )
    if "report_facts" in figures.rebuild_seconds:
        report_rate = n / figures.rebuild_seconds["report_facts"]
        verdict = "met" if report_rate >= REBUILD_TARGET else "MISSED"
        console.print(f"  report_facts alone: {report_rate:,.0f} events/s — {verdict}")
    p95 = percentile(figures.query_ms["month 2026-06"], 0.95)
    verdict = "met" if p95 < QUERY_TARGET_MS else "MISSED"
    console.print(f"target month report p95 < {QUERY_TARGET_MS:.0f} ms: {p95:.1f} ms — {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
