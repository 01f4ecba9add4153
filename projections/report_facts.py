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
with one multi-row upsert per table, in the transaction that also moves the checkpoint.
Applying events again that were applied already can not happen (the runner's checkpoint),
and ``wijken.toml`` is read when the projection is built: a changed wijk map needs
``signaalhub projections rebuild report_facts``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any, Final

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
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from events.catalogue.vocabulary import Outcome
from events.envelope import RecordedEvent
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
Index("ix_report_referrals_final_on", report_referrals.c.final_on)
Index("ix_report_referrals_case_id", report_referrals.c.case_id)
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
_ID_CHUNK: Final = {"postgresql": 10_000, "sqlite": 500}
"""Ids per ``IN (...)``: SQLite allows far fewer bound parameters than PostgreSQL."""


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
        case_ids, referral_ids, signal_ids = needed_ids(page)
        if not (case_ids or referral_ids or signal_ids):
            return
        state = await load_state(conn, self.wijk_of, case_ids, referral_ids, signal_ids)
        for recorded in page:
            fold(state, recorded)
        await save_state(conn, state)


# -- rows <-> facts -------------------------------------------------------------------------


def case_row(case: CaseFacts) -> dict[str, Any]:
    row = asdict(case)
    row["partner_types"] = PARTNER_TYPE_SEPARATOR.join(case.partner_types)
    row["outcome"] = case.outcome.value if case.outcome else None
    return row


def referral_row(record: ReferralRecord) -> dict[str, Any]:
    row = asdict(record)
    row["outcome"] = record.outcome.value if record.outcome else None
    row["final_on"] = record.closed_on or record.ended_on
    return row


def signal_row(signal: SignalFacts) -> dict[str, Any]:
    return asdict(signal)


def case_of(row: Row[Any]) -> CaseFacts:
    return CaseFacts(
        case_id=row.case_id,
        household_id=row.household_id,
        gemeentecode=row.gemeentecode,
        pc4=row.pc4,
        wijk=row.wijk,
        partner_types=split_partner_types(row.partner_types),
        earliest_signal_date=row.earliest_signal_date,
        received_on=row.received_on,
        outcome=Outcome(row.outcome) if row.outcome else None,
        closed_on=row.closed_on,
    )


def split_partner_types(stored: str) -> tuple[str, ...]:
    return tuple(stored.split(PARTNER_TYPE_SEPARATOR)) if stored else ()


def referral_of(row: Row[Any]) -> ReferralRecord:
    return ReferralRecord(
        referral_id=row.referral_id,
        case_id=row.case_id,
        project=row.project,
        team=row.team,
        urgent=bool(row.urgent),
        requested_on=row.requested_on,
        first_contact_due=row.first_contact_due,
        closure_due=row.closure_due,
        claimed_on=row.claimed_on,
        first_attempt_on=row.first_attempt_on,
        first_reached_on=row.first_reached_on,
        attempts=int(row.attempts),
        closed_on=row.closed_on,
        outcome=Outcome(row.outcome) if row.outcome else None,
        ended_on=row.ended_on,
        ended_how=row.ended_how,
    )


def signal_of(row: Row[Any]) -> SignalFacts:
    return SignalFacts(
        signal_id=row.signal_id,
        partner_id=row.partner_id,
        partner_type=row.partner_type,
        kind=row.kind,
        crisis=bool(row.crisis),
        signal_date=row.signal_date,
        received_on=row.received_on,
        household_id=row.household_id,
        gemeentecode=row.gemeentecode,
        in_municipality=bool(row.in_municipality),
        case_id=row.case_id,
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


async def _rows(
    conn: AsyncConnection, table: Table, key: str, ids: set[uuid.UUID]
) -> list[Row[Any]]:
    rows: list[Row[Any]] = []
    column = table.c[key]
    for chunk in _chunks(ids, _ID_CHUNK.get(conn.dialect.name, 500)):
        rows.extend((await conn.execute(select(table).where(column.in_(chunk)))).all())
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
    for row in await _rows(conn, report_cases, "case_id", case_ids):
        state.cases[row.case_id] = case_of(row)
    for row in await _rows(conn, report_referrals, "referral_id", referral_ids):
        state.referrals[row.referral_id] = referral_of(row)
    for row in await _rows(conn, report_signals, "signal_id", signal_ids):
        state.signals[row.signal_id] = signal_of(row)
    return state


async def save_state(conn: AsyncConnection, state: ReportState) -> None:
    """Write the rows the fold changed: one multi-row upsert per table."""
    await _upsert(
        conn, report_cases, "case_id", [case_row(state.cases[i]) for i in state.changed_cases]
    )
    await _upsert(
        conn,
        report_referrals,
        "referral_id",
        [referral_row(state.referrals[i]) for i in state.changed_referrals],
    )
    await _upsert(
        conn,
        report_signals,
        "signal_id",
        [signal_row(state.signals[i]) for i in state.changed_signals],
    )


async def _upsert(
    conn: AsyncConnection, table: Table, key: str, rows: list[dict[str, Any]]
) -> None:
    if not rows:
        return
    insert = postgresql_insert(table) if conn.dialect.name == "postgresql" else sqlite_insert(table)
    changes = {c.name: insert.excluded[c.name] for c in table.columns if c.name != key}
    await conn.execute(insert.on_conflict_do_update(index_elements=[key], set_=changes), rows)
