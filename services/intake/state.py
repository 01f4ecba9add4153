"""Loading and saving intake's facts for one batch of signals, in bulk.

A batch costs a handful of queries however many signals it holds: that is what lets a file
import or a busy broker reach thousands of signals per second. On PostgreSQL each table's new
and changed rows are one ``unnest`` statement sent straight to the driver (an executemany
through SQLAlchemy costs a statement per row on the server and a parameter dict per row here),
and the lookups are planned for the values at hand: a prepared statement's generic plan, made
while the tables were still small, would keep scanning them whole as they grow.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    func,
    select,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from events.store.bulk_rows import insert_rows, update_rows
from services.intake.bulk_filters import one_of
from services.intake.commands import PersonalDetails
from services.intake.decide import CaseState, HouseholdHistory, KnownSignal
from services.intake.identity import signal_id_for
from services.intake.tables import household_cases, household_keys, intake_signals
from services.privacy.personal_store import seal_rows


def match_keys(person: PersonalDetails) -> list[str]:
    """Hashed keys that identify a household: the BSN (when known) first, then the address.

    Hashes so that the index holds no BSN or address in plain text.
    """
    keys = []
    if person.bsn:
        keys.append(bsn_match_key(person.bsn))
    addition = (person.house_number_addition or "").upper().replace(" ", "")
    keys.append(_hash(f"address:{person.postcode}|{person.house_number}|{addition}"))
    return keys


def bsn_match_key(bsn: str) -> str:
    """The match key of a BSN: how an erasure request finds the household."""
    return _hash(f"bsn:{bsn}")


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class IntakeState:
    """The facts a batch needs, plus what the batch changed, to be written at the end."""

    signals: dict[tuple[str, str], KnownSignal] = field(default_factory=dict)
    households_by_key: dict[str, uuid.UUID] = field(default_factory=dict)
    histories: dict[uuid.UUID, HouseholdHistory] = field(default_factory=dict)
    new_signals: list[KnownSignal] = field(default_factory=list)
    changed_signals: dict[uuid.UUID, KnownSignal] = field(default_factory=dict)
    new_keys: dict[str, uuid.UUID] = field(default_factory=dict)
    changed_keys: dict[str, uuid.UUID] = field(default_factory=dict)
    new_cases: list[CaseState] = field(default_factory=list)
    changed_cases: dict[uuid.UUID, CaseState] = field(default_factory=dict)
    personal_rows: list[dict[str, Any]] = field(default_factory=list)
    project_load: dict[str, int] = field(default_factory=dict)
    """Open cases per project, for projects with a capacity (routing)."""
    # Identity, not equality: a row added by this batch and changed later in it is still
    # inserted (with its latest values), not updated.
    _new_ids: set[int] = field(default_factory=set)

    def history(self, household_id: uuid.UUID) -> HouseholdHistory:
        return self.histories.setdefault(household_id, HouseholdHistory())

    def resolve_household(self, keys: list[str]) -> uuid.UUID:
        """The household of the first known key (BSN before address), or a new one; every key
        then points at it."""
        household = next(
            (self.households_by_key[k] for k in keys if k in self.households_by_key), None
        )
        household = household or uuid.uuid4()
        for key in keys:
            current = self.households_by_key.get(key)
            if current == household:
                continue
            if (current is None and key not in self.changed_keys) or key in self.new_keys:
                self.new_keys[key] = household
            else:
                self.changed_keys[key] = household
            self.households_by_key[key] = household
        return household

    def add_signal(self, signal: KnownSignal) -> None:
        self.signals[(signal.partner_id, signal.partner_signal_id)] = signal
        self.history(signal.household_id).signals.append(signal)
        self.new_signals.append(signal)
        self._new_ids.add(id(signal))

    def signal_changed(self, signal: KnownSignal) -> None:
        if id(signal) not in self._new_ids:
            self.changed_signals[signal.signal_id] = signal

    def add_case(self, case: CaseState) -> None:
        self.history(case.household_id).cases.append(case)
        self.new_cases.append(case)
        self._new_ids.add(id(case))

    def case_changed(self, case: CaseState) -> None:
        if id(case) not in self._new_ids:
            self.changed_cases[case.case_id] = case

    def keep_personal_data(
        self,
        subject_id: uuid.UUID,
        household_id: uuid.UUID | None,
        kind: str,
        data: str,
    ) -> None:
        """Keep ``data`` (plaintext here) to be sealed under the household's key on save;
        ``household_id`` is ``None`` for a rejected input, which gets a key of its own."""
        self.personal_rows.append(
            {
                "subject_id": subject_id,
                "household_id": household_id,
                "kind": kind,
                "data": data,
                "recorded_at": datetime.now(UTC),
            }
        )


async def load_state(
    conn: AsyncConnection,
    signal_keys: Iterable[tuple[str, str]],
    household_match_keys: Iterable[str],
) -> IntakeState:
    state = IntakeState()
    dialect = conn.dialect.name
    if dialect == "postgresql":
        # Plan each lookup for its own values (an index scan of a few hundred ids), not once
        # for all: a generic plan made early, on near-empty tables, is a sequential scan that
        # the connection's statement cache would keep as the tables grow. For this
        # transaction only; the store's statements after the load plan as usual again.
        await conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")
    signal_ids = {signal_id_for(partner, signal) for partner, signal in signal_keys}
    match = set(household_match_keys)
    if signal_ids:
        rows = await conn.execute(
            select(intake_signals).where(one_of(intake_signals.c.signal_id, signal_ids, dialect))
        )
        for row in rows.mappings():
            known = KnownSignal(**row)
            state.signals[(known.partner_id, known.partner_signal_id)] = known
    if match:
        rows = await conn.execute(
            select(household_keys).where(one_of(household_keys.c.match_key, match, dialect))
        )
        state.households_by_key = {r.match_key: r.household_id for r in rows}
    households = set(state.households_by_key.values()) | {
        s.household_id for s in state.signals.values()
    }
    if households:
        await _load_histories(conn, state, households)
    state.project_load = await _project_load(conn)
    if dialect == "postgresql":
        await conn.exec_driver_sql("SET LOCAL plan_cache_mode = DEFAULT")
    return state


async def _project_load(conn: AsyncConnection) -> dict[str, int]:
    query = (
        select(household_cases.c.project, func.count())
        .where(household_cases.c.status == "open")
        .where(household_cases.c.project.is_not(None))
        .group_by(household_cases.c.project)
    )
    return {project: int(count) for project, count in await conn.execute(query)}


async def _load_histories(
    conn: AsyncConnection, state: IntakeState, households: set[uuid.UUID]
) -> None:
    dialect = conn.dialect.name
    for row in await conn.execute(
        select(household_cases).where(one_of(household_cases.c.household_id, households, dialect))
    ):
        state.history(row.household_id).cases.append(CaseState(**row._mapping))
    for row in await conn.execute(
        select(intake_signals).where(one_of(intake_signals.c.household_id, households, dialect))
    ):
        key = (row.partner_id, row.partner_signal_id)
        # The same object in both places, so a change through one is seen through the other.
        known = state.signals.get(key) or KnownSignal(**row._mapping)
        state.signals.setdefault(key, known)
        state.history(known.household_id).signals.append(known)


async def save_state(conn: AsyncConnection, state: IntakeState) -> None:
    if state.personal_rows:
        # Sealed under each household's data key; a rejected message delivered again has the
        # same rejection id, and its first copy is kept.
        await seal_rows(conn, state.personal_rows)
    await insert_rows(conn, intake_signals, [vars(s) for s in state.new_signals])
    await update_rows(
        conn,
        intake_signals,
        "signal_id",
        [_row(s, "signal_id", _SIGNAL_CHANGES) for s in state.changed_signals.values()],
    )
    await insert_rows(
        conn,
        household_keys,
        [{"match_key": k, "household_id": h} for k, h in state.new_keys.items()],
    )
    await update_rows(
        conn,
        household_keys,
        "match_key",
        [{"match_key": k, "household_id": h} for k, h in state.changed_keys.items()],
    )
    await insert_rows(conn, household_cases, [vars(c) for c in state.new_cases])
    await update_rows(
        conn,
        household_cases,
        "case_id",
        [_row(c, "case_id", _CASE_CHANGES) for c in state.changed_cases.values()],
    )


_SIGNAL_CHANGES = ("last_hash", "amount", "signal_date", "withdrawn")
_CASE_CHANGES = ("status", "active_signals", "project", "team", "referral_id", "outcome")


def _row(instance: object, key: str, fields: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(instance, name) for name in (key, *fields)}
