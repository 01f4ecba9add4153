"""The management report's read model: the facts of ``services.reports.facts`` in tables.

Three PII-free tables, one row per case, referral and signal, kept by the same pure fold the
``--as-of`` replay uses, so the report from the read model and the replayed report agree:

- ``report_cases``: household id, gemeentecode, PC4, wijk, partner types, earliest signal
  date, day received, and the outcome when intake or routing closed the case;
- ``report_referrals``: project, team, SLA due dates, the days of claim, first attempt,
  first reached, closure or end, and the outcome. ``final_on`` (closed or ended) is there
  for the report's period query only;
- ``report_signals``: partner, partner type, kind, crisis, signal date, day received,
  household id and case id.

A page of events is applied at once (``apply_batch``): the rows the page touches are read in
one query per table, the page is folded in memory, and the changed rows are written back
with one multi-row upsert per table, in the transaction that also moves the checkpoint
(``read_page``, ``fold_page``, ``write_page``: the runner overlaps the fold with another
view's writes). On PostgreSQL both go straight to asyncpg with array parameters (a primary-key
probe per unnested id, ``unnest`` upserts): SQLAlchemy's per-row parameter handling would
cost more than the fold.
Applying events again that were applied already can not happen (the runner's checkpoint),
and ``wijken.toml`` is read when the projection is built: a changed wijk map needs
``signaalhub projections rebuild report_facts``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any, Final, Protocol

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    select,
)
from sqlalchemy import Uuid as SqlUuid
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from events.catalogue.vocabulary import Outcome
from events.envelope import RecordedEvent
from events.store.bulk_rows import driver_in_transaction, unnest_parameters
from services.reports.facts import (
    CaseFacts,
    ReferralRecord,
    ReportState,
    SignalFacts,
    fold,
    needed_ids,
    wijk_lookup,
)
from services.routing.config import load_wijken

metadata = MetaData()

report_cases = Table(
    "report_cases",
    metadata,
    Column("case_id", SqlUuid(), primary_key=True),
    Column("household_id", SqlUuid(), nullable=False),
    Column("gemeentecode", String(4), nullable=False),
    Column("pc4", String(4), nullable=False),
    Column("wijk", String(64), nullable=True),
    Column("partner_types", String(400), nullable=False),
    Column("earliest_signal_date", Date(), nullable=True),
    Column("received_on", Date(), nullable=False),
    Column("outcome", String(80), nullable=True),
    Column("closed_on", Date(), nullable=True),
)
Index("ix_report_cases_closed_on", report_cases.c.closed_on)

report_referrals = Table(
    "report_referrals",
    metadata,
    Column("referral_id", SqlUuid(), primary_key=True),
    Column("case_id", SqlUuid(), nullable=False),
    Column("project", String(64), nullable=False),
    Column("team", String(64), nullable=False),
    Column("urgent", Boolean(), nullable=False),
    Column("requested_on", Date(), nullable=False),
    Column("first_contact_due", Date(), nullable=False),
    Column("closure_due", Date(), nullable=False),
    Column("claimed_on", Date(), nullable=True),
    Column("first_attempt_on", Date(), nullable=True),
    Column("first_reached_on", Date(), nullable=True),
    Column("attempts", Integer(), nullable=False),
    Column("closed_on", Date(), nullable=True),
    Column("outcome", String(80), nullable=True),
    Column("ended_on", Date(), nullable=True),
    Column("ended_how", String(20), nullable=True),
    Column("final_on", Date(), nullable=True),
)
# PostgreSQL: a GiST index on REFERRAL_SPAN (the report's period query); SQLite: final_on.
Index("ix_report_referrals_final_on", report_referrals.c.final_on)
Index(
    "ix_report_referrals_project_requested",
    report_referrals.c.project,
    report_referrals.c.requested_on,
)

report_signals = Table(
    "report_signals",
    metadata,
    Column("signal_id", SqlUuid(), primary_key=True),
    Column("partner_id", String(63), nullable=False),
    Column("partner_type", String(40), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("crisis", Boolean(), nullable=False),
    Column("signal_date", Date(), nullable=False),
    Column("received_on", Date(), nullable=False),
    Column("household_id", SqlUuid(), nullable=False),
    Column("gemeentecode", String(4), nullable=False),
    Column("in_municipality", Boolean(), nullable=False),
    Column("case_id", SqlUuid(), nullable=True),
)
Index("ix_report_signals_received_on", report_signals.c.received_on)
Index("ix_report_signals_household", report_signals.c.household_id, report_signals.c.received_on)

PARTNER_TYPE_SEPARATOR: Final = "|"
REFERRAL_SPAN: Final = "daterange(requested_on, final_on, '[]')"
"""The days a referral was in a queue, open-ended while it is; migration 0009 indexes it."""


class ReportFactsProjection:
    """Keeps ``report_cases``, ``report_referrals`` and ``report_signals``."""

    name = "report_facts"
    tables: tuple[Table, ...] = (report_cases, report_referrals, report_signals)

    def __init__(self, wijk_of: Mapping[tuple[str, str], str]) -> None:
        self.wijk_of = wijk_of

    @classmethod
    def from_config(cls, config_dir: Path) -> ReportFactsProjection:
        wijken = load_wijken(config_dir)
        return cls(wijk_lookup((w.gemeentecode, w.pc4, w.id) for w in wijken.wijken))

    async def apply(self, conn: AsyncConnection, recorded: RecordedEvent) -> None:
        await self.apply_batch(conn, [recorded])

    async def apply_batch(self, conn: AsyncConnection, page: Sequence[RecordedEvent]) -> None:
        state = await self.read_page(conn, page)
        self.fold_page(state, page)
        await self.write_page(conn, state)

    # ``apply_batch`` in three stages: read what the page needs, fold it in memory, write.

    async def read_page(self, conn: AsyncConnection, page: Sequence[RecordedEvent]) -> ReportState:
        case_ids, referral_ids, signal_ids = needed_ids(page)
        return await load_state(conn, self.wijk_of, case_ids, referral_ids, signal_ids)

    def fold_page(self, state: ReportState, page: Sequence[RecordedEvent]) -> None:
        for recorded in page:
            fold(state, recorded)

    async def write_page(self, conn: AsyncConnection, state: ReportState) -> None:
        await save_state(conn, state)


# -- rows <-> facts -------------------------------------------------------------------------


class StoredRow(Protocol):
    """A row by column name: an asyncpg ``Record`` or a SQLAlchemy ``RowMapping``."""

    def __getitem__(self, key: str) -> Any: ...


# Values in the tables' column order: the PostgreSQL upsert sends one array per column.


def case_values(case: CaseFacts) -> tuple[Any, ...]:
    return (
        case.case_id,
        case.household_id,
        case.gemeentecode,
        case.pc4,
        case.wijk,
        PARTNER_TYPE_SEPARATOR.join(case.partner_types),
        case.earliest_signal_date,
        case.received_on,
        case.outcome.value if case.outcome else None,
        case.closed_on,
    )


def referral_values(record: ReferralRecord) -> tuple[Any, ...]:
    return (
        record.referral_id,
        record.case_id,
        record.project,
        record.team,
        record.urgent,
        record.requested_on,
        record.first_contact_due,
        record.closure_due,
        record.claimed_on,
        record.first_attempt_on,
        record.first_reached_on,
        record.attempts,
        record.closed_on,
        record.outcome.value if record.outcome else None,
        record.ended_on,
        record.ended_how,
        final_on(record),
    )


def final_on(record: ReferralRecord) -> date | None:
    """The day a referral closed or ended, never before its request (``REFERRAL_SPAN``)."""
    final = record.closed_on or record.ended_on
    return None if final is None else max(final, record.requested_on)


def signal_values(signal: SignalFacts) -> tuple[Any, ...]:
    return (
        signal.signal_id,
        signal.partner_id,
        signal.partner_type,
        signal.kind,
        signal.crisis,
        signal.signal_date,
        signal.received_on,
        signal.household_id,
        signal.gemeentecode,
        signal.in_municipality,
        signal.case_id,
    )


def split_partner_types(stored: str) -> tuple[str, ...]:
    return tuple(stored.split(PARTNER_TYPE_SEPARATOR)) if stored else ()


def case_of(row: StoredRow) -> CaseFacts:
    return CaseFacts(
        case_id=row["case_id"],
        household_id=row["household_id"],
        gemeentecode=row["gemeentecode"],
        pc4=row["pc4"],
        wijk=row["wijk"],
        partner_types=split_partner_types(row["partner_types"]),
        earliest_signal_date=row["earliest_signal_date"],
        received_on=row["received_on"],
        outcome=Outcome(row["outcome"]) if row["outcome"] else None,
        closed_on=row["closed_on"],
    )


def referral_of(row: StoredRow) -> ReferralRecord:
    return ReferralRecord(
        referral_id=row["referral_id"],
        case_id=row["case_id"],
        project=row["project"],
        team=row["team"],
        urgent=bool(row["urgent"]),
        requested_on=row["requested_on"],
        first_contact_due=row["first_contact_due"],
        closure_due=row["closure_due"],
        claimed_on=row["claimed_on"],
        first_attempt_on=row["first_attempt_on"],
        first_reached_on=row["first_reached_on"],
        attempts=int(row["attempts"]),
        closed_on=row["closed_on"],
        outcome=Outcome(row["outcome"]) if row["outcome"] else None,
        ended_on=row["ended_on"],
        ended_how=row["ended_how"],
    )


def signal_of(row: StoredRow) -> SignalFacts:
    return SignalFacts(
        signal_id=row["signal_id"],
        partner_id=row["partner_id"],
        partner_type=row["partner_type"],
        kind=row["kind"],
        crisis=bool(row["crisis"]),
        signal_date=row["signal_date"],
        received_on=row["received_on"],
        household_id=row["household_id"],
        gemeentecode=row["gemeentecode"],
        in_municipality=bool(row["in_municipality"]),
        case_id=row["case_id"],
    )


# -- reading and writing a page's rows ------------------------------------------------------


def _chunks(ids: Iterable[uuid.UUID], size: int) -> Iterator[list[uuid.UUID]]:
    chunk: list[uuid.UUID] = []
    for item in ids:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


async def rows_by_id(
    conn: AsyncConnection, table: Table, key: str, ids: set[uuid.UUID]
) -> list[StoredRow]:
    """The rows whose ``key`` is one of ``ids``."""
    if not ids:
        return []
    if conn.dialect.name == "postgresql":
        driver = await driver_in_transaction(conn)
        # A primary-key probe per unnested id, not "= ANY($1)" nor a plain join: for a few
        # thousand ids the planner may scan the whole table instead (LATERAL ... OFFSET 0
        # is never flattened into a join).
        query = (
            f"SELECT t.* FROM unnest($1::uuid[]) AS k(id) CROSS JOIN LATERAL "
            f"(SELECT * FROM {table.name} WHERE {key} = k.id OFFSET 0) AS t"
        )
        return list(await driver.fetch(query, list(ids)))
    rows: list[StoredRow] = []
    column = table.c[key]
    for chunk in _chunks(ids, _SQLITE_IDS):
        result = await conn.execute(select(table).where(column.in_(chunk)))
        rows.extend(row._mapping for row in result.all())
    return rows


async def load_state(
    conn: AsyncConnection,
    wijk_of: Mapping[tuple[str, str], str],
    case_ids: set[uuid.UUID],
    referral_ids: set[uuid.UUID],
    signal_ids: set[uuid.UUID],
) -> ReportState:
    """The stored facts of these ids, as a state the fold can continue from."""
    state = ReportState(wijk_of)
    for row in await rows_by_id(conn, report_cases, "case_id", case_ids):
        state.cases[row["case_id"]] = case_of(row)
    for row in await rows_by_id(conn, report_referrals, "referral_id", referral_ids):
        state.referrals[row["referral_id"]] = referral_of(row)
    for row in await rows_by_id(conn, report_signals, "signal_id", signal_ids):
        state.signals[row["signal_id"]] = signal_of(row)
    return state


async def save_state(conn: AsyncConnection, state: ReportState) -> None:
    """Write the rows the fold changed: one multi-row upsert per table."""
    cases = [case_values(state.cases[i]) for i in state.changed_cases]
    referrals = [referral_values(state.referrals[i]) for i in state.changed_referrals]
    signals = [signal_values(state.signals[i]) for i in state.changed_signals]
    await _upsert(conn, report_cases, cases)
    await _upsert(conn, report_referrals, referrals)
    await _upsert(conn, report_signals, signals)


def _postgres_upsert(table: Table) -> str:
    columns = [c.name for c in table.columns]
    key = table.primary_key.columns.values()[0].name
    arrays = unnest_parameters(table, columns)
    changes = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns if c != key)
    return (
        f"INSERT INTO {table.name} ({', '.join(columns)}) SELECT * FROM unnest({arrays}) "
        f"ON CONFLICT ({key}) DO UPDATE SET {changes}"
    )


async def _upsert(conn: AsyncConnection, table: Table, rows: list[tuple[Any, ...]]) -> None:
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        driver = await driver_in_transaction(conn)
        await driver.execute(
            _UPSERTS[table.name], *(list(column) for column in zip(*rows, strict=True))
        )
        return
    names = [c.name for c in table.columns]
    key = table.primary_key.columns.values()[0].name
    insert = sqlite_insert(table)
    changes = {name: insert.excluded[name] for name in names if name != key}
    await conn.execute(
        insert.on_conflict_do_update(index_elements=[key], set_=changes),
        [dict(zip(names, row, strict=True)) for row in rows],
    )


_SQLITE_IDS: Final = 500
"""Ids per ``IN (...)`` on SQLite, well under its limit of bound parameters."""
_UPSERTS: Final = {
    table.name: _postgres_upsert(table)
    for table in (report_cases, report_referrals, report_signals)
}
