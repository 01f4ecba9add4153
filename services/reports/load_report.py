"""Loading the facts a report needs and building it (DESIGN §8; issue 5, item 3).

Two sources, one computation:

- **now**: the read model of ``projections/report_facts.py``, filtered in SQL to what the
  period and scope can touch (``build_report`` selects from there, and gives the same
  figures for any superset of the facts it needs). On PostgreSQL the referrals come with
  their cases' columns in one query, and the two figures whose facts reach far outside the
  period (capacity: every household ever referred to a project; repeat households: a year
  of signals before the period) are counted in SQL and passed as ``Aggregates``;
- **as of a day** (``--as-of``): the event log replayed in memory, through the same pure
  ``fold``, up to the end of that day in Europe/Amsterdam (the events recorded at or before
  midnight). The log is in commit order and each append is stamped when it is written, so
  reading stops at the first event stamped well after that moment (``REPLAY_MARGIN``; appends
  racing for the lock may be stamped a little out of order); events in the margin are
  skipped, not folded.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Final

from pydantic import ValidationError
from sqlalchemy import Select, and_, or_, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from events.catalogue.vocabulary import Outcome
from events.store import SqlEventStore
from events.store.bulk_rows import driver_in_transaction
from events.store.gc_pause import paused_garbage_collection
from projections.checkpoints import read_checkpoint
from projections.report_facts import (
    REFERRAL_SPAN,
    ReportFactsProjection,
    StoredRow,
    case_of,
    report_cases,
    report_referrals,
    report_signals,
    rows_by_id,
    signal_of,
    split_partner_types,
)
from services.clock import MUNICIPAL_TIME_ZONE
from services.config_files import ConfigError, describe, load_toml
from services.municipalities import Municipality
from services.reports.build_report import (
    Aggregates,
    ReportConfig,
    ScopeArgs,
    build_report,
    twelve_months_before,
)
from services.reports.facts import (
    ReferralFacts,
    ReportState,
    SignalFacts,
    case_closure,
    fold,
)
from services.reports.model import Period, Report
from services.routing.config import load_projects

REPLAY_MARGIN: Final = timedelta(minutes=5)
REPLAY_PAGE: Final = 5000


@dataclass(frozen=True)
class ReportRequest:
    """What a user asks for: ``signaalhub report`` and ``/v1/rapportages`` take these."""

    period: Period
    project: str | None = None
    team: str | None = None
    as_of: date | None = None


def load_report_config(config_dir: Path) -> ReportConfig:
    """Project capacities (``projects.toml``) and inhabitants (``municipalities.toml``)."""
    capacities = {p.id: p.capacity for p in load_projects(config_dir) if p.capacity}
    path = config_dir / "municipalities.toml"
    entries = load_toml(path).get("gemeente", [])
    if not isinstance(entries, list):
        raise ConfigError(f"{path}: entries are [[gemeente]] tables")
    try:
        inhabitants = sum(Municipality.model_validate(e).inhabitants for e in entries)
    except ValidationError as error:
        raise ConfigError(f"{path}: {describe(error)}") from None
    return ReportConfig(capacities=capacities, inhabitants=inhabitants)


def end_of_day(day: date) -> datetime:
    """The last moment of ``day`` in Europe/Amsterdam: midnight at its end, as UTC."""
    midnight = datetime.combine(day + timedelta(days=1), time(0), tzinfo=MUNICIPAL_TIME_ZONE)
    return midnight.astimezone(UTC)


async def load_report(
    store: SqlEventStore,
    request: ReportRequest,
    config: ReportConfig,
    projection: ReportFactsProjection,
    *,
    today: date,
    now: datetime | None = None,
) -> Report:
    """The report for ``request``: from the read model, or replayed when ``as_of`` is set.

    The read model is read as it is: run the projections' catch-up first for a current one.
    """
    generated_at = now or datetime.now(UTC)
    if request.as_of is not None:
        state = await replay_until(store, projection, end_of_day(request.as_of))
        referrals: Sequence[ReferralFacts] = state.referral_facts()
        signals: Sequence[SignalFacts] = state.signal_facts()
        position = state.last_position
    else:
        args = _scope(request, config, today, generated_at, 0)
        # Thousands of short-lived facts: the cyclic collector would scan them (and, every
        # so often, the whole heap) for nothing; reference counting frees them afterwards.
        with paused_garbage_collection():
            async with store.engine.connect() as conn:
                position = await read_checkpoint(conn, projection.name)
                referrals, signals, aggregates = await read_facts(conn, args, config)
            return build_report(
                referrals,
                signals,
                config,
                _scope(request, config, today, generated_at, position),
                aggregates,
            )
    return build_report(
        referrals, signals, config, _scope(request, config, today, generated_at, position)
    )


def _scope(
    request: ReportRequest, config: ReportConfig, today: date, now: datetime, position: int
) -> ScopeArgs:
    return ScopeArgs(
        period=request.period,
        today=today,
        generated_at=now,
        project=request.project,
        team=request.team,
        as_of=request.as_of,
        events_up_to_position=position,
    )


async def replay_until(
    store: SqlEventStore, projection: ReportFactsProjection, moment: datetime
) -> ReportState:
    """The facts as they stood at ``moment``: the log folded up to it, in memory."""
    state = ReportState(projection.wijk_of)
    position = 0
    stop_after = moment + REPLAY_MARGIN
    while page := await store.read_all(after=position, limit=REPLAY_PAGE):
        for recorded in page:
            if recorded.recorded_at > stop_after:
                return state
            if recorded.recorded_at <= moment:
                fold(state, recorded)
        position = page[-1].position
    return state


# -- the read model ------------------------------------------------------------------------


async def read_facts(
    conn: AsyncConnection, args: ScopeArgs, config: ReportConfig
) -> tuple[list[ReferralFacts], list[SignalFacts], Aggregates]:
    """The stored facts that the report of ``args`` can touch (a superset, in SQL), and on
    PostgreSQL the aggregates counted there instead of from facts far outside the period."""
    if conn.dialect.name == "postgresql":
        # The referrals, the largest read, on a second connection at the same time as the
        # rest: the server works on both while this process decodes what has come back.
        async with conn.engine.connect() as second:
            reading = asyncio.create_task(_postgres_referrals(second, args))
            try:
                closures = await _case_closures(conn, args)
                signals = await _period_signals(conn, args)
                aggregates = Aggregates(
                    capacity_taken=await _postgres_capacity(conn, args, config),
                    earlier_households=await _postgres_earlier_households(conn, args),
                )
            finally:
                referrals = await reading
        return referrals + closures, signals, aggregates
    referrals = await _referrals(conn, args, config)
    referrals += await _case_closures(conn, args)
    signals = await _signals(conn, args)
    return referrals, signals, Aggregates()


# PostgreSQL: the cases by primary key, one probe per referral (a LATERAL subquery with
# LIMIT 1 is never flattened into a join the planner might answer with a scan of every case).
_CASE_OF_REFERRAL: Final = (
    "LEFT JOIN LATERAL (SELECT c.household_id, c.wijk, c.partner_types, "
    "c.earliest_signal_date, c.received_on FROM report_cases AS c "
    "WHERE c.case_id = r.case_id LIMIT 1) AS c ON true"
)
_REFERRAL_COLUMNS: Final = (
    "r.referral_id, r.case_id, r.project, r.team, r.urgent, r.requested_on, "
    "r.first_contact_due, r.closure_due, r.claimed_on, r.first_attempt_on, "
    "r.first_reached_on, r.attempts, r.closed_on, r.outcome, r.ended_on, r.ended_how, "
    "c.household_id, c.wijk, c.partner_types, c.earliest_signal_date, "
    "c.received_on AS case_received_on"
)


async def _postgres_referrals(conn: AsyncConnection, args: ScopeArgs) -> list[ReferralFacts]:
    """The relevant referrals of the scope with their cases' columns, in one query."""
    # REFERRAL_SPAN's columns are the referral's only (the case's subquery has neither).
    conditions = [f"{REFERRAL_SPAN} && daterange($1, $2, '[]')"]
    params: list[Any] = [args.period.starts, args.period_end]
    if args.project is not None:
        params.append(args.project)
        conditions.append(f"r.project = ${len(params)}")
    if args.team is not None:
        params.append(args.team)
        conditions.append(f"r.team = ${len(params)}")
    query = (
        f"SELECT {_REFERRAL_COLUMNS} FROM report_referrals AS r {_CASE_OF_REFERRAL} "
        f"WHERE {' AND '.join(conditions)}"
    )
    driver = await driver_in_transaction(conn)
    return [_joined_row(row) for row in await driver.fetch(query, *params)]


def _joined_row(row: StoredRow) -> ReferralFacts:
    """A row of ``_postgres_referrals``: what ``facts.join`` makes of a referral and its
    case (the case's columns are NULL when the read model has no case for it)."""
    outcome = row["outcome"]
    household = row["household_id"]
    return ReferralFacts(
        kind="referral",
        referral_id=row["referral_id"],
        case_id=row["case_id"],
        household_id=household,
        project=row["project"],
        team=row["team"],
        wijk=row["wijk"],
        partner_types=split_partner_types(row["partner_types"]) if household else (),
        earliest_signal_date=row["earliest_signal_date"],
        received_on=row["case_received_on"],
        urgent=row["urgent"],
        requested_on=row["requested_on"],
        first_contact_due=row["first_contact_due"],
        closure_due=row["closure_due"],
        claimed_on=row["claimed_on"],
        first_attempt_on=row["first_attempt_on"],
        first_reached_on=row["first_reached_on"],
        attempts=row["attempts"],
        closed_on=row["closed_on"],
        outcome=_OUTCOMES[outcome] if outcome else None,
        ended_on=row["ended_on"],
        ended_how=row["ended_how"],
    )


_OUTCOMES: Final = {outcome.value: outcome for outcome in Outcome}


async def _postgres_capacity(
    conn: AsyncConnection, args: ScopeArgs, config: ReportConfig
) -> dict[str, int]:
    """``build_report``'s capacity count: distinct households (a referral without a case
    counts as one more, as ``None`` would in a set) per project, up to the period's end."""
    projects = [p for p in config.capacities if args.project in (None, p)]
    if not projects:
        return {}
    query = (
        "SELECT r.project, count(DISTINCT c.household_id) + "
        "max(CASE WHEN c.household_id IS NULL THEN 1 ELSE 0 END) AS taken "
        "FROM report_referrals AS r LEFT JOIN LATERAL (SELECT household_id FROM report_cases "
        "AS c WHERE c.case_id = r.case_id LIMIT 1) AS c ON true "
        "WHERE r.project = ANY($1::text[]) AND r.requested_on <= $2 GROUP BY r.project"
    )
    driver = await driver_in_transaction(conn)
    rows = await driver.fetch(query, projects, args.period_end)
    return {row["project"]: int(row["taken"]) for row in rows}


async def _postgres_earlier_households(conn: AsyncConnection, args: ScopeArgs) -> frozenset[Any]:
    """The households signalled in the period that also had a signal received in the 12
    months before it began: one index probe per household of the period."""
    start = args.period.starts
    query = (
        "SELECT p.household_id FROM (SELECT DISTINCT household_id FROM report_signals "
        "WHERE received_on BETWEEN $1 AND $2) AS p CROSS JOIN LATERAL (SELECT 1 FROM "
        "report_signals AS e WHERE e.household_id = p.household_id AND e.received_on >= $3 "
        "AND e.received_on < $1 LIMIT 1) AS e"
    )
    driver = await driver_in_transaction(conn)
    rows = await driver.fetch(query, start, args.period_end, twelve_months_before(start))
    return frozenset(row["household_id"] for row in rows)


def _relevant(args: ScopeArgs, dialect: str) -> Any:
    """``build_report``'s relevance and scope filter as SQL: requested by the period's end and
    not closed or ended before its start. On PostgreSQL as an overlap of date ranges, which
    the GiST index of migration 0009 answers without reading the years before or after."""
    r = report_referrals.c
    start, end = args.period.starts, args.period_end
    if dialect == "postgresql":
        condition: Any = text(f"{REFERRAL_SPAN} && daterange(:span_starts, :span_ends, '[]')")
        condition = condition.bindparams(span_starts=start, span_ends=end)
    else:
        condition = and_(r.requested_on <= end, or_(r.final_on.is_(None), r.final_on >= start))
    if args.project is not None:
        condition = and_(condition, r.project == args.project)
    if args.team is not None:
        condition = and_(condition, r.team == args.team)
    return condition


async def _referrals(
    conn: AsyncConnection, args: ScopeArgs, config: ReportConfig
) -> list[ReferralFacts]:
    r = report_referrals.c
    relevant = select(report_referrals).where(_relevant(args, conn.dialect.name))
    rows = {row["referral_id"]: row for row in await _fetch(conn, relevant)}
    capacity_projects = [p for p in config.capacities if args.project in (None, p)]
    if capacity_projects:
        # Capacity counts every household ever referred to the project, whatever the team.
        query = select(report_referrals).where(
            r.project.in_(capacity_projects), r.requested_on <= args.period_end
        )
        for row in await _fetch(conn, query):
            rows.setdefault(row["referral_id"], row)
    # The cases by primary key, not in a join: with a few hundred referrals the planner may
    # pick a hash join that reads every case there is.
    case_ids = {row["case_id"] for row in rows.values()}
    cases = {
        case["case_id"]: case for case in await rows_by_id(conn, report_cases, "case_id", case_ids)
    }
    return [_joined(row, cases.get(row["case_id"])) for row in rows.values()]


def _joined(row: StoredRow, case: StoredRow | None) -> ReferralFacts:
    """A referral row with its case's row: what ``facts.join`` makes of the two."""
    outcome = row["outcome"]
    return ReferralFacts(
        kind="referral",
        referral_id=row["referral_id"],
        case_id=row["case_id"],
        household_id=case["household_id"] if case else None,
        project=row["project"],
        team=row["team"],
        wijk=case["wijk"] if case else None,
        partner_types=split_partner_types(case["partner_types"]) if case else (),
        earliest_signal_date=case["earliest_signal_date"] if case else None,
        received_on=case["received_on"] if case else None,
        urgent=bool(row["urgent"]),
        requested_on=row["requested_on"],
        first_contact_due=row["first_contact_due"],
        closure_due=row["closure_due"],
        claimed_on=row["claimed_on"],
        first_attempt_on=row["first_attempt_on"],
        first_reached_on=row["first_reached_on"],
        attempts=int(row["attempts"]),
        closed_on=row["closed_on"],
        outcome=Outcome(outcome) if outcome else None,
        ended_on=row["ended_on"],
        ended_how=row["ended_how"],
    )


async def _case_closures(conn: AsyncConnection, args: ScopeArgs) -> list[ReferralFacts]:
    if args.project is not None or args.team is not None:
        return []  # cases closed without a team belong to no project or team
    c = report_cases.c
    query = select(report_cases).where(
        c.closed_on.between(args.period.starts, args.period_end), c.outcome.is_not(None)
    )
    return [case_closure(case_of(row)) for row in await _fetch(conn, query)]


async def _period_signals(conn: AsyncConnection, args: ScopeArgs) -> list[SignalFacts]:
    """The signals received in the period (of the scope's cases when filtered)."""
    s = report_signals.c
    query: Select[Any] = select(report_signals).where(
        s.received_on.between(args.period.starts, args.period_end)
    )
    if args.project is not None or args.team is not None:
        cases = select(report_referrals.c.case_id).where(_relevant(args, conn.dialect.name))
        query = query.where(s.case_id.in_(cases))
    return [signal_of(row) for row in await _fetch(conn, query)]


async def _signals(conn: AsyncConnection, args: ScopeArgs) -> list[SignalFacts]:
    s = report_signals.c
    start, end = args.period.starts, args.period_end
    in_period = s.received_on.between(start, end)
    signals = await _period_signals(conn, args)
    # The signals of the year before from the households signalled in the period: what makes
    # a household a repeat one (a superset: all the period's households, whatever the scope).
    households = select(s.household_id).where(in_period)
    earlier = select(report_signals).where(
        s.received_on >= twelve_months_before(start),
        s.received_on < start,
        s.household_id.in_(households),
    )
    signals += [signal_of(row) for row in await _fetch(conn, earlier)]
    return signals


async def _fetch(conn: AsyncConnection, query: Select[Any]) -> list[StoredRow]:
    """The rows of ``query``. On PostgreSQL straight from asyncpg: SQLAlchemy's result rows
    cost several times the query itself for the thousands of rows of a report."""
    if conn.dialect.name != "postgresql":
        return [row._mapping for row in await conn.execute(query)]
    compiled = query.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    params = [compiled.params[name] for name in compiled.positiontup or ()]
    driver = await driver_in_transaction(conn)
    return list(await driver.fetch(str(compiled), *params))
