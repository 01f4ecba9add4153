"""The team referral queue: one row per referral, kept from the referral events (DESIGN §7).

The read model behind ``signaalhub queue --team T`` (issue 4, item 6) and the teams' HTTP
queue listing. It holds no personal data: the resident is reached through ``case_id``, the
worker is the opaque id of ``ReferralClaimed``, and reasons are left out altogether.

States are those of ``services.referrals.lifecycle.ReferralState``: a release puts the row
back to ``requested`` (its contact attempts stay, so a re-claim goes straight to
``in_progress``); a reroute or cancel ends the row, and routing places a new referral in the
target queue under its own id.

Writes are one INSERT and one UPDATE per page: on PostgreSQL sent straight to asyncpg with one
array per column (``unnest``), on SQLite through SQLAlchemy. The
runner applies each event once, but ``apply`` is also safe against a replay: an update only
touches a row whose ``updated_position`` is below the event's position, and a second
``ReferralRequested`` for a known referral is ignored.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final

from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    Date,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    bindparam,
    case,
    func,
    insert,
    select,
    update,
)
from sqlalchemy import Column as SqlColumn
from sqlalchemy import Uuid as SqlUuid
from sqlalchemy.ext.asyncio import AsyncConnection

from events.catalogue.referrals import (
    ContactAttemptRecorded,
    ReferralCancelled,
    ReferralClaimed,
    ReferralClosed,
    ReferralReleased,
    ReferralRequested,
    ReferralRerouted,
)
from events.envelope import RecordedEvent
from events.store import SqlEventStore
from events.store.bulk_rows import driver_in_transaction
from events.store.schema import events_table
from projections.checkpoints import read_checkpoint
from projections.runner import ProjectionRunner
from services.referrals.lifecycle import ReferralState

metadata = MetaData()

referral_queue = Table(
    "referral_queue",
    metadata,
    SqlColumn("referral_id", SqlUuid(), primary_key=True),
    SqlColumn("case_id", SqlUuid(), nullable=False),
    SqlColumn("project", String(64), nullable=False),
    SqlColumn("team", String(64), nullable=False),
    SqlColumn("state", String(20), nullable=False),
    SqlColumn("urgent", Boolean(), nullable=False),
    SqlColumn("requested_on", Date(), nullable=False),
    SqlColumn("first_contact_due", Date(), nullable=False),
    SqlColumn("closure_due", Date(), nullable=False),
    SqlColumn("claimed_by", String(64), nullable=True),  # an opaque worker id, never a name
    SqlColumn("contact_attempts", Integer(), nullable=False),
    SqlColumn("reached", Boolean(), nullable=False),
    SqlColumn("outcome", String(80), nullable=True),
    SqlColumn("updated_position", BigInteger(), nullable=False),
    SqlColumn("next_due", Date(), nullable=True),  # migration 0012; see next_due()
)
Index("ix_referral_queue_team_state", referral_queue.c.team, referral_queue.c.state)
Index(
    "ix_referral_queue_team_next_due",
    referral_queue.c.team,
    referral_queue.c.next_due,
    referral_queue.c.requested_on,
    referral_queue.c.referral_id,
)

OPEN_STATES: Final = (
    ReferralState.REQUESTED.value,
    ReferralState.CLAIMED.value,
    ReferralState.IN_PROGRESS.value,
)
FINAL_STATES: Final = (
    ReferralState.CLOSED.value,
    ReferralState.REROUTED.value,
    ReferralState.CANCELLED.value,
)


class ReferralQueueProjection:
    """Keeps ``referral_queue`` from the referral events; every other event is ignored."""

    name = "referral_queue"
    tables: tuple[Table, ...] = (referral_queue,)

    async def apply(self, conn: AsyncConnection, recorded: RecordedEvent) -> None:
        await self.apply_batch(conn, [recorded])

    async def apply_batch(self, conn: AsyncConnection, page: Sequence[RecordedEvent]) -> None:
        """Fold the page into the affected rows in memory, then write them: one SELECT for
        the rows the page touches, one INSERT for new referrals and one UPDATE for changed
        ones (on PostgreSQL straight to asyncpg, one array per column; on SQLite an
        executemany), however many events the page holds."""
        state = await self.read_page(conn, page)
        self.fold_page(state, page)
        await self.write_page(conn, state)

    # ``apply_batch`` in three stages: read what the page needs, fold it in memory, write.

    async def read_page(self, conn: AsyncConnection, page: Sequence[RecordedEvent]) -> QueuePage:
        relevant = [r for r in page if type(r.event) in _REFERRAL_TYPES]
        if not relevant:
            return QueuePage({})
        ids = list(dict.fromkeys(r.event.referral_id for r in relevant))  # type: ignore[attr-defined]
        return QueuePage(await _stored_rows(conn, ids))

    def fold_page(self, state: QueuePage, page: Sequence[RecordedEvent]) -> None:
        stored = state.stored
        rows = {referral_id: dict(row) for referral_id, row in stored.items()}
        for recorded in page:
            if type(recorded.event) not in _REFERRAL_TYPES:
                continue
            referral_id = recorded.event.referral_id  # type: ignore[attr-defined]
            after = next_row(rows.get(referral_id), recorded.event, recorded.position)
            if after is not None:
                rows[referral_id] = after
        state.new = [row for key, row in rows.items() if key not in stored]
        state.changed = [row for key, row in rows.items() if key in stored and row != stored[key]]

    async def write_page(self, conn: AsyncConnection, state: QueuePage) -> None:
        new, changed = state.new, state.changed
        if conn.dialect.name == "postgresql":
            driver = await driver_in_transaction(conn)
            if new:
                await driver.execute(_INSERT, *_columns(new, _COLUMNS))
            if changed:
                await driver.execute(_UPDATE, *_columns(changed, ("referral_id", *UPDATABLE)))
            return
        if new:
            await conn.execute(insert(referral_queue), new)
        if changed:
            await conn.execute(
                update(referral_queue)
                .where(referral_queue.c.referral_id == bindparam("key"))
                .values({column: bindparam(column) for column in UPDATABLE}),
                [{**row, "key": row["referral_id"]} for row in changed],
            )


@dataclass
class QueuePage:
    """A page on its way: the stored rows it touches, then the rows to insert and update."""

    stored: dict[uuid.UUID, dict[str, Any]]
    new: list[dict[str, Any]] = field(default_factory=list)
    changed: list[dict[str, Any]] = field(default_factory=list)


REFERRAL_EVENTS: Final = (
    ReferralRequested,
    ReferralClaimed,
    ContactAttemptRecorded,
    ReferralClosed,
    ReferralReleased,
    ReferralRerouted,
    ReferralCancelled,
)
_REFERRAL_TYPES: Final = frozenset(REFERRAL_EVENTS)
"""Matched by exact type: pydantic's ``isinstance`` checks cost more than the fold."""
UPDATABLE: Final = (
    "state",
    "claimed_by",
    "contact_attempts",
    "reached",
    "outcome",
    "updated_position",
    "next_due",
)
_COLUMNS: Final = tuple(c.name for c in referral_queue.columns)
_TYPES: Final = {
    "referral_id": "uuid",
    "case_id": "uuid",
    "project": "text",
    "team": "text",
    "state": "text",
    "urgent": "boolean",
    "requested_on": "date",
    "first_contact_due": "date",
    "closure_due": "date",
    "claimed_by": "text",
    "contact_attempts": "integer",
    "reached": "boolean",
    "outcome": "text",
    "updated_position": "bigint",
    "next_due": "date",
}
_INSERT: Final = (
    f"INSERT INTO referral_queue ({', '.join(_COLUMNS)}) SELECT * FROM unnest("
    + ", ".join(f"${n}::{_TYPES[c]}[]" for n, c in enumerate(_COLUMNS, start=1))
    + ")"
)
_UPDATE: Final = (
    "UPDATE referral_queue AS q SET "
    + ", ".join(f"{c} = u.{c}" for c in UPDATABLE)
    + " FROM unnest("
    + ", ".join(f"${n}::{_TYPES[c]}[]" for n, c in enumerate(("referral_id", *UPDATABLE), 1))
    + f") AS u(referral_id, {', '.join(UPDATABLE)}) WHERE q.referral_id = u.referral_id"
)


def _columns(rows: Sequence[dict[str, Any]], names: Sequence[str]) -> list[list[Any]]:
    return [[row[name] for row in rows] for name in names]


def next_due(contact_attempts: int, first_contact_due: date, closure_due: date) -> date:
    """The date the team works towards: first contact while none was attempted (or closure,
    if that comes first), else closure. An open referral is overdue exactly when this date is
    before today (``services.referrals.sla.is_overdue``), so the queue's order "overdue first,
    then by due date" is plain ``next_due`` order."""
    if contact_attempts == 0:
        return min(first_contact_due, closure_due)
    return closure_due


def next_row(row: dict[str, Any] | None, event: object, position: int) -> dict[str, Any] | None:
    """The queue row after ``event`` at ``position`` (a pure function). ``None`` when the
    event says nothing about a known row. A row already at or past ``position`` stays as it
    is, so applying the log again changes nothing; an event of an unknown referral other
    than its request is ignored."""
    if isinstance(event, ReferralRequested):
        if row is not None:
            return None  # a replayed request: the row already reflects it
        return {
            "referral_id": event.referral_id,
            "case_id": event.case_id,
            "project": event.project,
            "team": event.team,
            "state": ReferralState.REQUESTED.value,
            "urgent": event.urgent,
            "requested_on": event.requested_on,
            "first_contact_due": event.first_contact_due,
            "closure_due": event.closure_due,
            "claimed_by": None,
            "contact_attempts": 0,
            "reached": False,
            "outcome": None,
            "updated_position": position,
            "next_due": next_due(0, event.first_contact_due, event.closure_due),
        }
    if row is None or row["updated_position"] >= position:
        return None
    change: dict[str, Any]
    match event:
        case ReferralClaimed():
            state = (
                ReferralState.IN_PROGRESS if row["contact_attempts"] > 0 else ReferralState.CLAIMED
            )
            change = {"state": state.value, "claimed_by": event.worker_id}
        case ContactAttemptRecorded():
            change = {
                "state": ReferralState.IN_PROGRESS.value,
                "contact_attempts": row["contact_attempts"] + 1,
                "reached": bool(row["reached"]) or event.reached,
            }
        case ReferralClosed():
            change = {"state": ReferralState.CLOSED.value, "outcome": event.outcome.value}
        case ReferralReleased():
            change = {"state": ReferralState.REQUESTED.value, "claimed_by": None}
        case ReferralRerouted():
            change = {"state": ReferralState.REROUTED.value}
        case ReferralCancelled():
            change = {"state": ReferralState.CANCELLED.value}
        case _:
            return None
    after = {**row, **change, "updated_position": position}
    after["next_due"] = next_due(
        after["contact_attempts"], after["first_contact_due"], after["closure_due"]
    )
    return after


async def _stored_rows(
    conn: AsyncConnection, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, dict[str, Any]]:
    found: dict[uuid.UUID, dict[str, Any]] = {}
    if conn.dialect.name == "postgresql":
        driver = await driver_in_transaction(conn)
        query = (  # a primary-key probe per id (LATERAL ... OFFSET 0 is never flattened)
            "SELECT q.* FROM unnest($1::uuid[]) AS k(id) CROSS JOIN LATERAL "
            "(SELECT * FROM referral_queue WHERE referral_id = k.id OFFSET 0) AS q"
        )
        for record in await driver.fetch(query, ids):
            found[record["referral_id"]] = dict(record)
        return found
    for start in range(0, len(ids), 500):  # SQLite's bound-parameter limit
        chunk = ids[start : start + 500]
        result = await conn.execute(
            select(referral_queue).where(referral_queue.c.referral_id.in_(chunk))
        )
        for row in result:
            values = dict(row._mapping)
            values["urgent"], values["reached"] = bool(values["urgent"]), bool(values["reached"])
            found[values["referral_id"]] = values
    return found


# -- reading -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QueueEntry:
    """One referral as a team sees it in its queue."""

    referral_id: uuid.UUID
    case_id: uuid.UUID
    project: str
    team: str
    state: ReferralState
    urgent: bool
    requested_on: date
    first_contact_due: date
    closure_due: date
    claimed_by: str | None
    contact_attempts: int
    reached: bool
    outcome: str | None
    overdue: bool

    @property
    def is_open(self) -> bool:
        return self.state.value in OPEN_STATES

    @property
    def next_due(self) -> date:
        """The due date the team works towards (``next_due`` of the module)."""
        return next_due(self.contact_attempts, self.first_contact_due, self.closure_due)


def overdue_condition(today: date) -> ColumnElement[bool]:
    """``services.referrals.sla.is_overdue`` as SQL: an open referral without a contact
    attempt after ``first_contact_due``, or still open after ``closure_due`` — that is, an
    open referral whose ``next_due`` has passed."""
    q = referral_queue.c
    return and_(q.state.in_(OPEN_STATES), q.next_due < today)


@dataclass(frozen=True)
class QueueFilter:
    """Which of a team's referrals to show. ``None`` means "any"."""

    state: ReferralState | None = None
    overdue: bool | None = None
    project: str | None = None
    include_closed: bool = False


def _queue_conditions(team: str, today: date, wanted: QueueFilter) -> list[ColumnElement[bool]]:
    q = referral_queue.c
    conditions: list[ColumnElement[bool]] = [q.team == team]
    if wanted.state is not None:
        conditions.append(q.state == wanted.state.value)
    elif not wanted.include_closed:
        conditions.append(q.state.in_(OPEN_STATES))
    if wanted.overdue is not None:
        overdue = overdue_condition(today)
        conditions.append(overdue if wanted.overdue else ~overdue)
    if wanted.project is not None:
        conditions.append(q.project == wanted.project)
    return conditions


async def team_queue_size(
    conn: AsyncConnection, team: str, *, today: date, wanted: QueueFilter = QueueFilter()
) -> int:
    """How many referrals ``team_queue`` would list without a page limit."""
    query = select(func.count()).select_from(referral_queue)
    total = await conn.scalar(query.where(*_queue_conditions(team, today, wanted)))
    return int(total or 0)


async def team_queue(
    conn: AsyncConnection,
    team: str,
    *,
    today: date,
    include_closed: bool = False,
    wanted: QueueFilter | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[QueueEntry]:
    """The referrals in ``team``'s queue: overdue first, then by the due date the team works
    towards (``QueueEntry.next_due``), then by request date; filtered, and one page of
    ``limit`` from ``offset`` when given. Filtering and paging run in the database, so a page
    of a queue of ten thousand costs one indexed query, not ten thousand rows.

    Only open referrals (requested, claimed, in progress) unless ``include_closed``, which
    adds the ended ones (closed, rerouted away, cancelled) after all open ones.
    """
    if wanted is None:
        wanted = QueueFilter(include_closed=include_closed)
    q = referral_queue.c
    overdue = overdue_condition(today)
    query = select(
        referral_queue.c.referral_id,
        q.case_id,
        q.project,
        q.team,
        q.state,
        q.urgent,
        q.requested_on,
        q.first_contact_due,
        q.closure_due,
        q.claimed_by,
        q.contact_attempts,
        q.reached,
        q.outcome,
        case((overdue, 1), else_=0).label("overdue"),
    ).where(*_queue_conditions(team, today, wanted))
    # Overdue rows are exactly the open rows with next_due before today, so next_due order
    # puts them first; only a listing with ended referrals needs the open ones first.
    order: list[ColumnElement[Any]] = [q.next_due, q.requested_on, q.referral_id]
    if wanted.include_closed and wanted.state is None:
        order.insert(0, case((q.state.in_(OPEN_STATES), 0), else_=1))
    query = query.order_by(*order)
    if limit is not None:
        query = query.limit(limit).offset(offset)
    rows = (await conn.execute(query)).all()
    return [
        QueueEntry(
            referral_id=row.referral_id,
            case_id=row.case_id,
            project=row.project,
            team=row.team,
            state=ReferralState(row.state),
            urgent=bool(row.urgent),
            requested_on=row.requested_on,
            first_contact_due=row.first_contact_due,
            closure_due=row.closure_due,
            claimed_by=row.claimed_by,
            contact_attempts=int(row.contact_attempts),
            reached=bool(row.reached),
            outcome=row.outcome,
            overdue=bool(row.overdue),
        )
        for row in rows
    ]


async def bring_queue_up_to_date(store: SqlEventStore) -> int:
    """Read-your-writes for a listing: apply what the queue has not seen yet. Usually there is
    nothing, and one query comparing the checkpoint with the log's head says so; catching up
    only this projection keeps a listing independent of the other read models' work."""
    async with store.engine.connect() as conn:
        head = await conn.scalar(select(func.max(events_table.c.position)))
        checkpoint = await read_checkpoint(conn, ReferralQueueProjection.name)
    if head is None or checkpoint >= head:
        return 0
    applied = await ProjectionRunner(store, [ReferralQueueProjection()]).catch_up()
    return applied[ReferralQueueProjection.name]
